//! A flag's variants, by name: removed or revalued, added, reordered.

use hotswap_flags_core::escape::Words;
use indexmap::IndexMap;
use serde_json::Value;

use super::wording::show;
use super::{FieldChange, common_order};

/// Every difference between two flags' variants: each variant removed or
/// given another value, each added, then a new order of the variants both
/// hold.
pub(super) fn variant_changes(
    a: &IndexMap<String, Value>,
    b: &IndexMap<String, Value>,
    out: &mut Vec<FieldChange>,
) {
    for (name, value) in a {
        match b.get(name) {
            None => out.push(
                FieldChange::new(format!("variants.{name}"), variant(name).ours(" removed"))
                    .values(Some(value), None::<&Value>),
            ),
            Some(v) if v != value => out.push(
                FieldChange::new(
                    format!("variants.{name}"),
                    variant(name)
                        .ours(" value ")
                        .bare(show(value))
                        .ours(" → ")
                        .bare(show(v)),
                )
                .values(Some(value), Some(v)),
            ),
            Some(_) => {}
        }
    }
    for (name, value) in b {
        if !a.contains_key(name) {
            out.push(
                FieldChange::new(
                    format!("variants.{name}"),
                    variant(name).ours(" added (").bare(show(value)).ours(")"),
                )
                .values(None::<&Value>, Some(value)),
            );
        }
    }
    order_change(a, b, out);
}

/// The variants both flags hold, in another order.
fn order_change(
    a: &IndexMap<String, Value>,
    b: &IndexMap<String, Value>,
    out: &mut Vec<FieldChange>,
) {
    let (order_a, order_b) =
        common_order(a.keys().map(String::as_str), b.keys().map(String::as_str));
    if order_a != order_b {
        out.push(FieldChange::new(
            "variants",
            Words::from("variant order ")
                .then(names(&order_a))
                .ours(" → ")
                .then(names(&order_b)),
        ));
    }
}

/// `` variant `on` ``.
fn variant(name: &str) -> Words {
    Words::from("variant ").quoted(name)
}

/// Names, bare, separated by commas.
pub(super) fn names(names: &[&str]) -> Words {
    Words::join(names.iter().map(|n| Words::new().bare(n)), ", ")
}
