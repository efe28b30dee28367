//! Properties of evaluation and parsing, checked with proptest:
//!
//! (a) raising a rollout's percentage only adds users;
//! (b) split shares follow the configured weights;
//! (c) evaluation never panics, whatever the context;
//! (d) flag files survive serialize → parse unchanged (JSON and TOML).
//!
//! Case counts are chosen so the whole file runs in a few seconds in a debug
//! build; `PROPTEST_CASES` raises them for a longer soak.

use std::sync::LazyLock;

use crate::support::props::{ALL_OPS, cases};
use crate::support::rulesets::compile_file;
use hotswap_flags_core::eval::bucket::{BUCKETS, bucket_for};
use hotswap_flags_core::eval::{AttrValue, EvalEnv, FixedRollouts};
use hotswap_flags_core::model::{
    AttrCondition, BucketingMode, Check, Compare, Condition, DurationSpec, Experiment, ExpiryDate,
    Flag, FlagFile, FlagKind, FlagType, Health, MetricsShorthand, NoData, Op, Operands, Rollout,
    Rule, Segment, Serve, Split, Stage, Strategy as Plan, TimeWindow,
};
use hotswap_flags_core::parse::{Format, from_node, parse_document};
use hotswap_flags_core::ruleset::Ruleset;
use hotswap_flags_core::{Context, EvalError, Reason};
use indexmap::IndexMap;
use jiff::Timestamp;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn at(threshold: u32) -> EvalEnv<'static, FixedRollouts> {
    let rollouts: &'static FixedRollouts = Box::leak(Box::new(FixedRollouts(threshold)));
    EvalEnv {
        now: Timestamp::UNIX_EPOCH,
        rollouts,
    }
}

// ------------------------------------------------------------ (a) monotone rollouts

static CANARY: LazyLock<Ruleset> = LazyLock::new(|| {
    compile_file(
        "canary.yaml",
        "
flags:
  canary:
    type: boolean
    variants: {on: true, off: false}
    default: off
    rollout:
      strategy: canary
      serve: on
      stages:
        - {percentage: 10, duration: 1h}
        - {percentage: 30, duration: 2h}
        - {percentage: 50, duration: 4h}
        - {percentage: 100}
  by-org:
    type: string
    variants: {old: old, new: new}
    default: old
    bucketBy: org
    rollout: {strategy: linear, serve: new, from: 0, to: 100, over: 1h, salt: org-ramp}
",
    )
});

fn unit_key() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(Value::String),
        "[a-z]{1,8}-[0-9]{1,6}".prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
    ]
}

fn inside(flag: &str, c: &Context, threshold: u32) -> bool {
    let ev = CANARY.evaluate(flag, c, &at(threshold)).unwrap();
    let outcome = ev.rollout.expect("no rules: the rollout is consulted");
    assert_eq!(outcome.inside, ev.reason == Reason::Rollout);
    outcome.inside
}

proptest! {
    #![proptest_config(cases(512))]

    /// A key inside at threshold t is inside at every t' > t, and the line
    /// between inside and outside is its bucket.
    #[test]
    fn raising_the_percentage_only_adds_users(
        key in unit_key(),
        t in 0u32..=BUCKETS,
        more in prop::collection::vec(0u32..=BUCKETS, 1..6),
    ) {
        let c = Context::from_json(json!({ "targetingKey": key.clone() })).unwrap();
        let b = CANARY
            .evaluate("canary", &c, &at(BUCKETS))
            .unwrap()
            .rollout
            .unwrap()
            .bucket
            .expect("a key buckets");
        prop_assert!(b < BUCKETS);
        let was_inside = inside("canary", &c, t);
        prop_assert_eq!(was_inside, b < t);
        for extra in more {
            let t2 = t.saturating_add(extra).min(BUCKETS);
            if was_inside {
                prop_assert!(inside("canary", &c, t2), "left the rollout going from {} to {}", t, t2);
            }
        }
        prop_assert!(inside("canary", &c, BUCKETS));
        prop_assert!(!inside("canary", &c, 0));
        // The same for a custom salt and bucketing attribute.
        let c = Context::from_json(json!({ "targetingKey": "x", "org": key })).unwrap();
        let was_inside = inside("by-org", &c, t);
        for t2 in [t + 1, t.saturating_mul(2), BUCKETS] {
            if was_inside {
                prop_assert!(inside("by-org", &c, t2.min(BUCKETS)));
            }
        }
    }
}

