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
//!
//! Memory stays bounded whatever the tree holds: a file is sniffed for
//! binary content before the rest is read, text is searched in chunks, and
//! only the first [`LISTED_PER_FLAG`] references of a flag (by file and
//! line) are kept, the rest counted. A path that cannot be walked or read
//! is reported, never skipped in silence: a flag without references is
//! only evidence when the whole tree was read.

use std::collections::{BTreeMap, BinaryHeap};
use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use serde::Serialize;

use hotswap_flags_core::diagnostic::did_you_mean;

/// References listed per flag, the first by file and line; the rest are
/// counted.
pub const LISTED_PER_FLAG: usize = 100;

/// Evaluation calls of undefined keys listed; the rest are counted.
pub const LISTED_UNDEFINED: usize = 1_000;

/// Unreadable paths listed; the rest are counted.
pub const LISTED_ERRORS: usize = 20;

/// The bytes ripgrep sniffs for a NUL to call a file binary.
const SNIFF: usize = 8 * 1024;

/// Bytes searched at a time.
const CHUNK: usize = 256 * 1024;

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
    /// The first [`LISTED_PER_FLAG`] references of each flag, by file and
    /// line; keys without references are absent.
    pub refs: BTreeMap<String, Vec<CodeRef>>,
    /// How many references each flag has, listed or not.
    pub counts: BTreeMap<String, u64>,
    /// Evaluation calls naming keys no environment defines (the first
    /// [`LISTED_UNDEFINED`] by place).
    pub undefined: Vec<UndefinedRef>,
    /// How many such calls there are, listed or not.
    pub undefined_count: u64,
    /// Files searched (binary files and ignored ones are not).
    pub files: u64,
    /// Bytes searched.
    pub bytes: u64,
    /// Paths that could not be walked or read (`path: why`, the first
    /// [`LISTED_ERRORS`]).
    pub errors: Vec<String>,
    /// How many paths could not be walked or read.
    pub error_count: u64,
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
    let total = Mutex::new(Collector::new(searcher.keys.len()));
    walk.build_parallel().run(|| {
        let mut thread = ThreadScan {
            local: Collector::new(searcher.keys.len()),
            into: &total,
        };
        let mut buf = Vec::with_capacity(CHUNK);
        let searcher = &searcher;
        Box::new(move |entry| {
            match entry {
                Ok(entry) if entry.file_type().is_some_and(|t| t.is_file()) => {
                    if let Err(e) = searcher.search_file(entry.path(), &mut buf, &mut thread.local)
                    {
                        thread
                            .local
                            .unreadable(format!("{}: {e}", entry.path().display()));
                    }
                }
                Ok(_) => {}
                Err(e) => thread.local.unreadable(e.to_string()),
            }
            ignore::WalkState::Continue
        })
    });
    let total = total
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(total.into_scan(&searcher.keys))
}

/// The smallest `cap` items offered, and how many were offered: bounded
/// memory, and the same list whatever order the threads found them in.
#[derive(Debug)]
struct Listed<T> {
    kept: BinaryHeap<T>,
    cap: usize,
    seen: u64,
}

impl<T: Ord> Listed<T> {
    fn new(cap: usize) -> Self {
        Listed {
            kept: BinaryHeap::new(),
            cap,
            seen: 0,
        }
    }

    /// Counts one more item; whether it would be kept, judged without
    /// building it: `before_largest` says whether it sorts before the
    /// largest item kept.
    fn count(&mut self, before_largest: impl FnOnce(&T) -> bool) -> bool {
        self.seen += 1;
        self.kept.len() < self.cap || self.kept.peek().is_some_and(before_largest)
    }

    /// Keeps an item that [`Listed::count`] admitted.
    fn keep(&mut self, item: T) {
        self.kept.push(item);
        if self.kept.len() > self.cap {
            self.kept.pop();
        }
    }

    fn merge(&mut self, other: Listed<T>) {
        self.seen += other.seen;
        for item in other.kept {
            self.keep(item);
        }
    }

    fn into_sorted(self) -> Vec<T> {
        self.kept.into_sorted_vec()
    }
}

/// What one thread (then all of them) found.
#[derive(Debug)]
struct Collector {
    /// By key index.
    refs: Vec<Listed<CodeRef>>,
    /// Place first, so the smallest are the first in the tree.
    calls: Listed<(CodeRef, String)>,
    errors: Listed<String>,
    files: u64,
    bytes: u64,
}

impl Collector {
    fn new(keys: usize) -> Self {
        Collector {
            refs: (0..keys).map(|_| Listed::new(LISTED_PER_FLAG)).collect(),
            calls: Listed::new(LISTED_UNDEFINED),
            errors: Listed::new(LISTED_ERRORS),
            files: 0,
            bytes: 0,
        }
    }

