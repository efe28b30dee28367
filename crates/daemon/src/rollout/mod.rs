//! Progressive rollouts driven by metrics: health-gated stages, automatic
//! rollback, durable state, steering and an audit log.
//!
//! - [`machine`]: the pure state machine (no I/O, no clock);
//! - [`checks`]: rendering a check's queries and judging the answers;
//! - [`state`]: the durable record of each rollout;
//! - [`audit`]: the append-only audit log;
//! - [`history`]: every check round's measurements, bounded;
//! - [`store`]: where records and the audit trail live (a state
//!   directory, or a cluster's store);
//! - [`clock`]: injected time;
//! - [`controller`]: the loop that ties them to the served ruleset, with
//!   the API's view of it and the records a cluster's store sends in.

pub mod audit;
pub mod checks;
pub mod clock;
pub mod controller;
pub mod history;
pub mod machine;
pub mod state;
pub mod store;

pub use controller::{Controller, RolloutApi, RolloutMetrics, SteerFailure};
pub use state::RolloutRecord;
