//! Flag files → one environment's model, with every finding located.
//!
//! Each flag and segment is deserialized on its own, so one broken flag does
//! not hide the problems of the next. The document trees are kept so that the
//! compiler's findings (which only know a key path) can be given a file, line
//! and column afterwards.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::compile::{Compiled, compile};
use crate::diagnostic::{Diagnostic, KeyPath, PathSeg, did_you_mean, sort_diagnostics};
use crate::model::{EnvModel, Flag, MetricsConfig, Segment};
use crate::parse::{DeError, DeErrorKind, Format, Key, Node, NodeKind, from_node, parse_document};
use crate::ruleset::{Ruleset, RulesetMeta};

/// How many unknown keys one definition may have before reading it stops.
const MAX_UNKNOWN_KEYS: usize = 32;

/// Reads one definition, reporting every unknown key rather than the first
/// alone: each is dropped from a copy and the read retried, so a misspelt key
/// does not hide the definition's other mistakes — the rest of it then reaches
/// the compiler, which finds them. (The environment has errors either way, so
/// a definition read this way is never served.) Other mistakes end the read:
/// a wrong value cannot be dropped without inventing another problem.
fn read_definition<T: serde::de::DeserializeOwned>(def: &Node) -> (Option<T>, Vec<DeError>) {
    let mut errors: Vec<DeError> = Vec::new();
    let mut repaired: Option<Node> = None;
    let value = loop {
        let node = repaired.as_ref().unwrap_or(def);
        match from_node(node) {
            Ok(value) => break Some(value),
            Err(e) if e.kind == DeErrorKind::UnknownKey && errors.len() < MAX_UNKNOWN_KEYS => {
                let path = e.path();
                errors.push(e);
                if !repaired.get_or_insert_with(|| def.clone()).remove(&path.0) {
                    break None;
                }
            }
            Err(e) => {
                // A complaint about a map an unknown key was dropped from (a
                // required key missing, "a condition needs `attr`…") most
                // often restates that key, misspelt, already reported with
                // its hint.
                // So does a missing key of the map above, named like an
                // unknown key found one level too deep (an indentation
                // mistake, hinted as such).
                let restated = |u: &DeError| {
                    let path = u.path();
                    parent(&path) == e.path()
                        || (e.kind == DeErrorKind::MissingKey
                            && parent(&parent(&path)) == e.path()
                            && matches!(path.0.last(), Some(PathSeg::Key(k))
                                if e.message == format!("missing required key `{k}`")))
                };
                if !errors.iter().any(restated) {
                    errors.push(e);
                }
                break None;
            }
        }
    };
    let base = repaired.as_ref().unwrap_or(def);
    for e in &mut errors {
        if e.kind == DeErrorKind::UnknownKey
            && let Some(hint) = placement_hint::<T>(def, base, &e.path())
        {
            e.hint = Some(hint);
        }
    }
    (value, errors)
}

