//! `flagctl experiment analyze FLAG (--data FILE | --daemon URL [--metrics-url URL]
//! [--token T]) [--env E] [--alpha A] [--mde M]`
//!
//! The statistics live in `hotswap_flags::stats`; this module finds the
//! experiment's settings (the flag's `experiment` block and split weights,
//! when `--env` is given — required with `--daemon`), loads the counts (a
//! file, or flagd and Prometheus through `hotswap_flags::client::experiment`),
//! and prints the analysis.
//!
//! Exit codes: 0 the analysis ran (a sample-ratio mismatch included: it is
//! reported in the output, `srm.mismatch` for scripts); 1 the data is bad
//! (malformed file, impossible counts, variants that do not match the split,
//! an unusable Prometheus answer, flagd counting another version of the
//! experiment); 2 usage and I/O errors (unreadable file, unknown flag or
//! environment, flagd or Prometheus unreachable or refusing).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{ArgGroup, Args, Subcommand};
use hotswap_flags::client::experiment::{self as experiment_data, DataError};
use hotswap_flags::daemon::exposure::ExperimentSpec;
use hotswap_flags::prometheus::Prometheus;
use hotswap_flags::stats::experiment::{
    DEFAULT_ALPHA, DEFAULT_MDE, PowerPlan, SRM_THRESHOLD, VariantResult,
};
use hotswap_flags::stats::{
    Analysis, AnalysisConfig, ExperimentData, Interval, Metric, StatsError, analyze,
};
use serde_json::{Value, json};

use crate::cli::{OutputFormat, RepoArgs};
use crate::output;
use crate::repo_dir;
use crate::{Failure, Outcome, fail};

/// `flagctl experiment`
#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// What to do with the experiment.
    #[command(subcommand)]
    pub command: ExperimentCommand,
}

/// `flagctl experiment …`
#[derive(Debug, Subcommand)]
pub enum ExperimentCommand {
    /// Analyse an A/B/n experiment: rate or mean per variant with intervals,
    /// lift, p-values (Holm-adjusted and always-valid sequential), an overall
    /// test, the sample-ratio-mismatch check and power.
    Analyze(AnalyzeArgs),
}

/// `flagctl experiment analyze`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["data", "daemon"])))]
pub struct AnalyzeArgs {
    /// The flag key. With --env its `experiment` block supplies the control,
    /// the split weights (for the sample-ratio check), alpha and the minimum
    /// detectable effect; without, the key only labels the output.
    pub flag: String,

    /// The counts: JSON with exposures and conversions (or sum and
    /// sumSquares) per variant, see docs/experiments.md; `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,

    /// Read exposures from a running flagd (GET /api/v1/experiments/FLAG)
    /// and conversions from Prometheus, with the flag's
    /// `experiment.conversions` query from --env's definition.
    #[arg(long, value_name = "URL", requires = "env")]
    pub daemon: Option<String>,

    /// Bearer token for flagd's API, with --daemon (when it requires one).
    #[arg(
        long,
        env = "FLAGCTL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// The Prometheus endpoint for the `experiment.conversions` query, with
    /// --daemon (default: flags.toml's `metrics.prometheus`).
    // `requires` alone lets `--data` satisfy it (clap counts the `source`
    // group), hence the explicit conflict.
    #[arg(long, value_name = "URL", requires = "daemon", conflicts_with = "data")]
    pub metrics_url: Option<String>,

    /// Read the flag's experiment settings from this environment.
    #[arg(long, short, value_name = "ENV")]
    pub env: Option<String>,

    /// Significance level (default: the flag's `experiment.alpha`, else 0.05).
    #[arg(long, value_name = "A")]
    pub alpha: Option<f64>,

    /// Minimum detectable effect, relative: 0.05 = 5 % (default: the flag's
    /// `experiment.minimumDetectableEffect`, else 0.05).
    #[arg(long, value_name = "MDE")]
    pub mde: Option<f64>,

    #[command(flatten)]
    pub repo: RepoArgs,
}

