//! Evaluation and compilation speed. Targets (2-core machine): ≤ 200 ns for
//! three rules + a split; 10,000 flags compiled in ≤ 1 s.

#[path = "../tests/testsuite/support/rulesets.rs"]
mod rulesets;

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use hotswap_flags::{Context, EvalEnv};
use serde_json::json;

fn evaluation(c: &mut Criterion) {
    let ruleset = rulesets::compile_file(
        "flags.yaml",
        &format!("{}{}", rulesets::FLAGS, rulesets::twenty_rules()),
    );
    let env = EvalEnv::now();
    let eu_user = Context::from_json(json!({
        "targetingKey": "user-4711",
        "email": "someone@elsewhere.org",
        "role": "customer",
        "country": "FR",
    }))
    .unwrap();
    let mut group = c.benchmark_group("evaluate");
    for (name, flag) in [
        ("static", "static-flag"),
        ("3 rules + split", "three-rules-split"),
        ("rollout", "rollout-flag"),
        ("miss through 20 rules", "twenty-rules"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let ev = ruleset
                    .evaluate(black_box(flag), black_box(&eu_user), &env)
                    .unwrap();
                black_box(ev.variant)
            })
        });
    }
    group.finish();
}

fn compilation(c: &mut Criterion) {
    let yaml = rulesets::many_flags(10_000);
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    group.bench_function("10,000 flags (parse + validate + compile)", |b| {
        b.iter_batched(
            || yaml.clone(),
            |y| black_box(rulesets::compile_file("flags.yaml", &y)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, evaluation, compilation);
criterion_main!(benches);