// ------------------------------------------------------------ (b) split shares

fn weight() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(0.0),
        3 => (1u32..=100).prop_map(f64::from),
        3 => (1u32..=10_000).prop_map(|w| f64::from(w) / 100.0),
    ]
}

proptest! {
    #![proptest_config(cases(8))]

    /// Over 100,000 keys each variant's share is within one percentage point
    /// of its weight's share (zero weights get nobody).
    #[test]
    fn split_shares_follow_the_weights(
        weights in prop::collection::vec(weight(), 2..=5)
            .prop_filter("one weight above 0", |w| w.iter().any(|x| *x > 0.0)),
        salt in "[a-z][a-z0-9-]{0,11}",
    ) {
        let split: Map<String, Value> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| (format!("v{i}"), json!(w)))
            .collect();
        let variants: Map<String, Value> =
            (0..weights.len()).map(|i| (format!("v{i}"), json!(i))).collect();
        let doc = json!({"flags": {"split": {
            "type": "integer",
            "variants": variants,
            "default": {"split": split, "salt": salt},
            "offVariant": "v0"
        }}});
        let rs = compile_file("split.json", &doc.to_string());
        let id = rs.flag_id("split").unwrap();
        const N: usize = 100_000;
        let mut counts = vec![0usize; weights.len()];
        let mut c = Context::new();
        for i in 0..N {
            c.insert("targetingKey", Value::from(i)).unwrap();
            let ev = rs.evaluate_id(id, &c, &at(0)).unwrap();
            prop_assert_eq!(ev.reason, Reason::Split);
            counts[usize::from(ev.variant)] += 1;
        }
        let total: f64 = weights.iter().sum();
        for (i, (w, n)) in weights.iter().zip(&counts).enumerate() {
            let expected = w / total;
            let share = *n as f64 / N as f64;
            if *w == 0.0 {
                prop_assert_eq!(*n, 0, "zero-weight v{} was served", i);
            }
            prop_assert!(
                (share - expected).abs() <= 0.01,
                "v{}: weight share {:.4}, served {:.4} ({:?})", i, expected, share, counts
            );
        }
    }
}

// ------------------------------------------------------------ (c) no panics

/// Conditions covering every operator, segments, combinators and time.
const CONDITIONS: &[&str] = &[
    "{attr: a, op: eq, value: x}",
    "{attr: a, op: eq, values: [x, 30, true, 1.5]}",
    "{attr: n, op: neq, value: 3}",
    "{attr: country, op: in, values: [DE, FR]}",
    "{attr: country, op: not_in, values: [DE, FR]}",
    "{attr: tags, op: contains, value: beta}",
    "{attr: tags, op: contains, values: [3, true, x]}",
    "{attr: email, op: starts_with, value: admin}",
    "{attr: email, op: ends_with, values: ['@example.com', '@example.org']}",
    r"{attr: a, op: matches, value: '^(?i)[a-z]+-\d{1,3}$'}",
    "{attr: n, op: gt, value: 18}",
    "{attr: n, op: gte, values: [0, -1.5]}",
    "{attr: a, op: lt, value: 1e10}",
    "{attr: a, op: lte, value: -3}",
    "{attr: version, op: semver_eq, value: '2.4.0'}",
    "{attr: version, op: semver_gt, value: '1.0.0-rc.1'}",
    "{attr: version, op: semver_gte, value: 'v2.0.0'}",
    "{attr: version, op: semver_lt, value: '10.0.0'}",
    "{attr: version, op: semver_lte, values: ['1.2.3', '3.2.1+b']}",
    "{attr: t, op: before, value: '2025-01-01T00:00:00Z'}",
    "{attr: t, op: after, value: '2024-01-01T00:00:00+05:00'}",
    "{attr: a, op: exists}",
    "{attr: targetingKey, op: matches, value: '^u-'}",
    "{attr: userId, op: exists}",
    "{segment: staff}",
    "{segment: nested}",
    "{not: {segment: beta}}",
    "{all: [{attr: a, op: exists}, {any: [{attr: n, op: gt, value: 1}, {not: {attr: b, op: eq, value: false}}]}]}",
    "{time: {after: '2025-12-01T00:00:00', before: '2026-01-01T00:00:00', timezone: America/New_York}}",
    "{time: {before: '2030-01-01T00:00:00Z'}}",
];

