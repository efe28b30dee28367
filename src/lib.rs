//! HotSwap Flags: feature flags kept as code in git.
//!
//! The data flows one way:
//!
//! ```text
//! files ─parse─▶ Node ─serde─▶ model ─compile (validate + lower)─▶ Ruleset ─evaluate─▶ Evaluation
//!  (source)      (parse)       (model)     (compile)                (ruleset)    (eval)
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

pub mod bundle;
pub mod compile;
pub mod diagnostic;
pub mod diff;
pub mod eval;
pub mod experiment_data;
pub mod exposure;
pub mod feed;
pub mod fsutil;
pub mod http;
pub mod live;
pub mod load;
pub mod model;
pub mod parse;
pub mod population;
pub mod promote;
pub mod repo;
pub mod rollout;
pub mod ruleset;
pub mod scaffold;
pub mod server;
pub mod signing;
pub mod simulate;
pub mod source;
pub mod state_dir;
pub mod stats;

pub use diagnostic::{Diagnostic, Severity};
pub use eval::{Context, EvalEnv, EvalError, Evaluation, Reason, RolloutPosition, RolloutState};
pub use load::{Checked, LoadedEnv};
pub use repo::{RepoError, Repository};
pub use ruleset::Ruleset;
