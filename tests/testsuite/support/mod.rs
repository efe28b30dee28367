//! What the integration tests share. One tree for all of them: a helper
//! lives here once, and the compiler's dead-code check covers it, since the
//! whole suite is one crate.

pub mod files;
pub mod flagd;
pub mod gitops;
pub mod prometheus;
pub mod props;
pub mod rulesets;
