//! `flagctl eval FLAG --env E [--ctx k=v]… [--context JSON] [--percentage P] [--at TIME]`

use anyhow::{Context as _, bail};
use hotswap_flags_core::escape::controls;
use hotswap_flags_core::eval::bucket::threshold;
use hotswap_flags_core::eval::{
    Explanation, FixedRollouts, InitialRollouts, RolloutState, RuleOutcome,
};
use hotswap_flags_core::model::Flag;
use hotswap_flags_core::{Context, EvalEnv, Ruleset};
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
    match ruleset.explain(&args.flag, ctx, &env) {
        Ok(explanation) => {
            let flag = ruleset
                .flag_id(&args.flag)
                .map(|id| ruleset.flag(id).definition());
            let metadata = match flag {
                Some(Ok(flag)) => metadata_rows(&flag),
                _ => Vec::new(),
            };
            match args.repo.format {
                OutputFormat::Json => {
                    let mut value = serde_json::to_value(&explanation).unwrap_or(Value::Null);
                    if let Value::Object(map) = &mut value {
                        for (name, text) in &metadata {
                            map.insert((*name).to_owned(), Value::String(text.clone()));
                        }
                    }
                    output::print_json(&value);
                }
                OutputFormat::Table => {
                    print!("{}", render_table(&explanation, metadata, output::width()));
                }
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

/// The flag's lifecycle metadata that is set (docs/lifecycle.md), as
/// written: shown so that whoever evaluates a flag sees whose it is and how
/// long it is meant to live.
fn metadata_rows(flag: &Flag) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    if let Some(owner) = &flag.owner {
        rows.push(("owner", owner.clone()));
    }
    if let Some(kind) = flag.lifecycle {
        rows.push(("kind", kind.to_string()));
    }
    if let Some(expires) = flag.expires {
        rows.push(("expires", expires.to_string()));
    }
    rows
}

/// An explanation for a terminal of `width` columns: fields, then each
/// rule and whether it matched, every value escaped.
pub fn render_table(
    x: &Explanation<'_>,
    metadata: Vec<(&'static str, String)>,
    width: usize,
) -> String {
    let ev = &x.evaluation;
    let dash = || "–".to_owned();
    let opt = |b: Option<u32>| b.map_or_else(dash, |b| b.to_string());
    let rollout_bucket = ev.rollout.and_then(|r| r.bucket);
    let mut rows = vec![
        (
            "flag",
            format!("{} (env {}, version {})", ev.flag.key, x.env, x.version),
        ),
        // `$codeDefault` serves no value: the caller uses its own default.
        (
            "value",
            ev.served_value()
                .map_or_else(|| "code default".to_owned(), output::show_value),
        ),
        (
            "variant",
            ev.served_variant().map_or_else(dash, str::to_owned),
        ),
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
        ("detail", ev.detail().to_string()),
    ];
    rows.extend(metadata);
    if let Some(r) = &x.rollout {
        let stage = r
            .stage
            .map(|s| format!(", stage {}", s + 1))
            .unwrap_or_default();
        rows.push((
            "rollout",
            format!("{} at {}%{stage}", r.strategy, r.percentage),
        ));
    }
    let mut out = output::fields_in(width, rows);
    out.push('\n');
    if !x.rules.is_empty() {
        out.push_str("\nrules\n");
        for (i, rule) in x.rules.iter().enumerate() {
            let mark = match rule.outcome {
                RuleOutcome::Matched => "✓ matched",
                RuleOutcome::NoMatch => "✗ no match",
                RuleOutcome::NotReached => "· not reached",
            };
            let name = controls(rule.name);
            out.push_str(&format!("  {}. {name:<24} {mark}\n", i + 1));
        }
    }
    out
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
