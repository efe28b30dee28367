//! `flagctl experiment analyze FLAG (--data FILE | --daemon URL [--metrics-url URL]
//! [--token T]) [--env E] [--alpha A] [--mde M]`
//!
//! The library does the work: the experiment's settings from `--env` (the
//! flag's `experiment` block and split weights, required with `--daemon`)
//! and the live counts are `hotswap_flags_gitops::experiment`'s, the
//! analysis and its JSON `hotswap_flags_stats`'. This module reads the
//! options and a data file, and renders the table.
//!
//! Exit codes: 0 the analysis ran (a sample-ratio mismatch included: it is
//! reported in the output, `srm.mismatch` for scripts); 1 the data is bad
//! (malformed file, impossible counts, variants that do not match the split,
//! an unusable Prometheus answer, flagd counting another version of the
//! experiment); 2 usage and I/O errors (unreadable file, unknown flag or
//! environment, flagd or Prometheus unreachable or refusing).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use clap::{Arg, ArgGroup, Args, Subcommand};
use hotswap_flags_client::flagd::FlagdClient;
use hotswap_flags_client::prometheus::Prometheus;
use hotswap_flags_gitops::experiment::{
    self as experiment_data, CountsSource, DataError, ExperimentSettings, LiveCounts, SettingsError,
};
use hotswap_flags_stats::experiment::{DEFAULT_ALPHA, DEFAULT_MDE, SRM_THRESHOLD, VariantResult};
use hotswap_flags_stats::{
    Analysis, AnalysisConfig, ExperimentData, Interval, Metric, StatsError, analyze,
};
use serde::Serialize;

use crate::cli::{DaemonArgs, OutputFormat, RepoArgs, only};
use crate::output::{self, Col};
use crate::{Failure, Outcome, fail, repo_dir};

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
#[command(
    mut_args(only("daemon", daemon_arg)),
    mut_args(only("token", token_arg))
)]
pub struct AnalyzeArgs {
    /// The flag key. With --env its `experiment` block supplies the control,
    /// the split weights (for the sample-ratio check), alpha and the minimum
    /// detectable effect; without, the key only labels the output.
    pub flag: String,

    /// The counts: JSON with exposures and conversions (or sum and
    /// sumSquares) per variant, see docs/experiments.md; `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,

    #[command(flatten)]
    pub flagd: DaemonArgs,

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

/// `--daemon`, for `flagctl experiment analyze`: needs `--env`.
fn daemon_arg(arg: Arg) -> Arg {
    arg.requires("env").help(
        "Read exposures from a running flagd (GET /api/v1/experiments/FLAG) and conversions from Prometheus, with the flag's `experiment.conversions` query from --env's definition",
    )
}

/// `--token`, for `flagctl experiment analyze`.
fn token_arg(arg: Arg) -> Arg {
    arg.help("Bearer token for flagd's API, with --daemon (when it requires one)")
}

pub fn run(args: &ExperimentArgs) -> Result<Outcome, Failure> {
    match &args.command {
        ExperimentCommand::Analyze(a) => run_analyze(a),
    }
}

/// What `--format json` prints: the analysis, labelled, and with `--daemon`
/// where the counts came from.
#[derive(Serialize)]
struct Report<'a> {
    flag: &'a str,
    env: Option<&'a str>,
    #[serde(flatten)]
    analysis: &'a Analysis,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a CountsSource>,
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
    let settings = match &args.env {
        None => None,
        Some(env) => Some(settings(args, env)?),
    };
    let (data, source, from) = match (&args.data, &args.flagd.daemon) {
        (Some(path), None) => {
            let from = if path.as_os_str() == "-" {
                "standard input".to_owned()
            } else {
                path.display().to_string()
            };
            (read_data(path, &from)?, None, from)
        }
        (None, Some(url)) => {
            // clap requires --env with --daemon.
            let settings = settings.as_ref().context("--daemon needs --env")?;
            let live = live_counts(args, url, settings)?;
            (live.data, Some(live.source), url.clone())
        }
        _ => fail!("give either --data FILE or --daemon URL"),
    };
    let config = match &settings {
        Some(s) => s.analysis_config(args.alpha, args.mde),
        None => AnalysisConfig {
            alpha: args.alpha.unwrap_or(DEFAULT_ALPHA),
            minimum_detectable_effect: args.mde.unwrap_or(DEFAULT_MDE),
            ..AnalysisConfig::default()
        },
    };
    let analysis = analyze(&data, &config).map_err(|e| {
        let hint = if source.is_some() {
            "\n    hint: exposures are flagd's evaluations since the experiment's spec last \
             changed; the conversions query must count the same units over {{window}} \
             (docs/experiments.md §9)"
        } else {
            ""
        };
        Failure::Findings(format!("error: {from}: {e}{hint}"))
    })?;
    let env = settings.as_ref().map(|s| s.env.as_str());
    match args.repo.format {
        OutputFormat::Json => output::print_json(&Report {
            flag: &args.flag,
            env,
            analysis: &analysis,
            source: source.as_ref(),
        }),
        OutputFormat::Table => {
            if let Some(s) = &source {
                println!(
                    "exposures from flagd {} since {} ({}), conversions from Prometheus {} over {}\n",
                    s.daemon, s.since, s.version, s.prometheus, s.window
                );
            }
            print_table(&args.flag, env, &analysis)
        }
    }
    Ok(Outcome::Ok)
}

