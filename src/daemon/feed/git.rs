//! A git remote, fetched with git2 into a bare clone in the state directory.
//! The ruleset is read from the commit's tree (no checkout) and its version
//! is the commit id.

use std::path::{Path, PathBuf};

use git2::{FetchOptions, Oid, RemoteCallbacks, Repository};
use sha2::{Digest, Sha256};

use super::{Poll, load_snapshot};
use crate::daemon::live::LoadFailure;
use crate::repo::snapshot::GitSnapshot;

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
        let loaded = tokio::task::spawn_blocking(move || {
            let repo = Repository::open_bare(&dir)
                .map_err(|e| LoadFailure::new(format!("cannot open clone: {}", e.message())))?;
            load_snapshot(Box::new(GitSnapshot::new(repo, commit, path, &label)), &env).result
        })
        .await;
        match loaded {
            Ok(Ok(ruleset)) => Poll::Loaded(Box::new(ruleset), None),
            Ok(Err(f)) => Poll::Failed(f),
            Err(e) => Poll::Failed(LoadFailure::new(format!("load task failed: {e}"))),
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
    let mut options = FetchOptions::new();
    options.remote_callbacks(credentials());
    remote
        .fetch(REFSPECS, Some(&mut options), None)
        .map_err(|e| match missing_local_path(url) {
            // git2 calls a path that does not exist an "unsupported URL
            // protocol", which sends people looking in the wrong place.
            true => format!("git fetch {url} failed: no such directory"),
            false => format!("git fetch {url} failed: {}", e.message()),
        })?;
    resolve(&repo, reference)
}

/// A URL that is a local path (no `scheme://`, not scp-like `host:path`)
/// naming nothing on disk.
fn missing_local_path(url: &str) -> bool {
    let scp_like = url
        .split_once(':')
        .is_some_and(|(host, _)| !host.contains('/') && host.len() > 1);
    !url.contains("://") && !scp_like && !Path::new(url).exists()
}

/// Credentials the way git itself finds them: the credential helpers for
/// https, the ssh agent for ssh.
fn credentials() -> RemoteCallbacks<'static> {
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(|url, username, allowed| {
        if allowed.contains(git2::CredentialType::SSH_KEY)
            && let Some(user) = username
        {
            return git2::Cred::ssh_key_from_agent(user);
        }
        if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) {
            let config = git2::Config::open_default()?;
            return git2::Cred::credential_helper(&config, url, username);
        }
        git2::Cred::default()
    });
    callbacks
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

#[cfg(test)]
mod tests {
    use super::missing_local_path;

    #[test]
    fn only_absent_local_paths_are_called_missing() {
        assert!(missing_local_path("/nonexistent/flags.git"));
        assert!(missing_local_path("relative/flags.git"));
        assert!(!missing_local_path("/"));
        assert!(!missing_local_path("https://example.com/flags.git"));
        assert!(!missing_local_path("file:///nonexistent"));
        assert!(!missing_local_path("git@github.com:acme/flags.git"));
    }
}
