//! Field-by-field comparison of two definitions, in the words a reviewer
//! reads: "rule `eu` split on 50 → 70 %", "default off → on", "rollout
//! stage 2 duration 2h → 30m".
//!
//! The wording follows the model (what users write), not the compiled form:
//! a duration reads as written, a weight as its share of the split.

use serde::Serialize;
use serde_json::Value;

use hotswap_flags_core::model::{
    AttrCondition, Condition, Flag, Operands, Rollout, Rule, Segment, Serve, Split,
};

mod rollout;

use rollout::rollout_changes;
pub use rollout::rollout_text;

/// One changed field of a flag or segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Where, in the definition: `default`, `rules[eu].serve`, `rollout.stages[1].duration`.
    pub path: String,
    /// The change in words.
    pub text: String,
    /// The value before (absent when the field was added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after (absent when the field was removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

impl FieldChange {
    fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        FieldChange {
            path: path.into(),
            text: text.into(),
            before: None,
            after: None,
        }
    }

    fn values<A: Serialize, B: Serialize>(mut self, before: Option<&A>, after: Option<&B>) -> Self {
        self.before = before.and_then(|v| serde_json::to_value(v).ok());
        self.after = after.and_then(|v| serde_json::to_value(v).ok());
        self
    }
}

/// A number as people write it: `50`, `33.3`, `0.05`.
pub fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// A JSON value for a sentence: strings bare, the rest compact JSON, long
/// values shortened.
pub fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => n.as_f64().map_or_else(|| n.to_string(), num),
        other => other.to_string(),
    };
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}…")
    } else {
        s
    }
}

fn list(items: &[String]) -> String {
    const MAX: usize = 8;
    if items.len() > MAX {
        format!("{} (+{} more)", items[..MAX].join(", "), items.len() - MAX)
    } else {
        items.join(", ")
    }
}

