//! Flag lifecycle (docs/lifecycle.md): `owner`, `kind` and `expires` in
//! flag files, through `validate`, `eval` and `diff`; `flagctl stale` over
//! back-dated git histories, a source tree in several languages and a
//! Prometheus; `flagctl retire`.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::flagd::Daemon;
use crate::support::gitops::{commit_all, flagctl, git, json, repo, repo_without_git, write};
use crate::support::prometheus::{Prometheus, Target};
use crate::support::{DEADLINE, eventually, require};

/// A flag file with one flag carrying every lifecycle key.
fn checkout(owner: &str, kind: &str, expires: &str) -> String {
    format!(
        "flags:\n  new-checkout-flow:\n    type: boolean\n    owner: \"{owner}\"\n    kind: {kind}\n    expires: {expires}\n    variants: {{ on: true, off: false }}\n    default: off\n"
    )
}

#[test]
fn validate_warns_on_an_expired_flag_and_fails_with_strict() {
    let expired = checkout("@acme/checkout", "release", "2020-01-31");
    let tmp = repo_without_git(&[("envs/staging/checkout.yaml", &expired)]);
    let out = flagctl(tmp.path())
        .args(["validate", "--env", "staging"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "envs/staging/checkout.yaml:6:14: warning: flag `new-checkout-flow` expired on 2020-01-31"
        ),
        "{text}"
    );
    let (report, code) = json(flagctl(tmp.path()).args([
        "validate", "--env", "staging", "--strict", "--format", "json",
    ]));
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["warnings"], 1, "{report:#}");

    // A date still ahead is no finding.
    write(
        tmp.path(),
        "envs/staging/checkout.yaml",
        &checkout("@acme/checkout", "release", "2999-12-31"),
    );
    flagctl(tmp.path())
        .args(["validate", "--env", "staging", "--strict"])
        .assert()
        .success();
}

