//! Hostile strings through every output for people (docs/security.md,
//! "Output"): every name, value, label, file name, message and error an
//! output quotes is drawn from backticks, newlines, `<`, `|`, `@`, `](`,
//! HTML, ESC, OSC 8 links and bidi controls, and each output is rendered in
//! process, 10,000 cases a test:
//!
//! - Markdown (`diff --format markdown`, `stale --format markdown`, the
//!   `retire` commit message) is parsed with pulldown-cmark (GitHub's
//!   extensions on) and must have the structure the same output has for
//!   plain names: no HTML, link, image, heading, list item, table cell,
//!   emphasis or line break the input made; no text outside code with an
//!   @mention, an e-mail address or a URL; no control character anywhere.
//! - Terminal output (`diff`, `validate`, `stale`, `eval`, `rollout
//!   status`, one rollout and the list) must hold no control character but
//!   the newline, fit the width it was given, and show each identifier
//!   whole (README, "Output").

use std::sync::LazyLock;

use hotswap_flags_client::wire::{CheckOutcome, CheckResult, Phase, RolloutStatus};
use hotswap_flags_core::diagnostic::{KeyPath, Pos};
use hotswap_flags_core::escape::{Words, controls, is_hazard};
use hotswap_flags_core::model::{Flag, Segment, Strategy as RolloutStrategy};
use hotswap_flags_core::{Context, Diagnostic, EvalEnv};
use hotswap_flags_gitops::diff::{
    self, Change, ChangeType, EnvDiff, Invalid, Kind, Moved, Policy, Presence, RepoDiff,
    VariantShare, fields,
};
use hotswap_flags_gitops::lifecycle::evidence::{EnvEvidence, FlagEvidence};
use hotswap_flags_gitops::lifecycle::markdown;
use hotswap_flags_gitops::lifecycle::refs::{CodeRef, UndefinedRef};
use hotswap_flags_gitops::lifecycle::stale::{FlagReport, Searched, StaleReport, Summary};
use hotswap_flags_gitops::lifecycle::verdict::{Reason, Verdict};
use hotswap_flags_gitops::retire::{self, RetirePlan};
use proptest::prelude::*;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::{Value, json};
use unicode_width::UnicodeWidthStr;

/// Cases a test: each output goes through at least this many.
const CASES: u32 = 10_000;

/// What hostile strings are made of.
const FRAGMENTS: &[&str] = &[
    "`",
    "``",
    "```",
    "~~~",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    " ",
    "<",
    ">",
    "|",
    "@",
    "](",
    "[",
    "]",
    "(",
    ")",
    "\\",
    "*",
    "_",
    "#",
    "## ",
    "- ",
    "1. ",
    "> ",
    "!",
    "&",
    "&lt;",
    ":+1:",
    "[^1]",
    "<img/src=x onerror=alert(1)>",
    "</code>",
    "</details>",
    "<h1>LGTM</h1>",
    "[approve](https://evil.example)",
    "https://evil.example",
    "www.evil.example",
    "ops@evil.example",
    "@acme/security-team",
    "\u{1b}[2J",
    "\u{1b}]8;;https://evil.example\u{7}",
    "\u{1b}]8;;\u{1b}\\",
    "\u{9b}31m",
    "\u{9d}",
    "\u{7f}",
    "\u{0}",
    "\u{202e}",
    "\u{2066}",
    "\u{2069}",
    "\u{200f}",
    "\u{2028}",
    "off",
    "approve",
    "a",
    "bc",
    "team",
];

/// The longest a hostile string is once escaped: short enough that a
/// word of it fits the narrowest width tested.
const MAX_ESCAPED: usize = 36;

/// One hostile string: fragments (short words among them), cut to
/// [`MAX_ESCAPED`].
fn hostile() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 1..6).prop_map(|pieces| {
        let mut out = String::new();
        let mut escaped = 0;
        for c in pieces.concat().chars() {
            escaped += controls(c.encode_utf8(&mut [0; 4])).chars().count();
            if escaped > MAX_ESCAPED {
                break;
            }
            out.push(c);
        }
        if out.is_empty() { "`".to_owned() } else { out }
    })
}

