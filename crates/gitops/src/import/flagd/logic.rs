//! flagd targeting (JSONLogic with flagd's operators) into our rules.
//!
//! A targeting rule is a tree of `if`s whose leaves give a variant name, a
//! `fractional` split or null. Each leaf becomes a rule whose condition is
//! the path to it; a null leaf becomes none (the flag's default, as flagd
//! serves its `defaultVariant` there). Conditions are translated only
//! where our operators hold exactly when JSONLogic's do, for contexts
//! whose attributes are missing, null or of the type the literal compared
//! with has (docs/migrating.md, "From flagd", says which contexts make
//! flagd's evaluator fail instead). JSONLogic's own rules are kept:
//! a missing attribute compares as 0 with numbers and equals `false` and
//! `0`; `!=` holds for a missing attribute; `in` compares strictly.

use std::collections::HashMap;

use hotswap_flags_core::eval::bucket::murmur3;
use hotswap_flags_core::eval::parse_version;
use hotswap_flags_core::parse::{Node, NodeKind};
use serde_json::{Map, Value, json};

use super::{Fractional, Pointer, Res, bad, skip};

/// What translating one flag needs to know and collects.
pub(crate) struct Cx<'a> {
    /// The flag key (`$flagd.flagKey`, the default salt).
    pub flag: &'a str,
    /// `$evaluators`, for `$ref`.
    pub evaluators: &'a HashMap<String, &'a Node>,
    /// v1 or v2.
    pub fractional: Fractional,
    /// The attribute every split of the flag buckets by (ours is per flag).
    pub bucket_by: Option<String>,
    /// The flag's variant names.
    pub variants: Vec<String>,
    /// The conditions of the earlier branches of the `if`s whose `else`
    /// is being translated: a leaf reached through `else`s alone holds
    /// when none of them does.
    pub earlier: Vec<Value>,
}

/// A flag's targeting as our rules.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    /// The rules, as the model's JSON.
    pub rules: Vec<Value>,
    /// A variant every context reaching the end of the rules gets from
    /// targeting (an `if`'s last `else`): the flag's default.
    pub always: Option<String>,
    /// Whether any rule serves a split.
    pub splits: bool,
}

/// Operators json-logic-engine 5 and flagd-core define: anything else
/// makes flagd reject the flag (bad input).
const KNOWN: &[&str] = &[
    "+",
    "*",
    "/",
    "-",
    "%",
    "throw",
    "max",
    "min",
    "in",
    "preserve",
    "if",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "===",
    "!=",
    "!==",
    "or",
    "??",
    "try",
    "and",
    "substr",
    "length",
    "exists",
    "val",
    "map",
    "some",
    "all",
    "none",
    "merge",
    "filter",
    "reduce",
    "!",
    "!!",
    "cat",
    "keys",
    "pipe",
    "eachKey",
    "every",
    "?:",
    "not",
    "get",
    "var",
    "missing",
    "missing_some",
    "starts_with",
    "ends_with",
    "sem_ver",
    "fractional",
];

/// Deepest `$ref` chain followed (a cycle is bad input).
const MAX_REFS: usize = 32;

/// Checks that every operation names an operator flagd knows and every
/// `$ref` an evaluator: flagd refuses such a flag, so the input is bad.
pub(crate) fn check_operators(cx: &Cx<'_>, node: &Node, refs: usize) -> Res<()> {
    match &node.kind {
        NodeKind::Seq(items) => items.iter().try_for_each(|i| check_operators(cx, i, refs)),
        NodeKind::Map(entries) if entries.is_empty() => Ok(()),
        NodeKind::Map(entries) if entries.len() > 1 => bad(
            node,
            format!(
                "a JSONLogic operation is an object with one key, not {} (`{}`)",
                entries.len(),
                entries
                    .iter()
                    .map(|(k, _)| k.name.as_str())
                    .collect::<Vec<_>>()
                    .join("`, `")
            ),
        ),
        NodeKind::Map(entries) => {
            let (key, arg) = &entries[0];
            if key.name == "$ref" {
                let target = resolve(cx, node, refs)?;
                return check_operators(cx, target, refs + 1);
            }
            if !KNOWN.contains(&key.name.as_str()) {
                return Err(super::Problem::Bad(
                    key.pos,
                    format!(
                        "unknown operator `{}` (flagd would reject this flag)",
                        key.name
                    ),
                ));
            }
            if key.name == "preserve" {
                return Ok(());
            }
            check_operators(cx, arg, refs)
        }
        _ => Ok(()),
    }
}

/// The evaluator a `{"$ref": NAME}` names.
fn resolve<'a>(cx: &Cx<'a>, node: &Node, refs: usize) -> Res<&'a Node> {
    let Some(Node {
        kind: NodeKind::Str(name),
        ..
    }) = node.get("$ref")
    else {
        return bad(node, "`$ref` takes the name of an evaluator");
    };
    if refs >= MAX_REFS {
        return bad(
            node,
            format!("`$ref` chain through `{name}` is too deep (a cycle?)"),
        );
    }
    match cx.evaluators.get(name) {
        Some(n) => Ok(n),
        None => bad(
            node,
            format!("`$ref` to `{name}`, which `$evaluators` does not define"),
        ),
    }
}

