//! A git remote, fetched with git2 into a bare clone in the state directory.
//! The ruleset is read from the commit's tree (no checkout) and its version
//! is the commit id.

use std::path::{Path, PathBuf};

use git2::{FetchOptions, Oid, Repository};

use hotswap_flags_gitops::repo::remote;
use sha2::{Digest, Sha256};

use super::{Attempt, Poll, Work, load_snapshot, load_with_cache};
use crate::live::LoadFailure;
use hotswap_flags_gitops::repo::load::ReadCache;
use hotswap_flags_gitops::repo::snapshot::GitSnapshot;

/// What is fetched: every branch and tag, and the remote's HEAD.
const REFSPECS: &[&str] = &[
    "+refs/heads/*:refs/remotes/origin/*",
    "+refs/tags/*:refs/tags/*",
    "+HEAD:refs/remotes/origin/HEAD",
];

/// A remote repository and the reference to follow.
pub struct GitFeed {
    url: String,
    reference: Option<String>,
    path: String,
    pub(super) env: String,
    clone_dir: PathBuf,
    last_commit: Option<Oid>,
    /// The readings of the last load's files (see [`ReadCache`]).
    cache: Option<ReadCache>,
    pub(super) work: Work,
}

impl GitFeed {
    /// Follows `reference` (default: the remote's HEAD) of `url`, reading
    /// the flags repository at `path` in its tree.
    pub fn new(
        url: String,
        reference: Option<String>,
        path: String,
        env: &str,
        state_dir: &Path,
    ) -> Self {
        let slug = hex::encode(&Sha256::digest(url.as_bytes())[..8]);
        GitFeed {
            clone_dir: state_dir.join("git").join(slug),
            url,
            reference,
            path,
            env: env.to_owned(),
            last_commit: None,
            cache: Some(ReadCache::default()),
            work: Work::default(),
        }
    }

    pub(super) async fn check(&mut self) -> Poll {
        let url = self.url.clone();
        let reference = self.reference.clone();
        let dir = self.clone_dir.clone();
        let fetched =
            tokio::task::spawn_blocking(move || fetch(&dir, &url, reference.as_deref())).await;
        let commit = match fetched {
            Ok(Ok(commit)) => commit,
            Ok(Err(msg)) => return Poll::Failed(LoadFailure::new(msg)),
            Err(e) => return Poll::Failed(LoadFailure::new(format!("fetch task failed: {e}"))),
        };
        if self.last_commit == Some(commit) {
            return Poll::Unchanged;
        }
        self.last_commit = Some(commit);
        let dir = self.clone_dir.clone();
        let env = self.env.clone();
        let path = self.path.clone();
        let label = format!(
            "{}@{}",
            self.url,
            self.reference.as_deref().unwrap_or("HEAD")
        );
        let loaded = load_with_cache(&mut self.cache, &mut self.work, move |cache| {
            match Repository::open_bare(&dir) {
                Ok(repo) => {
                    let snapshot = GitSnapshot::new(repo, commit, path, &label);
                    load_snapshot(Box::new(snapshot), &env, None, cache)
                }
                Err(e) => Attempt {
                    fingerprint: None,
                    result: Some(Err(LoadFailure::new(format!(
                        "cannot open clone: {}",
                        e.message()
                    )))),
                    work: Work::default(),
                },
            }
        })
        .await;
        match loaded {
            Ok(attempt) => attempt.into_poll(),
            Err(f) => Poll::Failed(f),
        }
    }
}

/// Fetches into the bare clone (creating it) and resolves the reference.
fn fetch(dir: &Path, url: &str, reference: Option<&str>) -> Result<Oid, String> {
    let repo = match Repository::open_bare(dir) {
        Ok(r) => r,
        Err(_) => Repository::init_bare(dir)
            .map_err(|e| format!("cannot create {}: {}", dir.display(), e.message()))?,
    };
    let mut remote = repo
        .remote_anonymous(url)
        .map_err(|e| format!("bad git URL `{url}`: {}", e.message()))?;
    let config = repo
        .config()
        .map_err(|e| format!("cannot read git configuration: {}", e.message()))?;
    let mut options = FetchOptions::new();
    options.remote_callbacks(remote::credentials(config));
    remote.fetch(REFSPECS, Some(&mut options), None).map_err(
        |e| match remote::is_missing_path(url) {
            true => format!("git fetch {url} failed: no such directory"),
            false => format!("git fetch {url} failed: {}", e.message()),
        },
    )?;
    resolve(&repo, reference)
}

fn resolve(repo: &Repository, reference: Option<&str>) -> Result<Oid, String> {
    let candidates: Vec<String> = match reference {
        None => vec!["refs/remotes/origin/HEAD".into()],
        Some(r) => vec![
            format!("refs/remotes/origin/{r}"),
            format!("refs/tags/{r}"),
            r.to_owned(),
        ],
    };
    for name in &candidates {
        if let Ok(commit) = repo.revparse_single(name).and_then(|o| o.peel_to_commit()) {
            return Ok(commit.id());
        }
    }
    Err(format!(
        "the remote has no branch, tag or commit `{}`",
        reference.unwrap_or("HEAD")
    ))
}
