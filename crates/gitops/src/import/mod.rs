//! `flagctl import`: flags of another tool translated into our flag files.
//!
//! Each tool has a translator (`flagd`, and beside it others) that turns
//! one input document into a [`Translation`]: our flags as the model's JSON,
//! in the input's order, and every construct it could not express exactly,
//! with its JSON pointer in the input and the reason
//! (docs/migrating.md). Translators never approximate: what is not exact
//! is left out and reported.
//!
//! What is shared lives here: the report ([`ImportReport`]) and its two
//! renderings, and the writer ([`write()`]), which renders each translation
//! as a YAML flag file in the environment's directory — atomically, with a
//! comment naming its origin, byte-identical on a re-run — after checking
//! that the environment still validates with it, so bad input or a clash
//! writes nothing.

pub mod flagd;
pub mod unleash;
mod write;
mod yaml;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

pub use write::{ORIGIN_MARK, WriteError, write};
pub use yaml::render_flag_file;

/// One input document translated.
#[derive(Debug, Clone, Default)]
pub struct Translation {
    /// The input as named on the command line.
    pub source: String,
    /// The name of the flag file to write, without extension (the input's
    /// file stem).
    pub stem: String,
    /// Our flags by key, as the model's JSON (`docs/flag-format.md` §4), in
    /// the input's order.
    pub flags: IndexMap<String, Value>,
    /// Our segments by key, as the model's JSON.
    pub segments: IndexMap<String, Value>,
    /// What was left out, and why.
    pub untranslatable: Vec<Untranslatable>,
}

impl Translation {
    /// An empty translation of the input named `source`, whose flag file
    /// takes the input's file stem (made a safe file name; `tool` when
    /// nothing is left of it).
    pub(crate) fn empty(source: &str, tool: &str) -> Self {
        Translation {
            source: source.to_owned(),
            stem: stem(source, tool),
            ..Translation::default()
        }
    }
}

fn stem(source: &str, tool: &str) -> String {
    let name = std::path::Path::new(source)
        .file_stem()
        .map_or_else(|| tool.to_owned(), |s| s.to_string_lossy().into_owned());
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if clean.is_empty() || clean.starts_with('.') {
        format!("{tool}{clean}")
    } else {
        clean
    }
}

/// Input that is not a document of the tool imported from: nothing is
/// written.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}:{pos}: {message}")]
pub struct InputError {
    /// The input file.
    pub source_name: String,
    /// Where in it.
    pub pos: hotswap_flags_core::diagnostic::Pos,
    /// What is wrong.
    pub message: String,
}

/// A construct of the input that has no exact translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Untranslatable {
    /// The input file.
    pub source: String,
    /// The flag it belongs to, if any.
    pub flag: Option<String>,
    /// RFC 6901 JSON pointer to the construct in the input.
    pub pointer: String,
    /// Why it cannot be expressed exactly.
    pub reason: String,
    /// What was left out because of it.
    pub left_out: LeftOut,
}

/// What an untranslatable construct costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum LeftOut {
    /// The whole flag is not imported.
    Flag,
    /// The flag is imported without this part (which changes no answer's
    /// variant or value, e.g. metadata).
    Part,
}

/// A JSON pointer (RFC 6901) built one token at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pointer(String);

impl Pointer {
    /// The whole document: `""`.
    pub fn root() -> Self {
        Pointer(String::new())
    }

    /// This pointer extended by a key or index, escaped as RFC 6901 says.
    #[must_use]
    pub fn push(&self, token: impl std::fmt::Display) -> Self {
        let token = token.to_string().replace('~', "~0").replace('/', "~1");
        Pointer(format!("{}/{token}", self.0))
    }

    /// The pointer's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Pointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What `flagctl import` did: the files written, the flags translated and
/// what was left out. `--format json` prints it as it serializes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// The tool imported from (`flagd`).
    pub tool: String,
    /// The environment written into.
    pub env: String,
    /// Every file written (or found already identical).
    pub files: Vec<WrittenFile>,
    /// The flags translated, with the input each came from.
    pub translated: Vec<TranslatedFlag>,
    /// What was left out, and why.
    pub untranslatable: Vec<Untranslatable>,
    /// True when nothing was left out (the exit code is 0 exactly then).
    pub complete: bool,
}

/// A flag file written by an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WrittenFile {
    /// Relative to the repository root.
    pub path: String,
    /// How many flags it holds.
    pub flags: usize,
    /// False when the file already held exactly these bytes.
    pub changed: bool,
}

/// A flag translated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TranslatedFlag {
    /// The flag key.
    pub flag: String,
    /// The input file it came from.
    pub source: String,
    /// The file it was written to, relative to the repository root.
    pub path: String,
}

impl ImportReport {
    /// The report from what was written.
    pub fn new(
        tool: &str,
        env: &str,
        translations: &[Translation],
        files: Vec<WrittenFile>,
    ) -> Self {
        let mut translated = Vec::new();
        let mut untranslatable = Vec::new();
        for (t, file) in translations.iter().zip(&files) {
            translated.extend(t.flags.keys().map(|flag| TranslatedFlag {
                flag: flag.clone(),
                source: t.source.clone(),
                path: file.path.clone(),
            }));
            untranslatable.extend(t.untranslatable.iter().cloned());
        }
        ImportReport {
            tool: tool.to_owned(),
            env: env.to_owned(),
            complete: untranslatable.is_empty(),
            files,
            translated,
            untranslatable,
        }
    }

    /// The report for people: one line per file, then what was left out,
    /// each with its pointer and reason, then a summary line.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for f in &self.files {
            let state = if f.changed { "wrote" } else { "unchanged" };
            out.push_str(&format!(
                "{state} {} ({} flag{})\n",
                f.path,
                f.flags,
                plural(f.flags)
            ));
        }
        if !self.untranslatable.is_empty() {
            out.push_str("\nnot translated:\n");
            for u in &self.untranslatable {
                let what = match (u.left_out, &u.flag) {
                    (LeftOut::Flag, Some(flag)) => format!("flag `{flag}` left out"),
                    (LeftOut::Part, Some(flag)) => format!("flag `{flag}` imported without it"),
                    (_, None) => "left out".to_owned(),
                };
                out.push_str(&format!(
                    "  {}#{}: {} ({what})\n",
                    u.source, u.pointer, u.reason
                ));
            }
        }
        let left_out = self
            .untranslatable
            .iter()
            .filter(|u| u.left_out == LeftOut::Flag)
            .filter_map(|u| u.flag.as_deref())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let mark = if self.complete { "✓" } else { "✗" };
        out.push_str(&format!(
            "{mark} {} flag{} imported from {} into `{}`, {} left out, {} construct{} not translated\n",
            self.translated.len(),
            plural(self.translated.len()),
            self.tool,
            self.env,
            left_out,
            self.untranslatable.len(),
            plural(self.untranslatable.len()),
        ));
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
