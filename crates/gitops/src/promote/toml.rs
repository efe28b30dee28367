//! Edits of TOML flag files through `toml_edit`, which keeps the layout and
//! comments of everything it does not touch. A definition copied from a
//! TOML source keeps its own tables and comments; one converted from YAML or
//! JSON gets a generated layout (a table per flag, sections for maps and
//! arrays of tables directly under it, inline values deeper down).

use serde_json::Value;
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table};

use crate::branch::EditError;

fn parse(text: &str) -> Result<DocumentMut, EditError> {
    text.parse::<DocumentMut>()
        .map_err(|e| EditError::Parse(e.to_string()))
}

/// The definition `section.key` of a TOML file, as an item.
pub fn extract(text: &str, section: &str, key: &str) -> Result<Item, EditError> {
    let doc = parse(text)?;
    doc.get(section)
        .and_then(|s| s.get(key))
        .cloned()
        .ok_or(EditError::Missing)
}

fn value(v: &Value) -> Option<toml_edit::Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64()?.into(),
        },
        Value::String(s) => s.as_str().into(),
        Value::Array(items) => {
            let mut a = Array::new();
            for item in items.iter().filter_map(value) {
                a.push(item);
            }
            a.into()
        }
        Value::Object(map) => {
            let mut t = InlineTable::new();
            for (k, v) in map {
                if let Some(v) = value(v) {
                    t.insert(k, v);
                }
            }
            t.into()
        }
    })
}

fn table(map: &serde_json::Map<String, Value>, depth: usize) -> Table {
    let mut t = Table::new();
    for (k, v) in map {
        let item = match v {
            Value::Object(m) if depth == 0 && !m.is_empty() => Item::Table(table(m, depth + 1)),
            Value::Array(items)
                if depth == 0 && !items.is_empty() && items.iter().all(Value::is_object) =>
            {
                let mut a = ArrayOfTables::new();
                for item in items {
                    if let Value::Object(m) = item {
                        a.push(table(m, depth + 1));
                    }
                }
                Item::ArrayOfTables(a)
            }
            other => match value(other) {
                Some(v) => Item::Value(v),
                None => continue,
            },
        };
        t.insert(k, item);
    }
    t
}

/// A definition converted from its JSON form.
pub fn emit(v: &Value) -> Item {
    match v {
        Value::Object(m) => Item::Table(table(m, 0)),
        other => value(other).map_or(Item::None, Item::Value),
    }
}

/// Forgets where the source document placed the item's tables, so they are
/// written where they are inserted.
fn clear_positions(item: &mut Item) {
    match item {
        Item::Table(t) => {
            t.set_position(None);
            for (_, child) in t.iter_mut() {
                clear_positions(child);
            }
        }
        Item::ArrayOfTables(a) => {
            for t in a.iter_mut() {
                t.set_position(None);
                for (_, child) in t.iter_mut() {
                    clear_positions(child);
                }
            }
        }
        _ => {}
    }
}

/// Removes `section.key` (with its sub-tables) from a TOML file; the rest
/// keeps its layout and comments (`flagctl retire`).
pub fn remove(text: &str, section: &str, key: &str) -> Result<String, EditError> {
    let mut doc = parse(text)?;
    let sec = doc
        .get_mut(section)
        .and_then(Item::as_table_like_mut)
        .ok_or(EditError::Missing)?;
    sec.remove(key).ok_or(EditError::Missing)?;
    Ok(doc.to_string())
}

/// Writes `section.key` into a TOML file (`None`: a new file). An existing
/// definition is replaced where it stands and keeps the comment above it; a
/// new one goes after the section's last definition.
pub fn upsert(
    target: Option<&str>,
    section: &str,
    key: &str,
    item: &Item,
) -> Result<String, EditError> {
    let mut doc = parse(target.unwrap_or(""))?;
    let mut item = item.clone();
    clear_positions(&mut item);
    if !doc.contains_key(section) {
        let mut t = Table::new();
        t.set_implicit(true);
        doc.insert(section, Item::Table(t));
    }
    let sec = doc
        .get_mut(section)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| EditError::Unsupported(format!("`{section}` is not a table")))?;
    if let Some(old) = sec.get(key) {
        if let (Some(old_t), Item::Table(new_t)) = (old.as_table(), &mut item) {
            let prefix = old_t.decor().prefix().cloned();
            if let Some(p) = prefix {
                new_t.decor_mut().set_prefix(p);
            }
        }
    } else if let Item::Table(new_t) = &mut item
        && target.is_some_and(|t| !t.trim().is_empty())
        && new_t
            .decor()
            .prefix()
            .is_none_or(|p| p.as_str().is_none_or(|s| !s.starts_with('\n')))
    {
        // A blank line before a new section, like the others.
        let existing = new_t
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_owned();
        new_t.decor_mut().set_prefix(format!("\n{existing}"));
    }
    sec.insert(key, item);
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# head\n\n# about a\n[flags.a]\ntype = \"boolean\" # inline\ndefault = \"on\"\n\n[flags.a.variants]\non = true\n\n# about b\n[flags.b]\ntype = \"string\"\ndefault = \"x\"\n\n[flags.b.variants]\nx = \"X\"\n";

    #[test]
    fn replace_keeps_neighbours_and_comments() {
        let src = "[flags.b]\n# new b\ntype = \"integer\"\ndefault = \"one\"\n\n[flags.b.variants]\none = 1\n";
        let item = extract(src, "flags", "b").unwrap();
        let out = upsert(Some(FILE), "flags", "b", &item).unwrap();
        assert!(out.starts_with("# head\n\n# about a\n[flags.a]\ntype = \"boolean\" # inline\ndefault = \"on\"\n\n[flags.a.variants]\non = true\n\n# about b\n[flags.b]\n"), "{out}");
        assert!(out.contains("type = \"integer\""), "{out}");
        assert!(out.contains("[flags.b.variants]\none = 1"), "{out}");
        let added = upsert(
            Some(FILE),
            "flags",
            "c",
            &extract(src, "flags", "b").unwrap(),
        )
        .unwrap();
        assert!(added.starts_with(FILE), "{added}");
        assert!(added.contains("[flags.c]"), "{added}");
    }

    #[test]
    fn converted_definitions_read_back() {
        let v = serde_json::json!({"type": "boolean", "variants": {"on": true}, "default": "on",
            "rules": [{"name": "r", "when": {"attr": "a", "op": "eq", "value": 1.5}, "serve": "on"}]});
        let out = upsert(None, "flags", "x", &emit(&v)).unwrap();
        let node = hotswap_flags_core::parse::parse_document(
            &out,
            hotswap_flags_core::parse::Format::Toml,
        )
        .unwrap();
        assert_eq!(node.get("flags").unwrap().get("x").unwrap().to_json(), v);
    }
}