#[test]
fn bad_metadata_is_located() {
    let bad = checkout("the checkout team", "temporary", "2026-02-30");
    let tmp = repo_without_git(&[("envs/staging/checkout.yaml", &bad)]);
    let out = flagctl(tmp.path())
        .args(["validate", "--env", "staging"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("envs/staging/checkout.yaml:5:11: error: unknown value `temporary`"),
        "{text}"
    );
    // The kind is fixed: the date and the owner are reported next.
    let bad = checkout("the checkout team", "release", "2026-02-30");
    write(tmp.path(), "envs/staging/checkout.yaml", &bad);
    let out = flagctl(tmp.path())
        .args(["validate", "--env", "staging"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("envs/staging/checkout.yaml:6:14: error: invalid date `2026-02-30`"),
        "{text}"
    );
    let bad = checkout("the checkout team", "release", "2026-02-28");
    write(tmp.path(), "envs/staging/checkout.yaml", &bad);
    let out = flagctl(tmp.path())
        .args(["validate", "--env", "staging"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("envs/staging/checkout.yaml:4:12: error: owner `the checkout team` is not a CODEOWNERS handle"),
        "{text}"
    );
}

#[test]
fn eval_shows_the_metadata() {
    let file = checkout("@acme/checkout", "kill-switch", "2999-12-31");
    let tmp = repo_without_git(&[("envs/staging/checkout.yaml", &file)]);
    let (v, code) = json(flagctl(tmp.path()).args([
        "eval",
        "new-checkout-flow",
        "--env",
        "staging",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["owner"], "@acme/checkout");
    assert_eq!(v["kind"], "kill-switch");
    assert_eq!(v["expires"], "2999-12-31");
    let out = flagctl(tmp.path())
        .args(["eval", "new-checkout-flow", "--env", "staging"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("owner    @acme/checkout"), "{text}");
}

#[test]
fn diff_compares_the_metadata() {
    let before = checkout("@acme/checkout", "release", "2999-12-31");
    let Some(tmp) = repo(&[("envs/staging/checkout.yaml", &before)]) else {
        return;
    };
    git(tmp.path(), &["checkout", "-qb", "change"]);
    let after = checkout("@acme/payments", "release", "2999-06-30");
    write(tmp.path(), "envs/staging/checkout.yaml", &after);
    commit_all(tmp.path(), "hand over");
    let (v, code) = json(flagctl(tmp.path()).args([
        "diff", "main", "change", "--env", "staging", "--format", "json",
    ]));
    assert_eq!(code, 0, "{v:#}");
    let fields = &v["environments"][0]["changes"][0]["fields"];
    let texts: Vec<&str> = fields
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "owner @acme/checkout → @acme/payments",
            "expires 2999-12-31 → 2999-06-30"
        ]
    );
}

// ------------------------------------------------------------ flagctl stale

/// Commits everything at `days_ago` days before now, back-dated through
/// GIT_AUTHOR_DATE and GIT_COMMITTER_DATE.
fn commit_days_ago(root: &Path, days_ago: i64, message: &str) {
    let when = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days_ago);
    let date = when.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    git(root, &["add", "-A"]);
    let status = std::process::Command::new("git")
        .args(["-c", "commit.gpgsign=false", "commit", "-qm", message])
        .current_dir(root)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .status()
        .unwrap();
    assert!(status.success());
}

fn boolean_flag(key: &str, meta: &str, default: &str) -> String {
    format!(
        "  {key}:\n{meta}    type: boolean\n    variants: {{ on: true, off: false }}\n    default: {default}\n    offVariant: off\n"
    )
}

const SPLIT: &str = "{ split: { on: 50, off: 50 } }";

/// Four flags with histories going back 200 days, in both environments,
/// and an application tree referring to them in four languages.
fn stale_repo() -> Option<tempfile::TempDir> {
    require("git")?;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "flags.toml", crate::support::gitops::CONFIG);
    crate::support::gitops::init_repo(root);
    let release = "    owner: \"@acme/checkout\"\n    kind: release\n";
    let kill = "    owner: \"@acme/ops\"\n    kind: kill-switch\n";
    let search = "    owner: \"@acme/search\"\n    kind: release\n";
    let files = |old_release: &str, with_orphan: bool, with_search: bool| {
        let mut text = String::from("flags:\n");
        text += &boolean_flag("old-release", release, old_release);
        text += &boolean_flag("kill-payments", kill, "on");
        if with_orphan {
            text += &boolean_flag("orphan", "", SPLIT);
        }
        if with_search {
            text += &boolean_flag("new-search", search, SPLIT);
        }
        for env in ["staging", "production"] {
            write(root, &format!("envs/{env}/flags.yaml"), &text);
        }
    };
    files(SPLIT, false, false);
    commit_days_ago(root, 200, "old-release and kill-payments");
    files("on", false, false);
    commit_days_ago(root, 100, "old-release: everyone on");
    files("on", true, false);
    commit_days_ago(root, 50, "orphan");
    files("on", true, true);
    commit_days_ago(root, 2, "new-search");
    // The application: references in TypeScript, Python, Go and Rust; a
    // key inside a longer identifier; a typo; an ignored build output.
    write(root, "app/.gitignore", "dist/\n");
    write(root, "app/dist/bundle.js", "getBooleanValue(\"orphan\")\n");
    write(
        root,
        "app/web/checkout.ts",
        "import { client } from './flags';\n\nif (await client.getBooleanValue(\"old-release\", false)) {\n  render();\n}\n",
    );
    write(
        root,
        "app/api/handler.py",
        "def handle(client):\n    if client.get_boolean_value('old-release', False):\n        return new()\n    if client.get_boolean_value('new-serch', False):\n        return search()\n",
    );
    write(
        root,
        "app/svc/main.go",
        "package main\n\nfunc pay() {\n\ton, _ := client.BooleanValue(ctx, \"kill-payments\", true, nil)\n\t_ = on\n}\n",
    );
    write(
        root,
        "app/search/lib.rs",
        "const NEXT: &str = \"new-search-v2\";\nfn run() { let on = ruleset.evaluate(\"new-search\", &ctx, &env); }\n",
    );
    Some(tmp)
}

fn stale_json(root: &Path, args: &[&str]) -> (Value, i32) {
    json(
        flagctl(root)
            .args(["stale", "--src", "app", "--format", "json"])
            .args(args),
    )
}

fn flag<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {report:#}"))
}

fn reason_codes(f: &Value) -> Vec<&str> {
    f["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect()
}

fn refs(f: &Value) -> Vec<String> {
    f["code"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}:{}", r["file"].as_str().unwrap(), r["line"]))
        .collect()
}

#[test]
fn stale_weighs_history_and_code_references() {
    let Some(tmp) = stale_repo() else { return };
    let (report, code) = stale_json(tmp.path(), &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["envs"], json!(["staging", "production"]));
    assert_eq!(report["olderThan"], "30d");

    let old = flag(&report, "old-release");
    assert_eq!(old["verdict"], "remove", "{old:#}");
    assert_eq!(reason_codes(old), ["past-lifetime", "serves-one-variant"]);
    let serves = &old["reasons"][1]["text"];
    assert!(
        serves
            .as_str()
            .unwrap()
            .starts_with("serves `on` to everyone in every environment since"),
        "{serves}"
    );
    assert!(
        old["reasons"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("200 days old")
    );
    assert_eq!(refs(old), ["app/api/handler.py:2", "app/web/checkout.ts:3"]);
    let history = &old["envs"][0]["history"];
    assert_ne!(history["created"], history["changed"], "{history:#}");
    assert!(history["servesOne"]["variant"] == "on", "{history:#}");

    // Permanent: serving one variant for 200 days is what it is for.
    let kill = flag(&report, "kill-payments");
    assert_eq!(kill["verdict"], "keep", "{kill:#}");
    assert_eq!(refs(kill), ["app/svc/main.go:4"]);

    // `new-search-v2` is another name; the ignored bundle is not searched.
    let search = flag(&report, "new-search");
    assert_eq!(search["verdict"], "keep", "{search:#}");
    assert_eq!(refs(search), ["app/search/lib.rs:2"]);

    let orphan = flag(&report, "orphan");
    assert_eq!(orphan["verdict"], "remove", "{orphan:#}");
    assert_eq!(reason_codes(orphan), ["no-code-references", "no-owner"]);
    assert_eq!(refs(orphan), Vec::<String>::new());

    let undefined = &report["undefined"];
    assert_eq!(undefined[0]["key"], "new-serch", "{undefined:#}");
    assert_eq!(undefined[0]["file"], "app/api/handler.py");
    assert_eq!(undefined[0]["line"], 4);
    assert_eq!(undefined[0]["suggestion"], "new-search");
    assert_eq!(
        report["summary"],
        json!({"remove": 2, "review": 0, "keep": 2})
    );
    // `remove` first.
    assert_eq!(report["flags"][0]["verdict"], "remove");
}

#[test]
fn stale_fails_on_request_and_reads_as_markdown() {
    let Some(tmp) = stale_repo() else { return };
    let root = tmp.path();
    for (fail_on, expected) in [("remove", 1), ("review", 1), ("undefined", 1)] {
        let (_, code) = stale_json(root, &["--fail-on", fail_on]);
        assert_eq!(code, expected, "--fail-on {fail_on}");
    }
    // A shorter threshold changes nothing here; a longer one than the
    // 100 days `old-release` has served `on` spares it that reason.
    let (report, _) = stale_json(root, &["--older-than", "150d", "--env", "production"]);
    assert_eq!(report["envs"], json!(["production"]));
    assert_eq!(
        reason_codes(flag(&report, "old-release")),
        ["past-lifetime"]
    );
    assert_eq!(flag(&report, "old-release")["verdict"], "review");

    let out = flagctl(root)
        .args(["stale", "--src", "app", "--format", "markdown"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("### Stale flags: 2 to remove, 0 to review, 2 to keep"),
        "{text}"
    );
    assert!(text.contains("| `orphan` | — | — |"), "{text}");
    assert!(text.contains("  - `app/web/checkout.ts:3`"), "{text}");
    assert!(
        text.contains("- `new-serch` at `app/api/handler.py:4` — did you mean `new-search`?"),
        "{text}"
    );
    let out = flagctl(root)
        .args(["stale", "--src", "app"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("✗ 2 to remove, 0 to review, 2 to keep"),
        "{text}"
    );
    assert!(text.contains("app/api/handler.py:4: `new-serch` is defined in no environment (did you mean `new-search`?)"), "{text}");
    // Without --src there is no code evidence, and no such reason.
    let (report, _) = json(flagctl(root).args(["stale", "--format", "json"]));
    assert!(flag(&report, "orphan").get("code").is_none());
    assert_eq!(reason_codes(flag(&report, "orphan")), ["no-owner"]);
}

#[test]
fn stale_errors_are_clear() {
    let Some(tmp) = stale_repo() else { return };
    let out = flagctl(tmp.path())
        .args(["stale", "--src", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nowhere: no such directory"), "{err}");
    let out = flagctl(tmp.path())
        .args(["stale", "--env", "prod"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown environment `prod`"), "{err}");
}

/// flagd's exposition text: evaluations of `old-release` (always `on`)
/// and `kill-payments` (both variants), `n` each, in environment staging.
fn evaluations(n: u64) -> String {
    format!(
        "# TYPE flagd_evaluations counter\n\
         flagd_evaluations_total{{flag=\"old-release\",variant=\"on\",reason=\"STATIC\"}} {n}\n\
         flagd_evaluations_total{{flag=\"kill-payments\",variant=\"on\",reason=\"STATIC\"}} {n}\n\
         flagd_evaluations_total{{flag=\"kill-payments\",variant=\"off\",reason=\"DISABLED\"}} {n}\n\
         # TYPE flagd_ruleset_info gauge\n\
         flagd_ruleset_info{{env=\"staging\",version=\"v1\",source=\"test\"}} 1\n"
    )
}

#[test]
fn stale_reads_evaluations_from_prometheus() {
    let Some(binary) = require("prometheus") else {
        return;
    };
    let Some(tmp) = stale_repo() else { return };
    let target = Target::start(&evaluations(10));
    let prom = Prometheus::start(&binary, &target);
    eventually(DEADLINE, "a first scrape", || {
        prom.value("sum(flagd_evaluations_total)")
            .filter(|v| *v >= 30.0)
    });
    target.set(&evaluations(1010));
    eventually(DEADLINE, "counted evaluations", || {
        prom.value("sum(increase(flagd_evaluations_total{flag=\"old-release\"}[1h]))")
            .filter(|v| *v > 0.0)
    });
    let (report, code) = stale_json(
        tmp.path(),
        &[
            "--env",
            "staging",
            "--older-than",
            "1h",
            "--prometheus",
            &prom.url,
        ],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["runtime"], format!("Prometheus {}", prom.url));
    let old = flag(&report, "old-release");
    let counted = &old["envs"][0]["evaluations"];
    assert!(counted["on"].as_f64().unwrap() > 0.0, "{counted:#}");
    assert!(counted.get("off").is_none(), "{counted:#}");
    assert!(
        reason_codes(old).contains(&"evaluated-one-variant"),
        "{old:#}"
    );
    // Evaluated both ways: nothing to say, and a kill switch anyway.
    let kill = flag(&report, "kill-payments");
    assert_eq!(kill["verdict"], "keep", "{kill:#}");
    assert_eq!(kill["envs"][0]["evaluations"].as_object().unwrap().len(), 2);
    // Defined and referenced, but nobody asked for it in the last hour.
    let search = flag(&report, "new-search");
    assert_eq!(search["envs"][0]["evaluations"], json!({}));
    assert_eq!(reason_codes(search), ["not-evaluated"]);
    assert_eq!(search["verdict"], "remove");
    assert_eq!(
        search["reasons"][0]["text"],
        "not evaluated in the last 1 hour"
    );
}

#[test]
fn stale_reads_completed_rollouts_from_flagd() {
    let Some(_) = require("git") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "flags.toml", crate::support::gitops::CONFIG);
    crate::support::gitops::init_repo(root);
    let launch = "flags:\n  launch:\n    type: boolean\n    owner: \"@acme/web\"\n    variants: { on: true, off: false }\n    default: off\n    rollout: { strategy: direct, serve: on }\n";
    for env in ["staging", "production"] {
        write(root, &format!("envs/{env}/flags.yaml"), launch);
    }
    commit_days_ago(root, 60, "launch");
    let daemon = Daemon::for_env("staging", &["--repo", root.to_str().unwrap()]);
    daemon.wait_ready();
    eventually(DEADLINE, "the rollout to complete", || {
        let (_, list) = daemon.get("/api/v1/rollouts");
        (list["rollouts"][0]["phase"] == "completed").then_some(())
    });
    let args = [
        "stale",
        "--env",
        "staging",
        "--older-than",
        "0s",
        "--format",
        "json",
    ];
    // From git alone, a rollout of another variant may be anywhere.
    let (report, _) = json(flagctl(root).args(args));
    assert_eq!(reason_codes(flag(&report, "launch")), Vec::<&str>::new());
    let (report, code) = json(flagctl(root).args(args).args(["--daemon", &daemon.url("")]));
    assert_eq!(code, 0, "{report:#}");
    let launch = flag(&report, "launch");
    assert_eq!(
        launch["envs"][0]["rollout"]["phase"], "completed",
        "{launch:#}"
    );
    // flagd never evaluated it, and says so since it started.
    assert_eq!(
        reason_codes(launch),
        ["serves-one-variant", "not-evaluated"],
        "{launch:#}"
    );
    assert_eq!(launch["verdict"], "remove");
    // flagd serves staging only: production's rollout is still unknown.
    let out = flagctl(root)
        .args(["retire", "launch", "--daemon", &daemon.url("")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("has a rollout of `on` in `production` not known to be completed"),
        "{err}"
    );
    // An unreachable flagd is an I/O error, exit 2.
    let out = flagctl(root)
        .args(["stale", "--daemon", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn stale_reads_evaluations_counted_by_flagd_since_it_started() {
    let Some(tmp) = stale_repo() else { return };
    let root = tmp.path();
    let daemon = Daemon::for_env("staging", &["--repo", root.to_str().unwrap()]);
    daemon.wait_ready();
    // `old-release` is asked for three times (always `on`), the rest never.
    for user in ["u1", "u2", "u3"] {
        let (status, body) =
            daemon.get(&format!("/api/v1/flags/old-release/evaluate?userId={user}"));
        assert_eq!((status, &body["variant"]), (200, &json!("on")), "{body}");
    }
    let started = daemon.get_ok("/api/v1/ruleset")["startedAt"].clone();
    let started: jiff::Timestamp = started.as_str().expect("startedAt").parse().unwrap();
    let listed = daemon.get_ok("/api/v1/flags/old-release");
    assert_eq!(
        listed["evaluations"],
        json!({"on": 3, "off": 0}),
        "{listed:#}"
    );

    let (report, code) = json(flagctl(root).args([
        "stale",
        "--env",
        "staging",
        "--format",
        "json",
        "--daemon",
        &daemon.url(""),
    ]));
    assert_eq!(code, 0, "{report:#}");
    let since: jiff::Timestamp = report["evaluationsSince"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(since, started);
    let at = started.strftime("%Y-%m-%d %H:%M:%S UTC").to_string();
    let old = flag(&report, "old-release");
    assert_eq!(old["envs"][0]["evaluations"], json!({"on": 3.0}), "{old:#}");
    let reason = old["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "evaluated-one-variant")
        .unwrap_or_else(|| panic!("{old:#}"));
    assert_eq!(
        reason["text"],
        format!("evaluated 3 times since flagd started at {at}, always `on`")
    );
    // Seconds of counting are no evidence over a 30-day window: a look,
    // not a removal.
    let search = flag(&report, "new-search");
    assert_eq!(search["envs"][0]["evaluations"], json!({}), "{search:#}");
    assert_eq!(reason_codes(search), ["not-evaluated"]);
    let text = search["reasons"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "not evaluated since flagd started at {at}, but the counts cover only "
        )) && text.ends_with("less than --older-than (30 days)"),
        "{text}"
    );
    assert_eq!(search["verdict"], "review");

    // Once the counts cover the window (two seconds here), the same
    // evidence says remove.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (report, _) = json(flagctl(root).args([
            "stale",
            "--env",
            "staging",
            "--format",
            "json",
            "--older-than",
            "2s",
            "--daemon",
            &daemon.url(""),
        ]));
        let search = flag(&report, "new-search");
        if search["verdict"] == "remove" {
            assert_eq!(
                search["reasons"][0]["text"],
                format!("not evaluated since flagd started at {at}")
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{search:#}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn stale_table_wraps_between_words() {
    let Some(tmp) = stale_repo() else { return };
    let root = tmp.path();
    let (report, _) = stale_json(root, &[]);
    let out = flagctl(root)
        .args(["stale", "--src", "app"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    // Every word of the table is a word of some cell: none was cut in two.
    let mut words = std::collections::HashSet::new();
    for f in report["flags"].as_array().unwrap() {
        let cells = [&f["key"], &f["verdict"], &f["owner"], &f["kind"]];
        let reasons: Vec<&str> = f["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["text"].as_str())
            .collect();
        let reasons = reasons.join("; ");
        let texts = cells.into_iter().filter_map(Value::as_str);
        for text in texts.chain([reasons.as_str()]) {
            words.extend(text.split_whitespace().map(str::to_owned));
        }
    }
    let reasons_wrapped = table.lines().filter(|l| l.contains("│")).count()
        > report["flags"].as_array().unwrap().len() + 1;
    assert!(
        reasons_wrapped,
        "the reasons should need wrapping:\n{table}"
    );
    let body: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with('│'))
        .skip(1)
        .collect();
    for line in body {
        for word in line.split(['│', ' ']).filter(|w| !w.is_empty()) {
            let known = words.contains(word)
                || word == "–"
                || word.parse::<u32>().is_ok()
                || word.parse::<jiff::civil::Date>().is_ok();
            assert!(known, "`{word}` is not a whole word:\n{table}");
        }
    }
}

// ----------------------------------------------------------- flagctl retire

/// The file at `path` on `branch`.
fn show(root: &Path, branch: &str, path: &str) -> String {
    git(root, &["show", &format!("{branch}:{path}")])
}

#[test]
fn retire_removes_the_flag_everywhere_on_a_branch_listing_the_code_to_change() {
    let Some(tmp) = stale_repo() else { return };
    let root = tmp.path();
    let before = std::fs::read_to_string(root.join("envs/staging/flags.yaml")).unwrap();
    let (out, code) =
        json(flagctl(root).args(["retire", "old-release", "--src", "app", "--format", "json"]));
    assert_eq!(code, 0, "{out:#}");
    assert_eq!(out["branch"], "retire/old-release");
    assert_eq!(out["plan"]["keep"], "on");
    assert_eq!(out["plan"]["envs"], json!(["staging", "production"]));
    let message = git(root, &["log", "-1", "--format=%B", "retire/old-release"]);
    assert!(
        message.starts_with("Retire old-release\n\nRemoved from `staging`, `production`"),
        "{message}"
    );
    // GitHub renders the message as Markdown: what the code holds is code.
    assert!(message.contains("Code keeps `on` (`true`)."), "{message}");
    assert!(
        message.contains("- `app/api/handler.py:2`: `if client.get_boolean_value('old-release', False):`\n- `app/web/checkout.ts:3`: `if (await client.getBooleanValue(\"old-release\", false)) {`"),
        "{message}"
    );
    // Only the flag's lines go; the working tree and HEAD stay as they were.
    let start = before.find("  old-release:").unwrap();
    let end = before.find("  kill-payments:").unwrap();
    let expected = format!("{}{}", &before[..start], &before[end..]);
    for env in ["staging", "production"] {
        assert_eq!(
            show(
                root,
                "retire/old-release",
                &format!("envs/{env}/flags.yaml")
            ),
            expected
        );
    }
    assert_eq!(
        std::fs::read_to_string(root.join("envs/staging/flags.yaml")).unwrap(),
        before
    );
    assert_eq!(
        git(root, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );

    // Once is enough: the branch exists.
    let out = flagctl(root)
        .args(["retire", "old-release"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[test]
fn retire_asks_which_variant_and_refuses_what_still_runs() {
    let Some(tmp) = stale_repo() else { return };
    let root = tmp.path();
    let fails = |args: &[&str], code: i32, needle: &str| {
        let out = flagctl(root).arg("retire").args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    };
    fails(
        &["orphan"],
        2,
        "serves more than one variant: say which one code keeps with --keep",
    );
    fails(
        &["orphan", "--keep", "of"],
        2,
        "`of` is not a variant of `orphan` (did you mean `off`?)",
    );
    fails(
        &["old-relase"],
        2,
        "no environment defines flag `old-relase` at HEAD (did you mean `old-release`?)",
    );
    flagctl(root)
        .args(["retire", "orphan", "--keep", "off"])
        .assert()
        .success();

    // An experiment running, then a rollout nobody has seen completed.
    let experiment = "flags:\n  layout:\n    type: string\n    owner: \"@acme/growth\"\n    variants: { a: a, b: b }\n    default: { split: { a: 1, b: 1 }, experiment: {} }\n    offVariant: a\n  launch:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rollout: { strategy: direct, serve: on }\n";
    write(root, "envs/staging/more.yaml", experiment);
    commit_all(root, "layout experiment and launch");
    fails(
        &["layout", "--keep", "a"],
        1,
        "`layout` runs an experiment in `staging`; retire it once that is over, or pass --force",
    );
    fails(
        &["launch"],
        1,
        "has a rollout of `on` in `staging` not known to be completed",
    );
    flagctl(root)
        .args(["retire", "layout", "--keep", "b", "--force"])
        .assert()
        .success();
    let left = show(root, "retire/layout", "envs/staging/more.yaml");
    assert!(
        !left.contains("layout") && left.contains("  launch:"),
        "{left}"
    );
}

#[test]
fn retire_edits_json_and_toml_files_in_place() {
    let json_file = "{\n  \"flags\": {\n    \"a\": { \"type\": \"boolean\", \"variants\": { \"on\": true }, \"default\": \"on\" },\n    \"b\": { \"type\": \"boolean\", \"variants\": { \"on\": true }, \"default\": \"on\" }\n  }\n}\n";
    let toml_file = "# Shipping.\n[flags.b]\ntype = \"boolean\"\ndefault = \"on\"\n\n[flags.b.variants]\non = true\n\n# The other one.\n[flags.a]\ntype = \"boolean\"\ndefault = \"on\"\n\n[flags.a.variants]\non = true\n";
    let Some(tmp) = repo(&[
        ("envs/staging/flags.json", json_file),
        ("envs/production/flags.toml", toml_file),
    ]) else {
        return;
    };
    let root = tmp.path();
    flagctl(root).args(["retire", "a"]).assert().success();
    assert_eq!(
        show(root, "retire/a", "envs/staging/flags.json"),
        "{\n  \"flags\": {\n    \"b\": { \"type\": \"boolean\", \"variants\": { \"on\": true }, \"default\": \"on\" }\n  }\n}\n"
    );
    assert_eq!(
        show(root, "retire/a", "envs/production/flags.toml"),
        "# Shipping.\n[flags.b]\ntype = \"boolean\"\ndefault = \"on\"\n\n[flags.b.variants]\non = true\n"
    );
    // A full ref name is refused, not nested (`refs/heads/refs/heads/…`).
    let out = flagctl(root)
        .args(["retire", "b", "--branch", "refs/heads/retire-b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "`refs/heads/retire-b` is a full ref name; give the branch name alone (`retire-b`)"
        ),
        "{out:?}"
    );
    let refs = std::process::Command::new("git")
        .args(["for-each-ref", "--format=%(refname)"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&refs.stdout).contains("refs/heads/refs/"),
        "{refs:?}"
    );
    flagctl(root)
        .args(["retire", "b", "--branch", "retire-b"])
        .assert()
        .success();
    assert_eq!(
        show(root, "retire-b", "envs/staging/flags.json"),
        "{\n  \"flags\": {\n    \"a\": { \"type\": \"boolean\", \"variants\": { \"on\": true }, \"default\": \"on\" }\n  }\n}\n"
    );
}

/// The links of a Markdown document, as GitHub reads it.
fn links(markdown: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let options = Options::ENABLE_TABLES | Options::ENABLE_GFM | Options::ENABLE_FOOTNOTES;
    Parser::new_ext(markdown, options)
        .filter_map(|e| match e {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url.to_string())
            }
            _ => None,
        })
        .collect()
}

/// A file name holding a backtick, newlines and a link: `stale --format
/// markdown` and the commit `retire` makes (GitHub renders its message as
/// a pull request's description) quote it as code, and it adds no list
/// item or link (docs/security.md, "Output").
#[test]
fn file_names_add_no_link_to_the_report_or_the_commit() {
    let Some(tmp) = stale_repo() else { return };
    let root = tmp.path();
    let name = "x`\n- [approve](https://evil.example)\n`.py";
    write(
        root,
        &format!("app/{name}"),
        "if client.get_boolean_value('old-release', False):\n    pass\n",
    );
    let out = flagctl(root)
        .args(["stale", "--src", "app", "--format", "markdown"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("approve"), "{text}");
    assert!(links(&text).is_empty(), "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.trim_start().starts_with("- [approve]")),
        "{text}"
    );

    let (out, code) =
        json(flagctl(root).args(["retire", "old-release", "--src", "app", "--format", "json"]));
    assert_eq!(code, 0, "{out:#}");
    let message = git(root, &["log", "-1", "--format=%B", "retire/old-release"]);
    assert!(message.contains("approve"), "{message}");
    assert!(links(&message).is_empty(), "{message}");
    assert!(
        !message.lines().any(|l| l.starts_with("- [approve]")),
        "{message}"
    );
}

/// Keys and e-mail addresses stay whole in `stale`'s table (they were split
/// mid-word), and the table fits the terminal: 100 columns when its width
/// is unknown, `COLUMNS` when given (it kept 100 at `COLUMNS=200`).
#[test]
fn the_stale_table_fits_the_terminal_and_keeps_keys_whole() {
    if require("git").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "flags.toml", crate::support::gitops::CONFIG);
    crate::support::gitops::init_repo(root);
    let key = "order-tracking-page-redesign";
    let owner = "payments-platform-team@example.com";
    let meta = format!("    owner: {owner}\n    kind: release\n");
    let text = format!("flags:\n{}", boolean_flag(key, &meta, "on"));
    for env in ["staging", "production"] {
        write(root, &format!("envs/{env}/flags.yaml"), &text);
    }
    commit_days_ago(root, 200, "the redesign, everyone on");
    let table = |columns: Option<&str>| {
        let mut cmd = flagctl(root);
        cmd.args(["stale"]);
        if let Some(c) = columns {
            cmd.env("COLUMNS", c);
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    let widest = |text: &str| text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    for (columns, limit) in [(None, 100), (Some("80"), 80), (Some("200"), 200)] {
        let text = table(columns);
        assert!(widest(&text) <= limit, "wider than {limit}:\n{text}");
        assert!(text.contains(key) && text.contains(owner), "split:\n{text}");
    }
    assert!(widest(&table(Some("200"))) > 100, "{}", table(Some("200")));
}
