//! The example repository `flags-example/` is documentation that must stay
//! true: both environments validate without a single finding, they show
//! every feature of the file format, and they evaluate as their comments say.

use std::collections::BTreeSet;

use hotswap_flags_core::eval::{FixedRollouts, InitialRollouts, RolloutState};
use hotswap_flags_core::model::{Condition, EnvModel, FlagType, Serve, Strategy};
use hotswap_flags_core::{Context, EvalEnv, EvalError, Evaluation, Reason, Repository, Ruleset};
use jiff::Timestamp;
use serde_json::{Value, json};

const ENVS: [&str; 2] = ["staging", "production"];

fn repo() -> Repository {
    Repository::open(concat!(env!("CARGO_MANIFEST_DIR"), "/flags-example"))
        .expect("flags-example opens")
}

fn ruleset(env: &str) -> Ruleset {
    repo().ruleset(env).expect("environment compiles")
}

/// A ruleset keeps its definitions as JSON text rather than as a model
/// (docs/performance.md, "10,000 flags: memory and swaps under load"); read
/// back, they are the model that was loaded.
#[test]
fn a_rulesets_definitions_read_back_as_loaded() {
    for env in ENVS {
        let checked = repo().check_env(env).expect("environment loads");
        let ruleset = checked.ruleset.expect("environment compiles");
        assert_eq!(ruleset.model().unwrap(), checked.loaded.model, "{env}");
    }
}

fn at(time: &str) -> Timestamp {
    time.parse().expect("a valid timestamp")
}

/// An ordinary day: outside the holiday rule and the Black Friday window.
const ORDINARY_DAY: &str = "2026-10-15T12:00:00Z";

fn ctx(value: Value) -> Context {
    Context::from_json(value).expect("a valid context")
}

fn eval_with<'r, R: RolloutState>(
    rs: &'r Ruleset,
    flag: &str,
    context: Value,
    now: &str,
    rollouts: &R,
) -> Result<Evaluation<'r>, EvalError> {
    let env = EvalEnv {
        now: at(now),
        rollouts,
    };
    rs.evaluate(flag, &ctx(context), &env)
}

/// Evaluates on an ordinary day with rollouts where they start.
fn eval<'r>(rs: &'r Ruleset, flag: &str, context: Value) -> Evaluation<'r> {
    eval_with(rs, flag, context, ORDINARY_DAY, &InitialRollouts)
        .unwrap_or_else(|e| panic!("{flag}: {e}"))
}

// ---------------------------------------------------------------------------
// Validation and coverage

#[test]
fn both_environments_validate_without_any_finding() {
    let repo = repo();
    assert!(
        repo.config_warnings().is_empty(),
        "{:?}",
        repo.config_warnings()
    );
    assert_eq!(
        repo.config()
            .environments
            .iter()
            .map(|e| (e.name.as_str(), e.protected))
            .collect::<Vec<_>>(),
        [("staging", false), ("production", true)]
    );
    let queries: Vec<&str> = repo
        .config()
        .metrics
        .queries
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        queries.contains(&"error_rate") && queries.contains(&"latency_p99"),
        "{queries:?}"
    );
    for env in ENVS {
        let checked = repo.check_env(env).expect("environment loads");
        let findings: Vec<String> = checked
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(findings.is_empty(), "{env}: {findings:#?}");
        let rs = checked.ruleset.expect("a ruleset without errors");
        assert!(
            rs.flags().len() >= 8,
            "{env}: only {} flags",
            rs.flags().len()
        );
    }
}

#[test]
fn each_environment_uses_all_three_file_formats() {
    let repo = repo();
    for env in ENVS {
        let loaded = repo.load_env(env).unwrap();
        let exts: BTreeSet<&str> = loaded
            .files
            .iter()
            .filter_map(|f| f.path.rsplit('.').next())
            .collect();
        assert_eq!(exts, BTreeSet::from(["json", "toml", "yaml"]), "{env}");
        for file in loaded.files.iter().filter(|f| f.path.ends_with(".yaml")) {
            let text = std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("flags-example")
                    .join(&file.path),
            )
            .unwrap();
            assert!(
                text.starts_with(
                    "# yaml-language-server: $schema=../../../schemas/flagfile.schema.json\n"
                ),
                "{} lacks the schema modeline",
                file.path
            );
        }
    }
}