/// A condition in one line: `country in [DE, FR]`, `segment beta-testers`.
pub fn condition_text(c: &Condition) -> String {
    match c {
        Condition::Attr(a) => match &a.operands {
            Operands::None => format!("{} {}", a.attr, a.op),
            Operands::One(v) => format!("{} {} {}", a.attr, a.op, show(v)),
            Operands::Many(vs) => format!(
                "{} {} [{}]",
                a.attr,
                a.op,
                vs.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
        },
        Condition::Segment(s) => format!("segment {s}"),
        Condition::All(cs) => format!(
            "all({})",
            cs.iter().map(condition_text).collect::<Vec<_>>().join(", ")
        ),
        Condition::Any(cs) => format!(
            "any({})",
            cs.iter().map(condition_text).collect::<Vec<_>>().join(", ")
        ),
        Condition::Not(c) => format!("not({})", condition_text(c)),
        Condition::Time(w) => {
            let mut parts = vec!["time".to_owned()];
            if let Some(a) = &w.after {
                parts.push(format!("after {a}"));
            }
            if let Some(b) = &w.before {
                parts.push(format!("before {b}"));
            }
            if let Some(tz) = &w.timezone {
                parts.push(format!("({tz})"));
            }
            parts.join(" ")
        }
    }
}

/// Weights as shares of the split, in written order.
fn shares(split: &Split) -> Vec<(String, f64)> {
    let total: f64 = split.split.values().filter(|w| **w > 0.0).sum();
    split
        .split
        .iter()
        .map(|(k, w)| {
            let share = if total > 0.0 { w * 100.0 / total } else { 0.0 };
            (k.clone(), (share * 1000.0).round() / 1000.0)
        })
        .collect()
}

/// What a serve hands out: `on`, `split on 50 % / off 50 %`.
pub fn serve_text(s: &Serve) -> String {
    match s {
        Serve::Variant(v) => v.clone(),
        Serve::Split(split) => format!(
            "split {}",
            shares(split)
                .iter()
                .map(|(k, p)| format!("{k} {} %", num(*p)))
                .collect::<Vec<_>>()
                .join(" / ")
        ),
    }
}

fn serve_changes(path: &str, what: &str, a: &Serve, b: &Serve, out: &mut Vec<FieldChange>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Serve::Split(x), Serve::Split(y)) => {
            let (sx, sy) = (shares(x), shares(y));
            let same_variants = sx.len() == sy.len() && sx.iter().zip(&sy).all(|(p, q)| p.0 == q.0);
            if sx != sy {
                let text = if same_variants {
                    let parts: Vec<String> = sx
                        .iter()
                        .zip(&sy)
                        .filter(|(p, q)| p.1 != q.1)
                        .map(|(p, q)| format!("{} {} → {} %", p.0, num(p.1), num(q.1)))
                        .collect();
                    format!("{what} split {}", parts.join(", "))
                } else {
                    format!("{what} {} → {}", serve_text(a), serve_text(b))
                };
                out.push(
                    FieldChange::new(format!("{path}.split"), text)
                        .values(Some(&x.split), Some(&y.split)),
                );
            } else if x.split != y.split {
                // Same shares, other numbers (`1/1` → `50/50`): no user moves.
                out.push(
                    FieldChange::new(
                        format!("{path}.split"),
                        format!("{what} split weights rewritten (same shares)"),
                    )
                    .values(Some(&x.split), Some(&y.split)),
                );
            }
            if x.salt != y.salt {
                out.push(
                    FieldChange::new(
                        format!("{path}.salt"),
                        format!(
                            "{what} split salt {} → {} (users reshuffled)",
                            salt_text(x.salt.as_deref()),
                            salt_text(y.salt.as_deref())
                        ),
                    )
                    .values(x.salt.as_ref(), y.salt.as_ref()),
                );
            }
            if x.experiment != y.experiment {
                let text = match (&x.experiment, &y.experiment) {
                    (None, Some(_)) => format!("{what} experiment added"),
                    (Some(_), None) => format!("{what} experiment removed"),
                    _ => format!("{what} experiment changed"),
                };
                let mut sub = Vec::new();
                json_changes(
                    &format!("{path}.experiment"),
                    &format!("{what} experiment"),
                    &to_json(&x.experiment),
                    &to_json(&y.experiment),
                    &mut sub,
                );
                if sub.is_empty() || x.experiment.is_none() || y.experiment.is_none() {
                    out.push(
                        FieldChange::new(format!("{path}.experiment"), text)
                            .values(x.experiment.as_ref(), y.experiment.as_ref()),
                    );
                } else {
                    out.extend(sub);
                }
            }
        }
        _ => out.push(
            FieldChange::new(
                path.to_owned(),
                format!("{what} {} → {}", serve_text(a), serve_text(b)),
            )
            .values(Some(a), Some(b)),
        ),
    }
}

/// Records `path` if it differs, worded "`what` BEFORE → AFTER" with each
/// side shown by `text` (absent sides are left out of the JSON values).
fn scalar_change<T: PartialEq + Serialize>(
    out: &mut Vec<FieldChange>,
    path: impl Into<String>,
    what: &str,
    (a, b): (Option<&T>, Option<&T>),
    text: impl Fn(Option<&T>) -> String,
) {
    if a != b {
        let words = format!("{what} {} → {}", text(a), text(b));
        out.push(FieldChange::new(path, words).values(a, b));
    }
}

fn salt_text(s: Option<&str>) -> String {
    s.map_or_else(|| "(default)".to_owned(), |s| format!("`{s}`"))
}

fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A generic comparison of two JSON trees, for the parts without special
/// wording (health checks, experiments): `rollout.health.failureLimit 2 → 3`.
fn json_changes(path: &str, what: &str, a: &Value, b: &Value, out: &mut Vec<FieldChange>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let p = format!("{path}.{k}");
                let w = format!("{what} {k}");
                match y.get(k) {
                    Some(vb) => json_changes(&p, &w, va, vb, out),
                    None => out.push(
                        FieldChange::new(p, format!("{w} removed (was {})", show(va)))
                            .values(Some(va), None::<&Value>),
                    ),
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) {
                    out.push(
                        FieldChange::new(
                            format!("{path}.{k}"),
                            format!("{what} {k} set to {}", show(vb)),
                        )
                        .values(None::<&Value>, Some(vb)),
                    );
                }
            }
        }
        // Lists of named items (health checks) compare by name.
        (Value::Array(x), Value::Array(y)) if named(x) && named(y) => {
            let name = |v: &Value| {
                v.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let singular = what.strip_suffix('s').unwrap_or(what);
            for va in x {
                let n = name(va);
                match y.iter().find(|vb| name(vb) == n) {
                    Some(vb) => json_changes(
                        &format!("{path}[{n}]"),
                        &format!("{singular} `{n}`"),
                        va,
                        vb,
                        out,
                    ),
                    None => out.push(
                        FieldChange::new(
                            format!("{path}[{n}]"),
                            format!("{singular} `{n}` removed"),
                        )
                        .values(Some(va), None::<&Value>),
                    ),
                }
            }
            for vb in y {
                let n = name(vb);
                if !x.iter().any(|va| name(va) == n) {
                    out.push(
                        FieldChange::new(format!("{path}[{n}]"), format!("{singular} `{n}` added"))
                            .values(None::<&Value>, Some(vb)),
                    );
                }
            }
            let order = |v: &[Value]| v.iter().map(name).collect::<Vec<_>>();
            let (ox, oy) = (order(x), order(y));
            let common_x: Vec<&String> = ox.iter().filter(|n| oy.contains(n)).collect();
            let common_y: Vec<&String> = oy.iter().filter(|n| ox.contains(n)).collect();
            if common_x != common_y {
                out.push(FieldChange::new(
                    path.to_owned(),
                    format!("{what} reordered"),
                ));
            }
        }
        (Value::Null, _) => out.push(
            FieldChange::new(path.to_owned(), format!("{what} set to {}", show(b)))
                .values(None::<&Value>, Some(b)),
        ),
        (_, Value::Null) => out.push(
            FieldChange::new(path.to_owned(), format!("{what} removed (was {})", show(a)))
                .values(Some(a), None::<&Value>),
        ),
        _ => out.push(
            FieldChange::new(path.to_owned(), format!("{what} {} → {}", show(a), show(b)))
                .values(Some(a), Some(b)),
        ),
    }
}

/// True for a non-empty list of objects that all have a string `name`.
fn named(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|v| v.get("name").is_some_and(Value::is_string))
}

fn condition_changes(
    path: &str,
    what: &str,
    a: &Condition,
    b: &Condition,
    out: &mut Vec<FieldChange>,
) {
    if a == b {
        return;
    }
    match (a, b) {
        // One operand each (`value:`): `rule `ios` when `app semver_gte` 5.4.0 → 5.2.0`.
        (Condition::Attr(x), Condition::Attr(y)) if x.attr == y.attr && x.op == y.op => {
            let text = match (&x.operands, &y.operands) {
                (Operands::One(v), Operands::One(w)) => {
                    format!("{what} `{} {}` {} → {}", x.attr, x.op, show(v), show(w))
                }
                (Operands::Many(vs), Operands::Many(ws)) => operand_list_change(what, x, vs, ws)
                    .unwrap_or_else(|| {
                        format!("{what} `{}` → `{}`", condition_text(a), condition_text(b))
                    }),
                _ => format!("{what} `{}` → `{}`", condition_text(a), condition_text(b)),
            };
            out.push(FieldChange::new(path.to_owned(), text).values(Some(a), Some(b)));
        }
        (Condition::All(xs), Condition::All(ys)) | (Condition::Any(xs), Condition::Any(ys))
            if xs.len() == ys.len() =>
        {
            let kind = if matches!(a, Condition::All(_)) {
                "all"
            } else {
                "any"
            };
            for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                condition_changes(&format!("{path}.{kind}[{i}]"), what, x, y, out);
            }
        }
        (Condition::Not(x), Condition::Not(y)) => {
            condition_changes(&format!("{path}.not"), &format!("{what} not"), x, y, out);
        }
        _ => out.push(
            FieldChange::new(
                path.to_owned(),
                format!("{what} `{}` → `{}`", condition_text(a), condition_text(b)),
            )
            .values(Some(a), Some(b)),
        ),
    }
}

