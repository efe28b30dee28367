//! A flag's variants, by name: removed or revalued, added, reordered.

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
    for (name, value) in b {
        if !a.contains_key(name) {
            out.push(
                FieldChange::new(
                    format!("variants.{name}"),
                    format!("variant `{name}` added ({})", show(value)),
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
            format!(
                "variant order {} → {}",
                order_a.join(", "),
                order_b.join(", ")
            ),
        ));
    }
}