static EVERYTHING: LazyLock<Ruleset> = LazyLock::new(|| {
    let mut yaml = String::from(
        "
segments:
  staff:
    keys: [u-1, '7', '1.5']
  beta:
    when: {attr: role, op: eq, value: beta}
  nested:
    keys: [acct-9]
    when: {any: [{segment: staff}, {all: [{segment: beta}, {not: {attr: a, op: exists}}]}]}
flags:
  static: {type: boolean, variants: {on: true}, default: on}
  off:
    type: object
    variants: {a: {x: 1}, b: {y: [null]}}
    default: {split: {a: 1, b: 2}}
    enabled: false
    offVariant: b
  split-n:
    type: float
    variants: {lo: 0.5, hi: 1e300, zero: 0}
    default: {split: {lo: 1.5, hi: 2.5, zero: 0}, salt: s}
    offVariant: lo
    bucketBy: n
  canary:
    type: boolean
    variants: {on: true, off: false}
    default: {split: {on: 1, off: 3}}
    offVariant: off
    rules:
      - {name: staff, when: {segment: staff}, serve: on}
    rollout: {strategy: canary, serve: on, stages: [{percentage: 10, duration: 1h}, {percentage: 100}]}
  linear:
    type: integer
    variants: {one: 1, two: 2}
    default: one
    bucketBy: a
    rollout: {strategy: linear, serve: two, from: 5, to: 90, over: 2h, step: 5}
  direct: {type: string, variants: {x: x, y: y}, default: x, rollout: {strategy: direct, serve: y}}
  scheduled:
    type: string
    variants: {x: x, y: y}
    default: x
    rollout: {strategy: scheduled, serve: y, start: '2025-01-01T00:00:00', end: '2026-01-01T00:00:00', timezone: Europe/Berlin}
  by-segment:
    type: string
    variants: {x: x, y: y}
    default: {split: {x: 1, y: 1}}
    offVariant: x
    rollout: {strategy: segment, serve: y, segments: [beta, nested]}
",
    );
    for (i, when) in CONDITIONS.iter().enumerate() {
        yaml += &format!(
            "  cond-{i}:\n    type: string\n    variants: {{hit: hit, miss: miss, s1: s1, s2: s2}}\n    default: miss\n    rules:\n      - name: r\n        when: {when}\n        serve: hit\n      - name: split\n        when: {{not: {when}}}\n        serve: {{split: {{s1: 1, s2: 1}}}}\n"
        );
    }
    compile_file("everything.yaml", &yaml)
});

fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "x",
            "X",
            "30",
            " 30 ",
            "1.5",
            "-3",
            "1e10",
            "1e400",
            "NaN",
            "inf",
            "-0",
            "true",
            "false",
            "beta",
            "u-1",
            "7",
            "acct-9",
            "DE",
            "2.4.0",
            "v2.0.0",
            "1.0.0-rc.1",
            "3.2.1+b",
            "10.0.0",
            "2.4",
            "2025-01-01T00:00:00Z",
            "2024-12-31T23:59:59-08:00",
            "2025-13-45T99:00:00Z",
            "admin@example.com",
            "abc-12",
            "\u{0}",
            "🚀",
            "e\u{301}",
        ])
        .prop_map(str::to_owned),
        any::<String>(),
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // non-finite becomes null
        prop::sample::select(vec![0.0, -0.0, 1.5, 18.0, 1e15, 1e16, -1e300, 1735689600.5])
            .prop_map(Value::from),
        interesting_string().prop_map(Value::String),
    ]
}

