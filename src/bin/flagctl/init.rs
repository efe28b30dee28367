//! `flagctl init [DIR]`

use std::path::PathBuf;

use clap::Args;
use hotswap_flags::gitops::scaffold;

use crate::{Failure, Outcome};

/// `flagctl init`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to create the repository (default: the current directory).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

pub fn run(args: &InitArgs) -> Result<Outcome, Failure> {
    let written = scaffold::write(&args.dir)?;
    for path in &written {
        println!("created {}", path.display());
    }
    println!(
        "\nnext: flagctl validate --repo {}   then commit, and edit .github/CODEOWNERS to name your team",
        args.dir.display()
    );
    Ok(Outcome::Ok)
}
