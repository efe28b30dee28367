//! HotSwap Flags: feature flags kept as code in git.
//!
//! The evaluator is the `hotswap-flags-core` crate (files → model →
//! compile → ruleset → evaluate, and bundles), re-exported here under the
//! same paths; this crate adds what needs git, HTTP or a runtime
//! (`docs/architecture.md` has the whole picture):
//!
//! ```text
//! core: repo (dir) ─▶ parse ─▶ model ─▶ compile ─▶ ruleset ─▶ eval; bundle
//! git (snapshots of commits, remotes) ─▶ repo
//! repo ─▶ gitops (simulate, diff, promote, scaffold)       flagctl only
//! repo, git, metrics, code ─▶ lifecycle (stale, retire)    flagctl only
//! daemon: feed ─▶ live (swap) ─▶ server; rollout ◀─ prometheus   flagd only
//! stats (experiments, guardrails); client (flagd, Prometheus, HTTP)
//! ```
//!
//! A service that only evaluates flags depends on `hotswap-flags-core`
//! alone (its `examples/embed.rs`).

#![warn(missing_docs)]

pub use hotswap_flags_core::{bundle, compile, diagnostic, eval, model, parse, ruleset};
pub use hotswap_flags_stats as stats;

pub mod fsutil;
pub mod git;
pub mod repo;

pub mod client;
pub mod daemon;
pub mod gitops;
pub mod lifecycle;
pub mod prometheus;

pub use hotswap_flags_core::{
    Checked, Context, Diagnostic, EvalEnv, EvalError, Evaluation, LoadedEnv, Reason, RepoError,
    Repository, RolloutPosition, RolloutState, Ruleset, Severity,
};
