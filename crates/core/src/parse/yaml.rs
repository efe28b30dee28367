//! YAML → [`Node`], with YAML 1.2 core-schema scalars.
//!
//! YAML 1.2 matters for flags: `on`/`off`/`yes`/`no` are strings, so
//! `variants: { on: true, off: false }` means what it says.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, SpannedEventReceiver, Tag};

use super::SyntaxError;
use super::node::{Key, KeyIndex, LineIndex, MAX_DEPTH, MAX_NODES, Node, NodeKind, to_u32};
use crate::diagnostic::Pos;

/// Parses one YAML document. An empty file is an empty map.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        return Err(explain(text, &e));
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder
        .root
        .unwrap_or_else(|| Node::new(Pos::new(1, 1), NodeKind::Map(Vec::new()))))
}

/// A syntax error as the file's author can act on it: at the line that is
/// wrong, saying what to change (docs/flag-format.md, "Validation"). The
/// parser stops where the structure it expected broke, which for an
/// indentation slip or an unclosed `{` is often the line after the
/// mistake, and words it in its own grammar's terms ("block mapping",
/// "indicator"); the shapes below are recognized from the text, and
/// anything else keeps the parser's words.
fn explain(text: &str, e: &ScanError) -> SyntaxError {
    let m = e.marker();
    let info = e.info();
    let offset = text
        .char_indices()
        .nth(m.index())
        .map_or(text.len(), |(i, _)| i);
    let at_marker = Pos::new(to_u32(m.line()), to_u32(m.col() + 1));
    let lines = Lines::new(text);
    let explained = if info.contains("found a tab") {
        // The parser points at the scalar before the tab: show the tab.
        text[offset..].find('\t').map(|tab| {
            (
                LineIndex::new(text).pos(offset + tab),
                format!("{info} (indent with spaces, not tabs)"),
            )
        })
    } else if info == "mapping values are not allowed in this context" {
        lines.colon_in_value(m.line(), offset, at_marker)
    } else if info.contains("did not find expected '-' indicator") {
        lines.not_a_list_item(m.line())
    } else if info == "while parsing a block mapping, did not find expected key" {
        lines.misindented_key(m.line())
    } else if info.starts_with("while parsing a flow") {
        flow_not_closed(text, offset, at_marker)
    } else {
        None
    };
    let (pos, message) = explained.unwrap_or_else(|| (at_marker, plain_words(info)));
    SyntaxError {
        pos,
        message: format!("invalid YAML: {message}"),
    }
}

/// The parser's complaint where no shape above explains it, in the
/// file's terms where its wording is its grammar's.
fn plain_words(info: &str) -> String {
    match info {
        "while parsing a block mapping, did not find expected key" => {
            "this line does not continue the map above it: check its indentation, and that it reads `key: value`".into()
        }
        "while parsing a block collection, did not find expected '-' indicator" => {
            "this line is inside a list but does not start with `- `: check its indentation".into()
        }
        "mapping values are not allowed in this context" => {
            "`: ` is not allowed here: quote a value that contains it, or check this line's indentation against the line above".into()
        }
        "simple key expect ':'" => "expected `:` after this key".into(),
        other => other.to_owned(),
    }
}

/// The file's lines, for reading its indentation.
struct Lines<'a> {
    lines: Vec<&'a str>,
    text: &'a str,
}

