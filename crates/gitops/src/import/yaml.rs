//! Our flag files as YAML a person would write: block maps for the flag's
//! structure, flow maps (`{ attr: email, op: ends_with, value: "@x.com" }`)
//! for anything short, plain scalars where YAML 1.2 reads them back as the
//! same string, JSON's double quotes elsewhere (a JSON string is a YAML
//! double-quoted scalar). Deterministic: the same input renders the same
//! bytes.

use indexmap::IndexMap;
use serde_json::Value;

/// The widest a line may get before a map or list is written in block
/// style rather than inline.
const WIDTH: usize = 100;

/// A flag file (`flags:` and `segments:`) under a header comment.
pub fn render_flag_file(
    header: &str,
    flags: &IndexMap<String, Value>,
    segments: &IndexMap<String, Value>,
) -> String {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    for (name, items) in [("flags", flags), ("segments", segments)] {
        if items.is_empty() && name == "segments" {
            continue;
        }
        if items.is_empty() {
            out.push_str("flags: {}\n");
            continue;
        }
        out.push_str(name);
        out.push_str(":\n");
        for (key, value) in items {
            entry(&mut out, 2, key, value);
        }
    }
    out
}

/// `key: value` at `indent`, the value inline when it fits, else as a
/// block below.
fn entry(out: &mut String, indent: usize, key: &str, value: &Value) {
    let head = format!("{}{}:", " ".repeat(indent), scalar_str(key));
    let inline = flow(value);
    // A list of rules (maps with a `name`) is always a block.
    let rules = value
        .as_array()
        .is_some_and(|items| items.iter().any(|i| i.get("name").is_some()));
    if !is_collection(value)
        || is_empty(value)
        || (!rules && head.len() + 1 + inline.len() <= WIDTH)
    {
        out.push_str(&head);
        out.push(' ');
        out.push_str(&inline);
        out.push('\n');
        return;
    }
    out.push_str(&head);
    out.push('\n');
    block(out, indent + 2, value);
}

/// A non-empty map or list in block style at `indent`.
fn block(out: &mut String, indent: usize, value: &Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                entry(out, indent, k, v);
            }
        }
        Value::Array(items) => {
            for item in items {
                item_entry(out, indent, item);
            }
        }
        other => {
            out.push_str(&" ".repeat(indent));
            out.push_str(&flow(other));
            out.push('\n');
        }
    }
}

/// `- item` at `indent`: inline when it fits; a map's first key on the
/// dash's line and the rest below it.
fn item_entry(out: &mut String, indent: usize, item: &Value) {
    let pad = " ".repeat(indent);
    let inline = flow(item);
    // A rule (a map with a `name`) reads best as a block, each key on its line.
    let named = item.get("name").is_some();
    if !is_collection(item) || is_empty(item) || (!named && indent + 2 + inline.len() <= WIDTH) {
        out.push_str(&format!("{pad}- {inline}\n"));
        return;
    }
    match item {
        Value::Object(map) => {
            let mut first = true;
            for (k, v) in map {
                let mut one = String::new();
                entry(&mut one, indent + 2, k, v);
                if first {
                    // Replace the entry's indentation with `- `.
                    out.push_str(&pad);
                    out.push_str("- ");
                    out.push_str(&one[indent + 2..]);
                    first = false;
                } else {
                    out.push_str(&one);
                }
            }
        }
        _ => {
            out.push_str(&format!("{pad}-\n"));
            block(out, indent + 2, item);
        }
    }
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::Object(_) | Value::Array(_))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The value on one line, in flow style.
fn flow(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_str(s),
        Value::Array(items) => {
            if items.is_empty() {
                return "[]".to_owned();
            }
            let parts: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            if map.is_empty() {
                return "{}".to_owned();
            }
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar_str(k), flow(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
    }
}

/// A string as a plain scalar when YAML 1.2 (core schema) reads that back
/// as the same string, in flow context too; otherwise double-quoted.
fn scalar_str(s: &str) -> String {
    if is_plain(s) {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

fn is_plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '@'))
    {
        return false;
    }
    // What the core schema reads as something other than a string.
    !matches!(
        s,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "null" | "Null" | "NULL"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_are_plain_only_when_they_read_back_the_same() {
        assert_eq!(scalar_str("on"), "on");
        assert_eq!(scalar_str("new-checkout.v2"), "new-checkout.v2");
        assert_eq!(scalar_str("true"), "\"true\"");
        assert_eq!(scalar_str("42"), "\"42\"");
        assert_eq!(scalar_str("@example.com"), "\"@example.com\"");
        assert_eq!(scalar_str("a: b"), "\"a: b\"");
        assert_eq!(scalar_str(""), "\"\"");
        assert_eq!(scalar_str("x\ny"), "\"x\\ny\"");
    }

    #[test]
    fn short_maps_are_inline_long_ones_are_blocks() {
        let mut flags = IndexMap::new();
        flags.insert(
            "f".to_owned(),
            json!({
                "type": "boolean",
                "variants": {"on": true, "off": false},
                "default": "off",
                "rules": [{"name": "staff", "when": {"attr": "email", "op": "ends_with", "value": "@example.com"}, "serve": "on"}],
            }),
        );
        let text = render_flag_file("Imported.", &flags, &IndexMap::new());
        assert_eq!(
            text,
            "# Imported.\nflags:\n  f:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rules:\n      - name: staff\n        when: { attr: email, op: ends_with, value: \"@example.com\" }\n        serve: on\n"
        );
    }
}
