//! A commit's tree in a git repository, read through git2 without a checkout.

use std::path::Path;
use std::sync::Mutex;

use git2::{ObjectType, Oid, Repository, Tree};

use super::tree::blobs;
use hotswap_flags_core::repo::snapshot::{Snapshot, SnapshotError, join};

/// The files of one commit. `prefix` places the flags repository inside the
/// git repository (empty when `flags.toml` is at the git root).
pub struct GitSnapshot {
    repo: Mutex<Repository>,
    commit: Oid,
    prefix: String,
    label: String,
}

impl std::fmt::Debug for GitSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitSnapshot")
            .field("commit", &self.commit)
            .field("prefix", &self.prefix)
            .field("label", &self.label)
            .finish()
    }
}

fn git_err(context: &str, e: git2::Error) -> SnapshotError {
    SnapshotError::Other(format!("{context}: {}", e.message()))
}

impl GitSnapshot {
    /// The commit `rev` (any revision git understands: `HEAD`, `main`,
    /// `origin/main~2`, a commit id) of the repository containing `dir`,
    /// with `dir`'s place in it as the prefix.
    pub fn open(dir: &Path, rev: &str) -> Result<Self, SnapshotError> {
        let repo = Repository::discover(dir)
            .map_err(|e| git_err(&format!("{} is not in a git repository", dir.display()), e))?;
        let prefix = repo_prefix(&repo, dir)?;
        let commit = repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| git_err(&format!("unknown revision `{rev}`"), e))?
            .id();
        Ok(GitSnapshot::new(repo, commit, prefix, rev))
    }

    /// A snapshot of `commit` in an open repository.
    pub fn new(repo: Repository, commit: Oid, prefix: impl Into<String>, label: &str) -> Self {
        GitSnapshot {
            repo: Mutex::new(repo),
            commit,
            prefix: prefix.into(),
            label: label.to_owned(),
        }
    }

    /// The commit id.
    pub fn commit(&self) -> Oid {
        self.commit
    }

    fn with_tree<T>(
        &self,
        f: impl FnOnce(&Repository, &Tree<'_>) -> Result<T, SnapshotError>,
    ) -> Result<T, SnapshotError> {
        let repo = self
            .repo
            .lock()
            .map_err(|_| SnapshotError::Other("git repository lock poisoned".into()))?;
        let tree = repo
            .find_commit(self.commit)
            .and_then(|c| c.tree())
            .map_err(|e| git_err("cannot read commit", e))?;
        f(&repo, &tree)
    }
}

/// Where `dir` sits below the repository's work tree, `/`-separated.
pub fn repo_prefix(repo: &Repository, dir: &Path) -> Result<String, SnapshotError> {
    let Some(workdir) = repo.workdir() else {
        return Ok(String::new());
    };
    let canon = |p: &Path| {
        std::fs::canonicalize(p).map_err(|e| SnapshotError::Io {
            path: p.display().to_string(),
            error: e,
        })
    };
    let (workdir, dir) = (canon(workdir)?, canon(dir)?);
    Ok(dir
        .strip_prefix(&workdir)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default())
}

impl Snapshot for GitSnapshot {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SnapshotError> {
        let full = join(&self.prefix, path);
        self.with_tree(|repo, tree| {
            let entry = match tree.get_path(Path::new(&full)) {
                Ok(e) => e,
                Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
                Err(e) => return Err(git_err(&full, e)),
            };
            if entry.kind() != Some(ObjectType::Blob) {
                return Ok(None);
            }
            let blob = repo.find_blob(entry.id()).map_err(|e| git_err(&full, e))?;
            Ok(Some(blob.content().to_vec()))
        })
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, SnapshotError> {
        let full = join(&self.prefix, dir.trim_end_matches('/'));
        self.with_tree(|repo, tree| {
            let subtree = if full.is_empty() {
                tree.clone()
            } else {
                match tree.get_path(Path::new(&full)) {
                    Ok(e) if e.kind() == Some(ObjectType::Tree) => {
                        repo.find_tree(e.id()).map_err(|e| git_err(&full, e))?
                    }
                    _ => return Ok(Vec::new()),
                }
            };
            let files = blobs(repo, subtree, dir.trim_end_matches('/'), git_err)?;
            let mut out: Vec<String> = files.into_iter().map(|(path, _)| path).collect();
            out.sort();
            Ok(out)
        })
    }

    fn describe(&self) -> String {
        if self.prefix.is_empty() {
            format!("git:{}@{}", self.label, self.commit)
        } else {
            format!("git:{}@{}:{}", self.label, self.commit, self.prefix)
        }
    }

    fn location(&self) -> String {
        let short = &self.commit.to_string()[..7];
        let rev = if self.commit.to_string().starts_with(&self.label) {
            format!("commit {short}")
        } else {
            format!("`{}` ({short})", self.label)
        };
        if self.prefix.is_empty() {
            rev
        } else {
            format!("{}/ in {rev}", self.prefix)
        }
    }

    fn revision(&self) -> Option<String> {
        Some(self.commit.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn reads_a_commit_not_the_working_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        git(root, &["init", "-q"]);
        std::fs::create_dir_all(root.join("flags/envs/a/sub")).unwrap();
        std::fs::write(root.join("flags/flags.toml"), "version = 1\n").unwrap();
        std::fs::write(root.join("flags/envs/a/x.yaml"), "one").unwrap();
        std::fs::write(root.join("flags/envs/a/sub/y.yaml"), "two").unwrap();
        git(root, &["add", "."]);
        git(root, &["commit", "-qm", "first"]);
        std::fs::write(root.join("flags/envs/a/x.yaml"), "changed").unwrap();

        let snap = GitSnapshot::open(&root.join("flags"), "HEAD").unwrap();
        assert_eq!(
            snap.read("envs/a/x.yaml").unwrap().as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(snap.read("missing.yaml").unwrap(), None);
        assert_eq!(
            snap.list("envs/a").unwrap(),
            ["envs/a/sub/y.yaml", "envs/a/x.yaml"]
        );
        assert_eq!(snap.revision().unwrap().len(), 40);
        let short = &snap.revision().unwrap()[..7];
        assert_eq!(snap.location(), format!("flags/ in `HEAD` ({short})"));
        assert!(snap.describe().starts_with("git:HEAD@"));
        assert!(GitSnapshot::open(&root.join("flags"), "nope").is_err());
    }
}
