//! The evaluation hot path must not allocate for a context that is already
//! parsed. A counting global allocator makes that claim testable.

#[path = "../benches/common/mod.rs"]
#[allow(dead_code)] // shared with the benchmarks, which use more of it
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use hotswap_flags::eval::FixedRollouts;
use hotswap_flags::{Context, EvalEnv};
use serde_json::json;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocator counts every thread: tests that measure take turns.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn evaluation_does_not_allocate() {
    let _turn = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let ruleset = common::compile(&format!("{}{}", common::FLAGS, common::twenty_rules()));
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

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let mut served = 0usize;
    for ctx in contexts.iter().chain(std::iter::once(&long_key)) {
        for flag in flags {
            if let Ok(ev) = ruleset.evaluate(flag, ctx, &env) {
                served += usize::from(ev.variant) + 1;
            }
        }
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert!(served > 0);
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
    let _turn = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let ruleset = common::compile(
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
    let live = hotswap_flags::daemon::live::Live::new("bench");
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

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for ctx in &contexts {
        let env = served.eval_env();
        let ev = served.ruleset.evaluate("layout", ctx, &env).unwrap();
        served.count(&ev);
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(
        after - before,
        0,
        "serving allocated {} times",
        after - before
    );
    let exposed: u64 = live.exposure_counts().iter().map(|(_, _, n)| n).sum();
    assert_eq!(exposed, 32, "every DE/FR context was exposed, nobody else");
}
