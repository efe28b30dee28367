//! The format-neutral document tree every reader produces.
//!
//! YAML, JSON and TOML each parse into a [`Node`] that remembers where every
//! value and key came from. One serde deserializer over this tree then builds the
//! model, so the three formats share one model, one set of error messages and
//! one way to map a key path back to `line:col`.

use std::collections::HashMap;

use crate::diagnostic::{KeyPath, PathSeg, Pos};

/// How deep documents may nest. Flag files need far less; the limit keeps
/// hostile input from exhausting the stack in the recursive deserializer.
pub const MAX_DEPTH: usize = 64;

/// How many nodes one document may hold (after YAML aliases are expanded).
pub const MAX_NODES: usize = 1_000_000;

/// Finds an earlier key of the same name in a map being read: a short map
/// is scanned, a long one (a file of thousands of flags) indexed, so that
/// checking for duplicates stays linear in the map's size.
#[derive(Debug, Default)]
pub(crate) struct KeyIndex {
    names: Option<HashMap<String, usize>>,
}

impl KeyIndex {
    /// Maps with at most this many keys are scanned.
    const SCAN: usize = 16;

    /// The index of the entry already named `name`, if any; otherwise
    /// records `name` as the next entry's (`entries.len()`).
    pub(crate) fn earlier(&mut self, entries: &[(Key, Node)], name: &str) -> Option<usize> {
        if self.names.is_none() && entries.len() < Self::SCAN {
            return entries.iter().position(|(k, _)| k.name == name);
        }
        let names = self.names.get_or_insert_with(|| {
            entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.name.clone(), i))
                .collect()
        });
        if let Some(&i) = names.get(name) {
            return Some(i);
        }
        names.insert(name.to_owned(), entries.len());
        None
    }
}

/// A value with the position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value starts.
    pub pos: Pos,
    /// The value.
    pub kind: NodeKind,
}

/// A map key with its own position (unknown-key errors point at the key).
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key's text.
    pub name: String,
    /// Where the key starts.
    pub pos: Pos,
}

/// The shapes a value can take in any of the three formats.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// YAML `null`/`~`/empty, JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string (TOML datetimes arrive here in their RFC 3339 form).
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A map, in the order written.
    Map(Vec<(Key, Node)>),
}

impl NodeKind {
    /// A short noun for error messages: "a string", "a map".
    pub fn describe(&self) -> &'static str {
        match self {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a map",
        }
    }
}

impl Node {
    /// A node at `pos`.
    pub fn new(pos: Pos, kind: NodeKind) -> Self {
        Node { pos, kind }
    }

    /// The value under `key` if this is a map that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key and value under `key` if this is a map that has it.
    pub fn entry(&self, key: &str) -> Option<(&Key, &Node)> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.name == key)
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// Removes the map entry at `path` (the last segment a key); whether
    /// there was one.
    pub fn remove(&mut self, path: &[PathSeg]) -> bool {
        let Some((PathSeg::Key(last), parents)) = path.split_last() else {
            return false;
        };
        let mut node = self;
        for seg in parents {
            let next = match (seg, &mut node.kind) {
                (PathSeg::Key(k), NodeKind::Map(entries)) => entries
                    .iter_mut()
                    .find(|(key, _)| key.name == *k)
                    .map(|(_, v)| v),
                (PathSeg::Index(i), NodeKind::Seq(items)) => items.get_mut(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => return false,
            }
        }
        match &mut node.kind {
            NodeKind::Map(entries) => {
                let before = entries.len();
                entries.retain(|(key, _)| key.name != *last);
                entries.len() < before
            }
            _ => false,
        }
    }

    /// The position of the value at `path`, or of the deepest ancestor that
    /// exists (a missing key is reported where its parent is).
    pub fn position_of(&self, path: &KeyPath) -> Pos {
        self.locate(path).1
    }

    /// The position of the *key* at the end of `path` (for unknown keys and
    /// duplicate definitions), falling back like [`Node::position_of`].
    pub fn key_position_of(&self, path: &KeyPath) -> Pos {
        self.locate(path).0
    }

    /// Where to report a problem with the value at `path`: a scalar at its
    /// value, a map or list at its key (the line that names it).
    pub fn report_position(&self, path: &KeyPath) -> Pos {
        let (key_pos, value_pos) = self.locate(path);
        let target = self.lookup(path);
        match (path.0.last(), target.map(|n| &n.kind)) {
            (Some(PathSeg::Key(_)), Some(NodeKind::Map(_) | NodeKind::Seq(_))) => key_pos,
            _ => value_pos,
        }
    }

    /// The node at `path`, if it exists.
    pub fn lookup(&self, path: &KeyPath) -> Option<&Node> {
        let mut node = self;
        for seg in &path.0 {
            node = match (seg, &node.kind) {
                (PathSeg::Key(k), NodeKind::Map(_)) => node.get(k)?,
                (PathSeg::Index(i), NodeKind::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The node at `path`, if it exists, to change it.
    pub fn lookup_mut(&mut self, path: &KeyPath) -> Option<&mut Node> {
        let mut node = self;
        for seg in &path.0 {
            node = match (seg, &mut node.kind) {
                (PathSeg::Key(k), NodeKind::Map(entries)) => entries
                    .iter_mut()
                    .find(|(key, _)| key.name == *k)
                    .map(|(_, v)| v)?,
                (PathSeg::Index(i), NodeKind::Seq(items)) => items.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Walks `path`; returns (key position, value position) of the last step
    /// that exists.
    fn locate(&self, path: &KeyPath) -> (Pos, Pos) {
        let mut node = self;
        let mut key_pos = self.pos;
        for seg in &path.0 {
            let next = match (seg, &node.kind) {
                (PathSeg::Key(k), NodeKind::Map(_)) => node.entry(k).map(|(key, v)| (key.pos, v)),
                (PathSeg::Index(i), NodeKind::Seq(items)) => items.get(*i).map(|v| (v.pos, v)),
                _ => None,
            };
            match next {
                Some((kp, child)) => {
                    key_pos = kp;
                    node = child;
                }
                None => return (node.pos, node.pos),
            }
        }
        (key_pos, node.pos)
    }

    /// Converts the tree to plain JSON (used for JSON Schema checks and for
    /// values of `object` flags). Non-finite floats become `null`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            NodeKind::Str(s) => Value::String(s.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Maps byte offsets to 1-based line/column positions (columns in characters).
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `text`.
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, line_starts }
    }

    /// The position of byte `offset` (clamped to the text).
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        Pos::new(to_u32(line + 1), to_u32(col + 1))
    }
}

/// Saturating conversion for line and column numbers.
pub fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_characters() {
        let idx = LineIndex::new("ab\nçd: x\n");
        assert_eq!(idx.pos(0), Pos::new(1, 1));
        assert_eq!(idx.pos(3), Pos::new(2, 1));
        // "çd" : ç is two bytes, so byte 6 is the third character.
        assert_eq!(idx.pos(6), Pos::new(2, 3));
        assert_eq!(idx.pos(1000), Pos::new(3, 1));
    }
}
