//! A YAML flag file cut into one piece of text per flag, so the history
//! walk parses only the flags whose text changed (docs/performance.md,
//! "Lifecycle").
//!
//! The cut is made on lines alone, and only for files of the plain shape
//! that `flagctl init` and people write: comments, one top-level
//! `flags:` line, then each flag's key line at one indentation with its
//! definition indented deeper. Anything else — a `segments:` section,
//! another top-level key, a quoted or complex key, a line indented less
//! than the flag keys, tabs, aliases — gets `None`, and the caller parses
//! the whole file as before. Each piece, put under `flags:`, is a YAML
//! document of its own whose one flag reads as it does in the whole file;
//! the caller still checks that each piece it parses holds exactly its one
//! key, and parses the whole file when one does not.

use std::collections::HashSet;

use hotswap_flags_core::parse::node::MAX_NODES;

/// One flag's text in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The flag key, as its key line writes it.
    pub key: &'a str,
    /// Its key line and every line up to the next key line (comments and
    /// blank lines after it included).
    pub text: &'a str,
}

impl Chunk<'_> {
    /// The piece as a flag file of its own.
    pub fn as_document(&self) -> String {
        format!("flags:\n{}", self.text)
    }
}

/// The flags of a YAML flag file, one chunk each in file order; `None`
/// when the file is not of the plain shape (see the module docs).
pub fn flag_chunks(text: &str) -> Option<Vec<Chunk<'_>>> {
    // Alias expansions count towards the document's size limit, which the
    // whole file could pass while no piece does.
    if text.len() >= MAX_NODES || text.contains('*') {
        return None;
    }
    let mut chunks: Vec<(&str, usize)> = Vec::new();
    let mut seen_flags = false;
    let mut key_indent = None;
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let at = start;
        start += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let body = content.trim_start_matches(' ');
        if body.starts_with('\t') {
            return None;
        }
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = content.len() - body.len();
        if indent == 0 {
            if seen_flags || !is_flags_line(body) {
                return None;
            }
            seen_flags = true;
            continue;
        }
        if !seen_flags {
            return None;
        }
        let want = *key_indent.get_or_insert(indent);
        if indent < want {
            return None;
        }
        if indent == want {
            chunks.push((plain_key(body)?, at));
        }
    }
    let mut keys = HashSet::with_capacity(chunks.len());
    if !chunks.iter().all(|(key, _)| keys.insert(*key)) {
        return None;
    }
    let ends = chunks.iter().skip(1).map(|(_, at)| *at).chain([text.len()]);
    Some(
        chunks
            .iter()
            .zip(ends)
            .map(|(&(key, from), to)| Chunk {
                key,
                text: &text[from..to],
            })
            .collect(),
    )
}

/// `flags:`, alone or followed by a comment.
fn is_flags_line(body: &str) -> bool {
    let Some(rest) = body.strip_prefix("flags:") else {
        return false;
    };
    rest.is_empty()
        || (rest.starts_with(' ') && matches!(rest.trim_start().chars().next(), None | Some('#')))
}

/// The key of a line `key:` or `key: value` whose key is a plain word of
/// letters, digits, `-`, `_` and `.` (not starting with `-`, which would
/// start a sequence entry).
fn plain_key(body: &str) -> Option<&str> {
    let (key, rest) = body.split_once(':')?;
    let plain = !key.is_empty()
        && !key.starts_with('-')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    (plain && (rest.is_empty() || rest.starts_with(' '))).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Option<Vec<&str>> {
        flag_chunks(text).map(|c| c.iter().map(|c| c.key).collect())
    }

    #[test]
    fn cuts_at_each_key_line() {
        let text = "# top\nflags:  # all\n  a:\n    type: boolean\n\n  # about b\n  b: {type: boolean}\n  c.d-e_f:\n    description: |\n      x: y\n";
        let chunks = flag_chunks(text).unwrap();
        assert_eq!(
            chunks.iter().map(|c| c.key).collect::<Vec<_>>(),
            ["a", "b", "c.d-e_f"]
        );
        assert_eq!(chunks[0].text, "  a:\n    type: boolean\n\n  # about b\n");
        assert_eq!(chunks[1].text, "  b: {type: boolean}\n");
        assert!(chunks[2].text.ends_with("      x: y\n"));
        assert_eq!(chunks[1].as_document(), "flags:\n  b: {type: boolean}\n");
        assert_eq!(keys("flags:\n"), Some(vec![]));
        assert_eq!(keys(""), Some(vec![]));
        assert_eq!(
            keys("flags:\r\n  a:\r\n    type: boolean\r\n"),
            Some(vec!["a"])
        );
    }

    #[test]
    fn anything_else_is_left_to_the_parser() {
        for text in [
            "---\nflags:\n  a: {}\n",
            "flags:\n  a: {}\nsegments:\n  s: {}\n",
            "flags: {a: {}}\n",
            "flags:\n  \"a\": {}\n",
            "flags:\n  ? a\n  : {}\n",
            "flags:\n    a: {}\n  b: {}\n",
            "flags:\n  a: {}\n  a: {}\n",
            "flags:\n  a: &x {}\n  b: *x\n",
            "flags:\n\ta: {}\n",
            "flags:\n  - a\n",
            "flags:\n  a:b\n",
            "# no flags line\n  a: {}\n",
        ] {
            assert_eq!(keys(text), None, "{text:?}");
        }
    }
}
