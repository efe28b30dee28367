//! Every example in README.md and `docs/*.md` that shows a command's output
//! — a `console` block: `$ command`, an optional `? status`, then what it
//! prints (stdout and stderr) — is run and compared, with trycmd. Commands
//! run from the clone's root (the README's examples name `--repo
//! flags-example`), except that a page with a `NAME.in/` directory beside it
//! runs in that directory (`docs/experiments.in/` holds the data files
//! `docs/experiments.md` analyses). Examples whose
//! answer depends on the date pass `--at`, so they hold on any day.
//!
//! Other fences (`sh`, `text`, `yaml`, …) are not run; a bare fence would be
//! read as a case, so every fence in these files names its language.

use std::path::Path;

#[test]
fn readme_and_docs_examples_print_what_they_show() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = trycmd::TestCases::new();
    cases
        .register_bin("flagctl", assert_cmd::cargo::cargo_bin!("flagctl"))
        .register_bin("cat", which("cat"))
        .env("NO_COLOR", "1")
        // The width tables fit when the terminal's is unknown.
        .env("COLUMNS", "100")
        .case(root.join("README.md"));
    for page in std::fs::read_dir(root.join("docs")).unwrap() {
        let page = page.unwrap().path();
        if page.extension().is_some_and(|e| e == "md") {
            cases.case(page);
        }
    }
}

/// The path of a system program on `PATH`.
fn which(program: &str) -> std::path::PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{program} not on PATH"))
}