pub fn run(args: &ExperimentArgs) -> Result<Outcome, Failure> {
    match &args.command {
        ExperimentCommand::Analyze(a) => run_analyze(a),
    }
}

/// What the flag's definition contributes to the analysis.
struct FlagSettings {
    env: String,
    control: String,
    weights: Vec<(String, f64)>,
    alpha: Option<f64>,
    mde: Option<f64>,
    /// The experiment's spec hash, to check flagd counts the same spec.
    spec_hash: String,
    /// `experiment.conversions` with a template name resolved.
    conversions: Option<String>,
    /// `flags.toml`'s `[metrics] prometheus`.
    prometheus: Option<String>,
}

/// Where the counts come from: a file, or flagd (exposures from `GET
/// /api/v1/experiments/{flag}`) and Prometheus (the flag's
/// `experiment.conversions` query), assembled into the same
/// [`ExperimentData`] a file gives.
enum Source<'a> {
    File(&'a Path),
    Daemon {
        url: &'a str,
        metrics_url: Option<&'a str>,
        token: Option<&'a str>,
    },
}

impl<'a> Source<'a> {
    fn of(args: &'a AnalyzeArgs) -> anyhow::Result<Self> {
        match (&args.data, &args.daemon) {
            (Some(path), None) => Ok(Source::File(path)),
            (None, Some(url)) => Ok(Source::Daemon {
                url,
                metrics_url: args.metrics_url.as_deref(),
                token: args.token.as_deref(),
            }),
            _ => bail!("give either --data FILE or --daemon URL"),
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::File(p) if p.as_os_str() == "-" => "standard input".into(),
            Source::File(p) => p.display().to_string(),
            Source::Daemon { url, .. } => url.to_string(),
        }
    }
}

/// Counts and, from flagd, where they came from.
struct Loaded {
    data: ExperimentData,
    /// With --daemon: flagd's window and the queries sent (for the output).
    origin: Option<Value>,
}

/// Loads the counts; bad data is a finding (exit 1).
fn load(
    source: &Source<'_>,
    flag: &str,
    settings: Option<&FlagSettings>,
) -> Result<Loaded, Failure> {
    match source {
        Source::File(path) => {
            let text = if path.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("cannot read the data from standard input")?;
                s
            } else {
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the data file {}", path.display()))?
            };
            ExperimentData::from_json(&text)
                .map(|data| Loaded { data, origin: None })
                .map_err(|e| {
                    Failure::Findings(match e {
                        StatsError::File(d) => d.in_file(source.describe()).to_string(),
                        e => format!("error: {}: {e}", source.describe()),
                    })
                })
        }
        Source::Daemon {
            url,
            metrics_url,
            token,
        } => {
            // clap requires --env with --daemon.
            let settings = settings.context("--daemon needs --env")?;
            load_from_daemon(url, *metrics_url, *token, flag, settings)
        }
    }
}