/// The flag's experiment settings in `env`.
fn settings(args: &AnalyzeArgs, env: &str) -> Result<ExperimentSettings, Failure> {
    let ruleset = repo_dir::ruleset(args.repo.repo.as_deref(), env)?;
    ExperimentSettings::of(&ruleset, &args.flag).map_err(|e| match e {
        SettingsError::NoExperiment { .. } => {
            // --daemon needs --env (flagd's counts are checked against the
            // flag's definition), so leaving it out is advice only for --data.
            let alternative = if args.flagd.daemon.is_some() {
                "; flagd counts exposures only for a split with an experiment"
            } else {
                ", or leave out --env to analyse the data without the flag's settings"
            };
            anyhow!("{e}{alternative}").into()
        }
        e => e.into(),
    })
}

/// The counts of a data file (`-`: standard input); a malformed one is a
/// finding, located in the file.
fn read_data(path: &Path, from: &str) -> Result<ExperimentData, Failure> {
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
    ExperimentData::from_json(&text).map_err(|e| {
        Failure::Findings(match e {
            StatsError::File(d) => d.in_file(from).to_string(),
            e => format!("error: {from}: {e}"),
        })
    })
}

/// Exposures from the flagd at `url`, conversions from Prometheus.
fn live_counts(
    args: &AnalyzeArgs,
    url: &str,
    settings: &ExperimentSettings,
) -> Result<LiveCounts, Failure> {
    let timeout = Duration::from_secs(10);
    let flagd = FlagdClient::new(url, args.flagd.token.as_deref(), timeout)?;
    let prometheus = Prometheus::new(timeout)?;
    let counted = crate::block_on(experiment_data::live_counts(
        &flagd,
        &prometheus,
        args.metrics_url.as_deref(),
        settings,
    ))?;
    let live = match counted {
        Ok(live) => live,
        Err(e @ DataError::NoConversionsQuery { .. }) => fail!("{e}, or use --data FILE"),
        Err(e) if e.is_bad_data() => return Err(Failure::Findings(format!("error: {e}"))),
        Err(e) => return Err(e.into()),
    };
    for c in live.conversions.iter().filter(|c| c.empty) {
        eprintln!(
            "note: the conversions query matched no series for variant `{}`: counted as 0 ({})",
            c.variant, c.query
        );
    }
    Ok(live)
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
    // Estimates and differences with their intervals wrap between words;
    // the rest are names and numbers.
    let mut cols = [Col::Id; 10];
    (cols[2], cols[3]) = (Col::Text, Col::Text);
    println!("{}", output::table(&cols, variant_rows(a, &level)));
    println!();
    println!("{}", output::fields(summary_fields(a)));
    let comparisons = a.variants.len() - 1;
    println!(
        "\n\"p Holm\" is adjusted for {comparisons} comparison{}; \"p seq.\" (mSPRT) stays valid however \
         often you look — read it if you check results before the planned sample size.",
        if comparisons == 1 { "" } else { "s" }
    );
}

/// The table of variants: each one's estimate, and against the control its
/// difference, lift and p-values.
fn variant_rows(a: &Analysis, level: &str) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "variant".to_owned(),
        "exposures".into(),
        format!("{} ({level} CI)", a.metric.estimate_name()),
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
    rows
}

/// The lines under the table: the overall test, SRM, power and looks.
fn summary_fields(a: &Analysis) -> [(&'static str, String); 4] {
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
        .values()
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
            a.metric.estimate_name()
        ),
    };
    let looks = if a.looks == 1 {
        "1 look (add earlier snapshots as \"history\" so the sequential p-value keeps its minimum)"
            .to_owned()
    } else {
        format!("{} looks", a.looks)
    };
    [
        ("overall", overall),
        ("SRM", srm),
        ("power", power),
        ("sequential", looks),
    ]
}
