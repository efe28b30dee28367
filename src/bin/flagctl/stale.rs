//! `flagctl stale [--env E]… [--src DIR]… [--daemon URL | --prometheus URL]
//! [--older-than DURATION] [--format table|json|markdown] [--fail-on …]`

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use clap::{Arg, Args, ValueEnum};
use hotswap_flags_client::flagd::FlagdClient;
use hotswap_flags_client::prometheus::client::Prometheus;
use hotswap_flags_core::Repository;
use hotswap_flags_core::model::DurationSpec;
use hotswap_flags_gitops::lifecycle::runtime;
use hotswap_flags_gitops::lifecycle::stale::{
    RuntimeEvidence, StaleOptions, StaleReport, stale_report,
};
use hotswap_flags_gitops::lifecycle::verdict::Weighing;
use hotswap_flags_gitops::lifecycle::{markdown, utc_date};
use jiff::Timestamp;

use crate::cli::{DaemonArgs, only};
use crate::output::{self, Col};
use crate::repo_dir;
use crate::{Failure, Outcome, block_on};

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StaleFormat {
    /// Aligned text for terminals.
    Table,
    /// A pull-request comment or a weekly report.
    Markdown,
    /// One JSON document for scripts.
    Json,
}

/// What `--fail-on` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StaleFailOn {
    /// A flag's verdict is `remove`.
    Remove,
    /// A flag's verdict is `review` or `remove`.
    Review,
    /// Code evaluates a key no environment defines.
    Undefined,
}

/// `flagctl stale`
#[derive(Debug, Args)]
#[command(mut_args(only("daemon", daemon_arg)))]
pub struct StaleArgs {
    /// Report on this environment (repeatable; default: all).
    #[arg(long, short, value_name = "ENV")]
    pub env: Vec<String>,

    /// Search this directory for code references (repeatable); `.gitignore`
    /// is honoured.
    #[arg(long, value_name = "DIR")]
    pub src: Vec<PathBuf>,

    #[command(flatten)]
    pub flagd: DaemonArgs,

    /// Ask this Prometheus for evaluation counts over the window.
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,

    /// Serving one variant counts once it has lasted this long; also the
    /// window evaluations are counted over.
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub older_than: DurationSpec,

    /// Output.
    #[arg(long, value_enum, default_value_t = StaleFormat::Table)]
    pub format: StaleFormat,

    /// Exit 1 when a flag gets this verdict, or code evaluates an
    /// undefined key (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "WHAT")]
    pub fail_on: Vec<StaleFailOn>,

    /// The flags repository (default: the nearest directory upwards holding
    /// flags.toml, else the git root, else `.`).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
}

/// `--daemon`, for `flagctl stale`.
fn daemon_arg(arg: Arg) -> Arg {
    arg.conflicts_with("prometheus")
        .help("Ask this flagd for rollouts and evaluation counts (of the environment it serves)")
}

pub fn run(args: &StaleArgs) -> Result<Outcome, Failure> {
    let root = repo_dir::resolve(args.repo.as_deref())?;
    let repo = Repository::open(&root)?;
    let opts = StaleOptions {
        envs: args.env.clone(),
        src: args.src.clone(),
        weighing: Weighing {
            now: Timestamp::now(),
            older_than: args.older_than.get(),
            evaluations_since: None,
            unreadable_paths: 0,
        },
    };
    let runtime = runtime(args)?;
    let report = stale_report(&root, &repo, &opts, runtime.as_ref())?;
    warn_unreadable(&report);
    match args.format {
        StaleFormat::Json => output::print_json(&report),
        StaleFormat::Markdown => print!("{}", markdown::render(&report)),
        StaleFormat::Table => print_table(&report),
    }
    Ok(if failed(&report, &args.fail_on) {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

/// Paths the code search could not read, on stderr whatever the format:
/// they withhold `remove` from flags without references.
fn warn_unreadable(report: &StaleReport) {
    let Some(searched) = report.searched.as_ref().filter(|s| s.unreadable > 0) else {
        return;
    };
    for e in &searched.errors {
        eprintln!("warning: {}", hotswap_flags_core::escape::controls(e));
    }
    eprintln!(
        "warning: {} path(s) under --src could not be read; flags without references get `review`, not `remove`",
        searched.unreadable
    );
}

/// Whether the report hits anything `--fail-on` names.
fn failed(report: &StaleReport, fail_on: &[StaleFailOn]) -> bool {
    fail_on.iter().any(|f| match f {
        StaleFailOn::Remove => report.summary.remove > 0,
        StaleFailOn::Review => report.summary.remove + report.summary.review > 0,
        StaleFailOn::Undefined => !report.undefined.is_empty(),
    })
}

fn print_table(report: &StaleReport) {
    print!("{}", render_table(report, output::width()));
}

/// The report for a terminal of `width` columns: keys, verdicts and owners
/// whole, the reasons wrapped between words (README, "Output").
pub fn render_table(report: &StaleReport, width: usize) -> String {
    let dash = || "–".to_owned();
    let mut rows = vec![vec![
        "flag".to_owned(),
        "verdict".into(),
        "owner".into(),
        "kind".into(),
        "created".into(),
        "refs".into(),
        "reasons".into(),
    ]];
    for f in &report.flags {
        let e = &f.evidence;
        let reasons: Vec<String> = f.reasons.iter().map(|r| r.text.to_string()).collect();
        rows.push(vec![
            e.key.clone(),
            f.verdict.as_str().to_owned(),
            e.owner.clone().unwrap_or_else(dash),
            e.kind.map_or_else(dash, |k| k.to_string()),
            e.created().map_or_else(dash, |t| utc_date(t).to_string()),
            e.code_count.map_or_else(dash, |n| n.to_string()),
            reasons.join("; "),
        ]);
    }
    let mut cols = [Col::Id; 7];
    cols[6] = Col::Text;
    let mut out = output::table_in(width, &cols, rows);
    out.push('\n');
    for u in &report.undefined {
        let hint = u
            .suggestion
            .as_ref()
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        let line = format!(
            "{}:{}: `{}` is defined in no environment{hint}",
            u.at.file, u.at.line, u.key
        );
        out.push_str(&output::paragraph(width, &line, 2));
        out.push('\n');
    }
    let unlisted = report.undefined_count - report.undefined.len() as u64;
    if unlisted > 0 {
        println!("… and {unlisted} more evaluation calls of undefined keys");
    }
    let s = report.summary;
    let mark = if s.remove + s.review == 0 {
        "✓"
    } else {
        "✗"
    };
    out.push_str(&format!(
        "{mark} {} to remove, {} to review, {} to keep\n",
        s.remove, s.review, s.keep
    ));
    out
}

/// What `--daemon` or `--prometheus` says, if either is given.
fn runtime(args: &StaleArgs) -> Result<Option<RuntimeEvidence>, Failure> {
    const TIMEOUT: Duration = Duration::from_secs(10);
    if let Some(url) = &args.flagd.daemon {
        let client = FlagdClient::new(url, args.flagd.token.as_deref(), TIMEOUT)?;
        let evidence = block_on(runtime::from_flagd(&client))?
            .with_context(|| format!("asking flagd at {url} for its rollouts and evaluations"))?;
        return Ok(Some(evidence));
    }
    if let Some(url) = &args.prometheus {
        let prometheus = Prometheus::new(TIMEOUT)?;
        let evidence = block_on(runtime::from_prometheus(&prometheus, url, &args.older_than))??;
        return Ok(Some(evidence));
    }
    Ok(None)
}
