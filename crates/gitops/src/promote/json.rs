//! Text-level edits of JSON flag files: a definition is the text of one
//! member's value, found from the parser's start position by scanning to its
//! matching bracket. Replacing or inserting just that text keeps the file's
//! layout everywhere else.

use serde_json::Value;

use super::text::{indent_of, offset_of, reindent};
use crate::branch::EditError;
use hotswap_flags_core::parse::{Format, Node, NodeKind, parse_document};

/// A definition's value as it appears in a JSON file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonDef {
    /// The value's text, from its first to its last character.
    pub text: String,
    /// Indentation of the line holding the member's key.
    pub indent: usize,
}

fn parse(text: &str) -> Result<Node, EditError> {
    parse_document(text, Format::Json).map_err(|e| EditError::Parse(e.to_string()))
}

/// The offset just past the JSON value starting at `start`.
fn value_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => {
                    in_string = false;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth <= 1 {
                        return i + 1;
                    }
                    depth -= 1;
                }
                b',' | b'\n' | b' ' | b'\t' | b'\r' if depth == 0 => return i,
                _ => {}
            }
        }
        i += 1;
    }
    bytes.len()
}

fn line_indent_at(text: &str, offset: usize) -> usize {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    indent_of(&text[start..])
}

/// The span of a node's value text.
fn span(text: &str, node: &Node) -> (usize, usize) {
    let start = offset_of(text, node.pos);
    (start, value_end(text, start))
}

/// The definition `section.key` of a JSON file, verbatim.
pub fn extract(text: &str, section: &str, key: &str) -> Result<JsonDef, EditError> {
    let root = parse(text)?;
    let node = root
        .get(section)
        .and_then(|s| s.get(key))
        .ok_or(EditError::Missing)?;
    let (a, b) = span(text, node);
    Ok(JsonDef {
        text: text[a..b].to_owned(),
        indent: line_indent_at(text, a),
    })
}

/// A definition written from its JSON value (when the source is YAML or TOML).
pub fn emit(value: &Value) -> JsonDef {
    JsonDef {
        text: serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()),
        indent: 0,
    }
}

fn quoted(key: &str) -> String {
    Value::String(key.to_owned()).to_string()
}

/// Removes the member `section.key` from a JSON file, with the comma that
/// joined it to its neighbour; everything else stays as it was
/// (`flagctl retire`).
pub fn remove(text: &str, section: &str, key: &str) -> Result<String, EditError> {
    let root = parse(text)?;
    let Some(
        sec @ Node {
            kind: NodeKind::Map(entries),
            ..
        },
    ) = root.get(section)
    else {
        return Err(EditError::Missing);
    };
    let i = entries
        .iter()
        .position(|(k, _)| k.name == key)
        .ok_or(EditError::Missing)?;
    let key_start = |k: &hotswap_flags_core::parse::Key| offset_of(text, k.pos);
    let (cut_from, cut_to) = if entries.len() == 1 {
        let (open, close) = span(text, sec);
        return Ok(format!("{}{{}}{}", &text[..open], &text[close..]));
    } else if i > 0 {
        (span(text, &entries[i - 1].1).1, span(text, &entries[i].1).1)
    } else {
        (key_start(&entries[0].0), key_start(&entries[1].0))
    };
    Ok(format!("{}{}", &text[..cut_from], &text[cut_to..]))
}