fn collect_conditions(c: &Condition, ops: &mut BTreeSet<String>) {
    match c {
        Condition::Attr(a) => {
            ops.insert(a.op.as_str().to_owned());
        }
        Condition::Segment(_) => {
            ops.insert("segment".into());
        }
        Condition::All(items) => {
            ops.insert("all".into());
            items.iter().for_each(|c| collect_conditions(c, ops));
        }
        Condition::Any(items) => {
            ops.insert("any".into());
            items.iter().for_each(|c| collect_conditions(c, ops));
        }
        Condition::Not(inner) => {
            ops.insert("not".into());
            collect_conditions(inner, ops);
        }
        Condition::Time(w) => {
            ops.insert(
                if w.timezone.is_some() {
                    "time+zone"
                } else {
                    "time"
                }
                .into(),
            );
        }
        Condition::Percentage(_) => {
            ops.insert("percentage".into());
        }
        Condition::Flag(_) => {
            ops.insert("flag".into());
        }
    }
}

/// Each environment on its own shows every feature the format has.
#[test]
fn each_environment_shows_every_feature() {
    for env in ENVS {
        let rs = ruleset(env);
        let model: &EnvModel = &rs.model().unwrap();
        let mut ops = BTreeSet::new();
        let mut strategies = BTreeSet::new();
        let mut types = BTreeSet::new();
        let (mut experiment, mut salt, mut bucket_by, mut health_inline, mut health_named) =
            (false, false, false, false, false);
        let mut health_compare = false;
        for flag in model.flags.values() {
            types.insert(flag.kind.as_str());
            bucket_by |= flag.bucket_by.as_deref() == Some("accountId");
            for rule in &flag.rules {
                collect_conditions(&rule.when, &mut ops);
            }
            for serve in std::iter::once(&flag.default).chain(flag.rules.iter().map(|r| &r.serve)) {
                if let Serve::Split(split) = serve {
                    salt |= split.salt.is_some();
                    if let Some(e) = &split.experiment {
                        experiment |= e.hypothesis.is_some()
                            && e.control.is_some()
                            && e.minimum_detectable_effect.is_some()
                            && e.alpha.is_some()
                            && e.conversions.is_some();
                    }
                }
            }
            if let Some(r) = &flag.rollout {
                strategies.insert(r.strategy.as_str());
                if let Some(h) = &r.health {
                    for c in &h.checks {
                        match &c.query {
                            Some(q) => {
                                let named = rs.metrics().queries.contains_key(q);
                                health_named |= named;
                                health_inline |= !named;
                            }
                            None => health_compare |= c.compare.is_some(),
                        }
                    }
                }
            }
        }
        let mut segment_has_keys_and_when = false;
        let mut segment_refers_to_segment = false;
        for seg in model.segments.values() {
            segment_has_keys_and_when |= seg.keys.is_some() && seg.when.is_some();
            if let Some(w) = &seg.when {
                let mut inner = BTreeSet::new();
                collect_conditions(w, &mut inner);
                segment_refers_to_segment |= inner.contains("segment");
                ops.extend(inner);
            }
        }
        let wanted_ops = [
            "eq",
            "in",
            "contains",
            "starts_with",
            "ends_with",
            "matches",
            "gt",
            "gte",
            "lt",
            "lte",
            "semver_gte",
            "semver_lt",
            "before",
            "after",
            "exists",
            "segment",
            "all",
            "any",
            "not",
            "time+zone",
        ];
        for op in wanted_ops {
            assert!(ops.contains(op), "{env}: no condition uses `{op}`");
        }
        assert_eq!(
            strategies,
            BTreeSet::from(["canary", "direct", "linear", "scheduled", "segment"]),
            "{env}"
        );
        assert_eq!(
            types,
            BTreeSet::from(["boolean", "float", "integer", "object", "string"]),
            "{env}"
        );
        assert!(
            experiment && salt,
            "{env}: no complete experiment with a salt"
        );
        assert!(bucket_by, "{env}: no flag buckets by accountId");
        assert!(health_named && health_inline, "{env}: health checks");
        assert!(health_compare, "{env}: a `compare: baseline` check");
        assert!(
            segment_has_keys_and_when && segment_refers_to_segment,
            "{env}: segments"
        );
        assert!(
            model.flags.values().any(|f| f.kind == FlagType::Boolean
                && f.off_variant.is_some()
                && f.rollout.is_none()
                && f.default == Serve::Variant("on".into())),
            "{env}: kill switch flag"
        );
    }
}

