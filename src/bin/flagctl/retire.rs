//! `flagctl retire FLAG [--keep VARIANT] [--force] [--src DIR]… [--daemon URL]
//! [--branch B] [--push REMOTE]`

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Arg, Args};
use hotswap_flags_client::flagd::FlagdClient;
use hotswap_flags_core::escape::controls;
use hotswap_flags_gitops::lifecycle::runtime;
use hotswap_flags_gitops::retire::{self, RetireError, RetireRequest};
use serde_json::json;

use crate::cli::{DaemonArgs, OutputFormat, RepoArgs, only};
use crate::output;
use crate::repo_dir;
use crate::{Failure, Outcome, block_on};

/// `flagctl retire`
#[derive(Debug, Args)]
#[command(mut_args(only("daemon", daemon_arg)))]
pub struct RetireArgs {
    /// The flag to remove from every environment.
    #[arg(value_name = "FLAG")]
    pub flag: String,

    /// The variant code keeps (default: the one the flag serves everyone).
    #[arg(long, value_name = "VARIANT")]
    pub keep: Option<String>,

    /// Retire even while a rollout is not completed or an experiment runs.
    #[arg(long)]
    pub force: bool,

    /// Search this directory for the code references to list (repeatable).
    #[arg(long, value_name = "DIR")]
    pub src: Vec<PathBuf>,

    #[command(flatten)]
    pub flagd: DaemonArgs,

    /// The branch to create (default: retire/<flag>).
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,

    /// Push the branch to this remote (a name or a URL).
    #[arg(long, value_name = "REMOTE")]
    pub push: Option<String>,

    #[command(flatten)]
    pub repo: RepoArgs,
}

/// `--daemon`, for `flagctl retire`.
fn daemon_arg(arg: Arg) -> Arg {
    arg.help("Ask this flagd whether the flag's rollout has completed")
}

pub fn run(args: &RetireArgs) -> Result<Outcome, Failure> {
    let root = repo_dir::resolve(args.repo.repo.as_deref())?;
    let runtime = match &args.flagd.daemon {
        Some(url) => {
            let client =
                FlagdClient::new(url, args.flagd.token.as_deref(), Duration::from_secs(10))?;
            Some(
                block_on(runtime::from_flagd(&client))?
                    .with_context(|| format!("asking flagd at {url} for its rollouts"))?,
            )
        }
        None => None,
    };
    let request = RetireRequest {
        flag: args.flag.clone(),
        keep: args.keep.clone(),
        force: args.force,
        src: args.src.clone(),
    };
    let plan = match retire::plan(&root, &request, runtime.as_ref()) {
        Ok(plan) => plan,
        Err(e @ (RetireError::StillRunning { .. } | RetireError::ResultInvalid { .. })) => {
            return Err(Failure::Findings(format!("error: {e}")));
        }
        Err(e) => return Err(e.into()),
    };
    let branch = args
        .branch
        .clone()
        .unwrap_or_else(|| retire::default_branch(&plan));
    crate::promote::check_remote(&root, args.push.as_deref())?;
    let commit = retire::commit(&root, &plan, &branch)?;
    let short = &commit.to_string()[..7];
    crate::promote::push_branch(&root, args.push.as_deref(), &branch, short)?;
    match args.repo.format {
        OutputFormat::Json => output::print_json(&json!({
            "branch": branch,
            "commit": commit.to_string(),
            "pushed": args.push,
            "plan": plan,
            "files": plan.edits.iter().map(|e| &e.path).collect::<Vec<_>>(),
            "message": retire::message(&plan),
        })),
        OutputFormat::Table => {
            println!(
                "created branch {branch} (commit {short}) on top of HEAD {}: {} removed from {}",
                &plan.head.to_string()[..7],
                plan.flag,
                plan.envs.join(", ")
            );
            for e in &plan.edits {
                println!("  modified {}", controls(&e.path));
            }
            if !plan.references.is_empty() {
                println!("code to change to keep `{}`:", controls(&plan.keep));
                for r in &plan.references {
                    let (file, text) = (controls(&r.file), controls(&r.text));
                    println!("  {file}:{}: {text}", r.line);
                }
                let more = plan.reference_count - plan.references.len() as u64;
                if more > 0 {
                    println!("  … and {more} more");
                }
            }
            for e in &plan.unreadable_paths {
                eprintln!("warning: {}", hotswap_flags_core::escape::controls(e));
            }
            if plan.unreadable > 0 {
                eprintln!(
                    "warning: {} path(s) under --src could not be read; references there were not looked for",
                    plan.unreadable
                );
            }
        }
    }
    Ok(Outcome::Ok)
}
