//! Every path in README.md and `docs/*.md` that names a file or directory
//! of this repository exists, so a file that moves takes its mentions with
//! it. The pages are read as Markdown (pulldown-cmark), and a path is:
//!
//! - the target of a link or image (inline, reference or autolink) that
//!   has no URL scheme and is not only an `#anchor`: resolved against the
//!   page's directory, its `#anchor` dropped;
//! - a `code` span of the prose — not of a code block, which holds
//!   commands and what they print — whose first component is a top-level
//!   directory of the repository (`src/`, `tests/`, `scripts/`, `docs/`,
//!   `schemas/`, `deploy/`, … : the fixed list below, which names
//!   directories other branches add, and whatever directory is at the
//!   clone's root), or which is one of its root files (`Cargo.toml`,
//!   `Containerfile`, …); taken from the clone's root, with a leading `./`
//!   and a `:LINE[:COL]` suffix dropped. A span holding spaces is a command:
//!   each of its words is read so (`cp completions/flagctl.bash /etc/…`
//!   names `completions/flagctl.bash`). A path with a glob or an elision
//!   (`*`, `?`, `[`, `{`, `<`, `…`, `...`) is checked up to its last `/`
//!   before that: the directory must exist.
//!
//! Not checked, as they name no file of this repository: URLs, paths of a
//! user's own flags repository (`envs/production/`, `my-flags/`,
//! `.github/workflows/flags.yml` that `init` writes), flagd's state
//! (`.flagd-state/`), the home directory (`~/.cargo/bin`), build output
//! (`target/`), absolute paths, and paths relative to a page's directory
//! written as code rather than links.

use std::path::{Component, Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Top-level directories whose paths are checked even before they exist
/// here: another branch's docs may name them first.
const TOP_DIRECTORIES: &[&str] = &[
    ".ci",
    ".config",
    "benches",
    "completions",
    "contrib",
    "deploy",
    "docs",
    "examples",
    "flags-example",
    "fuzz",
    "man",
    "schemas",
    "scripts",
    "src",
    "tests",
];

/// Files at the clone's root, named bare.
const ROOT_FILES: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "Containerfile",
    "LICENSE-APACHE",
    "LICENSE-MIT",
    "README.md",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every `docs/*.md`.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The top-level directories whose paths are checked: the fixed list and
/// those at the clone's root (build output and hidden ones aside).
fn top_directories() -> Vec<String> {
    let mut dirs: Vec<String> = TOP_DIRECTORIES.iter().map(|d| d.to_string()).collect();
    for entry in std::fs::read_dir(root()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() && !name.starts_with('.') && name != "target" {
            dirs.push(name);
        }
    }
    dirs
}

/// A path named by a page: where it was said, and the path from the
/// clone's root.
struct Mention {
    page: String,
    line: usize,
    text: String,
    path: PathBuf,
}

fn mentions(page: &Path, top: &[String]) -> Vec<Mention> {
    let text = std::fs::read_to_string(page).unwrap();
    let page_dir = page.parent().unwrap().strip_prefix(root()).unwrap();
    let page_name = page.strip_prefix(root()).unwrap().display().to_string();
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut found = Vec::new();
    let mut in_code_block = false;
    for (event, range) in Parser::new_ext(&text, Options::all()).into_offset_iter() {
        let said = match event {
            Event::Start(Tag::CodeBlock(_)) => {
                in_code_block = true;
                None
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                None
            }
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                link_target(&dest_url).map(|target| (dest_url.to_string(), page_dir.join(target)))
            }
            Event::Code(code) if !in_code_block => {
                for path in code_paths(&code, top) {
                    found.push(Mention {
                        page: page_name.clone(),
                        line: line_of(range.start),
                        text: code.to_string(),
                        path: PathBuf::from(path),
                    });
                }
                None
            }
            _ => None,
        };
        if let Some((text, path)) = said {
            found.push(Mention {
                page: page_name.clone(),
                line: line_of(range.start),
                text,
                path: normalize(&path),
            });
        }
    }
    found
}

