//! Where repository files come from: a directory on disk, or (for diffs and
//! flagd's git source) a commit's tree. Loading works the same on either.

mod dir;
mod git;

use std::fmt;

pub use dir::DirSnapshot;
pub use git::GitSnapshot;

/// A failure to read the repository itself (not a problem in a flag file).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// An I/O error on a path.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Another failure (git, bundle) described in words.
    #[error("{0}")]
    Other(String),
}

/// A read-only view of repository files at one point in time.
///
/// Paths are relative to the repository root and use `/`.
pub trait Snapshot: fmt::Debug + Send + Sync {
    /// The contents of a file, or `None` if it does not exist.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError>;

    /// Every file below `dir` (recursively), sorted, skipping hidden entries
    /// (names starting with `.`, such as editors' temporary files).
    fn list(&self, dir: &str) -> Result<Vec<String>, SourceError>;

    /// Where the files come from, for messages and `/api/v1/ruleset`.
    fn describe(&self) -> String;

    /// The revision, when the source has one (a commit id).
    fn revision(&self) -> Option<String> {
        None
    }
}

/// Joins a directory and a relative path with `/`.
pub fn join(dir: &str, name: &str) -> String {
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() || dir == "." {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}
