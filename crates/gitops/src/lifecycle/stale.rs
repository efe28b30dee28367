//! `flagctl stale`'s report: every flag's evidence and verdict
//! (docs/lifecycle.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;

use super::evidence::{EnvEvidence, FlagEvidence, RolloutEvidence};
use super::history::{EnvDir, HistoryError, read_histories};
use super::refs::{RefScan, RefScanError, UndefinedRef, scan};
use super::verdict::{Reason, Verdict, Weighing, weigh};
use crate::repo::{RepoError, Repository};

/// What to report on.
#[derive(Debug, Clone)]
pub struct StaleOptions {
    /// Environments (empty: all of them, in `flags.toml` order).
    pub envs: Vec<String>,
    /// Source directories to search for references (empty: none).
    pub src: Vec<PathBuf>,
    /// Now, and how long counts as stale.
    pub weighing: Weighing,
}

/// Evidence from a running system, by environment then flag: what flagd
/// or Prometheus said (see `usage`).
#[derive(Debug, Clone, Default)]
pub struct RuntimeEvidence {
    /// Where it came from, for the report (`flagd http://…`).
    pub source: String,
    /// Rollouts by environment, then flag.
    pub rollouts: BTreeMap<String, BTreeMap<String, RolloutEvidence>>,
    /// Evaluations over the window (or since `evaluations_since`) by
    /// environment, then flag, then variant. An environment present here
    /// with a flag absent means that flag was not evaluated.
    pub evaluations: BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>,
    /// When the evaluations were counted from, when that is not the
    /// window: flagd counts since it started.
    pub evaluations_since: Option<Timestamp>,
}

/// One flag: its evidence, verdict and reasons.
#[derive(Debug, Clone, Serialize)]
pub struct FlagReport {
    /// The evidence.
    #[serde(flatten)]
    pub evidence: FlagEvidence,
    /// What to do.
    pub verdict: Verdict,
    /// Why.
    pub reasons: Vec<Reason>,
}

/// How many flags got each verdict.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    /// `remove`.
    pub remove: usize,
    /// `review`.
    pub review: usize,
    /// `keep`.
    pub keep: usize,
}

/// The whole report; `flagctl stale --format json` prints it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaleReport {
    /// When it was made.
    pub now: Timestamp,
    /// The staleness threshold and evaluation window, as given.
    pub older_than: String,
    /// The environments reported on.
    pub envs: Vec<String>,
    /// Source directories searched.
    pub src: Vec<String>,
    /// Where runtime evidence came from, if anywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// When the evaluations were counted from, when not over the window
    /// (flagd's start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluations_since: Option<Timestamp>,
    /// Verdict counts.
    pub summary: Summary,
    /// Every flag, `remove` first, then `review`, then `keep`, each by key.
    pub flags: Vec<FlagReport>,
    /// Evaluation calls in code naming keys no environment defines (the
    /// first `refs::LISTED_UNDEFINED` by place).
    pub undefined: Vec<UndefinedRef>,
    /// How many such calls there are, listed or not.
    pub undefined_count: u64,
    /// Files and bytes searched for references.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub searched: Option<Searched>,
}

