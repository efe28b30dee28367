//! Flag files → one environment's model, with every finding located.
//!
//! Each file is read on its own (`read`, and `recover` for a definition
//! with mistakes), or its reading reused from a [`ReadCache`] (`cache`);
//! the readings are merged here into one model, duplicates across files
//! reported, and the environment compiled. The document trees are kept so
//! that the compiler's findings (which only know a key path) can be given
//! a file, line and column afterwards. This module is the public path of
//! the types a load takes and gives (`loaded`).

use crate::compile::{Compiled, compile};
use crate::diagnostic::{Diagnostic, KeyPath, PathSeg, sort_diagnostics};
use crate::model::{MetricsConfig, Segment};
use crate::parse::{Format, Key, Node};
use crate::ruleset::RulesetMeta;

use super::cache::Packer;
pub use super::cache::ReadCache;
pub use super::loaded::{Checked, EnvFiles, LoadedEnv, LoadedFile};
use super::read::{Definition, Item, Section, read_file};
use super::recover::parent;

/// Reads flag files (path, bytes) into one environment. Files whose extension
/// is not `.yaml`, `.yml`, `.json` or `.toml` are skipped.
pub fn load_files(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> LoadedEnv {
    EnvFiles::new(files).load(None)
}

impl EnvFiles {
    /// Reads the files into one environment. With a `cache`, a file whose
    /// bytes are those of the cache's reading is not parsed again; the
    /// cache is then left holding this load's readings, and only when the
    /// environment has more than one file (with one, a change is always to
    /// that file, so there is nothing to reuse).
    pub fn load(self, mut cache: Option<&mut ReadCache>) -> LoadedEnv {
        let mut env = LoadedEnv::new(self.content_hash, self.files.len());
        let mut kept = (self.files.len() > 1).then(ReadCache::default);
        for (path, bytes) in self.files {
            let Some(format) = Format::from_path(&path) else {
                continue;
            };
            match cache.as_deref_mut() {
                Some(cache) => env.read_through(cache, kept.as_mut(), path, bytes, format),
                None => {
                    let node = env.parse_file(&path, &bytes, format, None);
                    env.add_file(path, node, None);
                }
            }
        }
        if let Some(cache) = cache {
            *cache = kept.unwrap_or_default();
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

    /// Adds a file whose items were merged, counting it as parsed or, with
    /// the bytes its reading was reused for, as reused.
    fn add_file(&mut self, path: String, node: Option<Node>, reused: Option<(Vec<u8>, Format)>) {
        if reused.is_some() {
            self.reused_files += 1;
        } else {
            self.parsed_files += 1;
        }
        self.files.push(LoadedFile::new(path, node, reused));
    }

    /// Parses one file, merging each item as it is read (and packing it,
    /// given a packer), so that the model is built while the tree is (a
    /// load's memory is then laid out as before the cache).
    fn parse_file(
        &mut self,
        path: &str,
        bytes: &[u8],
        format: Format,
        mut packer: Option<&mut Packer>,
    ) -> Option<Node> {
        let file_index = self.files.len();
        read_file(bytes, format, &mut |item| {
            if let Some(packer) = packer.as_deref_mut() {
                packer.add(&item);
            }
            self.merge(path, file_index, item);
        })
    }

    /// Reads one file through `cache`: its reading is reused if its bytes
    /// are those the reading was made from, and parsed otherwise; either
    /// way, the reading goes to `kept` when there is one.
    fn read_through(
        &mut self,
        cache: &mut ReadCache,
        kept: Option<&mut ReadCache>,
        path: String,
        bytes: Vec<u8>,
        format: Format,
    ) {
        let hash = xxhash_rust::xxh3::xxh3_64(&bytes);
        if let Some((reading, items)) = cache.take(&path, hash) {
            let file_index = self.files.len();
            for item in items {
                self.merge(&path, file_index, item);
            }
            if let Some(kept) = kept {
                kept.keep(path.clone(), reading);
            }
            self.add_file(path, None, Some((bytes, format)));
            return;
        }
        let mut packer = kept.is_some().then(Packer::new);
        let node = self.parse_file(&path, &bytes, format, packer.as_mut());
        if let Some((kept, packed)) = kept.zip(packer.and_then(|p| p.finish(hash))) {
            kept.keep(path.clone(), packed);
        }
        self.add_file(path, node, None);
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
}