#[test]
fn production_trails_staging() {
    let staging = ruleset("staging");
    let production = ruleset("production");
    // The kill switch is pulled in production only.
    assert!(staging.model().unwrap().flags["search-autocomplete"].enabled);
    assert!(!production.model().unwrap().flags["search-autocomplete"].enabled);
    // The same canary shape, with longer stages in production.
    let stages = |rs: &Ruleset| {
        let r = rs.model().unwrap().flags["new-checkout-flow"]
            .rollout
            .clone()
            .unwrap();
        assert_eq!(r.strategy, Strategy::Canary);
        r.stages
            .unwrap()
            .iter()
            .map(|s| (s.percentage, s.duration.as_ref().map(|d| d.get().as_secs())))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        stages(&production),
        [
            (10.0, Some(3600)),
            (30.0, Some(7200)),
            (50.0, Some(14400)),
            (100.0, None)
        ]
    );
    let staging_stages = stages(&staging);
    assert_eq!(
        staging_stages.iter().map(|s| s.0).collect::<Vec<_>>(),
        [10.0, 30.0, 50.0, 100.0]
    );
    for (s, p) in staging_stages.iter().zip(stages(&production)) {
        assert!(
            s.1 <= p.1,
            "staging stages are not longer than production's"
        );
    }
    // Fewer rules and countries in production.
    let rules = |rs: &Ruleset, flag: &str| rs.model().unwrap().flags[flag].rules.len();
    assert!(rules(&production, "checkout-config") < rules(&staging, "checkout-config"));
    assert!(rules(&production, "recommendations-count") < rules(&staging, "recommendations-count"));
}

// ---------------------------------------------------------------------------
// Evaluations

#[test]
fn staff_email_is_a_targeting_match() {
    for env in ENVS {
        let rs = ruleset(env);
        let ev = eval(
            &rs,
            "new-checkout-flow",
            json!({"targetingKey": "emp-7", "email": "ana@example.com", "country": "US"}),
        );
        assert_eq!(ev.reason, Reason::TargetingMatch, "{env}");
        assert_eq!(ev.rule_name(), Some("staff"));
        assert_eq!(ev.value(), &json!(true));
        assert_eq!(ev.detail().to_string(), "rule `staff` matched");
        // A look-alike domain is not staff.
        let ev = eval_with(
            &rs,
            "new-checkout-flow",
            json!({"targetingKey": "emp-7", "email": "ana@example.com.evil", "country": "US"}),
            ORDINARY_DAY,
            &FixedRollouts(0),
        )
        .unwrap();
        assert_eq!(ev.reason, Reason::Default);
        assert_eq!(ev.value(), &json!(false));
    }
}

#[test]
fn beta_segment_rule() {
    let rs = ruleset("production");
    let ev = eval(
        &rs,
        "new-checkout-flow",
        json!({"targetingKey": "c-1", "role": "beta-tester"}),
    );
    assert_eq!(
        (ev.reason, ev.rule_name()),
        (Reason::TargetingMatch, Some("beta"))
    );
}