/// A node with `$ref`s followed, and the pointer to it.
fn deref<'n>(cx: &Cx<'n>, node: &'n Node, ptr: &Pointer) -> Res<(&'n Node, Pointer)> {
    let mut node = node;
    let mut ptr = ptr.clone();
    for refs in 0..=MAX_REFS {
        if let Some(Node {
            kind: NodeKind::Str(name),
            ..
        }) = node.get("$ref")
            && entries_len(node) == 1
        {
            node = resolve(cx, node, refs)?;
            ptr = Pointer::root().push("$evaluators").push(name);
        } else {
            return Ok((node, ptr));
        }
    }
    bad(node, "`$ref` chain too deep (a cycle?)")
}

fn entries_len(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Map(e) => e.len(),
        _ => 0,
    }
}

/// `{"op": args}` as (op, args).
fn operation(node: &Node) -> Option<(&str, &Node)> {
    match &node.kind {
        NodeKind::Map(entries) if entries.len() == 1 => {
            Some((entries[0].0.name.as_str(), &entries[0].1))
        }
        _ => None,
    }
}

/// The arguments as a list (a single argument is a list of one).
fn args(node: &Node) -> Vec<&Node> {
    match &node.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    }
}

/// What a targeting leaf serves.
enum Serve {
    Variant(String),
    Split {
        weights: Vec<(String, u64)>,
        salt: String,
    },
}

/// One rule to be: the conditions on the path to a leaf, and the leaf.
struct Leaf {
    conds: Vec<Value>,
    serve: Serve,
}

/// The flag's targeting as rules.
pub(crate) fn targeting(cx: &mut Cx<'_>, node: &Node, ptr: &Pointer) -> Res<Rules> {
    let mut leaves = Vec::new();
    result(cx, node, ptr, &[], &mut leaves)?;
    let mut out = Rules::default();
    let mut names: HashMap<String, usize> = HashMap::new();
    for leaf in leaves {
        if leaf.conds.is_empty() {
            if let Serve::Variant(v) = leaf.serve {
                // Every context that gets here gets `v`: the default.
                out.always = Some(v);
                break;
            }
        }
        let (base, serve) = match leaf.serve {
            Serve::Variant(v) => (v.clone(), json!(v)),
            Serve::Split { weights, salt } => {
                out.splits = true;
                let mut split = Map::new();
                for (v, w) in weights {
                    split.insert(v, json!(w));
                }
                let mut s = Map::new();
                s.insert("split".into(), Value::Object(split));
                if salt != cx.flag {
                    s.insert("salt".into(), json!(salt));
                }
                ("fractional".to_owned(), Value::Object(s))
            }
        };
        let base = if base.trim().is_empty() {
            "rule".to_owned()
        } else {
            base
        };
        let n = names.entry(base.clone()).or_insert(0);
        *n += 1;
        let name = if *n == 1 { base } else { format!("{base}-{n}") };
        out.rules
            .push(json!({"name": name, "when": conjunction(leaf.conds), "serve": serve}));
    }
    Ok(out)
}

/// `all` of the conditions, nested `all`s flattened; one stands alone.
fn conjunction(conds: Vec<Value>) -> Value {
    let mut flat = Vec::new();
    for c in conds {
        match c {
            Value::Object(mut m) if m.len() == 1 && m.contains_key("all") => {
                if let Some(Value::Array(items)) = m.remove("all") {
                    flat.extend(items);
                }
            }
            other => flat.push(other),
        }
    }
    if flat.len() == 1 {
        flat.remove(0)
    } else {
        json!({ "all": flat })
    }
}

/// The leaves of a result expression under the conditions `prefix`.
/// Returns whether every context reaching it gets a rule (no null leaf),
/// which spares later branches the negation of its condition.
fn result(
    cx: &mut Cx<'_>,
    node: &Node,
    ptr: &Pointer,
    prefix: &[Value],
    out: &mut Vec<Leaf>,
) -> Res<bool> {
    let (node, ptr) = deref(cx, node, ptr)?;
    match &node.kind {
        NodeKind::Null => Ok(false),
        NodeKind::Str(s) => variant_leaf(cx, s.clone(), &ptr, prefix, out),
        NodeKind::Bool(b) => variant_leaf(cx, b.to_string(), &ptr, prefix, out),
        NodeKind::Int(i) => variant_leaf(cx, i.to_string(), &ptr, prefix, out),
        NodeKind::Map(_) => {
            let Some((op, arg)) = operation(node) else {
                return skip(&ptr, "targeting that returns an object, not a variant name");
            };
            let at = ptr.push(op);
            match op {
                "if" | "?:" => if_result(cx, arg, &at, prefix, out),
                "fractional" => fractional(cx, arg, &at, prefix, out),
                _ => skip(
                    &at,
                    format!(
                        "a variant computed by `{op}` (only literal variant names, `if` and `fractional` translate)"
                    ),
                ),
            }
        }
        _ => skip(
            &ptr,
            format!(
                "targeting that returns {} rather than a variant name",
                node.kind.describe()
            ),
        ),
    }
}

