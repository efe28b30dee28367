//! Evidence from git: when each flag was created and last changed in each
//! environment, and since when it has served one variant to everyone
//! (docs/lifecycle.md, "Evidence").
//!
//! One walk over the first-parent history, oldest first, for every
//! environment at once. A commit that leaves an environment's directory
//! alone costs one tree lookup; otherwise only the files whose blobs
//! changed are parsed, and a flag counts as changed when its definition
//! (the model, not the text: comments and moves between files are no
//! change) differs.

use std::collections::HashMap;
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Sort, Tree};
use jiff::Timestamp;
use serde::Serialize;

use super::serving::{serves_one, uniform_when_rolled_out};
use crate::parse::Format;
use crate::repo::load::load_files;
use crate::repo::snapshot::repo_prefix;

/// One flag's history in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagHistory {
    /// When the commit adding it landed (the latest addition, if it was
    /// removed and added again).
    pub created: Timestamp,
    /// That commit, abbreviated.
    pub created_commit: String,
    /// When its definition last changed.
    pub changed: Timestamp,
    /// That commit, abbreviated.
    pub changed_commit: String,
    /// The variant it has served to everyone, as written, and since when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serves_one: Option<ServesOne>,
    /// Whether it serves its rollout's variant to everyone once the
    /// rollout completes (which flagd knows, not git).
    #[serde(skip)]
    pub uniform_when_rolled_out: bool,
}

/// One variant for everyone, since a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServesOne {
    /// The variant.
    pub variant: String,
    /// When the commit making it so landed.
    pub since: Timestamp,
}

/// Flags by key, for one environment; flags the history does not hold
/// (not committed yet) are absent.
pub type EnvHistory = HashMap<String, FlagHistory>;

/// Why the history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The directory is not in a git repository.
    #[error("{dir} is not in a git repository: {message}")]
    NotGit {
        /// The flags repository.
        dir: String,
        /// git's words.
        message: String,
    },
    /// Reading the repository failed.
    #[error("reading the git history: {0}")]
    Git(String),
}

fn git_err(e: git2::Error) -> HistoryError {
    HistoryError::Git(e.message().to_owned())
}

/// An environment to follow: its name and its directory in the flags
/// repository.
#[derive(Debug, Clone)]
pub struct EnvDir {
    /// The environment's name.
    pub name: String,
    /// Its directory, relative to the flags repository.
    pub path: String,
}

/// The history of every flag of `envs`, from the first-parent history of
/// `HEAD` in the git repository holding `dir`.
pub fn read_histories(
    dir: &Path,
    envs: &[EnvDir],
) -> Result<HashMap<String, EnvHistory>, HistoryError> {
    let repo = Repository::discover(dir).map_err(|e| HistoryError::NotGit {
        dir: dir.display().to_string(),
        message: e.message().to_owned(),
    })?;
    let prefix = repo_prefix(&repo, dir).map_err(|e| HistoryError::Git(e.to_string()))?;
    let mut walk = repo.revwalk().map_err(git_err)?;
    walk.push_head().map_err(git_err)?;
    walk.simplify_first_parent().map_err(git_err)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(git_err)?;
    let mut states: Vec<EnvState> = envs
        .iter()
        .map(|e| EnvState::new(join(&prefix, &e.path)))
        .collect();
    for oid in walk {
        let commit = repo.find_commit(oid.map_err(git_err)?).map_err(git_err)?;
        let tree = commit.tree().map_err(git_err)?;
        let at = Timestamp::from_second(commit.time().seconds()).unwrap_or_default();
        let id = commit.id().to_string()[..10].to_owned();
        for state in &mut states {
            state.advance(&repo, &tree, at, &id)?;
        }
    }
    Ok(envs
        .iter()
        .zip(states)
        .map(|(e, s)| (e.name.clone(), s.flags))
        .collect())
}