/// A link's target as a path relative to its page, or `None` for a URL or
/// an anchor of the page itself.
fn link_target(dest: &str) -> Option<&str> {
    let has_scheme = dest.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    });
    if has_scheme || dest.starts_with('#') || dest.is_empty() {
        return None;
    }
    Some(dest.split('#').next().unwrap())
}

/// The paths from the clone's root a code span names: itself, or for a
/// command, each of its words that names one.
fn code_paths(code: &str, top: &[String]) -> Vec<String> {
    code.split_whitespace()
        .filter_map(|word| word_path(word, top))
        .collect()
}

/// A word as a path from the clone's root, when it names one.
fn word_path(word: &str, top: &[String]) -> Option<String> {
    let word = word.strip_prefix("./").unwrap_or(word);
    if ROOT_FILES.contains(&word) {
        return Some(word.to_owned());
    }
    let (first, _) = word.split_once('/')?;
    if !top.iter().any(|d| d == first) {
        return None;
    }
    // Up to a glob or an elision: its directory.
    let path = match word
        .find(['*', '?', '[', '{', '<', '…'])
        .or_else(|| word.find("..."))
    {
        Some(at) => &word[..=word[..at].rfind('/')?],
        None => word,
    };
    // `file:LINE` or `file:LINE:COL`.
    let path = match path.split_once(':') {
        Some((file, rest)) if rest.split(':').all(|n| n.parse::<u32>().is_ok()) => file,
        _ => path,
    };
    Some(path.split('#').next().unwrap().to_owned())
}

/// `docs/../src/x` as `src/x`.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn every_repository_path_the_readme_and_docs_name_exists() {
    let top = top_directories();
    let mut missing = Vec::new();
    let mut checked = 0;
    for page in pages() {
        for mention in mentions(&page, &top) {
            checked += 1;
            if !root().join(&mention.path).exists() {
                missing.push(format!(
                    "{}:{}: `{}` names {}, which does not exist",
                    mention.page,
                    mention.line,
                    mention.text,
                    mention.path.display()
                ));
            }
        }
    }
    // The rule must keep finding what the pages name (links and code).
    assert!(checked > 100, "only {checked} paths found");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The rule itself, on the kinds of text the doc comment names.
#[test]
fn what_counts_as_a_repository_path() {
    let top: Vec<String> = TOP_DIRECTORIES.iter().map(|d| d.to_string()).collect();
    let code = |c: &str| code_paths(c, &top);
    for (span, path) in [
        ("tests/testsuite/main.rs", "tests/testsuite/main.rs"),
        ("src/parse/", "src/parse/"),
        ("./scripts/test.sh", "scripts/test.sh"),
        ("Containerfile", "Containerfile"),
        ("deploy/kubernetes/…", "deploy/kubernetes/"),
        ("man/*.1", "man/"),
        (
            "flags-example/envs/production/checkout.yaml:11:14",
            "flags-example/envs/production/checkout.yaml",
        ),
        // A command: the words that are paths of the repository.
        (
            "cp completions/flagctl.bash /etc/bash_completion.d/flagctl",
            "completions/flagctl.bash",
        ),
        ("ONLY=large scripts/load.sh", "scripts/load.sh"),
    ] {
        assert_eq!(code(span), [path.to_owned()], "{span}");
    }
    for not_ours in [
        "envs/production/",
        "my-flags/",
        ".flagd-state/",
        "~/.cargo/bin",
        "target/release/",
        "/etc/bash_completion.d/flagctl",
        ".github/workflows/flags.yml",
        "#:schema ../../schemas/flagfile.schema.json",
        "support::require",
        "GET /api/v1/flags/{key}/evaluate",
    ] {
        assert!(code(not_ours).is_empty(), "{not_ours}");
    }
    assert_eq!(link_target("https://crates.io/crates/trycmd"), None);
    assert_eq!(link_target("#layout"), None);
    assert_eq!(
        link_target("rollouts.md#when-prometheus-is-unreachable"),
        Some("rollouts.md")
    );
    assert_eq!(
        link_target("../src/repo/snapshot/dir.rs"),
        Some("../src/repo/snapshot/dir.rs")
    );
}
