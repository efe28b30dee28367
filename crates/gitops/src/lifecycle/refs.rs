//! Code references: where application code names a flag (docs/lifecycle.md,
//! "Code references").
//!
//! The walk is ripgrep's own (`ignore`: `.gitignore`, `.ignore` and hidden
//! files honoured, one thread per core) and the search one Aho-Corasick
//! automaton over every key at once, so a tree is read once whatever the
//! number of flags. A match counts only as a whole word: a key inside a
//! longer identifier (`pay-later-v2`, `is_pay_later_enabled`) is another
//! name. The same pass finds the string given to an OpenFeature evaluation
//! call (`getBooleanValue("…")`, `boolean_value("…")`, `BooleanValue(ctx,
//! "…")`): one that names no flag is a reference to a flag nobody defines.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use serde::Serialize;

use hotswap_flags_core::diagnostic::did_you_mean;

/// One place code names a flag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CodeRef {
    /// The file, as reached from the directory searched (`app/src/x.rs`).
    pub file: String,
    /// The line, 1-based.
    pub line: u32,
    /// The line's text, trimmed and shortened to 120 characters.
    pub text: String,
}

impl std::fmt::Display for CodeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A key given to an evaluation call that no environment defines.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UndefinedRef {
    /// The key as written in code.
    pub key: String,
    /// Where.
    #[serde(flatten)]
    pub at: CodeRef,
    /// The defined key it is closest to, if any is close.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

/// What a scan found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RefScan {
    /// Every reference, by flag key; keys without references are absent.
    pub refs: BTreeMap<String, Vec<CodeRef>>,
    /// Evaluation calls naming keys no environment defines.
    pub undefined: Vec<UndefinedRef>,
    /// Files searched (binary files and ignored ones are not).
    pub files: u64,
    /// Bytes searched.
    pub bytes: u64,
}

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
pub enum RefScanError {
    /// A directory to search does not exist.
    #[error("{0}: no such directory")]
    NoSuchDir(PathBuf),
    /// The automaton could not be built (too many or too long keys).
    #[error("cannot search for {count} keys: {source}")]
    Automaton {
        /// How many keys.
        count: usize,
        /// Why.
        source: aho_corasick::BuildError,
    },
}

/// The evaluation method names of the OpenFeature SDKs, in the spellings
/// the languages use; a call's first string argument is a flag key.
fn call_markers() -> Vec<String> {
    let types = [
        "Boolean", "String", "Integer", "Number", "Float", "Double", "Object",
    ];
    let mut out = Vec::new();
    for t in types {
        for what in ["Value", "Details"] {
            out.push(format!("{t}{what}("));
            out.push(format!("{t}{what}Async("));
            out.push(format!("{}_{}(", t.to_lowercase(), what.to_lowercase()));
        }
    }
    out
}

/// Searches `dirs` for `keys`. Keys that are not valid flag keys (see
/// docs/flag-format.md §4) are never found.
pub fn scan(dirs: &[PathBuf], keys: &[String]) -> Result<RefScan, RefScanError> {
    for dir in dirs {
        if !dir.is_dir() {
            return Err(RefScanError::NoSuchDir(dir.clone()));
        }
    }
    let Some((first, rest)) = dirs.split_first() else {
        return Ok(RefScan::default());
    };
    let searcher = Searcher::new(keys)?;
    let mut walk = ignore::WalkBuilder::new(first);
    for dir in rest {
        walk.add(dir);
    }
    // `.gitignore` counts in a source tree that is not (yet) a repository.
    walk.require_git(false);
    let found = Mutex::new(Vec::new());
    let (files, bytes) = (AtomicU64::new(0), AtomicU64::new(0));
    walk.build_parallel().run(|| {
        let mut local = Found::default();
        let mut buf = Vec::with_capacity(64 * 1024);
        let (searcher, found, files, bytes) = (&searcher, &found, &files, &bytes);
        Box::new(move |entry| {
            let Ok(entry) = entry else {
                return ignore::WalkState::Continue;
            };
            if entry.file_type().is_some_and(|t| t.is_file())
                && read(entry.path(), &mut buf)
                && !is_binary(&buf)
            {
                files.fetch_add(1, Ordering::Relaxed);
                bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
                searcher.search(entry.path(), &buf, &mut local);
                if !local.is_empty() {
                    found
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(std::mem::take(&mut local));
                }
            }
            ignore::WalkState::Continue
        })
    });
    let mut scan = RefScan {
        files: files.into_inner(),
        bytes: bytes.into_inner(),
        ..RefScan::default()
    };
    let found = found
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for part in found {
        for (key, at) in part.refs {
            scan.refs
                .entry(searcher.keys[key].clone())
                .or_default()
                .push(at);
        }
        for (key, at) in part.calls {
            scan.undefined.push(UndefinedRef {
                suggestion: did_you_mean(&key, searcher.keys.iter().map(String::as_str))
                    .and_then(|h| h.split('`').nth(1).map(str::to_owned)),
                key,
                at,
            });
        }
    }
    scan.refs.values_mut().for_each(|v| v.sort());
    scan.undefined.sort();
    Ok(scan)
}

