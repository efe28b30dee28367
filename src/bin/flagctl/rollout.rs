//! `flagctl rollout status|pause|resume|promote|abort [FLAG] [--daemon URL] [--token T]`
//!
//! `--daemon` is optional: `$FLAGCTL_DAEMON`, else `http://127.0.0.1:8013`.

use std::time::Duration;

use clap::{Arg, Args, Subcommand};
use hotswap_flags_client::flagd::{FlagdClient, FlagdError};
use hotswap_flags_client::wire::{ErrorBody, RolloutList, RolloutStatus, Steer};

use crate::cli::{DaemonArgs, OutputFormat, only};
use crate::output::{self, Col};
use crate::{Failure, Outcome, block_on};

/// Where `--daemon` points unless `$FLAGCTL_DAEMON` or the option says.
const DEFAULT_DAEMON: &str = "http://127.0.0.1:8013";

/// `flagctl rollout`
#[derive(Debug, Args)]
#[command(
    mut_args(only("daemon", daemon_arg)),
    mut_args(only("token", token_arg))
)]
pub struct RolloutArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: RolloutAction,

    #[command(flatten)]
    pub flagd: DaemonArgs,

    /// Output for people (table) or scripts (json).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Rollout steering.
#[derive(Debug, Subcommand)]
pub enum RolloutAction {
    /// Show every rollout, or one in detail.
    Status {
        /// A flag key (default: all rollouts).
        flag: Option<String>,
    },
    /// Hold a rollout where it is.
    Pause {
        /// The flag key.
        flag: String,
    },
    /// Continue a paused rollout.
    Resume {
        /// The flag key.
        flag: String,
    },
    /// Move to the next stage now (with --full: to 100 %).
    Promote {
        /// The flag key.
        flag: String,
        /// Go straight to the last stage.
        #[arg(long)]
        full: bool,
    },
    /// Roll back to 0 % until the rollout spec changes.
    Abort {
        /// The flag key.
        flag: String,
    },
}

/// `--daemon`, for every `flagctl rollout` command: optional.
fn daemon_arg(arg: Arg) -> Arg {
    arg.global(true)
        .env("FLAGCTL_DAEMON")
        .default_value(DEFAULT_DAEMON)
}

/// `--token`, for every `flagctl rollout` command.
fn token_arg(arg: Arg) -> Arg {
    arg.global(true)
        .help("Bearer token for flagd's API (when it requires one)")
}

pub fn run(args: &RolloutArgs) -> Result<Outcome, Failure> {
    // Never `None`: `daemon_arg` gives clap the default.
    let url = args.flagd.daemon.as_deref().unwrap_or(DEFAULT_DAEMON);
    let flagd = FlagdClient::new(url, args.flagd.token.as_deref(), Duration::from_secs(10))?;
    let steer = |flag: &str, action| block_on(flagd.steer(flag, action));
    let answer = match &args.action {
        RolloutAction::Status { flag: None } => block_on(flagd.rollouts())?.map(Answer::List),
        RolloutAction::Status { flag: Some(f) } => block_on(flagd.rollout(f))?.map(Answer::One),
        RolloutAction::Pause { flag } => steer(flag, Steer::Pause)?.map(Answer::One),
        RolloutAction::Resume { flag } => steer(flag, Steer::Resume)?.map(Answer::One),
        RolloutAction::Promote { flag, full } => {
            steer(flag, Steer::Promote { full: *full })?.map(Answer::One)
        }
        RolloutAction::Abort { flag } => steer(flag, Steer::Abort)?.map(Answer::One),
    };
    let answer = match answer {
        Ok(answer) => answer,
        // A call flagd refuses is a finding; scripts get flagd's answer.
        Err(FlagdError::Refused {
            status,
            code,
            message,
            ..
        }) => {
            return match args.format {
                OutputFormat::Json => {
                    output::print_json(&ErrorBody::new(code, message));
                    Ok(Outcome::Findings)
                }
                OutputFormat::Table => Err(Failure::Findings(format!(
                    "error: {message} (HTTP {status})"
                ))),
            };
        }
        Err(e) => return Err(e.into()),
    };
    match (args.format, &answer) {
        (OutputFormat::Json, Answer::List(list)) => output::print_json(list),
        (OutputFormat::Json, Answer::One(one)) => output::print_json(one),
        (OutputFormat::Table, Answer::List(list)) => {
            print!("{}", render_list(&list.rollouts, output::width()));
        }
        (OutputFormat::Table, Answer::One(one)) => print!("{}", render_one(one, output::width())),
    }
    Ok(Outcome::Ok)
}

