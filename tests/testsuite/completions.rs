//! The committed shell completions (`completions/`) and man pages (`man/`)
//! must be exactly what the binaries print: this test fails when a command
//! line option changed and `scripts/gen-completions.sh` was not run.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;

use crate::support::files::run_ok;

/// One row per binary; keep in sync with `scripts/gen-completions.sh`.
struct Binary {
    name: &'static str,
    /// Prints a shell's completions (the shell is appended).
    completions: &'static [&'static str],
    /// Prints the main man page.
    man: &'static [&'static str],
    /// Writes every page into a directory (appended), if the binary can.
    man_dir: Option<&'static [&'static str]>,
}

const BINARIES: &[Binary] = &[
    Binary {
        name: "flagctl",
        completions: &["completions"],
        man: &["man"],
        man_dir: Some(&["man", "--out-dir"]),
    },
    Binary {
        name: "flagd",
        completions: &["--completions"],
        man: &["--man"],
        man_dir: None,
    },
];

const SHELLS: &[(&str, &str, &str)] = &[
    // (shell, file name prefix, file name suffix)
    ("bash", "", ".bash"),
    ("zsh", "_", ""),
    ("fish", "", ".fish"),
    ("powershell", "_", ".ps1"),
    ("elvish", "", ".elv"),
];

const FIX: &str = "run scripts/gen-completions.sh and commit the result";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn stdout(bin: &str, args: &[&str]) -> Vec<u8> {
    run_ok(Command::cargo_bin(bin).unwrap().args(args)).stdout
}

/// Fails unless the committed file at `path` holds exactly `printed`.
fn assert_committed(path: &Path, printed: &[u8]) {
    let committed =
        std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}; {FIX}", path.display()));
    assert!(committed == printed, "{} is stale; {FIX}", path.display());
}

#[test]
fn completions_are_current() {
    for b in BINARIES {
        for (shell, prefix, suffix) in SHELLS {
            let file = root()
                .join("completions")
                .join(format!("{prefix}{}{suffix}", b.name));
            let mut args = b.completions.to_vec();
            args.push(shell);
            let printed = stdout(b.name, &args);
            assert!(
                !printed.is_empty(),
                "{} printed no {shell} completions",
                b.name
            );
            assert_committed(&file, &printed);
        }
    }
}

/// The man pages of one binary: `NAME.1` and `NAME-*.1`.
fn pages(dir: &Path, name: &str) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let ours = file == format!("{name}.1")
                || (file.starts_with(&format!("{name}-")) && file.ends_with(".1"));
            ours.then(|| (file, std::fs::read(e.path()).unwrap()))
        })
        .collect()
}

#[test]
fn man_pages_are_current() {
    let man = root().join("man");
    for b in BINARIES {
        let main = man.join(format!("{}.1", b.name));
        let printed = stdout(b.name, b.man);
        assert!(
            String::from_utf8_lossy(&printed).contains(".TH"),
            "{} does not print a man page",
            b.name
        );
        assert_committed(&main, &printed);
        if let Some(dir_args) = b.man_dir {
            let tmp = tempfile::tempdir().unwrap();
            let mut args = dir_args.to_vec();
            let out = tmp.path().display().to_string();
            args.push(&out);
            stdout(b.name, &args);
            let generated = pages(tmp.path(), b.name);
            let existing = pages(&man, b.name);
            assert_eq!(
                existing.keys().collect::<Vec<_>>(),
                generated.keys().collect::<Vec<_>>(),
                "the man pages of {} differ in name; {FIX}",
                b.name
            );
            for (file, text) in &generated {
                assert!(&existing[file] == text, "man/{file} is stale; {FIX}");
            }
        }
    }
}