/// Exposures from flagd, conversions from Prometheus.
fn load_from_daemon(
    url: &str,
    metrics_url: Option<&str>,
    token: Option<&str>,
    flag: &str,
    settings: &FlagSettings,
) -> Result<Loaded, Failure> {
    let Some(template) = settings.conversions.as_deref() else {
        fail!(
            "flag `{flag}` in environment `{}` has no `experiment.conversions` query, so there \
             is nothing to count conversions with: add one (docs/flag-format.md §12), or use \
             --data FILE",
            settings.env
        );
    };
    let Some(prometheus_url) = metrics_url.or(settings.prometheus.as_deref()) else {
        fail!(
            "no Prometheus to ask for conversions: give --metrics-url URL or set [metrics] \
             prometheus in flags.toml"
        );
    };
    let timeout = std::time::Duration::from_secs(10);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let findings = |e: String| Failure::Findings(format!("error: {e}"));
    let (report, conversions) = runtime.block_on(async {
        let client = hotswap_flags::client::client().map_err(anyhow::Error::msg)?;
        let report = match experiment_data::exposures(&client, url, flag, token, timeout).await {
            Ok(r) => r,
            Err(DataError::BadAnswer(e)) => return Err(findings(e)),
            Err(e) => return Err(e.into()),
        };
        if report.spec_hash != settings.spec_hash {
            return Err(findings(format!(
                "flagd at {url} counts exposures for another version of experiment `{flag}` \
                 (spec {}, ruleset {}) than environment `{}` of this repository defines (spec \
                 {}): the split, salt or experiment block differ, so the counts do not belong \
                 to these settings. Analyse the revision flagd serves.",
                report.spec_hash, report.version, settings.env, settings.spec_hash
            )));
        }
        let prometheus = Prometheus::new(timeout).map_err(anyhow::Error::msg)?;
        match experiment_data::conversions(&prometheus, prometheus_url, &report, template).await {
            Ok(conversions) => Ok((report, conversions)),
            Err(DataError::BadAnswer(e)) => Err(findings(e)),
            Err(e) => Err(e.into()),
        }
    })?;
    for c in conversions.iter().filter(|c| c.empty) {
        eprintln!(
            "note: the conversions query matched no series for variant `{}`: counted as 0 ({})",
            c.variant, c.query
        );
    }
    let origin = json!({
        "daemon": url,
        "prometheus": prometheus_url,
        "specHash": report.spec_hash,
        "version": report.version,
        "since": report.since.to_string(),
        "window": experiment_data::window(report.since, report.at),
        "queries": conversions
            .iter()
            .map(|c| (c.variant.clone(), Value::String(c.query.clone())))
            .collect::<serde_json::Map<_, _>>(),
    });
    Ok(Loaded {
        data: experiment_data::assemble(&report, &conversions),
        origin: Some(origin),
    })
}

fn check_parameter(
    name: &str,
    value: Option<f64>,
    ok: impl Fn(f64) -> bool,
    range: &str,
) -> anyhow::Result<()> {
    match value {
        Some(v) if !ok(v) => bail!("{name} {v}: must be {range}"),
        _ => Ok(()),
    }
}

fn run_analyze(args: &AnalyzeArgs) -> Result<Outcome, Failure> {
    check_parameter(
        "--alpha",
        args.alpha,
        |a| a > 0.0 && a < 1.0,
        "strictly between 0 and 1",
    )?;
    check_parameter(
        "--mde",
        args.mde,
        |m| m > 0.0 && m.is_finite(),
        "a positive number (0.05 = 5 %)",
    )?;
    let source = Source::of(args)?;
    let settings = match &args.env {
        None => None,
        Some(env) => Some(flag_settings(args, env)?),
    };
    let Loaded { data, origin } = load(&source, &args.flag, settings.as_ref())?;
    let config = AnalysisConfig {
        alpha: args
            .alpha
            .or(settings.as_ref().and_then(|s| s.alpha))
            .unwrap_or(DEFAULT_ALPHA),
        minimum_detectable_effect: args
            .mde
            .or(settings.as_ref().and_then(|s| s.mde))
            .unwrap_or(DEFAULT_MDE),
        control: settings.as_ref().map(|s| s.control.clone()),
        weights: settings.as_ref().map(|s| s.weights.clone()),
        ..AnalysisConfig::default()
    };
    let analysis = match analyze(&data, &config) {
        Ok(a) => a,
        Err(e) => {
            let hint = if origin.is_some() {
                "\n    hint: exposures are flagd's evaluations since the experiment's spec last \
                 changed; the conversions query must count the same units over {{window}} \
                 (docs/experiments.md §9)"
            } else {
                ""
            };
            return Err(Failure::Findings(format!(
                "error: {}: {e}{hint}",
                source.describe()
            )));
        }
    };
    let env = settings.as_ref().map(|s| s.env.as_str());
    match args.repo.format {
        OutputFormat::Json => {
            let mut out = analysis_json(&args.flag, env, &analysis);
            if let Some(origin) = origin {
                out["source"] = origin;
            }
            output::print_json(&out)
        }
        OutputFormat::Table => {
            if let Some(origin) = &origin {
                println!(
                    "exposures from flagd {} since {} ({}), conversions from Prometheus {} over {}\n",
                    origin["daemon"].as_str().unwrap_or(""),
                    origin["since"].as_str().unwrap_or(""),
                    origin["version"].as_str().unwrap_or(""),
                    origin["prometheus"].as_str().unwrap_or(""),
                    origin["window"].as_str().unwrap_or("")
                );
            }
            print_table(&args.flag, env, &analysis)
        }
    }
    Ok(Outcome::Ok)
}

