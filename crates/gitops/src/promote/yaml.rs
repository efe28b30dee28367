//! Text-level edits of YAML flag files: a definition is a run of lines, from
//! its key to the line before the next key of the same map. Copying those
//! lines verbatim (re-indented) keeps the comments inside a definition;
//! replacing only those lines keeps everything else of the target file.

use serde_json::Value;

use super::text::{indent_of, line_offset, line_starts, reindent};
use crate::branch::EditError;
use hotswap_flags_core::parse::{Format, Node, NodeKind, parse_document};

/// A definition's text as it appears in a YAML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlDef {
    /// From the key's line to its last line, newline-terminated.
    pub text: String,
    /// The key's indentation in `text`.
    pub indent: usize,
    /// Comment lines directly above the key (same indentation).
    pub leading: String,
}

/// Where the entries of one top-level section sit.
struct Section {
    /// The section key's line.
    key_line: u32,
    /// Entries: (name, key line, [start, end) lines after trimming).
    entries: Vec<(String, u32, u32)>,
}

fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn parse(text: &str) -> Result<Node, EditError> {
    parse_document(text, Format::Yaml).map_err(|e| EditError::Parse(e.to_string()))
}

fn is_shallow_comment_or_blank(line: &str, indent: usize) -> bool {
    let t = line.trim();
    t.is_empty() || (t.starts_with('#') && indent_of(line) <= indent)
}

fn section(text: &str, root: &Node, name: &str) -> Result<Option<Section>, EditError> {
    let NodeKind::Map(top) = &root.kind else {
        return Err(EditError::Unsupported("the file is not a map".into()));
    };
    let Some(i) = top.iter().position(|(k, _)| k.name == name) else {
        return Ok(None);
    };
    let (key, value) = &top[i];
    let all = lines(text);
    let total = u32::try_from(all.len()).unwrap_or(u32::MAX);
    let section_end = top
        .iter()
        .map(|(k, _)| k.pos.line)
        .filter(|l| *l > key.pos.line)
        .min()
        .unwrap_or(total + 1);
    let entries = match &value.kind {
        NodeKind::Null => {
            return Ok(Some(Section {
                key_line: key.pos.line,
                entries: Vec::new(),
            }));
        }
        NodeKind::Map(entries) if entries.is_empty() => {
            return Ok(Some(Section {
                key_line: key.pos.line,
                entries: Vec::new(),
            }));
        }
        NodeKind::Map(entries) if value.pos.line > key.pos.line => entries,
        NodeKind::Map(_) => {
            return Err(EditError::Unsupported(format!(
                "`{name}:` is written in flow style ({{…}} on one line); write it as a block map to promote into it"
            )));
        }
        other => {
            return Err(EditError::Unsupported(format!(
                "`{name}` is {}, not a map",
                other.describe()
            )));
        }
    };
    let mut out = Vec::new();
    for (j, (k, _)) in entries.iter().enumerate() {
        let start = k.pos.line;
        let next = entries.get(j + 1).map_or(section_end, |(n, _)| n.pos.line);
        if next <= start {
            return Err(EditError::Unsupported(format!(
                "`{}` shares a line with another key; write `{name}` one key per line",
                k.name
            )));
        }
        let indent = (k.pos.col as usize).saturating_sub(1);
        let mut end = next;
        while end > start + 1
            && all
                .get((end - 2) as usize)
                .is_some_and(|l| is_shallow_comment_or_blank(l, indent))
        {
            end -= 1;
        }
        out.push((k.name.clone(), start, end));
    }
    Ok(Some(Section {
        key_line: key.pos.line,
        entries: out,
    }))
}

/// The definition `section.key` of a YAML file, verbatim.
pub fn extract(text: &str, section_name: &str, key: &str) -> Result<YamlDef, EditError> {
    let root = parse(text)?;
    let sec = section(text, &root, section_name)?.ok_or(EditError::Missing)?;
    let (_, start, end) = sec
        .entries
        .iter()
        .find(|e| e.0 == key)
        .ok_or(EditError::Missing)?;
    let all = lines(text);
    let mut body: String = all[(*start - 1) as usize..(*end - 1) as usize].concat();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    let indent = indent_of(all[(*start - 1) as usize]);
    let mut leading = Vec::new();
    let mut l = *start as usize - 1;
    while l > 0 && l > sec.key_line as usize {
        let line = all[l - 1];
        if line.trim().starts_with('#') && indent_of(line) == indent {
            leading.push(line);
            l -= 1;
        } else {
            break;
        }
    }
    leading.reverse();
    Ok(YamlDef {
        text: body,
        indent,
        leading: leading.concat(),
    })
}