fn variant_leaf(
    cx: &Cx<'_>,
    name: String,
    ptr: &Pointer,
    prefix: &[Value],
    out: &mut Vec<Leaf>,
) -> Res<bool> {
    if !cx.variants.contains(&name) {
        return skip(
            ptr,
            format!("targeting returns `{name}`, which is not a variant (flagd answers an error)"),
        );
    }
    // Reached through `else`s alone: its own rule, holding when no earlier
    // branch's condition does (flagd's reason there is TARGETING_MATCH).
    let conds = match (prefix.is_empty(), cx.earlier.as_slice()) {
        (true, []) | (false, _) => prefix.to_vec(),
        (true, [one]) => vec![json!({ "not": one })],
        (true, many) => vec![json!({ "not": { "any": many } })],
    };
    out.push(Leaf {
        conds,
        serve: Serve::Variant(name),
    });
    Ok(true)
}

/// `{"if": [c1, r1, c2, r2, …, else]}`. A branch is reached when its
/// condition holds and no earlier one did; earlier conditions are negated
/// explicitly only where the earlier branch left some contexts without a
/// rule (first match already keeps the others away), and always for the
/// `else`, so that it is a rule of its own (flagd's reason there is
/// `TARGETING_MATCH`, not `DEFAULT`).
fn if_result(
    cx: &mut Cx<'_>,
    arg: &Node,
    ptr: &Pointer,
    prefix: &[Value],
    out: &mut Vec<Leaf>,
) -> Res<bool> {
    let NodeKind::Seq(items) = &arg.kind else {
        return skip(
            ptr,
            "`if` without a list of arguments (json-logic-engine fails on it)",
        );
    };
    match items.len() {
        0 => return Ok(false),
        1 => return result(cx, &items[0], &ptr.push(0), prefix, out),
        _ => {}
    }
    let mut uncovered: Vec<Value> = Vec::new();
    let mut earlier: Vec<Value> = Vec::new();
    let depth = cx.earlier.len();
    let mut covered = true;
    let pairs = items.len() / 2;
    for i in 0..pairs {
        let cond = match condition(cx, &items[2 * i], &ptr.push(2 * i))? {
            // Never taken: the branch is dropped.
            C::False => continue,
            // Always taken: it decides, and what follows is never reached.
            C::True => {
                let mut conds = prefix.to_vec();
                conds.extend(uncovered.iter().cloned());
                cx.earlier.extend(earlier);
                let branch = result(cx, &items[2 * i + 1], &ptr.push(2 * i + 1), &conds, out);
                cx.earlier.truncate(depth);
                return Ok(covered && branch?);
            }
            C::Cond(c) => c,
        };
        let mut conds = prefix.to_vec();
        conds.extend(uncovered.iter().cloned());
        conds.push(cond.clone());
        let branch = result(cx, &items[2 * i + 1], &ptr.push(2 * i + 1), &conds, out)?;
        if !branch {
            uncovered.push(json!({ "not": cond }));
            covered = false;
        }
        earlier.push(cond);
    }
    let mut conds = prefix.to_vec();
    conds.extend(uncovered);
    cx.earlier.extend(earlier);
    let last = if items.len() % 2 == 1 {
        result(
            cx,
            &items[items.len() - 1],
            &ptr.push(items.len() - 1),
            &conds,
            out,
        )?
    } else {
        false
    };
    cx.earlier.truncate(depth);
    Ok(covered && last)
}

/// A condition, or a constant where flagd's answer never depends on the
/// context (a literal, or an operation flagd always answers null for).
enum C {
    True,
    False,
    Cond(Value),
}

impl C {
    fn not(self) -> C {
        match self {
            C::True => C::False,
            C::False => C::True,
            C::Cond(c) => C::Cond(json!({ "not": c })),
        }
    }
}

/// JavaScript's truthiness of a literal.
fn truthy(node: &Node) -> Option<bool> {
    Some(match &node.kind {
        NodeKind::Null => false,
        NodeKind::Bool(b) => *b,
        NodeKind::Int(i) => *i != 0,
        NodeKind::Float(f) => *f != 0.0 && !f.is_nan(),
        NodeKind::Str(s) => !s.is_empty(),
        NodeKind::Seq(items) => {
            !items.is_empty() && items.iter().all(|i| !matches!(i.kind, NodeKind::Map(_)))
        }
        NodeKind::Map(_) => return None,
    })
}

/// What JSONLogic reads from the context.
enum Var {
    /// A top-level attribute.
    Attr(String),
    /// `$flagd.timestamp`: the evaluation time in whole seconds.
    Timestamp,
}

