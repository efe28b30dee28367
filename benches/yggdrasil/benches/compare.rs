//! HotSwap Flags side by side with unleash-yggdrasil, Unleash's Rust engine, on
//! the same five flags and the same context (docs/performance.md, "Side by side
//! with unleash-yggdrasil"). Our flags are `FIVE_CASES` of the main crate's
//! benchmark; theirs are the same cases written as Unleash toggles in
//! `features.json` (README.md maps them one by one).
//!
//! Before measuring, `check_equivalence` asserts that both engines serve
//! the same variants for contexts that take each of the four rules, and the
//! same shares for the canary and the splits over 10,000 users, so that the
//! two sides are known to do the same work.
//!
//! Run: `cargo bench -- --warm-up-time 1 --measurement-time 3`

#[path = "../../../tests/testsuite/support/rulesets.rs"]
#[allow(dead_code)]
mod rulesets;

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hotswap_flags_core::eval::context::ContextLimits;
use hotswap_flags_core::ruleset::Ruleset;
use hotswap_flags_core::{Context, EvalEnv};
use serde_json::{Map, Value, json};
use unleash_yggdrasil::state::EnrichedContext;
use unleash_yggdrasil::{Context as UnleashContext, EngineState, UpdateMessage};

/// The five cases as Unleash toggles, in the client API's JSON.
const FEATURES: &str = include_str!("../features.json");

/// Our side: the compiled five cases and an evaluation environment.
struct Ours {
    ruleset: Ruleset,
    env: EvalEnv<'static>,
}

impl Ours {
    fn new() -> Self {
        Ours {
            ruleset: rulesets::compile_file("flags.yaml", rulesets::FIVE_CASES),
            env: EvalEnv::now(),
        }
    }

    /// The variant `flag` serves `ctx`.
    fn variant(&self, flag: &str, ctx: &Context) -> &str {
        self.ruleset
            .evaluate(flag, ctx, &self.env)
            .expect("the flag exists")
            .variant_name()
    }
}

/// Yggdrasil's side: an engine that took `features.json`.
struct Theirs {
    engine: EngineState,
}

impl Theirs {
    fn new() -> Self {
        let engine = EngineState::default();
        let message: UpdateMessage = serde_json::from_str(FEATURES).expect("features.json parses");
        let warnings = engine.take_state(message);
        assert!(
            warnings.is_none(),
            "features.json compiles without warnings: {:?}",
            warnings.unwrap_or_default()
        );
        Theirs { engine }
    }

    /// Whether `toggle` is on for `ctx` (the boolean flags).
    fn enabled(&self, toggle: &str, ctx: &UnleashContext) -> bool {
        let ctx = EnrichedContext::from(ctx, toggle, None);
        self.engine.check_enabled(&ctx).expect("the toggle exists")
    }

    /// The variant `toggle` serves `ctx` ("disabled" when it is off).
    fn variant(&self, toggle: &str, ctx: &UnleashContext) -> String {
        let ctx = EnrichedContext::from(ctx, toggle, None);
        self.engine
            .check_variant(&ctx)
            .expect("the toggle exists")
            .name
    }
}

/// The same attributes as each engine's context. `targetingKey` becomes
/// Unleash's `userId`; Unleash properties are strings, so a number is
/// written as its decimal text there.
fn both_contexts(attrs: &Value) -> (Context, UnleashContext) {
    let ours = Context::from_json(attrs.clone()).expect("a valid context");
    let mut theirs = Map::new();
    for (name, value) in attrs.as_object().expect("an object") {
        let name = if name == "targetingKey" {
            "userId"
        } else {
            name
        };
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        theirs.insert(name.to_owned(), Value::String(text));
    }
    let theirs = serde_json::from_value(Value::Object(theirs)).expect("an Unleash context");
    (ours, theirs)
}

/// The benchmark context, with another targeting key.
fn with_key(key: &str) -> Value {
    let mut attrs: Value = serde_json::from_str(rulesets::CONTEXT).expect("CONTEXT parses");
    attrs["targetingKey"] = json!(key);
    attrs
}