/// Writes `section.key` into a JSON file (`None`: a new file), replacing an
/// existing member's value or adding a member after the section's last one.
pub fn upsert(
    target: Option<&str>,
    section: &str,
    key: &str,
    def: &JsonDef,
) -> Result<String, EditError> {
    let value_at = |indent: usize| reindent(&def.text, indent as isize - def.indent as isize, true);
    let Some(text) = target else {
        return Ok(format!(
            "{{\n  {}: {{\n    {}: {}\n  }}\n}}\n",
            quoted(section),
            quoted(key),
            value_at(4)
        ));
    };
    let root = parse(text)?;
    let NodeKind::Map(top) = &root.kind else {
        return Err(EditError::Unsupported(
            "the file is not a JSON object".into(),
        ));
    };
    let member = |node: &Node, indent: usize, name: &str, value: &str| -> (usize, String) {
        // Insert after the last member, or right after `{` when empty.
        let (open, _) = span(text, node);
        let NodeKind::Map(entries) = &node.kind else {
            unreachable!()
        };
        match entries.last() {
            Some((k, v)) => {
                let (_, end) = span(text, v);
                let ind = line_indent_at(text, offset_of(text, k.pos));
                (
                    end,
                    format!(",\n{}{}: {value}", " ".repeat(ind), quoted(name)),
                )
            }
            None => {
                let close = " ".repeat(line_indent_at(text, open));
                let ind = indent;
                // Drop whatever blank space sat between the braces.
                (
                    open + 1,
                    format!("\n{}{}: {value}\n{close}", " ".repeat(ind), quoted(name)),
                )
            }
        }
    };
    let splice = |at: usize, skip_to: usize, insert: &str| {
        format!("{}{insert}{}", &text[..at], &text[skip_to..])
    };
    match root.get(section) {
        Some(
            sec @ Node {
                kind: NodeKind::Map(entries),
                ..
            },
        ) => {
            if let Some((_, v)) = entries.iter().find(|(k, _)| k.name == key) {
                let (a, b) = span(text, v);
                let indent = line_indent_at(text, a);
                return Ok(splice(a, b, &value_at(indent)));
            }
            let (open, close_end) = span(text, sec);
            let base = line_indent_at(text, open);
            let entry_indent = entries.first().map_or(base + 2, |(k, _)| {
                line_indent_at(text, offset_of(text, k.pos))
            });
            let (at, ins) = member(sec, entry_indent, key, &value_at(entry_indent));
            let skip = if entries.is_empty() {
                close_end - 1
            } else {
                at
            };
            Ok(splice(at, skip, &ins))
        }
        Some(_) => Err(EditError::Unsupported(format!(
            "`{section}` is not an object"
        ))),
        None => {
            let ind = top
                .first()
                .map_or(2, |(k, _)| line_indent_at(text, offset_of(text, k.pos)));
            let inner = format!(
                "{{\n{}{}: {}\n{}}}",
                " ".repeat(ind * 2),
                quoted(key),
                value_at(ind * 2),
                " ".repeat(ind)
            );
            let (at, ins) = member(&root, ind, section, &inner);
            let (_, root_end) = span(text, &root);
            let skip = if top.is_empty() { root_end - 1 } else { at };
            Ok(splice(at, skip, &ins))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "{\n  \"flags\": {\n    \"a\": {\n      \"type\": \"boolean\"\n    },\n    \"b\": { \"type\": \"string\" }\n  }\n}\n";

    #[test]
    fn extract_replace_insert() {
        let a = extract(FILE, "flags", "a").unwrap();
        assert_eq!(a.text, "{\n      \"type\": \"boolean\"\n    }");
        assert_eq!(a.indent, 4);
        let def = JsonDef {
            text: "{\n  \"type\": \"integer\"\n}".into(),
            indent: 0,
        };
        let replaced = upsert(Some(FILE), "flags", "b", &def).unwrap();
        assert_eq!(
            replaced,
            FILE.replace(
                "{ \"type\": \"string\" }",
                "{\n      \"type\": \"integer\"\n    }"
            )
        );
        let added = upsert(Some(FILE), "flags", "c", &def).unwrap();
        let v: Value = serde_json::from_str(&added).unwrap();
        assert_eq!(v["flags"]["c"]["type"], "integer");
        assert!(added.contains("\"b\": { \"type\": \"string\" },\n    \"c\": {\n      \"type\": \"integer\"\n    }\n  }"), "{added}");
        let seg = upsert(Some(FILE), "segments", "s", &def).unwrap();
        let v: Value = serde_json::from_str(&seg).unwrap();
        assert_eq!(v["segments"]["s"]["type"], "integer");
        let empty = upsert(Some("{ \"flags\": {} }"), "flags", "c", &def).unwrap();
        let v: Value = serde_json::from_str(&empty).unwrap();
        assert_eq!(v["flags"]["c"]["type"], "integer");
        let new = upsert(None, "flags", "c", &def).unwrap();
        let v: Value = serde_json::from_str(&new).unwrap();
        assert_eq!(v["flags"]["c"]["type"], "integer");
    }
}
