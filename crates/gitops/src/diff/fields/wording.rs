//! The words for values: numbers as people write them, JSON values in a
//! sentence, lists of names shortened, salts.

use hotswap_flags_core::escape::Words;
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
fn list(items: &[String]) -> Words {
    const MAX: usize = 8;
    let shown = items.iter().take(MAX).map(|i| Words::new().bare(i));
    let words = Words::join(shown, ", ");
    if items.len() > MAX {
        words.ours(format!(" (+{} more)", items.len() - MAX))
    } else {
        words
    }
}

/// What changed between two lists of names: `+ a, b, − c`, or `reordered`.
pub(super) fn list_delta(before: Option<&[String]>, after: Option<&[String]>) -> Words {
    let (xs, ys) = (before.unwrap_or_default(), after.unwrap_or_default());
    let added: Vec<String> = ys.iter().filter(|k| !xs.contains(k)).cloned().collect();
    let removed: Vec<String> = xs.iter().filter(|k| !ys.contains(k)).cloned().collect();
    let mut parts = added_removed(&added, &removed);
    if parts.is_empty() {
        parts.push(Words::from("reordered"));
    }
    Words::join(parts, ", ")
}

/// `+ a, b` for what was added and `− c` for what was removed, each left
/// out when empty.
pub(super) fn added_removed(added: &[String], removed: &[String]) -> Vec<Words> {
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(Words::from("+ ").then(list(added)));
    }
    if !removed.is_empty() {
        parts.push(Words::from("− ").then(list(removed)));
    }
    parts
}

/// A split's or a rollout's salt: `` `s2` ``, or `(default)`.
pub(super) fn salt_text(s: Option<&str>) -> Words {
    s.map_or_else(|| Words::from("(default)"), |s| Words::new().quoted(s))
}