/// The flag's experiment settings in `env`; an environment that does not
/// validate is a finding (exit 1).
fn flag_settings(args: &AnalyzeArgs, env: &str) -> Result<FlagSettings, Failure> {
    let ruleset = repo_dir::ruleset(args.repo.repo.as_deref(), env)?;
    let id = ruleset.find_flag(&args.flag)?;
    let Some((_, spec)) = ExperimentSpec::of(ruleset.flag(id)) else {
        // --daemon needs --env (flagd's counts are checked against the
        // flag's definition), so leaving it out is advice only for --data.
        let alternative = if args.daemon.is_some() {
            "; flagd counts exposures only for a split with an experiment"
        } else {
            ", or leave out --env to analyse the data without the flag's settings"
        };
        fail!(
            "flag `{}` in environment `{env}` has no experiment: add an `experiment:` block to \
             one of its splits (docs/flag-format.md §12){alternative}",
            args.flag
        );
    };
    let ExperimentSpec {
        control,
        weights,
        spec_hash,
        experiment,
        ..
    } = spec;
    let metrics = ruleset.metrics();
    // A template name was resolved (and checked) by validation; do the same.
    let conversions = experiment
        .conversions
        .as_ref()
        .map(|q| metrics.queries.get(q).unwrap_or(q).clone());
    Ok(FlagSettings {
        env: env.to_owned(),
        control,
        weights,
        alpha: experiment.alpha,
        mde: experiment.minimum_detectable_effect,
        spec_hash,
        conversions,
        prometheus: metrics.prometheus.clone(),
    })
}

// ------------------------------------------------------------------ JSON

/// A count as JSON: an integer when it is one (exposures usually are).
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

fn pair(i: Interval) -> Value {
    json!([i.lower, i.upper])
}

fn variant_json(metric: Metric, v: &VariantResult) -> Value {
    let mut out = json!({
        "name": v.name,
        "exposures": number(v.exposures),
    });
    let estimate_key = match metric {
        Metric::Conversion => "rate",
        Metric::Continuous => "mean",
    };
    out[estimate_key] = json!(v.estimate);
    out["ci"] = pair(v.ci);
    out["isControl"] = json!(v.comparison.is_none());
    match &v.comparison {
        Some(c) => {
            out["diff"] = json!(c.diff);
            out["diffCi"] = pair(c.diff_ci);
            out["lift"] = json!(c.lift);
            out["statistic"] = json!(c.statistic);
            out["pValue"] = json!(c.p_value);
            out["adjustedPValue"] = json!(c.adjusted_p_value);
            out["sequentialPValue"] = json!(c.sequential_p_value);
            out["adjustedSequentialPValue"] = json!(c.adjusted_sequential_p_value);
            out["significant"] = json!(c.significant);
            out["sequentialSignificant"] = json!(c.sequential_significant);
            out["tau"] = json!(c.tau);
        }
        None => {
            for key in [
                "diff",
                "diffCi",
                "lift",
                "statistic",
                "pValue",
                "adjustedPValue",
                "sequentialPValue",
                "adjustedSequentialPValue",
                "significant",
                "sequentialSignificant",
                "tau",
            ] {
                out[key] = Value::Null;
            }
        }
    }
    out
}

fn shares(a: &Analysis, shares: &[f64]) -> Value {
    Value::Object(
        a.variants
            .iter()
            .zip(shares)
            .map(|(v, s)| (v.name.clone(), json!(s)))
            .collect(),
    )
}

