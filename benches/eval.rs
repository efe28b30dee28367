//! Evaluation, context building and compilation speed (docs/performance.md).
//!
//! `five cases` are the flags and context of the comparison with
//! unleash-yggdrasil; `evaluate` keeps the older cases; `10,000 flags`
//! measures a large ruleset; `bucketing modes` compares flagd's and
//! Unleash's bucketing with ours.
//!
//! Run: `cargo bench --bench eval -- --warm-up-time 1 --measurement-time 3`

#[path = "../tests/testsuite/support/rulesets.rs"]
mod rulesets;

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use hotswap_flags_core::{Context, EvalEnv};
use hotswap_flags_daemon::server::request::{Limits, body_object, context_from_body, context_of};
use serde_json::{Value, json};

fn five_cases(c: &mut Criterion) {
    let ruleset = rulesets::compile_file("flags.yaml", rulesets::FIVE_CASES);
    let env = EvalEnv::now();
    let context_json: Value = serde_json::from_str(rulesets::CONTEXT).unwrap();
    let ctx = Context::from_json(context_json.clone()).unwrap();
    let users: Vec<Context> = (0..1024)
        .map(|i| {
            let mut v = context_json.clone();
            v["targetingKey"] = json!(format!("u-{i}"));
            Context::from_json(v).unwrap()
        })
        .collect();
    let mut group = c.benchmark_group("five cases");
    for (name, flag) in [
        ("static flag", "static"),
        ("four rules", "four-rules"),
        ("10% canary", "canary"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let ev = ruleset
                    .evaluate(black_box(flag), black_box(&ctx), &env)
                    .unwrap();
                black_box(ev.variant)
            })
        });
    }
    group.bench_function("split over 1,024 users", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & 1023;
            let ev = ruleset
                .evaluate(black_box("split"), black_box(&users[i]), &env)
                .unwrap();
            black_box(ev.variant)
        })
    });
    group.bench_function("build context + split", |b| {
        b.iter(|| {
            let ctx = rulesets::build_context();
            let ev = ruleset.evaluate(black_box("split"), &ctx, &env).unwrap();
            black_box(ev.variant)
        })
    });
    group.bench_function("json! + from_json + split", |b| {
        b.iter(|| {
            let ctx = Context::from_json(json!({
                "targetingKey": "u-123",
                "plan": "trial",
                "tier": "silver",
                "country": "DE",
            }))
            .unwrap();
            let ev = ruleset.evaluate(black_box("split"), &ctx, &env).unwrap();
            black_box(ev.variant)
        })
    });
    // flagd's POST bodies: the 4-attribute OFREP body as bytes, to a
    // context (limits checked) and the split. Through a `Value`, as flagd
    // read bodies before (`body_object` + `context_of`), and straight from
    // the bytes, as it reads them now (`context_from_body`).
    let limits = Limits::default();
    let body = format!(r#"{{"context": {}}}"#, rulesets::CONTEXT);
    group.bench_function("JSON body → Value → context + split", |b| {
        b.iter(|| {
            let mut object = body_object(black_box(body.as_bytes())).unwrap();
            let ctx = context_of(&mut object, &limits, &[]).unwrap();
            let ev = ruleset.evaluate(black_box("split"), &ctx, &env).unwrap();
            black_box(ev.variant)
        })
    });
    group.bench_function("JSON body → context + split", |b| {
        b.iter(|| {
            let (ctx, _) = context_from_body(black_box(body.as_bytes()), &limits, &[]).unwrap();
            let ev = ruleset.evaluate(black_box("split"), &ctx, &env).unwrap();
            black_box(ev.variant)
        })
    });
    group.bench_function("from_json (Value → Context)", |b| {
        b.iter_batched(
            || context_json.clone(),
            |v| black_box(Context::from_json(v).unwrap()),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

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

fn large_ruleset(c: &mut Criterion) {
    let yaml = rulesets::many_flags(10_000);
    let mut group = c.benchmark_group("10,000 flags");
    group.sample_size(10);
    group.bench_function("compile (parse + validate + compile)", |b| {
        b.iter_batched(
            || yaml.clone(),
            |y| black_box(rulesets::compile_file("flags.yaml", &y)),
            BatchSize::LargeInput,
        )
    });
    let ruleset = rulesets::compile_file("flags.yaml", &yaml);
    let env = EvalEnv::now();
    let ctx =
        Context::from_json(json!({"targetingKey": "u-123", "appVersion": "2.5000.1"})).unwrap();
    group.sample_size(100);
    group.bench_function("evaluate one flag", |b| {
        b.iter(|| {
            let ev = ruleset
                .evaluate(black_box("flag-7777"), black_box(&ctx), &env)
                .unwrap();
            black_box(ev.variant)
        })
    });
    group.finish();
}

/// flagd's and Unleash's bucketing beside ours (docs/flag-format.md §6,
/// Bucketing modes): a four-way split, a 10 % canary and a 10 %
/// `percentage` condition (Unleash's flexibleRollout once imported), each
/// over 1,024 users, per mode. The issue's budget is 1.3× xxh3's median.
fn bucketing_modes(c: &mut Criterion) {
    let ruleset = rulesets::compile_file("flags.yaml", &rulesets::bucketing_modes());
    let env = EvalEnv::now();
    let users: Vec<Context> = (0..1024)
        .map(|i| Context::new().with_key(format!("u-{i}")))
        .collect();
    let mut group = c.benchmark_group("bucketing modes");
    for mode in ["xxh3", "flagd-v2", "flagd-v1", "unleash"] {
        for (what, flag) in [
            ("split", format!("split-{mode}")),
            ("10% canary", format!("canary-{mode}")),
            ("10% percentage condition", format!("pct-{mode}")),
        ] {
            group.bench_function(format!("{what} over 1,024 users: {mode}"), |b| {
                let mut i = 0usize;
                b.iter(|| {
                    i = (i + 1) & 1023;
                    let ev = ruleset
                        .evaluate(black_box(&flag), black_box(&users[i]), &env)
                        .unwrap();
                    black_box(ev.variant)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(
    benches,
    five_cases,
    evaluation,
    large_ruleset,
    bucketing_modes
);
criterion_main!(benches);