/// For an unknown key that the model accepts one level deeper (under a key
/// beside it) or one level up (beside the key holding it), a hint saying
/// so: the usual cause is indentation (docs/flag-format.md, "Finding
/// mistakes"). Decided by reading probes through the model itself — `base`
/// (the definition without its unknown keys) with the map holding the key
/// replaced — so the hint cannot drift from what the model takes.
fn placement_hint<T: serde::de::DeserializeOwned>(
    def: &Node,
    base: &Node,
    path: &KeyPath,
) -> Option<String> {
    let (PathSeg::Key(name), parents) = path.0.split_last()? else {
        return None;
    };
    let parent_path = KeyPath(parents.to_vec());
    let NodeKind::Map(entries) = &def.lookup(&parent_path)?.kind else {
        return None;
    };
    let (key, value) = entries.iter().find(|(k, _)| k.name == *name)?;
    let map = |pos, entries| Node::new(pos, NodeKind::Map(entries));
    // `probe(at, as_name)`: does the map at `at` (made by `wrap`) take the
    // value under `as_name`? A map taking any name at all (variants, split
    // weights) proves nothing, so `name` must be taken and a name no model
    // has refused.
    let takes_exactly = |at: &KeyPath, wrap: &dyn Fn(Node) -> Node, target: &KeyPath| {
        let probe = |as_name: &str| {
            let mut probe = base.clone();
            let entry = Key {
                name: as_name.to_owned(),
                pos: key.pos,
            };
            *probe.lookup_mut(target)? = wrap(map(value.pos, vec![(entry, value.clone())]));
            Some(accepts::<T>(&probe, at, as_name))
        };
        probe(name) == Some(true) && probe(" not a key ") == Some(false)
    };
    // Deeper: the parent holding only `sibling: {name: value}`.
    for (sibling, sibling_value) in entries.iter().filter(|(k, _)| k.name != *name) {
        let wrap = |inner: Node| {
            let inner = Node::new(sibling_value.pos, inner.kind);
            map(sibling.pos, vec![(sibling.clone(), inner)])
        };
        if takes_exactly(&parent_path.key(sibling.name.clone()), &wrap, &parent_path) {
            return Some(format!(
                "`{name}` belongs under `{}:` — check its indentation",
                sibling.name
            ));
        }
    }
    // Shallower: the grandparent holding only `name: value`.
    if let Some((PathSeg::Key(holder), grand)) = parents.split_last() {
        let grand_path = KeyPath(grand.to_vec());
        if takes_exactly(&grand_path, &|inner| inner, &grand_path) {
            return Some(format!(
                "`{name}` belongs beside `{holder}:`, one level up — check its indentation"
            ));
        }
    }
    None
}

/// Whether reading `probe` took `name` as a key of the map at `at`. Keys are
/// read in order and missing keys reported after the last, so an error
/// beneath `at.name`, or a missing key of `at` or a map above it, means
/// `name` was accepted; any other error decides nothing (no hint).
fn accepts<T: serde::de::DeserializeOwned>(probe: &Node, at: &KeyPath, name: &str) -> bool {
    let Err(e) = from_node::<T>(probe) else {
        return true;
    };
    let path = e.path();
    let under_key = at.key(name.to_owned());
    match e.kind {
        DeErrorKind::MissingKey => at.0.starts_with(&path.0),
        DeErrorKind::UnknownKey => path.0.starts_with(&under_key.0) && path != under_key,
        DeErrorKind::Other => path.0.starts_with(&under_key.0),
    }
}

/// The path of the map or list holding `path`'s last segment.
fn parent(path: &KeyPath) -> KeyPath {
    let mut parent = path.clone();
    parent.0.pop();
    parent
}

/// Which section a top-level key opens; `None` (with a finding when it is
/// wrong) for `$schema` and unknown keys.
fn top_level_key(key: &Key, value: &Node, diags: &mut Vec<Diagnostic>) -> Option<Section> {
    match key.name.as_str() {
        "flags" => Some(Section::Flags),
        "segments" => Some(Section::Segments),
        "$schema" => {
            if !matches!(value.kind, NodeKind::Str(_) | NodeKind::Null) {
                let path = KeyPath::root().key("$schema");
                let message = "`$schema` must be a string (the schema's URL)";
                diags.push(Diagnostic::error(path, message).at(value.pos));
            }
            None
        }
        other => {
            let hint = did_you_mean(other, crate::model::flag::FLAG_FILE_KEYS.iter().copied())
                .unwrap_or_else(|| "a flag file has `flags` and `segments`".into());
            let message = format!("unknown key `{other}`");
            let d = Diagnostic::error(KeyPath::root().key(other), message);
            diags.push(d.with_hint(hint).at(key.pos));
            None
        }
    }
}

/// A flag file as read: its path and, if it parsed, its document tree.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// Path relative to the repository root.
    pub path: String,
    /// The document tree, if the file parsed and the tree was kept: a file
    /// whose reading came from a [`ReadCache`] has none, and is parsed again
    /// only if a finding must be located in it.
    pub node: Option<Node>,
    /// The bytes of a file read from the cache, for that late parse.
    reused: Option<(Vec<u8>, Format)>,
    /// The late parse, done once.
    reparsed: std::sync::OnceLock<Option<Node>>,
}