fn join(a: &str, b: &str) -> String {
    let b = b.trim_matches('/');
    if a.is_empty() {
        b.to_owned()
    } else if b.is_empty() {
        a.to_owned()
    } else {
        format!("{a}/{b}")
    }
}

/// One environment as of the last commit seen.
struct EnvState {
    path: String,
    tree: Option<Oid>,
    /// Flag files: blob and the keys it defines.
    files: HashMap<String, (Oid, Vec<String>)>,
    /// Each flag's definition digest.
    digests: HashMap<String, u64>,
    flags: EnvHistory,
}

impl EnvState {
    fn new(path: String) -> Self {
        EnvState {
            path,
            tree: None,
            files: HashMap::new(),
            digests: HashMap::new(),
            flags: HashMap::new(),
        }
    }

    fn advance(
        &mut self,
        repo: &Repository,
        root: &Tree<'_>,
        at: Timestamp,
        commit: &str,
    ) -> Result<(), HistoryError> {
        let subtree = match root.get_path(Path::new(&self.path)) {
            Ok(e) if e.kind() == Some(ObjectType::Tree) => Some(e.id()),
            _ => None,
        };
        if subtree == self.tree {
            return Ok(());
        }
        self.tree = subtree;
        let blobs = match subtree {
            Some(id) => flag_files(repo, id)?,
            None => HashMap::new(),
        };
        let mut touched: Vec<String> = Vec::new();
        self.files.retain(|path, (_, keys)| {
            let keep = blobs.contains_key(path);
            if !keep {
                touched.append(keys);
            }
            keep
        });
        let mut changed = Vec::new();
        for (path, oid) in blobs {
            if self.files.get(&path).is_some_and(|(old, _)| *old == oid) {
                continue;
            }
            let blob = repo.find_blob(oid).map_err(git_err)?;
            changed.push((path, oid, blob.content().to_vec()));
        }
        for (path, oid, bytes) in changed {
            if let Some((_, keys)) = self.files.remove(&path) {
                touched.extend(keys);
            }
            let loaded = load_files([(path.clone(), bytes)]);
            let keys = loaded.model.flags.keys().cloned().collect();
            for (key, flag) in &loaded.model.flags {
                self.record(key, flag, at, commit);
            }
            self.files.insert(path, (oid, keys));
        }
        // Keys of the files rewritten or removed that no file defines now.
        let defined: std::collections::HashSet<&String> =
            self.files.values().flat_map(|(_, keys)| keys).collect();
        let gone: Vec<String> = touched
            .into_iter()
            .filter(|k| !defined.contains(k))
            .collect();
        for key in gone {
            self.flags.remove(&key);
            self.digests.remove(&key);
        }
        Ok(())
    }

    fn record(&mut self, key: &str, flag: &crate::model::Flag, at: Timestamp, commit: &str) {
        let digest = serde_json::to_vec(flag)
            .map(|bytes| xxhash_rust::xxh3::xxh3_64(&bytes))
            .unwrap_or_default();
        if self.digests.insert(key.to_owned(), digest) == Some(digest) {
            return;
        }
        let one = serves_one(flag);
        let rolled_out = uniform_when_rolled_out(flag);
        match self.flags.get_mut(key) {
            Some(h) => {
                h.uniform_when_rolled_out = rolled_out;
                h.changed = at;
                h.changed_commit = commit.to_owned();
                if h.serves_one.as_ref().map(|s| s.variant.as_str()) != one {
                    h.serves_one = one.map(|v| ServesOne {
                        variant: v.to_owned(),
                        since: at,
                    });
                }
            }
            None => {
                self.flags.insert(
                    key.to_owned(),
                    FlagHistory {
                        created: at,
                        created_commit: commit.to_owned(),
                        changed: at,
                        changed_commit: commit.to_owned(),
                        serves_one: one.map(|v| ServesOne {
                            variant: v.to_owned(),
                            since: at,
                        }),
                        uniform_when_rolled_out: rolled_out,
                    },
                );
            }
        }
    }
}

