//! A corpus of invalid flag repositories, each with the exact errors it must
//! produce.
//!
//! Every directory under `tests/data/invalid/` is a tiny flags repository
//! (`flags.toml` plus `envs/<env>/…`). What checking all of its environments
//! prints — each diagnostic's `Display`, in the order the tool sorts them,
//! environment after environment in the order `flags.toml` lists them, or,
//! when `flags.toml` itself is broken, the `RepoError` — is an insta
//! snapshot named after the case:
//! `snapshots/testsuite__invalid_corpus__<case>.snap`.
//!
//! A new or changed case: `cargo insta test --review` (or `INSTA_UPDATE=always`
//! and read the files). Read every snapshot before committing it: the point
//! of the corpus is that a person has checked each message, position, key
//! path and hint. CI never writes snapshots; a missing one fails there.

use std::fs;
use std::path::{Path, PathBuf};

use hotswap_flags_core::Repository;

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

#[test]
fn invalid_corpus() {
    let cases = cases();
    assert!(
        cases.len() >= 35,
        "the corpus should have at least 35 cases, found {}",
        cases.len()
    );
    // Every case is checked, not only up to the first that differs: insta
    // prints each difference, and the list names them all.
    let differing: Vec<String> = cases
        .iter()
        .map(|dir| dir.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|name| {
            let output = render(&corpus_dir().join(name));
            std::panic::catch_unwind(|| insta::assert_snapshot!(name.as_str(), output)).is_err()
        })
        .collect();
    assert!(
        differing.is_empty(),
        "{} of {} cases differ from their snapshots: {differing:?}",
        differing.len(),
        cases.len()
    );
}

/// A snapshot whose case was removed or renamed would otherwise linger
/// unchecked.
#[test]
fn every_corpus_snapshot_has_its_case() {
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testsuite/snapshots");
    let orphans: Vec<String> = fs::read_dir(snapshots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|file| {
            let case = file
                .strip_prefix("testsuite__invalid_corpus__")?
                .strip_suffix(".snap")?
                .to_owned();
            (!corpus_dir().join(&case).is_dir()).then_some(file)
        })
        .collect();
    assert!(orphans.is_empty(), "snapshots without a case: {orphans:?}");
}
