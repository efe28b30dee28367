//! Evidence from git: when each flag was created and last changed in each
//! environment, and since when it has served one variant to everyone
//! (docs/lifecycle.md, "Evidence").
//!
//! One walk over the first-parent history, oldest first, for every
//! environment at once. A commit that leaves an environment's directory
//! alone costs one tree lookup; otherwise only the files whose blobs
//! changed are read, and a flag counts as changed when its definition
//! (the model, not the text: comments and moves between files are no
//! change) differs. A changed YAML file of the plain shape is cut into one
//! chunk of text per flag (`chunks`), and only the chunks whose text is
//! new are parsed, each once for the whole walk: a commit that changes one
//! flag of a file of fifty parses that one flag (docs/performance.md,
//! "Lifecycle"). Other files are parsed whole.

use std::collections::HashMap;
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Sort, Tree};
use jiff::Timestamp;
use serde::Serialize;

use xxhash_rust::xxh3::xxh3_64;

use super::chunks::{Chunk, flag_chunks};
use super::serving::{serves_one, uniform_when_rolled_out};
use crate::git::tree::blobs;
use crate::repo::load::load_files;
use crate::repo::snapshot::repo_prefix;
use hotswap_flags_core::parse::{Format, NodeKind};

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
    walk(dir, envs, true)
}

