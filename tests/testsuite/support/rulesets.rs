//! Compiling in-memory flag files, and the synthetic rulesets the
//! evaluation benchmark measures. `benches/eval.rs` includes this file by
//! `#[path]` so that the allocation test (`no_alloc`) checks the very
//! rulesets the benchmark times; it must depend on nothing else in the
//! support tree.

use std::hint::black_box;

use hotswap_flags_core::Context;
use hotswap_flags_core::eval::{EvalEnv, FixedRollouts};
use hotswap_flags_core::model::MetricsConfig;
use hotswap_flags_core::ruleset::{Ruleset, RulesetMeta};
use hotswap_flags_gitops::repo::load::load_files;

/// The version [`compile_file`] gives every ruleset.
pub const VERSION: &str = "v-test";

/// Compiles one in-memory flag file at `path` (environment `test`, version
/// [`VERSION`]), failing with every error and the text unless it is valid.
pub fn compile_file(path: &str, text: &str) -> Ruleset {
    let checked = load_files([(path.to_owned(), text.as_bytes().to_vec())]).check(
        &MetricsConfig::default(),
        RulesetMeta {
            env: "test".into(),
            version: VERSION.into(),
            source: format!("in-memory {path}"),
        },
    );
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n---\n{text}");
    checked.ruleset.expect("no errors, so a ruleset")
}

/// Compiles a flag file given as a JSON document, as [`compile_file`] does.
// benches/eval.rs, which includes this file, compiles YAML only.
#[allow(dead_code)]
pub fn compile_json(doc: &serde_json::Value) -> Ruleset {
    compile_file("flags.json", &serde_json::to_string_pretty(doc).unwrap())
}

/// An evaluation at `now` (RFC 3339) where every rollout's threshold is
/// `threshold` buckets, leaked to live as long as a test's rulesets.
#[allow(dead_code)]
pub fn fixed_env(now: &str, threshold: u32) -> EvalEnv<'static, FixedRollouts> {
    EvalEnv {
        now: now.parse().unwrap(),
        rollouts: Box::leak(Box::new(FixedRollouts(threshold))),
    }
}

/// The four flags the evaluation benchmark measures.
pub const FLAGS: &str = r#"
segments:
  beta-testers:
    when: { attr: role, op: eq, value: beta-tester }
flags:
  static-flag:
    type: boolean
    variants: { on: true, off: false }
    default: on
  three-rules-split:
    type: string
    variants: { a: A, b: B, c: C }
    default: a
    rules:
      - name: staff
        when: { attr: email, op: ends_with, value: "@example.com" }
        serve: b
      - name: beta
        when: { segment: beta-testers }
        serve: c
      - name: eu
        when: { attr: country, op: in, values: [DE, FR, IT, ES] }
        serve: { split: { a: 34, b: 33, c: 33 } }
  rollout-flag:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rollout:
      strategy: canary
      serve: on
      stages:
        - { percentage: 30, duration: 1h }
        - { percentage: 100 }
"#;

/// The five cases of the comparison with unleash-yggdrasil
/// (docs/performance.md): a static flag; four rules
/// that the benchmark context passes through to the last one's split; a
/// 10 % canary; a four-way split with its own salt. The benchmark context
/// is [`CONTEXT`].
pub const FIVE_CASES: &str = r#"
segments:
  gold-tier:
    when: { attr: tier, op: eq, value: gold }
flags:
  static:
    type: boolean
    variants: { on: true, off: false }
    default: on
  four-rules:
    type: string
    variants: { a: A, b: B, c: C, d: D }
    default: a
    rules:
      - name: staff
        when: { attr: email, op: ends_with, value: "@example.com" }
        serve: b
      - name: gold
        when: { segment: gold-tier }
        serve: c
      - name: paying-small
        when: { all: [ { not: { attr: plan, op: in, values: [trial, free] } }, { attr: seats, op: lt, value: 10 } ] }
        serve: d
      - name: eu-or-tiered
        when: { any: [ { attr: country, op: eq, value: FR }, { attr: tier, op: exists } ] }
        serve: { split: { a: 34, b: 33, c: 33 } }
  canary:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rollout:
      strategy: canary
      serve: on
      stages:
        - { percentage: 10, duration: 1h }
        - { percentage: 100 }
  split:
    type: string
    variants: { a: A, b: B, c: C, d: D }
    default: { split: { a: 25, b: 25, c: 25, d: 25 }, salt: split-2026-12 }
    offVariant: a