fn attr_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "a", "b", "n", "t", "country", "tags", "email", "version", "role", "targetingKey",
            "userId",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((attr_name(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Mostly objects with the attributes the ruleset looks at; sometimes
/// anything at all.
fn context_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => json_value(),
        4 => prop::collection::vec((attr_name(), json_value()), 0..10)
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
    ]
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    // 1970 … 2100, plus the edges of what jiff represents.
    prop_oneof![
        (0i64..4_102_444_800).prop_map(|s| Timestamp::from_second(s).unwrap()),
        Just(Timestamp::MIN),
        Just(Timestamp::MAX),
    ]
}

proptest! {
    #![proptest_config(cases(1000))]

    /// Whatever the context, evaluation returns a variant of the flag or
    /// TARGETING_KEY_MISSING (only when the bucketing attribute is unusable).
    #[test]
    fn evaluation_never_panics(
        value in context_json(),
        now in timestamp(),
        threshold in 0u32..=BUCKETS + 10,
    ) {
        let Ok(c) = Context::from_json(value.clone()) else {
            // Not an object, or a targetingKey/userId that is not a string
            // or number: refused up front, which is fine.
            return Ok(());
        };
        let rollouts = FixedRollouts(threshold);
        let env = EvalEnv { now, rollouts: &rollouts };
        let rs = &*EVERYTHING;
        for flag in rs.flags() {
            let unit_usable = c
                .get(flag.bucket_by.name())
                .is_some_and(|v| matches!(v, AttrValue::Str(_) | AttrValue::Num(_)));
            match rs.evaluate(&flag.key, &c, &env) {
                Ok(ev) => {
                    prop_assert!(flag.variants.iter().any(|v| &v.value == ev.value()));
                    prop_assert!(!ev.detail().to_string().is_empty());
                    if ev.reason == Reason::Split || ev.reason == Reason::Rollout
                        && ev.rollout.and_then(|r| r.bucket).is_some()
                    {
                        prop_assert!(unit_usable, "{} bucketed without a key", flag.key);
                    }
                }
                Err(EvalError::TargetingKeyMissing) => {
                    prop_assert!(!unit_usable, "{}: key missing although {:?} is usable", flag.key, c.get(flag.bucket_by.name()));
                }
                Err(e) => prop_assert!(false, "{}: {e}", flag.key),
            }
        }
        prop_assert_eq!(
            rs.evaluate("no-such-flag", &c, &env).err(),
            Some(EvalError::FlagNotFound)
        );
    }

    /// Any targetingKey type: strings and numbers are keys, everything else
    /// is refused when the context is built, never during evaluation.
    #[test]
    fn any_targeting_key_type(key in json_value(), alias in any::<bool>(), extra in json_value()) {
        let name = if alias { "userId" } else { "targetingKey" };
        let value = json!({ name: key.clone(), "a": extra });
        match Context::from_json(value) {
            Ok(c) => {
                prop_assert!(key.is_null() || key.is_string() || key.is_number());
                prop_assert_eq!(c.targeting_key().is_some(), !key.is_null());
                let env = at(50_000);
                for flag in EVERYTHING.flags() {
                    let r = EVERYTHING.evaluate(&flag.key, &c, &env);
                    prop_assert!(matches!(r, Ok(_) | Err(EvalError::TargetingKeyMissing)));
                }
            }
            Err(_) => prop_assert!(!(key.is_null() || key.is_string() || key.is_number())),
        }
    }
}

/// Buckets of a few fixed contexts, so (c) is not vacuous about keys.
#[test]
fn synthetic_ruleset_buckets_numbers_in_json_form() {
    let rs = &*EVERYTHING;
    let env = at(0);
    for (n, text) in [(json!(7), "7"), (json!(1.5), "1.5"), (json!(-2), "-2")] {
        let c = Context::from_json(json!({"n": n})).unwrap();
        let ev = rs.evaluate("split-n", &c, &env).unwrap();
        assert_eq!(ev.split_bucket, Some(bucket_for("s", text)));
    }
}

// ------------------------------------------------------------ (d) round trips

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z][a-z0-9-]{0,10}",
        1 => prop::sample::select(vec!["on", "off", "true", "1", "null", "a.b", "with space", "ü", "🚀"])
            .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~]{0,20}",
        1 => any::<String>(),
        1 => prop::sample::select(vec!["", "line\nbreak", "tab\t\"quote\"", "'single'", "\\", "# not a comment"])
            .prop_map(str::to_owned),
    ]
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (-100_000i32..100_000).prop_map(|i| f64::from(i) / 100.0),
        prop::sample::select(vec![0.0, -0.0, 1.0, 100.0, 1e-300, 1e300, 0.1]),
    ]
}