/// What flagd answered: every rollout, or the one asked about or steered.
enum Answer {
    List(RolloutList),
    One(RolloutStatus),
}

fn stage(r: &RolloutStatus) -> String {
    match r.stages {
        Some(n) => format!("{}/{n}", r.stage + 1),
        None => "–".into(),
    }
}

/// A percentage as flagd wrote it (`10.0%`).
fn percentage(r: &RolloutStatus) -> String {
    format!("{}%", serde_json::Value::from(r.percentage))
}

/// The last round's outcomes, counted (`2 passed, 1 no_data`): the list
/// stays narrow; `rollout status FLAG` shows each check and why.
fn checks(r: &RolloutStatus) -> String {
    if r.checks.is_empty() {
        return "–".into();
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for c in &r.checks {
        let outcome = c.outcome.as_str();
        match counts.iter_mut().find(|(o, _)| *o == outcome) {
            Some((_, n)) => *n += 1,
            None => counts.push((outcome, 1)),
        }
    }
    counts
        .iter()
        .map(|(outcome, n)| format!("{n} {outcome}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An instant to the second: the table's columns stay narrow.
fn instant(t: Option<jiff::Timestamp>) -> String {
    t.map_or_else(|| "–".into(), |t| format!("{t:.0}"))
}

fn text(v: Option<impl ToString>) -> String {
    v.map_or_else(|| "–".into(), |v| v.to_string())
}

/// Every rollout for a terminal of `width` columns: one a row, flag keys
/// whole.
pub fn render_list(list: &[RolloutStatus], width: usize) -> String {
    if list.is_empty() {
        return "no rollouts\n".to_owned();
    }
    let header = [
        "flag",
        "strategy",
        "phase",
        "stage",
        "percentage",
        "stage ends",
        "checks",
    ]
    .map(String::from)
    .to_vec();
    let rows = std::iter::once(header).chain(list.iter().map(|r| {
        vec![
            r.flag.clone(),
            r.strategy.to_string(),
            r.phase.to_string(),
            stage(r),
            percentage(r),
            r.stage_ends_at
                .map_or_else(|| "–".into(), |t| t.strftime("%Y-%m-%d %H:%MZ").to_string()),
            checks(r),
        ]
    }));
    let mut cols = [Col::Id; 7];
    cols[6] = Col::Text;
    output::table_in(width, &cols, rows) + "\n"
}

/// One rollout for a terminal of `width` columns: its fields (the reason
/// wrapped under its first line), then the last round of checks.
pub fn render_one(r: &RolloutStatus, width: usize) -> String {
    let mut out = output::fields_in(
        width,
        [
            ("flag", r.flag.clone()),
            ("strategy", r.strategy.to_string()),
            ("phase", r.phase.to_string()),
            ("stage", stage(r)),
            ("percentage", percentage(r)),
            ("serves", r.serve.clone()),
            ("started", r.started_at.to_string()),
            ("stage started", r.stage_started_at.to_string()),
            ("stage ends", text(r.stage_ends_at)),
            (
                "checks",
                format!(
                    "{} passed, {} failed (limit {})",
                    r.checks_passed, r.checks_failed, r.failure_limit
                ),
            ),
            ("reason", text(r.reason.as_deref())),
        ],
    );
    out.push('\n');
    if !r.checks.is_empty() {
        let header = ["check", "value", "outcome", "at", "message"]
            .map(String::from)
            .to_vec();
        let rows = std::iter::once(header).chain(r.checks.iter().map(|c| {
            vec![
                c.name.clone(),
                text(c.value),
                c.outcome.as_str().to_owned(),
                instant(Some(c.at)),
                text(c.message.as_deref()),
            ]
        }));
        // The queries sent are in `--format json` (`checks[].query`).
        let cols = [Col::Id, Col::Id, Col::Id, Col::Id, Col::Text];
        out.push('\n');
        out.push_str(&output::table_in(width, &cols, rows));
        out.push('\n');
    }
    out
}
