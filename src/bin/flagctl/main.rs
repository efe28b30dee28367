//! `flagctl`: the command-line tool for people and CI.
//!
//! Exit codes: 0 ok, 1 findings (invalid files, a failed evaluation, a risky
//! diff with `--fail-on`), 2 usage or I/O error.

mod cli;
mod eval;
mod output;
mod repo_dir;
mod validate;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

/// How a command ended, beyond "it ran".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report.
    Ok,
    /// The command found problems (exit 1).
    Findings,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Eval(args) => eval::run(&args),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