/// Any JSON value the file formats carry; integers stay within i64.
fn model_value(allow_null: bool) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        finite_f64().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    let leaf = if allow_null {
        prop_oneof![1 => Just(Value::Null), 8 => leaf].boxed()
    } else {
        leaf.boxed()
    };
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((name(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn typed_value(kind: FlagType) -> BoxedStrategy<Value> {
    match kind {
        FlagType::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        FlagType::String => text().prop_map(Value::String).boxed(),
        FlagType::Integer => any::<i64>().prop_map(Value::from).boxed(),
        FlagType::Float => finite_f64().prop_map(Value::from).boxed(),
        FlagType::Object => prop::collection::vec((name(), model_value(true)), 0..4)
            .prop_map(|kv| Value::Object(kv.into_iter().collect()))
            .boxed(),
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop::sample::select(ALL_OPS.to_vec())
}

fn operands() -> impl Strategy<Value = Operands> {
    prop_oneof![
        1 => Just(Operands::None),
        // `value: null` reads back as no value; a single operand is never null.
        3 => model_value(false).prop_map(Operands::One),
        3 => prop::collection::vec(model_value(true), 0..4).prop_map(Operands::Many),
    ]
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop::option::of(s).boxed()
}

fn time_window() -> impl Strategy<Value = TimeWindow> {
    (opt(text()), opt(text()), opt(text())).prop_map(|(after, before, timezone)| TimeWindow {
        after,
        before,
        timezone,
    })
}

fn condition() -> impl Strategy<Value = Condition> {
    let leaf = prop_oneof![
        4 => (name(), op(), operands())
            .prop_map(|(attr, op, operands)| Condition::Attr(AttrCondition { attr, op, operands })),
        1 => name().prop_map(Condition::Segment),
        1 => time_window().prop_map(Condition::Time),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Condition::All),
            prop::collection::vec(inner.clone(), 0..3).prop_map(Condition::Any),
            inner.prop_map(|c| Condition::Not(Box::new(c))),
        ]
    })
}

fn duration() -> impl Strategy<Value = DurationSpec> {
    prop::sample::select(vec![
        "1h", "90m", "30s", "1h30m", "PT1H", "PT2H30M", "P1D", "0s", "2d",
    ])
    .prop_map(|s| s.parse::<DurationSpec>().unwrap())
}

fn experiment() -> impl Strategy<Value = Experiment> {
    (
        opt(text()),
        opt(name()),
        opt(finite_f64()),
        opt(finite_f64()),
        opt(text()),
    )
        .prop_map(
            |(hypothesis, control, minimum_detectable_effect, alpha, conversions)| Experiment {
                hypothesis,
                control,
                minimum_detectable_effect,
                alpha,
                conversions,
            },
        )
}

fn serve(variants: Vec<String>) -> impl Strategy<Value = Serve> {
    let pick = prop::sample::select(variants.clone());
    let split = (
        prop::collection::vec((prop::sample::select(variants), finite_f64()), 0..5),
        opt(text()),
        opt(experiment()),
    )
        .prop_map(|(weights, salt, experiment)| {
            Serve::Split(Split {
                split: weights.into_iter().collect(),
                salt,
                bucket_by: None,
                experiment,
            })
        });
    prop_oneof![
        2 => pick.prop_map(Serve::Variant),
        1 => split,
        // names that are not variants parse just the same
        1 => name().prop_map(Serve::Variant),
    ]
}

fn health() -> impl Strategy<Value = Health> {
    let threshold = (name(), text(), opt(finite_f64()), opt(finite_f64()))
        .prop_map(|(name, query, max, min)| Check::threshold(name, query, max, min));
    let comparison = (
        name(),
        (opt(name()), text(), text()),
        (opt(finite_f64()), opt(finite_f64()), opt(finite_f64())),
    )
        .prop_map(
            |(name, (baseline, failures, total), (tolerance, alpha, min_samples))| Check {
                compare: Some(Compare::Baseline),
                baseline,
                failures: Some(failures),
                total: Some(total),
                tolerance,
                alpha,
                min_samples,
                query: None,
                ..Check::threshold(name, "", None, None)
            },
        );
    let check = prop_oneof![3 => threshold, 1 => comparison];
    (
        opt(duration()),
        opt(any::<u32>()),
        opt(prop::sample::select(vec![
            NoData::Fail,
            NoData::Pause,
            NoData::Ignore,
        ])),
        prop::collection::vec(check, 0..3),
    )
        .prop_map(|(interval, failure_limit, no_data, checks)| Health {
            interval,
            failure_limit,
            no_data,
            checks,
        })
}

fn rollout(variants: Vec<String>) -> impl Strategy<Value = Rollout> {
    let strategy = prop::sample::select(vec![
        Plan::Direct,
        Plan::Canary,
        Plan::Linear,
        Plan::Scheduled,
        Plan::Segment,
    ]);
    let stage = (finite_f64(), opt(duration())).prop_map(|(percentage, duration)| Stage {
        percentage,
        duration,
    });
    let metrics = (opt(finite_f64()), opt(finite_f64())).prop_map(|(e, l)| MetricsShorthand {
        error_rate_threshold: e,
        latency_p99_threshold: l,
    });
    (
        (strategy, prop::sample::select(variants), opt(text())),
        prop::collection::vec(stage, 0..5),
        (
            opt(finite_f64()),
            opt(finite_f64()),
            opt(duration()),
            opt(finite_f64()),
        ),
        (opt(text()), opt(text()), opt(text())),
        prop::collection::vec(name(), 0..3),
        (opt(health()), opt(metrics), any::<bool>()),
    )
        .prop_map(
            |(
                (strategy, serve, salt),
                stages,
                (from, to, over, step),
                (start, end, timezone),
                segments,
                (health, metrics, rollback_on_error),
            )| {
                // Each strategy with its own fields, as a user writes it.
                let mut r = Rollout {
                    strategy,
                    serve,
                    salt,
                    stages: None,
                    from: None,
                    to: None,
                    over: None,
                    step: None,
                    start: None,
                    end: None,
                    timezone: None,
                    segments: None,
                    health,
                    metrics,
                    rollback_on_error,
                };
                match strategy {
                    Plan::Direct => {}
                    Plan::Canary => r.stages = Some(stages),
                    Plan::Linear => (r.from, r.to, r.over, r.step) = (from, to, over, step),
                    Plan::Scheduled => (r.start, r.end, r.timezone) = (start, end, timezone),
                    Plan::Segment => r.segments = Some(segments),
                }
                r
            },
        )
}

/// `owner`, `kind` and `expires`, each present or not.
fn lifecycle() -> impl Strategy<Value = (Option<String>, Option<FlagKind>, Option<ExpiryDate>)> {
    (
        opt(prop::sample::select(vec![
            "@alice".to_owned(),
            "@acme/payments".to_owned(),
            "ops@example.com".to_owned(),
        ])),
        opt(prop::sample::select(FlagKind::ALL.to_vec())),
        opt((2020i16..2040, 1i8..=12, 1i8..=28)
            .prop_map(|(y, m, d)| ExpiryDate(jiff::civil::date(y, m, d)))),
    )
}

fn flag() -> impl Strategy<Value = Flag> {
    prop::sample::select(vec![
        FlagType::Boolean,
        FlagType::String,
        FlagType::Integer,
        FlagType::Float,
        FlagType::Object,
    ])
    .prop_flat_map(|kind| {
        (
            Just(kind),
            prop::collection::vec((name(), typed_value(kind)), 1..5),
        )
    })
    .prop_flat_map(|(kind, variants)| {
        let variants: IndexMap<String, Value> = variants.into_iter().collect();
        let names: Vec<String> = variants.keys().cloned().collect();
        let rule = (name(), condition(), serve(names.clone()))
            .prop_map(|(name, when, serve)| Rule { name, when, serve });
        (
            Just(kind),
            Just(variants),
            opt(text()),
            serve(names.clone()),
            any::<bool>(),
            opt(prop::sample::select(names.clone())),
            opt(name()),
            prop::collection::vec(rule, 0..4),
            (
                opt(rollout(names)),
                lifecycle(),
                any::<bool>(),
                opt(prop::sample::select(BucketingMode::ALL.to_vec())),
            ),
        )
    })
    .prop_map(
        |(
            kind,
            variants,
            description,
            default,
            enabled,
            off_variant,
            bucket_by,
            rules,
            (rollout, (owner, lifecycle, expires), client_side, bucketing),
        )| {
            Flag {
                description,
                kind,
                variants,
                default,
                enabled,
                off_variant,
                bucket_by,
                bucketing,
                rules,
                rollout,
                owner,
                lifecycle,
                expires,
                client_side,
                metadata: None,
            }
        },
    )
}

fn segment() -> impl Strategy<Value = Segment> {
    (
        opt(text()),
        opt(condition()),
        opt(prop::collection::vec(name(), 0..4)),
    )
        .prop_map(|(description, when, keys)| Segment {
            description,
            when,
            keys,
        })
}

fn flag_file() -> impl Strategy<Value = FlagFile> {
    (
        opt(text()),
        prop::collection::vec((name(), flag()), 0..4),
        prop::collection::vec((name(), segment()), 0..3),
    )
        .prop_map(|(schema, flags, segments)| FlagFile {
            schema,
            flags: flags.into_iter().collect(),
            segments: segments.into_iter().collect(),
        })
}

fn contains_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => items.iter().any(contains_null),
        Value::Object(map) => map.values().any(contains_null),
        _ => false,
    }
}

