//! YAML → [`Node`], with YAML 1.2 core-schema scalars.
//!
//! YAML 1.2 matters for flags: `on`/`off`/`yes`/`no` are strings, so
//! `variants: { on: true, off: false }` means what it says.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, SpannedEventReceiver, Tag};

use super::SyntaxError;
use super::node::{Key, KeyIndex, LineIndex, MAX_DEPTH, MAX_NODES, Node, NodeKind, to_u32};
use crate::diagnostic::Pos;

/// Parses one YAML document. An empty file is an empty map.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        let m = e.marker();
        let mut pos = Pos::new(to_u32(m.line()), to_u32(m.col() + 1));
        let mut message = format!("invalid YAML: {}", e.info());
        if e.info().contains("found a tab") {
            // The parser points at the scalar before the tab: show the tab.
            let start = text
                .char_indices()
                .nth(m.index())
                .map_or(text.len(), |(i, _)| i);
            if let Some(offset) = text[start..].find('\t') {
                pos = LineIndex::new(text).pos(start + offset);
                message.push_str(" (indent with spaces, not tabs)");
            }
        } else if e.info() == "mapping values are not allowed in this context" {
            message.push_str(" (quote a value that contains `: `)");
        } else if e.info().starts_with("while parsing a block")
            && let Some(note) = indentation_note(text, m.line())
        {
            message.push_str(&note);
        }
        return Err(SyntaxError { pos, message });
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder
        .root
        .unwrap_or_else(|| Node::new(Pos::new(1, 1), NodeKind::Map(Vec::new()))))
}

/// For a block-structure error at `line` (1-based): when that line is
/// indented to a column no line above it uses, the likely cause — an
/// inconsistent indentation — rather than the parser's wording alone
/// (docs/flag-format.md, "Finding mistakes").
fn indentation_note(text: &str, line: usize) -> Option<String> {
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let content = |l: &str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    let lines: Vec<&str> = text.lines().collect();
    let here = indent(lines.get(line.checked_sub(1)?)?);
    let above: Vec<usize> = lines[..line - 1]
        .iter()
        .filter(|l| content(l))
        .map(|l| indent(l))
        .collect();
    if above.is_empty() || above.contains(&here) {
        return None;
    }
    let mut levels = above;
    levels.sort_unstable();
    levels.dedup();
    let levels: Vec<String> = levels.iter().map(ToString::to_string).collect();
    Some(format!(
        " (inconsistent indentation: line {line} is indented {here} spaces, the lines above it {})",
        levels.join(", ")
    ))
}

/// A collection under construction.
enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Key, Node)>,
        keys: KeyIndex,
        pending_key: Option<Key>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    nodes: usize,
    error: Option<SyntaxError>,
}

fn pos_of(span: &Span) -> Pos {
    Pos::new(to_u32(span.start.line()), to_u32(span.start.col() + 1))
}

impl<'input> SpannedEventReceiver<'input> for Builder {
    fn on_event(&mut self, ev: Event<'input>, span: Span) {
        if self.error.is_some() {
            return;
        }
        let pos = pos_of(&span);
        if let Err(message) = self.handle(ev, pos) {
            self.error = Some(SyntaxError { pos, message });
        }
    }
}