"#;

/// A four-way split and a 10 % canary per bucketing mode (docs/flag-format.md
/// §6, Bucketing modes), named `split-<mode>` and `canary-<mode>`: the
/// benchmark compares flagd's and Unleash's bucketing with ours on them.
pub fn bucketing_modes() -> String {
    let mut s = String::from("flags:\n");
    for mode in ["xxh3", "flagd-v1", "flagd-v2", "unleash"] {
        s.push_str(&format!(
            "  split-{mode}:\n    type: string\n    bucketing: {mode}\n    variants: {{ a: A, b: B, c: C, d: D }}\n    default: {{ split: {{ a: 25, b: 25, c: 25, d: 25 }}, salt: split-2026-12 }}\n    offVariant: a\n  canary-{mode}:\n    type: boolean\n    bucketing: {mode}\n    variants: {{ on: true, off: false }}\n    default: off\n    rollout:\n      strategy: canary\n      serve: on\n      stages:\n        - {{ percentage: 10, duration: 1h }}\n        - {{ percentage: 100 }}\n  pct-{mode}:\n    type: boolean\n    bucketing: {mode}\n    variants: {{ on: true, off: false }}\n    default: off\n    rules:\n      - {{ name: ten, when: {{ percentage: {{ value: 10 }} }}, serve: on }}\n"
        ));
    }
    s
}

/// The context of the five cases, as JSON: `targetingKey`, `plan`, `tier`,
/// `country`.
pub const CONTEXT: &str =
    r#"{"targetingKey": "u-123", "plan": "trial", "tier": "silver", "country": "DE"}"#;

/// [`CONTEXT`] built the way an embedder builds it, with the typed setters
/// (the values through `black_box`, so a benchmark cannot fold them).
pub fn build_context() -> Context {
    Context::new()
        .with_key(black_box("u-123"))
        .with_str("plan", black_box("trial"))
        .with_str("tier", black_box("silver"))
        .with_str("country", black_box("DE"))
}

/// A flag whose 20 rules all miss for the benchmark's context.
pub fn twenty_rules() -> String {
    let mut s = String::from(
        "  twenty-rules:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rules:\n",
    );
    for i in 0..20 {
        s.push_str(&format!(
            "      - name: r{i}\n        when: {{ attr: plan{i}, op: eq, value: gold }}\n        serve: on\n"
        ));
    }
    s
}

/// `n` flags, each with two rules and a split, in one file.
pub fn many_flags(n: usize) -> String {
    let mut s = String::from("flags:\n");
    for i in 0..n {
        s.push_str(&format!(
            "  flag-{i}:\n    type: string\n    variants: {{ a: A, b: B }}\n    default: {{ split: {{ a: 50, b: 50 }} }}\n    offVariant: a\n    rules:\n      - name: staff\n        when: {{ attr: email, op: ends_with, value: \"@example.com\" }}\n        serve: b\n      - name: version\n        when: {{ attr: appVersion, op: semver_gte, value: \"2.{i}.0\" }}\n        serve: a\n"
        ));
    }
    s
}

/// Flags that serve `$codeDefault` (docs/flag-format.md §5): as the
/// default and a rule's serve (`deferred`), and as the kill switch's
/// offVariant (`killed`), beside a flag that serves a value (`plain`).
// benches/eval.rs, which includes this file, benchmarks no code default.
#[allow(dead_code)]
pub const CODE_DEFAULTS: &str = r#"
flags:
  deferred:
    type: string
    variants: { new: "N" }
    default: $codeDefault
    metadata: { team: search }
    rules:
      - { name: staff, when: { attr: email, op: ends_with, value: "@example.com" }, serve: new }
      - { name: legacy, when: { attr: plan, op: eq, value: legacy }, serve: $codeDefault }
  killed:
    type: boolean
    variants: { on: true, off: false }
    default: on
    enabled: false
    offVariant: $codeDefault
  plain:
    type: integer
    variants: { three: 3 }
    default: three
"#;