/// `{"var": NAME}` as what it reads; `None` if the node is not a `var`.
fn var(cx: &Cx<'_>, node: &Node, ptr: &Pointer) -> Res<Option<Var>> {
    let (node, ptr) = deref(cx, node, ptr)?;
    let Some(("var", arg)) = operation(node) else {
        return Ok(None);
    };
    let name = match &arg.kind {
        NodeKind::Str(s) => s,
        NodeKind::Seq(items) if items.len() == 1 => match &items[0].kind {
            NodeKind::Str(s) => s,
            _ => return skip(&ptr, "a `var` whose path is not a string"),
        },
        NodeKind::Seq(items) if items.len() == 2 => {
            return skip(
                &ptr,
                "a `var` with a default value (a missing attribute reads as the default)",
            );
        }
        _ => return skip(&ptr, "a `var` whose path is not a string"),
    };
    match name.as_str() {
        "" => skip(&ptr, "`var` of the whole context"),
        "$flagd.timestamp" => Ok(Some(Var::Timestamp)),
        "$flagd.flagKey" => skip(
            &ptr,
            "`$flagd.flagKey` compared in a condition (it is the same for every context)",
        ),
        n if n.contains('\\') || n.contains("..") || n.starts_with('.') || n.ends_with('.') => {
            skip(
                &ptr,
                format!("the path `{n}` (escaped or empty segments have no spelling of ours)"),
            )
        }
        // A dotted name reads nested objects, as JSONLogic's does
        // (docs/flag-format.md §8, "Nested attributes").
        n => Ok(Some(Var::Attr(n.to_owned()))),
    }
}

/// A literal: string, number, boolean or null (not an operation or list).
fn literal(node: &Node) -> Option<&Node> {
    matches!(
        node.kind,
        NodeKind::Str(_)
            | NodeKind::Int(_)
            | NodeKind::Float(_)
            | NodeKind::Bool(_)
            | NodeKind::Null
    )
    .then_some(node)
}

fn number(node: &Node) -> Option<f64> {
    match node.kind {
        NodeKind::Int(i) => Some(i as f64),
        NodeKind::Float(f) if f.is_finite() => Some(f),
        _ => None,
    }
}

fn attr_cond(attr: &str, op: &str, value: Value) -> Value {
    json!({ "attr": attr, "op": op, "value": value })
}

fn missing(attr: &str) -> Value {
    json!({ "not": { "attr": attr, "op": "exists" } })
}

/// A condition that holds exactly when JSONLogic's `node` is truthy.
fn condition(cx: &mut Cx<'_>, node: &Node, ptr: &Pointer) -> Res<C> {
    let (node, ptr) = deref(cx, node, ptr)?;
    let Some((op, arg)) = operation(node) else {
        return match truthy(node) {
            Some(true) => Ok(C::True),
            Some(false) => Ok(C::False),
            None => skip(
                &ptr,
                format!("a condition that is {}", node.kind.describe()),
            ),
        };
    };
    let at = ptr.push(op);
    let cond = |v: Res<Value>| v.map(C::Cond);
    match op {
        "and" | "or" => {
            let NodeKind::Seq(items) = &arg.kind else {
                return skip(&at, format!("`{op}` without a list"));
            };
            if items.is_empty() {
                return Ok(C::False);
            }
            let and = op == "and";
            let mut conds = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match condition(cx, item, &at.push(i))? {
                    // `and` stops at a falsy item, `or` at a truthy one.
                    C::False if and => return Ok(C::False),
                    C::True if !and => return Ok(C::True),
                    C::True | C::False => {}
                    C::Cond(c) => conds.push(c),
                }
            }
            Ok(match conds.len() {
                0 => {
                    if and {
                        C::True
                    } else {
                        C::False
                    }
                }
                1 => C::Cond(conds.remove(0)),
                _ => C::Cond(json!({ if and { "all" } else { "any" }: conds })),
            })
        }
        "!" | "not" | "!!" => {
            let (inner, inner_ptr) = match &arg.kind {
                NodeKind::Seq(items) if !items.is_empty() => (&items[0], at.push(0)),
                NodeKind::Seq(_) => return Ok(if op == "!!" { C::False } else { C::True }),
                _ => (arg, at.clone()),
            };
            let c = condition(cx, inner, &inner_ptr)?;
            Ok(if op == "!!" { c } else { c.not() })
        }
        "==" | "!=" => {
            let c = C::Cond(equals(cx, arg, &at)?);
            Ok(if op == "!=" { c.not() } else { c })
        }
        "<" | "<=" | ">" | ">=" => cond(compare(cx, op, arg, &at)),
        "in" => cond(membership(cx, arg, &at)),
        "starts_with" | "ends_with" => affix(cx, op, arg, &at),
        "sem_ver" => sem_ver(cx, arg, &at),
        "===" | "!==" => skip(
            &at,
            format!("strict equality `{op}` (our `eq` reads a numeric string as the number)"),
        ),
        "var" => skip(
            &at,
            "the truthiness of an attribute (JSONLogic's truthiness has no operator of ours)",
        ),
        _ => skip(&at, format!("`{op}` as a condition")),
    }
}