impl LoadedFile {
    /// The document tree, parsed again (once) if the load reused the
    /// file's reading.
    fn tree(&self) -> Option<&Node> {
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

/// Which top-level section a definition lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Section {
    Flags,
    Segments,
}

impl Section {
    fn key(self) -> &'static str {
        match self {
            Section::Flags => "flags",
            Section::Segments => "segments",
        }
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
    /// from a [`ReadCache`] because their bytes had not changed.
    pub parsed_files: usize,
    /// See [`LoadedEnv::parsed_files`].
    pub reused_files: usize,
    origins: HashMap<(Section, String), usize>,
    /// The maps unknown keys were dropped from (see [`read_definition`]):
    /// the compiler's complaints about one of them as a whole ("a condition
    /// needs `attr`…") restate its misspelt key, so they are not reported.
    trimmed: Vec<KeyPath>,
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

/// Reads flag files (path, bytes) into one environment. Files whose extension
/// is not `.yaml`, `.yml`, `.json` or `.toml` are skipped.
pub fn load_files(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> LoadedEnv {
    EnvFiles::new(files).load(None)
}

/// What reading one file yields, in the order the file holds it: findings
/// about the file itself and definitions (read on their own; duplicates
/// across files are found when files are merged, so a file's reading does
/// not depend on the others and can be reused while its bytes are the same).
#[derive(Debug, Clone)]
enum Item<V> {
    /// A finding about the file (syntax, top-level keys), without the file.
    Finding(Diagnostic),
    /// A flag or segment.
    Def {
        section: Section,
        name: Key,
        /// The definition, unless reading it failed.
        value: Option<V>,
        /// Reading's findings (without the file), each with whether it is
        /// about an unknown key.
        findings: Vec<(Diagnostic, bool)>,
    },
}

/// A definition as read. Not boxed: a box per flag, freed once the flag
/// moves into the model, would leave holes all over a load's memory that
/// the compiled ruleset then fills, keeping those pages from being handed
/// back after the load (docs/performance.md, large rulesets).
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
enum Definition {
    Flag(Flag),
    Segment(Segment),
}

/// What a previous load read from each file, keyed by path: flagd keeps one
/// per feed, so that a load after an edit parses only the files whose bytes
/// changed (docs/flagd.md, "Sources"). The definitions are kept as compact
/// JSON, not as the model: the model takes several times the room
/// (docs/performance.md, large rulesets), and reading the JSON back costs a
/// fraction of parsing the file again. Compiling still takes the whole
/// environment, so checks across files (duplicates, segment references,
/// prerequisites) run on every load.
#[derive(Debug, Default)]
pub struct ReadCache {
    files: HashMap<String, CachedFile>,
}

/// One file's reading, packed: the definitions' JSON and names in one
/// buffer, the rest in one list. Few, large allocations, so that what the
/// cache keeps between loads does not pin the pages a load freed
/// (docs/performance.md, large rulesets).
#[derive(Debug)]
struct CachedFile {
    /// xxh3 of the file's bytes.
    hash: u64,
    text: String,
    items: Vec<Item<Packed>>,
}

/// A definition's name and JSON as ranges of [`CachedFile::text`].
#[derive(Debug, Clone)]
struct Packed {
    name: std::ops::Range<usize>,
    json: Option<std::ops::Range<usize>>,
}

impl ReadCache {
    /// How many files it holds readings of.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Packs a file's items as they are read (see [`CachedFile`]).
struct Packer {
    text: Vec<u8>,
    items: Vec<Item<Packed>>,
    failed: bool,
}

impl Packer {
    fn new() -> Self {
        Packer {
            text: Vec::new(),
            items: Vec::new(),
            failed: false,
        }
    }

    fn add(&mut self, item: &Item<Definition>) {
        let packed = match item {
            Item::Finding(d) => Item::Finding(d.clone()),
            Item::Def {
                section,
                name,
                value,
                findings,
            } => {
                let text = &mut self.text;
                let start = text.len();
                text.extend_from_slice(name.name.as_bytes());
                let name_range = start..text.len();
                let json = value.as_ref().map(|def| {
                    let start = text.len();
                    let written = match def {
                        Definition::Flag(f) => serde_json::to_writer(&mut *text, f),
                        Definition::Segment(s) => serde_json::to_writer(&mut *text, s),
                    };
                    self.failed |= written.is_err();
                    start..text.len()
                });
                Item::Def {
                    section: *section,
                    name: Key {
                        name: String::new(),
                        pos: name.pos,
                    },
                    value: Some(Packed {
                        name: name_range,
                        json,
                    }),
                    findings: findings.clone(),
                }
            }
        };
        self.items.push(packed);
    }

    fn finish(mut self, hash: u64) -> Option<CachedFile> {
        if self.failed {
            return None;
        }
        self.text.shrink_to_fit();
        self.items.shrink_to_fit();
        Some(CachedFile {
            hash,
            text: String::from_utf8(self.text).ok()?,
            items: self.items,
        })
    }
}

fn unpack(file: &CachedFile) -> Option<Vec<Item<Definition>>> {
    let text = file.text.as_str();
    file.items
        .iter()
        .map(|item| {
            Some(match item {
                Item::Finding(d) => Item::Finding(d.clone()),
                Item::Def {
                    section,
                    name,
                    value,
                    findings,
                } => {
                    let packed = value.as_ref()?;
                    let value = match (&packed.json, section) {
                        (None, _) => None,
                        (Some(json), Section::Flags) => Some(Definition::Flag(
                            serde_json::from_str(text.get(json.clone())?).ok()?,
                        )),
                        (Some(json), Section::Segments) => Some(Definition::Segment(
                            serde_json::from_str(text.get(json.clone())?).ok()?,
                        )),
                    };
                    Item::Def {
                        section: *section,
                        name: Key {
                            name: text.get(packed.name.clone())?.to_owned(),
                            pos: name.pos,
                        },
                        value,
                        findings: findings.clone(),
                    }
                }
            })
        })
        .collect()
}

/// Reads one file on its own: its tree (if it parsed); its items are
/// handed to `sink` as they are read, so that the model is built while the
/// tree is (a load's memory is then laid out as before the cache).
fn read_file(bytes: &[u8], format: Format, sink: &mut dyn FnMut(Item<Definition>)) -> Option<Node> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let message = format!(
                "file is not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            );
            sink(Item::Finding(Diagnostic::error(KeyPath::root(), message)));
            return None;
        }
    };
    match parse_document(text, format) {
        Ok(node) => {
            read_definitions(&node, sink);
            Some(node)
        }
        Err(e) => {
            sink(Item::Finding(e.into_diagnostic()));
            None
        }
    }
}

/// Deserializes each flag and segment of one file.
fn read_definitions(node: &Node, sink: &mut dyn FnMut(Item<Definition>)) {
    let NodeKind::Map(entries) = &node.kind else {
        let message = format!(
            "a flag file is a map with `flags` and `segments`, not {}",
            node.kind.describe()
        );
        sink(Item::Finding(
            Diagnostic::error(KeyPath::root(), message).at(node.pos),
        ));
        return;
    };
    for (key, value) in entries {
        let mut diags = Vec::new();
        let section = top_level_key(key, value, &mut diags);
        diags.into_iter().for_each(|d| sink(Item::Finding(d)));
        let Some(section) = section else {
            continue;
        };
        let NodeKind::Map(defs) = &value.kind else {
            if value.kind != NodeKind::Null {
                let message = format!(
                    "`{}` must be a map, not {}",
                    section.key(),
                    value.kind.describe()
                );
                let path = KeyPath::root().key(section.key());
                sink(Item::Finding(
                    Diagnostic::error(path, message).at(value.pos),
                ));
            }
            continue;
        };
        for (name, def) in defs {
            sink(read_item(section, name, def));
        }
    }
}

/// Reads one flag or segment.
fn read_item(section: Section, name: &Key, def: &Node) -> Item<Definition> {
    let (value, errors) = match section {
        Section::Flags => {
            let (flag, errors) = read_definition(def);
            (flag.map(Definition::Flag), errors)
        }
        Section::Segments => {
            let (segment, errors) = read_definition(def);
            (segment.map(Definition::Segment), errors)
        }
    };
    let prefix = || KeyPath::root().key(section.key()).key(&name.name);
    let findings = errors
        .into_iter()
        .map(|e| {
            let unknown_key = e.kind == DeErrorKind::UnknownKey;
            (
                e.at_entry(name, def).into_diagnostic(&prefix()),
                unknown_key,
            )
        })
        .collect();
    Item::Def {
        section,
        name: name.clone(),
        value,
        findings,
    }
}

impl EnvFiles {
    /// Reads the files into one environment. With a `cache`, a file whose
    /// bytes are those of the cache's reading is not parsed again; the
    /// cache is then left holding this load's readings, and only when the
    /// environment has more than one file (with one, a change is always to
    /// that file, so there is nothing to reuse).
    pub fn load(self, mut cache: Option<&mut ReadCache>) -> LoadedEnv {
        let mut env = LoadedEnv {
            model: EnvModel::default(),
            files: Vec::with_capacity(self.files.len()),
            diagnostics: Vec::new(),
            content_hash: self.content_hash,
            parsed_files: 0,
            reused_files: 0,
            origins: HashMap::new(),
            trimmed: Vec::new(),
        };
        let keep = self.files.len() > 1;
        let mut kept = HashMap::new();
        for (path, bytes) in self.files {
            let Some(format) = Format::from_path(&path) else {
                continue;
            };
            let file_index = env.files.len();
            let Some(cache) = cache.as_deref_mut() else {
                let node = read_file(&bytes, format, &mut |item| {
                    env.merge(&path, file_index, item);
                });
                env.parsed_files += 1;
                env.add_file(path, node, None);
                continue;
            };
            let hash = xxhash_rust::xxh3::xxh3_64(&bytes);
            let cached = cache
                .files
                .remove(&path)
                .filter(|c| c.hash == hash)
                .and_then(|c| unpack(&c).map(|items| (c, items)));
            if let Some((c, items)) = cached {
                for item in items {
                    env.merge(&path, file_index, item);
                }
                if keep {
                    kept.insert(path.clone(), c);
                }
                env.reused_files += 1;
                env.add_file(path, None, Some((bytes, format)));
                continue;
            }
            let mut packer = keep.then(Packer::new);
            let node = read_file(&bytes, format, &mut |item| {
                if let Some(packer) = &mut packer {
                    packer.add(&item);
                }
                env.merge(&path, file_index, item);
            });
            if let Some(packed) = packer.and_then(|p| p.finish(hash)) {
                kept.insert(path.clone(), packed);
            }
            env.parsed_files += 1;
            env.add_file(path, node, None);
        }
        if let Some(cache) = cache {
            cache.files = kept;
        }
        env
    }
}

impl LoadedEnv {
    /// Adds one item of the file at `file_index` (added next, by
    /// [`LoadedEnv::add_file`]) to the environment: a finding, or a
    /// definition unless another file (or this one) already defined it.
    fn merge(&mut self, path: &str, file_index: usize, item: Item<Definition>) {
        let Item::Def {
            section,
            name,
            value,
            findings,
        } = item
        else {
            if let Item::Finding(d) = item {
                self.diagnostics.push(d.in_file(path));
            }
            return;
        };
        if let Some(&first) = self.origins.get(&(section, name.name.clone())) {
            let prefix = KeyPath::root().key(section.key()).key(&name.name);
            let d = self.already_defined(section, &name, prefix, first);
            self.diagnostics.push(d.in_file(path));
            return;
        }
        match value {
            Some(Definition::Flag(flag)) => {
                self.model.flags.insert(name.name.clone(), flag);
            }
            Some(Definition::Segment(segment)) => {
                self.model.segments.insert(name.name.clone(), segment);
            }
            // A segment that failed to read still exists: an empty
            // stand-in keeps references to it from being reported as
            // unknown (its own error says what is wrong).
            None if section == Section::Segments => {
                let stand_in = Segment {
                    description: None,
                    when: None,
                    keys: Some(Vec::new()),
                };
                self.model.segments.insert(name.name.clone(), stand_in);
            }
            None => {}
        }
        // Claimed even when broken, so a later duplicate still names this
        // file.
        self.origins.insert((section, name.name), file_index);
        for (d, unknown_key) in findings {
            if unknown_key {
                self.trimmed.push(parent(&d.path));
            }
            self.diagnostics.push(d.in_file(path));
        }
    }

