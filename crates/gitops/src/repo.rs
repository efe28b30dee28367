//! Repositories: the core's (a directory's files, loading, checking) with
//! git's snapshots beside a directory's, so that code reading a commit and
//! code reading a directory name one module.

pub use hotswap_flags_core::repo::*;

pub use crate::git::remote;

/// Where repository files come from: the core's directory snapshot, and a
/// commit's tree ([`GitSnapshot`](crate::git::snapshot::GitSnapshot)).
pub mod snapshot {
    pub use crate::git::snapshot::{GitSnapshot, repo_prefix};
    pub use hotswap_flags_core::repo::snapshot::*;
}