/// Asserts that both sides agree on every rule of `four-rules`, on
/// `static`, and on the shares of the canary and the splits.
fn check_equivalence(ours: &Ours, theirs: &Theirs) {
    let bench: Value = serde_json::from_str(rulesets::CONTEXT).expect("CONTEXT parses");
    let (o, t) = both_contexts(&bench);
    assert_eq!(ours.variant("static", &o), "on");
    assert!(theirs.enabled("static", &t));
    let split_abc = ["a", "b", "c"];
    assert!(split_abc.contains(&ours.variant("four-rules", &o)));
    assert!(split_abc.contains(&theirs.variant("four-rules", &t).as_str()));
    for (attrs, served) in [
        (
            json!({"targetingKey": "u-1", "email": "x@example.com"}),
            "b",
        ),
        (json!({"targetingKey": "u-1", "tier": "gold"}), "c"),
        (
            json!({"targetingKey": "u-1", "plan": "pro", "seats": 5}),
            "d",
        ),
        (json!({"targetingKey": "u-1", "seats": 5}), "d"),
        (
            json!({"targetingKey": "u-1", "plan": "trial", "seats": 5}),
            "a",
        ),
        (
            json!({"targetingKey": "u-1", "plan": "pro", "seats": 50}),
            "a",
        ),
        (json!({"targetingKey": "u-1", "country": "DE"}), "a"),
    ] {
        let (o, t) = both_contexts(&attrs);
        assert_eq!(ours.variant("four-rules", &o), served, "ours, {attrs}");
        assert_eq!(theirs.variant("four-rules", &t), served, "theirs, {attrs}");
    }
    const USERS: usize = 10_000;
    let mut counts: HashMap<(&str, &str, String), usize> = HashMap::new();
    for i in 0..USERS {
        let (o, t) = both_contexts(&with_key(&format!("user-{i}")));
        let mut count = |side, flag, variant: &str| {
            *counts.entry((side, flag, variant.to_owned())).or_default() += 1;
        };
        count("ours", "canary", ours.variant("canary", &o));
        count(
            "theirs",
            "canary",
            if theirs.enabled("canary", &t) {
                "on"
            } else {
                "off"
            },
        );
        count("ours", "split", ours.variant("split", &o));
        count("theirs", "split", &theirs.variant("split", &t));
        count("ours", "four-rules", ours.variant("four-rules", &o));
        count("theirs", "four-rules", &theirs.variant("four-rules", &t));
    }
    let expected = [
        ("canary", "on", 0.10),
        ("split", "a", 0.25),
        ("split", "b", 0.25),
        ("split", "c", 0.25),
        ("split", "d", 0.25),
        ("four-rules", "a", 0.34),
        ("four-rules", "b", 0.33),
        ("four-rules", "c", 0.33),
    ];
    for side in ["ours", "theirs"] {
        for (flag, variant, share) in expected {
            let n = counts
                .get(&(side, flag, variant.to_owned()))
                .copied()
                .unwrap_or(0);
            let measured = n as f64 / USERS as f64;
            assert!(
                (measured - share).abs() < 0.02,
                "{side} {flag} served {variant} to {measured:.3} of users, not ~{share}"
            );
        }
    }
}

fn five_cases(c: &mut Criterion) {
    let ours = Ours::new();
    let theirs = Theirs::new();
    check_equivalence(&ours, &theirs);

    let bench: Value = serde_json::from_str(rulesets::CONTEXT).expect("CONTEXT parses");
    let (o_ctx, t_ctx) = both_contexts(&bench);
    let users: Vec<(Context, UnleashContext)> = (0..1024)
        .map(|i| both_contexts(&with_key(&format!("u-{i}"))))
        .collect();

    for (name, flag, boolean) in [
        ("static flag", "static", true),
        ("four rules", "four-rules", false),
        ("10% canary", "canary", true),
    ] {
        let mut group = c.benchmark_group(name);
        group.bench_function("ours", |b| {
            b.iter(|| {
                let ev = ours
                    .ruleset
                    .evaluate(black_box(flag), black_box(&o_ctx), &ours.env)
                    .unwrap();
                black_box(ev.variant)
            })
        });
        group.bench_function("yggdrasil", |b| {
            b.iter(|| {
                let ctx = EnrichedContext::from(black_box(&t_ctx), black_box(flag), None);
                if boolean {
                    black_box(theirs.engine.check_enabled(&ctx));
                } else {
                    black_box(theirs.engine.check_variant(&ctx));
                }
            })
        });
        group.finish();
    }

    let mut group = c.benchmark_group("split over 1,024 users");
    group.bench_function("ours", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & 1023;
            let ev = ours
                .ruleset
                .evaluate(black_box("split"), black_box(&users[i].0), &ours.env)
                .unwrap();
            black_box(ev.variant)
        })
    });
    group.bench_function("yggdrasil", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) & 1023;
            let ctx = EnrichedContext::from(black_box(&users[i].1), black_box("split"), None);
            black_box(theirs.engine.check_variant(&ctx))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("build context + split");
    group.bench_function("ours", |b| {
        b.iter(|| {
            let ctx = rulesets::build_context();
            let ev = ours
                .ruleset
                .evaluate(black_box("split"), &ctx, &ours.env)
                .unwrap();
            black_box(ev.variant)
        })
    });
    group.bench_function("yggdrasil", |b| {
        b.iter(|| {
            let ctx = UnleashContext {
                user_id: Some(black_box("u-123").to_owned()),
                properties: Some(HashMap::from([
                    ("plan".to_owned(), black_box("trial").to_owned()),
                    ("tier".to_owned(), black_box("silver").to_owned()),
                    ("country".to_owned(), black_box("DE").to_owned()),
                ])),
                ..UnleashContext::default()
            };
            let enriched = EnrichedContext::from(&ctx, black_box("split"), None);
            black_box(theirs.engine.check_variant(&enriched))
        })
    });
    group.finish();

    // A request body's bytes, as flagd's OFREP POST reads them: ours
    // straight into a context (no `serde_json::Value`), theirs into their
    // context struct with serde.
    let body = br#"{"targetingKey": "u-123", "plan": "trial", "tier": "silver", "country": "DE"}"#;
    let theirs_body = br#"{"userId": "u-123", "plan": "trial", "tier": "silver", "country": "DE"}"#;
    let mut group = c.benchmark_group("JSON body → context + split");
    group.bench_function("ours", |b| {
        b.iter(|| {
            let ctx = Context::from_slice(black_box(body), &ContextLimits::NONE).unwrap();
            let ev = ours
                .ruleset
                .evaluate(black_box("split"), &ctx, &ours.env)
                .unwrap();
            black_box(ev.variant)
        })
    });
    group.bench_function("yggdrasil", |b| {
        b.iter(|| {
            let ctx: UnleashContext = serde_json::from_slice(black_box(theirs_body)).unwrap();
            let enriched = EnrichedContext::from(&ctx, black_box("split"), None);
            black_box(theirs.engine.check_variant(&enriched))
        })
    });
    group.finish();
}

criterion_group!(benches, five_cases);
criterion_main!(benches);
