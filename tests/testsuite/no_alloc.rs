//! The evaluation hot path must not allocate for a context that is already
//! parsed. A counting global allocator makes that claim testable.
//!
//! The allocator serves the whole test binary, so it counts per thread:
//! other tests running beside these (`cargo test` runs them in threads of
//! one process) cannot add to what a test measures on its own thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use hotswap_flags_core::eval::FixedRollouts;
use hotswap_flags_core::ruleset::{Ruleset, VariantId};
use hotswap_flags_core::{Context, EvalEnv};
use hotswap_flags_daemon::server::request::{Limits, context_from_body};
use serde_json::json;

use crate::support::rulesets::{
    CODE_DEFAULTS, CONTEXT, FIVE_CASES, FLAGS, bucketing_modes, build_context, compile_file,
    many_flags, twenty_rules,
};

struct Counting;

thread_local! {
    // Const-initialised and without a destructor, so reading it never
    // allocates (which would recurse into the allocator).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // A thread being torn down may have no counter left; it measures nothing.
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many allocations this thread has made so far.
fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn evaluation_does_not_allocate() {
    let ruleset = compile_file("flags.yaml", &format!("{}{}", FLAGS, twenty_rules()));
    let contexts = [
        json!({"targetingKey": "user-4711", "email": "a@elsewhere.org", "role": "customer", "country": "FR"}),
        json!({"targetingKey": "user-1", "email": "ana@example.com"}),
        json!({"targetingKey": 12345, "role": "beta-tester"}),
        json!({"userId": "u-9", "country": "DE", "plan3": "gold"}),
    ]
    .map(|v| Context::from_json(v).unwrap());
    let long_key = Context::new().with_key("k".repeat(400));
    let full = FixedRollouts(100_000);
    let env = EvalEnv {
        now: jiff::Timestamp::now(),
        rollouts: &full,
    };
    let flags = [
        "static-flag",
        "three-rules-split",
        "rollout-flag",
        "twenty-rules",
    ];

    let before = allocations();
    let mut served = 0usize;
    for ctx in contexts.iter().chain(std::iter::once(&long_key)) {
        for flag in flags {
            if let Ok(ev) = ruleset.evaluate(flag, ctx, &env) {
                served += usize::from(ev.variant) + 1;
            }
        }
    }
    let after = allocations();
    assert!(served > 0);
    assert_eq!(
        after - before,
        0,
        "evaluation allocated {} times",
        after - before
    );
}

/// The five cases the benchmark compares with yggdrasil, for their context
/// and for users spread over the split and the canary.
#[test]
fn five_cases_do_not_allocate() {
    let ruleset = compile_file("flags.yaml", FIVE_CASES);
    let mut contexts = vec![Context::from_json(serde_json::from_str(CONTEXT).unwrap()).unwrap()];
    contexts.extend((0..64).map(|i| {
        Context::from_json(json!({"targetingKey": format!("u-{i}"), "tier": "gold", "seats": 3}))
            .unwrap()
    }));
    let env = EvalEnv::now();

    let before = allocations();
    let mut variants = [0usize; 4];
    for ctx in &contexts {
        for flag in ["static", "four-rules", "canary", "split"] {
            let ev = ruleset.evaluate(flag, ctx, &env).unwrap();
            variants[usize::from(ev.variant)] += 1;
        }
    }
    let after = allocations();
    assert!(variants.iter().all(|n| *n > 0), "{variants:?}");
    assert_eq!(
        after - before,
        0,
        "evaluation allocated {} times",
        after - before
    );
}

/// Every bucketing mode (docs/flag-format.md §6, Bucketing modes) hashes
/// without allocating, for short keys, number keys and a key longer than
/// any stack buffer.
#[test]
fn bucketing_modes_do_not_allocate() {
    let ruleset = compile_file("flags.yaml", &bucketing_modes());
    let mut contexts: Vec<Context> = (0..64)
        .map(|i| Context::new().with_key(format!("u-{i}")))
        .collect();
    contexts.push(Context::from_json(json!({"targetingKey": 4711})).unwrap());
    contexts.push(Context::new().with_key("k".repeat(400)));
    let flags: Vec<String> = ["xxh3", "flagd-v1", "flagd-v2", "unleash"]
        .iter()
        .flat_map(|m| {
            [
                format!("split-{m}"),
                format!("canary-{m}"),
                format!("pct-{m}"),
            ]
        })
        .collect();
    let env = EvalEnv::now();

    let before = allocations();
    let mut inside = 0usize;
    for ctx in &contexts {
        for flag in &flags {
            let ev = ruleset.evaluate(flag, ctx, &env).unwrap();
            inside += usize::from(ev.variant);
        }
    }
    let after = allocations();
    assert!(inside > 0);
    assert_eq!(
        after - before,
        0,
        "evaluation allocated {} times",
        after - before
    );
}

/// An embedder's request: building a context of short strings with the
/// typed setters, then evaluating, allocates nothing either.
#[test]
fn building_a_context_does_not_allocate() {
    let ruleset = compile_file("flags.yaml", FIVE_CASES);
    let env = EvalEnv::now();

    let before = allocations();
    let ctx = build_context();
    let variant = ruleset.evaluate("split", &ctx, &env).unwrap().variant;
    let after = allocations();
    assert_eq!(after - before, 0, "allocated {} times", after - before);
    assert_same_context(&ruleset, &ctx, variant);
}

/// `ctx`, however it was built, is [`CONTEXT`] read through
/// `Context::from_json`, and the split served it `variant` as it serves that.
fn assert_same_context(ruleset: &Ruleset, ctx: &Context, variant: VariantId) {
    let expected = Context::from_json(serde_json::from_str(CONTEXT).unwrap()).unwrap();
    assert_eq!(*ctx, expected);
    let env = EvalEnv::now();
    assert_eq!(
        variant,
        ruleset.evaluate("split", &expected, &env).unwrap().variant
    );
}

/// flagd's request path: a context read straight from an OFREP body of
/// short names and strings (`context_from_body`, docs/performance.md),
/// then evaluated, allocates nothing either. A string or name past 24
/// bytes, or one with escapes, would cost one allocation each; a list or
/// nested object, its own storage.
#[test]
fn a_context_from_a_json_body_does_not_allocate() {
    let ruleset = compile_file("flags.yaml", FIVE_CASES);
    let env = EvalEnv::now();
    let limits = Limits::default();
    let body = format!(r#"{{"context": {CONTEXT}}}"#);

    let before = allocations();
    let (ctx, _) = context_from_body(body.as_bytes(), &limits, &[]).unwrap();
    let variant = ruleset.evaluate("split", &ctx, &env).unwrap().variant;
    let after = allocations();
    assert_eq!(after - before, 0, "allocated {} times", after - before);
    assert_same_context(&ruleset, &ctx, variant);
}

/// The compile benchmark's flags add what the evaluation benchmark lacks: a
/// semantic-version comparison against the context's attribute.
#[test]
fn version_rules_do_not_allocate() {
    let ruleset = compile_file("flags.yaml", &many_flags(3));
    let contexts = [
        json!({"targetingKey": "u-1", "appVersion": "2.1.0"}),
        json!({"targetingKey": "u-2", "appVersion": "10.0.0-rc.1"}),
        json!({"targetingKey": "u-3", "appVersion": "1.9.9", "email": "bo@example.com"}),
        json!({"targetingKey": "u-4", "appVersion": "not a version"}),
    ]
    .map(|v| Context::from_json(v).unwrap());
    let env = EvalEnv::now();

    let before = allocations();
    let mut version_matches = 0;
    for ctx in &contexts {
        for flag in ["flag-0", "flag-1", "flag-2"] {
            let ev = ruleset.evaluate(flag, ctx, &env).unwrap();
            // Rule 1 of each flag is the version rule.
            version_matches += usize::from(ev.rule == Some(1));
        }
    }
    let after = allocations();
    assert!(version_matches > 0, "no version rule matched");
    assert_eq!(
        after - before,
        0,
        "evaluation allocated {} times",
        after - before
    );
}

/// flagd's path: the served ruleset's rollout positions, evaluation and
/// exposure counting (an experiment on a rule's split) — no allocation either.
#[test]
fn serving_and_counting_exposures_does_not_allocate() {
    let ruleset = compile_file(
        "flags.yaml",
        r#"
flags:
  layout:
    type: string
    variants: { control: c, gallery: g, video: v }
    default: control
    rules:
      - name: staff
        when: { attr: email, op: ends_with, value: "@example.com" }
        serve: video
      - name: eu
        when: { attr: country, op: in, values: [DE, FR] }
        serve:
          split: { control: 34, gallery: 33, video: 33 }
          experiment: { control: control }
    rollout: { strategy: canary, serve: gallery, stages: [ { percentage: 50, duration: 1h }, { percentage: 100 } ] }
"#,
    );
    let live = hotswap_flags_daemon::live::Live::new("bench");
    let served = live.install(ruleset, None);
    let contexts: Vec<Context> = (0..64)
        .map(|i| {
            let country = if i % 2 == 0 { "DE" } else { "US" };
            Context::from_json(json!({"targetingKey": format!("user-{i}"), "country": country}))
                .unwrap()
        })
        .chain(std::iter::once(
            Context::from_json(json!({"targetingKey": "s", "email": "ana@example.com"})).unwrap(),
        ))
        .collect();

    let before = allocations();
    for ctx in &contexts {
        let env = served.eval_env();
        let ev = served.ruleset.evaluate("layout", ctx, &env).unwrap();
        served.count(&ev);
    }
    let after = allocations();
    assert_eq!(
        after - before,
        0,
        "serving allocated {} times",
        after - before
    );
    let exposed: u64 = live.exposure_counts().iter().map(|(_, _, n)| n).sum();
    assert_eq!(exposed, 32, "every DE/FR context was exposed, nobody else");
}

/// Flags deferring to the caller's code default (`$codeDefault`, docs/
/// flag-format.md §5) evaluate without allocating too, and so does asking
/// an evaluation whether it serves a value.
#[test]
fn code_defaults_do_not_allocate() {
    let ruleset = compile_file("flags.yaml", CODE_DEFAULTS);
    let contexts = [
        json!({"targetingKey": "u-1", "email": "ana@example.com"}),
        json!({"targetingKey": "u-2", "plan": "legacy"}),
        json!({"targetingKey": "u-3"}),
    ]
    .map(|v| Context::from_json(v).unwrap());
    let env = EvalEnv::now();

    let before = allocations();
    let (mut values, mut deferred) = (0usize, 0usize);
    for ctx in &contexts {
        for flag in ["deferred", "killed"] {
            let ev = ruleset.evaluate(flag, ctx, &env).unwrap();
            match ev.served_value() {
                Some(_) => values += 1,
                None => deferred += usize::from(ev.is_code_default()),
            }
        }
    }
    let after = allocations();
    assert_eq!((values, deferred), (1, 5));
    assert_eq!(
        after - before,
        0,
        "evaluation allocated {} times",
        after - before
    );
}