#[test]
fn eu_customers_are_split_unless_blocked() {
    let rs = ruleset("production");
    let mut on = 0;
    for i in 0..2000 {
        let ev = eval(
            &rs,
            "new-checkout-flow",
            json!({"targetingKey": format!("shopper-{i}"), "country": "DE"}),
        );
        assert_eq!(ev.reason, Reason::Split);
        assert_eq!(ev.rule_name(), Some("eu"));
        assert!(ev.split_bucket.is_some());
        if ev.value() == &json!(true) {
            on += 1;
        }
    }
    assert!((850..1150).contains(&on), "50/50 split gave {on} of 2000");
    // The same customer always lands on the same side.
    let a = eval(
        &rs,
        "new-checkout-flow",
        json!({"targetingKey": "cust-42", "country": "FR"}),
    );
    let b = eval(
        &rs,
        "new-checkout-flow",
        json!({"targetingKey": "cust-42", "country": "FR"}),
    );
    assert_eq!(a.variant_name(), b.variant_name());
    // Production has only DE and FR; staging also NL.
    let nl = json!({"targetingKey": "cust-42", "country": "NL"});
    assert_ne!(
        eval(&rs, "new-checkout-flow", nl.clone()).rule_name(),
        Some("eu")
    );
    assert_eq!(
        eval(&ruleset("staging"), "new-checkout-flow", nl).rule_name(),
        Some("eu")
    );
    // Blocked customers (listed by key, or by chargebacks) skip the EU rule.
    for blocked in [
        json!({"targetingKey": "cust-0666", "country": "DE"}),
        json!({"targetingKey": "cust-9", "country": "DE", "chargebacks": 3}),
    ] {
        let ev = eval_with(
            &rs,
            "new-checkout-flow",
            blocked,
            ORDINARY_DAY,
            &FixedRollouts(0),
        )
        .unwrap();
        assert_eq!((ev.reason, ev.rule), (Reason::Default, None));
        assert_eq!(ev.value(), &json!(false));
    }
}

#[test]
fn holiday_rule_reads_new_york_time() {
    let rs = ruleset("production");
    let us = json!({"targetingKey": "cust-77", "country": "US"});
    let ev = eval_with(
        &rs,
        "new-checkout-flow",
        us.clone(),
        "2026-12-15T12:00:00Z",
        &FixedRollouts(0),
    )
    .unwrap();
    assert_eq!(
        (ev.reason, ev.rule_name()),
        (Reason::TargetingMatch, Some("holidays"))
    );
    // 04:59 UTC on 1 December is still 30 November in New York.
    let ev = eval_with(
        &rs,
        "new-checkout-flow",
        us.clone(),
        "2026-12-01T04:59:00Z",
        &FixedRollouts(0),
    )
    .unwrap();
    assert_eq!(ev.reason, Reason::Default);
    let ev = eval_with(
        &rs,
        "new-checkout-flow",
        us,
        "2026-12-01T05:00:00Z",
        &FixedRollouts(0),
    )
    .unwrap();
    assert_eq!(ev.rule_name(), Some("holidays"));
}