/// Removes `section.key` from a YAML file: its lines and the comment lines
/// right above it at its indentation. Everything else stays byte for byte
/// (`flagctl retire`).
pub fn remove(text: &str, section_name: &str, key: &str) -> Result<String, EditError> {
    let root = parse(text)?;
    let sec = section(text, &root, section_name)?.ok_or(EditError::Missing)?;
    let (_, start, end) = sec
        .entries
        .iter()
        .find(|e| e.0 == key)
        .ok_or(EditError::Missing)?;
    let all = lines(text);
    let indent = indent_of(all[(*start - 1) as usize]);
    let mut first = *start as usize - 1;
    while first > sec.key_line as usize {
        let line = all[first - 1];
        if line.trim().starts_with('#') && indent_of(line) == indent {
            first -= 1;
        } else {
            break;
        }
    }
    let last = (*end as usize - 1).min(all.len());
    Ok(all[..first].concat() + &all[last..].concat())
}

/// Writes `section.key` into a YAML file (`None`: a new file), replacing the
/// lines of an existing definition or adding it after the section's last
/// entry. Everything else in the file stays byte for byte.
pub fn upsert(
    target: Option<&str>,
    section_name: &str,
    key: &str,
    def: &YamlDef,
) -> Result<String, EditError> {
    let shifted = |indent: usize, with_leading: bool| {
        let delta = indent as isize - def.indent as isize;
        let mut s = String::new();
        if with_leading {
            s.push_str(&reindent(&def.leading, delta, false));
        }
        s.push_str(&reindent(&def.text, delta, false));
        s
    };
    let Some(text) = target else {
        return Ok(format!("{section_name}:\n{}", shifted(2, true)));
    };
    let root = parse(text)?;
    let starts = line_starts(text);
    let all = lines(text);
    match section(text, &root, section_name)? {
        None => {
            let mut out = text.to_owned();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            if !out.trim().is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("{section_name}:\n{}", shifted(2, true)));
            Ok(out)
        }
        Some(sec) if sec.entries.is_empty() => {
            // `flags:` with nothing, or `flags: {}`: rewrite that line.
            let line = all[(sec.key_line - 1) as usize];
            let comment = line.find(" #").map(|i| line[i..].trim_end()).unwrap_or("");
            let head = format!("{section_name}:{comment}\n");
            let at = line_offset(&starts, text, sec.key_line);
            let after = line_offset(&starts, text, sec.key_line + 1);
            Ok(format!(
                "{}{head}{}{}",
                &text[..at],
                shifted(2, true),
                &text[after..]
            ))
        }
        Some(sec) => {
            let indent = all
                .get((sec.entries[0].1 - 1) as usize)
                .map_or(2, |l| indent_of(l));
            if let Some((_, start, end)) = sec.entries.iter().find(|e| e.0 == key) {
                let a = line_offset(&starts, text, *start);
                let b = line_offset(&starts, text, *end);
                let mut new = shifted(indent, false);
                if b == text.len() && !text.ends_with('\n') {
                    new.pop();
                }
                return Ok(format!("{}{new}{}", &text[..a], &text[b..]));
            }
            let (_, last_start, last_end) = sec.entries[sec.entries.len() - 1];
            let mut at = line_offset(&starts, text, last_end);
            let mut out = text[..at].to_owned();
            if !out.ends_with('\n') {
                out.push('\n');
                at = text.len();
            }
            // Separate definitions the way the file does: a blank line after
            // multi-line definitions.
            if last_end > last_start + 1 {
                out.push('\n');
            }
            out.push_str(&shifted(indent, true));
            out.push_str(&text[at..]);
            Ok(out)
        }
    }
}