/// The (var, literal) pair of a two-argument comparison, either order;
/// `flipped` when the literal came first.
fn var_and_literal<'n>(
    cx: &Cx<'_>,
    arg: &'n Node,
    ptr: &Pointer,
    op: &str,
) -> Res<(Var, &'n Node, bool)> {
    let items = args(arg);
    if items.len() != 2 {
        return skip(ptr, format!("`{op}` with {} arguments", items.len()));
    }
    let (a, b) = (items[0], items[1]);
    if let Some(v) = var(cx, a, &ptr.push(0))? {
        if let Some(lit) = literal(b) {
            return Ok((v, lit, false));
        }
    } else if let Some(v) = var(cx, b, &ptr.push(1))?
        && let Some(lit) = literal(a)
    {
        return Ok((v, lit, true));
    }
    skip(
        ptr,
        format!("`{op}` that does not compare one attribute with a literal"),
    )
}

/// `==`: JSONLogic's loose equality, a missing attribute as null (which,
/// written first, equals `0` and `false`).
fn equals(cx: &Cx<'_>, arg: &Node, ptr: &Pointer) -> Res<Value> {
    let (v, lit, literal_first) = var_and_literal(cx, arg, ptr, "==")?;
    let Var::Attr(attr) = v else {
        return skip(ptr, "`$flagd.timestamp` compared with `==`");
    };
    let value = lit.to_json();
    let base = attr_cond(&attr, "eq", value.clone());
    let falsy = match &lit.kind {
        NodeKind::Str(_) => false,
        // json-logic-engine compares a missing attribute written first as
        // 0 (`{"==": [{"var": "n"}, 0]}` holds without `n`), and written
        // second as JavaScript does, where null equals neither 0 nor false.
        NodeKind::Int(_) | NodeKind::Float(_) => !literal_first && number(lit) == Some(0.0),
        NodeKind::Bool(b) => !literal_first && !b,
        _ => {
            return skip(
                ptr,
                "`==` with null (JSONLogic's null equals 0 and false too)",
            );
        }
    };
    Ok(if falsy {
        json!({ "any": [base, missing(&attr)] })
    } else {
        base
    })
}

fn flip(op: &str) -> &str {
    match op {
        "<" => ">",
        "<=" => ">=",
        ">" => "<",
        _ => "<=",
    }
}

fn holds(op: &str, a: f64, b: f64) -> bool {
    match op {
        "<" => a < b,
        "<=" => a <= b,
        ">" => a > b,
        _ => a >= b,
    }
}

/// `<`, `<=`, `>`, `>=` of an attribute and a number (two arguments, or
/// three: `lo < x < hi`); a missing attribute compares as 0, as in
/// JSONLogic. `$flagd.timestamp` becomes a time window.
fn compare(cx: &Cx<'_>, op: &str, arg: &Node, ptr: &Pointer) -> Res<Value> {
    let items = args(arg);
    if items.len() == 3 {
        let Some(v) = var(cx, items[1], &ptr.push(1))? else {
            return skip(
                ptr,
                format!("`{op}` with three arguments whose middle one is not an attribute"),
            );
        };
        let (Some(lo), Some(hi)) = (number(items[0]), number(items[2])) else {
            return skip(ptr, format!("`{op}` between bounds that are not numbers"));
        };
        let v2 = match &v {
            Var::Attr(a) => Var::Attr(a.clone()),
            Var::Timestamp => Var::Timestamp,
        };
        let first = one_compare(flip(op), v, lo, ptr)?;
        let second = one_compare(op, v2, hi, ptr)?;
        return Ok(json!({ "all": [first, second] }));
    }
    let (v, lit, flipped) = var_and_literal(cx, arg, ptr, op)?;
    let Some(n) = number(lit) else {
        return skip(
            ptr,
            format!("`{op}` with {} (ours compare numbers)", lit.kind.describe()),
        );
    };
    one_compare(if flipped { flip(op) } else { op }, v, n, ptr)
}

fn one_compare(op: &str, v: Var, n: f64, ptr: &Pointer) -> Res<Value> {
    match v {
        Var::Attr(attr) => {
            let ours = match op {
                "<" => "lt",
                "<=" => "lte",
                ">" => "gt",
                _ => "gte",
            };
            let base = attr_cond(&attr, ours, number_json(n));
            Ok(if holds(op, 0.0, n) {
                json!({ "any": [base, missing(&attr)] })
            } else {
                base
            })
        }
        Var::Timestamp => timestamp(op, n, ptr),
    }
}

