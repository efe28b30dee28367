//! Shared printing: tables for people, JSON for scripts.

use serde::Serialize;
use serde_json::Value;
use tabled::builder::Builder;
use tabled::settings::peaker::Priority;
use tabled::settings::{Style, Width};

/// Renders rows (the first is the header) as a table.
pub fn table<R, C>(rows: R) -> String
where
    R: IntoIterator<Item = Vec<C>>,
    C: Into<String>,
{
    built(rows).with(Style::sharp()).to_string()
}

/// The rows as a table, before its style.
fn built<R, C>(rows: R) -> tabled::Table
where
    R: IntoIterator<Item = Vec<C>>,
    C: Into<String>,
{
    let mut builder = Builder::new();
    for row in rows {
        builder.push_record(row.into_iter().map(Into::into).collect::<Vec<String>>());
    }
    builder.build()
}

/// A terminal's width that tables for people fit (README, "flagctl"):
/// long cells wrap at word boundaries, the widest column first.
pub const TERMINAL_WIDTH: usize = 100;

/// [`table`], with long cells wrapped so the table fits [`TERMINAL_WIDTH`].
pub fn table_fit<R, C>(rows: R) -> String
where
    R: IntoIterator<Item = Vec<C>>,
    C: Into<String>,
{
    built(rows)
        .with(Style::sharp())
        .with(
            Width::wrap(TERMINAL_WIDTH)
                .keep_words(true)
                .priority(Priority::max(true)),
        )
        .to_string()
}

/// Key/value pairs, keys aligned.
pub fn fields<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let pairs: Vec<(&str, String)> = pairs.into_iter().collect();
    let width = pairs
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("{k:<width$}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Prints a report as one pretty JSON document.
pub fn print_json(value: &impl Serialize) {
    // Reports are maps with string keys; anything else is a bug here.
    let text = serde_json::to_string_pretty(value).expect("a report renders as JSON");
    println!("{text}");
}

/// A JSON value the way a person reads it: strings bare, the rest as JSON.
pub fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
