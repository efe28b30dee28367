//! Conditions (`when`) in one line, and compared: an operand added to a
//! list, one value replaced by another, a whole condition rewritten.

use serde_json::Value;

use hotswap_flags_core::escape::Words;
use hotswap_flags_core::model::{AttrCondition, Condition, Operands};

use super::FieldChange;
use super::wording::{added_removed, show};

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
        Condition::Percentage(p) => {
            let mut text = format!("percentage {}%", p.value);
            if let Some(salt) = &p.salt {
                text.push_str(&format!(" salt {salt}"));
            }
            if let Some(by) = &p.bucket_by {
                text.push_str(&format!(" by [{}]", by.as_slice().join(", ")));
            }
            text
        }
        Condition::Flag(f) => format!("flag {} serves [{}]", f.key, f.variants.join(", ")),
    }
}

/// Two conditions compared: where both test the same attribute with the
/// same operator, the operands; in `all`/`any` of as many conditions and
/// in `not`, each part; otherwise the whole condition, before and after.
/// The condition is what the file holds: one quoted piece of the words.
pub(super) fn condition_changes(
    path: &str,
    what: &Words,
    a: &Condition,
    b: &Condition,
    out: &mut Vec<FieldChange>,
) {
    if a == b {
        return;
    }
    match (a, b) {
        (Condition::Attr(x), Condition::Attr(y)) if x.attr == y.attr && x.op == y.op => {
            let text = operands_change(what, x, y).unwrap_or_else(|| rewritten(what, a, b));
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
            let what = what.clone().ours(" not");
            condition_changes(&format!("{path}.not"), &what, x, y, out);
        }
        _ => out.push(
            FieldChange::new(path.to_owned(), rewritten(what, a, b)).values(Some(a), Some(b)),
        ),
    }
}

/// A whole condition replaced: `` rule `eu` when `a` → `b` ``.
fn rewritten(what: &Words, a: &Condition, b: &Condition) -> Words {
    what.clone()
        .ours(" ")
        .quoted(condition_text(a))
        .ours(" → ")
        .quoted(condition_text(b))
}

/// The operands of one attribute test, before (`x`) and after (`y`): one
/// value each (`value:`), `rule `ios` when `app semver_gte` 5.4.0 → 5.2.0`;
/// two lists, [`operand_list_change`]; `None` when the change is better
/// shown whole.
fn operands_change(what: &Words, x: &AttrCondition, y: &AttrCondition) -> Option<Words> {
    match (&x.operands, &y.operands) {
        (Operands::One(v), Operands::One(w)) => Some(
            attr_op(what, x)
                .ours(" ")
                .bare(show(v))
                .ours(" → ")
                .bare(show(w)),
        ),
        (Operands::Many(vs), Operands::Many(ws)) => operand_list_change(what, x, vs, ws),
        _ => None,
    }
}

/// Two operand lists (`values:`) as additions and removals:
/// `rule `eu` when `country in` + NL, − FR`; `None` when they hold the same
/// values (reordered, say).
fn operand_list_change(
    what: &Words,
    x: &AttrCondition,
    xs: &[Value],
    ys: &[Value],
) -> Option<Words> {
    let added: Vec<String> = ys.iter().filter(|v| !xs.contains(v)).map(show).collect();
    let removed: Vec<String> = xs.iter().filter(|v| !ys.contains(v)).map(show).collect();
    let parts = added_removed(&added, &removed);
    (!parts.is_empty()).then(|| attr_op(what, x).ours(" ").then(Words::join(parts, ", ")))
}

/// `` rule `eu` when `country in` ``.
fn attr_op(what: &Words, x: &AttrCondition) -> Words {
    what.clone()
        .ours(" ")
        .quoted(format!("{} {}", x.attr, x.op))
}