fn number_json(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// `$flagd.timestamp OP n` (whole seconds of the evaluation time) as a
/// time window `[after, before)`.
fn timestamp(op: &str, n: f64, ptr: &Pointer) -> Res<Value> {
    let (key, second) = match op {
        ">" => ("after", n.floor() + 1.0),
        ">=" => ("after", n.ceil()),
        "<" => ("before", n.ceil()),
        _ => ("before", n.floor() + 1.0),
    };
    let Ok(ts) = jiff::Timestamp::from_second(second as i64) else {
        return skip(
            ptr,
            format!("`$flagd.timestamp` compared with {n}, outside the years 0000-9999"),
        );
    };
    Ok(json!({ "time": { key: ts.to_string() } }))
}

/// `in`: an attribute among listed literals (strictly equal), or a
/// literal string inside an attribute (substring or list element).
fn membership(cx: &Cx<'_>, arg: &Node, ptr: &Pointer) -> Res<Value> {
    let items = args(arg);
    if items.len() != 2 {
        return skip(ptr, format!("`in` with {} arguments", items.len()));
    }
    if let Some(v) = var(cx, items[0], &ptr.push(0))? {
        let Var::Attr(attr) = v else {
            return skip(ptr, "`$flagd.timestamp` in a list");
        };
        let NodeKind::Seq(list) = &items[1].kind else {
            return skip(ptr, "`in` whose second argument is not a list of literals");
        };
        let mut values = Vec::new();
        let mut has_null = false;
        for (i, el) in list.iter().enumerate() {
            match &el.kind {
                NodeKind::Str(_) | NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_) => {
                    values.push(el.to_json());
                }
                NodeKind::Null => has_null = true,
                // A list or an empty object is never strictly equal to an
                // attribute's value.
                NodeKind::Seq(_) => {}
                NodeKind::Map(m) if m.is_empty() => {}
                NodeKind::Map(_) => {
                    return skip(&ptr.push(1).push(i), "a computed element in an `in` list");
                }
            }
        }
        if values.iter().any(Value::is_string) && values.iter().any(|v| !v.is_string()) {
            return skip(
                &ptr.push(1),
                "an `in` list mixing strings with numbers or booleans (ours compares a number with its spelling)",
            );
        }
        let base =
            (!values.is_empty()).then(|| json!({ "attr": attr, "op": "in", "values": values }));
        return match (base, has_null) {
            (Some(b), false) => Ok(b),
            (Some(b), true) => Ok(json!({ "any": [b, missing(&attr)] })),
            (None, true) => Ok(missing(&attr)),
            (None, false) => skip(ptr, "`in` an empty list (always false)"),
        };
    }
    if let Some(v) = var(cx, items[1], &ptr.push(1))? {
        let Var::Attr(attr) = v else {
            return skip(ptr, "`in` `$flagd.timestamp`");
        };
        return match &items[0].kind {
            NodeKind::Str(s) => Ok(attr_cond(&attr, "contains", json!(s))),
            _ => skip(
                ptr,
                "`in` of a non-string literal in an attribute (JavaScript's `includes` reads it as a string)",
            ),
        };
    }
    skip(ptr, "`in` that does not test an attribute against literals")
}

/// `starts_with` / `ends_with` of an attribute and a literal string; any
/// other arguments make flagd answer null (false) whatever the context,
/// unless the first is an attribute and the second a computed value.
fn affix(cx: &Cx<'_>, op: &str, arg: &Node, ptr: &Pointer) -> Res<C> {
    let items = args(arg);
    if items.len() != 2 {
        return Ok(C::False);
    }
    match (var(cx, items[0], &ptr.push(0))?, &items[1].kind) {
        (Some(Var::Attr(attr)), NodeKind::Str(s)) => Ok(C::Cond(attr_cond(&attr, op, json!(s)))),
        (_, NodeKind::Map(_)) => skip(ptr, format!("`{op}` with a computed argument")),
        (
            Some(_) | None,
            NodeKind::Int(_)
            | NodeKind::Float(_)
            | NodeKind::Bool(_)
            | NodeKind::Null
            | NodeKind::Seq(_),
        ) => Ok(C::False),
        (None, NodeKind::Str(_))
            if literal(items[0]).is_some() || matches!(items[0].kind, NodeKind::Seq(_)) =>
        {
            skip(ptr, format!("`{op}` of two literals"))
        }
        _ => skip(
            ptr,
            format!("`{op}` that does not test an attribute against a literal string"),
        ),
    }
}

