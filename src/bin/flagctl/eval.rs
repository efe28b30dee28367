//! `flagctl eval FLAG --env E [--ctx k=v]… [--context JSON] [--percentage P] [--at TIME]`

use anyhow::{Context as _, bail};
use hotswap_flags::eval::bucket::{percentage, threshold};
use hotswap_flags::eval::{FixedRollouts, InitialRollouts, RolloutState};
use hotswap_flags::{Context, EvalEnv, Evaluation, Ruleset};
use jiff::{Timestamp, ZonedDateTime};
use serde_json::{Map, Value, json};

use crate::cli::{EvalArgs, OutputFormat};
use crate::output;
use crate::repo_dir;
use crate::{Failure, Outcome, fail};

pub fn run(args: &EvalArgs) -> Result<Outcome, Failure> {
    let ruleset = repo_dir::ruleset(args.repo.repo.as_deref(), &args.env)?;
    ruleset.find_flag(&args.flag)?;
    let ctx = build_context(args)?;
    let now = match &args.at {
        Some(text) => parse_at(text)?,
        None => Timestamp::now(),
    };
    match args.percentage {
        Some(p) if !(0.0..=100.0).contains(&p) => {
            fail!("--percentage {p} is not between 0 and 100")
        }
        Some(p) => Ok(report(
            args,
            &ruleset,
            &ctx,
            now,
            &FixedRollouts(threshold(p)),
        )),
        None => Ok(report(args, &ruleset, &ctx, now, &InitialRollouts)),
    }
}

fn report<R: RolloutState>(
    args: &EvalArgs,
    ruleset: &Ruleset,
    ctx: &Context,
    now: Timestamp,
    rollouts: &R,
) -> Outcome {
    let env = EvalEnv { now, rollouts };
    match ruleset.evaluate(&args.flag, ctx, &env) {
        Ok(ev) => {
            let rules = rule_trace(ruleset, &ev, ctx, now);
            match args.repo.format {
                OutputFormat::Json => output::print_json(&eval_json(args, ruleset, &ev, &rules)),
                OutputFormat::Table => print_table(args, ruleset, &ev, &rules),
            }
            Outcome::Ok
        }
        Err(e) => {
            match args.repo.format {
                OutputFormat::Json => output::print_json(&json!({
                    "key": args.flag,
                    "env": args.env,
                    "version": ruleset.version(),
                    "error": {"code": e.code(), "message": e.to_string()},
                })),
                OutputFormat::Table => println!("{}: {}: {e}", args.flag, e.code()),
            }
            Outcome::Findings
        }
    }
}

/// Whether each rule matched, up to the one that did ("not reached" after).
#[derive(Clone, Copy, PartialEq, Eq)]
enum RuleStatus {
    Matched,
    NoMatch,
    NotReached,
}

fn rule_trace<'r>(
    ruleset: &'r Ruleset,
    ev: &Evaluation<'r>,
    ctx: &Context,
    now: Timestamp,
) -> Vec<(&'r str, RuleStatus)> {
    let flag = ev.flag;
    let decided = ev
        .rule
        .unwrap_or(if flag.enabled { flag.rules.len() } else { 0 });
    flag.rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let status = if !flag.enabled || i > decided {
                RuleStatus::NotReached
            } else if i == decided || rule.when.matches(ctx, ruleset, now) {
                RuleStatus::Matched
            } else {
                RuleStatus::NoMatch
            };
            (&*rule.name, status)
        })
        .collect()
}

fn bucket_json(ev: &Evaluation<'_>) -> Value {
    let rollout = ev.rollout.and_then(|r| r.bucket);
    if rollout.is_none() && ev.split_bucket.is_none() {
        return Value::Null;
    }
    json!({"rollout": rollout, "split": ev.split_bucket})
}