/// [`read_histories`]; with `cut` false every changed file is parsed whole
/// (the reference the chunked reading is tested against).
fn walk(
    dir: &Path,
    envs: &[EnvDir],
    cut: bool,
) -> Result<HashMap<String, EnvHistory>, HistoryError> {
    let repo = Repository::discover(dir).map_err(|e| HistoryError::NotGit {
        dir: dir.display().to_string(),
        message: e.message().to_owned(),
    })?;
    let prefix = repo_prefix(&repo, dir).map_err(|e| HistoryError::Git(e.to_string()))?;
    let mut revwalk = repo.revwalk().map_err(git_err)?;
    revwalk.push_head().map_err(git_err)?;
    revwalk.simplify_first_parent().map_err(git_err)?;
    revwalk
        .set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(git_err)?;
    let mut states: Vec<EnvState> = envs
        .iter()
        .map(|e| EnvState::new(join(&prefix, &e.path)))
        .collect();
    let mut cache = ChunkCache {
        readings: HashMap::new(),
        cut,
    };
    for oid in revwalk {
        let commit = repo.find_commit(oid.map_err(git_err)?).map_err(git_err)?;
        let tree = commit.tree().map_err(git_err)?;
        let id = commit.id().to_string();
        let at = At {
            time: Timestamp::from_second(commit.time().seconds()).unwrap_or_default(),
            commit: &id[..10],
        };
        for state in &mut states {
            state.advance(&repo, &tree, &at, &mut cache)?;
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

/// What the history keeps of one flag definition: enough to tell a change
/// and what it serves.
#[derive(Debug, Clone)]
struct Reading {
    /// The definition (the model, not the text) hashed.
    digest: u64,
    serves_one: Option<String>,
    uniform_when_rolled_out: bool,
}

impl Reading {
    fn of(flag: &hotswap_flags_core::model::Flag) -> Self {
        let digest = serde_json::to_vec(flag)
            .map(|bytes| xxh3_64(&bytes))
            .unwrap_or_default();
        Reading {
            digest,
            serves_one: serves_one(flag).map(str::to_owned),
            uniform_when_rolled_out: uniform_when_rolled_out(flag),
        }
    }
}

/// Flag chunks read so far, by the hash of their text, for every
/// environment (the same text reads the same way): `None` for a flag that
/// does not read (its key then counts as undefined, as when the whole file
/// is read); a chunk that is no document of one flag is not kept.
struct ChunkCache {
    readings: HashMap<u64, Option<Reading>>,
    /// Whether files are cut into chunks at all.
    cut: bool,
}

impl ChunkCache {
    /// The chunk read, from the cache or by parsing it under `flags:`;
    /// `Err(())` when it does not hold exactly its one key (the whole file
    /// must be read then).
    fn read(&mut self, path: &str, hash: u64, chunk: &Chunk<'_>) -> Result<Option<Reading>, ()> {
        if let Some(reading) = self.readings.get(&hash) {
            return Ok(reading.clone());
        }
        let loaded = load_files([(path.to_owned(), chunk.as_document().into_bytes())]);
        let one_key = loaded
            .files
            .first()
            .and_then(|f| f.node.as_ref())
            .and_then(|n| n.get("flags"))
            .is_some_and(|flags| {
                matches!(&flags.kind, NodeKind::Map(entries)
                    if entries.len() == 1 && entries[0].0.name == chunk.key)
            });
        if !one_key {
            return Err(());
        }
        let reading = loaded.model.flags.get(chunk.key).map(Reading::of);
        self.readings.insert(hash, reading.clone());
        Ok(reading)
    }
}

/// A flag file as last seen: its blob, and the flags it defines, each with
/// the hash of its chunk's text (`None` when the file was read whole).
struct FileState {
    oid: Oid,
    flags: HashMap<String, Option<u64>>,
}

/// One environment as of the last commit seen.
struct EnvState {
    path: String,
    tree: Option<Oid>,
    /// Flag files by path.
    files: HashMap<String, FileState>,
    /// How many files define each key.
    defined: HashMap<String, u32>,
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
            defined: HashMap::new(),
            digests: HashMap::new(),
            flags: HashMap::new(),
        }
    }

    fn advance(
        &mut self,
        repo: &Repository,
        root: &Tree<'_>,
        at: &At<'_>,
        cache: &mut ChunkCache,
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
        let removed: Vec<String> = self
            .files
            .keys()
            .filter(|path| !blobs.contains_key(*path))
            .cloned()
            .collect();
        for path in removed {
            if let Some(old) = self.files.remove(&path) {
                touched.extend(self.undefine(old));
            }
        }
        for (path, oid) in blobs {
            if self.files.get(&path).is_some_and(|f| f.oid == oid) {
                continue;
            }
            let blob = repo.find_blob(oid).map_err(git_err)?;
            let old = self.files.remove(&path);
            let old_hashes = old.as_ref().map(|f| &f.flags);
            let flags = match read_chunks(&path, blob.content(), old_hashes, cache) {
                Some(changed) => {
                    for (key, reading) in changed.read {
                        self.record(&key, &reading, at);
                    }
                    changed.flags
                }
                None => self.read_whole(&path, blob.content(), at),
            };
            for key in flags.keys() {
                *self.defined.entry(key.clone()).or_default() += 1;
            }
            if let Some(old) = old {
                touched.extend(self.undefine(old));
            }
            self.files.insert(path, FileState { oid, flags });
        }
        // Keys of the files rewritten or removed that no file defines now.
        for key in touched {
            if !self.defined.contains_key(&key) {
                self.flags.remove(&key);
                self.digests.remove(&key);
            }
        }
        Ok(())
    }

    /// Forgets what a file defined; its keys, to check whether another
    /// file still defines them.
    fn undefine(&mut self, file: FileState) -> impl Iterator<Item = String> + use<> {
        for key in file.flags.keys() {
            if let Some(n) = self.defined.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    self.defined.remove(key);
                }
            }
        }
        file.flags.into_keys()
    }

    /// Reads a file whole (the shape [`flag_chunks`] does not cut).
    fn read_whole(
        &mut self,
        path: &str,
        bytes: &[u8],
        at: &At<'_>,
    ) -> HashMap<String, Option<u64>> {
        let loaded = load_files([(path.to_owned(), bytes.to_vec())]);
        for (key, flag) in &loaded.model.flags {
            self.record(key, &Reading::of(flag), at);
        }
        loaded.model.flags.into_keys().map(|k| (k, None)).collect()
    }

    fn record(&mut self, key: &str, reading: &Reading, at: &At<'_>) {
        if self.digests.insert(key.to_owned(), reading.digest) == Some(reading.digest) {
            return;
        }
        let one = reading.serves_one.as_deref();
        let rolled_out = reading.uniform_when_rolled_out;
        let serves = |v: &str| ServesOne {
            variant: v.to_owned(),
            since: at.time,
        };
        match self.flags.get_mut(key) {
            Some(h) => {
                h.uniform_when_rolled_out = rolled_out;
                h.changed = at.time;
                h.changed_commit = at.commit.to_owned();
                if h.serves_one.as_ref().map(|s| s.variant.as_str()) != one {
                    h.serves_one = one.map(serves);
                }
            }
            None => {
                self.flags.insert(
                    key.to_owned(),
                    FlagHistory {
                        created: at.time,
                        created_commit: at.commit.to_owned(),
                        changed: at.time,
                        changed_commit: at.commit.to_owned(),
                        serves_one: one.map(serves),
                        uniform_when_rolled_out: rolled_out,
                    },
                );
            }
        }
    }
}