impl Builder {
    fn handle(&mut self, ev: Event<'_>, pos: Pos) -> Result<(), String> {
        match ev {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err("a flag file holds one YAML document; found a second `---`".into());
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                if self.awaiting_key() {
                    return self.set_key(Key {
                        name: text.into_owned(),
                        pos,
                    });
                }
                let kind = resolve_scalar(&text, style, tag.as_deref())?;
                self.finish(Node::new(pos, kind), anchor)?;
            }
            Event::Alias(id) => {
                if self.awaiting_key() {
                    return Err("aliases cannot be used as map keys".into());
                }
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or("alias to an unknown anchor")?;
                self.count(count_nodes(&node))?;
                self.finish(node, 0)?;
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(pos, tag.as_deref(), "seq")?;
                self.stack.push(Frame::Seq {
                    pos,
                    anchor,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, tag) => {
                self.open(pos, tag.as_deref(), "map")?;
                self.stack.push(Frame::Map {
                    pos,
                    anchor,
                    entries: Vec::new(),
                    keys: KeyIndex::default(),
                    pending_key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { pos, anchor, items }) => {
                        (Node::new(pos, NodeKind::Seq(items)), anchor)
                    }
                    Some(Frame::Map {
                        pos,
                        anchor,
                        entries,
                        ..
                    }) => (Node::new(pos, NodeKind::Map(entries)), anchor),
                    None => return Err("unbalanced YAML collection".into()),
                };
                self.finish(node, anchor)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn awaiting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Map {
                pending_key: None,
                ..
            })
        )
    }

    fn set_key(&mut self, key: Key) -> Result<(), String> {
        if let Some(Frame::Map {
            entries,
            keys,
            pending_key,
            ..
        }) = self.stack.last_mut()
        {
            if let Some(first) = keys.earlier(entries, &key.name) {
                return Err(format!(
                    "duplicate key `{}` (first defined at line {})",
                    key.name, entries[first].0.pos.line
                ));
            }
            *pending_key = Some(key);
        }
        Ok(())
    }

    /// Checks a collection about to open: depth, key position, tag.
    fn open(&mut self, _pos: Pos, tag: Option<&Tag>, expected: &str) -> Result<(), String> {
        if self.awaiting_key() {
            return Err("only plain scalars can be map keys".into());
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("document nests deeper than {MAX_DEPTH} levels"));
        }
        if let Some(tag) = tag
            && !(tag.is_yaml_core_schema() && tag.suffix == expected)
        {
            return Err(format!("unsupported YAML tag `{tag}`"));
        }
        self.count(1)
    }

    fn count(&mut self, n: usize) -> Result<(), String> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(format!(
                "document has more than {MAX_NODES} values (alias expansion?)"
            ));
        }
        Ok(())
    }

    /// Hands a completed node to its parent (or makes it the root).
    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), String> {
        self.count(1)?;
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                Some(key) => entries.push((key, node)),
                None => return Err("only plain scalars can be map keys".into()),
            },
            None => self.root = Some(node),
        }
        Ok(())
    }
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.kind {
        NodeKind::Seq(items) => items.iter().map(count_nodes).sum(),
        NodeKind::Map(entries) => entries.iter().map(|(_, v)| count_nodes(v)).sum(),
        _ => 0,
    }
}