fn plain_ok(s: &str) -> bool {
    let reserved = [
        "true", "false", "null", "True", "False", "Null", "TRUE", "FALSE", "NULL", "~", "",
    ];
    !reserved.contains(&s)
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@".contains(c))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) if plain_ok(s) => s.clone(),
        // A JSON string is a valid YAML double-quoted scalar.
        other => other.to_string(),
    }
}

fn emit_value(out: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter().filter(|(_, v)| !v.is_null()) {
                out.push_str(&format!("{pad}{}:", scalar(&Value::String(k.clone()))));
                emit_child(out, v, indent);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&format!("{pad}-"));
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        let mut inner = String::new();
                        emit_value(&mut inner, item, indent + 2);
                        out.push(' ');
                        out.push_str(&inner[indent + 2..]);
                    }
                    _ => emit_child(out, item, indent),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn emit_child(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            emit_value(out, v, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            emit_value(out, v, indent + 2);
        }
        Value::Object(_) => out.push_str(" {}\n"),
        Value::Array(_) => out.push_str(" []\n"),
        other => out.push_str(&format!(" {}\n", scalar(other))),
    }
}

/// A definition written from its JSON form (when the source file is JSON
/// or TOML): block style, strings quoted where YAML would misread them.
pub fn emit(key: &str, value: &Value) -> YamlDef {
    let mut text = format!("  {}:", scalar(&Value::String(key.to_owned())));
    emit_child(&mut text, value, 2);
    YamlDef {
        text,
        indent: 2,
        leading: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# top\nflags:\n  a:\n    type: boolean # inline\n    # inside a\n    default: on\n\n  # about b\n  b:\n    type: string\n\nsegments:\n  s:\n    keys: [x]\n";

    #[test]
    fn extracts_definitions_with_inner_comments() {
        let a = extract(FILE, "flags", "a").unwrap();
        assert_eq!(
            a.text,
            "  a:\n    type: boolean # inline\n    # inside a\n    default: on\n"
        );
        let b = extract(FILE, "flags", "b").unwrap();
        assert_eq!(b.text, "  b:\n    type: string\n");
        assert_eq!(b.leading, "  # about b\n");
        assert!(matches!(
            extract(FILE, "flags", "c"),
            Err(EditError::Missing)
        ));
    }

    #[test]
    fn replaces_and_appends_in_place() {
        let def = YamlDef {
            text: "    b:\n      type: integer\n".into(),
            indent: 4,
            leading: "    # new b\n".into(),
        };
        let replaced = upsert(Some(FILE), "flags", "b", &def).unwrap();
        assert_eq!(
            replaced,
            FILE.replace("  b:\n    type: string\n", "  b:\n    type: integer\n")
        );
        let def_c = YamlDef {
            text: "  c:\n    type: float\n".into(),
            indent: 2,
            leading: String::new(),
        };
        let added = upsert(Some(FILE), "flags", "c", &def_c).unwrap();
        assert!(
            added.contains("  b:\n    type: string\n\n  c:\n    type: float\n\nsegments:"),
            "{added}"
        );
        let seg = upsert(
            Some("flags:\n  a: {type: boolean}\n"),
            "segments",
            "s",
            &def_c,
        )
        .unwrap();
        assert_eq!(
            seg,
            "flags:\n  a: {type: boolean}\n\nsegments:\n  c:\n    type: float\n"
        );
        let empty = upsert(Some("flags: {}  # none yet\n"), "flags", "c", &def_c).unwrap();
        assert_eq!(empty, "flags: # none yet\n  c:\n    type: float\n");
        assert!(upsert(Some("flags: {a: {type: boolean}}\n"), "flags", "c", &def_c).is_err());
    }

    #[test]
    fn emitted_yaml_reads_back() {
        let v = serde_json::json!({"type": "boolean", "variants": {"on": true, "off": false}, "default": "off",
            "rules": [{"name": "r", "when": {"attr": "country", "op": "in", "values": ["DE", "true"]}, "serve": "on"}],
            "description": "a: b"});
        let def = emit("x", &v);
        let doc = format!("flags:\n{}", def.text);
        let node = parse_document(&doc, Format::Yaml).unwrap();
        assert_eq!(node.get("flags").unwrap().get("x").unwrap().to_json(), v);
    }
}
