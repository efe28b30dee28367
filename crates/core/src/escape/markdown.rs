//! Markdown (CommonMark with GitHub's tables) for pull-request comments,
//! reports and commit messages, which GitHub renders: what the input holds
//! goes in a code span ([`code`], [`code_in_table`]) or a fenced block
//! ([`fenced`]), where nothing is markup; our own words go through
//! [`text`].
//!
//! Escaping free text with backslashes would not do for the input: GitHub
//! links @mentions, e-mail addresses and URLs in text after the Markdown
//! is parsed, whatever was escaped, and never inside code.

use std::borrow::Cow;

use super::controls;

/// The longest run of `c` in `s`.
fn longest_run(s: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for x in s.chars() {
        run = if x == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// `s` as an inline code span: hazards written as escapes (a newline would
/// end a table row, a blank line the paragraph), fenced by one backtick
/// more than the longest run of backticks in it, padded with a space each
/// side when it starts or ends with a backtick or a space (CommonMark
/// strips one of each).
pub fn code(s: &str) -> String {
    span(&controls(s))
}

/// [`code`] for a cell of a table: a `|` ends a cell even inside a code
/// span, so each is escaped (`\|`, which GitHub shows as `|`), and a
/// backslash before one doubled so that it cannot escape the escape.
pub fn code_in_table(s: &str) -> String {
    span(&pipes(&controls(s)))
}

fn span(content: &str) -> String {
    if content.is_empty() {
        return "` `".to_owned();
    }
    let fence = "`".repeat(longest_run(content, '`') + 1);
    let pad = !content.chars().all(|c| c == ' ')
        && (content.starts_with(['`', ' ']) || content.ends_with(['`', ' ']));
    let pad = if pad { " " } else { "" };
    format!("{fence}{pad}{content}{pad}{fence}")
}

/// Every `|` as `\|`, a backslash right before one as `\\`.
fn pipes(s: &str) -> Cow<'_, str> {
    if !s.contains('|') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 4);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Our own words as Markdown text: hazards written as escapes, and the
/// characters that start emphasis, links, images, HTML, entities, code,
/// headings, strikethrough and table cells escaped with a backslash. Not
/// for what the input holds (see the module's note): use [`code`].
pub fn text(s: &str) -> String {
    let s = controls(s);
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A fenced code block of `lines`, hazards in each written as escapes (so
/// that no line holds a line of its own), fenced by at least three
/// backticks and one more than the longest run of backticks in them: no
/// line can close it.
pub fn fenced<'a>(info: &str, lines: impl IntoIterator<Item = &'a str>) -> String {
    let lines: Vec<Cow<'_, str>> = lines.into_iter().map(controls).collect();
    let longest = lines.iter().map(|l| longest_run(l, '`')).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let mut out = format!("{fence}{info}\n");
    for l in &lines {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_outlast_the_backticks_inside() {
        assert_eq!(code("on"), "`on`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("``x"), "``` ``x ```");
        assert_eq!(code("x`"), "`` x` ``");
        assert_eq!(code(" a "), "`  a  `");
        assert_eq!(code(""), "` `");
        assert_eq!(code("   "), "`   `");
        assert_eq!(
            code("off</code>\n\n<h1>LGTM</h1>"),
            "`off</code>\\n\\n<h1>LGTM</h1>`"
        );
    }

    #[test]
    fn cells_escape_pipes_and_the_backslash_before_one() {
        assert_eq!(code_in_table("a|b"), "`a\\|b`");
        assert_eq!(code_in_table("a\\|b"), "`a\\\\\\|b`");
        assert_eq!(code_in_table("a\\b"), "`a\\b`");
    }

    #[test]
    fn text_escapes_markup() {
        assert_eq!(text("50 % → 70 %"), "50 % → 70 %");
        assert_eq!(
            text("[x](y) <b> *e* _u_ |"),
            "\\[x\\](y) \\<b\\> \\*e\\* \\_u\\_ \\|"
        );
        assert_eq!(text("a\nb"), "a\\\\nb");
    }

    #[test]
    fn fences_outlast_the_lines() {
        assert_eq!(fenced("text", ["a", "b"]), "```text\na\nb\n```\n");
        assert_eq!(
            fenced("text", ["x\n```\n# LGTM", "````"]),
            "`````text\nx\\n```\\n# LGTM\n````\n`````\n"
        );
    }
}
