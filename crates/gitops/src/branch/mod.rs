//! The branch step `promote` and `retire` share. Approval is pull-request
//! review, so a change to the flags repository is a branch with one commit,
//! never a write to the working tree: everything is read from HEAD (what is
//! committed is what gets reviewed), the files are edited as text, the
//! result is validated on HEAD's files with the edits before anything is
//! written (`with_edits`), and the commit is built from HEAD's tree plus
//! the changed blobs (`commit`, through [`git`]).

pub mod git;

use std::collections::BTreeMap;
use std::path::Path;

use crate::repo::snapshot::{GitSnapshot, Snapshot, SnapshotError, join};
use crate::repo::{RepoError, Repository};
use hotswap_flags_core::diagnostic::Diagnostic;

/// Why a file could not be edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The file does not parse.
    #[error("does not parse: {0}")]
    Parse(String),
    /// A layout the text editor does not handle.
    #[error("{0}")]
    Unsupported(String),
    /// The definition is not in the file.
    #[error("definition not found")]
    Missing,
}

/// Why a branch could not be prepared or committed, whatever it carries:
/// the errors `promote` and `retire` share.
#[derive(Debug, thiserror::Error)]
pub enum BranchError {
    /// Reading the repository failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Reading files failed.
    #[error(transparent)]
    Source(#[from] SnapshotError),
    /// A git operation failed. The message is git2's own (without its
    /// class and code); the error is not also given as the `source`, so
    /// that printing the chain (`{:#}`) says it once.
    #[error("git: {}", .0.message())]
    Git(git2::Error),
    /// A file could not be edited.
    #[error("{path}: {reason}")]
    Edit {
        /// The file.
        path: String,
        /// Why (in the message, not a `source`, so it is said once).
        reason: EditError,
    },
}

impl From<git2::Error> for BranchError {
    fn from(e: git2::Error) -> Self {
        BranchError::Git(e)
    }
}

/// The errors among `diags`, one a line: what an invalid environment says.
pub(crate) fn render(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One file a branch writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    /// Path relative to the flags repository.
    pub path: String,
    /// True when the file is new.
    pub created: bool,
    /// Its new contents.
    pub text: String,
}

/// The flags repository as committed at HEAD: what a branch starts from.
pub(crate) struct Head {
    /// The commit.
    pub(crate) commit: git2::Oid,
    /// The flags repository's place inside the git repository.
    pub(crate) prefix: String,
    /// Its files at that commit.
    pub(crate) repo: Repository,
}

/// The flags repository at `root` as committed at HEAD.
pub(crate) fn head(root: &Path) -> Result<Head, BranchError> {
    let (git_repo, prefix) = git::discover(root)?;
    let commit = git_repo.head()?.peel_to_commit()?.id();
    let repo = Repository::from_snapshot(Box::new(GitSnapshot::open(root, &commit.to_string())?))?;
    Ok(Head {
        commit,
        prefix,
        repo,
    })
}

/// The flags repository at `root` as commit `head` with `edits` made: what
/// the branch would hold, to validate before anything is written.
pub(crate) fn with_edits(
    root: &Path,
    head: git2::Oid,
    edits: &[FileEdit],
) -> Result<Repository, BranchError> {
    let overlay = Overlay {
        base: GitSnapshot::open(root, &head.to_string())?,
        files: edits
            .iter()
            .map(|e| (e.path.clone(), e.text.clone().into_bytes()))
            .collect(),
    };
    Ok(Repository::from_snapshot(Box::new(overlay))?)
}

/// Commits `edits` (read at `head`, in the flags repository at `prefix`
/// inside the git repository holding `root`) on the new branch `branch`;
/// returns the commit id.
pub(crate) fn commit(
    root: &Path,
    head: git2::Oid,
    prefix: &str,
    edits: &[FileEdit],
    branch: &str,
    message: &str,
) -> Result<git2::Oid, BranchError> {
    let (repo, _) = git::discover(root)?;
    let files: Vec<(String, Vec<u8>)> = edits
        .iter()
        .map(|e| (join(prefix, &e.path), e.text.clone().into_bytes()))
        .collect();
    Ok(git::commit_on_branch(&repo, head, &files, branch, message)?)
}

/// HEAD's files with some replaced: what a promotion or a retirement
/// would leave, validated before anything is written.
#[derive(Debug)]
struct Overlay {
    base: GitSnapshot,
    files: BTreeMap<String, Vec<u8>>,
}

impl Snapshot for Overlay {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SnapshotError> {
        match self.files.get(path) {
            Some(b) => Ok(Some(b.clone())),
            None => self.base.read(path),
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, SnapshotError> {
        let mut all = self.base.list(dir)?;
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        all.extend(
            self.files
                .keys()
                .filter(|p| p.starts_with(&prefix) || dir.is_empty())
                .cloned(),
        );
        all.sort();
        all.dedup();
        Ok(all)
    }

    fn describe(&self) -> String {
        format!("{} + promotion", self.base.describe())
    }

    fn location(&self) -> String {
        format!("{} with the promotion", self.base.location())
    }
}