/// The flag files below a tree (hidden entries skipped, as the loader
/// does), by path relative to the flags repository's environment tree.
fn flag_files(repo: &Repository, tree: Oid) -> Result<HashMap<String, Oid>, HistoryError> {
    let mut out = HashMap::new();
    let mut stack = vec![(repo.find_tree(tree).map_err(git_err)?, String::new())];
    while let Some((tree, rel)) = stack.pop() {
        for entry in tree.iter() {
            let Ok(name) = entry.name() else { continue };
            if name.starts_with('.') {
                continue;
            }
            let child = join(&rel, name);
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    stack.push((repo.find_tree(entry.id()).map_err(git_err)?, child));
                }
                Some(ObjectType::Blob) if Format::from_path(&child).is_some() => {
                    out.insert(child, entry.id());
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::{Signature, Time};

    /// Commits `files` (path, text; `None` deletes) at `day` days after
    /// 2026-01-01, back-dated through the signature.
    fn commit(repo: &Repository, day: i64, files: &[(&str, Option<&str>)]) {
        let root = repo.workdir().unwrap().to_path_buf();
        let mut index = repo.index().unwrap();
        for (path, text) in files {
            match text {
                Some(text) => {
                    let p = root.join(path);
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(&p, text).unwrap();
                    index.add_path(Path::new(path)).unwrap();
                }
                None => {
                    std::fs::remove_file(root.join(path)).unwrap();
                    index.remove_path(Path::new(path)).unwrap();
                }
            }
        }
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let when = Time::new(1_767_225_600 + day * 86_400, 0);
        let sig = Signature::new("T", "t@example.com", &when).unwrap();
        let parents: Vec<git2::Commit<'_>> = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
            .unwrap();
    }

    fn day(n: i64) -> Timestamp {
        Timestamp::from_second(1_767_225_600 + n * 86_400).unwrap()
    }

    const SPLIT: &str = "flags:\n  f:\n    type: boolean\n    variants: {on: true, off: false}\n    default: {split: {on: 1, off: 1}}\n    offVariant: off\n";

    #[test]
    fn created_changed_and_serving_one_variant() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repository::init(tmp.path()).unwrap();
        commit(&repo, 0, &[("envs/s/a.yaml", Some(SPLIT))]);
        // A comment is no change.
        commit(
            &repo,
            3,
            &[("envs/s/a.yaml", Some(&format!("# hi\n{SPLIT}")))],
        );
        let on = SPLIT.replace("{split: {on: 1, off: 1}}", "on");
        commit(&repo, 10, &[("envs/s/a.yaml", Some(&on))]);
        // Moved to another file: no change either.
        commit(
            &repo,
            12,
            &[("envs/s/a.yaml", None), ("envs/s/b.yaml", Some(&on))],
        );
        let envs = [EnvDir {
            name: "s".into(),
            path: "envs/s".into(),
        }];
        let h = read_histories(tmp.path(), &envs).unwrap();
        let f = &h["s"]["f"];
        assert_eq!((f.created, f.changed), (day(0), day(10)));
        assert_eq!(
            f.serves_one,
            Some(ServesOne {
                variant: "on".into(),
                since: day(10)
            })
        );
        // Removed, then added again: created anew.
        commit(&repo, 20, &[("envs/s/b.yaml", None)]);
        commit(&repo, 21, &[("envs/s/c.yaml", Some(SPLIT))]);
        let h = read_histories(tmp.path(), &envs).unwrap();
        let f = &h["s"]["f"];
        assert_eq!((f.created, f.serves_one.clone()), (day(21), None));
    }

    #[test]
    fn not_a_repository() {
        let tmp = tempfile::tempdir().unwrap();
        let e = read_histories(tmp.path(), &[]).unwrap_err();
        assert!(e.to_string().contains("is not in a git repository"), "{e}");
    }
}
