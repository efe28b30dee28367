//! Field-by-field comparison of two definitions, in the words a reviewer
//! reads: "rule `eu` split on 50 → 70 %", "default off → on", "rollout
//! stage 2 duration 2h → 30m".
//!
//! The wording follows the model (what users write), not the compiled form:
//! a duration reads as written, a weight as its share of the split.
//!
//! One part of a definition a module: `flag` and `segment` walk a
//! definition's fields in reading order, handing its parts to `variants`,
//! `serve` (a variant or a split), `condition`, `rules` and `rollout`;
//! `json` compares what has no wording of its own (health checks,
//! experiments), and `wording` holds the words for values (numbers, JSON
//! values, lists of names).

use hotswap_flags_core::escape::Words;
use serde::Serialize;
use serde_json::Value;

mod condition;
mod flag;
mod json;
mod rollout;
mod rules;
mod segment;
mod serve;
mod variants;
mod wording;

pub use condition::condition_text;
pub use flag::{added_flag_fields, flag_changes};
pub use rollout::rollout_text;
pub use segment::segment_changes;
pub use serve::serve_text;
pub use wording::{num, show};

/// One changed field of a flag or segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Where, in the definition: `default`, `rules[eu].serve`, `rollout.stages[1].duration`.
    pub path: String,
    /// The change in words; what the definitions hold kept apart from ours
    /// (plain text in JSON, code spans in Markdown).
    pub text: Words,
    /// The value before (absent when the field was added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after (absent when the field was removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

impl FieldChange {
    fn new(path: impl Into<String>, text: impl Into<Words>) -> Self {
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

/// Records `path` if it differs, worded "`what` BEFORE → AFTER" with each
/// side shown by `text` (absent sides are left out of the JSON values).
fn scalar_change<T: PartialEq + Serialize>(
    out: &mut Vec<FieldChange>,
    path: impl Into<String>,
    what: impl Into<Words>,
    (a, b): (Option<&T>, Option<&T>),
    text: impl Fn(Option<&T>) -> Words,
) {
    if a != b {
        let words = what
            .into()
            .ours(" ")
            .then(text(a))
            .ours(" → ")
            .then(text(b));
        out.push(FieldChange::new(path, words).values(a, b));
    }
}

/// A flag's or a segment's description: its text is not worded, only
/// that it changed.
fn description_change(a: Option<&String>, b: Option<&String>, out: &mut Vec<FieldChange>) {
    if a != b {
        out.push(FieldChange::new("description", "description changed").values(a, b));
    }
}

/// The names both lists hold, each list's in its own order: they differ
/// when those were reordered.
fn common_order<'n>(
    a: impl Iterator<Item = &'n str>,
    b: impl Iterator<Item = &'n str>,
) -> (Vec<&'n str>, Vec<&'n str>) {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.collect(), b.collect());
    let in_a = a.iter().filter(|n| b.contains(n)).copied().collect();
    let in_b = b.iter().filter(|n| a.contains(n)).copied().collect();
    (in_a, in_b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotswap_flags_core::model::Flag;
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
            .map(|c| c.text.to_string())
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
