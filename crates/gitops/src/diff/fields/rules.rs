//! A flag's rules, matched by name: removed, added (at a position),
//! changed (condition and serve), reordered (first match wins).

use hotswap_flags_core::escape::Words;
use hotswap_flags_core::model::Rule;

use super::condition::{condition_changes, condition_text};
use super::serve::{serve_changes, serve_text};
use super::variants::names;
use super::{FieldChange, common_order};

/// A rule in one line: `` when `country in [DE]` serve on ``.
fn rule_text(r: &Rule) -> Words {
    Words::from("when ")
        .quoted(condition_text(&r.when))
        .ours(" serve ")
        .then(serve_text(&r.serve))
}

/// `` rule `eu` ``.
fn rule(name: &str) -> Words {
    Words::from("rule ").quoted(name)
}

/// Every difference between two lists of rules: the rules removed, then
/// in the new order each rule added or changed, then a new order of the
/// rules both hold.
pub(super) fn rules_changes(a: &[Rule], b: &[Rule], out: &mut Vec<FieldChange>) {
    for r in a {
        if !b.iter().any(|x| x.name == r.name) {
            out.push(
                FieldChange::new(
                    format!("rules[{}]", r.name),
                    rule(&r.name)
                        .ours(" removed (")
                        .then(rule_text(r))
                        .ours(")"),
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
                    rule(&r.name)
                        .ours(format!(" added at position {} (", i + 1))
                        .then(rule_text(r))
                        .ours(")"),
                )
                .values(None::<&Rule>, Some(r)),
            ),
            Some(old) => rule_changes(old, r, out),
        }
    }
    reorder_change(a, b, out);
}

/// One rule, before and after: its condition, then what it serves.
fn rule_changes(old: &Rule, new: &Rule, out: &mut Vec<FieldChange>) {
    let what = rule(&new.name);
    condition_changes(
        &format!("rules[{}].when", new.name),
        &what.clone().ours(" when"),
        &old.when,
        &new.when,
        out,
    );
    serve_changes(
        &format!("rules[{}].serve", new.name),
        &what,
        &old.serve,
        &new.serve,
        out,
    );
}

/// The rules both lists hold, in another order: which rule matches first
/// may change.
fn reorder_change(a: &[Rule], b: &[Rule], out: &mut Vec<FieldChange>) {
    let (common_a, common_b) = common_order(
        a.iter().map(|r| r.name.as_str()),
        b.iter().map(|r| r.name.as_str()),
    );
    if common_a != common_b {
        out.push(
            FieldChange::new(
                "rules",
                Words::from("rules reordered: ")
                    .then(names(&common_a))
                    .ours(" → ")
                    .then(names(&common_b))
                    .ours(" (first match wins)"),
            )
            .values(Some(&common_a), Some(&common_b)),
        );
    }
}
