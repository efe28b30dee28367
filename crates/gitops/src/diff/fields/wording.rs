//! The words for values: numbers as people write them, JSON values in a
//! sentence, lists of names shortened, salts.

use serde_json::Value;

/// A number as people write it: `50`, `33.3`, `0.05`.
pub fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// A JSON value for a sentence: strings bare, the rest compact JSON, long
/// values shortened.
pub fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => n.as_f64().map_or_else(|| n.to_string(), num),
        other => other.to_string(),
    };
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// Items joined by commas, the first eight of a longer list and how many
/// more.
fn list(items: &[String]) -> String {
    const MAX: usize = 8;
    if items.len() > MAX {
        format!("{} (+{} more)", items[..MAX].join(", "), items.len() - MAX)
    } else {
        items.join(", ")
    }
}

/// What changed between two lists of names: `+ a, b, − c`, or `reordered`.
pub(super) fn list_delta(before: Option<&[String]>, after: Option<&[String]>) -> String {
    let (xs, ys) = (before.unwrap_or_default(), after.unwrap_or_default());
    let added: Vec<String> = ys.iter().filter(|k| !xs.contains(k)).cloned().collect();
    let removed: Vec<String> = xs.iter().filter(|k| !ys.contains(k)).cloned().collect();
    let mut parts = added_removed(&added, &removed);
    if parts.is_empty() {
        parts.push("reordered".to_owned());
    }
    parts.join(", ")
}

/// `+ a, b` for what was added and `− c` for what was removed, each left
/// out when empty.
pub(super) fn added_removed(added: &[String], removed: &[String]) -> Vec<String> {
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("+ {}", list(added)));
    }
    if !removed.is_empty() {
        parts.push(format!("− {}", list(removed)));
    }
    parts
}

/// A split's or a rollout's salt: `` `s2` ``, or `(default)`.
pub(super) fn salt_text(s: Option<&str>) -> String {
    s.map_or_else(|| "(default)".to_owned(), |s| format!("`{s}`"))
}
