//! What README.md says about `flagctl` holds for the real binary: which
//! commands take `--repo` and `--format`, the `rollout` usage, and the
//! `validate` example, reproduced on flags-example.

use std::path::Path;

use crate::support::files::copy_dir;
use crate::support::gitops::flagctl;
use predicates::prelude::*;

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    std::fs::read_to_string(path).unwrap()
}

/// README's text with line breaks as spaces.
fn prose() -> String {
    readme().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `code` spans of the README text between `start` and the next `end`.
fn commands_between(text: &str, start: &str, end: &str) -> Vec<String> {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("README no longer says {start:?}"))
        + start.len();
    let to = from + text[from..].find(end).unwrap();
    text[from..to]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// `flagctl CMD… --help`.
fn help(command: &str) -> String {
    let mut args: Vec<&str> = command.split_whitespace().collect();
    // `rollout`'s options are given to its actions.
    if args == ["rollout"] {
        args.push("status");
    }
    let out = flagctl(Path::new("."))
        .args(&args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{command} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands `flagctl --help` lists.
fn subcommands() -> Vec<String> {
    let text = help("");
    let list = &text[text.find("Commands:").unwrap()..text.find("Options:").unwrap()];
    list.lines()
        .skip(1)
        // Continuation lines of a wrapped description are indented deeper.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_commands_said_to_take_repo_and_format_do_and_the_others_do_not() {
    let text = prose();
    let repo = commands_between(
        &text,
        "`--repo DIR` is taken by the commands that read a flags repository:",
        "(default",
    );
    let format_too = commands_between(&text, "`--format table|json` is taken by those and by", "(");
    let neither = commands_between(&text, "Neither is taken by", ":");
    assert!(repo.len() >= 5 && !format_too.is_empty() && !neither.is_empty());

    let mut all: Vec<String> = repo
        .iter()
        .chain(&format_too)
        .chain(&neither)
        .map(|c| c.split(' ').next().unwrap().to_owned())
        .collect();
    all.sort();
    all.dedup();
    let mut actual = subcommands();
    actual.sort();
    assert_eq!(all, actual, "README must account for every command");

    for command in &repo {
        let h = help(command);
        assert!(h.contains("--repo <DIR>"), "{command} takes --repo");
        assert!(h.contains("--format <FORMAT>"), "{command} takes --format");
    }
    for command in &format_too {
        let h = help(command);
        assert!(!h.contains("--repo"), "{command} does not take --repo");
        assert!(h.contains("--format <FORMAT>"), "{command} takes --format");
    }
    for command in &neither {
        let h = help(command);
        assert!(!h.contains("--repo"), "{command} does not take --repo");
        assert!(!h.contains("--format"), "{command} does not take --format");
    }
}

#[test]
fn rollout_daemon_is_optional() {
    for action in ["status", "pause", "resume", "promote", "abort"] {
        let h = help(&format!("rollout {action}"));
        let usage = h.lines().find(|l| l.starts_with("Usage:")).unwrap();
        assert!(!usage.contains("--daemon"), "{usage}");
        assert!(usage.contains("[OPTIONS]"), "{usage}");
        assert!(h.contains("[default: http://127.0.0.1:8013]"), "{h}");
    }
    for line in readme()
        .lines()
        // The synopsis lines (with options in brackets), not examples.
        .filter(|l| l.starts_with("flagctl rollout") && l.contains('['))
    {
        assert!(line.contains("[--daemon URL]"), "README: {line}");
    }
    // Without --daemon, $FLAGCTL_DAEMON is asked.
    flagctl(Path::new("."))
        .args(["rollout", "status"])
        .env("FLAGCTL_DAEMON", "http://127.0.0.1:1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot reach flagd at http://127.0.0.1:1/api/v1/rollouts",
        ));
}

/// README's `validate` example is what flagctl prints for that typo in
/// flags-example.
#[test]
fn the_validate_example_is_real() {
    let text = readme();
    let start = text
        .find("$ flagctl validate --env production")
        .expect("the example");
    let block = &text[start..start + text[start..].find("```").unwrap()];
    let expected: Vec<&str> = block.lines().skip(1).collect();
    assert!(expected[0].contains("unknown variant `of`"), "{block}");

    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("flags-example"),
        tmp.path(),
    );
    let file = tmp.path().join("envs/production/checkout.yaml");
    let original = std::fs::read_to_string(&file).unwrap();
    let typo = "    variants: { on: true, off: false }\n    default: off                  # served when nothing else applies";
    assert!(original.contains(typo), "flags-example changed");
    std::fs::write(
        &file,
        original.replacen(typo, &typo.replace("default: off ", "default: of  "), 1),
    )
    .unwrap();
    let out = flagctl(tmp.path())
        .args(["validate", "--env", "production"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let printed: Vec<&str> = stdout.lines().take(expected.len()).collect();
    assert_eq!(printed, expected);
}

/// The README's prerequisites name every program a test `require`s (the
/// list of what skips without it), and its Debian line installs each one
/// with the package `support::install_hint` names: a test gaining a program
/// fails here until the README says how to get it.
#[test]
fn the_prerequisites_name_every_program_the_tests_require() {
    let text = prose();
    let skip_list = {
        let start = "A test that needs a program cargo does not build (";
        let from = text.find(start).expect("the README's skip list") + start.len();
        &text[from..from + text[from..].find(')').unwrap()]
    };
    let apt_line = readme()
        .lines()
        .find(|l| l.starts_with("apt-get install "))
        .expect("the README's apt-get line")
        .to_owned();
    let packages: Vec<&str> = apt_line.split_whitespace().skip(2).collect();

    let call = regex::Regex::new(r#"\brequire\("([A-Za-z0-9_.-]+)"\)"#).unwrap();
    let mut programs = std::collections::BTreeSet::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testsuite");
    let mut todo = vec![dir];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).unwrap();
                programs.extend(call.captures_iter(&source).map(|c| c[1].to_owned()));
            }
        }
    }
    assert!(
        programs.contains("git") && programs.contains("node"),
        "{programs:?}"
    );
    for program in &programs {
        assert!(
            skip_list.contains(&format!("`{program}`")),
            "README's list of programs whose absence skips tests lacks `{program}`: {skip_list}"
        );
        let hint = crate::support::install_hint(program);
        let wanted = hint
            .strip_prefix("apt-get install ")
            .unwrap_or_else(|| panic!("support::install_hint has no Debian package for {program}"));
        for package in wanted.split_whitespace() {
            assert!(
                packages.contains(&package),
                "README's apt-get line lacks {package} (for {program}): {apt_line}"
            );
        }
    }
}
