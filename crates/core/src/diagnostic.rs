//! Findings about flag files, located by file, line, column and key path.
//!
//! Every stage that reads user files (parsing, deserializing, compiling) reports
//! problems as [`Diagnostic`]s instead of failing fast, so one `flagctl validate`
//! run shows everything that is wrong. Positions are resolved late: the compiler
//! only knows the key path of a problem, and the loader maps that path back to a
//! line and column through the document tree it kept.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::escape::controls;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number in characters, starting at 1.
    pub col: u32,
}

impl Pos {
    /// Builds a position from 1-based line and column numbers.
    pub fn new(line: u32, col: u32) -> Self {
        Pos { line, col }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One step of a [`KeyPath`]: a map key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSeg {
    /// A key of a map.
    Key(String),
    /// An index into a sequence, starting at 0.
    Index(usize),
}

/// Where in a document a value sits, e.g. `flags.checkout.rules[2].serve`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct KeyPath(pub Vec<PathSeg>);

impl KeyPath {
    /// The empty path: the document root.
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// This path extended by a map key.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut segs = self.0.clone();
        segs.push(PathSeg::Key(key.into()));
        KeyPath(segs)
    }

    /// This path extended by a sequence index.
    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(PathSeg::Index(index));
        KeyPath(segs)
    }

    /// True for the document root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

/// Keys that are not plain identifiers are quoted so the path stays unambiguous.
fn needs_quotes(key: &str) -> bool {
    key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '$')
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSeg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if needs_quotes(k) {
                        write!(f, "{k:?}")?;
                    } else {
                        f.write_str(k)?;
                    }
                }
                PathSeg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// How serious a finding is. Errors make a load fail; warnings never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file cannot be served as written.
    Error,
    /// Suspicious but servable.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A finding about one place in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, relative to the repository root where there is one.
    /// `None` for inputs without files, such as a bundle.
    pub file: Option<String>,
    /// Line and column, once resolved.
    pub pos: Option<Pos>,
    /// The key path of the offending value.
    pub path: KeyPath,
    /// What is wrong, in one sentence without a trailing period.
    pub message: String,
    /// How to fix it, where we can tell ("did you mean `beta`?").
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `path`, in no file yet and without a position.
    pub fn error(path: KeyPath, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: None,
            pos: None,
            path,
            message: message.into(),
            hint: None,
        }
    }

    /// A warning at `path`.
    pub fn warning(path: KeyPath, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, message)
        }
    }

    /// The same finding with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same finding with an optional hint.
    pub fn with_hint_opt(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    /// The same finding placed in a file.
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// The same finding at a position.
    pub fn at(mut self, pos: Pos) -> Self {
        self.pos = Some(pos);
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `file:line:col: error: message (at path)`, then the hint on its own line.
/// Flat, as `flagctl validate --format json` lists findings: `{severity,
/// file, line, column, path, message, hint}`, the path in its written form
/// (`flags.checkout.rules[2]`).
impl Serialize for Diagnostic {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a> {
            severity: Severity,
            file: Option<&'a str>,
            line: Option<u32>,
            column: Option<u32>,
            path: String,
            message: &'a str,
            hint: Option<&'a str>,
        }
        Flat {
            severity: self.severity,
            file: self.file.as_deref(),
            line: self.pos.map(|p| p.line),
            column: self.pos.map(|p| p.col),
            path: self.path.to_string(),
            message: &self.message,
            hint: self.hint.as_deref(),
        }
        .serialize(s)
    }
}

/// `file:line:col: severity: message (at path)`, and the hint on a line of
/// its own: the only line break. What the parts quote from the input is
/// shown with its control characters escaped ([`controls`]), so a
/// finding prints as the lines it is and no escape sequence reaches a
/// terminal (docs/security.md, "Output").
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.as_deref().map(controls);
        match (file, self.pos) {
            (Some(file), Some(pos)) => write!(f, "{file}:{pos}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            (None, Some(pos)) => write!(f, "{pos}: ")?,
            (None, None) => {}
        }
        write!(f, "{}: {}", self.severity, controls(&self.message))?;
        if !self.path.is_root() {
            write!(f, " (at {})", controls(&self.path.to_string()))?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n    hint: {}", controls(hint))?;
        }
        Ok(())
    }
}

/// Suggests the closest candidate to a misspelled name, if one is close enough.
pub fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(wrong, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Sorts findings by file and position and drops exact repeats.
pub fn sort_diagnostics(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        (&a.file, a.pos, a.severity, &a.message).cmp(&(&b.file, b.pos, b.severity, &b.message))
    });
    diags.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display_quotes_odd_keys() {
        let p = KeyPath::root()
            .key("flags")
            .key("a.b")
            .key("rules")
            .index(2)
            .key("serve");
        assert_eq!(p.to_string(), "flags.\"a.b\".rules[2].serve");
    }

    #[test]
    fn display_escapes_what_it_quotes() {
        let d = Diagnostic::error(
            KeyPath::root().key("flags").key("x\u{1b}[2J"),
            "flag key `a\n```\n# LGTM` is invalid",
        )
        .in_file("envs/\u{1b}]8;;https://evil.example\u{7}a.yaml")
        .with_hint("see\r\u{202e}");
        assert_eq!(
            d.to_string(),
            "envs/\\u{1b}]8;;https://evil.example\\u{7}a.yaml: error: flag key `a\\n```\\n# LGTM` is invalid (at flags.\"x\\u{1b}[2J\")\n    hint: see\\r\\u{202e}"
        );
    }

    #[test]
    fn display_has_file_pos_path_and_hint() {
        let d = Diagnostic::error(
            KeyPath::root().key("flags").key("x"),
            "unknown segment `bta`",
        )
        .in_file("envs/a.yaml")
        .at(Pos::new(3, 7))
        .with_hint("did you mean `beta`?");
        assert_eq!(
            d.to_string(),
            "envs/a.yaml:3:7: error: unknown segment `bta` (at flags.x)\n    hint: did you mean `beta`?"
        );
    }

    #[test]
    fn suggestions_need_similarity() {
        assert_eq!(
            did_you_mean("beta-tester", ["beta-testers", "blocked"]).as_deref(),
            Some("did you mean `beta-testers`?")
        );
        assert_eq!(did_you_mean("zzz", ["beta-testers"]), None);
    }
}
