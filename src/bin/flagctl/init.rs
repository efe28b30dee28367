//! `flagctl init [DIR]`

use std::path::{Path, PathBuf};

use clap::Args;
use hotswap_flags_gitops::scaffold;

use crate::{Failure, Outcome};

/// `flagctl init`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to create the repository (default: the current directory).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

pub fn run(args: &InitArgs) -> Result<Outcome, Failure> {
    let done = scaffold::write(&args.dir)?;
    for path in &done.files {
        println!("created {}", path.display());
    }
    if done.git_initialized {
        println!(
            "created a git repository in {} (it was inside none)",
            args.dir.display()
        );
    }
    // Each line runs as printed, in order (tests/testsuite/init.rs runs them).
    println!("\nnext steps:");
    if args.dir != Path::new(".") {
        println!("  cd {}", args.dir.display());
    }
    println!("  flagctl validate");
    println!("  $EDITOR .github/CODEOWNERS            # name your team");
    println!("  git add -A && git commit -m \"Flags repository\"");
    println!("  flagd --env staging --repo .          # serves on 127.0.0.1:8013");
    Ok(Outcome::Ok)
}
