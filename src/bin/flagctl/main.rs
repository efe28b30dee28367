//! `flagctl`: the command-line tool for people and CI.
//!
//! Exit codes: 0 ok, 1 findings (invalid files, an evaluation that ended in
//! an error code, a risky diff with `--fail-on`, bad experiment data), 2
//! usage or I/O error (including a flag or environment name that names
//! nothing). README.md lists them precisely.

// Everything flagctl prints goes through `output::emit`: these shadow the
// standard macros of the same names in every module below, so no control
// character, escape sequence or bidi control that a flag file, a file
// name, flagd or a command line holds reaches a terminal as it is
// (docs/security.md, "Output"). JSON goes through `output::print_json`.
macro_rules! println {
    () => { $crate::output::emit($crate::output::Stream::Out, format_args!(""), true) };
    ($($arg:tt)*) => { $crate::output::emit($crate::output::Stream::Out, format_args!($($arg)*), true) };
}
macro_rules! print {
    ($($arg:tt)*) => { $crate::output::emit($crate::output::Stream::Out, format_args!($($arg)*), false) };
}
macro_rules! eprintln {
    () => { $crate::output::emit($crate::output::Stream::Err, format_args!(""), true) };
    ($($arg:tt)*) => { $crate::output::emit($crate::output::Stream::Err, format_args!($($arg)*), true) };
}

mod bundle;
mod cli;
mod diff;
mod eval;
mod experiment;
mod generate;
#[cfg(test)]
mod hostile;
mod import;
mod init;
mod keygen;
mod output;
mod promote;
mod repo_dir;
mod retire;
mod rollout;
mod simulate;
mod stale;
mod validate;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

/// How a command ended, beyond "it ran".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report.
    Ok,
    /// The command found problems and has printed them (exit 1).
    Findings,
}

/// Why a command stopped: the exit code is chosen here, at the edge, so
/// that commands and the library only say what went wrong.
#[derive(Debug)]
pub enum Failure {
    /// Findings not printed yet (exit 1), worded in full as they are
    /// printed: `error: …`, or `FILE:LINE:COL: error: …`.
    Findings(String),
    /// A usage or I/O error (exit 2), printed as `error: {e:#}`.
    Error(anyhow::Error),
}

// `Failure` is not an `std::error::Error`, so this does not overlap with
// `From<Failure> for Failure`, and `?` works on any error.
impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Error(e.into())
    }
}

/// `anyhow::bail!` for commands returning [`Failure`]: a usage or I/O
/// error (exit 2).
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::Failure::Error(anyhow::anyhow!($($arg)*)))
    };
}
pub(crate) use fail;

fn main() -> ExitCode {
    reset_sigpipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Bundle(args) => bundle::run(&args),
        Command::VerifyBundle(args) => bundle::verify(&args),
        Command::Keygen(args) => keygen::run(&args),
        Command::Rollout(args) => rollout::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Promote(args) => promote::run(&args),
        Command::Stale(args) => stale::run(&args),
        Command::Retire(args) => retire::run(&args),
        Command::Experiment(args) => experiment::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Completions(args) => generate::completions(&args),
        Command::Man(args) => generate::man(&args),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(Failure::Findings(message)) => {
            eprintln!("{message}");
            ExitCode::from(1)
        }
        Err(Failure::Error(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs one of the library's async calls (flagd, Prometheus) on a small
/// runtime of its own: flagctl is otherwise synchronous.
pub fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(future))
}

/// `flagctl … | head` must end quietly when `head` closes the pipe, as other
/// Unix tools do, rather than panic on the failed write.
fn reset_sigpipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread
    // starts; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
