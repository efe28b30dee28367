//! Text for people and renderers: what a flag file, a file name, a token or
//! a command line holds is shown so that it cannot pass for output of our
//! own (docs/security.md, "Output").
//!
//! - Terminals and logs: [`controls`] writes every control character, bidi
//!   control and line or paragraph separator as a visible escape (`\n`,
//!   `\u{1b}`), so no escape sequence, OSC 8 link or reordering reaches a
//!   terminal, and no value starts a line of its own.
//! - Markdown ([`markdown`]): what the input holds is a code span whose
//!   fence is longer than any run of backticks in it, its newlines
//!   neutralised; code spans render no HTML, link, heading, list or
//!   @mention.
//! - Sentences that mix our words with the input's ([`Words`]) keep the two
//!   apart until they are rendered, each output its own way.
//!
//! A leaf: it imports nothing of this crate.

use std::borrow::Cow;
use std::fmt::Write as _;

pub mod markdown;
mod words;

pub use words::Words;

/// Whether `c` must not reach a terminal or a log as it is: a C0 or C1
/// control character (ESC, the newline, CSI and OSC among them) or DEL, a
/// bidi control (which reorders what is shown, as in "Trojan Source"), or
/// the Unicode line and paragraph separators.
pub fn is_hazard(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// `s` with every [hazard](is_hazard) written as a visible escape: `\n`,
/// `\r`, `\t`, else `\u{1b}` (hexadecimal, as Rust writes it). Everything
/// else is left as it is, backslashes included.
pub fn controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hazard) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_hazard(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_written_as_escapes() {
        assert_eq!(controls("plain → text"), "plain → text");
        assert!(matches!(controls("plain"), Cow::Borrowed(_)));
        assert_eq!(controls("a\nb\tc\rd"), "a\\nb\\tc\\rd");
        assert_eq!(controls("\u{1b}[2J"), "\\u{1b}[2J");
        assert_eq!(
            controls("\u{1b}]8;;https://evil.example\u{1b}\\x\u{1b}]8;;\u{7}"),
            "\\u{1b}]8;;https://evil.example\\u{1b}\\x\\u{1b}]8;;\\u{7}"
        );
        assert_eq!(controls("\u{9b}\u{9d}\u{7f}"), "\\u{9b}\\u{9d}\\u{7f}");
        assert_eq!(controls("a\u{202e}b\u{2066}c"), "a\\u{202e}b\\u{2066}c");
        assert_eq!(controls("a\u{2028}b"), "a\\u{2028}b");
    }

    #[test]
    fn hazards_are_controls_bidi_and_separators() {
        for c in [
            '\0', '\n', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{200f}', '\u{2069}',
        ] {
            assert!(is_hazard(c), "{c:?}");
        }
        for c in ['a', ' ', '→', 'é', '\u{200d}', '`', '<'] {
            assert!(!is_hazard(c), "{c:?}");
        }
    }
}