    /// Adds a file whose items were merged.
    fn add_file(&mut self, path: String, node: Option<Node>, reused: Option<(Vec<u8>, Format)>) {
        self.files.push(LoadedFile {
            path,
            node,
            reused,
            reparsed: std::sync::OnceLock::new(),
        });
    }

    /// "flag `x` is already defined in envs/prod/a.yaml:3:3", at the second
    /// definition.
    fn already_defined(
        &self,
        section: Section,
        name: &Key,
        path: KeyPath,
        first: usize,
    ) -> Diagnostic {
        let first = self.files.get(first);
        let first_file = first.map_or("this file", |f| f.path.as_str());
        let at = first
            .and_then(LoadedFile::tree)
            .map_or(String::new(), |n| format!(":{}", n.key_position_of(&path)));
        let noun = match section {
            Section::Flags => "flag",
            Section::Segments => "segment",
        };
        let message = format!(
            "{noun} `{}` is already defined in {first_file}{at}",
            name.name
        );
        Diagnostic::error(path, message).at(name.pos)
    }

    /// Gives a compiler finding (key path only) its file, line and column.
    pub fn locate(&self, mut d: Diagnostic) -> Diagnostic {
        let section = match d.path.0.first() {
            Some(PathSeg::Key(k)) if k == "flags" => Section::Flags,
            Some(PathSeg::Key(k)) if k == "segments" => Section::Segments,
            _ => return d,
        };
        let Some(PathSeg::Key(name)) = d.path.0.get(1) else {
            return d;
        };
        if let Some(file) = self
            .origins
            .get(&(section, name.clone()))
            .and_then(|&i| self.files.get(i))
        {
            d.file.get_or_insert_with(|| file.path.clone());
            if d.pos.is_none()
                && let Some(node) = file.tree()
            {
                d.pos = Some(node.report_position(&d.path));
            }
        }
        d
    }

