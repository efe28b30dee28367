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

#[test]
fn evaluation_does_not_allocate() {
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
