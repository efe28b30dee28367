//! flagd flag definitions (`flags`, `$evaluators`, `metadata`) into our
//! flags: the document and each flag here, targeting in `logic`.
//!
//! The semantics followed are those of flagd's reference evaluator
//! (`@openfeature/flagd-core` 4.0.1 over json-logic-engine 5), which
//! `tests/testsuite/import_flagd.rs` compares against (docs/migrating.md,
//! "From flagd").

mod logic;

use std::collections::HashMap;

use hotswap_flags_core::diagnostic::Pos;
use hotswap_flags_core::model::CODE_DEFAULT;
use hotswap_flags_core::parse::{Format, Node, NodeKind, parse_document};
use serde_json::{Map, Value, json};

pub use super::InputError;
use super::{LeftOut, Pointer, Translation, Untranslatable};

/// Which of flagd's `fractional` algorithms the imported flags bucket
/// with (`--fractional`): v2 is flagd's current one, v1 its legacy one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fractional {
    /// `bucketing: flagd-v1`.
    V1,
    /// `bucketing: flagd-v2` (the default).
    #[default]
    V2,
}

impl Fractional {
    fn mode(self) -> &'static str {
        match self {
            Fractional::V1 => "flagd-v1",
            Fractional::V2 => "flagd-v2",
        }
    }
}

/// A problem found while walking the input: bad input, or a construct to
/// report as untranslatable.
#[derive(Debug)]
pub(crate) enum Problem {
    /// The input is not valid flagd: nothing is written.
    Bad(Pos, String),
    /// Valid flagd that has no exact translation: the flag is left out.
    Skip(Pointer, String),
}

pub(crate) type Res<T> = Result<T, Problem>;

pub(crate) fn skip<T>(at: &Pointer, reason: impl Into<String>) -> Res<T> {
    Err(Problem::Skip(at.clone(), reason.into()))
}

pub(crate) fn bad<T>(node: &Node, message: impl Into<String>) -> Res<T> {
    Err(Problem::Bad(node.pos, message.into()))
}

/// Translates one flagd document, named `source` (its file name gives the
/// output file's name).
pub fn translate(
    source: &str,
    text: &str,
    fractional: Fractional,
) -> Result<Translation, InputError> {
    let fail = |pos: Pos, message: String| InputError {
        source_name: source.to_owned(),
        pos,
        message,
    };
    let doc = parse_document(text, Format::Json).map_err(|e| fail(e.pos, e.message))?;
    let mut out = Translation::empty(source, "flagd");
    match document(&doc, source, fractional, &mut out) {
        Ok(()) => Ok(out),
        Err(Problem::Bad(pos, message)) => Err(fail(pos, message)),
        // Document-level constructs are all translatable; a skip here is a
        // bug, reported as bad input rather than a panic.
        Err(Problem::Skip(ptr, message)) => Err(fail(doc.pos, format!("{ptr}: {message}"))),
    }
}

fn entries(node: &Node) -> Option<&[(hotswap_flags_core::parse::Key, Node)]> {
    match &node.kind {
        NodeKind::Map(entries) => Some(entries),
        _ => None,
    }
}

/// The document: `flags` (required), `$evaluators`, `metadata`, `$schema`.
fn document(doc: &Node, source: &str, fractional: Fractional, out: &mut Translation) -> Res<()> {
    let Some(top) = entries(doc) else {
        return bad(
            doc,
            format!(
                "a flagd document is a JSON object, not {}",
                doc.kind.describe()
            ),
        );
    };
    for (key, _) in top {
        if !matches!(
            key.name.as_str(),
            "flags" | "$evaluators" | "metadata" | "$schema"
        ) {
            return Err(Problem::Bad(
                key.pos,
                format!(
                    "unknown key `{}`: a flagd document has `flags`, `$evaluators`, `metadata` and `$schema`",
                    key.name
                ),
            ));
        }
    }
    let Some(flags) = doc.get("flags") else {
        return bad(doc, "a flagd document needs `flags`");
    };
    let Some(flag_entries) = entries(flags) else {
        return bad(
            flags,
            format!("`flags` is a map of flags, not {}", flags.kind.describe()),
        );
    };
    let mut evaluators: HashMap<String, &Node> = HashMap::new();
    if let Some(evs) = doc.get("$evaluators") {
        let Some(ev_entries) = entries(evs) else {
            return bad(
                evs,
                format!(
                    "`$evaluators` is a map of JSONLogic rules, not {}",
                    evs.kind.describe()
                ),
            );
        };
        for (k, v) in ev_entries {
            evaluators.insert(k.name.clone(), v);
        }
    }
    let set_metadata = match doc.get("metadata") {
        Some(m) if entries(m).is_some() => m.to_json(),
        Some(m) => return bad(m, format!("`metadata` is a map, not {}", m.kind.describe())),
        None => Value::Object(Map::new()),
    };
    let flags_ptr = Pointer::root().push("flags");
    for (key, node) in flag_entries {
        let ptr = flags_ptr.push(&key.name);
        let mut cx = logic::Cx {
            flag: &key.name,
            evaluators: &evaluators,
            fractional,
            bucket_by: None,
            variants: Vec::new(),
            earlier: Vec::new(),
        };
        match flag(&mut cx, node, &ptr, &set_metadata) {
            Ok((value, notes)) => {
                out.flags.insert(key.name.clone(), value);
                out.untranslatable
                    .extend(notes.into_iter().map(|(pointer, reason)| Untranslatable {
                        source: source.to_owned(),
                        flag: Some(key.name.clone()),
                        pointer: pointer.to_string(),
                        reason,
                        left_out: LeftOut::Part,
                    }));
            }
            Err(Problem::Skip(pointer, reason)) => out.untranslatable.push(Untranslatable {
                source: source.to_owned(),
                flag: Some(key.name.clone()),
                pointer: pointer.to_string(),
                reason,
                left_out: LeftOut::Flag,
            }),
            Err(bad) => return Err(bad),
        }
    }
    Ok(())
}

