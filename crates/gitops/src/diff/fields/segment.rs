//! A segment's fields: description, `when`, keys.

use hotswap_flags_core::escape::Words;
use hotswap_flags_core::model::{Condition, Segment};

use super::condition::{condition_changes, condition_text};
use super::wording::list_delta;
use super::{FieldChange, description_change};

/// Every difference between two versions of a segment.
pub fn segment_changes(a: &Segment, b: &Segment) -> Vec<FieldChange> {
    let mut out = Vec::new();
    description_change(a.description.as_ref(), b.description.as_ref(), &mut out);
    when_changes(a.when.as_ref(), b.when.as_ref(), &mut out);
    if a.keys != b.keys {
        out.push(
            FieldChange::new(
                "keys",
                Words::from("keys ").then(list_delta(a.keys.as_deref(), b.keys.as_deref())),
            )
            .values(a.keys.as_ref(), b.keys.as_ref()),
        );
    }
    out
}

/// The segment's condition: added, removed, or compared.
fn when_changes(a: Option<&Condition>, b: Option<&Condition>, out: &mut Vec<FieldChange>) {
    match (a, b) {
        (Some(x), Some(y)) => condition_changes("when", &Words::from("when"), x, y, out),
        (None, Some(y)) => out.push(
            FieldChange::new(
                "when",
                Words::from("when ")
                    .quoted(condition_text(y))
                    .ours(" added"),
            )
            .values(None::<&Condition>, Some(y)),
        ),
        (Some(x), None) => out.push(
            FieldChange::new(
                "when",
                Words::from("when ")
                    .quoted(condition_text(x))
                    .ours(" removed"),
            )
            .values(Some(x), None::<&Condition>),
        ),
        (None, None) => {}
    }
}