/// Resolves a scalar by the YAML 1.2 core schema (or its explicit core tag).
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<NodeKind, String> {
    if let Some(tag) = tag {
        if !tag.is_yaml_core_schema() {
            return Err(format!("unsupported YAML tag `{tag}`"));
        }
        return match tag.suffix.as_str() {
            "str" => Ok(NodeKind::Str(text.to_owned())),
            "null" => Ok(NodeKind::Null),
            "bool" => parse_bool(text)
                .map(NodeKind::Bool)
                .ok_or_else(|| format!("`{text}` is not a boolean")),
            "int" => parse_int(text)
                .map(NodeKind::Int)
                .ok_or_else(|| format!("`{text}` is not an integer")),
            "float" => parse_float(text)
                .or_else(|| parse_int(text).map(|i| i as f64))
                .map(NodeKind::Float)
                .ok_or_else(|| format!("`{text}` is not a number")),
            other => Err(format!("unsupported YAML tag `!!{other}` on a scalar")),
        };
    }
    if style != ScalarStyle::Plain {
        return Ok(NodeKind::Str(text.to_owned()));
    }
    Ok(match text {
        "" | "~" | "null" | "Null" | "NULL" => NodeKind::Null,
        _ => {
            if let Some(b) = parse_bool(text) {
                NodeKind::Bool(b)
            } else if let Some(i) = parse_int(text) {
                NodeKind::Int(i)
            } else if let Some(f) = parse_float(text) {
                NodeKind::Float(f)
            } else {
                NodeKind::Str(text.to_owned())
            }
        }
    })
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(hex) = text.strip_prefix("0x") {
        return digits(hex, 16)
            .then(|| i64::from_str_radix(hex, 16).ok())
            .flatten();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return digits(oct, 8)
            .then(|| i64::from_str_radix(oct, 8).ok())
            .flatten();
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits(unsigned, 10) {
        return None;
    }
    text.parse().ok()
}

fn parse_float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    match unsigned {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if text.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        ".nan" | ".NaN" | ".NAN" if unsigned == text => return Some(f64::NAN),
        _ => {}
    }
    // Core schema: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = all_digits(int_part)
        && frac_part.is_none_or(all_digits)
        && (!int_part.is_empty() || frac_part.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    if mantissa_ok && exponent_ok {
        text.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> NodeKind {
        parse(&format!("v: {text}\n"))
            .unwrap()
            .get("v")
            .unwrap()
            .kind
            .clone()
    }

    #[test]
    fn core_schema_scalars() {
        assert_eq!(kind("on"), NodeKind::Str("on".into()));
        assert_eq!(kind("off"), NodeKind::Str("off".into()));
        assert_eq!(kind("yes"), NodeKind::Str("yes".into()));
        assert_eq!(kind("true"), NodeKind::Bool(true));
        assert_eq!(kind("~"), NodeKind::Null);
        assert_eq!(kind("42"), NodeKind::Int(42));
        assert_eq!(kind("-0x1F"), NodeKind::Str("-0x1F".into()));
        assert_eq!(kind("0x1F"), NodeKind::Int(31));
        assert_eq!(kind("1.5"), NodeKind::Float(1.5));
        assert_eq!(kind("1e3"), NodeKind::Float(1000.0));
        assert_eq!(kind("'42'"), NodeKind::Str("42".into()));
        assert_eq!(kind("!!str 42"), NodeKind::Str("42".into()));
        assert_eq!(kind("1.2.3"), NodeKind::Str("1.2.3".into()));
        assert_eq!(
            kind("2025-12-01T00:00:00"),
            NodeKind::Str("2025-12-01T00:00:00".into())
        );
    }

    #[test]
    fn positions_are_one_based() {
        let doc = parse("flags:\n  a:\n    type: boolean\n").unwrap();
        let a = doc.get("flags").unwrap().get("a").unwrap();
        assert_eq!(a.get("type").unwrap().pos, Pos::new(3, 11));
        let (key, _) = a.entry("type").unwrap();
        assert_eq!(key.pos, Pos::new(3, 5));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.pos, Pos::new(3, 1));
        assert!(err.message.contains("duplicate key `a`"), "{}", err.message);
        // Long maps are indexed rather than scanned: same answer.
        let mut long: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        long.push_str("k3: again\n");
        let err = parse(&long).unwrap_err();
        assert_eq!(err.pos, Pos::new(41, 1));
        assert!(
            err.message
                .contains("duplicate key `k3` (first defined at line 4)"),
            "{}",
            err.message
        );
        long.truncate(long.len() - "k3: again\n".len());
        assert!(parse(&long).is_ok());
    }

    #[test]
    fn aliases_expand_and_second_documents_fail() {
        let doc = parse("x: &v [1, 2]\ny: *v\n").unwrap();
        assert_eq!(doc.get("y").unwrap().kind, doc.get("x").unwrap().kind);
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a:\n  b: [1, 2\n").unwrap_err();
        assert!(err.pos.line >= 2, "{err:?}");
    }

    #[test]
    fn empty_file_is_an_empty_map() {
        assert_eq!(parse("").unwrap().kind, NodeKind::Map(vec![]));
        assert_eq!(
            parse("# only a comment\n").unwrap().kind,
            NodeKind::Map(vec![])
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).is_err());
    }
}
