//! HotSwap Flags' core: flag files → model → validate → compile (an
//! immutable, indexed ruleset) → evaluate, and signed bundles of a ruleset.
//!
//! It reads files from a directory or from bytes it is given, and depends
//! on no async runtime, no HTTP, no git and no etcd: a service that embeds
//! the evaluator builds this crate alone (docs/architecture.md).
//!
//! ```text
//! repo (snapshot: dir | given files) ─▶ parse ─▶ model ─▶ compile ─▶ ruleset ─▶ eval
//!   files, loading                       Node     serde    validate    indexed     Context → Evaluation
//!                                                          + lower     immutable
//! ruleset ─▶ bundle (signed artifact)
//! ```
//!
//! Embedding in a Rust service takes three calls:
//!
//! ```no_run
//! use hotswap_flags_core::{Context, EvalEnv, Repository};
//!
//! let repo = Repository::open("flags-example")?;
//! let ruleset = repo.ruleset("production")?;
//! let ctx = Context::from_json(serde_json::json!({"targetingKey": "user-42", "country": "DE"}))?;
//! let eval = ruleset.evaluate("new-checkout-flow", &ctx, &EvalEnv::now())?;
//! println!("{} ({})", eval.value(), eval.reason);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

// Shared by every stage: text for people and renderers (a leaf), and
// findings.
pub mod diagnostic;
pub mod escape;

// Leaves below `compile`, importing nothing of this crate: what compiling,
// the ruleset and evaluating must agree on, kept beneath all three so that
// neither `compile` nor `ruleset` reaches up into `eval`. Private: their
// public paths are re-exports in `eval` and `ruleset`.
mod attr_key;
mod bucketing;
mod text;
mod version;

// The pipeline, in order.
pub mod compile;
pub mod eval;
pub mod model;
pub mod parse;
pub mod repo;
pub mod ruleset;

// What is built on it.
pub mod bundle;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use diagnostic::{Diagnostic, Severity};
pub use eval::{Context, EvalEnv, EvalError, Evaluation, Reason, RolloutPosition, RolloutState};
pub use repo::load::{Checked, LoadedEnv};
pub use repo::{RepoError, Repository};
pub use ruleset::Ruleset;
