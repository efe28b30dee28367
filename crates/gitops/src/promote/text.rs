//! Small text helpers shared by the format editors: positions to offsets,
//! lines, indentation.

use hotswap_flags_core::diagnostic::Pos;

/// Byte offsets of line starts (line 1 starts at 0).
pub fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    starts
}

/// The byte offset of a 1-based line (past the end: the text's length).
pub fn line_offset(starts: &[usize], text: &str, line: u32) -> usize {
    starts
        .get((line as usize).saturating_sub(1))
        .copied()
        .unwrap_or(text.len())
}

/// The byte offset of a position (columns count characters).
pub fn offset_of(text: &str, pos: Pos) -> usize {
    let starts = line_starts(text);
    let start = line_offset(&starts, text, pos.line);
    let rest = &text[start..];
    rest.char_indices()
        .nth((pos.col as usize).saturating_sub(1))
        .map_or(text.len(), |(i, _)| start + i)
}

/// Leading spaces of a line.
pub fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Shifts every non-blank line by `delta` spaces (removing at most the
/// spaces a line has). `skip_first` leaves the first line alone (for a
/// value that continues a line already indented).
pub fn reindent(text: &str, delta: isize, skip_first: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if (skip_first && i == 0) || line.trim().is_empty() || delta == 0 {
            out.push_str(if line.trim().is_empty() && line.ends_with('\n') {
                "\n"
            } else {
                line
            });
            continue;
        }
        if delta > 0 {
            out.extend(std::iter::repeat_n(' ', delta.unsigned_abs()));
            out.push_str(line);
        } else {
            let cut = indent_of(line).min(delta.unsigned_abs());
            out.push_str(&line[cut..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_reindent() {
        let text = "ab\nçd: x\n";
        assert_eq!(offset_of(text, Pos::new(2, 3)), 6);
        assert_eq!(
            reindent("  a:\n    b\n\n  c\n", 2, false),
            "    a:\n      b\n\n    c\n"
        );
        assert_eq!(reindent("    a:\n  b\n", -4, true), "    a:\nb\n");
    }
}