/// `N` distinct hostile strings (each ends in `§` and its index).
fn names<const N: usize>() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(hostile(), N).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, h)| format!("{h}§{i}"))
            .collect()
    })
}

/// `N` plain names, for the structure hostile ones must not change.
fn plain(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("n{i}")).collect()
}

// ------------------------------------------------------------ markdown

/// The structure of a Markdown document (text and code reduced to markers)
/// and, apart, what its text and code hold.
struct Shape {
    events: Vec<String>,
    texts: Vec<String>,
    codes: Vec<String>,
}

fn shape(markdown: &str) -> Shape {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM;
    let mut shape = Shape {
        events: Vec::new(),
        texts: Vec::new(),
        codes: Vec::new(),
    };
    let mut in_code_block = false;
    for event in Parser::new_ext(markdown, options) {
        match &event {
            Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
            Event::End(TagEnd::CodeBlock) => in_code_block = false,
            _ => {}
        }
        let marker = match event {
            // GitHub links nothing in a code block, as in a code span.
            Event::Text(t) if in_code_block => {
                shape.codes.push(t.to_string());
                "text".to_owned()
            }
            Event::Text(t) => {
                shape.texts.push(t.to_string());
                "text".to_owned()
            }
            Event::Code(c) => {
                shape.codes.push(c.to_string());
                "code".to_owned()
            }
            other => format!("{other:?}"),
        };
        // Escapes split text where plain names do not.
        if !(marker == "text" && shape.events.last().is_some_and(|m| m == "text")) {
            shape.events.push(marker);
        }
    }
    shape
}

/// `hostile` has the structure `plain` has, and nothing the input holds
/// escapes its code.
fn assert_markdown(hostile: &str, plain: &Plain) -> Result<(), TestCaseError> {
    prop_assert!(
        !hostile.chars().any(|c| c != '\n' && is_hazard(c)),
        "a control character in the Markdown:\n{hostile}"
    );
    let h = shape(hostile);
    prop_assert_eq!(
        &h.events,
        &plain.shape.events,
        "the input changed the structure:\n{}\n--- plain:\n{}",
        hostile,
        plain.markdown
    );
    for t in &h.texts {
        let mention = t
            .char_indices()
            .any(|(i, c)| c == '@' && t[i + 1..].starts_with(|n: char| n.is_alphanumeric()));
        prop_assert!(
            !mention && !t.contains("://") && !t.contains("www."),
            "text outside code would link: {:?}\n{}",
            t,
            hostile
        );
    }
    // Text in a code block keeps its (our) line breaks.
    for c in h.codes.iter().chain(&h.texts) {
        prop_assert!(
            !c.chars().any(|c| c != '\n' && is_hazard(c)),
            "{:?}\n{}",
            c,
            hostile
        );
    }
    Ok(())
}

/// An output rendered for plain names, once, and its structure.
struct Plain {
    markdown: String,
    shape: Shape,
}

impl Plain {
    fn of(markdown: String) -> Self {
        Plain {
            shape: shape(&markdown),
            markdown,
        }
    }
}

// ------------------------------------------------------------ terminals

/// No control character but the newline; every line fits `width` (those
/// `unchecked` says are kept whole for editors); each identifier shows whole.
fn assert_terminal(
    text: &str,
    width: usize,
    identifiers: &[&str],
    unchecked: impl Fn(&str) -> bool,
) -> Result<(), TestCaseError> {
    prop_assert!(
        !text.chars().any(|c| c != '\n' && is_hazard(c)),
        "a control character reaches the terminal: {:?}",
        text
    );
    for line in text.lines().filter(|l| !unchecked(l)) {
        prop_assert!(
            UnicodeWidthStr::width(line) <= width,
            "wider than {}: {:?}\n{}",
            width,
            line,
            text
        );
    }
    for id in identifiers {
        let shown = controls(id);
        if !shown.contains(' ') {
            prop_assert!(text.contains(&*shown), "{:?} split:\n{}", shown, text);
        }
    }
    Ok(())
}

