//! Shared printing: tables and fields for people, JSON for scripts, and the
//! terminal's side of the escaping layer (docs/security.md, "Output").
//!
//! Everything flagctl prints passes through [`emit`] (main.rs makes
//! `println!` and its kin call it), which writes every control character
//! but the newline, every bidi control and line separator as a visible
//! escape: no escape sequence or OSC 8 link from a flag file, a file name,
//! flagd's answers or a command line reaches a terminal. Tables and fields
//! escape the newline too, each value on the lines it is given.
//!
//! Tables and fields fit the terminal's width ([`width`]; README,
//! "Output"): identifiers (keys, e-mail addresses, names, numbers) keep
//! their width and are never split; free text wraps between words.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::{IsTerminal, Write as _};

use hotswap_flags_core::escape::{controls, is_hazard};
use serde::Serialize;
use serde_json::Value;
use tabled::builder::Builder;
use tabled::settings::Style;
use unicode_width::UnicodeWidthStr;

/// The width tables and wrapped text fit when the terminal's is unknown.
pub const DEFAULT_WIDTH: usize = 100;

/// Narrower than this, `COLUMNS` is taken as this.
const MIN_WIDTH: usize = 20;

/// The width to fit: `COLUMNS` when it holds a number, else the width of
/// the terminal on standard output, else [`DEFAULT_WIDTH`].
pub fn width() -> usize {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    columns
        .or_else(terminal_width)
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH)
}

/// The width of the terminal on standard output, if it is one.
fn terminal_width() -> Option<usize> {
    #[cfg(unix)]
    {
        if !std::io::stdout().is_terminal() {
            return None;
        }
        let mut size = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes one `winsize` through the pointer, which
        // points at a live, writable one.
        let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
        (ok && size.ws_col > 0).then_some(usize::from(size.ws_col))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Where [`emit`] writes.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    /// Standard output.
    Out,
    /// Standard error.
    Err,
}

/// `text` with every hazard but the newline written as an escape.
fn clean_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_hazard(c)) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(controls).collect();
    Cow::Owned(lines.join("\n"))
}

/// Writes what `println!` and its kin format (main.rs), hazards but the
/// newline escaped; panics on a failed write as they do.
pub fn emit(stream: Stream, args: fmt::Arguments<'_>, newline: bool) {
    let mut text = String::new();
    let _ = text.write_fmt(args);
    if newline {
        text.push('\n');
    }
    let text = clean_lines(&text);
    let result = match stream {
        Stream::Out => std::io::stdout().lock().write_all(text.as_bytes()),
        Stream::Err => std::io::stderr().lock().write_all(text.as_bytes()),
    };
    if let Err(e) = result {
        panic!("failed printing to {stream:?}: {e}");
    }
}

/// Prints a report as one pretty JSON document. Strings hold what they
/// hold; the hazards JSON leaves raw (DEL, C1 controls, bidi controls,
/// line separators) are written as `\uXXXX` escapes, which read back as
/// the same string.
pub fn print_json(value: &impl Serialize) {
    let out = json(value);
    if let Err(e) = std::io::stdout().lock().write_all(out.as_bytes()) {
        panic!("failed printing to stdout: {e}");
    }
}

/// What [`print_json`] prints.
fn json(value: &impl Serialize) -> String {
    // Reports are maps with string keys; anything else is a bug here.
    let text = serde_json::to_string_pretty(value).expect("a report renders as JSON");
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if c != '\n' && is_hazard(c) {
            // Every hazard is in the Basic Multilingual Plane.
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out.push('\n');
    out
}

/// How a column's cells may be laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    /// Identifiers, names, numbers: kept whole, never wrapped.
    Id,
    /// Free text: wrapped between words to fit.
    Text,
}

/// The display width of one line.
fn text_width(line: &str) -> usize {
    if line.is_ascii() {
        line.len()
    } else {
        UnicodeWidthStr::width(line)
    }
}

/// The widest line of `cell`.
fn cell_width(cell: &str) -> usize {
    cell.split('\n').map(text_width).max().unwrap_or(0)
}

/// The widest word of `cell`.
fn word_width(cell: &str) -> usize {
    cell.split(['\n', ' ']).map(text_width).max().unwrap_or(0)
}

/// `line` wrapped between words to `width`: a word wider than that keeps
/// its width on a line of its own.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut current, mut used) = (String::new(), 0);
    for word in line.split(' ') {
        let w = text_width(word);
        if current.is_empty() {
            used = w;
        } else if used + 1 + w > width {
            lines.push(std::mem::take(&mut current));
            used = w;
        } else {
            current.push(' ');
            used += 1 + w;
        }
        current.push_str(word);
    }
    lines.push(current);
    lines
}

