//! One flag file read on its own: its findings and its definitions, in the
//! order the file holds them.
//!
//! Each flag and segment is deserialized on its own, so one broken flag does
//! not hide the problems of the next. A file's reading does not depend on
//! the other files (duplicates across files are found when the loader
//! merges them), so it can be reused while the file's bytes are the same.

use super::recover::read_definition;
use crate::diagnostic::{Diagnostic, KeyPath, did_you_mean};
use crate::model::{Flag, Segment};
use crate::parse::{DeErrorKind, Format, Key, Node, NodeKind, parse_document};

/// Which top-level section a definition lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Section {
    Flags,
    Segments,
}

impl Section {
    pub(super) fn key(self) -> &'static str {
        match self {
            Section::Flags => "flags",
            Section::Segments => "segments",
        }
    }
}

/// What reading one file yields, in the order the file holds it: findings
/// about the file itself and definitions (read on their own; duplicates
/// across files are found when files are merged, so a file's reading does
/// not depend on the others and can be reused while its bytes are the same).
#[derive(Debug, Clone)]
pub(super) enum Item<V> {
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
/// back after the load (docs/performance.md, "Polls and swaps reuse
/// unchanged files").
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub(super) enum Definition {
    Flag(Flag),
    Segment(Segment),
}

/// Reads one file on its own: its tree (if it parsed); its items are
/// handed to `sink` as they are read, so that the model is built while the
/// tree is (a load's memory is then laid out as before the cache).
pub(super) fn read_file(
    bytes: &[u8],
    format: Format,
    sink: &mut dyn FnMut(Item<Definition>),
) -> Option<Node> {
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

#[cfg(test)]
mod tests {
    use crate::repo::load::load_files;
    use crate::testing::file;

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
}
