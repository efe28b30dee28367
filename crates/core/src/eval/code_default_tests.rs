//! `$codeDefault`: compiled as a synthetic last variant, evaluated like any
//! variant, answered without a value (docs/flag-format.md §5, §10).

use serde_json::{Value, json};

use crate::eval::{Context, EvalEnv, Reason};
use crate::model::CODE_DEFAULT;
use crate::ruleset::Ruleset;
use crate::testing::{check_yaml, compile_yaml};

const FLAGS: &str = "
flags:
  static-code-default:
    type: boolean
    variants: { on: true, off: false }
    default: $codeDefault
  staff-first:
    type: string
    variants: { new: N, old: O }
    default: $codeDefault
    rules:
      - { name: staff, when: { attr: email, op: ends_with, value: '@example.com' }, serve: new }
      - { name: legacy, when: { attr: plan, op: eq, value: legacy }, serve: $codeDefault }
  killed:
    type: integer
    variants: { one: 1, ten: 10 }
    default: ten
    enabled: false
    offVariant: $codeDefault
    rules:
      - { name: vip, when: { attr: plan, op: eq, value: vip }, serve: one }
  killed-without-off-variant:
    type: float
    variants: { half: 0.5 }
    default: $codeDefault
    enabled: false
  plain:
    type: boolean
    variants: { on: true, off: false }
    default: off
  follows:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules:
      - { name: deferred, when: { flag: { key: staff-first, variants: [$codeDefault] } }, serve: on }
";

fn eval(rs: &Ruleset, key: &str, ctx: Value) -> (Option<Value>, String, Reason) {
    let ctx = Context::from_json(ctx).unwrap();
    let ev = rs.evaluate(key, &ctx, &EvalEnv::now()).unwrap();
    (
        ev.served_value().cloned(),
        ev.variant_name().to_owned(),
        ev.reason,
    )
}

#[test]
fn compiles_to_a_synthetic_last_variant() {
    let rs = compile_yaml(FLAGS);
    let f = rs.flag(rs.flag_id("staff-first").unwrap());
    assert_eq!(f.variants.len(), 3);
    assert_eq!(f.code_default, Some(2));
    assert_eq!(&*f.variants[2].name, CODE_DEFAULT);
    assert_eq!(f.variants[2].value, Value::Null);
    assert_eq!(&*f.variants[2].value_json, "null");
    assert_eq!(f.written_variants().len(), 2);
    assert_eq!(f.variant_id(CODE_DEFAULT), Some(2));
    // The kill switch falls back to the default, which is the code default.
    let f = rs.flag(rs.flag_id("killed-without-off-variant").unwrap());
    assert_eq!(f.code_default, Some(1));
    assert_eq!(f.off_variant, 1);
    // A flag that never names it has no synthetic variant.
    let f = rs.flag(rs.flag_id("plain").unwrap());
    assert_eq!((f.variants.len(), f.code_default), (2, None));
    assert_eq!(f.written_variants().len(), 2);
}

#[test]
fn evaluates_with_the_usual_reasons_and_no_value() {
    let rs = compile_yaml(FLAGS);
    let cd = || CODE_DEFAULT.to_owned();
    assert_eq!(
        eval(&rs, "static-code-default", json!({})),
        (None, cd(), Reason::Static)
    );
    assert_eq!(
        eval(&rs, "staff-first", json!({"email": "ana@example.com"})),
        (Some(json!("N")), "new".into(), Reason::TargetingMatch)
    );
    assert_eq!(
        eval(&rs, "staff-first", json!({"plan": "legacy"})),
        (None, cd(), Reason::TargetingMatch)
    );
    assert_eq!(
        eval(&rs, "staff-first", json!({"plan": "pro"})),
        (None, cd(), Reason::Default)
    );
    assert_eq!(
        eval(&rs, "killed", json!({"plan": "vip"})),
        (None, cd(), Reason::Disabled)
    );
    assert_eq!(
        eval(&rs, "killed-without-off-variant", json!({})),
        (None, cd(), Reason::Disabled)
    );
    // Another flag's code default is a variant a `flag` condition can name.
    assert_eq!(
        eval(&rs, "follows", json!({"plan": "pro"})),
        (Some(json!(true)), "on".into(), Reason::TargetingMatch)
    );
    assert_eq!(
        eval(&rs, "follows", json!({"email": "ana@example.com"})),
        (Some(json!(false)), "off".into(), Reason::Default)
    );
    let ctx = Context::from_json(json!({})).unwrap();
    let ev = rs.evaluate("killed", &ctx, &EvalEnv::now()).unwrap();
    assert!(ev.is_code_default());
    assert_eq!(ev.served_variant(), None);
    assert_eq!(ev.value(), &Value::Null);
    assert_eq!(
        ev.detail(),
        "flag is disabled; the caller uses its code default"
    );
}

#[test]
fn flipping_enabled_restores_the_flag() {
    let rs = compile_yaml(&FLAGS.replace(
        "    enabled: false\n    offVariant: $codeDefault\n",
        "    offVariant: $codeDefault\n",
    ));
    assert_eq!(
        eval(&rs, "killed", json!({"plan": "vip"})),
        (Some(json!(1)), "one".into(), Reason::TargetingMatch)
    );
    assert_eq!(
        eval(&rs, "killed", json!({})),
        (Some(json!(10)), "ten".into(), Reason::Default)
    );
}

