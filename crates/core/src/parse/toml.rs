//! TOML → [`Node`]. Datetimes become strings in their RFC 3339 form, so a
//! TOML `start = 2025-12-01T00:00:00Z` reads like the YAML string.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::SyntaxError;
use super::node::{Key, LineIndex, MAX_DEPTH, Node, NodeKind};

/// Parses one TOML document.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let lines = LineIndex::new(text);
    let table = DeTable::parse(text).map_err(|e| {
        let mut message = format!("invalid TOML: {}", e.message().trim_end());
        // toml says only "duplicate key"; name it, as YAML and JSON do.
        if let Some(key) = e
            .span()
            .filter(|_| e.message().trim_end() == "duplicate key")
            .and_then(|s| text.get(s))
        {
            message.push_str(&format!(" `{key}`"));
        }
        SyntaxError {
            pos: lines.pos(e.span().map_or(0, |s| s.start)),
            message,
        }
    })?;
    // The root is line 1 (a document's own span starts at its first table).
    let kind = convert_table(table.into_inner(), &lines, 0)?;
    Ok(Node::new(lines.pos(0), kind))
}

fn convert_table(
    table: DeTable<'_>,
    lines: &LineIndex<'_>,
    depth: usize,
) -> Result<NodeKind, SyntaxError> {
    let mut entries = Vec::with_capacity(table.len());
    for (key, value) in table {
        let key = Key {
            pos: lines.pos(key.span().start),
            name: key.into_inner().into_owned(),
        };
        entries.push((key, convert(value, lines, depth + 1)?));
    }
    Ok(NodeKind::Map(entries))
}

fn convert(
    value: Spanned<DeValue<'_>>,
    lines: &LineIndex<'_>,
    depth: usize,
) -> Result<Node, SyntaxError> {
    let pos = lines.pos(value.span().start);
    if depth >= MAX_DEPTH {
        return Err(SyntaxError {
            pos,
            message: format!("document nests deeper than {MAX_DEPTH} levels"),
        });
    }
    let kind = match value.into_inner() {
        DeValue::String(s) => NodeKind::Str(s.into_owned()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => NodeKind::Int(n),
            Err(_) => {
                return Err(SyntaxError {
                    pos,
                    message: format!("integer `{i}` does not fit in 64 bits"),
                });
            }
        },
        DeValue::Float(f) => match f.as_str() {
            "inf" | "+inf" => NodeKind::Float(f64::INFINITY),
            "-inf" => NodeKind::Float(f64::NEG_INFINITY),
            "nan" | "+nan" | "-nan" => NodeKind::Float(f64::NAN),
            text => NodeKind::Float(text.parse().map_err(|_| SyntaxError {
                pos,
                message: format!("`{text}` is not a number"),
            })?),
        },
        DeValue::Boolean(b) => NodeKind::Bool(b),
        DeValue::Datetime(d) => NodeKind::Str(d.to_string()),
        DeValue::Array(items) => NodeKind::Seq(
            items
                .into_iter()
                .map(|v| convert(v, lines, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        DeValue::Table(t) => convert_table(t, lines, depth)?,
    };
    Ok(Node::new(pos, kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Pos;

    #[test]
    fn tables_keep_order_and_positions() {
        let doc =
            parse("[flags.b]\ntype = \"boolean\"\n\n[flags.a]\ntype = \"string\"\nw = [1, 2.5]\n")
                .unwrap();
        let flags = doc.get("flags").unwrap();
        let NodeKind::Map(entries) = &flags.kind else {
            panic!("not a map")
        };
        let names: Vec<_> = entries.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        let a = flags.get("a").unwrap();
        assert_eq!(a.get("type").unwrap().pos, Pos::new(5, 8));
        assert_eq!(a.entry("w").unwrap().0.pos, Pos::new(6, 1));
        assert_eq!(a.get("w").unwrap().to_json(), serde_json::json!([1, 2.5]));
    }

    #[test]
    fn datetimes_become_strings() {
        let doc = parse("at = 2025-12-01T00:00:00Z\n").unwrap();
        assert_eq!(
            doc.get("at").unwrap().kind,
            NodeKind::Str("2025-12-01T00:00:00Z".into())
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a = 1\nb = \n").unwrap_err();
        assert_eq!(err.pos.line, 2, "{err:?}");
    }
}
