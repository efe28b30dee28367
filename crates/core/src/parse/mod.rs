//! Text → document tree → model, for YAML, JSON and TOML alike.

pub mod de;
pub mod json;
pub mod node;
pub mod toml;
pub mod yaml;

use std::fmt;
use std::path::Path;

pub use de::{DeError, DeErrorKind, from_node};
pub use node::{Key, Node, NodeKind};

use crate::diagnostic::{Diagnostic, KeyPath, Pos};

/// The three formats a flag file (or `flags.toml`) may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `.yaml`, `.yml`
    Yaml,
    /// `.json`
    Json,
    /// `.toml`
    Toml,
}

impl Format {
    /// The format a file name's extension says, if it names one of ours.
    pub fn from_path(path: impl AsRef<Path>) -> Option<Format> {
        match path.as_ref().extension()?.to_str()? {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
            Format::Toml => "TOML",
        })
    }
}

/// Text that is not well-formed YAML, JSON or TOML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub pos: Pos,
    /// The parser's complaint.
    pub message: String,
}

impl SyntaxError {
    /// As a diagnostic at the document root.
    pub fn into_diagnostic(self) -> Diagnostic {
        Diagnostic::error(KeyPath::root(), self.message).at(self.pos)
    }
}

/// Parses text in the given format into a document tree.
pub fn parse_document(text: &str, format: Format) -> Result<Node, SyntaxError> {
    match format {
        Format::Yaml => yaml::parse(text),
        Format::Json => json::parse(text),
        Format::Toml => toml::parse(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_document_in_three_formats() {
        let yaml = parse_document("a:\n  b: [1, x]\n  c: {d: true}\n", Format::Yaml).unwrap();
        let json =
            parse_document(r#"{"a": {"b": [1, "x"], "c": {"d": true}}}"#, Format::Json).unwrap();
        let toml = parse_document("[a]\nb = [1, \"x\"]\nc = { d = true }\n", Format::Toml).unwrap();
        assert_eq!(yaml.to_json(), json.to_json());
        assert_eq!(yaml.to_json(), toml.to_json());
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(Format::from_path("a/b.yml"), Some(Format::Yaml));
        assert_eq!(Format::from_path("b.JSON"), None);
        assert_eq!(Format::from_path("README.md"), None);
    }
}