/// The keys a flagd flag may have.
const FLAG_KEYS: &[&str] = &[
    "state",
    "variants",
    "defaultVariant",
    "targeting",
    "metadata",
];

/// One flag: its shape checked (bad input), then translated (or skipped).
/// Also returns the parts imported without (pointer, reason).
fn flag(
    cx: &mut logic::Cx<'_>,
    node: &Node,
    ptr: &Pointer,
    set_metadata: &Value,
) -> Res<(Value, Vec<(Pointer, String)>)> {
    let Some(fields) = entries(node) else {
        return bad(
            node,
            format!(
                "flag `{}` must be an object, not {}",
                cx.flag,
                node.kind.describe()
            ),
        );
    };
    for (key, _) in fields {
        if !FLAG_KEYS.contains(&key.name.as_str()) {
            return Err(Problem::Bad(
                key.pos,
                format!(
                    "unknown key `{}` in flag `{}` (a flagd flag has {})",
                    key.name,
                    cx.flag,
                    FLAG_KEYS.join(", ")
                ),
            ));
        }
    }
    // Shape first, so that bad input is an error even in a flag that
    // would be left out.
    let state = match node.get("state") {
        Some(Node {
            kind: NodeKind::Str(s),
            ..
        }) if s == "ENABLED" || s == "DISABLED" => s.as_str(),
        Some(other) => return bad(other, "`state` is \"ENABLED\" or \"DISABLED\""),
        None => return bad(node, format!("flag `{}` needs `state`", cx.flag)),
    };
    let Some(variants) = node.get("variants") else {
        return bad(node, format!("flag `{}` needs `variants`", cx.flag));
    };
    let Some(variant_entries) = entries(variants) else {
        return bad(
            variants,
            format!("`variants` is a map, not {}", variants.kind.describe()),
        );
    };
    let default_variant = match node.get("defaultVariant") {
        None
        | Some(Node {
            kind: NodeKind::Null,
            ..
        }) => None,
        Some(Node {
            kind: NodeKind::Str(s),
            ..
        }) => Some(s.as_str()),
        Some(other) => return bad(other, "`defaultVariant` is a variant name or null"),
    };
    let targeting = match node.get("targeting") {
        None => None,
        Some(
            t @ Node {
                kind: NodeKind::Map(entries),
                ..
            },
        ) => (!entries.is_empty()).then_some(t),
        Some(other) => {
            return bad(
                other,
                format!(
                    "`targeting` is a JSONLogic object, not {}",
                    other.kind.describe()
                ),
            );
        }
    };
    if let Some(m) = node.get("metadata")
        && entries(m).is_none()
    {
        return bad(m, format!("`metadata` is a map, not {}", m.kind.describe()));
    }
    if let Some(t) = targeting {
        logic::check_operators(cx, t, 0)?;
    }

    if let Err(msg) = hotswap_flags_core::compile::check_key("flag", cx.flag) {
        return skip(ptr, format!("the key is not one of ours: {msg}"));
    }
    let kind = variant_type(variant_entries, &ptr.push("variants"))?;
    let mut our_variants = Map::new();
    for (k, v) in variant_entries {
        if k.name.is_empty() {
            return skip(
                &ptr.push("variants").push(""),
                "a variant named \"\" (our variant names are not empty)",
            );
        }
        if k.name.starts_with('$') {
            return skip(
                &ptr.push("variants").push(&k.name),
                format!(
                    "a variant named `{}` (ours cannot start with `$`, which marks `$codeDefault`)",
                    k.name
                ),
            );
        }
        our_variants.insert(k.name.clone(), v.to_json());
        cx.variants.push(k.name.clone());
    }
    // flagd reads an empty defaultVariant as none (`flag.defaultVariant || undefined`).
    let default_variant = default_variant.filter(|d| !d.is_empty());
    if let Some(d) = default_variant
        && !cx.variants.iter().any(|v| v == d)
    {
        return skip(
            &ptr.push("defaultVariant"),
            format!(
                "`defaultVariant` `{d}` is not a variant, so flagd answers every evaluation with an error"
            ),
        );
    }
    let rules = match targeting {
        Some(t) => logic::targeting(cx, t, &ptr.push("targeting"))?,
        None => logic::Rules::default(),
    };
    // No `defaultVariant` (null, missing or ""): flagd answers the caller's
    // default where targeting gives no variant, as `$codeDefault` does.
    let default = match (rules.always.clone(), default_variant) {
        (Some(v), _) => v,
        (None, Some(d)) => d.to_owned(),
        (None, None) => CODE_DEFAULT.to_owned(),
    };
    let mut flag = Map::new();
    flag.insert("type".into(), json!(kind));
    flag.insert("variants".into(), Value::Object(our_variants));
    flag.insert("default".into(), json!(default));
    // DISABLED: flagd answers every evaluation with the caller's default.
    // Our kill switch does that with `$codeDefault`; the rules and default
    // stay, so that `enabled: true` restores the flag as flagd's ENABLED.
    if state == "DISABLED" {
        flag.insert("enabled".into(), json!(false));
        flag.insert("offVariant".into(), json!(CODE_DEFAULT));
    }
    if let Some(by) = &cx.bucket_by
        && by != "targetingKey"
    {
        flag.insert("bucketBy".into(), json!(by));
    }
    if rules.splits {
        flag.insert("bucketing".into(), json!(cx.fractional.mode()));
    }
    if !rules.rules.is_empty() {
        flag.insert("rules".into(), Value::Array(rules.rules));
    }
    // flagd-core gives each flag the flag set's metadata, overridden by
    // its own.
    let mut notes = Vec::new();
    let mut metadata = set_metadata.as_object().cloned().unwrap_or_default();
    let own = node.get("metadata");
    if let Some(Value::Object(m)) = own.map(Node::to_json) {
        metadata.extend(m);
    }
    let mut ours = Map::new();
    for (k, v) in metadata {
        let from_flag = own.and_then(|m| m.get(&k)).is_some();
        let at = if from_flag {
            ptr.push("metadata").push(&k)
        } else {
            Pointer::root().push("metadata").push(&k)
        };
        if matches!(k.as_str(), "version" | "rule") {
            notes.push((
                at,
                format!("metadata `{k}`: our OFREP answers' `metadata.{k}` is flagd's own"),
            ));
        } else if !(v.is_string() || v.is_number() || v.is_boolean()) {
            notes.push((
                at,
                format!("metadata `{k}` that is not a string, number or boolean"),
            ));
        } else {
            ours.insert(k, v);
        }
    }
    if !ours.is_empty() {
        flag.insert("metadata".into(), Value::Object(ours));
    }
    Ok((Value::Object(flag), notes))
}