fn analysis_json(flag: &str, env: Option<&str>, a: &Analysis) -> Value {
    json!({
        "flag": flag,
        "env": env,
        "metric": a.metric.as_str(),
        "control": a.control,
        "alpha": a.alpha,
        "confidenceLevel": a.confidence_level,
        "minimumDetectableEffect": a.minimum_detectable_effect,
        "looks": a.looks,
        "variants": a.variants.iter().map(|v| variant_json(a.metric, v)).collect::<Vec<_>>(),
        "overall": {
            "test": a.overall.test,
            "statistic": a.overall.statistic,
            "df": number(a.overall.df),
            "dfWithin": a.overall.df_within.map(number),
            "pValue": a.overall.p_value,
        },
        "srm": {
            "statistic": a.srm.statistic,
            "df": number(a.srm.df),
            "pValue": a.srm.p_value,
            "mismatch": a.srm.mismatch,
            "threshold": SRM_THRESHOLD,
            "expectedShares": shares(a, &a.srm.expected_shares),
            "observedShares": shares(a, &a.srm.observed_shares),
        },
        "power": power_json(&a.power),
    })
}

fn power_json(p: &PowerPlan) -> Value {
    json!({
        // Whole units; the plan is rounded up.
        "requiredPerVariant": p.required_per_variant.map(|r| r as u64),
        "progress": p.progress,
        "alpha": p.alpha,
        "power": p.power,
    })
}

// ------------------------------------------------------------------ table

/// A p-value for people: three significant digits, scientific below 10⁻⁴.
fn fmt_p(p: f64) -> String {
    if p.is_nan() {
        "–".into()
    } else if p == 0.0 {
        "0".into()
    } else if p < 1e-4 {
        format!("{p:.1e}")
    } else if p >= 0.9995 {
        "1".into()
    } else {
        sig(p, 3)
    }
}

/// `x` with `digits` significant digits, no exponent for ordinary sizes.
fn sig(x: f64, digits: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x.is_finite() {
            "0".into()
        } else {
            "–".into()
        };
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-5..=9).contains(&magnitude) {
        return format!("{x:.*e}", (digits - 1).max(0) as usize);
    }
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

/// `sig` without trailing zeros: `95`, `0.05`, `33.3`.
fn short(x: f64, digits: i32) -> String {
    let s = sig(x, digits);
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

fn signed(s: String) -> String {
    if s.starts_with('-') || s == "0" {
        s
    } else {
        format!("+{s}")
    }
}

fn count(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        sig(x, 6)
    }
}

fn estimate_cell(metric: Metric, v: &VariantResult) -> String {
    match metric {
        Metric::Conversion => format!(
            "{:.2} % [{:.2}, {:.2}]",
            100.0 * v.estimate,
            100.0 * v.ci.lower,
            100.0 * v.ci.upper
        ),
        Metric::Continuous => format!(
            "{} [{}, {}]",
            sig(v.estimate, 4),
            sig(v.ci.lower, 4),
            sig(v.ci.upper, 4)
        ),
    }
}