/// A table's cell: one line, or several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// One line: a newline in it is escaped like any control character.
    One(String),
    /// Lines, each escaped, each on a line of its own.
    Lines(Vec<String>),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::One(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::One(s.to_owned())
    }
}

impl Cell {
    /// What the cell shows: every control character escaped, the lines of
    /// [`Cell::Lines`] apart.
    fn escaped(&self) -> String {
        match self {
            Cell::One(s) => controls(s).into_owned(),
            Cell::Lines(lines) => lines
                .iter()
                .map(|l| controls(l))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// Rows (the first is the header) as a table that fits [`width`]: `cols`
/// says which columns hold identifiers (kept whole) and which free text
/// (wrapped between words, the widest column first); the header's names
/// wrap between words in any column. When the identifiers alone leave no
/// room, each row is printed as fields instead.
pub fn table<R, C>(cols: &[Col], rows: R) -> String
where
    R: IntoIterator<Item = Vec<C>>,
    C: Into<Cell>,
{
    table_in(width(), cols, rows)
}

/// [`table`] for a given width.
pub fn table_in<R, C>(width: usize, cols: &[Col], rows: R) -> String
where
    R: IntoIterator<Item = Vec<C>>,
    C: Into<Cell>,
{
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| row.into_iter().map(|c| c.into().escaped()).collect())
        .collect();
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let kind = |c: usize| cols.get(c).copied().unwrap_or(Col::Text);
    let column = |c: usize| rows.iter().filter_map(move |r| r.get(c));
    let natural: Vec<usize> = (0..n)
        .map(|c| column(c).map(|s| cell_width(s)).max().unwrap_or(0))
        .collect();
    // The header names columns in words, which wrap in any column; an
    // identifier keeps its width.
    let header_words = |c: usize| {
        rows.first()
            .and_then(|h| h.get(c))
            .map_or(0, |h| word_width(h))
    };
    let least: Vec<usize> = (0..n)
        .map(|c| match kind(c) {
            Col::Id => column(c)
                .skip(1)
                .map(|s| cell_width(s))
                .max()
                .unwrap_or(0)
                .max(header_words(c)),
            Col::Text => column(c).map(|s| word_width(s)).max().unwrap_or(0),
        })
        .collect();
    // Style::sharp: `│ ` before each cell, ` ` after, `│` at the end.
    let overhead = 3 * n + 1;
    if least.iter().sum::<usize>() + overhead > width {
        return as_fields(width, &rows);
    }
    let mut widths = natural.clone();
    while widths.iter().sum::<usize>() + overhead > width {
        // The widest text column that can give a column up gives one.
        let Some(c) = (0..n)
            .filter(|&c| widths[c] > least[c])
            .max_by_key(|&c| (widths[c], std::cmp::Reverse(c)))
        else {
            break;
        };
        widths[c] -= 1;
    }
    let mut builder = Builder::new();
    for (r, row) in rows.iter().enumerate() {
        builder.push_record(row.iter().enumerate().map(|(c, cell)| {
            if widths[c] >= natural[c] || (r > 0 && kind(c) == Col::Id) {
                cell.clone()
            } else {
                cell.split('\n')
                    .flat_map(|line| wrap(line, widths[c]))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }));
    }
    builder.build().with(Style::sharp()).to_string()
}

/// Rows too wide for a table, each as fields under the header's names
/// (empty cells left out), the rows apart by a blank line.
fn as_fields(width: usize, rows: &[Vec<String>]) -> String {
    let Some((header, body)) = rows.split_first() else {
        return String::new();
    };
    let blocks: Vec<String> = body
        .iter()
        .map(|row| {
            fields_in(
                width,
                header
                    .iter()
                    .zip(row)
                    .filter(|(_, value)| !value.is_empty())
                    .map(|(name, value)| (name.as_str(), value.replace('\n', " "))),
            )
        })
        .collect();
    blocks.join("\n\n")
}

/// Key/value pairs, keys aligned, each value escaped and wrapped between
/// words to fit [`width`], its further lines under its first.
pub fn fields<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    fields_in(width(), pairs)
}

/// [`fields`] for a given width.
pub fn fields_in<'a>(width: usize, pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let pairs: Vec<(&str, String)> = pairs.into_iter().collect();
    let key_width = pairs.iter().map(|(k, _)| text_width(k)).max().unwrap_or(0);
    let value_width = width.saturating_sub(key_width + 2).max(MIN_WIDTH);
    let indent = " ".repeat(key_width + 2);
    pairs
        .iter()
        .map(|(k, v)| {
            let lines = wrap(&controls(v), value_width);
            let pad = " ".repeat(key_width - text_width(k));
            let line = format!("{k}{pad}  {}", lines.join(&format!("\n{indent}")));
            line.trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A paragraph of free text, escaped and wrapped between words to fit
/// `width` (from [`width`]), its further lines indented by `indent` spaces.
pub fn paragraph(width: usize, text: &str, indent: usize) -> String {
    let first = wrap(&controls(text), width);
    let (head, rest) = first.split_first().expect("wrap gives a line");
    let rest = rest.join(" ");
    let mut out = head.clone();
    if !rest.is_empty() {
        let pad = " ".repeat(indent);
        for line in wrap(&rest, width.saturating_sub(indent).max(MIN_WIDTH)) {
            out.push('\n');
            out.push_str(&pad);
            out.push_str(&line);
        }
    }
    out
}

/// A JSON value the way a person reads it: strings bare, the rest as JSON.
pub fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widest(text: &str) -> usize {
        text.lines().map(text_width).max().unwrap_or(0)
    }

    #[test]
    fn wrapping_keeps_words_whole() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(
            wrap("order-tracking-page is long", 5),
            ["order-tracking-page", "is", "long"]
        );
        assert_eq!(wrap("", 5), [""]);
    }

    #[test]
    fn a_table_wraps_text_and_keeps_identifiers() {
        let rows = vec![
            vec!["flag", "owner", "reasons"],
            vec![
                "order-tracking-page",
                "payments@example.com",
                "serves `on` to everyone in every environment since 2025-01-01 (300 days); not evaluated in the last 30 days; no reference in the code searched",
            ],
        ];
        for width in [60, 80, 100, 200] {
            let t = table_in(width, &[Col::Id, Col::Id, Col::Text], rows.clone());
            assert!(widest(&t) <= width, "{width}:\n{t}");
            assert!(t.contains("order-tracking-page"), "{t}");
            assert!(t.contains("payments@example.com"), "{t}");
        }
        // Wide enough: one line a row.
        let t = table_in(400, &[Col::Id, Col::Id, Col::Text], rows.clone());
        assert_eq!(t.lines().count(), 5, "{t}");
        // Too narrow for the identifiers: fields, still whole.
        let t = table_in(40, &[Col::Id, Col::Id, Col::Text], rows);
        assert!(t.starts_with("flag     order-tracking-page\n"), "{t}");
        assert!(widest(&t) <= 40, "{t}");
    }

    #[test]
    fn cells_and_fields_reach_no_terminal_raw() {
        let hostile = "a\u{1b}]8;;https://evil.example\u{7}b\nc\u{202e}d\u{9b}2J";
        let t = table_in(
            100,
            &[Col::Id, Col::Text],
            vec![vec!["k", "v"], vec![hostile, hostile]],
        );
        assert!(!t.chars().any(|c| c != '\n' && is_hazard(c)), "{t:?}");
        let f = fields_in(100, [("key", hostile.to_owned())]);
        assert_eq!(f.lines().count(), 1, "{f:?}");
        assert!(!f.chars().any(is_hazard), "{f:?}");
        let p = paragraph(100, hostile, 2);
        assert!(!p.chars().any(is_hazard), "{p:?}");
    }

    #[test]
    fn fields_wrap_under_their_first_line() {
        let reason = "the check error-rate failed 3 times in a row: 0.071 is above the maximum 0.05 (the failure limit is 3), so the rollout was rolled back to 0 %";
        let f = fields_in(
            80,
            [
                ("flag", "checkout".to_owned()),
                ("reason", reason.to_owned()),
            ],
        );
        assert!(widest(&f) <= 80, "{f}");
        let lines: Vec<&str> = f.lines().collect();
        assert!(lines.len() > 2, "{f}");
        assert!(lines[2].starts_with("        "), "{f}");
    }

    #[test]
    fn paragraphs_fit() {
        let p = paragraph(
            40,
            "Users affected: 10000 synthetic users (targetingKey only) evaluated on both sides",
            2,
        );
        assert!(widest(&p) <= 40, "{p}");
        assert!(p.lines().skip(1).all(|l| l.starts_with("  ")), "{p}");
    }

    #[test]
    fn json_keeps_what_strings_hold() {
        let held = "x\u{1b}[2J\u{7f}\u{202e}\u{85}\n";
        let out = json(&serde_json::json!({ "a": held }));
        assert!(
            !out.trim_end().chars().any(|c| c != '\n' && is_hazard(c)),
            "{out:?}"
        );
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["a"], held);
    }
}