    fn unreadable(&mut self, why: String) {
        if self.errors.count(|largest| why < *largest) {
            self.errors.keep(why);
        }
    }

    fn merge(&mut self, other: Collector) {
        for (mine, theirs) in self.refs.iter_mut().zip(other.refs) {
            mine.merge(theirs);
        }
        self.calls.merge(other.calls);
        self.errors.merge(other.errors);
        self.files += other.files;
        self.bytes += other.bytes;
    }

    fn into_scan(self, keys: &[String]) -> RefScan {
        let mut scan = RefScan {
            files: self.files,
            bytes: self.bytes,
            undefined_count: self.calls.seen,
            error_count: self.errors.seen,
            errors: self.errors.into_sorted(),
            ..RefScan::default()
        };
        for (key, listed) in keys.iter().zip(self.refs) {
            if listed.seen > 0 {
                scan.counts.insert(key.clone(), listed.seen);
                scan.refs.insert(key.clone(), listed.into_sorted());
            }
        }
        scan.undefined = self
            .calls
            .into_sorted()
            .into_iter()
            .map(|(at, key)| UndefinedRef {
                suggestion: did_you_mean(&key, keys.iter().map(String::as_str))
                    .and_then(|h| h.split('`').nth(1).map(str::to_owned)),
                key,
                at,
            })
            .collect();
        scan.undefined.sort();
        scan
    }
}

/// A walker thread's findings, added to the total when the walk drops the
/// thread's visitor.
struct ThreadScan<'a> {
    local: Collector,
    into: &'a Mutex<Collector>,
}

impl Drop for ThreadScan<'_> {
    fn drop(&mut self) {
        let local = std::mem::replace(&mut self.local, Collector::new(0));
        self.into
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .merge(local);
    }
}

/// ripgrep's test: a NUL byte in the first 8 KiB makes a file binary.
fn is_binary(sniffed: &[u8]) -> bool {
    memchr::memchr(0, &sniffed[..sniffed.len().min(SNIFF)]).is_some()
}

/// The automaton: the keys first, then the call markers.
struct Searcher {
    keys: Vec<String>,
    automaton: AhoCorasick,
    defined: std::collections::HashSet<String>,
    /// Bytes kept from one chunk to the next when a chunk cannot end at a
    /// line's end: the longest pattern and a call's argument window.
    overlap: usize,
}

/// How far after a call marker its first string argument is looked for.
const CALL_WINDOW: usize = 160;

impl Searcher {
    fn new(keys: &[String]) -> Result<Self, RefScanError> {
        let keys: Vec<String> = keys
            .iter()
            .filter(|k| hotswap_flags_core::compile::check_key("flag key", k).is_ok())
            .cloned()
            .collect();
        let patterns: Vec<String> = keys.iter().cloned().chain(call_markers()).collect();
        let longest = patterns.iter().map(String::len).max().unwrap_or(0);
        // A DFA searches fastest; its states are few for flag keys (a
        // thousand keys make a few megabytes), as for ripgrep's literals.
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .map_err(|source| RefScanError::Automaton {
                count: keys.len(),
                source,
            })?;
        Ok(Searcher {
            defined: keys.iter().cloned().collect(),
            keys,
            automaton,
            overlap: longest + CALL_WINDOW + 1,
        })
    }

    /// Searches one file a chunk at a time. Chunks end at a line's end
    /// where one is near; otherwise the chunk's tail is searched again
    /// with the next, so no match is cut in two.
    fn search_file(
        &self,
        path: &Path,
        buf: &mut Vec<u8>,
        out: &mut Collector,
    ) -> std::io::Result<()> {
        let mut file = File::open(path)?;
        buf.clear();
        (&mut file).take(SNIFF as u64).read_to_end(buf)?;
        if is_binary(buf) {
            return Ok(());
        }
        out.files += 1;
        out.bytes += buf.len() as u64;
        let name = path.display().to_string();
        let mut lines = LineCounter::default();
        let mut from = 0;
        loop {
            let want = CHUNK.saturating_sub(buf.len()).max(CHUNK / 2);
            let read = (&mut file).take(want as u64).read_to_end(buf)?;
            out.bytes += read as u64;
            let end = read < want;
            let cut = if end { buf.len() } else { self.cut(buf) };
            self.search(&name, buf, from..cut, &mut lines, out);
            if end {
                return Ok(());
            }
            // The byte before the cut stays when the cut is mid-line, so
            // a match right after it is still judged a whole word or not.
            let keep = if buf[cut - 1] == b'\n' { cut } else { cut - 1 };
            lines.advance(buf, cut, keep);
            buf.drain(..keep);
            from = cut - keep;
        }
    }

