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
use crate::model::{EnvModel, MetricsConfig, Segment};
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
    /// The document tree, if the file parsed.
    pub node: Option<Node>,
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

/// Reads flag files (path, bytes) into one environment. Files whose extension
/// is not `.yaml`, `.yml`, `.json` or `.toml` are skipped.
pub fn load_files(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> LoadedEnv {
    let mut env = LoadedEnv {
        model: EnvModel::default(),
        files: Vec::new(),
        diagnostics: Vec::new(),
        content_hash: String::new(),
        origins: HashMap::new(),
        trimmed: Vec::new(),
    };
    let mut hasher = Sha256::new();
    for (path, bytes) in files {
        let Some(format) = Format::from_path(&path) else {
            continue;
        };
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(&bytes);
        hasher.update([0]);
        env.add_file(path, &bytes, format);
    }
    env.content_hash = hex::encode(hasher.finalize());
    env
}

impl LoadedEnv {
    fn add_file(&mut self, path: String, bytes: &[u8], format: Format) {
        let file_index = self.files.len();
        let node = match std::str::from_utf8(bytes) {
            Err(e) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        KeyPath::root(),
                        format!(
                            "file is not UTF-8 (invalid byte at offset {})",
                            e.valid_up_to()
                        ),
                    )
                    .in_file(path.clone()),
                );
                None
            }
            Ok(text) => match parse_document(text, format) {
                Ok(node) => Some(node),
                Err(e) => {
                    self.diagnostics
                        .push(e.into_diagnostic().in_file(path.clone()));
                    None
                }
            },
        };
        if let Some(node) = &node {
            let findings = self.read_definitions(node, file_index);
            self.diagnostics
                .extend(findings.into_iter().map(|d| d.in_file(path.clone())));
        }
        self.files.push(LoadedFile { path, node });
    }

    /// Deserializes each flag and segment of one file into the model.
    fn read_definitions(&mut self, node: &Node, file_index: usize) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let NodeKind::Map(entries) = &node.kind else {
            let message = format!(
                "a flag file is a map with `flags` and `segments`, not {}",
                node.kind.describe()
            );
            diags.push(Diagnostic::error(KeyPath::root(), message).at(node.pos));
            return diags;
        };
        for (key, value) in entries {
            let Some(section) = top_level_key(key, value, &mut diags) else {
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
                    diags.push(Diagnostic::error(path, message).at(value.pos));
                }
                continue;
            };
            for (name, def) in defs {
                self.read_one(section, name, def, file_index, &mut diags);
            }
        }
        diags
    }

    /// Reads one flag or segment into the model, unless another file (or
    /// this one) already defined it.
    fn read_one(
        &mut self,
        section: Section,
        name: &Key,
        def: &Node,
        file_index: usize,
        diags: &mut Vec<Diagnostic>,
    ) {
        let prefix = KeyPath::root().key(section.key()).key(&name.name);
        if let Some(&first) = self.origins.get(&(section, name.name.clone())) {
            diags.push(self.already_defined(section, name, prefix, first));
            return;
        }
        let errors = match section {
            Section::Flags => {
                let (flag, errors) = read_definition(def);
                if let Some(flag) = flag {
                    self.model.flags.insert(name.name.clone(), flag);
                }
                errors
            }
            Section::Segments => {
                let (segment, errors) = read_definition(def);
                // A segment that failed to read still exists: an empty
                // stand-in keeps references to it from being reported as
                // unknown (its own error says what is wrong).
                let stand_in = Segment {
                    description: None,
                    when: None,
                    keys: Some(Vec::new()),
                };
                self.model
                    .segments
                    .insert(name.name.clone(), segment.unwrap_or(stand_in));
                errors
            }
        };
        // Claimed even when broken, so a later duplicate still names this file.
        self.origins
            .insert((section, name.name.clone()), file_index);
        for e in errors {
            let unknown_key = e.kind == DeErrorKind::UnknownKey;
            let d = e.at_entry(name, def).into_diagnostic(&prefix);
            if unknown_key {
                self.trimmed.push(parent(&d.path));
            }
            diags.push(d);
        }
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
            .and_then(|f| f.node.as_ref())
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
                && let Some(node) = &file.node
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

/// Checks one inline flag file, for the library's unit tests.
#[cfg(test)]
pub(crate) fn check_yaml(yaml: &str) -> Checked {
    check_yaml_as(yaml, "test", "v")
}

#[cfg(test)]
fn check_yaml_as(yaml: &str, env: &str, version: &str) -> Checked {
    let meta = RulesetMeta {
        env: env.into(),
        version: version.into(),
        source: "test".into(),
    };
    load_files([("f.yaml".to_owned(), yaml.as_bytes().to_vec())])
        .check(&MetricsConfig::default(), meta)
}

/// [`check_yaml`]'s ruleset, for tests of what comes after compiling.
#[cfg(test)]
pub(crate) fn compile_yaml(yaml: &str) -> Ruleset {
    compile_yaml_as(yaml, "test", "v")
}

/// [`compile_yaml`] with the environment and version given; panics with the
/// findings if the file does not compile.
#[cfg(test)]
pub(crate) fn compile_yaml_as(yaml: &str, env: &str, version: &str) -> Ruleset {
    let checked = check_yaml_as(yaml, env, version);
    let findings = format!("{:?}", checked.diagnostics);
    checked.ruleset.expect(&findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Pos;

    fn meta() -> RulesetMeta {
        RulesetMeta {
            env: "test".into(),
            version: "v".into(),
            source: "test".into(),
        }
    }

    fn file(path: &str, text: &str) -> (String, Vec<u8>) {
        (path.into(), text.as_bytes().to_vec())
    }

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