/// Two operand lists (`values:`) as additions and removals:
/// `rule `eu` when `country in` + NL, − FR`; `None` when they hold the same
/// values (reordered, say).
fn operand_list_change(
    what: &str,
    x: &AttrCondition,
    xs: &[Value],
    ys: &[Value],
) -> Option<String> {
    let added: Vec<String> = ys.iter().filter(|v| !xs.contains(v)).map(show).collect();
    let removed: Vec<String> = xs.iter().filter(|v| !ys.contains(v)).map(show).collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("+ {}", list(&added)));
    }
    if !removed.is_empty() {
        parts.push(format!("− {}", list(&removed)));
    }
    (!parts.is_empty()).then(|| format!("{what} `{} {}` {}", x.attr, x.op, parts.join(", ")))
}

fn rule_text(r: &Rule) -> String {
    format!(
        "when `{}` serve {}",
        condition_text(&r.when),
        serve_text(&r.serve)
    )
}

fn rules_changes(a: &[Rule], b: &[Rule], out: &mut Vec<FieldChange>) {
    for r in a {
        if !b.iter().any(|x| x.name == r.name) {
            out.push(
                FieldChange::new(
                    format!("rules[{}]", r.name),
                    format!("rule `{}` removed ({})", r.name, rule_text(r)),
                )
                .values(Some(r), None::<&Rule>),
            );
        }
    }
    for (i, r) in b.iter().enumerate() {
        match a.iter().find(|x| x.name == r.name) {
            None => out.push(
                FieldChange::new(
                    format!("rules[{}]", r.name),
                    format!(
                        "rule `{}` added at position {} ({})",
                        r.name,
                        i + 1,
                        rule_text(r)
                    ),
                )
                .values(None::<&Rule>, Some(r)),
            ),
            Some(old) => {
                let what = format!("rule `{}`", r.name);
                condition_changes(
                    &format!("rules[{}].when", r.name),
                    &format!("{what} when"),
                    &old.when,
                    &r.when,
                    out,
                );
                serve_changes(
                    &format!("rules[{}].serve", r.name),
                    &what,
                    &old.serve,
                    &r.serve,
                    out,
                );
            }
        }
    }
    let common_a: Vec<&str> = a
        .iter()
        .filter(|r| b.iter().any(|x| x.name == r.name))
        .map(|r| r.name.as_str())
        .collect();
    let common_b: Vec<&str> = b
        .iter()
        .filter(|r| a.iter().any(|x| x.name == r.name))
        .map(|r| r.name.as_str())
        .collect();
    if common_a != common_b {
        out.push(
            FieldChange::new(
                "rules",
                format!(
                    "rules reordered: {} → {} (first match wins)",
                    common_a.join(", "),
                    common_b.join(", ")
                ),
            )
            .values(Some(&common_a), Some(&common_b)),
        );
    }
}