/// A key as a line shows it: `name:` after spaces and list dashes.
struct LineKey<'a> {
    /// 0-based column of the key's first character: its indentation.
    col: usize,
    name: &'a str,
    /// What follows `name:`, comments and spaces aside.
    value: &'a str,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            lines: text.lines().collect(),
            text,
        }
    }

    /// Line `n` (1-based).
    fn get(&self, n: usize) -> Option<&'a str> {
        self.lines.get(n.checked_sub(1)?).copied()
    }

    fn is_content(line: &str) -> bool {
        let t = line.trim();
        !t.is_empty() && !t.starts_with('#')
    }

    fn indent(line: &str) -> usize {
        line.len() - line.trim_start_matches(' ').len()
    }

    /// The nearest line above line `n` holding more than a comment.
    fn content_before(&self, n: usize) -> Option<usize> {
        (1..n)
            .rev()
            .find(|&i| self.get(i).is_some_and(Self::is_content))
    }

    /// The nearest line below line `n` holding more than a comment.
    fn content_after(&self, n: usize) -> Option<usize> {
        (n + 1..=self.lines.len()).find(|&i| self.get(i).is_some_and(Self::is_content))
    }

    /// The key line `n` starts with, if it starts with one.
    fn key(&self, n: usize) -> Option<LineKey<'a>> {
        let line = self.get(n)?;
        let mut rest = line.trim_start_matches(' ');
        while let Some(after) = rest.strip_prefix('-').filter(|a| a.starts_with(' ')) {
            rest = after.trim_start_matches(' ');
        }
        let col = line.len() - rest.len();
        let colon = rest.find(':')?;
        let name = &rest[..colon];
        let after = &rest[colon + 1..];
        let plain = !name.is_empty()
            && !name.contains(['{', '[', '"', '\'', '#', ' '])
            && (after.is_empty() || after.starts_with(' '));
        let value = after.split(" #").next().unwrap_or("").trim();
        plain.then_some(LineKey { col, name, value })
    }

    fn key_pos(&self, n: usize, key: &LineKey<'_>) -> Pos {
        Pos::new(to_u32(n), to_u32(key.col + 1))
    }

    /// "mapping values are not allowed in this context": a `: ` where the
    /// parser was reading a plain value. Either the value on that line holds
    /// `: ` (quote it), or the line is a key the parser took as the next
    /// line of the value above, because one of the two is misindented.
    fn colon_in_value(&self, line: usize, offset: usize, at_marker: Pos) -> Option<(Pos, String)> {
        let here = self.key(line)?;
        let line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let marker_col = offset - line_start;
        if here.col + here.name.len() < marker_col {
            let opener = match here.value.chars().last() {
                Some('}') => Some('{'),
                Some(']') => Some('['),
                _ => None,
            };
            if let Some(opener) = opener.filter(|o| !here.value.contains(*o)) {
                // `variants: on: true, off: false }` — the `{` is missing.
                let close = here.value.chars().last().unwrap_or('}');
                return Some((
                    self.key_pos(line, &here),
                    format!(
                        "the value of `{}` ends with `{close}` but has no `{opener}` to open it: write `{}: {opener} … {close}`",
                        here.name, here.name
                    ),
                ));
            }
            // `key: value: more` — the value's own `: `.
            let quote = if here.value.contains('"') { '\'' } else { '"' };
            return Some((
                at_marker,
                format!(
                    "the value of `{}` contains `: `, which starts a key; put the value in quotes: {}: {quote}{}{quote}",
                    here.name, here.name, here.value
                ),
            ));
        }
        let above_n = self.content_before(line)?;
        let above = self.key(above_n)?;
        if here.col <= above.col {
            return None;
        }
        // Which of the two is off: the line above when the lines around it
        // sit at this line's indentation, or it sits at the indentation of
        // the key whose block it should be in; otherwise this line.
        let before = self.content_before(above_n).and_then(|n| self.key(n));
        let above_is_off =
            before.is_some_and(|b| b.col == here.col || (b.col == above.col && b.value.is_empty()));
        Some(if above_is_off {
            (
                self.key_pos(above_n, &above),
                format!(
                    "`{}` is indented {} spaces, less than the keys after it ({}), so they read as part of its value: indent it {} spaces like them",
                    above.name, above.col, here.col, here.col
                ),
            )
        } else {
            (
                self.key_pos(line, &here),
                format!(
                    "`{}` is indented {} spaces, more than `{}` above it ({}), so it reads as part of `{}`'s value: indent it {} spaces like `{}`",
                    here.name, here.col, above.name, above.col, above.name, above.col, above.name
                ),
            )
        })
    }

    /// "did not find expected '-' indicator": a line at the indentation of
    /// a list's dashes that is not an item.
    fn not_a_list_item(&self, line: usize) -> Option<(Pos, String)> {
        let text = self.get(line)?;
        let indent = Self::indent(text);
        let dash = (1..line).rev().find_map(|n| {
            let l = self.get(n)?;
            let t = l.trim_start_matches(' ');
            (Self::indent(l) == indent && t.starts_with("- "))
                .then(|| indent + 1 + t[1..].len() - t[1..].trim_start().len())
        })?;
        let what = match self.key(line) {
            Some(k) => format!("`{}`", k.name),
            None => format!("line {line}"),
        };
        Some((
            Pos::new(to_u32(line), to_u32(indent + 1)),
            format!(
                "{what} is indented {indent} spaces, like the `-` of each item of the list above, but is not an item: indent it {dash} spaces to belong to the item above, or start a new item with `- `"
            ),
        ))
    }

    /// "while parsing a block mapping, did not find expected key": a line
    /// indented to a column no key above it uses. The line may be the one
    /// that is off, or the line above it when that one is the first of its
    /// block and the lines after agree with this one.
    fn misindented_key(&self, line: usize) -> Option<(Pos, String)> {
        let here_text = self.get(line)?;
        let here = Self::indent(here_text);
        let levels: Vec<usize> = (1..line)
            .filter_map(|n| self.get(n))
            .filter(|l| Self::is_content(l))
            .map(Self::indent)
            .collect();
        if levels.is_empty() || levels.contains(&here) {
            return None;
        }
        let name = |n: usize| match self.key(n) {
            Some(k) => format!("`{}`", k.name),
            None => format!("line {n}"),
        };
        let this = name(line);
        let at_here = Pos::new(to_u32(line), to_u32(here + 1));
        let above_n = self.content_before(line)?;
        let above = Self::indent(self.get(above_n)?);
        let next = self
            .content_after(line)
            .and_then(|n| self.get(n))
            .map(Self::indent);
        if above > here {
            let opener = self
                .content_before(above_n)
                .and_then(|n| self.get(n))
                .map(Self::indent);
            if opener.is_some_and(|o| o < here) && next == Some(here) {
                // The first key of a block, deeper than the keys after it.
                return Some((
                    Pos::new(to_u32(above_n), to_u32(above + 1)),
                    format!(
                        "{} is indented {above} spaces, more than the keys after it ({here}): indent it {here} spaces like them",
                        name(above_n)
                    ),
                ));
            }
            if next == Some(above) {
                return Some((
                    at_here,
                    format!(
                        "{this} is indented {here} spaces, less than the keys around it ({above}): indent it {above} spaces like them"
                    ),
                ));
            }
        } else {
            // Deeper than the line above, whose value is complete.
            return Some((
                at_here,
                format!(
                    "{this} is indented {here} spaces, more than {} above it ({above}), whose value is complete: indent it {above} spaces like {}",
                    name(above_n),
                    name(above_n)
                ),
            ));
        }
        let mut levels = levels;
        levels.sort_unstable();
        levels.dedup();
        let levels: Vec<String> = levels.iter().map(ToString::to_string).collect();
        Some((
            at_here,
            format!(
                "{this} is indented {here} spaces, which no line above it uses ({}): indent it like the keys it belongs with",
                levels.join(", ")
            ),
        ))
    }
}

