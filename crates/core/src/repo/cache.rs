//! Readings of flag files kept between loads, so that a reload parses only
//! the files whose bytes changed.

use std::collections::HashMap;
use std::ops::Range;

use super::read::{Definition, Item, Section};
use crate::parse::Key;

/// What a previous load read from each file, keyed by path: flagd keeps one per
/// feed, so that a load after an edit parses only the files whose bytes changed
/// (docs/flagd.md, "Sources"). The definitions are kept as compact JSON, not as
/// the model: the model takes several times the room (docs/performance.md,
/// "10,000 flags: memory and swaps under load"), and reading the JSON back
/// costs a fraction of parsing the file again. Compiling still takes the whole
/// environment, so checks across files (duplicates, segment references,
/// prerequisites) run on every load.
#[derive(Debug, Default)]
pub struct ReadCache {
    files: HashMap<String, CachedFile>,
}

/// One file's reading, packed: the definitions' JSON and names in one
/// buffer, the rest in one list. Few, large allocations, so that what the
/// cache keeps between loads does not pin the pages a load freed
/// (docs/performance.md, "Polls and swaps reuse unchanged files").
#[derive(Debug)]
pub(super) struct CachedFile {
    /// xxh3 of the file's bytes.
    hash: u64,
    text: String,
    items: Vec<Item<Packed>>,
}

/// A definition's name and JSON as ranges of [`CachedFile::text`].
#[derive(Debug, Clone)]
struct Packed {
    name: Range<usize>,
    json: Option<Range<usize>>,
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

    /// Takes out the reading of the file at `path`, its items unpacked, if
    /// it was read from bytes hashing to `hash` (xxh3).
    pub(super) fn take(
        &mut self,
        path: &str,
        hash: u64,
    ) -> Option<(CachedFile, Vec<Item<Definition>>)> {
        self.files
            .remove(path)
            .filter(|c| c.hash == hash)
            .and_then(|c| unpack(&c).map(|items| (c, items)))
    }

    /// Keeps `reading` as the reading of the file at `path`.
    pub(super) fn keep(&mut self, path: String, reading: CachedFile) {
        self.files.insert(path, reading);
    }
}

/// Packs a file's items as they are read (see [`CachedFile`]).
pub(super) struct Packer {
    text: Vec<u8>,
    items: Vec<Item<Packed>>,
    failed: bool,
}

impl Packer {
    pub(super) fn new() -> Self {
        Packer {
            text: Vec::new(),
            items: Vec::new(),
            failed: false,
        }
    }

    pub(super) fn add(&mut self, item: &Item<Definition>) {
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

    pub(super) fn finish(mut self, hash: u64) -> Option<CachedFile> {
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

#[cfg(test)]
mod tests {
    use super::ReadCache;
    use crate::model::MetricsConfig;
    use crate::repo::load::{Checked, EnvFiles, load_files};
    use crate::testing::{file, meta};

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
}