fn eval_json(
    args: &EvalArgs,
    ruleset: &Ruleset,
    ev: &Evaluation<'_>,
    rules: &[(&str, RuleStatus)],
) -> Value {
    json!({
        "key": args.flag,
        "env": args.env,
        "version": ruleset.version(),
        "value": ev.value(),
        "variant": ev.variant_name(),
        "reason": ev.reason.as_str(),
        "rule": ev.rule_name(),
        "bucket": bucket_json(ev),
        "detail": ev.detail(),
        "rules": rules.iter().map(|(name, status)| json!({
            "name": name,
            "matched": match status {
                RuleStatus::Matched => Value::Bool(true),
                RuleStatus::NoMatch => Value::Bool(false),
                RuleStatus::NotReached => Value::Null,
            },
        })).collect::<Vec<_>>(),
        "rollout": ev.flag.rollout.as_ref().zip(ev.rollout).map(|(r, o)| json!({
            "strategy": r.strategy.as_str(),
            "percentage": percentage(o.position.threshold),
            "stage": o.position.stage,
            "bucket": o.bucket,
            "inside": o.inside,
        })),
    })
}

fn print_table(
    args: &EvalArgs,
    ruleset: &Ruleset,
    ev: &Evaluation<'_>,
    rules: &[(&str, RuleStatus)],
) {
    let dash = || "–".to_owned();
    let opt = |b: Option<u32>| b.map_or_else(dash, |b| b.to_string());
    let rollout_bucket = ev.rollout.and_then(|r| r.bucket);
    let mut rows = vec![
        (
            "flag",
            format!(
                "{} (env {}, version {})",
                args.flag,
                args.env,
                ruleset.version()
            ),
        ),
        ("value", output::show_value(ev.value())),
        ("variant", ev.variant_name().to_owned()),
        ("reason", ev.reason.as_str().to_owned()),
        ("rule", ev.rule_name().map_or_else(dash, str::to_owned)),
        (
            "bucket",
            format!(
                "rollout {}, split {}",
                opt(rollout_bucket),
                opt(ev.split_bucket)
            ),
        ),
        ("detail", ev.detail()),
    ];
    if let Some((r, o)) = ev.flag.rollout.as_ref().zip(ev.rollout) {
        let stage = o
            .position
            .stage
            .map(|s| format!(", stage {}", s + 1))
            .unwrap_or_default();
        rows.push((
            "rollout",
            format!(
                "{} at {}%{stage}",
                r.strategy,
                percentage(o.position.threshold)
            ),
        ));
    }
    println!("{}", output::fields(rows));
    if !rules.is_empty() {
        println!("\nrules");
        for (i, (name, status)) in rules.iter().enumerate() {
            let mark = match status {
                RuleStatus::Matched => "✓ matched",
                RuleStatus::NoMatch => "✗ no match",
                RuleStatus::NotReached => "· not reached",
            };
            println!("  {}. {name:<24} {mark}", i + 1);
        }
    }
}

/// `--context` (JSON or @file), then each `--ctx` on top of it.
fn build_context(args: &EvalArgs) -> anyhow::Result<Context> {
    let mut attrs = match &args.context {
        None => Map::new(),
        Some(text) => {
            let text = match text.strip_prefix('@') {
                Some(path) => {
                    std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?
                }
                None => text.clone(),
            };
            match serde_json::from_str(&text).context("--context is not valid JSON")? {
                Value::Object(map) => map,
                _ => bail!("--context must be a JSON object"),
            }
        }
    };
    for item in &args.ctx {
        let (name, value) = if let Some((name, json)) = item.split_once(":=") {
            let value = serde_json::from_str(json)
                .with_context(|| format!("--ctx {item}: `{json}` is not JSON"))?;
            (name, value)
        } else if let Some((name, text)) = item.split_once('=') {
            (name, Value::String(text.to_owned()))
        } else {
            bail!("--ctx {item}: write name=value (a string) or name:=json");
        };
        if name.is_empty() {
            bail!("--ctx {item}: the attribute name is empty");
        }
        attrs.insert(name.to_owned(), value);
    }
    Ok(Context::from_map(attrs)?)
}

/// RFC 3339, or a zoned time such as `2025-12-24T18:00[America/New_York]`.
pub fn parse_at(text: &str) -> anyhow::Result<Timestamp> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    text.parse::<ZonedDateTime>()
        .map(|z| z.timestamp())
        .map_err(|_| anyhow::anyhow!("--at `{text}`: write RFC 3339 (2025-12-24T18:00:00Z) or 2025-12-24T18:00[America/New_York]"))
}