/// "while parsing a flow mapping/sequence, did not find expected …": a
/// `{` or `[` the parser was inside when the line ended its reading. When
/// nothing after closes it, that bracket is the mistake, on its own line.
/// Otherwise two entries lack the comma between them, where the parser
/// stopped.
fn flow_not_closed(text: &str, offset: usize, at_marker: Pos) -> Option<(Pos, String)> {
    let mut open: Vec<(usize, char)> = Vec::new();
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut prev = '\n';
    for (i, c) in text[..offset].char_indices() {
        match (quote, c) {
            _ if comment => comment = c != '\n',
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            // A quote opens a quoted scalar only where one can start (an
            // apostrophe inside a plain word is a letter).
            (None, '"' | '\'') if prev.is_whitespace() || "[{,:".contains(prev) => quote = Some(c),
            (None, '#') if prev.is_whitespace() => comment = true,
            (None, '{' | '[') => open.push((i, c)),
            (None, '}' | ']') => {
                open.pop();
            }
            _ => {}
        }
        prev = c;
    }
    let &(at, bracket) = open.last()?;
    let (close, what) = if bracket == '{' {
        ('}', "map")
    } else {
        (']', "list")
    };
    // Does anything after the parser's stop close it?
    let mut depth = 1usize;
    let closed_later = text[offset..].chars().any(|c| {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
        depth == 0
    });
    let lines = LineIndex::new(text);
    let open_pos = lines.pos(at);
    if let Some(other) = text[offset..]
        .chars()
        .next()
        .filter(|c| "}]".contains(*c) && *c != close)
    {
        return Some((
            at_marker,
            format!(
                "this `{other}` does not close the `{bracket}` at line {}, column {}: write `{close}` before it",
                open_pos.line, open_pos.col
            ),
        ));
    }
    if !closed_later && open_pos.line < at_marker.line {
        return Some((
            open_pos,
            format!("this `{bracket}` is never closed: end the {what} with `{close}`"),
        ));
    }
    // Two entries without a comma read as one value running into the next
    // key (`on: true off: false`): the comma belongs after the value before
    // that key, maybe on an earlier line.
    let before_key = text[..offset]
        .trim_end_matches(|c: char| !c.is_whitespace() && !",{[".contains(c))
        .trim_end();
    let comma_at = if before_key.ends_with([',', '{', '[']) || before_key.len() <= at {
        at_marker
    } else {
        lines.pos(before_key.len())
    };
    Some((
        comma_at,
        format!(
            "expected `,` or `{close}` here: separate the entries of a `{bracket} … {close}` {what} with commas"
        ),
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

    /// Every line shifted left or right, and every bracket, comma or
    /// colon removed, in turn: the explanation of whatever error follows
    /// never panics and always carries a position inside the file.
    #[test]
    fn explaining_any_slip_never_panics() {
        let sample = "flags:\n  checkout:\n    description: 'it''s new'\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rules:\n      - name: staff\n        when: { attr: email, op: in, value: [\"a@x.com\", \"b@x.com\"] }\n        serve: on\n    rollout:\n      strategy: canary\n      serve: on\n      stages:\n        - { percentage: 10, duration: 1h }\n        - { percentage: 100 }\n";
        assert!(parse(sample).is_ok());
        let lines: Vec<&str> = sample.lines().collect();
        let mut variants = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            for shift in [-3i32, -2, -1, 1, 2, 3] {
                let mut edited = lines.clone();
                let shifted = if shift < 0 {
                    line.replacen(&" ".repeat(shift.unsigned_abs() as usize), "", 1)
                } else {
                    format!("{}{line}", " ".repeat(shift as usize))
                };
                edited[i] = &shifted;
                variants.push(edited.join("\n"));
            }
        }
        for (i, c) in sample.char_indices() {
            if "{}[],:'\"".contains(c) {
                variants.push(format!("{}{}", &sample[..i], &sample[i + 1..]));
            }
        }
        let total_lines = u32::try_from(lines.len()).unwrap() + 1;
        for text in variants {
            if let Err(e) = parse(&text) {
                assert!(
                    e.pos.line >= 1 && e.pos.line <= total_lines,
                    "{e:?}\n{text}"
                );
                assert!(e.message.starts_with("invalid YAML: "), "{e:?}");
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).is_err());
    }
}