    /// Compiles this environment and returns every finding, located.
    pub fn check(self, metrics: &MetricsConfig, meta: RulesetMeta) -> Checked {
        let Compiled {
            ruleset,
            diagnostics,
        } = compile(&self.model, metrics, meta.clone());
        let mut all = self.diagnostics.clone();
        // Definitions that failed to read are missing from the model, so the
        // compiler's warnings (a segment "not used" by a flag that did not
        // parse) would be false alarms: keep only its errors then.
        let partial = self.diagnostics.iter().any(Diagnostic::is_error);
        all.extend(
            diagnostics
                .into_iter()
                .filter(|d| !partial || d.is_error())
                .filter(|d| !self.trimmed.contains(&d.path))
                .map(|d| self.locate(d)),
        );
        sort_diagnostics(&mut all);
        let ruleset = ruleset.filter(|_| !all.iter().any(Diagnostic::is_error));
        Checked {
            fingerprint: self.content_hash.clone(),
            loaded: self,
            meta,
            ruleset,
            diagnostics: all,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Pos;
    use crate::testing::{file, meta};

    #[test]
    fn duplicates_name_both_files() {
        let env = load_files([
            file(
                "a.yaml",
                "flags:\n  x: {type: boolean, variants: {on: true}, default: on}\n",
            ),
            file(
                "b.json",
                "{\"flags\": {\"x\": {\"type\": \"boolean\", \"variants\": {\"on\": true}, \"default\": \"on\"}}}",
            ),
        ]);
        assert_eq!(env.diagnostics.len(), 1);
        let d = &env.diagnostics[0];
        assert_eq!(d.file.as_deref(), Some("b.json"));
        assert_eq!(d.message, "flag `x` is already defined in a.yaml:2:3");
        assert_eq!(d.pos, Some(Pos::new(1, 12)));
    }

    #[test]
    fn one_broken_flag_does_not_hide_another() {
        let env = load_files([file(
            "a.yaml",
            "flags:\n  x: {type: bool, variants: {on: true}, default: on}\n  y: {type: boolean, variants: {on: true}, default: on, colour: red}\n",
        )]);
        let messages: Vec<_> = env.diagnostics.iter().map(|d| d.to_string()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with("a.yaml:2:13: error: unknown value `bool` (at flags.x.type)"),
            "{messages:?}"
        );
        assert!(
            messages[1].starts_with("a.yaml:3:57: error: unknown key `colour` (at flags.y.colour)"),
            "{messages:?}"
        );
    }

    #[test]
    fn compiler_findings_are_located() {
        let env = load_files([file(
            "envs/a.yaml",
            "flags:\n  x:\n    type: boolean\n    variants: {on: true, off: false}\n    default: of\n",
        )]);
        let checked = env.check(&MetricsConfig::default(), meta());
        assert!(checked.ruleset.is_none());
        let d = &checked.diagnostics[0];
        assert_eq!(
            d.to_string(),
            "envs/a.yaml:5:14: error: unknown variant `of` (at flags.x.default)\n    hint: did you mean `off`?"
        );
    }

    /// A load reusing cached readings gives what parsing every file gives:
    /// the model, the findings (those of unchanged files included) and
    /// their positions, even a duplicate's pointing into a reused file.
    #[test]
    fn cached_readings_give_what_parsing_gives() {
        let files = |c: &str| {
            vec![
                file(
                    "a.yaml",
                    "flags:\n  x: {type: bool, variants: {on: true}, default: on}\n  y: {type: boolean, variants: {on: true}, default: of}\n",
                ),
                file("b.yaml", "segments:\n  s: {keys: [ana]}\n"),
                file("c.yaml", c),
            ]
        };
        let rendered = |checked: &Checked| -> Vec<String> {
            checked
                .diagnostics
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        let mut cache = ReadCache::default();
        let first = EnvFiles::new(files("flags: {}\n")).load(Some(&mut cache));
        assert_eq!((first.parsed_files, first.reused_files), (3, 0));
        assert_eq!(cache.len(), 3);
        let edited = "flags:\n  y: {type: boolean, variants: {on: true}, default: on}\n";
        let second = EnvFiles::new(files(edited)).load(Some(&mut cache));
        assert_eq!((second.parsed_files, second.reused_files), (1, 2));
        let fresh = load_files(files(edited)).check(&MetricsConfig::default(), meta());
        let second = second.check(&MetricsConfig::default(), meta());
        assert_eq!(
            serde_json::to_value(&second.loaded.model).unwrap(),
            serde_json::to_value(&fresh.loaded.model).unwrap()
        );
        assert_eq!(rendered(&second), rendered(&fresh));
        assert!(
            rendered(&second)
                .iter()
                .any(|d| d
                    .starts_with("c.yaml:2:3: error: flag `y` is already defined in a.yaml:3:3")),
            "{:?}",
            rendered(&second)
        );
        assert!(
            rendered(&second)
                .iter()
                .any(|d| d.starts_with("a.yaml:2:13: error: unknown value `bool`")),
            "{:?}",
            rendered(&second)
        );
        // One file alone: nothing kept, since a change is always to it.
        let mut cache = ReadCache::default();
        EnvFiles::new([file("a.yaml", "flags: {}\n")]).load(Some(&mut cache));
        assert!(cache.is_empty());
    }

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