#[test]
fn explanations_carry_no_value() {
    let rs = compile_yaml(FLAGS);
    let ctx = Context::from_json(json!({"plan": "pro"})).unwrap();
    let x = rs.explain("staff-first", &ctx, &EvalEnv::now()).unwrap();
    let v = serde_json::to_value(&x).unwrap();
    assert_eq!(v["codeDefault"], json!(true), "{v}");
    assert!(
        v.get("value").is_none() && v.get("variant").is_none(),
        "{v}"
    );
    assert_eq!(v["reason"], "DEFAULT");
    let ctx = Context::from_json(json!({"email": "ana@example.com"})).unwrap();
    let v =
        serde_json::to_value(rs.explain("staff-first", &ctx, &EvalEnv::now()).unwrap()).unwrap();
    assert_eq!((&v["value"], &v["variant"]), (&json!("N"), &json!("new")));
    assert!(v.get("codeDefault").is_none(), "{v}");
}

/// Each error: (message, key path).
fn errors(yaml: &str) -> Vec<(String, String, Option<String>)> {
    check_yaml(yaml)
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.message.clone(), d.path.to_string(), d.hint.clone()))
        .collect()
}

fn has(errs: &[(String, String, Option<String>)], message: &str, path: &str) -> bool {
    errs.iter()
        .any(|(m, p, h)| m.contains(message) && p == path && h.is_some())
}

#[test]
fn refused_where_only_a_variant_may_stand() {
    let errs = errors(
        "
flags:
  s:
    type: boolean
    variants: { on: true, off: false }
    offVariant: off
    default:
      split: { on: 1, $codeDefault: 1 }
      experiment: { control: $codeDefault }
  r:
    type: boolean
    variants: { on: true, off: false }
    default: $codeDefault
    rollout:
      strategy: canary
      serve: $codeDefault
      stages: [{ percentage: 10, duration: 1h }, { percentage: 100 }]
      health:
        checks:
          - { name: explicit, compare: baseline, baseline: $codeDefault, failures: 'f{v=\"{{variant}}\"}', total: 't{v=\"{{variant}}\"}' }
",
    );
    assert!(
        has(
            &errs,
            "cannot be a split key",
            "flags.s.default.split.$codeDefault"
        ),
        "{errs:?}"
    );
    assert!(
        has(
            &errs,
            "cannot be an experiment's control",
            "flags.s.default.experiment.control"
        ),
        "{errs:?}"
    );
    assert!(
        has(&errs, "cannot be rolled out", "flags.r.rollout.serve"),
        "{errs:?}"
    );
    assert!(
        has(
            &errs,
            "cannot be a baseline",
            "flags.r.rollout.health.checks[0].baseline"
        ),
        "{errs:?}"
    );
}

#[test]
fn a_comparison_against_a_code_default_kill_switch_names_its_baseline() {
    let flag = "
flags:
  r:
    type: boolean
    variants: { on: true, off: false }
    default: DEFAULT
    OFF
    rollout:
      strategy: canary
      serve: on
      stages: [{ percentage: 10, duration: 1h }, { percentage: 100 }]
      health:
        checks:
          - { name: c, compare: baseline, failures: 'f{v=\"{{variant}}\"}', total: 't{v=\"{{variant}}\"}' BASELINE }
";
    let case = |default: &str, off: &str, baseline: &str| {
        errors(
            &flag
                .replace("DEFAULT", default)
                .replace("OFF", off)
                .replace(" BASELINE", baseline),
        )
    };
    let need = "this comparison needs a `baseline`";
    // offVariant `$codeDefault`, or left out with a `$codeDefault` default.
    let errs = case("off", "offVariant: $codeDefault", "");
    assert!(
        has(&errs, need, "flags.r.rollout.health.checks[0]"),
        "{errs:?}"
    );
    let errs = case("$codeDefault", "", "");
    assert!(
        has(&errs, need, "flags.r.rollout.health.checks[0]"),
        "{errs:?}"
    );
    // An explicit baseline, or a kill switch serving a variant: fine.
    assert_eq!(case("$codeDefault", "", ", baseline: off"), []);
    assert_eq!(case("$codeDefault", "offVariant: off", ""), []);
}

#[test]
fn variant_names_cannot_start_with_a_dollar() {
    let errs = errors(
        "
flags:
  d:
    type: string
    variants: { $codeDefault: x, $price: y, ok: z }
    default: ok
",
    );
    assert!(
        has(
            &errs,
            "variant `$codeDefault` starts with `$`",
            "flags.d.variants.$codeDefault"
        ),
        "{errs:?}"
    );
    assert!(
        has(
            &errs,
            "variant `$price` starts with `$`",
            "flags.d.variants.$price"
        ),
        "{errs:?}"
    );
}

#[test]
fn a_flag_condition_names_it_only_on_a_flag_that_serves_it() {
    let errs = errors(
        "
flags:
  p:
    type: boolean
    variants: { on: true, off: false }
    default: off
  c:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules:
      - { name: r, when: { flag: { key: p, variants: [$codeDefault] } }, serve: on }
",
    );
    assert!(
        has(
            &errs,
            "flag `p` never serves `$codeDefault`",
            "flags.c.rules[0].when.flag.variants[0]"
        ),
        "{errs:?}"
    );
}
