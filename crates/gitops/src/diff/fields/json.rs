//! A generic comparison of two JSON trees, for the parts without special
//! wording (health checks, metrics, experiments).

use hotswap_flags_core::escape::Words;
use serde::Serialize;
use serde_json::{Map, Value};

use super::wording::show;
use super::{FieldChange, common_order};

/// A model value as JSON (`null` if it does not serialize).
pub(super) fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Every difference between two JSON trees, worded after `what`:
/// `rollout.health.failureLimit 2 → 3`. Keys and values are what the file
/// holds.
pub(super) fn json_changes(
    path: &str,
    what: &Words,
    a: &Value,
    b: &Value,
    out: &mut Vec<FieldChange>,
) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => object_changes(path, what, x, y, out),
        // Lists of named items (health checks) compare by name.
        (Value::Array(x), Value::Array(y)) if named(x) && named(y) => {
            named_list_changes(path, what, x, y, out);
        }
        (Value::Null, _) => out.push(
            FieldChange::new(path.to_owned(), what.clone().ours(" set to ").bare(show(b)))
                .values(None::<&Value>, Some(b)),
        ),
        (_, Value::Null) => out.push(
            FieldChange::new(path.to_owned(), removed(what, a)).values(Some(a), None::<&Value>),
        ),
        _ => out.push(
            FieldChange::new(
                path.to_owned(),
                what.clone()
                    .ours(" ")
                    .bare(show(a))
                    .ours(" → ")
                    .bare(show(b)),
            )
            .values(Some(a), Some(b)),
        ),
    }
}

/// Two objects key by key: changed, removed, then added keys.
fn object_changes(
    path: &str,
    what: &Words,
    x: &Map<String, Value>,
    y: &Map<String, Value>,
    out: &mut Vec<FieldChange>,
) {
    for (k, va) in x {
        let p = format!("{path}.{k}");
        let w = what.clone().ours(" ").bare(k);
        match y.get(k) {
            Some(vb) => json_changes(&p, &w, va, vb, out),
            None => out.push(FieldChange::new(p, removed(&w, va)).values(Some(va), None::<&Value>)),
        }
    }
    for (k, vb) in y {
        if !x.contains_key(k) {
            out.push(
                FieldChange::new(
                    format!("{path}.{k}"),
                    what.clone()
                        .ours(" ")
                        .bare(k)
                        .ours(" set to ")
                        .bare(show(vb)),
                )
                .values(None::<&Value>, Some(vb)),
            );
        }
    }
}

/// Two lists of named items (`what` in the plural) item by item:
/// changed or removed, added, then whether the common items were
/// reordered.
fn named_list_changes(
    path: &str,
    what: &Words,
    x: &[Value],
    y: &[Value],
    out: &mut Vec<FieldChange>,
) {
    // `rollout health checks` → `` rollout health check `p99` ``.
    let singular = what.clone().trim_suffix("s");
    let item = |n: &str| singular.clone().ours(" ").quoted(n);
    for va in x {
        let n = name(va);
        match y.iter().find(|vb| name(vb) == n) {
            Some(vb) => json_changes(&format!("{path}[{n}]"), &item(n), va, vb, out),
            None => out.push(
                FieldChange::new(format!("{path}[{n}]"), item(n).ours(" removed"))
                    .values(Some(va), None::<&Value>),
            ),
        }
    }
    for vb in y {
        let n = name(vb);
        if !x.iter().any(|va| name(va) == n) {
            out.push(
                FieldChange::new(format!("{path}[{n}]"), item(n).ours(" added"))
                    .values(None::<&Value>, Some(vb)),
            );
        }
    }
    let (ox, oy) = common_order(x.iter().map(name), y.iter().map(name));
    if ox != oy {
        out.push(FieldChange::new(
            path.to_owned(),
            what.clone().ours(" reordered"),
        ));
    }
}

/// `… removed (was 3)`.
fn removed(what: &Words, was: &Value) -> Words {
    what.clone()
        .ours(" removed (was ")
        .bare(show(was))
        .ours(")")
}

/// An item's `name` (empty without one).
fn name(v: &Value) -> &str {
    v.get("name").and_then(Value::as_str).unwrap_or("")
}

/// True for a non-empty list of objects that all have a string `name`.
fn named(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|v| v.get("name").is_some_and(Value::is_string))
}