fn reparse(text: &str, format: Format) -> FlagFile {
    let node = parse_document(text, format)
        .unwrap_or_else(|e| panic!("{format} did not parse: {e}\n{text}"));
    from_node::<FlagFile>(&node)
        .unwrap_or_else(|e| panic!("{format} did not deserialize: {e} at {}\n{text}", e.path()))
}

proptest! {
    #![proptest_config(cases(500))]

    /// serialize → parse_document → from_node gives back the same model, in
    /// JSON always and in TOML when the document has no null (TOML has none).
    #[test]
    fn flag_files_round_trip(file in flag_file()) {
        let json = serde_json::to_string_pretty(&file).unwrap();
        let back = reparse(&json, Format::Json);
        prop_assert_eq!(&back, &file, "JSON:\n{}", json);
        // And once more: parsing what we parsed is stable.
        let again = serde_json::to_string_pretty(&back).unwrap();
        prop_assert_eq!(&again, &json);

        let as_value = serde_json::to_value(&file).unwrap();
        if !contains_null(&as_value) {
            let toml = toml::to_string(&file).unwrap_or_else(|e| panic!("toml: {e}\n{json}"));
            let back = reparse(&toml, Format::Toml);
            prop_assert_eq!(&back, &file, "TOML:\n{}", toml);
        }
    }
}
