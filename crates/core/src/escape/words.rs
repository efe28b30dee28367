//! Sentences that mix our words with what the input holds.

use std::fmt;

use serde::{Serialize, Serializer};

use super::markdown;

/// One piece of a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Our own words.
    Ours(String),
    /// From the input, between backticks in plain text: `` rule `eu` ``.
    Quoted(String),
    /// From the input, bare in plain text: `default off → on`.
    Bare(String),
}

/// A sentence for people, our words kept apart from what the input holds
/// (names, values, file names) until it is rendered: plain text
/// ([`Display`](fmt::Display), and JSON, as it always read), or Markdown,
/// where what the input holds is a code span ([`Words::markdown`]).
///
/// ```
/// use hotswap_flags_core::escape::Words;
///
/// let w = Words::from("rule ").quoted("eu").ours(" serves ").bare("on");
/// assert_eq!(w.to_string(), "rule `eu` serves on");
/// assert_eq!(w.markdown(), "rule `eu` serves `on`");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Words(Vec<Part>);

impl Words {
    /// No words yet.
    pub fn new() -> Self {
        Words(Vec::new())
    }

    /// Our own words, never anything the input holds: they are shown as
    /// they are (Markdown escaped).
    #[must_use]
    pub fn ours(mut self, s: impl Into<String>) -> Self {
        let s = s.into();
        if !s.is_empty() {
            self.0.push(Part::Ours(s));
        }
        self
    }

    /// Something the input holds, between backticks in plain text.
    #[must_use]
    pub fn quoted(mut self, s: impl fmt::Display) -> Self {
        self.0.push(Part::Quoted(s.to_string()));
        self
    }

    /// Something the input holds, bare in plain text.
    #[must_use]
    pub fn bare(mut self, s: impl fmt::Display) -> Self {
        self.0.push(Part::Bare(s.to_string()));
        self
    }

    /// These words, then `more`.
    #[must_use]
    pub fn then(mut self, more: impl Into<Words>) -> Self {
        self.0.extend(more.into().0);
        self
    }

    /// `items` separated by `sep`, our words.
    pub fn join(items: impl IntoIterator<Item = Words>, sep: &str) -> Self {
        let mut out = Words::new();
        for (i, w) in items.into_iter().enumerate() {
            if i > 0 {
                out = out.ours(sep);
            }
            out = out.then(w);
        }
        out
    }

    /// These words without `suffix` at the end of their last piece, if it
    /// ends so (`checks` → `check`).
    #[must_use]
    pub fn trim_suffix(mut self, suffix: &str) -> Self {
        if let Some(Part::Ours(s) | Part::Quoted(s) | Part::Bare(s)) = self.0.last_mut()
            && let Some(kept) = s.strip_suffix(suffix)
        {
            s.truncate(kept.len());
        }
        self
    }

    /// Nothing at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// As Markdown text: our words escaped ([`markdown::text`]), each run of
    /// what the input holds one code span ([`markdown::code`]).
    pub fn markdown(&self) -> String {
        self.render(markdown::code)
    }

    /// [`Words::markdown`] for a cell of a table ([`markdown::code_in_table`]).
    pub fn markdown_cell(&self) -> String {
        self.render(markdown::code_in_table)
    }

    fn render(&self, code: fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut run = String::new();
        for part in &self.0 {
            match part {
                Part::Ours(s) => {
                    if !run.is_empty() {
                        out.push_str(&code(&run));
                        run.clear();
                    }
                    out.push_str(&markdown::text(s));
                }
                Part::Quoted(s) | Part::Bare(s) => run.push_str(s),
            }
        }
        if !run.is_empty() {
            out.push_str(&code(&run));
        }
        out
    }
}

impl fmt::Display for Words {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.0 {
            match part {
                Part::Ours(s) | Part::Bare(s) => f.write_str(s)?,
                Part::Quoted(s) => write!(f, "`{s}`")?,
            }
        }
        Ok(())
    }
}

impl From<&'static str> for Words {
    fn from(s: &'static str) -> Self {
        Words::new().ours(s)
    }
}

/// As its plain text.
impl Serialize for Words {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_markdown() {
        let w = Words::from("variant ")
            .quoted("off</code><h1>LGTM</h1>")
            .ours(" value ")
            .bare("a`b")
            .ours(" → ")
            .bare("x")
            .bare("y");
        assert_eq!(
            w.to_string(),
            "variant `off</code><h1>LGTM</h1>` value a`b → xy"
        );
        assert_eq!(
            w.markdown(),
            "variant `off</code><h1>LGTM</h1>` value ``a`b`` → `xy`"
        );
        assert_eq!(Words::from("a|b").markdown_cell(), "a\\|b");
        assert_eq!(Words::new().bare("a|b").markdown_cell(), "`a\\|b`");
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            format!("{:?}", w.to_string())
        );
    }

    #[test]
    fn joined() {
        let w = Words::join(["a", "b", "c"].map(|s| Words::new().bare(s)), ", ");
        assert_eq!(w.to_string(), "a, b, c");
        assert_eq!(w.markdown(), "`a`, `b`, `c`");
        assert!(Words::join([], ", ").is_empty());
        let checks = Words::from("rule ").quoted("a").ours(" checks");
        assert_eq!(checks.trim_suffix("s").to_string(), "rule `a` check");
    }
}