/// `sem_ver`: `[attr, OP, version]` (or the version first).
fn sem_ver(cx: &Cx<'_>, arg: &Node, ptr: &Pointer) -> Res<C> {
    let items = args(arg);
    if items.len() != 3 {
        // flagd answers null (false) for any other number of arguments.
        return Ok(C::False);
    }
    let NodeKind::Str(op) = &items[1].kind else {
        return skip(
            &ptr.push(1),
            "a `sem_ver` operator that is not a literal string",
        );
    };
    let (attr, lit, flipped) = if let Some(v) = var(cx, items[0], &ptr.push(0))? {
        (v, items[2], false)
    } else if let Some(v) = var(cx, items[2], &ptr.push(2))? {
        (v, items[0], true)
    } else {
        return skip(
            ptr,
            "`sem_ver` that does not compare an attribute with a literal version",
        );
    };
    let Var::Attr(attr) = attr else {
        return skip(ptr, "`sem_ver` of `$flagd.timestamp`");
    };
    let text = match &lit.kind {
        NodeKind::Str(s) => s.clone(),
        NodeKind::Int(i) => i.to_string(),
        NodeKind::Float(f) => f.to_string(),
        _ => {
            return skip(
                ptr,
                "`sem_ver` with a version that is not a string or number",
            );
        }
    };
    let Some(version) = flagd_version(&text) else {
        // flagd answers null (false) when a version does not parse.
        return Ok(C::False);
    };
    let op = if flipped {
        match op.as_str() {
            "<" => ">",
            "<=" => ">=",
            ">" => "<",
            ">=" => "<=",
            other => other,
        }
    } else {
        op.as_str()
    };
    let cond = |ours: &str, v: &semver::Version| attr_cond(&attr, ours, json!(v.to_string()));
    let floor = |major: u64, minor: u64| {
        let mut v = semver::Version::new(major, minor, 0);
        v.pre = semver::Prerelease::new("0").unwrap_or(semver::Prerelease::EMPTY);
        v
    };
    Ok(C::Cond(match op {
        "=" => cond("semver_eq", &version),
        "!=" => json!({ "any": [cond("semver_lt", &version), cond("semver_gt", &version)] }),
        "<" => cond("semver_lt", &version),
        "<=" => cond("semver_lte", &version),
        ">" => cond("semver_gt", &version),
        ">=" => cond("semver_gte", &version),
        // flagd's `^` is "the same major version", `~` "the same major and
        // minor": between the lowest pre-release of that line and of the next.
        "^" => {
            json!({ "all": [cond("semver_gte", &floor(version.major, 0)), cond("semver_lt", &floor(version.major + 1, 0))] })
        }
        "~" => json!({ "all": [
            cond("semver_gte", &floor(version.major, version.minor)),
            cond("semver_lt", &floor(version.major, version.minor + 1)),
        ] }),
        // flagd answers null (false) for an operator it does not know.
        _ => return Ok(C::False),
    }))
}

/// A version as flagd-core reads one: a leading `v`/`V` dropped, then
/// SemVer, or `MAJOR` / `MAJOR.MINOR` completed with zeros.
fn flagd_version(text: &str) -> Option<semver::Version> {
    let s = text.strip_prefix(['v', 'V']).unwrap_or(text);
    if let Some(v) = parse_version(s.trim()).filter(|_| !s.trim().starts_with(['v', 'V'])) {
        return Some(v);
    }
    let parts: Vec<&str> = s.split('.').collect();
    if (1..=2).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        let major = parts[0].parse().ok()?;
        let minor = parts.get(1).map_or(Some(0), |m| m.parse().ok())?;
        return Some(semver::Version::new(major, minor, 0));
    }
    None
}

/// `fractional`: a split, bucketed as flagd does.
fn fractional(
    cx: &mut Cx<'_>,
    arg: &Node,
    ptr: &Pointer,
    prefix: &[Value],
    out: &mut Vec<Leaf>,
) -> Res<bool> {
    let NodeKind::Seq(items) = &arg.kind else {
        return skip(ptr, "`fractional` without a list of buckets");
    };
    if items.is_empty() {
        return skip(ptr, "`fractional` without buckets");
    }
    // The bucket-by expression, if the first argument is not a bucket.
    let (salt, attr, buckets, first) = if matches!(items[0].kind, NodeKind::Seq(_)) {
        (cx.flag.to_owned(), None, &items[..], 0)
    } else {
        let by = bucket_by(cx, &items[0], &ptr.push(0))?;
        (by.salt.clone(), Some(by), &items[1..], 1)
    };
    let mut weights: Vec<(String, u64)> = Vec::new();
    for (i, b) in buckets.iter().enumerate() {
        let at = ptr.push(i + first);
        let NodeKind::Seq(entry) = &b.kind else {
            return skip(&at, "a `fractional` bucket that is not a list");
        };
        if entry.is_empty() || entry.len() > 2 {
            return skip(
                &at,
                "a `fractional` bucket of other than one or two items (flagd answers the default)",
            );
        }
        let name = match &entry[0].kind {
            NodeKind::Str(s) => s.clone(),
            NodeKind::Bool(b) => b.to_string(),
            NodeKind::Int(n) => n.to_string(),
            _ => {
                return skip(
                    &at.push(0),
                    "a `fractional` bucket whose variant is not a literal name",
                );
            }
        };
        if !cx.variants.contains(&name) {
            return skip(
                &at.push(0),
                format!(
                    "a `fractional` bucket for `{name}`, which is not a variant (flagd answers an error)"
                ),
            );
        }
        let weight = match entry.get(1).map(|w| &w.kind) {
            None => 1,
            Some(NodeKind::Int(w)) => u64::try_from(*w).unwrap_or(0),
            Some(NodeKind::Float(w)) if w.fract() == 0.0 && w.is_finite() => w.max(0.0) as u64,
            Some(_) => {
                return skip(
                    &at.push(1),
                    "a `fractional` weight that is not a whole number (flagd answers the default)",
                );
            }
        };
        if weights.iter().any(|(n, _)| *n == name) {
            return skip(
                &at.push(0),
                format!(
                    "`{name}` in two `fractional` buckets (a split of ours names a variant once)"
                ),
            );
        }
        weights.push((name, weight));
    }
    let total: u64 = weights.iter().map(|(_, w)| w).sum();
    if total == 0 || total > i32::MAX as u64 {
        return skip(
            ptr,
            "`fractional` weights adding up to 0 or more than 2147483647 (flagd answers the default)",
        );
    }
    let by = attr
        .as_ref()
        .map_or_else(|| "targetingKey".to_owned(), |b| b.attr.clone());
    match &cx.bucket_by {
        Some(existing) if *existing != by => {
            return skip(
                ptr,
                format!(
                    "`fractional` by `{by}` in a flag that also buckets by `{existing}` (ours bucket a flag by one attribute)"
                ),
            );
        }
        _ => cx.bucket_by = Some(by.clone()),
    }
    let mut conds = prefix.to_vec();
    match attr {
        // flagKey + targetingKey, only with a targeting key that is not
        // empty: flagd answers the default otherwise.
        None => conds.push(attr_cond("targetingKey", "neq", json!(""))),
        Some(BucketBy {
            attr: a, cat: true, ..
        }) => {
            // `cat` spells a missing attribute "null": one variant for all.
            let mut missing_conds = prefix.to_vec();
            missing_conds.push(missing(&a));
            let Some(v) = constant_bucket(cx.fractional, &salt, b"null", &weights) else {
                return skip(
                    ptr,
                    "`fractional` that puts a context without the attribute in no bucket",
                );
            };
            out.push(Leaf {
                conds: missing_conds,
                serve: Serve::Variant(v),
            });
            conds.push(json!({ "attr": a, "op": "exists" }));
        }
        // A bare `var` reads null for a missing attribute, which is no
        // bucket-by string: flagd then reads it as a bucket and answers
        // the default.
        Some(BucketBy {
            attr: a,
            cat: false,
            ..
        }) => conds.push(json!({ "attr": a, "op": "exists" })),
    }
    out.push(Leaf {
        conds,
        serve: Serve::Split { weights, salt },
    });
    Ok(false)
}

