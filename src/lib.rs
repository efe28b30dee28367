//! HotSwap Flags: feature flags kept as code in git.
//!
//! The modules follow the data, one stage each (`docs/architecture.md` has
//! the whole picture):
//!
//! ```text
//! repo (dir | git tree) ─▶ parse ─▶ model ─▶ compile ─▶ ruleset ─▶ eval
//!   files, loading         Node     serde    validate    indexed     Context → Evaluation
//!                                            + lower     immutable
//!
//! ruleset ─▶ bundle (signed artifact)
//! repo ─▶ gitops (simulate, diff, promote, scaffold)       flagctl only
//! repo, git, metrics, code ─▶ lifecycle (stale, retire)    flagctl only
//! daemon: feed ─▶ live (swap) ─▶ server; rollout ◀─ prometheus   flagd only
//! stats (experiments, guardrails); client (flagd, Prometheus, HTTP)
//! ```
//!
//! Embedding in a Rust service takes three calls:
//!
//! ```no_run
//! use hotswap_flags::{Context, EvalEnv, Repository};
//!
//! let repo = Repository::open("flags-example")?;
//! let ruleset = repo.ruleset("production")?;
//! let ctx = Context::from_json(serde_json::json!({"targetingKey": "user-42", "country": "DE"}))?;
//! let eval = ruleset.evaluate("new-checkout-flow", &ctx, &EvalEnv::now())?;
//! println!("{} ({})", eval.value(), eval.reason);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

// Shared by every stage.
pub mod diagnostic;
pub mod fsutil;

// The pipeline, in order.
pub mod compile;
pub mod eval;
pub mod model;
pub mod parse;
pub mod repo;
pub mod ruleset;

// What is built on it.
pub mod bundle;
pub mod client;
pub mod daemon;
pub mod gitops;
pub mod lifecycle;
pub mod prometheus;
pub mod stats;

pub use diagnostic::{Diagnostic, Severity};
pub use eval::{Context, EvalEnv, EvalError, Evaluation, Reason, RolloutPosition, RolloutState};
pub use repo::load::{Checked, LoadedEnv};
pub use repo::{RepoError, Repository};
pub use ruleset::Ruleset;