    /// Where a full chunk is cut: after its last newline, unless that
    /// would carry more than half a chunk over (a long line); then before
    /// the overlap.
    fn cut(&self, buf: &[u8]) -> usize {
        let mid_line = buf.len().saturating_sub(self.overlap).max(1);
        match memchr::memrchr(b'\n', buf) {
            Some(nl) if buf.len() - (nl + 1) <= CHUNK / 2 => nl + 1,
            _ => mid_line,
        }
    }

    /// Records the matches in `text` that start in `range`.
    fn search(
        &self,
        file: &str,
        text: &[u8],
        range: Range<usize>,
        lines: &mut LineCounter,
        out: &mut Collector,
    ) {
        for m in self.automaton.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            if start < range.start {
                continue;
            }
            if start >= range.end {
                break;
            }
            let pattern = m.pattern().as_usize();
            if pattern < self.keys.len() {
                if is_whole_word(text, start, end) {
                    let line = lines.line_at(text, start);
                    let listed = &mut out.refs[pattern];
                    if listed.count(|largest| (file, line) < (largest.file.as_str(), largest.line))
                    {
                        listed.keep(code_ref(file, line, text, start));
                    }
                }
            } else if let Some(key) = call_argument(&text[end..])
                && !self.defined.contains(key)
                && hotswap_flags_core::compile::check_key("flag key", key).is_ok()
            {
                let line = lines.line_at(text, start);
                let before = |largest: &(CodeRef, String)| {
                    (file, line) < (largest.0.file.as_str(), largest.0.line)
                };
                if out.calls.count(before) {
                    out.calls
                        .keep((code_ref(file, line, text, start), key.to_owned()));
                }
            }
        }
    }
}

/// The reference at `at` in `text`, on line `line` of `file`.
fn code_ref(file: &str, line: u32, text: &[u8], at: usize) -> CodeRef {
    let line_start = memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i);
    CodeRef {
        file: file.to_owned(),
        line,
        text: String::from_utf8_lossy(&text[line_start..line_end])
            .trim()
            .chars()
            .take(120)
            .collect(),
    }
}

/// Counts lines up to each match, going forward only, across chunks.
#[derive(Default)]
struct LineCounter {
    /// Where in the chunk lines were counted up to.
    offset: usize,
    /// Newlines before `offset`, in the file.
    newlines: u32,
}

impl LineCounter {
    /// The 1-based line of byte `at` of the chunk.
    fn line_at(&mut self, text: &[u8], at: usize) -> u32 {
        if at > self.offset {
            self.newlines += memchr::memchr_iter(b'\n', &text[self.offset..at]).count() as u32;
            self.offset = at;
        }
        self.newlines + 1
    }

    /// Counts up to the cut, then moves to the next chunk, which starts
    /// at `keep` of this one.
    fn advance(&mut self, text: &[u8], cut: usize, keep: usize) {
        self.line_at(text, cut);
        self.offset = cut - keep;
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

    /// One search over the whole of `text`, as one chunk.
    fn whole(keys: &[&str], text: &str) -> RefScan {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        let s = Searcher::new(&keys).unwrap();
        let mut found = Collector::new(s.keys.len());
        let mut lines = LineCounter::default();
        s.search("f", text.as_bytes(), 0..text.len(), &mut lines, &mut found);
        found.into_scan(&s.keys)
    }

    /// The references (key, line) by key then line, and the undefined keys
    /// called.
    fn search(keys: &[&str], text: &str) -> (Vec<(String, u32)>, Vec<String>) {
        let scan = whole(keys, text);
        (
            scan.refs
                .into_iter()
                .flat_map(|(k, refs)| refs.into_iter().map(move |r| (k.clone(), r.line)))
                .collect(),
            scan.undefined.into_iter().map(|u| u.key).collect(),
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
                ("checkout".to_owned(), 3),
                ("new-checkout-flow".to_owned(), 3)
            ]
        );
    }

    #[test]
    fn evaluation_calls_of_unknown_keys() {
        let text = "client.getBooleanValue(\"new-chekout-flow\", false)\nclient.BooleanValue(ctx, \"pay-later\", false)\nc.get_string_value('banner', 'x')\nc.getBooleanValue(flagKey)\n";
        let (refs, calls) = search(&["new-checkout-flow", "pay-later"], text);
        assert_eq!(refs, [("pay-later".to_owned(), 2)]);
        assert_eq!(calls, ["banner", "new-chekout-flow"]);
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

    /// Writes `files` (path, bytes) under a new temporary directory.
    fn tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        for (p, t) in files {
            let p = tmp.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        }
        tmp
    }

