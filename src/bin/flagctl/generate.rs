//! `flagctl completions SHELL` and `flagctl man`: generated from the clap
//! definition, so they never drift from the real options. Committed copies
//! live in `completions/` and `man/` (`scripts/gen-completions.sh`).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::{Failure, Outcome};

/// `flagctl completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `flagctl man`
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write every page (flagctl.1 and one per subcommand) into this
    /// directory instead of printing flagctl.1.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

pub fn completions(args: &CompletionsArgs) -> Result<Outcome, Failure> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "flagctl", &mut std::io::stdout());
    Ok(Outcome::Ok)
}

pub fn man(args: &ManArgs) -> Result<Outcome, Failure> {
    let cmd = Cli::command();
    match &args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("cannot write to {}", dir.display()))?;
        }
        None => {
            // As generate_to prepares it, so both print the same flagctl.1.
            let mut cmd = cmd.disable_help_subcommand(true);
            cmd.build();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
        }
    }
    Ok(Outcome::Ok)
}