/// A `fractional` bucket-by expression: the constant hashed before the
/// attribute, and whether it is a `cat` (which spells a missing attribute
/// "null") or a bare `var`.
struct BucketBy {
    salt: String,
    attr: String,
    cat: bool,
}

/// `{"cat": [literal or $flagd.flagKey…, {"var": ATTR}]}` or `{"var": ATTR}`.
fn bucket_by(cx: &Cx<'_>, node: &Node, ptr: &Pointer) -> Res<BucketBy> {
    let (node, ptr) = deref(cx, node, ptr)?;
    let (parts, cat): (Vec<&Node>, bool) = match operation(node) {
        Some(("cat", arg)) => (args(arg), true),
        Some(("var", _)) => (vec![node], false),
        _ => {
            return skip(
                &ptr,
                "a `fractional` bucket-by expression other than `cat` of constants then one attribute",
            );
        }
    };
    let mut salt = String::new();
    for (i, part) in parts.iter().enumerate() {
        let at = if cat {
            ptr.push("cat").push(i)
        } else {
            ptr.clone()
        };
        let last = i + 1 == parts.len();
        match &part.kind {
            NodeKind::Str(s) if !last => salt.push_str(s),
            NodeKind::Int(n) if !last => salt.push_str(&n.to_string()),
            _ => {
                if let Some(("var", arg)) = operation(part)
                    && var_path(arg) == Some("$flagd.flagKey")
                    && !last
                {
                    salt.push_str(cx.flag);
                    continue;
                }
                if last && let Some(Var::Attr(attr)) = var(cx, part, &at)? {
                    return Ok(BucketBy { salt, attr, cat });
                }
                return skip(
                    &at,
                    "a `fractional` bucket-by expression other than `cat` of constants then one attribute",
                );
            }
        }
    }
    skip(
        &ptr,
        "a `fractional` bucket-by expression without an attribute",
    )
}

/// The path a `var`'s argument names (`"a"` or `["a"]`).
fn var_path(arg: &Node) -> Option<&str> {
    match &arg.kind {
        NodeKind::Str(s) => Some(s),
        NodeKind::Seq(items) if items.len() == 1 => match &items[0].kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// The variant flagd's `fractional` gives the hashed bytes `salt + key`.
fn constant_bucket(
    fractional: Fractional,
    salt: &str,
    key: &[u8],
    weights: &[(String, u64)],
) -> Option<String> {
    let h = murmur3(salt.as_bytes(), key, 0);
    let total: u64 = weights.iter().map(|(_, w)| w).sum();
    match fractional {
        Fractional::V2 => {
            let bucket = (u64::from(h) * total) >> 32;
            let mut sum = 0;
            for (v, w) in weights {
                sum += w;
                if sum > bucket {
                    return Some(v.clone());
                }
            }
            None
        }
        Fractional::V1 => {
            let p = f64::from((h as i32).unsigned_abs()) / f64::from(i32::MAX) * 100.0;
            let mut end = 0.0;
            for (v, w) in weights {
                end += 100.0 * *w as f64 / total as f64;
                if p < end {
                    return Some(v.clone());
                }
            }
            None
        }
    }
}
