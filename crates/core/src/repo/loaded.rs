//! What loading takes and gives: an environment's files before any is
//! parsed ([`EnvFiles`]), the environment read from them ([`LoadedEnv`],
//! with its [`LoadedFile`]s), and the environment compiled, every finding
//! located ([`Checked`]).

use std::collections::HashMap;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::read::Section;
use crate::diagnostic::{Diagnostic, KeyPath};
use crate::model::EnvModel;
use crate::parse::{Format, Node, parse_document};
use crate::ruleset::{Ruleset, RulesetMeta};

/// A flag file as read: its path and, if it parsed, its document tree.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// Path relative to the repository root.
    pub path: String,
    /// The document tree, if the file parsed and the tree was kept: a file
    /// whose reading came from a [`ReadCache`](super::load::ReadCache) has
    /// none, and is parsed again only if a finding must be located in it.
    pub node: Option<Node>,
    /// The bytes of a file read from the cache, for that late parse.
    reused: Option<(Vec<u8>, Format)>,
    /// The late parse, done once.
    reparsed: OnceLock<Option<Node>>,
}

impl LoadedFile {
    /// A file whose items were merged: its tree, or for a reused reading
    /// the bytes to parse it from should a finding need locating.
    pub(super) fn new(path: String, node: Option<Node>, reused: Option<(Vec<u8>, Format)>) -> Self {
        LoadedFile {
            path,
            node,
            reused,
            reparsed: OnceLock::new(),
        }
    }

    /// The document tree, parsed again (once) if the load reused the
    /// file's reading.
    pub(super) fn tree(&self) -> Option<&Node> {
        if let Some(node) = &self.node {
            return Some(node);
        }
        let (bytes, format) = self.reused.as_ref()?;
        self.reparsed
            .get_or_init(|| {
                let text = std::str::from_utf8(bytes).ok()?;
                parse_document(text, *format).ok()
            })
            .as_ref()
    }
}

/// One environment read from its files.
#[derive(Debug, Clone)]
pub struct LoadedEnv {
    /// The merged model (definitions that failed to read are left out).
    pub model: EnvModel,
    /// The files, in the order read.
    pub files: Vec<LoadedFile>,
    /// Findings from reading (syntax, shape, duplicates), located.
    pub diagnostics: Vec<Diagnostic>,
    /// SHA-256 over the files' paths and contents, hex.
    pub content_hash: String,
    /// How many files were parsed, and how many had their reading reused
    /// from a [`ReadCache`](super::load::ReadCache) because their bytes had
    /// not changed.
    pub parsed_files: usize,
    /// See [`LoadedEnv::parsed_files`].
    pub reused_files: usize,
    /// Which file defined each flag and segment first, by its index.
    pub(super) origins: HashMap<(Section, String), usize>,
    /// The maps unknown keys were dropped from (see
    /// [`read_definition`](super::recover::read_definition)):
    /// the compiler's complaints about one of them as a whole ("a condition
    /// needs `attr`…") restate its misspelt key, so they are not reported.
    pub(super) trimmed: Vec<KeyPath>,
}

impl LoadedEnv {
    /// Nothing read yet of `files` files whose hash is `content_hash`.
    pub(super) fn new(content_hash: String, files: usize) -> Self {
        LoadedEnv {
            model: EnvModel::default(),
            files: Vec::with_capacity(files),
            diagnostics: Vec::new(),
            content_hash,
            parsed_files: 0,
            reused_files: 0,
            origins: HashMap::new(),
            trimmed: Vec::new(),
        }
    }
}

/// An environment taken through the whole pipeline — loaded, compiled,
/// every finding located — holding everything a caller needs, so that no
/// caller sequences the steps itself (`flagctl validate` passing and flagd
/// serving the same files cannot then disagree).
#[derive(Debug)]
pub struct Checked {
    /// What the files hold, including definitions of an invalid environment
    /// (promote copies them, diff compares them, bundles carry them).
    pub loaded: LoadedEnv,
    /// The ruleset's identity: environment, version, where it came from.
    pub meta: RulesetMeta,
    /// The ruleset, if there were no errors.
    pub ruleset: Option<Ruleset>,
    /// Every finding, located and sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Changes exactly when the input does: `flags.toml` (for an environment
    /// of a repository) and the environment's files. flagd skips a reload
    /// whose fingerprint it has already seen.
    pub fingerprint: String,
}

impl Checked {
    /// True if any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The errors alone.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

/// An environment's flag files as read from a snapshot, before any is
/// parsed: enough to tell whether anything changed since the last load.
#[derive(Debug, Clone)]
pub struct EnvFiles {
    /// (path, bytes) of the files in a flag format, in the order listed.
    pub files: Vec<(String, Vec<u8>)>,
    /// SHA-256 over the paths and contents, hex ([`LoadedEnv::content_hash`]).
    pub content_hash: String,
}

impl EnvFiles {
    /// Keeps the files whose extension is `.yaml`, `.yml`, `.json` or
    /// `.toml`, and hashes them.
    pub fn new(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Self {
        let mut hasher = Sha256::new();
        let files: Vec<_> = files
            .into_iter()
            .filter(|(path, _)| Format::from_path(path).is_some())
            .inspect(|(path, bytes)| {
                hasher.update(path.as_bytes());
                hasher.update([0]);
                hasher.update(bytes);
                hasher.update([0]);
            })
            .collect();
        EnvFiles {
            files,
            content_hash: hex::encode(hasher.finalize()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::repo::load::load_files;
    use crate::testing::file;

    #[test]
    fn non_flag_files_are_skipped_and_hash_is_stable() {
        let a = load_files([file("README.md", "# hi"), file("a.yaml", "flags: {}\n")]);
        let b = load_files([file("a.yaml", "flags: {}\n")]);
        assert_eq!(a.files.len(), 1);
        assert_eq!(a.content_hash, b.content_hash);
        let c = load_files([file("a.yaml", "flags: {}\n\n")]);
        assert_ne!(a.content_hash, c.content_hash);
    }
}
