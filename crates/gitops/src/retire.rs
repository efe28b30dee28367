//! Retiring a flag (docs/lifecycle.md, "Retiring a flag"): a branch with one
//! commit deleting the flag from every environment, whose message lists the
//! code that must change to hard-code the variant kept. The conventions are
//! `promote`'s: everything read from HEAD, files edited as text (comments
//! and other definitions stay byte for byte), the result validated before
//! anything is written, the commit built from HEAD's tree.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::branch::{self, BranchError, FileEdit, render};
use crate::diff::defining_file;
use crate::lifecycle::refs::{CodeRef, RefScan, RefScanError, scan};
use crate::lifecycle::serving::{serves_one, uniform_when_rolled_out};
use crate::lifecycle::stale::RuntimeEvidence;
use crate::promote::remove_definition;
use crate::repo::RepoError;
use crate::repo::load::LoadedEnv;
use crate::repo::snapshot::Snapshot;
use hotswap_flags_core::diagnostic::{Diagnostic, did_you_mean};
use hotswap_flags_core::escape::controls;
use hotswap_flags_core::escape::markdown::code;
use hotswap_flags_core::model::{Flag, Serve};

/// Why a flag could not be retired.
#[derive(Debug, thiserror::Error)]
pub enum RetireError {
    /// Reading the repository or its files, editing a file, git.
    #[error(transparent)]
    Branch(#[from] BranchError),
    /// No environment defines the flag at HEAD.
    #[error("no environment defines flag `{flag}` at HEAD{hint}")]
    UnknownFlag {
        /// The flag.
        flag: String,
        /// A suggestion.
        hint: String,
    },
    /// `--keep` names no variant of the flag.
    #[error("`{variant}` is not a variant of `{flag}`{hint}")]
    UnknownVariant {
        /// The variant asked for.
        variant: String,
        /// The flag.
        flag: String,
        /// A suggestion or the variants.
        hint: String,
    },
    /// No `--keep`, and the flag does not serve one variant everywhere.
    #[error("`{0}` serves more than one variant: say which one code keeps with --keep VARIANT")]
    KeepNeeded(String),
    /// The flag is still moving users.
    #[error("`{flag}` {why}; retire it once that is over, or pass --force")]
    StillRunning {
        /// The flag.
        flag: String,
        /// What is running.
        why: String,
    },
    /// An environment would not validate without the flag.
    #[error("removing `{flag}` would leave `{env}` invalid; nothing was written:\n{}", render(.diagnostics))]
    ResultInvalid {
        /// The flag.
        flag: String,
        /// The environment.
        env: String,
        /// Its errors.
        diagnostics: Vec<Diagnostic>,
    },
    /// Searching the code failed.
    #[error(transparent)]
    Refs(#[from] RefScanError),
}

impl From<RepoError> for RetireError {
    fn from(e: RepoError) -> Self {
        RetireError::Branch(e.into())
    }
}

/// An environment defining the flag: its name, the flag there, and the
/// environment as loaded.
type Defined = (String, Flag, LoadedEnv);

/// What retiring asks for.
#[derive(Debug, Clone, Default)]
pub struct RetireRequest {
    /// The flag.
    pub flag: String,
    /// The variant code keeps (default: the one the flag serves everyone).
    pub keep: Option<String>,
    /// Retire even while a rollout or an experiment runs.
    pub force: bool,
    /// Code to search for references.
    pub src: Vec<PathBuf>,
}

/// What retiring will do.
#[derive(Debug, Clone, Serialize)]
pub struct RetirePlan {
    /// The commit everything was read from.
    #[serde(serialize_with = "oid_text")]
    pub head: git2::Oid,
    /// The flags repository's place inside the git repository.
    #[serde(skip)]
    pub prefix: String,
    /// The flag.
    pub flag: String,
    /// The variant kept, and its value.
    pub keep: String,
    /// The kept variant's value (as in the first environment defining it).
    pub value: serde_json::Value,
    /// Environments it is removed from.
    pub envs: Vec<String>,
    /// Files written.
    #[serde(skip)]
    pub edits: Vec<FileEdit>,
    /// Code references found, the first by file and line (empty when no
    /// code was searched).
    pub references: Vec<CodeRef>,
    /// How many references there are, listed or not.
    pub reference_count: u64,
    /// How many paths under `src` could not be walked or read.
    pub unreadable: u64,
    /// The first of them (`path: why`).
    pub unreadable_paths: Vec<String>,
    /// Directories searched.
    pub src: Vec<String>,
}

fn oid_text<S: serde::Serializer>(oid: &git2::Oid, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(oid)
}

/// Plans the retirement of a flag from the HEAD of the repository at
/// `root`; `runtime` (flagd's rollouts) may show a rollout completed.
pub fn plan(
    root: &Path,
    req: &RetireRequest,
    runtime: Option<&RuntimeEvidence>,
) -> Result<RetirePlan, RetireError> {
    let branch::Head {
        commit: head,
        prefix,
        repo,
    } = branch::head(root)?;
    let mut defined: Vec<Defined> = Vec::new();
    let mut all_keys = Vec::new();
    for env in &repo.config().environments {
        let loaded = repo.load_env(&env.name)?;
        all_keys.extend(loaded.model.flags.keys().cloned());
        if let Some(flag) = loaded.model.flags.get(&req.flag).cloned() {
            defined.push((env.name.clone(), flag, loaded));
        }
    }
    let Some((_, first, _)) = defined.first() else {
        all_keys.sort();
        all_keys.dedup();
        return Err(RetireError::UnknownFlag {
            flag: req.flag.clone(),
            hint: did_you_mean(&req.flag, all_keys.iter().map(String::as_str))
                .map(|h| format!(" ({h})"))
                .unwrap_or_default(),
        });
    };
    if !req.force {
        for (env, flag, _) in &defined {
            still_running(&req.flag, env, flag, runtime)?;
        }
    }
    let keep = kept_variant(req, &defined)?;
    let value = first.variants.get(&keep).cloned().unwrap_or_default();
    let edits = removals(repo.snapshot(), &req.flag, &defined)?;
    validate_result(root, head, &req.flag, &edits, &defined)?;
    let found = if req.src.is_empty() {
        RefScan::default()
    } else {
        scan(&req.src, std::slice::from_ref(&req.flag))?
    };
    let reference_count = found.counts.get(&req.flag).copied().unwrap_or(0);
    let references = found.refs.get(&req.flag).cloned().unwrap_or_default();
    Ok(RetirePlan {
        head,
        prefix,
        flag: req.flag.clone(),
        keep,
        value,
        envs: defined.iter().map(|(e, _, _)| e.clone()).collect(),
        edits,
        references,
        reference_count,
        unreadable: found.error_count,
        unreadable_paths: found.errors,
        src: req.src.iter().map(|p| p.display().to_string()).collect(),
    })
}

/// Each file defining `flag`, without it.
fn removals(
    snapshot: &dyn Snapshot,
    flag: &str,
    defined: &[Defined],
) -> Result<Vec<FileEdit>, BranchError> {
    let mut edits: Vec<FileEdit> = Vec::new();
    for (_, _, loaded) in defined {
        let Some(path) = defining_file(loaded, "flags", flag) else {
            continue;
        };
        let bytes = snapshot.read(&path)?.unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let edited =
            remove_definition(&text, &path, "flags", flag).map_err(|reason| BranchError::Edit {
                path: path.clone(),
                reason,
            })?;
        edits.push(FileEdit {
            path,
            created: false,
            text: edited,
        });
    }
    Ok(edits)
}

/// `--keep`, checked; else the variant every environment serves everyone
/// (once its rollout, if any, has completed).
fn kept_variant(req: &RetireRequest, defined: &[Defined]) -> Result<String, RetireError> {
    if let Some(keep) = &req.keep {
        for (_, flag, _) in defined {
            if !flag.variants.contains_key(keep) {
                let names = flag.variants.keys().map(String::as_str);
                return Err(RetireError::UnknownVariant {
                    variant: keep.clone(),
                    flag: req.flag.clone(),
                    hint: did_you_mean(keep, names)
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default(),
                });
            }
        }
        return Ok(keep.clone());
    }
    // A completed rollout serves its variant to everyone the rules leave.
    let mut served = defined.iter().map(|(_, f, _)| {
        serves_one(f).or_else(|| {
            uniform_when_rolled_out(f)
                .then(|| f.rollout.as_ref().map(|r| r.serve.as_str()))
                .flatten()
        })
    });
    let first = served.next().flatten();
    match first {
        Some(v) if served.all(|s| s == Some(v)) => Ok(v.to_owned()),
        _ => Err(RetireError::KeepNeeded(req.flag.clone())),
    }
}

/// Refuses a flag whose experiment runs, or whose rollout is not known to
/// be completed (flagd says so through `runtime`).
fn still_running(
    key: &str,
    env: &str,
    flag: &Flag,
    runtime: Option<&RuntimeEvidence>,
) -> Result<(), RetireError> {
    let running = |why: String| {
        Err(RetireError::StillRunning {
            flag: key.to_owned(),
            why,
        })
    };
    let experiment = std::iter::once(&flag.default)
        .chain(flag.rules.iter().map(|r| &r.serve))
        .any(|s| matches!(s, Serve::Split(split) if split.experiment.is_some()));
    if experiment && flag.enabled {
        return running(format!("runs an experiment in `{env}`"));
    }
    if let Some(rollout) = &flag.rollout
        && flag.enabled
    {
        let completed = runtime
            .and_then(|r| r.rollouts.get(env))
            .and_then(|r| r.get(key))
            .is_some_and(|r| r.completed_at.is_some() && r.serve == rollout.serve);
        if !completed {
            return running(format!(
                "has a rollout of `{}` in `{env}` not known to be completed (ask the flagd serving `{env}` with --daemon)",
                rollout.serve
            ));
        }
    }
    Ok(())
}

/// Every environment that held the flag still validates without it.
fn validate_result(
    root: &Path,
    head: git2::Oid,
    flag: &str,
    edits: &[FileEdit],
    defined: &[Defined],
) -> Result<(), RetireError> {
    let result = branch::with_edits(root, head, edits)?;
    for (env, _, _) in defined {
        let checked = result.check_env(env)?;
        if checked.has_errors() {
            return Err(RetireError::ResultInvalid {
                flag: flag.to_owned(),
                env: env.clone(),
                diagnostics: checked.diagnostics,
            });
        }
    }
    Ok(())
}

/// The branch a retirement goes to by default: `retire/<flag>`.
pub fn default_branch(plan: &RetirePlan) -> String {
    format!("retire/{}", plan.flag)
}

/// The commit message: a title, where the flag was removed, and the code
/// to change before merging.
///
/// GitHub renders a commit's body as Markdown (it is a single-commit pull
/// request's description), so what the repository and the code hold —
/// the variant kept, its value, file names, lines of code — is a code span
/// there, and no newline in a file name starts a line (docs/security.md,
/// "Output"). The flag key is a validated key.
pub fn message(plan: &RetirePlan) -> String {
    let codes = |items: &[String]| items.iter().map(|i| code(i)).collect::<Vec<_>>().join(", ");
    let mut m = format!(
        "Retire {}\n\nRemoved from {} (at {}).\nCode keeps {} ({}).\n",
        controls(&plan.flag),
        codes(&plan.envs),
        plan.head,
        code(&plan.keep),
        code(&plan.value.to_string())
    );
    if plan.src.is_empty() {
        m.push_str("\nCode was not searched for references (`--src`).\n");
    } else if plan.references.is_empty() {
        let _ = writeln!(m, "\nNo code references in {}.", codes(&plan.src));
    } else {
        let _ = writeln!(
            m,
            "\nChange these references to use {} before merging:",
            code(&plan.keep)
        );
        for r in &plan.references {
            let _ = writeln!(
                m,
                "- {}: {}",
                code(&format!("{}:{}", r.file, r.line)),
                code(&r.text)
            );
        }
        let more = plan.reference_count - plan.references.len() as u64;
        if more > 0 {
            let _ = writeln!(m, "- … and {more} more");
        }
    }
    if plan.unreadable > 0 {
        let _ = writeln!(
            m,
            "\n{} path(s) could not be read; references there were not looked for:",
            plan.unreadable
        );
        for e in &plan.unreadable_paths {
            let _ = writeln!(m, "- {}", code(e));
        }
    }
    m.push_str("\nCreated by flagctl retire.\n");
    m
}

/// Commits the plan on a new branch; returns the commit id.
pub fn commit(root: &Path, plan: &RetirePlan, branch: &str) -> Result<git2::Oid, RetireError> {
    Ok(branch::commit(
        root,
        plan.head,
        &plan.prefix,
        &plan.edits,
        branch,
        &message(plan),
    )?)
}