/// Our `type` for the variants' values.
fn variant_type(
    variants: &[(hotswap_flags_core::parse::Key, Node)],
    ptr: &Pointer,
) -> Res<&'static str> {
    if variants.is_empty() {
        return skip(ptr, "no variants (ours have at least one)");
    }
    let kind_of = |n: &Node| match n.kind {
        NodeKind::Bool(_) => Some("boolean"),
        NodeKind::Str(_) => Some("string"),
        NodeKind::Int(_) => Some("integer"),
        NodeKind::Float(_) => Some("float"),
        NodeKind::Map(_) => Some("object"),
        _ => None,
    };
    let mut kind: Option<&'static str> = None;
    for (k, v) in variants {
        let Some(this) = kind_of(v) else {
            return skip(
                &ptr.push(&k.name),
                format!(
                    "a variant whose value is {} (ours are booleans, strings, numbers or objects)",
                    v.kind.describe()
                ),
            );
        };
        kind = Some(match (kind, this) {
            (None, t) => t,
            (Some(a), b) if a == b => a,
            (Some("integer" | "float"), "integer" | "float") => "float",
            (Some(a), b) => {
                return skip(
                    &ptr.push(&k.name),
                    format!("variants of mixed types ({a} and {b}); ours share one type"),
                );
            }
        });
    }
    Ok(kind.unwrap_or("string"))
}