/// Reads a file into `buf`; false if it cannot be read (gone, no right).
fn read(path: &Path, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    File::open(path)
        .and_then(|mut f| f.read_to_end(buf))
        .is_ok()
}

/// ripgrep's test: a NUL byte in the first 8 KiB makes a file binary.
fn is_binary(buf: &[u8]) -> bool {
    memchr::memchr(0, &buf[..buf.len().min(8192)]).is_some()
}

/// One thread's findings: (key index, place) and (undefined key, place).
#[derive(Default)]
struct Found {
    refs: Vec<(usize, CodeRef)>,
    calls: Vec<(String, CodeRef)>,
}

impl Found {
    fn is_empty(&self) -> bool {
        self.refs.is_empty() && self.calls.is_empty()
    }
}

/// The automaton: the keys first, then the call markers.
struct Searcher {
    keys: Vec<String>,
    automaton: AhoCorasick,
    defined: std::collections::HashSet<String>,
}

impl Searcher {
    fn new(keys: &[String]) -> Result<Self, RefScanError> {
        let keys: Vec<String> = keys
            .iter()
            .filter(|k| hotswap_flags_core::compile::check_key("flag key", k).is_ok())
            .cloned()
            .collect();
        let patterns = keys.iter().cloned().chain(call_markers());
        // A DFA searches fastest; its states are few for flag keys (a
        // thousand keys make a few megabytes), as for ripgrep's literals.
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(patterns)
            .map_err(|source| RefScanError::Automaton {
                count: keys.len(),
                source,
            })?;
        Ok(Searcher {
            defined: keys.iter().cloned().collect(),
            keys,
            automaton,
        })
    }

    fn search(&self, path: &Path, text: &[u8], found: &mut Found) {
        let mut lines = LineCounter::default();
        for m in self.automaton.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            let pattern = m.pattern().as_usize();
            if pattern < self.keys.len() {
                if is_whole_word(text, start, end) {
                    found.refs.push((pattern, lines.place(path, text, start)));
                }
            } else if let Some(key) = call_argument(&text[end..])
                && !self.defined.contains(key)
                && hotswap_flags_core::compile::check_key("flag key", key).is_ok()
            {
                found
                    .calls
                    .push((key.to_owned(), lines.place(path, text, start)));
            }
        }
    }
}

/// Counts lines up to each match, going forward only.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: u32,
}

impl LineCounter {
    fn place(&mut self, path: &Path, text: &[u8], at: usize) -> CodeRef {
        let newlines = memchr::memchr_iter(b'\n', &text[self.offset..at]).count();
        self.line += newlines as u32;
        self.offset = at;
        let line_start = memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1);
        let line_end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i);
        let line: String = String::from_utf8_lossy(&text[line_start..line_end])
            .trim()
            .chars()
            .take(120)
            .collect();
        CodeRef {
            file: path.display().to_string(),
            line: self.line + 1,
            text: line,
        }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Whether `text[start..end]` stands on its own: no identifier character
