//! Where repository files come from: a directory on disk here; a commit's
//! tree (for diffs and flagd's git source) implements [`Snapshot`] too, in
//! the crate that reads git. Loading works the same on either.

mod dir;

use std::fmt;

pub use dir::DirSnapshot;

/// A failure to read the repository itself (not a problem in a flag file).
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// An I/O error on a path.
    #[error("{path}: {error}")]
    Io {
        /// The path concerned.
        path: String,
        /// The error (in the message, not a `source`, so that printing the
        /// chain says it once).
        error: std::io::Error,
    },
    /// The repository directory itself is missing.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The repository "directory" is something else (a file).
    #[error("{0} is not a directory")]
    NotADirectory(String),
    /// A symbolic link inside the repository leads out of it. Only the
    /// link is named: what it points at is never read, so no file of the
    /// host can reach a message, a log or the API.
    #[error("{0} is a symbolic link leading outside the repository; refusing to follow it")]
    OutsideRepository(String),
    /// Another failure (git, bundle) described in words.
    #[error("{0}")]
    Other(String),
}

/// A read-only view of repository files at one point in time.
///
/// Paths are relative to the repository root and use `/`.
pub trait Snapshot: fmt::Debug + Send + Sync {
    /// The contents of a file, or `None` if it does not exist.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SnapshotError>;

    /// Every file below `dir` (recursively), sorted, skipping hidden entries
    /// (names starting with `.`, such as editors' temporary files).
    fn list(&self, dir: &str) -> Result<Vec<String>, SnapshotError>;

    /// Where the files come from, as a tagged string for machines
    /// (`dir:PATH`, `git:REV@COMMIT`): flagd's `/api/v1/ruleset` `source`.
    fn describe(&self) -> String;

    /// Where the files come from, for messages to people: a directory's
    /// path, a revision and its short commit id; no `dir:`/`git:` tag.
    fn location(&self) -> String {
        self.describe()
    }

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
