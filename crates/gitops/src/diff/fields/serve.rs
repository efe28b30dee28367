//! What a serve hands out (a variant, or a split's shares), and two serves
//! compared: shares moved, weights rewritten, salt, experiment.

use hotswap_flags_core::escape::Words;
use hotswap_flags_core::model::{Serve, Split};

use super::FieldChange;
use super::json::{json_changes, to_json};
use super::wording::{num, salt_text};

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
pub fn serve_text(s: &Serve) -> Words {
    match s {
        Serve::Variant(v) => Words::new().bare(v),
        Serve::Split(split) => split_text(split),
    }
}

/// A split's shares: `split on 50 % / off 50 %`.
fn split_text(split: &Split) -> Words {
    let shares = shares(split)
        .into_iter()
        .map(|(k, p)| Words::new().bare(k).ours(format!(" {} %", num(p))));
    Words::from("split ").then(Words::join(shares, " / "))
}

/// Two serves compared (`what` says whose: `default`, `` rule `eu` ``):
/// two splits field by field, anything else whole.
pub(super) fn serve_changes(
    path: &str,
    what: &Words,
    a: &Serve,
    b: &Serve,
    out: &mut Vec<FieldChange>,
) {
    if a == b {
        return;
    }
    match (a, b) {
        (Serve::Split(x), Serve::Split(y)) => {
            share_changes(path, what, x, y, out);
            salt_change(path, what, x, y, out);
            experiment_changes(path, what, x, y, out);
        }
        _ => out.push(
            FieldChange::new(
                path.to_owned(),
                what.clone()
                    .ours(" ")
                    .then(serve_text(a))
                    .ours(" → ")
                    .then(serve_text(b)),
            )
            .values(Some(a), Some(b)),
        ),
    }
}

/// The shares of two splits: over the same variants, each share that
/// moved (`split on 50 → 70 %, off 50 → 30 %`); else the whole split.
/// Weights rewritten to the same shares (`1/1` → `50/50`) move no user,
/// and are said so.
fn share_changes(path: &str, what: &Words, x: &Split, y: &Split, out: &mut Vec<FieldChange>) {
    let (sx, sy) = (shares(x), shares(y));
    let same_variants = sx.len() == sy.len() && sx.iter().zip(&sy).all(|(p, q)| p.0 == q.0);
    if sx != sy {
        let text = if same_variants {
            let parts = sx
                .iter()
                .zip(&sy)
                .filter(|(p, q)| p.1 != q.1)
                .map(|(p, q)| {
                    Words::new()
                        .bare(&p.0)
                        .ours(format!(" {} → {} %", num(p.1), num(q.1)))
                });
            what.clone().ours(" split ").then(Words::join(parts, ", "))
        } else {
            what.clone()
                .ours(" ")
                .then(split_text(x))
                .ours(" → ")
                .then(split_text(y))
        };
        out.push(
            FieldChange::new(format!("{path}.split"), text).values(Some(&x.split), Some(&y.split)),
        );
    } else if x.split != y.split {
        out.push(
            FieldChange::new(
                format!("{path}.split"),
                what.clone().ours(" split weights rewritten (same shares)"),
            )
            .values(Some(&x.split), Some(&y.split)),
        );
    }
}

/// A split's salt: another salt reshuffles its users.
fn salt_change(path: &str, what: &Words, x: &Split, y: &Split, out: &mut Vec<FieldChange>) {
    if x.salt != y.salt {
        out.push(
            FieldChange::new(
                format!("{path}.salt"),
                what.clone()
                    .ours(" split salt ")
                    .then(salt_text(x.salt.as_deref()))
                    .ours(" → ")
                    .then(salt_text(y.salt.as_deref()))
                    .ours(" (users reshuffled)"),
            )
            .values(x.salt.as_ref(), y.salt.as_ref()),
        );
    }
}

/// A split's experiment: added or removed whole, changed field by field
/// (or whole, when no field says what changed).
fn experiment_changes(path: &str, what: &Words, x: &Split, y: &Split, out: &mut Vec<FieldChange>) {
    if x.experiment == y.experiment {
        return;
    }
    let text = what.clone().ours(match (&x.experiment, &y.experiment) {
        (None, Some(_)) => " experiment added",
        (Some(_), None) => " experiment removed",
        _ => " experiment changed",
    });
    let mut sub = Vec::new();
    json_changes(
        &format!("{path}.experiment"),
        &what.clone().ours(" experiment"),
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