/// right before or after it (a `.` joining on to one counts as part of a
/// dotted identifier, `config.pay-later`).
fn is_whole_word(text: &[u8], start: usize, end: usize) -> bool {
    let before = |i: usize| text.get(i.checked_sub(1)?).copied();
    let joined_before = match before(start) {
        Some(b) if is_word_byte(b) => true,
        Some(b'.') => before(start - 1).is_some_and(|b| b.is_ascii_alphanumeric()),
        _ => false,
    };
    let joined_after = match text.get(end) {
        Some(&b) if is_word_byte(b) => true,
        Some(b'.') => text.get(end + 1).is_some_and(u8::is_ascii_alphanumeric),
        _ => false,
    };
    !joined_before && !joined_after
}

/// The first string literal among a call's arguments, on the same line and
/// before the call closes: `("key"`, `(ctx, "key"`, `(\n "key"` is not
/// looked for.
fn call_argument(after_paren: &[u8]) -> Option<&str> {
    let window = &after_paren[..after_paren.len().min(160)];
    let open = window
        .iter()
        .position(|b| matches!(b, b'"' | b'\'' | b'`' | b')' | b'\n'))?;
    let quote = window[open];
    if !matches!(quote, b'"' | b'\'' | b'`') {
        return None;
    }
    let body = &window[open + 1..];
    let close = body.iter().position(|&b| b == quote || b == b'\n')?;
    if body[close] != quote {
        return None;
    }
    std::str::from_utf8(&body[..close]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(keys: &[&str], text: &str) -> (Vec<(String, u32)>, Vec<String>) {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        let s = Searcher::new(&keys).unwrap();
        let mut found = Found::default();
        s.search(Path::new("f"), text.as_bytes(), &mut found);
        (
            found
                .refs
                .into_iter()
                .map(|(k, at)| (keys[k].clone(), at.line))
                .collect(),
            found.calls.into_iter().map(|(k, _)| k).collect(),
        )
    }

    #[test]
    fn whole_words_only() {
        let text = "a = \"pay-later\"\nb = \"pay-later-v2\"\nc = is_pay-later\nd = config.pay-later\ne = flags['pay-later'].\n";
        let (refs, _) = search(&["pay-later", "pay"], text);
        assert_eq!(
            refs,
            [("pay-later".to_owned(), 1), ("pay-later".to_owned(), 5)]
        );
    }

    #[test]
    fn the_longest_key_wins_and_lines_count() {
        let text = "x\n\nnew-checkout-flow checkout\n";
        let (refs, _) = search(&["checkout", "new-checkout-flow"], text);
        assert_eq!(
            refs,
            [
                ("new-checkout-flow".to_owned(), 3),
                ("checkout".to_owned(), 3)
            ]
        );
    }

    #[test]
    fn evaluation_calls_of_unknown_keys() {
        let text = "client.getBooleanValue(\"new-chekout-flow\", false)\nclient.BooleanValue(ctx, \"pay-later\", false)\nc.get_string_value('banner', 'x')\nc.getBooleanValue(flagKey)\n";
        let (refs, calls) = search(&["new-checkout-flow", "pay-later"], text);
        assert_eq!(refs, [("pay-later".to_owned(), 2)]);
        assert_eq!(calls, ["new-chekout-flow", "banner"]);
    }

    #[test]
    fn scans_directories_honouring_gitignore() {
        let tmp = tempfile::tempdir().unwrap();
        let w = |p: &str, t: &[u8]| {
            let p = tmp.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        };
        w(".gitignore", b"build/\n");
        w(
            "src/a.ts",
            b"// pay-later\nif (flags.isOn('pay-later')) {}\n",
        );
        w("build/a.js", b"'pay-later'\n");
        w("img.bin", b"\0pay-later");
        w("src/b.py", b"client.get_boolean_value('pay-latr', False)\n");
        let scan = scan(&[tmp.path().to_path_buf()], &["pay-later".to_owned()]).unwrap();
        let at: Vec<String> = scan.refs["pay-later"]
            .iter()
            .map(|r| format!("{}:{}", r.file.rsplit('/').next().unwrap(), r.line))
            .collect();
        assert_eq!(at, ["a.ts:1", "a.ts:2"]);
        assert_eq!(scan.undefined.len(), 1);
        assert_eq!(scan.undefined[0].key, "pay-latr");
        assert_eq!(scan.undefined[0].suggestion.as_deref(), Some("pay-later"));
        let missing = super::scan(&[tmp.path().join("nope")], &[]).unwrap_err();
        assert!(missing.to_string().ends_with("nope: no such directory"));
    }
}
