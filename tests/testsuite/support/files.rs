//! Files and git on disk, for the flagd harness and the flagctl tests alike.

use std::path::Path;
use std::process::{Command, Output};

/// The JSON file at `path` under the repository's root, read as `T`; a
/// test's committed data, so anything wrong with it fails the test.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &str) -> T {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// Writes `text` to `root/path`, creating the directories on the way.
pub fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Copies the directory `from` to `to` (created), files and subdirectories.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Replaces `path` the way editors and deployments do: write a temp file
/// next to it, rename it over, so a watcher never sees half a file.
pub fn replace_file(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Runs `git` in `dir` and returns its stdout, failing the test when git
/// fails. The identity and dates are fixed, so commit ids are stable, and
/// the system-wide git configuration is ignored.
pub fn git(dir: &Path, args: &[&str]) -> String {
    super::assert_git_required();
    let mut git = Command::new("git");
    git.args([
        "-c",
        "init.defaultBranch=main",
        "-c",
        "commit.gpgsign=false",
    ])
    .args(args)
    .current_dir(dir)
    .env("GIT_AUTHOR_NAME", "Test Author")
    .env("GIT_AUTHOR_EMAIL", "author@example.com")
    .env("GIT_COMMITTER_NAME", "Test Author")
    .env("GIT_COMMITTER_EMAIL", "author@example.com")
    .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
    .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
    .env("GIT_CONFIG_NOSYSTEM", "1");
    let out = run_ok(&mut assert_cmd::Command::from_std(git));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `cmd` to the end, failing the test with the command and its stderr
/// unless it exits 0.
pub fn run_ok(cmd: &mut assert_cmd::Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