/// How much code was searched, and what could not be.
#[derive(Debug, Clone, Serialize)]
pub struct Searched {
    /// Files.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
    /// Paths that could not be walked or read: while there are any, no
    /// flag is marked `remove` for having no reference.
    pub unreadable: u64,
    /// The first of them (`path: why`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StaleError {
    /// The repository or an environment.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The git history.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The code search.
    #[error(transparent)]
    Refs(#[from] RefScanError),
}

/// Builds the report for the flags repository in `dir`.
pub fn stale_report(
    dir: &Path,
    repo: &Repository,
    opts: &StaleOptions,
    runtime: Option<&RuntimeEvidence>,
) -> Result<StaleReport, StaleError> {
    let all: Vec<EnvDir> = repo
        .config()
        .environments
        .iter()
        .map(|e| EnvDir {
            name: e.name.clone(),
            path: e.path.clone(),
        })
        .collect();
    let asked: Vec<EnvDir> = if opts.envs.is_empty() {
        all.clone()
    } else {
        opts.envs
            .iter()
            .map(|name| {
                let e = repo.environment(name)?;
                Ok(EnvDir {
                    name: e.name.clone(),
                    path: e.path.clone(),
                })
            })
            .collect::<Result<_, RepoError>>()?
    };
    let mut models = BTreeMap::new();
    for env in &all {
        models.insert(env.name.clone(), repo.load_env(&env.name)?.model);
    }
    let mut histories = read_histories(dir, &asked)?;
    let code = if opts.src.is_empty() {
        None
    } else {
        let mut keys: Vec<String> = models
            .values()
            .flat_map(|m| m.flags.keys().cloned())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        Some(scan(&opts.src, &keys)?)
    };
    let mut keys: Vec<&String> = asked
        .iter()
        .flat_map(|e| models[&e.name].flags.keys())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let evaluations_since = runtime.and_then(|r| r.evaluations_since);
    let weighing = Weighing {
        evaluations_since,
        unreadable_paths: code.as_ref().map_or(0, |c| c.error_count),
        ..opts.weighing
    };
    let mut flags: Vec<FlagReport> = keys
        .into_iter()
        .map(|key| {
            let evidence = gather(key, &asked, &models, &mut histories, code.as_ref(), runtime);
            let (verdict, reasons) = weigh(&evidence, &weighing);
            FlagReport {
                evidence,
                verdict,
                reasons,
            }
        })
        .collect();
    flags.sort_by(|a, b| {
        b.verdict
            .cmp(&a.verdict)
            .then(a.evidence.key.cmp(&b.evidence.key))
    });
    let mut summary = Summary::default();
    for f in &flags {
        *match f.verdict {
            Verdict::Remove => &mut summary.remove,
            Verdict::Review => &mut summary.review,
            Verdict::Keep => &mut summary.keep,
        } += 1;
    }
    Ok(StaleReport {
        now: opts.weighing.now,
        older_than: short_duration(opts.weighing.older_than.as_secs()),
        envs: asked.into_iter().map(|e| e.name).collect(),
        src: opts.src.iter().map(|p| p.display().to_string()).collect(),
        runtime: runtime.map(|r| r.source.clone()),
        evaluations_since,
        summary,
        flags,
        undefined_count: code.as_ref().map_or(0, |c| c.undefined_count),
        searched: code.as_ref().map(|c| Searched {
            files: c.files,
            bytes: c.bytes,
            unreadable: c.error_count,
            errors: c.errors.clone(),
        }),
        undefined: code.map(|c| c.undefined).unwrap_or_default(),
    })
}

/// A duration in the short form, in whole days or hours when it is one
/// (`30d`, `1h`, `90s`).
fn short_duration(secs: u64) -> String {
    if secs > 0 && secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else if secs > 0 && secs.is_multiple_of(3_600) {
        format!("{}h", secs / 3_600)
    } else {
        format!("{secs}s")
    }
}

/// One flag's evidence from everything gathered.
fn gather(
    key: &str,
    asked: &[EnvDir],
    models: &BTreeMap<String, hotswap_flags_core::model::EnvModel>,
    histories: &mut std::collections::HashMap<String, super::history::EnvHistory>,
    code: Option<&RefScan>,
    runtime: Option<&RuntimeEvidence>,
) -> FlagEvidence {
    let first = asked.iter().find_map(|e| models[&e.name].flags.get(key));
    let envs = asked
        .iter()
        .map(|e| {
            let defined = models[&e.name].flags.contains_key(key);
            EnvEvidence {
                env: e.name.clone(),
                defined,
                history: histories
                    .get_mut(&e.name)
                    .and_then(|h| h.remove(key))
                    .filter(|_| defined),
                rollout: runtime
                    .and_then(|r| r.rollouts.get(&e.name))
                    .and_then(|r| r.get(key))
                    .cloned(),
                evaluations: runtime
                    .and_then(|r| r.evaluations.get(&e.name))
                    .map(|by_flag| by_flag.get(key).cloned().unwrap_or_default()),
            }
        })
        .collect();
    FlagEvidence {
        key: key.to_owned(),
        owner: first.and_then(|f| f.owner.clone()),
        kind: first.and_then(|f| f.lifecycle),
        expires: first.and_then(|f| f.expires),
        envs,
        code: code.map(|c| c.refs.get(key).cloned().unwrap_or_default()),
        code_count: code.map(|c| c.counts.get(key).copied().unwrap_or(0)),
    }
}