    #[test]
    fn chunks_find_what_one_whole_search_finds() {
        // Short lines, then one line longer than a chunk, with keys placed
        // around every cut.
        let mut text = String::new();
        let mut n = 0u32;
        while text.len() < 3 * CHUNK {
            n += 1;
            match n % 7 {
                0 => text.push_str("if getBooleanValue(\"pay-latr\") {}\n"),
                3 => text.push_str("x = flags.on('pay-later') && 'checkout'\n"),
                _ => text.push_str("let unrelated = 1;\n"),
            }
        }
        let long: String = (0..CHUNK / 10)
            .map(|i| {
                if i % 3 == 0 {
                    "pay-later "
                } else {
                    "xxxxxxxxx "
                }
            })
            .collect();
        text.push_str(&long);
        text.push_str("\nlast checkout\n");
        let keys = ["pay-later", "checkout"];
        let one = whole(&keys, &text);
        let tmp = tree(&[("big.ts", text.as_bytes())]);
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        let scan = scan(&[tmp.path().to_path_buf()], &keys).unwrap();
        assert_eq!(scan.bytes, text.len() as u64);
        assert_eq!(scan.counts, one.counts);
        assert!(scan.counts["pay-later"] > 10_000, "{:?}", scan.counts);
        let lines = |s: &RefScan| -> Vec<(String, u32)> {
            s.refs
                .iter()
                .flat_map(|(k, refs)| refs.iter().map(move |r| (k.clone(), r.line)))
                .collect()
        };
        assert_eq!(lines(&scan), lines(&one));
        assert_eq!(scan.undefined_count, one.undefined_count);
    }

    #[test]
    fn references_are_capped_and_counted() {
        let text: String = (0..250).map(|i| format!("{i}: 'pay-later'\n")).collect();
        let calls: String = (0..1_200).map(|_| "getBooleanValue('nope')\n").collect();
        let tmp = tree(&[
            ("b.ts", text.as_bytes()),
            ("a.ts", text.as_bytes()),
            ("c.ts", calls.as_bytes()),
        ]);
        let scan = scan(&[tmp.path().to_path_buf()], &["pay-later".to_owned()]).unwrap();
        assert_eq!(scan.counts["pay-later"], 500);
        let refs = &scan.refs["pay-later"];
        assert_eq!(refs.len(), LISTED_PER_FLAG);
        // The first by file and line, whichever thread found them.
        assert!(refs.iter().all(|r| r.file.ends_with("a.ts")));
        assert_eq!(
            refs.iter().map(|r| r.line).collect::<Vec<_>>(),
            (1..=100).collect::<Vec<_>>()
        );
        assert_eq!(scan.undefined_count, 1_200);
        assert_eq!(scan.undefined.len(), LISTED_UNDEFINED);
    }

    #[test]
    fn binary_files_are_skipped_before_they_are_read() {
        let tmp = tree(&[("a.ts", b"'pay-later'\n")]);
        // A sparse 64 GiB: NULs from its first byte. Reading it whole, as
        // the search once did, would need more memory than the machine has.
        let big = std::fs::File::create(tmp.path().join("disk.img")).unwrap();
        big.set_len(1 << 36).unwrap();
        let scan = scan(&[tmp.path().to_path_buf()], &["pay-later".to_owned()]).unwrap();
        assert_eq!((scan.files, scan.bytes), (1, 12));
        assert_eq!(scan.counts["pay-later"], 1);
    }

    #[test]
    fn paths_that_cannot_be_read_are_reported() {
        let tmp = tree(&[("a.ts", b"x\n")]);
        // Directories nested past PATH_MAX, built by wrapping the tree in
        // a new parent again and again: every path used stays short, the
        // walk's full paths are too long to open.
        let (w, n) = (tmp.path().join("w"), tmp.path().join("n"));
        std::fs::create_dir(&w).unwrap();
        std::fs::write(w.join("deep.ts"), "'pay-later'\n").unwrap();
        for _ in 0..25 {
            std::fs::create_dir(&n).unwrap();
            std::fs::rename(&w, n.join("d".repeat(200))).unwrap();
            std::fs::rename(&n, &w).unwrap();
        }
        let scan = scan(&[tmp.path().to_path_buf()], &["pay-later".to_owned()]).unwrap();
        assert!(scan.error_count >= 1, "{scan:?}");
        assert!(!scan.errors.is_empty());
        assert!(!scan.counts.contains_key("pay-later"));
    }
}