/// The commit being walked: when it landed, and its id abbreviated.
struct At<'a> {
    time: Timestamp,
    commit: &'a str,
}

/// A file read chunk by chunk: the flags it defines with their chunks'
/// hashes, and the readings of the chunks whose text changed.
struct ChunkedFile {
    flags: HashMap<String, Option<u64>>,
    read: Vec<(String, Reading)>,
}

/// Reads a flag file by its chunks, parsing only those whose text differs
/// from the file's previous version (`old`); `None` when the file must be
/// read whole (not YAML of the plain shape, or a chunk not one flag).
fn read_chunks(
    path: &str,
    bytes: &[u8],
    old: Option<&HashMap<String, Option<u64>>>,
    cache: &mut ChunkCache,
) -> Option<ChunkedFile> {
    if !cache.cut || Format::from_path(path) != Some(Format::Yaml) {
        return None;
    }
    let chunks = flag_chunks(std::str::from_utf8(bytes).ok()?)?;
    let mut out = ChunkedFile {
        flags: HashMap::with_capacity(chunks.len()),
        read: Vec::new(),
    };
    for chunk in &chunks {
        let hash = xxh3_64(chunk.text.as_bytes());
        if old.and_then(|o| o.get(chunk.key)) == Some(&Some(hash)) {
            out.flags.insert(chunk.key.to_owned(), Some(hash));
            continue;
        }
        if let Some(reading) = cache.read(path, hash, chunk).ok()? {
            out.flags.insert(chunk.key.to_owned(), Some(hash));
            out.read.push((chunk.key.to_owned(), reading));
        }
    }
    Some(out)
}

