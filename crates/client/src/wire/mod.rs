//! What flagd's own API answers with, as both sides see it: flagd
//! serializes these types and its clients (`flagctl rollout`, `flagctl
//! experiment analyze --daemon`, `flagctl stale`) deserialize the same
//! ones, so a renamed field breaks the build rather than a reader.

pub mod error;
pub mod experiment;
pub mod history;
pub mod rollout;

pub use error::{ErrorBody, ErrorDetail};
pub use experiment::{ExperimentSpec, ExposureReport, Site};
pub use history::{HistoryCheck, HistoryPoint, HistoryRound, RolloutHistory};
pub use rollout::{
    BaselineComparison, CheckOutcome, CheckResult, ClusterView, Phase, RolloutList, RolloutStatus,
    Steer, Window,
};