fn width() -> impl Strategy<Value = usize> {
    prop_oneof![Just(100), 60usize..=220]
}

/// JSON with every character outside printable ASCII escaped, which YAML
/// reads as JSON does.
fn json_ascii(v: &Value) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

// ---------------------------------------------------------------- diff

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// Two versions of a flag and of a segment whose every name and value is
/// one of `n`, changed in every field that is worded.
fn models(n: &[String]) -> (Flag, Flag, Segment, Segment) {
    let split = |a: &str, b: &str, wa: u32, salt: &str| json!({"split": {a: wa, b: 100 - wa}, "salt": salt});
    let a = json!({
        "type": "string",
        "variants": {&n[0]: &n[12], &n[1]: "y"},
        "default": &n[0],
        "owner": &n[3],
        "bucketBy": &n[5],
        "rules": [
            {"name": &n[7], "when": {"attr": &n[10], "op": "in", "values": [&n[12], &n[13]]}, "serve": &n[0]},
            {"name": &n[8], "when": {"attr": &n[11], "op": "eq", "value": &n[14]}, "serve": split(&n[0], &n[1], 50, &n[17])},
            {"name": &n[24], "when": {"segment": &n[19]}, "serve": &n[1]},
        ],
        "rollout": {"strategy": "canary", "serve": &n[0], "salt": &n[25], "stages": [{"percentage": 10, "duration": "1h"}, {"percentage": 100}]},
    });
    let b = json!({
        "type": "string",
        "variants": {&n[0]: &n[13], &n[2]: "z"},
        "default": &n[2],
        "enabled": false,
        "offVariant": &n[2],
        "clientSide": true,
        "owner": &n[4],
        "bucketBy": &n[6],
        "rules": [
            {"name": &n[8], "when": {"attr": &n[11], "op": "eq", "value": &n[15]}, "serve": split(&n[0], &n[2], 30, &n[18])},
            {"name": &n[7], "when": {"attr": &n[10], "op": "in", "values": [&n[12], &n[16]]}, "serve": &n[2]},
            {"name": &n[9], "when": {"not": {"attr": &n[26], "op": "starts_with", "value": &n[27]}}, "serve": &n[0]},
            {"name": &n[24], "when": {"segment": &n[20]}, "serve": &n[2]},
        ],
        "rollout": {"strategy": "segment", "serve": &n[2], "segments": [&n[20]]},
    });
    let sa =
        json!({"keys": [&n[28], &n[29]], "when": {"attr": &n[10], "op": "eq", "value": &n[30]}});
    let sb = json!({"keys": [&n[29], &n[31]], "when": {"attr": &n[11], "op": "ends_with", "value": &n[31]}});
    (parse(a), parse(b), parse(sa), parse(sb))
}