fn diff_cell(metric: Metric, diff: f64, ci: Interval) -> String {
    match metric {
        Metric::Conversion => format!(
            "{} pp [{}, {}]",
            signed(format!("{:.2}", 100.0 * diff)),
            signed(format!("{:.2}", 100.0 * ci.lower)),
            signed(format!("{:.2}", 100.0 * ci.upper))
        ),
        Metric::Continuous => format!(
            "{} [{}, {}]",
            signed(sig(diff, 3)),
            signed(sig(ci.lower, 3)),
            signed(sig(ci.upper, 3))
        ),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn print_table(flag: &str, env: Option<&str>, a: &Analysis) {
    let level = format!("{} %", short(100.0 * a.confidence_level, 3));
    let from = match env {
        Some(env) => format!("settings from env {env}"),
        None => "no --env: equal split weights, α and MDE from options or defaults".into(),
    };
    println!(
        "{flag} · {} metric · control {} · α = {} · {from}",
        a.metric.as_str(),
        a.control,
        a.alpha
    );
    if a.srm.mismatch {
        println!();
        println!(
            "⚠ SAMPLE-RATIO MISMATCH (chi-square {}, p = {} < {SRM_THRESHOLD}): the exposures do not fit \
             the configured split, so assignment or counting is broken and these results are NOT \
             TRUSTWORTHY. Find the cause before reading them.",
            sig(a.srm.statistic, 4),
            fmt_p(a.srm.p_value)
        );
    }
    println!();
    let estimate_head = match a.metric {
        Metric::Conversion => format!("rate ({level} CI)"),
        Metric::Continuous => format!("mean ({level} CI)"),
    };
    let mut rows = vec![vec![
        "variant".to_owned(),
        "exposures".into(),
        estimate_head,
        format!("diff ({level} CI)"),
        "lift".into(),
        "p".into(),
        "p Holm".into(),
        "p seq.".into(),
        "significant".into(),
        "seq.".into(),
    ]];
    for v in &a.variants {
        let mut row = vec![
            v.name.clone(),
            count(v.exposures),
            estimate_cell(a.metric, v),
        ];
        match &v.comparison {
            None => {
                row.push("(control)".into());
                row.extend(std::iter::repeat_n(String::new(), 6));
            }
            Some(c) => {
                row.push(diff_cell(a.metric, c.diff, c.diff_ci));
                row.push(
                    c.lift
                        .map_or_else(|| "–".into(), |l| signed(format!("{:.1} %", 100.0 * l))),
                );
                row.push(fmt_p(c.p_value));
                row.push(fmt_p(c.adjusted_p_value));
                row.push(fmt_p(c.sequential_p_value));
                row.push(yes_no(c.significant).into());
                row.push(yes_no(c.sequential_significant).into());
            }
        }
        rows.push(row);
    }
    println!("{}", output::table(rows));
    println!();

    let overall = match a.overall.df_within {
        Some(dfw) => format!(
            "one-way ANOVA F = {}, df ({}, {}), p = {}",
            sig(a.overall.statistic, 4),
            count(a.overall.df),
            count(dfw),
            fmt_p(a.overall.p_value)
        ),
        None => format!(
            "chi-square {}, df {}, p = {} (do the variants differ at all?)",
            sig(a.overall.statistic, 4),
            count(a.overall.df),
            fmt_p(a.overall.p_value)
        ),
    };
    let split = a
        .srm
        .expected_shares
        .iter()
        .map(|s| short(100.0 * s, 3))
        .collect::<Vec<_>>()
        .join("/");
    let srm = format!(
        "chi-square {}, p = {}: {} ({split} %)",
        sig(a.srm.statistic, 4),
        fmt_p(a.srm.p_value),
        if a.srm.mismatch {
            "MISMATCH with the configured split"
        } else {
            "exposures fit the configured split"
        }
    );
    let mde = format!("{} %", short(100.0 * a.minimum_detectable_effect, 3));
    let power = match (a.power.required_per_variant, a.power.progress) {
        (Some(r), Some(p)) => format!(
            "{} per variant to detect a {mde} relative effect with {} % power (α {} per comparison); {} % there",
            count(r),
            short(100.0 * a.power.power, 2),
            short(a.power.alpha, 3),
            sig(100.0 * p, 3)
        ),
        _ => format!(
            "no plan: the control's {} is 0, so a {mde} relative effect has no size",
            match a.metric {
                Metric::Conversion => "rate",
                Metric::Continuous => "mean",
            }
        ),
    };
    let looks = if a.looks == 1 {
        "1 look (add earlier snapshots as \"history\" so the sequential p-value keeps its minimum)"
            .to_owned()
    } else {
        format!("{} looks", a.looks)
    };
    println!(
        "{}",
        output::fields([
            ("overall", overall),
            ("SRM", srm),
            ("power", power),
            ("sequential", looks),
        ])
    );
    let comparisons = a.variants.len() - 1;
    println!(
        "\n\"p Holm\" is adjusted for {comparisons} comparison{}; \"p seq.\" (mSPRT) stays valid however \
         often you look — read it if you check results before the planned sample size.",
        if comparisons == 1 { "" } else { "s" }
    );
}
