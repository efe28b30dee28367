//! `flagctl promote FLAG… --from E1 --to E2 [--branch B] [--push REMOTE]`

use std::path::Path;

use clap::Args;
use hotswap_flags_core::Repository;
use hotswap_flags_gitops::branch::git;
use hotswap_flags_gitops::diff::{self, Side};
use hotswap_flags_gitops::promote::{self, Plan, PromoteError};
use hotswap_flags_gitops::repo::snapshot::GitSnapshot;
use serde_json::json;

use crate::cli::{OutputFormat, RepoArgs};
use crate::output;
use crate::repo_dir;
use crate::simulate::PopulationArgs;
use crate::{Failure, Outcome, fail};

/// `flagctl promote`
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The flags to promote.
    #[arg(required = true, value_name = "FLAG")]
    pub flags: Vec<String>,

    /// The environment to copy from.
    #[arg(long, value_name = "ENV")]
    pub from: String,

    /// The environment to copy into.
    #[arg(long, value_name = "ENV")]
    pub to: String,

    /// The branch to create (default: promote/<to>/<first flag>).
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,

    /// Push the branch to this remote (a name or a URL).
    #[arg(long, value_name = "REMOTE")]
    pub push: Option<String>,

    #[command(flatten)]
    pub population: PopulationArgs,

    #[command(flatten)]
    pub repo: RepoArgs,
}

pub fn run(args: &PromoteArgs) -> Result<Outcome, Failure> {
    let root = repo_dir::resolve(args.repo.repo.as_deref())?;
    let plan = match promote::plan(&root, &args.flags, &args.from, &args.to) {
        Ok(plan) => plan,
        Err(e @ (PromoteError::SourceInvalid { .. } | PromoteError::ResultInvalid { .. })) => {
            return Err(Failure::Findings(format!("error: {e}")));
        }
        Err(e) => return Err(e.into()),
    };
    if plan.is_noop() {
        let msg = format!(
            "{} already identical in {}: nothing to commit",
            plan.identical.join(", "),
            plan.to
        );
        match args.repo.format {
            OutputFormat::Json => output::print_json(&json!({
                "identical": plan.identical,
                "branch": null,
                "commit": null,
                "message": msg,
            })),
            OutputFormat::Table => println!("{msg}"),
        }
        return Ok(Outcome::Ok);
    }
    let branch = args
        .branch
        .clone()
        .unwrap_or_else(|| promote::default_branch(&plan));
    check_remote(&root, args.push.as_deref())?;
    let commit = promote::commit(&root, &plan, &branch)?;
    let short = &commit.to_string()[..7];
    let title = promote::title(&plan);
    let body = body(&root, &plan, commit, args)?;
    push_branch(&root, args.push.as_deref(), &branch, short)?;
    match args.repo.format {
        OutputFormat::Json => output::print_json(&json!({
            "branch": branch,
            "commit": commit.to_string(),
            "parent": plan.head.to_string(),
            "pushed": args.push,
            "promoted": plan.promoted,
            "identical": plan.identical,
            "segments": plan.segments,
            "files": plan.edits.iter().map(|e| json!({"path": e.path, "created": e.created})).collect::<Vec<_>>(),
            "title": title,
            "body": body,
        })),
        OutputFormat::Table => {
            println!(
                "created branch {branch} (commit {short}) on top of HEAD {}",
                &plan.head.to_string()[..7]
            );
            for e in &plan.edits {
                println!(
                    "  {} {}",
                    if e.created { "created " } else { "modified" },
                    e.path
                );
            }
            match &args.push {
                Some(remote) => println!("pushed {branch} to {remote}"),
                None => println!("push it with: git push <remote> {branch}"),
            }
            println!("\nPR title:\n{title}\n\nPR body:\n{body}");
        }
    }
    Ok(Outcome::Ok)
}

/// The pull request body: what was promoted, then the markdown diff of the
/// target environment between HEAD and the new commit.
/// A `--push` remote that does not exist is refused before anything is
/// created (`promote`, `retire`).
pub(crate) fn check_remote(root: &Path, push: Option<&str>) -> Result<(), Failure> {
    if let Some(remote) = push {
        let (repo, _) = git::discover(root)?;
        if let Err(e) = git::remote(&repo, remote) {
            fail!("--push {remote}: {}; nothing was created", e.message());
        }
    }
    Ok(())
}

/// Pushes a branch just committed (`short` its commit) when `--push`
/// asks; a failed push says how to finish or undo by hand.
pub(crate) fn push_branch(
    root: &Path,
    push: Option<&str>,
    branch: &str,
    short: &str,
) -> Result<(), Failure> {
    if let Some(remote) = push {
        let (repo, _) = git::discover(root)?;
        if let Err(e) = git::push(&repo, remote, branch) {
            fail!(
                "branch {branch} was created locally (commit {short}) but not pushed to {remote}: \
                 {}. Push it with `git push {remote} {branch}`, or delete it with `git branch -D \
                 {branch}`",
                e.message()
            );
        }
    }
    Ok(())
}

fn body(
    root: &std::path::Path,
    plan: &Plan,
    commit: git2::Oid,
    args: &PromoteArgs,
) -> anyhow::Result<String> {
    let code = |v: &[String]| {
        v.iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!(
        "Promotes {} from **{}** to **{}** (as committed at `{}`).\n\n",
        code(&plan.promoted),
        plan.from,
        plan.to,
        &plan.head.to_string()[..7]
    );
    if !plan.segments.is_empty() {
        out.push_str(&format!(
            "Segments copied because {} lacked them: {}.\n\n",
            plan.to,
            code(&plan.segments)
        ));
    }
    if !plan.segments_differing.is_empty() {
        out.push_str(&format!(
            "Segments kept as {} defines them (they differ from {}): {}.\n\n",
            plan.to,
            plan.from,
            code(&plan.segments_differing)
        ));
    }
    if !plan.identical.is_empty() {
        out.push_str(&format!(
            "Already identical, not changed: {}.\n\n",
            code(&plan.identical)
        ));
    }
    let side = |oid: git2::Oid, label: String| -> anyhow::Result<Side> {
        let snap = GitSnapshot::open(root, &oid.to_string())?;
        Ok(Side {
            label,
            repo: Some(Repository::from_snapshot(Box::new(snap))?),
        })
    };
    let base = side(plan.head, format!("HEAD ({})", &plan.head.to_string()[..7]))?;
    let head = side(commit, format!("promotion ({})", &commit.to_string()[..7]))?;
    let population = args.population.population()?;
    let result = diff::diff(
        &base,
        &head,
        &diff::Options {
            env: Some(&plan.to),
            population: &population,
            now: args.population.now()?,
        },
    )?;
    out.push_str(&diff::markdown::render(&result, &[]));
    out.push_str("\n_Created by `flagctl promote`._\n");
    Ok(out)
}