/// Who owns the flag, its kind and its expiry (docs/lifecycle.md): they
/// serve nobody differently, but a reviewer sees a flag change hands or
/// get more time.
fn metadata_changes(a: &Flag, b: &Flag, out: &mut Vec<FieldChange>) {
    let or_none = |s: Option<String>| s.unwrap_or_else(|| "(none)".to_owned());
    scalar_change(
        out,
        "owner",
        "owner",
        (a.owner.as_ref(), b.owner.as_ref()),
        |o| or_none(o.cloned()),
    );
    scalar_change(
        out,
        "kind",
        "kind",
        (a.lifecycle.as_ref(), b.lifecycle.as_ref()),
        |k| or_none(k.map(ToString::to_string)),
    );
    scalar_change(
        out,
        "expires",
        "expires",
        (a.expires.as_ref(), b.expires.as_ref()),
        |d| or_none(d.map(ToString::to_string)),
    );
}

/// Whether client-side SDKs may evaluate the flag: a flag becoming
/// visible to every browser is a change of who can read it.
fn client_side_change(a: &Flag, b: &Flag, out: &mut Vec<FieldChange>) {
    if a.client_side != b.client_side {
        let text = if b.client_side {
            "now visible to client-side SDKs (clientSide: true)"
        } else {
            "no longer visible to client-side SDKs"
        };
        out.push(
            FieldChange::new("clientSide", text).values(Some(&a.client_side), Some(&b.client_side)),
        );
    }
}

/// What a reviewer must see even in a flag that is new: that every
/// browser may read it.
pub fn added_flag_fields(flag: &Flag) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if flag.client_side {
        out.push(
            FieldChange::new(
                "clientSide",
                "visible to client-side SDKs (clientSide: true)",
            )
            .values(None::<&bool>, Some(&true)),
        );
    }
    out
}