/// A diff of two environments naming everything after `n`: a flag
/// modified in every worded field, one added, one removed, a segment
/// changed, definitions moved; the other environment invalid.
fn repo_diff(n: &[String]) -> RepoDiff {
    let (a, b, sa, sb) = models(n);
    let share = |v: &str, users: u64| VariantShare {
        variant: v.to_owned(),
        users,
        share: users as f64 / 100.0,
    };
    let change = |kind, key: &str, change, fields| Change {
        kind,
        key: key.to_owned(),
        change,
        fields,
        affected_share: Some(0.25),
        affected_users: Some(25),
        exposure: vec![share(&n[0], 60), share(&n[2], 40)],
        unguarded: vec![share(&n[2], 40)],
        used_by: vec![n[21].clone(), n[32].clone()],
    };
    let diagnostic = Diagnostic::error(KeyPath::root().key("flags").key(&n[33]), &n[34])
        .in_file(&n[35])
        .at(Pos::new(3, 4))
        .with_hint(&n[36]);
    RepoDiff {
        base: n[37].clone(),
        head: n[38].clone(),
        users: 100,
        population: Words::new().ours("100 users from ").bare(&n[39]),
        synthetic_population: true,
        evaluated_at: "2026-01-01T00:00:00Z".into(),
        environments: vec![
            EnvDiff {
                env: n[22].clone(),
                protected: true,
                presence: Presence::Both,
                changes: vec![
                    change(
                        Kind::Flag,
                        &n[21],
                        ChangeType::Modified,
                        fields::flag_changes(&a, &b),
                    ),
                    change(
                        Kind::Flag,
                        &n[32],
                        ChangeType::Added,
                        fields::added_flag_fields(&b),
                    ),
                    change(Kind::Flag, &n[33], ChangeType::Removed, Vec::new()),
                    change(
                        Kind::Segment,
                        &n[19],
                        ChangeType::Modified,
                        fields::segment_changes(&sa, &sb),
                    ),
                ],
                moved: vec![Moved {
                    kind: Kind::Flag,
                    key: n[21].clone(),
                    from: n[35].clone(),
                    to: n[36].clone(),
                }],
                affected_share: Some(0.25),
                affected_users: Some(25),
                invalid: Vec::new(),
            },
            EnvDiff {
                env: n[23].clone(),
                protected: false,
                presence: Presence::Added,
                changes: Vec::new(),
                moved: Vec::new(),
                affected_share: None,
                affected_users: None,
                invalid: vec![Invalid {
                    side: "head",
                    revision: n[38].clone(),
                    errors: vec![diagnostic.to_string(), diagnostic.to_string()],
                }],
            },
        ],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// `flagctl diff --format markdown`.
    #[test]
    fn diff_markdown(n in names::<40>()) {
        static PLAIN: LazyLock<(Plain, usize)> = LazyLock::new(|| {
            let benign = repo_diff(&plain(40));
            let hits = diff::policy::check(&benign, &Policy::ALL);
            (Plain::of(diff::markdown::render(&benign, &hits)), hits.len())
        });
        let hostile = repo_diff(&n);
        let hits = diff::policy::check(&hostile, &Policy::ALL);
        prop_assert_eq!(hits.len(), PLAIN.1);
        assert_markdown(&diff::markdown::render(&hostile, &hits), &PLAIN.0)?;
    }

    /// `flagctl diff`.
    #[test]
    fn diff_text(n in names::<40>(), width in width()) {
        let hostile = repo_diff(&n);
        let hits = diff::policy::check(&hostile, &Policy::ALL);
        let text = crate::diff::render_table(&hostile, &hits, width);
        // Findings are kept whole for editors, as validate prints them.
        assert_terminal(&text, width, &[&n[21], &n[32], &n[33]], |l| l.starts_with("  "))?;
    }
}

// --------------------------------------------------------------- stale

fn stale_report(n: &[String]) -> StaleReport {
    let evidence = |key: &str, owner: Option<&str>, refs: Vec<CodeRef>| FlagEvidence {
        key: key.to_owned(),
        owner: owner.map(str::to_owned),
        kind: None,
        expires: None,
        envs: vec![EnvEvidence {
            env: n[0].clone(),
            defined: true,
            history: None,
            rollout: None,
            evaluations: None,
        }],
        code_count: Some(refs.len() as u64 + 150),
        code: Some(refs),
    };
    let code_ref = |file: &str, text: &str| CodeRef {
        file: file.to_owned(),
        line: 7,
        text: text.to_owned(),
    };
    let reasons = |variant: &str| {
        vec![
            Reason {
                code: "serves-one-variant",
                points_to: Verdict::Remove,
                text: Words::from("serves ")
                    .quoted(variant)
                    .ours(" to everyone in every environment since 2025-01-01 (300 days)"),
            },
            Reason {
                code: "evaluated-one-variant",
                points_to: Verdict::Review,
                text: Words::from("evaluated 12 times in the last 30 days, always ")
                    .quoted(variant),
            },
        ]
    };
    StaleReport {
        now: "2026-01-01T00:00:00Z".parse().unwrap(),
        older_than: n[1].clone(),
        envs: vec![n[0].clone(), n[2].clone()],
        src: vec![n[3].clone()],
        runtime: Some(n[4].clone()),
        evaluations_since: None,
        summary: Summary {
            remove: 1,
            review: 1,
            keep: 1,
        },
        flags: vec![
            FlagReport {
                evidence: evidence(
                    &n[5],
                    Some(&n[6]),
                    vec![code_ref(&n[7], &n[8]), code_ref(&n[9], &n[10])],
                ),
                verdict: Verdict::Remove,
                reasons: reasons(&n[11]),
            },
            FlagReport {
                evidence: evidence(&n[12], None, Vec::new()),
                verdict: Verdict::Review,
                reasons: reasons(&n[13]),
            },
            FlagReport {
                evidence: evidence(&n[14], Some(&n[15]), Vec::new()),
                verdict: Verdict::Keep,
                reasons: Vec::new(),
            },
        ],
        undefined: vec![UndefinedRef {
            key: n[16].clone(),
            at: code_ref(&n[17], &n[18]),
            suggestion: Some(n[19].clone()),
        }],
        undefined_count: 1_001,
        searched: Some(Searched {
            files: 3,
            bytes: 300,
            unreadable: 2,
            errors: vec![n[3].clone(), n[7].clone()],
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// `flagctl stale --format markdown` and `flagctl stale`.
    #[test]
    fn stale_markdown_and_table(n in names::<20>(), width in width()) {
        static PLAIN: LazyLock<Plain> = LazyLock::new(|| {
            Plain::of(markdown::render(&stale_report(&plain(20))))
        });
        let hostile = stale_report(&n);
        assert_markdown(&markdown::render(&hostile), &PLAIN)?;
        let text = crate::stale::render_table(&hostile, width);
        assert_terminal(&text, width, &[&n[5], &n[6], &n[12], &n[14], &n[15]], |_| false)?;
    }
}

// -------------------------------------------------------------- retire

fn retire_plan(n: &[String]) -> RetirePlan {
    RetirePlan {
        head: git2::Oid::ZERO_SHA1,
        prefix: String::new(),
        flag: "old-flag".into(),
        keep: n[0].clone(),
        value: json!(n[1]),
        envs: vec![n[2].clone(), n[3].clone()],
        edits: Vec::new(),
        references: vec![
            CodeRef {
                file: n[4].clone(),
                line: 3,
                text: n[5].clone(),
            },
            CodeRef {
                file: n[6].clone(),
                line: 9,
                text: n[7].clone(),
            },
        ],
        reference_count: 152,
        unreadable: 2,
        unreadable_paths: vec![n[4].clone(), n[8].clone()],
        src: vec![n[8].clone()],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// The commit message `flagctl retire` writes, which GitHub renders as
    /// Markdown.
    #[test]
    fn retire_commit_message(n in names::<9>()) {
        static PLAIN: LazyLock<Plain> =
            LazyLock::new(|| Plain::of(retire::message(&retire_plan(&plain(9)))));
        assert_markdown(&retire::message(&retire_plan(&n)), &PLAIN)?;
    }
}

// ------------------------------------------------------------ validate

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// `flagctl validate`: findings quoting hostile keys, files and hints,
    /// and environments named so.
    #[test]
    fn validate_text(n in names::<8>(), width in width()) {
        let diagnostic = |i: usize| {
            Diagnostic::error(KeyPath::root().key("flags").key(&n[i]), format!("flag key `{}` is invalid", n[i]))
                .in_file(&n[i + 1])
                .at(Pos::new(1, 3))
                .with_hint(&n[i + 2])
        };
        let report = crate::validate::Report {
            envs: vec![crate::validate::EnvSummary {
                name: n[6].clone(),
                flags: 3,
                segments: 1,
                unreadable: 1,
                errors: 2,
                warnings: 0,
            }],
            diagnostics: vec![diagnostic(0), diagnostic(3)],
        };
        let text = crate::validate::render_table(&report, false, width);
        // A finding is one line and its hint, whatever it quotes.
        prop_assert_eq!(text.lines().filter(|l| l.contains(": error: ")).count(), 2, "{}", text);
        prop_assert_eq!(text.lines().filter(|l| l.starts_with("    hint: ")).count(), 2, "{}", text);
        assert_terminal(&text, width, &[&n[6]], |l| l.contains(": error: ") || l.starts_with("    hint: "))?;
    }
}

// ---------------------------------------------------------------- eval

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// `flagctl eval`: variants, rules, values, the environment and the
    /// version named so.
    #[test]
    fn eval_text(n in names::<8>(), width in width()) {
        let flag = json!({"flags": {"checkout": {
            "type": "string",
            "variants": {&n[0]: &n[1], &n[2]: &n[3]},
            "default": &n[0],
            "owner": "@acme/checkout",
            "rules": [
                {"name": &n[4], "when": {"attr": "plan", "op": "eq", "value": &n[5]}, "serve": &n[2]},
                {"name": &n[6], "when": {"attr": "plan", "op": "eq", "value": "never"}, "serve": &n[0]},
            ],
        }}});
        let ruleset = hotswap_flags_core::testing::compile_yaml_as(&json_ascii(&flag), &n[7], &n[7]);
        let ctx = Context::from_json(json!({"targetingKey": "u1", "plan": &n[5]})).unwrap();
        let x = ruleset.explain("checkout", &ctx, &EvalEnv::now()).unwrap();
        prop_assert_eq!(x.evaluation.variant_name(), n[2].as_str());
        let text = crate::eval::render_table(&x, vec![("owner", "@acme/checkout".into())], width);
        prop_assert_eq!(text.lines().filter(|l| l.starts_with("  1. ")).count(), 1, "{}", text);
        assert_terminal(&text, width, &[&n[2], &n[3]], |_| false)?;
    }
}

// ------------------------------------------------------------- rollout

fn rollout(n: &[String], flag: &str) -> RolloutStatus {
    let at: jiff::Timestamp = "2026-01-01T10:00:00Z".parse().unwrap();
    let check = |name: &str, message: &str| CheckResult {
        name: name.to_owned(),
        value: Some(0.071),
        outcome: CheckOutcome::Fail,
        message: Some(message.to_owned()),
        query: String::new(),
        comparison: None,
        at,
    };
    RolloutStatus {
        flag: flag.to_owned(),
        strategy: RolloutStrategy::Canary,
        phase: Phase::Paused,
        stage: 1,
        stages: Some(3),
        percentage: 10.0,
        serve: n[1].clone(),
        started_at: at,
        stage_started_at: at,
        stage_ends_at: Some(at),
        window: None,
        checks_passed: 2,
        checks_failed: 1,
        failure_limit: 3,
        checks: vec![check(&n[2], &n[3]), check(&n[4], &n[5])],
        reason: Some(format!(
            "paused by {}: the check {} failed 3 times in a row, above the maximum of the rollout's health checks",
            n[6], n[2]
        )),
        spec_hash: String::new(),
        leader: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// `flagctl rollout status FLAG` and `flagctl rollout status`: what
    /// flagd answers, a steering token's subject in the reason included.
    #[test]
    fn rollout_status_text(n in names::<8>(), width in width()) {
        let one = crate::rollout::render_one(&rollout(&n, &n[0]), width);
        prop_assert_eq!(one.lines().filter(|l| l.starts_with("flag ")).count(), 1, "{}", one);
        assert_terminal(&one, width, &[&n[0], &n[1], &n[2], &n[4]], |_| false)?;
        let list = crate::rollout::render_list(&[rollout(&n, &n[0]), rollout(&n, &n[7])], width);
        assert_terminal(&list, width, &[&n[0], &n[7]], |_| false)?;
    }
}