#[test]
fn kill_switch_serves_off_variant() {
    let production = ruleset("production");
    for context in [
        json!({"targetingKey": "cust-1", "country": "DE"}),
        json!({"targetingKey": "cust-2", "userAgent": "Googlebot/2.1"}),
        json!({}),
    ] {
        let ev = eval(&production, "search-autocomplete", context);
        assert_eq!(ev.reason, Reason::Disabled);
        assert_eq!(ev.variant_name(), "off");
        assert_eq!(ev.value(), &json!(false));
        assert_eq!(ev.rule, None);
    }
    // Staging has it on, except for crawlers.
    let staging = ruleset("staging");
    let ev = eval(
        &staging,
        "search-autocomplete",
        json!({"targetingKey": "cust-1"}),
    );
    assert_eq!((ev.reason, ev.value()), (Reason::Default, &json!(true)));
    let ev = eval(
        &staging,
        "search-autocomplete",
        json!({"userAgent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}),
    );
    assert_eq!(
        (ev.reason, ev.rule_name(), ev.value()),
        (Reason::TargetingMatch, Some("crawlers"), &json!(false))
    );
}

#[test]
fn object_flag_serves_a_configuration() {
    let rs = ruleset("production");
    let ev = eval(
        &rs,
        "checkout-config",
        json!({"targetingKey": "c", "platform": "ios", "appVersion": "v5.4.1"}),
    );
    assert_eq!(
        (ev.reason, ev.variant_name()),
        (Reason::TargetingMatch, "express")
    );
    assert_eq!(ev.value()["expressCheckout"], json!(true));
    assert_eq!(ev.value()["maxCartItems"], json!(100));
    assert!(
        ev.value()["paymentMethods"]
            .as_array()
            .unwrap()
            .contains(&json!("apple-pay"))
    );
    // 5.3.9 < 5.4.0 in production, but enough for staging.
    let older = json!({"targetingKey": "c", "platform": "android", "appVersion": "5.3.9"});
    let ev = eval(&rs, "checkout-config", older.clone());
    assert_eq!(
        (ev.reason, ev.variant_name()),
        (Reason::Default, "standard")
    );
    assert_eq!(
        ev.value(),
        &json!({"maxCartItems": 50, "paymentMethods": ["card", "paypal", "invoice"], "expressCheckout": false, "addressAutocomplete": true})
    );
    let staging = ruleset("staging");
    assert_eq!(
        eval(&staging, "checkout-config", older).variant_name(),
        "express"
    );
    // The web shop is not an app, whatever its version.
    let web = json!({"targetingKey": "c", "platform": "web", "appVersion": "9.0.0"});
    assert_eq!(
        eval(&staging, "checkout-config", web).variant_name(),
        "standard"
    );
    let ev = eval(
        &staging,
        "checkout-config",
        json!({"targetingKey": "c", "appVersion": "3.9.0"}),
    );
    assert_eq!(
        (ev.rule_name(), ev.value()["paymentMethods"].clone()),
        (Some("legacy-apps"), json!(["card"]))
    );
}

#[test]
fn scheduled_launch_inside_and_outside_its_window() {
    let rs = ruleset("production");
    let visitor = json!({"targetingKey": "cust-5"});
    let banner = |now: &str| {
        eval_with(
            &rs,
            "black-friday-banner",
            visitor.clone(),
            now,
            &InitialRollouts,
        )
        .unwrap()
    };
    // Black Friday starts at midnight in New York, 05:00 UTC.
    let before = banner("2026-11-27T04:59:59Z");
    assert_eq!(
        (before.reason, before.value()),
        (Reason::Default, &json!(""))
    );
    let inside = banner("2026-11-27T05:00:00Z");
    assert_eq!(inside.reason, Reason::Rollout);
    assert_eq!(
        inside.value(),
        &json!("Black Friday: up to 50 % off everything")
    );
    assert_eq!(inside.detail().to_string(), "scheduled: inside the window");
    assert_eq!(banner("2026-11-30T23:00:00Z").reason, Reason::Rollout);
    // The end is exclusive.
    assert_eq!(banner("2026-12-01T05:00:00Z").reason, Reason::Default);
    // Staging previews it a week early.
    let staging = ruleset("staging");
    let ev = eval_with(
        &staging,
        "black-friday-banner",
        visitor.clone(),
        "2026-11-21T12:00:00Z",
        &InitialRollouts,
    )
    .unwrap();
    assert_eq!(ev.reason, Reason::Rollout);
    assert_eq!(banner("2026-11-21T12:00:00Z").reason, Reason::Default);
}

#[test]
fn segment_rollout_serves_members_only() {
    let rs = ruleset("production");
    // Members of vip-customers: a pilot account (segment → segment → keys),
    // a big spender, a long-standing regular.
    for member in [
        json!({"targetingKey": "cust-1001"}),
        json!({"targetingKey": "cust-5", "lifetimeSpend": 1500}),
        json!({"targetingKey": "cust-6", "signupDate": "2018-05-01T00:00:00Z", "orderCount": 25}),
    ] {
        let ev = eval(&rs, "loyalty-program", member.clone());
        assert_eq!(ev.reason, Reason::Rollout, "{member}");
        assert_eq!(ev.value(), &json!(true));
    }
    for outsider in [
        json!({"targetingKey": "cust-6", "lifetimeSpend": 20, "orderCount": 3}),
        json!({"targetingKey": "cust-7", "signupDate": "2018-05-01T00:00:00Z", "orderCount": 2}),
        json!({"targetingKey": "cust-1003"}), // a pilot in staging only
        json!({"targetingKey": "cust-8", "role": "beta-tester"}),
    ] {
        let ev = eval(&rs, "loyalty-program", outsider.clone());
        assert_eq!(ev.reason, Reason::Default, "{outsider}");
        assert_eq!(ev.value(), &json!(false));
    }
    // Staging also rolls out to pilots 1003 and 2042, and to beta testers.
    let staging = ruleset("staging");
    for member in [
        json!({"targetingKey": "cust-1003"}),
        json!({"targetingKey": "cust-8", "role": "beta-tester"}),
    ] {
        assert_eq!(
            eval(&staging, "loyalty-program", member).reason,
            Reason::Rollout
        );
    }
}

#[test]
fn canary_membership_follows_the_threshold() {
    for env in ENVS {
        let rs = ruleset(env);
        let users: Vec<Value> = (0..1000)
            .map(|i| json!({"targetingKey": format!("user-{i}"), "country": "US"}))
            .collect();
        let at_threshold = |t: u32| {
            let env_fixed = FixedRollouts(t);
            users
                .iter()
                .map(|u| {
                    eval_with(
                        &rs,
                        "new-checkout-flow",
                        u.clone(),
                        ORDINARY_DAY,
                        &env_fixed,
                    )
                    .unwrap()
                })
                .map(|ev| (ev.reason, ev.value().clone()))
                .collect::<Vec<_>>()
        };
        let nobody = at_threshold(0);
        assert!(
            nobody
                .iter()
                .all(|(r, v)| *r == Reason::Default && v == &json!(false)),
            "{env}"
        );
        let everyone = at_threshold(100_000);
        assert!(
            everyone
                .iter()
                .all(|(r, v)| *r == Reason::Rollout && v == &json!(true)),
            "{env}"
        );
        // Where the canary starts (stage 1, 10 %): about a tenth, and raising
        // the percentage only adds users.
        let first = users
            .iter()
            .filter(|u| eval(&rs, "new-checkout-flow", (*u).clone()).reason == Reason::Rollout)
            .count();
        assert!(
            (60..140).contains(&first),
            "{env}: {first} of 1000 inside at 10 %"
        );
        let thirty = at_threshold(30_000);
        let ten = at_threshold(10_000);
        assert_eq!(
            ten.iter().filter(|(r, _)| *r == Reason::Rollout).count(),
            first
        );
        for (a, b) in ten.iter().zip(&thirty) {
            assert!(a.0 != Reason::Rollout || b.0 == Reason::Rollout);
        }
    }
    // Without a targeting key nobody is inside, even at 100 %.
    let rs = ruleset("production");
    let ev = eval_with(
        &rs,
        "new-checkout-flow",
        json!({"country": "US"}),
        ORDINARY_DAY,
        &FixedRollouts(100_000),
    )
    .unwrap();
    assert_eq!(ev.reason, Reason::Default);
}

#[test]
fn linear_ramp_starts_at_from() {
    // Production ramps from 0 %: nobody at first; staging from 10 %.
    let production = ruleset("production");
    let staging = ruleset("staging");
    let count = |rs: &Ruleset| {
        (0..1000)
            .filter(|i| {
                eval(
                    rs,
                    "search-ranking-v2",
                    json!({"targetingKey": format!("u{i}")}),
                )
                .reason
                    == Reason::Rollout
            })
            .count()
    };
    assert_eq!(count(&production), 0);
    let s = count(&staging);
    assert!((60..140).contains(&s), "{s}");
    let ev = eval_with(
        &production,
        "search-ranking-v2",
        json!({"targetingKey": "u1"}),
        ORDINARY_DAY,
        &FixedRollouts(100_000),
    )
    .unwrap();
    assert_eq!(
        (ev.reason, ev.value()),
        (Reason::Rollout, &json!("semantic-v2"))
    );
}

#[test]
fn direct_rollout_serves_everyone_after_the_rules() {
    let rs = ruleset("production");
    let ev = eval(
        &rs,
        "order-tracking-page",
        json!({"targetingKey": "cust-3", "appVersion": "5.0.0"}),
    );
    assert_eq!((ev.reason, ev.value()), (Reason::Rollout, &json!(true)));
    let ev = eval(
        &rs,
        "order-tracking-page",
        json!({"targetingKey": "cust-3", "appVersion": "4.4.9"}),
    );
    assert_eq!(
        (ev.reason, ev.rule_name(), ev.value()),
        (Reason::TargetingMatch, Some("old-apps"), &json!(false))
    );
    let ev = eval(
        &rs,
        "order-tracking-page",
        json!({"targetingKey": "test-e2e-1", "appVersion": "4.0.0"}),
    );
    assert_eq!(
        (ev.rule_name(), ev.value()),
        (Some("test-accounts"), &json!(true))
    );
}

#[test]
fn experiment_splits_three_ways() {
    for env in ENVS {
        let rs = ruleset(env);
        let id = rs.flag_id("product-page-layout").unwrap();
        let (split, experiment) = rs.flag(id).experiment().expect("an experiment");
        assert_eq!(&*split.salt, "product-page-layout-2026-11");
        assert_eq!(experiment.control.as_deref(), Some("control"));
        let mut seen = std::collections::BTreeMap::<String, u32>::new();
        for i in 0..3000 {
            let ev = eval(
                &rs,
                "product-page-layout",
                json!({"targetingKey": format!("v{i}")}),
            );
            assert_eq!(ev.reason, Reason::Split);
            assert_eq!(ev.rule, None);
            *seen.entry(ev.variant_name().to_owned()).or_default() += 1;
        }
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(
            seen.values().all(|n| (850..1200).contains(n)),
            "{env}: {seen:?}"
        );
        let ev = eval(
            &rs,
            "product-page-layout",
            json!({"userAgent": "Bingbot/2.0"}),
        );
        assert_eq!(
            (ev.reason, ev.value()),
            (Reason::TargetingMatch, &json!("classic-grid"))
        );
    }
}

#[test]
fn numeric_rules_of_the_toml_flag() {
    let rs = ruleset("production");
    let threshold = |context: Value| {
        eval(&rs, "free-shipping-threshold", context)
            .value()
            .clone()
    };
    assert_eq!(
        threshold(json!({"targetingKey": "c", "loyaltyPoints": 6000, "orderCount": 0})),
        json!(0.0)
    );
    assert_eq!(
        threshold(json!({"targetingKey": "c", "loyaltyPoints": 5000, "orderCount": 0})),
        json!(29.0)
    );
    assert_eq!(
        threshold(
            json!({"targetingKey": "c", "orderCount": 3, "signupDate": "2026-11-10T09:00:00Z"})
        ),
        json!(29.0)
    );
    assert_eq!(
        threshold(
            json!({"targetingKey": "c", "orderCount": 3, "signupDate": "2026-10-10T09:00:00Z"})
        ),
        json!(49.0)
    );
    // Strings from query strings read as numbers.
    let ev = eval(&rs, "recommendations-count", json!({"downlinkMbps": "1.5"}));
    assert_eq!((ev.reason, ev.value()), (Reason::TargetingMatch, &json!(4)));
    assert_eq!(
        eval(&rs, "recommendations-count", json!({"downlinkMbps": 20})).value(),
        &json!(8)
    );
    let staging = ruleset("staging");
    assert_eq!(
        eval(
            &staging,
            "recommendations-count",
            json!({"viewportWidth": 1920})
        )
        .value(),
        &json!(12)
    );
}

#[test]
fn regional_rollout_by_country() {
    let production = ruleset("production");
    let staging = ruleset("staging");
    let pay_later = |rs: &Ruleset, context: Value| {
        let ev = eval(rs, "pay-later", context);
        (ev.rule_name().map(str::to_owned), ev.value().clone())
    };
    assert_eq!(
        pay_later(&production, json!({"country": "SE"})),
        (Some("launched-countries".into()), json!(true))
    );
    assert_eq!(
        pay_later(&production, json!({"country": "DE"})),
        (None, json!(false))
    );
    assert_eq!(
        pay_later(&staging, json!({"country": "DE"})),
        (Some("launched-countries".into()), json!(true))
    );
    assert_eq!(
        pay_later(&production, json!({"country": "SE", "age": 17})),
        (Some("minors".into()), json!(false))
    );
}

#[test]
fn bulk_orders_bucket_by_account() {
    let rs = ruleset("production");
    // Consumers (no accountId) never get it.
    let ev = eval(&rs, "bulk-order-form", json!({"targetingKey": "cust-1"}));
    assert_eq!(
        (ev.rule_name(), ev.value()),
        (Some("consumers"), &json!(false))
    );
    // Wholesale resellers always do.
    let ev = eval(
        &rs,
        "bulk-order-form",
        json!({"accountId": "acme", "tags": ["eu", "wholesale"]}),
    );
    assert_eq!(
        (ev.reason, ev.rule_name(), ev.value()),
        (Reason::TargetingMatch, Some("wholesale"), &json!(true))
    );
    // Everyone of one account lands on the same side; no targetingKey needed.
    let mut on = 0;
    for account in 0..1000 {
        let a = eval(
            &rs,
            "bulk-order-form",
            json!({"accountId": format!("acct-{account}"), "targetingKey": "buyer-1"}),
        );
        let b = eval(
            &rs,
            "bulk-order-form",
            json!({"accountId": format!("acct-{account}"), "targetingKey": "buyer-2"}),
        );
        assert_eq!(a.reason, Reason::Split);
        assert_eq!(a.variant_name(), b.variant_name());
        on += u32::from(a.value() == &json!(true));
    }
    assert!((60..140).contains(&on), "10 % split gave {on} of 1000");
}

#[test]
fn missing_targeting_key_where_only_a_split_could_place_it() {
    let rs = ruleset("production");
    let env = EvalEnv {
        now: at(ORDINARY_DAY),
        rollouts: &InitialRollouts,
    };
    let err = rs
        .evaluate("new-checkout-flow", &ctx(json!({"country": "DE"})), &env)
        .unwrap_err();
    assert_eq!(err, EvalError::TargetingKeyMissing);
    assert_eq!(err.code(), "TARGETING_KEY_MISSING");
    let err = rs
        .evaluate("product-page-layout", &Context::new(), &env)
        .unwrap_err();
    assert_eq!(err, EvalError::TargetingKeyMissing);
    // bucketBy: accountId. Without one, the `consumers` rule answers before
    // the split; with one, the split needs no targetingKey.
    let reason = rs
        .evaluate(
            "bulk-order-form",
            &ctx(json!({"targetingKey": "x", "accountId": null})),
            &env,
        )
        .map(|e| (e.reason, e.rule_name()));
    assert_eq!(reason, Ok((Reason::TargetingMatch, Some("consumers"))));
    let reason = rs
        .evaluate(
            "bulk-order-form",
            &ctx(json!({"accountId": "acct-9"})),
            &env,
        )
        .map(|e| e.reason);
    assert_eq!(reason, Ok(Reason::Split));
    // `userId` is the alias of targetingKey.
    let ev = rs
        .evaluate(
            "new-checkout-flow",
            &ctx(json!({"userId": "cust-42", "country": "DE"})),
            &env,
        )
        .unwrap();
    assert_eq!(ev.reason, Reason::Split);
}

#[test]
fn unknown_flag_is_not_found() {
    let rs = ruleset("production");
    let env = EvalEnv {
        now: at(ORDINARY_DAY),
        rollouts: &FixedRollouts(100_000),
    };
    let err = rs
        .evaluate(
            "new-checkout-flows",
            &ctx(json!({"targetingKey": "u"})),
            &env,
        )
        .unwrap_err();
    assert_eq!(err, EvalError::FlagNotFound);
    assert_eq!(err.code(), "FLAG_NOT_FOUND");
}

#[test]
fn static_flag_is_static() {
    for env in ENVS {
        let rs = ruleset(env);
        for context in [json!({}), json!({"targetingKey": "u", "country": "DE"})] {
            let ev = eval(&rs, "support-chat-provider", context);
            assert_eq!(ev.reason, Reason::Static);
            assert_eq!(ev.value(), &json!("helpdesk-widget-v3"));
            assert_eq!(ev.variant_name(), "helpdesk");
        }
    }
}