/// The flag files below a tree (hidden entries skipped, as the loader
/// does), by path relative to the flags repository's environment tree.
fn flag_files(repo: &Repository, tree: Oid) -> Result<HashMap<String, Oid>, HistoryError> {
    let tree = repo.find_tree(tree).map_err(git_err)?;
    let files = blobs(repo, tree, "", |_, e| git_err(e))?;
    Ok(files
        .into_iter()
        .filter(|(path, _)| Format::from_path(path).is_some())
        .collect())
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

    /// A flag as the plain shape writes it, indented by `indent`.
    fn flag_text(key: &str, weight: u32, indent: usize) -> String {
        let (i, j) = (" ".repeat(indent), " ".repeat(indent * 2));
        let default = if weight >= 100 {
            "on".to_owned()
        } else {
            format!("{{split: {{on: {weight}, off: {}}}}}", 100 - weight)
        };
        format!(
            "{i}{key}:\n{j}type: boolean\n{j}variants: {{on: true, off: false}}\n{j}default: {default}\n{j}offVariant: off\n"
        )
    }

    fn file_text(flags: &[(&str, u32)], indent: usize) -> String {
        let body: String = flags
            .iter()
            .map(|(k, w)| flag_text(k, *w, indent))
            .collect();
        format!("flags:\n{body}")
    }

    #[test]
    fn chunked_reading_agrees_with_parsing_whole_files() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repository::init(tmp.path()).unwrap();
        let names = ["a", "b", "c", "d", "e", "f"];
        let mut weights = [10u32; 6];
        let files = |w: &[u32; 6], indent: usize| {
            let flags: Vec<(&str, u32)> = names.iter().copied().zip(w.iter().copied()).collect();
            (
                file_text(&flags[..3], indent),
                file_text(&flags[3..], indent),
            )
        };
        let (one, two) = files(&weights, 2);
        commit(
            &repo,
            0,
            &[
                ("envs/s/one.yaml", Some(&one)),
                ("envs/s/two.yaml", Some(&two)),
            ],
        );
        // Changes to one flag at a time, in both files.
        let mut seed = 7u32;
        for day in 1..30 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let i = (seed >> 16) as usize % 6;
            weights[i] = (weights[i] + 30).min(100);
            let (one, two) = files(&weights, 2);
            commit(
                &repo,
                day,
                &[
                    ("envs/s/one.yaml", Some(&one)),
                    ("envs/s/two.yaml", Some(&two)),
                ],
            );
        }
        // Only reformatted: every chunk's text changes, no definition does.
        let (one, two) = files(&weights, 4);
        let flow = format!(
            "{}  # the end\n",
            two.replace("offVariant: off", "offVariant: \"off\"")
        );
        commit(
            &repo,
            31,
            &[
                ("envs/s/one.yaml", Some(&one)),
                ("envs/s/two.yaml", Some(&flow)),
            ],
        );
        // `a` moves to two.yaml; one.yaml is renamed.
        let pick = |w: &[u32; 6], keys: &[usize]| -> Vec<(&str, u32)> {
            keys.iter().map(|&i| (names[i], w[i])).collect()
        };
        commit(
            &repo,
            32,
            &[
                ("envs/s/one.yaml", None),
                (
                    "envs/s/renamed.yaml",
                    Some(&file_text(&pick(&weights, &[1, 2]), 2)),
                ),
                (
                    "envs/s/two.yaml",
                    Some(&file_text(&pick(&weights, &[3, 4, 5, 0]), 2)),
                ),
            ],
        );
        // `b` deleted, then added again unchanged; `c` broken (a value of
        // the wrong type: it does not read), then fixed.
        let broken = flag_text("c", weights[2], 2).replace("{on: true, off: false}", "3");
        commit(
            &repo,
            33,
            &[("envs/s/renamed.yaml", Some(&format!("flags:\n{broken}")))],
        );
        commit(
            &repo,
            34,
            &[(
                "envs/s/renamed.yaml",
                Some(&file_text(&pick(&weights, &[1, 2]), 2)),
            )],
        );
        // A file the chunks do not cut (segments), then cut again.
        let with_segments = format!(
            "{}segments:\n  s: {{keys: [x]}}\n",
            file_text(&pick(&weights, &[3, 4, 5, 0]), 2)
        );
        commit(&repo, 35, &[("envs/s/two.yaml", Some(&with_segments))]);
        weights[4] = if weights[4] == 100 { 50 } else { 100 };
        commit(
            &repo,
            36,
            &[(
                "envs/s/two.yaml",
                Some(&file_text(&pick(&weights, &[3, 4, 5, 0]), 2)),
            )],
        );
        let envs = [EnvDir {
            name: "s".into(),
            path: "envs/s".into(),
        }];
        let chunked = walk(tmp.path(), &envs, true).unwrap();
        assert_eq!(chunked, walk(tmp.path(), &envs, false).unwrap());
        let h = &chunked["s"];
        assert_eq!(h.len(), 6, "{h:?}");
        // Moved, renamed, reformatted: still created on day 0.
        assert_eq!(h["a"].created, day(0));
        assert!(h["a"].changed < day(31));
        // Deleted and added again: created anew; broken and fixed likewise.
        assert_eq!(h["b"].created, day(34));
        assert_eq!(h["c"].created, day(34));
        assert_eq!(h["e"].changed, day(36));
    }

    #[test]
    fn not_a_repository() {
        let tmp = tempfile::tempdir().unwrap();
        let e = read_histories(tmp.path(), &[]).unwrap_err();
        assert!(e.to_string().contains("is not in a git repository"), "{e}");
    }
}
