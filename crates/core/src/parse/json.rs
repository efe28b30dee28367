//! JSON → [`Node`], strict RFC 8259 (no comments, no trailing commas).

use jsonc_parser::ast::{ObjectPropName, Value};
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};

use super::SyntaxError;
use super::node::{Key, KeyIndex, LineIndex, MAX_DEPTH, Node, NodeKind};
use crate::diagnostic::Pos;

fn strict() -> ParseOptions {
    ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// Parses one JSON document. An empty file is an empty map.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let lines = LineIndex::new(text);
    let parsed =
        parse_to_ast(text, &CollectOptions::default(), &strict()).map_err(|e| SyntaxError {
            pos: Pos::new(
                super::node::to_u32(e.line_display()),
                super::node::to_u32(e.column_display()),
            ),
            message: format!("invalid JSON: {}", e.kind()),
        })?;
    match parsed.value {
        Some(value) => convert(value, &lines, 0),
        None => Ok(Node::new(Pos::new(1, 1), NodeKind::Map(Vec::new()))),
    }
}

fn convert(value: Value<'_>, lines: &LineIndex<'_>, depth: usize) -> Result<Node, SyntaxError> {
    let pos = lines.pos(value_start(&value));
    if depth >= MAX_DEPTH {
        return Err(SyntaxError {
            pos,
            message: format!("document nests deeper than {MAX_DEPTH} levels"),
        });
    }
    let kind = match value {
        Value::NullKeyword(_) => NodeKind::Null,
        Value::BooleanLit(b) => NodeKind::Bool(b.value),
        Value::StringLit(s) => NodeKind::Str(s.value.into_owned()),
        Value::NumberLit(n) => number(n.value).ok_or_else(|| SyntaxError {
            pos,
            message: format!("`{}` is not a number", n.value),
        })?,
        Value::Array(arr) => NodeKind::Seq(
            arr.elements
                .into_iter()
                .map(|v| convert(v, lines, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(obj) => {
            let mut entries: Vec<(Key, Node)> = Vec::with_capacity(obj.properties.len());
            let mut keys = KeyIndex::default();
            for prop in obj.properties {
                let (name, key_start) = match prop.name {
                    ObjectPropName::String(s) => (s.value.into_owned(), s.range.start),
                    ObjectPropName::Word(w) => (w.value.to_owned(), w.range.start),
                };
                let key_pos = lines.pos(key_start);
                if let Some(first) = keys.earlier(&entries, &name) {
                    return Err(SyntaxError {
                        pos: key_pos,
                        message: format!(
                            "duplicate key `{name}` (first defined at line {})",
                            entries[first].0.pos.line
                        ),
                    });
                }
                let node = convert(prop.value, lines, depth + 1)?;
                entries.push((Key { name, pos: key_pos }, node));
            }
            NodeKind::Map(entries)
        }
    };
    Ok(Node::new(pos, kind))
}

fn value_start(value: &Value<'_>) -> usize {
    match value {
        Value::StringLit(v) => v.range.start,
        Value::NumberLit(v) => v.range.start,
        Value::BooleanLit(v) => v.range.start,
        Value::Object(v) => v.range.start,
        Value::Array(v) => v.range.start,
        Value::NullKeyword(v) => v.range.start,
    }
}

fn number(text: &str) -> Option<NodeKind> {
    let is_integer = !text.contains(['.', 'e', 'E']);
    if is_integer && let Ok(i) = text.parse::<i64>() {
        return Some(NodeKind::Int(i));
    }
    text.parse::<f64>().ok().map(NodeKind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_types() {
        let doc = parse("{\n  \"a\": {\"b\": 1.5, \"c\": [true, null, 7]}\n}").unwrap();
        let a = doc.get("a").unwrap();
        assert_eq!(a.pos, Pos::new(2, 8));
        assert_eq!(a.get("b").unwrap().kind, NodeKind::Float(1.5));
        assert_eq!(a.entry("c").unwrap().0.pos, Pos::new(2, 19));
    }

    #[test]
    fn strictness() {
        assert!(parse("{\"a\": 1,}").is_err());
        assert!(parse("{\"a\": 1 // no\n}").is_err());
        assert!(parse("{\"a\": 1, \"a\": 2}").is_err());
        let long: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        assert!(parse(&format!("{{{}}}", long.join(",\n"))).is_ok());
        let err = parse(&format!("{{{},\n\"k3\": 0}}", long.join(",\n"))).unwrap_err();
        assert!(
            err.message.contains("first defined at line 4"),
            "{}",
            err.message
        );
        let err = parse("{\n  \"a\": tru\n}").unwrap_err();
        assert_eq!(err.pos.line, 2);
    }
}
