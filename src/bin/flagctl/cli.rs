//! The command line, as clap sees it. Completions and man pages are generated
//! from this definition.

use std::path::PathBuf;

use clap::{Arg, Args, Parser, Subcommand, ValueEnum};

/// Validate, evaluate, simulate, diff and promote feature flags kept as code.
#[derive(Debug, Parser)]
#[command(name = "flagctl", version, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every repository command takes.
#[derive(Debug, Clone, Args)]
pub struct RepoArgs {
    /// The flags repository (default: the nearest directory upwards holding
    /// flags.toml, else the git root, else `.`).
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    /// Output for people (table) or scripts (json).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// `--daemon URL` and `--token TOKEN`: the running flagd a command asks.
/// Each command words `--daemon`'s help for what it asks, with [`only`];
/// `requires` and `conflicts_with` name these arguments by their fields,
/// `daemon` and `token`.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// The flagd to talk to.
    #[arg(long, value_name = "URL")]
    pub daemon: Option<String>,

    /// flagd's bearer token.
    #[arg(
        long,
        env = "FLAGCTL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

/// For `#[command(mut_args(only(ID, f)))]`: argument ID of a flattened
/// struct, changed by `f` for one command. `Command::mut_arg` would move
/// the argument last, reordering man pages and completions; this keeps it
/// in place.
pub fn only(id: &'static str, f: impl Fn(Arg) -> Arg) -> impl FnMut(Arg) -> Arg {
    move |arg| if arg.get_id() == id { f(arg) } else { arg }
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned text for terminals.
    Table,
    /// One JSON document for scripts.
    Json,
}

/// flagctl's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check flag files: schema and semantics, reported as file:line:col.
    Validate(ValidateArgs),
    /// Evaluate one flag for a context and explain the answer.
    Eval(EvalArgs),
    /// Write one environment as a self-describing bundle flagd can pull.
    Bundle(crate::bundle::BundleArgs),
    /// Check a bundle the way flagd does before serving it (hash, signature,
    /// environment, compilation).
    VerifyBundle(crate::bundle::VerifyArgs),
    /// Create an Ed25519 key pair for signing bundles (FILE and FILE.pub).
    Keygen(crate::keygen::KeygenArgs),
    /// Steer the rollouts of a running flagd: status, pause, resume, promote, abort.
    Rollout(crate::rollout::RolloutArgs),
    /// Simulate a flag over many users: variants per rollout percentage,
    /// users who switch between stages, chi-square fit of the split.
    Simulate(crate::simulate::SimulateArgs),
    /// Semantic diff of two revisions, with the share of users each change moves.
    Diff(crate::diff::DiffArgs),
    /// Copy flags from one environment into the next on a new branch, for review.
    Promote(crate::promote::PromoteArgs),
    /// Which flags can go: evidence from git, flagd or Prometheus and code
    /// references, and a verdict (remove, review, keep) with reasons.
    Stale(crate::stale::StaleArgs),
    /// Remove a flag from every environment on a new branch, listing the
    /// code to change.
    Retire(crate::retire::RetireArgs),
    /// Analyse A/B/n experiments: lift, intervals, p-values, sample-ratio mismatch, power.
    Experiment(crate::experiment::ExperimentArgs),
    /// Import flags from another tool (flagd) into an environment, reporting
    /// what cannot be translated exactly.
    Import(crate::import::ImportArgs),
    /// Create a flags repository: flags.toml, two environments, CI workflow, CODEOWNERS.
    Init(crate::init::InitArgs),
    /// Print a shell completion script.
    Completions(crate::generate::CompletionsArgs),
    /// Print the man page (or write every page with --out-dir).
    Man(crate::generate::ManArgs),
}

/// `flagctl validate`
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Check only this environment.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,

    /// Treat warnings as findings (exit 1).
    #[arg(long)]
    pub strict: bool,

    /// Files or directories to check (default: every environment). Files
    /// inside an environment are checked with the rest of it; files outside
    /// any environment are checked on their own.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub repo: RepoArgs,
}

/// `flagctl eval`
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The flag key.
    pub flag: String,

    /// The environment.
    #[arg(long, short, value_name = "ENV")]
    pub env: String,

    /// A context attribute: `name=value` sets a string, `name:=json` a JSON
    /// value (`age:=42`, `beta:=true`). Repeatable.
    #[arg(long = "ctx", value_name = "ATTR")]
    pub ctx: Vec<String>,

    /// The whole context as a JSON object, or `@FILE` to read it from a file.
    #[arg(long, value_name = "JSON")]
    pub context: Option<String>,

    /// The rollout's current percentage (default: where it starts — a
    /// canary's first stage, a linear ramp's `from`).
    #[arg(long, value_name = "P")]
    pub percentage: Option<f64>,

    /// Evaluate at this time: RFC 3339 (`2025-12-24T18:00:00Z`) or a zoned
    /// time (`2025-12-24T18:00[America/New_York]`). Default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    #[command(flatten)]
    pub repo: RepoArgs,
}
