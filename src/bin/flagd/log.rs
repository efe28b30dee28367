//! flagd's text log: every field of every event escaped, so that what a
//! token's `sub`, a flag file or a peer holds cannot write a control
//! character, an escape sequence or a line of its own into the log, nor a
//! field that is not there (docs/security.md, "Output").
//!
//! A value is written bare when it is one plain word (`flag=checkout`),
//! else quoted as Rust quotes a string (`actor="alice \"bob\""`), with
//! control characters, bidi controls and line separators as escapes
//! (`\u{1b}`). The message is written bare, its controls escaped. The JSON
//! log (`--log-format json`) is JSON, which quotes every string itself.

use std::fmt;

use hotswap_flags_core::escape::{controls, is_hazard};
use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;

/// The fields formatter of flagd's text log.
#[derive(Debug, Clone, Copy, Default)]
pub struct EscapedFields;

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut visitor = Visitor {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct Visitor<'a, 'w> {
    writer: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Visitor<'_, '_> {
    fn write(&mut self, field: &Field, text: &str) {
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        let sep = if std::mem::take(&mut self.first) {
            ""
        } else {
            " "
        };
        self.result = if field.name() == "message" {
            write!(self.writer, "{sep}{}", controls(text))
        } else {
            write!(self.writer, "{sep}{}={}", field.name(), value(text))
        };
    }
}

impl Visit for Visitor<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.write(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.write(field, &format!("{value:?}"));
    }
}

/// A field's value: bare when it is one plain word, else quoted.
pub fn value(text: &str) -> String {
    let plain = !text.is_empty()
        && !text
            .chars()
            .any(|c| c == ' ' || c == '"' || c == '=' || c == '\\' || is_hazard(c));
    if plain {
        text.to_owned()
    } else {
        controls(&format!("{text:?}")).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_words_or_quoted() {
        assert_eq!(value("checkout"), "checkout");
        assert_eq!(value("a b"), "\"a b\"");
        assert_eq!(value(""), "\"\"");
        assert_eq!(
            value("x\u{1b}[2J\nreason=forged \"y\""),
            "\"x\\u{1b}[2J\\nreason=forged \\\"y\\\"\""
        );
        assert_eq!(value("a\u{202e}b"), "\"a\\u{202e}b\"");
    }

    /// A token's subject steering a rollout reaches the text log escaped,
    /// the reason that quotes it too, and the line stays one line.
    #[test]
    fn the_text_log_escapes_every_field() {
        use std::io::Write;
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl Write for Buffer {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .fmt_fields(EscapedFields)
            .finish();
        let actor = "eve\u{1b}]8;;https://evil.example\u{7}\u{1b}[2J\nINFO forged";
        let reason = format!("paused by {actor}");
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(flag = %"checkout", reason = %reason, actor, "rollout {}", actor);
        });
        let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(!log.trim_end().chars().any(is_hazard), "{log:?}");
        assert!(
            log.contains(r#"flag=checkout reason="paused by eve\u{1b}]8;;https://evil.example\u{7}\u{1b}[2J\nINFO forged" actor="eve\u{1b}"#),
            "{log}"
        );
    }
}