/// Every difference between two versions of a flag, in reading order.
pub fn flag_changes(a: &Flag, b: &Flag) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if a.description != b.description {
        out.push(
            FieldChange::new("description", "description changed")
                .values(a.description.as_ref(), b.description.as_ref()),
        );
    }
    metadata_changes(a, b, &mut out);
    client_side_change(a, b, &mut out);
    if a.kind != b.kind {
        out.push(
            FieldChange::new("type", format!("type {} → {}", a.kind, b.kind))
                .values(Some(&a.kind), Some(&b.kind)),
        );
    }
    for (name, value) in &a.variants {
        match b.variants.get(name) {
            None => out.push(
                FieldChange::new(
                    format!("variants.{name}"),
                    format!("variant `{name}` removed"),
                )
                .values(Some(value), None::<&Value>),
            ),
            Some(v) if v != value => out.push(
                FieldChange::new(
                    format!("variants.{name}"),
                    format!("variant `{name}` value {} → {}", show(value), show(v)),
                )
                .values(Some(value), Some(v)),
            ),
            Some(_) => {}
        }
    }
    for (name, value) in &b.variants {
        if !a.variants.contains_key(name) {
            out.push(
                FieldChange::new(
                    format!("variants.{name}"),
                    format!("variant `{name}` added ({})", show(value)),
                )
                .values(None::<&Value>, Some(value)),
            );
        }
    }
    let order_a: Vec<&String> = a
        .variants
        .keys()
        .filter(|k| b.variants.contains_key(*k))
        .collect();
    let order_b: Vec<&String> = b
        .variants
        .keys()
        .filter(|k| a.variants.contains_key(*k))
        .collect();
    if order_a != order_b {
        out.push(FieldChange::new(
            "variants",
            format!(
                "variant order {} → {}",
                order_a
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                order_b
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if a.enabled != b.enabled {
        let text = if b.enabled {
            "kill switch off: flag enabled again".to_owned()
        } else {
            format!(
                "kill switch on: everyone gets {}",
                b.off_variant.as_deref().unwrap_or(match &b.default {
                    Serve::Variant(v) => v.as_str(),
                    Serve::Split(_) => "the offVariant",
                })
            )
        };
        out.push(FieldChange::new("enabled", text).values(Some(&a.enabled), Some(&b.enabled)));
    }
    serve_changes("default", "default", &a.default, &b.default, &mut out);
    let off_variant = |v: Option<&String>| v.map_or("(default)", String::as_str).to_owned();
    let variants = (a.off_variant.as_ref(), b.off_variant.as_ref());
    scalar_change(&mut out, "offVariant", "offVariant", variants, off_variant);
    if a.bucket_by != b.bucket_by {
        out.push(
            FieldChange::new(
                "bucketBy",
                format!(
                    "bucketBy {} → {} (users reshuffled)",
                    a.bucket_by.as_deref().unwrap_or("targetingKey"),
                    b.bucket_by.as_deref().unwrap_or("targetingKey")
                ),
            )
            .values(a.bucket_by.as_ref(), b.bucket_by.as_ref()),
        );
    }
    rules_changes(&a.rules, &b.rules, &mut out);
    match (&a.rollout, &b.rollout) {
        (None, Some(r)) => out.push(
            FieldChange::new("rollout", format!("rollout added: {}", rollout_text(r)))
                .values(None::<&Rollout>, Some(r)),
        ),
        (Some(r), None) => out.push(
            FieldChange::new(
                "rollout",
                format!("rollout removed (was {})", rollout_text(r)),
            )
            .values(Some(r), None::<&Rollout>),
        ),
        (Some(x), Some(y)) if x != y => rollout_changes(x, y, &mut out),
        _ => {}
    }
    out
}

/// Every difference between two versions of a segment.
pub fn segment_changes(a: &Segment, b: &Segment) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if a.description != b.description {
        out.push(
            FieldChange::new("description", "description changed")
                .values(a.description.as_ref(), b.description.as_ref()),
        );
    }
    match (&a.when, &b.when) {
        (Some(x), Some(y)) => condition_changes("when", "when", x, y, &mut out),
        (None, Some(y)) => out.push(
            FieldChange::new("when", format!("when `{}` added", condition_text(y)))
                .values(None::<&Condition>, Some(y)),
        ),
        (Some(x), None) => out.push(
            FieldChange::new("when", format!("when `{}` removed", condition_text(x)))
                .values(Some(x), None::<&Condition>),
        ),
        (None, None) => {}
    }
    if a.keys != b.keys {
        out.push(
            FieldChange::new(
                "keys",
                format!("keys {}", list_delta(a.keys.as_deref(), b.keys.as_deref())),
            )
            .values(a.keys.as_ref(), b.keys.as_ref()),
        );
    }
    out
}

/// What changed between two lists of names: `+ a, b, − c`, or `reordered`.
fn list_delta(before: Option<&[String]>, after: Option<&[String]>) -> String {
    let (xs, ys) = (before.unwrap_or_default(), after.unwrap_or_default());
    let added: Vec<String> = ys.iter().filter(|k| !xs.contains(k)).cloned().collect();
    let removed: Vec<String> = xs.iter().filter(|k| !ys.contains(k)).cloned().collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("+ {}", list(&added)));
    }
    if !removed.is_empty() {
        parts.push(format!("− {}", list(&removed)));
    }
    if parts.is_empty() {
        parts.push("reordered".to_owned());
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotswap_flags_core::parse::{Format, from_node, parse_document};

    pub(super) fn flag(yaml: &str) -> Flag {
        from_node(&parse_document(yaml, Format::Yaml).unwrap()).unwrap()
    }

    pub(super) const BASE: &str = r#"
type: boolean
variants: { on: true, off: false }
default: off
rules:
  - name: eu
    when: { attr: country, op: in, values: [DE, FR] }
    serve: { split: { on: 50, off: 50 } }
rollout:
  strategy: canary
  serve: on
  stages:
    - { percentage: 10, duration: 1h }
    - { percentage: 30, duration: 2h }
    - { percentage: 100 }
"#;

    pub(super) fn texts(a: &str, b: &str) -> Vec<String> {
        flag_changes(&flag(a), &flag(b))
            .into_iter()
            .map(|c| c.text)
            .collect()
    }

    #[test]
    fn lifecycle_metadata_changes_are_worded() {
        let before = format!("{BASE}owner: \"@alice\"\nkind: release\n");
        let after = format!("{BASE}owner: \"@acme/payments\"\nexpires: 2026-03-31\n");
        assert_eq!(
            texts(&before, &after),
            [
                "owner @alice → @acme/payments",
                "kind release → (none)",
                "expires (none) → 2026-03-31",
            ]
        );
    }

    #[test]
    fn reviewer_wording() {
        let head = BASE
            .replace("on: 50, off: 50", "on: 70, off: 30")
            .replace("default: off", "default: on")
            .replace("duration: 2h", "duration: 30m")
            .replace("[DE, FR]", "[DE, FR, NL]");
        assert_eq!(
            texts(BASE, &head),
            [
                "default off → on",
                "rule `eu` when `country in` + NL",
                "rule `eu` split on 50 → 70 %, off 50 → 30 %",
                "rollout stage 2 duration 2h → 30m",
            ]
        );
    }

    #[test]
    fn a_single_operand_reads_before_and_after_a_list_as_additions_and_removals() {
        let rule = |when: &str| {
            BASE.replace(
                "when: { attr: country, op: in, values: [DE, FR] }",
                &format!("when: {when}"),
            )
        };
        let ios = |v: &str| {
            rule(&format!(
                "{{ attr: appVersion, op: semver_gte, value: \"{v}\" }}"
            ))
        };
        assert_eq!(
            texts(&ios("5.4.0"), &ios("5.2.0")),
            ["rule `eu` when `appVersion semver_gte` 5.4.0 → 5.2.0"]
        );
        let eq = |v: &str| rule(&format!("{{ attr: plan, op: eq, {v} }}"));
        assert_eq!(
            texts(
                &eq("values: [gold, silver]"),
                &eq("values: [gold, platinum]")
            ),
            ["rule `eu` when `plan eq` + platinum, − silver"]
        );
        assert_eq!(
            texts(&eq("value: gold"), &eq("values: [gold, platinum]")),
            ["rule `eu` when `plan eq gold` → `plan eq [gold, platinum]`"]
        );
        assert_eq!(
            texts(&eq("values: [gold, silver]"), &eq("values: [silver, gold]")),
            ["rule `eu` when `plan eq [gold, silver]` → `plan eq [silver, gold]`"]
        );
    }

    #[test]
    fn identical_definitions_have_no_changes() {
        assert!(texts(BASE, BASE).is_empty());
    }

    #[test]
    fn rules_added_removed_and_reordered() {
        let head = BASE.replace(
            "rules:\n",
            "rules:\n  - name: staff\n    when: { attr: email, op: ends_with, value: \"@x.com\" }\n    serve: on\n",
        );
        assert_eq!(
            texts(BASE, &head),
            ["rule `staff` added at position 1 (when `email ends_with @x.com` serve on)"]
        );
        assert_eq!(
            texts(&head, BASE),
            ["rule `staff` removed (when `email ends_with @x.com` serve on)"]
        );
    }

    #[test]
    fn health_changes_use_generic_paths() {
        let a = format!("{BASE}  health:\n    failureLimit: 2\n");
        let b = format!("{BASE}  health:\n    failureLimit: 3\n    noData: fail\n");
        assert_eq!(
            texts(&a, &b),
            [
                "rollout health failureLimit 2 → 3",
                "rollout health noData set to fail"
            ]
        );
        let c = format!(
            "{BASE}  health:\n    checks:\n      - {{ name: errors, query: 'x', max: 0.05 }}\n      - {{ name: p99, query: 'y', max: 500 }}\n"
        );
        let d = c
            .replace("max: 500", "max: 800")
            .replace("      - { name: errors, query: 'x', max: 0.05 }\n", "");
        assert_eq!(
            texts(&c, &d),
            [
                "rollout health check `errors` removed",
                "rollout health check `p99` max 500 → 800"
            ]
        );
    }
}
