//! The serde model of `flags.toml` and flag files: what users write, nothing
//! derived. The compiler turns it into a [`crate::ruleset::Ruleset`].

pub mod condition;
pub mod config;
pub mod duration;
pub mod flag;
pub mod lifecycle;
pub mod rollout;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use crate::bucketing::BucketingMode;
pub use condition::{
    AttrCondition, Condition, FlagCondition, Op, Operands, PercentageCondition, TimeWindow,
};
pub use config::{EnvironmentConfig, MetricsConfig, RepoConfig};
pub use duration::DurationSpec;
pub use flag::{
    BucketByList, CODE_DEFAULT, Experiment, Flag, FlagFile, FlagType, Rule, Segment, Serve, Split,
};
pub use lifecycle::{ExpiryDate, FlagKind};
pub use rollout::{Check, Compare, Health, MetricsShorthand, NoData, Rollout, Stage, Strategy};

/// One environment's flags and segments, merged from all its files.
///
/// This is also what a bundle carries: the definitions, without the files
/// they came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvModel {
    /// Flags by key, in file order then written order.
    #[serde(default)]
    pub flags: IndexMap<String, Flag>,
    /// Segments by name.
    #[serde(default)]
    pub segments: IndexMap<String, Segment>,
}
