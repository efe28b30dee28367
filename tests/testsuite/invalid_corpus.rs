//! A corpus of invalid flag repositories, each with the exact errors it must
//! produce.
//!
//! Every directory under `tests/data/invalid/` is a tiny flags repository
//! (`flags.toml` plus `envs/<env>/…`) and an `expected.txt` holding what
//! checking all of its environments prints: each diagnostic's `Display`, in
//! the order the tool sorts them, environment after environment in the order
//! `flags.toml` lists them — or, when `flags.toml` itself is broken, the
//! `RepoError`.
//!
//! `UPDATE_EXPECTED=1 cargo test --test invalid_corpus` rewrites the
//! `expected.txt` files from the current output. Read every changed file
//! before committing it: the point of the corpus is that a person has checked
//! each message, position, key path and hint.

use std::fs;
use std::path::{Path, PathBuf};

use hotswap_flags::Repository;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/invalid")
}

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .expect("tests/data/invalid exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// What checking every environment of the repository at `dir` prints.
/// Panics if an environment with errors still produced a ruleset, or if the
/// case has no error at all.
fn render(dir: &Path) -> String {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let repo = match Repository::open(dir) {
        Err(e) => return format!("{e}\n"),
        Ok(repo) => repo,
    };
    let envs: Vec<String> = repo
        .config()
        .environments
        .iter()
        .map(|e| e.name.clone())
        .collect();
    let mut out = String::new();
    let mut errors = 0;
    for env in envs {
        let checked = repo
            .check_env(&env)
            .unwrap_or_else(|e| panic!("{name}: environment `{env}` could not be read: {e}"));
        assert!(
            checked.ruleset.is_none(),
            "{name}: environment `{env}` of an invalid case yielded a ruleset \
             (every environment of an invalid case must be invalid)"
        );
        assert!(
            checked.has_errors(),
            "{name}: environment `{env}` has no errors"
        );
        errors += checked.diagnostics.iter().filter(|d| d.is_error()).count();
        for d in &checked.diagnostics {
            out.push_str(&d.to_string());
            out.push('\n');
        }
    }
    assert!(errors > 0, "{name}: no errors");
    out
}

/// A line diff (longest common subsequence), `-` expected, `+` actual.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("  {}\n", a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        } else {
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        }
    }
    out
}

#[test]
fn invalid_corpus() {
    let update = std::env::var_os("UPDATE_EXPECTED").is_some_and(|v| v == "1");
    let cases = cases();
    assert!(
        cases.len() >= 35,
        "the corpus should have at least 35 cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let actual = render(dir);
        let expected_path = dir.join("expected.txt");
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if expected == actual {
            continue;
        }
        if update {
            fs::write(&expected_path, &actual).unwrap();
            eprintln!("updated {}", expected_path.display());
        } else {
            failures.push(format!(
                "── {name}: output differs from expected.txt (- expected, + actual)\n{}",
                diff(&expected, &actual)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ (UPDATE_EXPECTED=1 rewrites them; review every change):\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn diff_marks_changed_lines() {
    assert_eq!(diff("a\nb\nc\n", "a\nx\nc\n"), "  a\n- b\n+ x\n  c\n");
}
