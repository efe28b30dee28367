//! flagd's sources, end to end: a watched directory, a git remote, bundles
//! from a file and over HTTP, the offline start — always the real binary on
//! an ephemeral port.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::flagd::*;
use serde_json::json;

const PROPAGATION: Duration = Duration::from_secs(2);

#[test]
fn edits_are_served_invalid_files_are_not() {
    let repo = TempRepo::with_banner("one");
    let d = Daemon::on_repo(&repo, &[]);
    d.await_value(DEADLINE, "banner", json!("one"));

    repo.save_banner("two");
    d.await_value(PROPAGATION, "banner", json!("two"));

    // An invalid file never replaces what is served.
    repo.save(
        BANNER_FILE,
        "flags:\n  banner:\n    type: string\n    variants: { current: 3 }\n    default: current\n",
    );
    let status = d.failed_load(PROPAGATION);
    assert!(
        status["lastError"]["diagnostics"][0]
            .as_str()
            .unwrap()
            .contains("envs/prod/banner.yaml:4:26: error: variant `current` is the integer 3"),
        "{status}"
    );
    assert_eq!(d.value("banner"), Some(json!("two")));
    let metrics = d.get_text("/metrics");
    assert!(
        metric(&metrics, "flagd_reloads_total{result=\"failure\"}").unwrap() >= 1.0,
        "{metrics}"
    );

    // Fixed: served again, and the error is cleared.
    repo.save_banner("three");
    d.await_value(PROPAGATION, "banner", json!("three"));
    assert!(d.get("/api/v1/ruleset").1["lastError"].is_null());
}

/// Files parsed and reused, and compiles, as `/api/v1/ruleset` counts them.
fn work(d: &Daemon) -> (u64, u64, u64) {
    let status = d.get_ok("/api/v1/ruleset");
    let n = |k: &str| {
        status[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {status}"))
    };
    (n("filesParsed"), n("filesReused"), n("compiles"))
}

/// A poll that finds no file changed parses and compiles nothing; an edit
/// parses the edited file alone, yet the environment is still checked
/// whole: a reference into an unchanged file, a duplicate across files and
/// a segment removed from under a flag are all judged, and an invalid
/// update keeps the previous ruleset in service (docs/flagd.md, "Sources").
#[test]
fn unchanged_files_are_not_parsed_again_and_the_whole_is_still_checked() {
    let segment = "segments:\n  staff:\n    keys: [ana]\n";
    let uses_segment = "flags:\n  b:\n    type: string\n    variants: { on: \"yes\", off: \"no\" }\n    default: off\n    rules:\n      - name: staff\n        when: { segment: staff }\n        serve: on\n";
    let repo = TempRepo::new(&[
        ("envs/prod/a.yaml", &string_flag("a", "1")),
        ("envs/prod/b.yaml", uses_segment),
        ("envs/prod/s.yaml", segment),
    ]);
    let d = Daemon::on_repo(&repo, &["--poll", "50ms"]);
    d.await_value(DEADLINE, "a", json!("1"));
    let first = d.get_ok("/api/v1/ruleset");
    eventually(DEADLINE, "three polls", || {
        let status = d.get_ok("/api/v1/ruleset");
        (status["checksUnchanged"].as_u64() >= Some(3)).then_some(())
    });
    assert_eq!(
        work(&d),
        (3, 0, 1),
        "unchanged polls parse and compile nothing"
    );
    assert_eq!(d.get_ok("/api/v1/ruleset")["loadedAt"], first["loadedAt"]);
    let metrics = d.get_text("/metrics");
    assert_eq!(
        metric(&metrics, "flagd_compiles_total"),
        Some(1.0),
        "{metrics}"
    );

    // One file edited: it alone is parsed (each compile since: one parsed,
    // two reused, however many loads the editor's events caused).
    let before = work(&d);
    repo.save("envs/prod/a.yaml", &string_flag("a", "2"));
    d.await_value(PROPAGATION, "a", json!("2"));
    let after = work(&d);
    let compiles = after.2 - before.2;
    assert!(compiles >= 1, "{before:?} → {after:?}");
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (compiles, 2 * compiles),
        "{before:?} → {after:?}"
    );
    let ctx = "/api/v1/flags/b/evaluate?targetingKey=ana";
    assert_eq!(d.get(ctx).1["value"], json!("yes"));

    // A flag of an unchanged file defined again: refused, both definitions
    // located (the first in the file that was not parsed again).
    repo.save(
        "envs/prod/s.yaml",
        &format!("{segment}flags:\n  b:\n    type: string\n    variants: {{ x: \"x\" }}\n    default: x\n"),
    );
    let status = d.failed_load(PROPAGATION);
    let diagnostics = status["lastError"]["diagnostics"].to_string();
    assert!(
        diagnostics.contains(
            "envs/prod/s.yaml:5:3: error: flag `b` is already defined in envs/prod/b.yaml:2:3"
        ),
        "{status}"
    );
    assert_eq!(d.value("a"), Some(json!("2")));
    assert_eq!(d.get(ctx).1["value"], json!("yes"));

    // The segment removed: the unchanged file using it no longer compiles,
    // and the finding is located in that file.
    repo.save("envs/prod/s.yaml", segment);
    repo.save("envs/prod/a.yaml", &string_flag("a", "4"));
    d.await_value(PROPAGATION, "a", json!("4"));
    repo.save("envs/prod/s.yaml", "segments: {}\n");
    eventually(PROPAGATION, "the segment's removal to be refused", || {
        let status = d.get_ok("/api/v1/ruleset");
        let diagnostics = status["lastError"]["diagnostics"].to_string();
        diagnostics
            .contains("envs/prod/b.yaml:8:26: error: unknown segment `staff`")
            .then_some(())
    });
    assert_eq!(d.get(ctx).1["value"], json!("yes"));
    assert_eq!(d.value("a"), Some(json!("4")));
}

#[test]
fn deleted_recreated_and_new_files_are_picked_up() {
    let repo = TempRepo::new(&[
        ("envs/prod/a.yaml", &string_flag("a", "1")),
        ("envs/prod/b.yaml", &string_flag("b", "1")),
    ]);
    let d = Daemon::on_repo(&repo, &[]);
    eventually(DEADLINE, "first load", || d.value("b").map(|_| ()));
    std::fs::remove_file(repo.path().join("envs/prod/b.yaml")).unwrap();
    eventually(PROPAGATION, "b to disappear", || {
        let (status, _) = d.get("/api/v1/flags/b/evaluate");
        (status == 404).then_some(())
    });
    write(
        repo.path(),
        "envs/prod/sub/c.json",
        r#"{"flags": {"c": {"type": "integer", "variants": {"n": 7}, "default": "n"}}}"#,
    );
    d.await_value(PROPAGATION, "c", json!(7));
    write(repo.path(), "envs/prod/b.yaml", &string_flag("b", "2"));
    d.await_value(PROPAGATION, "b", json!("2"));
}

#[cfg(unix)]
#[test]
fn kubernetes_configmap_symlink_swaps_are_picked_up() {
    // A ConfigMap volume: files are symlinks into `..data`, itself a symlink
    // to a timestamped directory that is swapped atomically.
    let root = tempfile::tempdir().unwrap();
    let mount = root.path();
    write(mount, "..v1/flags.toml", CONFIG);
    write(mount, "..v1/envs/prod/f.yaml", &string_flag("f", "v1"));
    std::os::unix::fs::symlink("..v1", mount.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/flags.toml", mount.join("flags.toml")).unwrap();
    std::os::unix::fs::symlink("..data/envs", mount.join("envs")).unwrap();
    let d = Daemon::prod(&["--repo", mount.to_str().unwrap()]);
    d.await_value(DEADLINE, "f", json!("v1"));

    write(mount, "..v2/flags.toml", CONFIG);
    write(mount, "..v2/envs/prod/f.yaml", &string_flag("f", "v2"));
    std::os::unix::fs::symlink("..v2", mount.join("..data_tmp")).unwrap();
    std::fs::rename(mount.join("..data_tmp"), mount.join("..data")).unwrap();
    std::fs::remove_dir_all(mount.join("..v1")).unwrap();
    d.await_value(PROPAGATION, "f", json!("v2"));
}

#[test]
fn not_ready_before_the_first_good_load() {
    let repo = TempRepo::new(&[(
        "envs/prod/x.yaml",
        "flags:\n  x: {type: boolean, variants: {on: true}, default: nope}\n",
    )]);
    let d = Daemon::on_repo(&repo, &[]);
    let (status, body) = eventually(DEADLINE, "the failed load", || {
        let (s, b) = d.get("/readyz");
        b["lastError"].is_object().then_some((s, b))
    });
    assert_eq!(status, 503, "{body}");
    let (status, body) = d.get("/api/v1/flags/x/evaluate");
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "NOT_READY");
    assert_says(&body, "/error/message", "does not validate");
    assert_eq!(d.get("/healthz").0, 200);

    repo.save(
        "envs/prod/x.yaml",
        "flags:\n  x: {type: boolean, variants: {on: true}, default: on}\n",
    );
    eventually(PROPAGATION, "readiness", || {
        (d.get("/readyz").0 == 200).then_some(())
    });
    assert_eq!(d.value("x"), Some(json!(true)));
}

#[test]
fn git_pushes_are_served_with_the_commit_as_version() {
    let Some(remote) = Remote::new("one") else {
        return;
    };
    let d = Daemon::prod(&["--git-url", &remote.url(), "--ref", "main"]);
    d.await_value(DEADLINE, "banner", json!("one"));

    let commit = push_and_await(&d, &remote, "two");
    assert_eq!(d.get("/api/v1/ruleset").1["version"], commit);

    // A broken commit is not served; the previous commit stays.
    write(&remote.work, BANNER_FILE, "flags: [oops\n");
    remote.commit_and_push("broken");
    d.failed_load(DEADLINE);
    assert_eq!(d.value("banner"), Some(json!("two")));
}

#[test]
fn git_path_serves_flags_kept_in_a_subdirectory() {
    let Some(remote) = Remote::at("ops/flags", "one") else {
        return;
    };
    let url = remote.url();

    // Without --git-path there is no flags.toml at the root: a clear error.
    let d = Daemon::prod(&["--git-url", &url]);
    let status = d.failed_load(DEADLINE);
    let message = status["lastError"]["message"].as_str().unwrap();
    assert!(message.contains("no flags.toml"), "{status}");
    drop(d);

    let d = Daemon::prod(&["--git-url", &url, "--git-path", "ops/flags/"]);
    d.await_value(DEADLINE, "banner", json!("one"));
    push_and_await(&d, &remote, "two");
}

/// Pushes `banner = value`, waits until `d` serves it, checks the answer's
/// version is the pushed commit and returns that commit.
fn push_and_await(d: &Daemon, remote: &Remote, value: &str) -> String {
    let commit = remote.push(value);
    let body = eventually(DEADLINE, "the pushed commit", || {
        let (_, b) = d.get("/api/v1/flags/banner/evaluate?userId=u1");
        (b["value"] == value).then_some(b)
    });
    assert_eq!(body["version"], commit);
    commit
}

#[test]
fn a_restart_while_the_remote_is_gone_serves_the_last_good_ruleset() {
    let Some(remote) = Remote::new("stored") else {
        return;
    };
    let (_state, state) = state_dir();
    let url = remote.url();
    let args = [
        "--env",
        "prod",
        "--git-url",
        &url,
        "--state-dir",
        state.to_str().unwrap(),
    ];
    let d = Daemon::start(&args);
    d.await_value(DEADLINE, "banner", json!("stored"));
    // The stored copy is written right after the install.
    eventually(DEADLINE, "the stored last good ruleset", || {
        state.join("last-good.json").is_file().then_some(())
    });
    drop(d);

    std::fs::rename(&remote.bare, remote.bare.with_extension("gone")).unwrap();
    let d = Daemon::start(&args);
    let status = eventually(DEADLINE, "the stored copy", || {
        let (_, s) = d.get("/api/v1/ruleset");
        s["offline"].is_string().then_some(s)
    });
    assert_eq!(d.get("/readyz").0, 200);
    assert_eq!(d.value("banner"), Some(json!("stored")));
    assert!(
        status["offline"].as_str().unwrap().contains("git fetch"),
        "{status}"
    );
    assert!(
        status["source"].as_str().unwrap().starts_with("state:"),
        "{status}"
    );

    // The remote comes back: served from it again, no longer offline.
    std::fs::rename(remote.bare.with_extension("gone"), &remote.bare).unwrap();
    eventually(DEADLINE, "the remote again", || {
        d.get("/api/v1/ruleset").1["offline"]
            .is_null()
            .then_some(())
    });
    drop(d);

    // The same state directory under another --env is refused at start:
    // its rollout state and stored ruleset are prod's.
    let mut staging = args;
    staging[1] = "staging";
    assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("flagd"))
        .args(staging)
        .args(["--listen", "127.0.0.1:0"])
        .timeout(DEADLINE)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "holds the state of environment `prod`, not `staging`",
        ));
    // A directory without that record (an older flagd's), the remote gone:
    // the stored copy is still checked, so nothing is served rather than
    // prod's flags.
    std::fs::remove_file(state.join("env")).unwrap();
    std::fs::rename(&remote.bare, remote.bare.with_extension("gone")).unwrap();
    let d = Daemon::start(&staging);
    let logs = eventually(DEADLINE, "the stored copy to be refused", || {
        let logs = d.logs();
        logs.contains("no usable stored ruleset").then_some(logs)
    });
    assert!(
        logs.contains("a bundle of environment `prod`, not `staging`"),
        "{logs}"
    );
    assert_eq!(d.get("/readyz").0, 503);
    assert_eq!(d.get("/api/v1/flags/banner/evaluate").0, 503);
}

#[test]
fn bundle_files_are_watched() {
    let repo = TempRepo::with_banner("one");
    let file = repo.path().join("prod.bundle.json");
    bundle(&repo, &file, None);
    let d = Daemon::prod(&["--bundle", file.to_str().unwrap()]);
    d.await_value(DEADLINE, "banner", json!("one"));
    repo.save_banner("two");
    bundle(&repo, &file, None);
    d.await_value(PROPAGATION, "banner", json!("two"));
    // A tampered bundle is refused; the last good stays. Written whole (as
    // flagctl writes bundles), or the watcher may read it half written and
    // report a parse error instead of the hash mismatch.
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("\"two\"", "\"evil\"");
    replace_file(&file, text.as_bytes());
    let status = d.failed_load(PROPAGATION);
    assert_says(&status, "/lastError/message", "content hash mismatch");
    assert_eq!(d.value("banner"), Some(json!("two")));
}

/// A one-route HTTP server for bundles that honours If-None-Match.
struct BundleServer {
    url: String,
    body: Arc<Mutex<Vec<u8>>>,
    not_modified: Arc<AtomicUsize>,
}

impl BundleServer {
    fn start(body: Vec<u8>) -> BundleServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/prod.bundle.json", listener.local_addr().unwrap());
        let body = Arc::new(Mutex::new(body));
        let not_modified = Arc::new(AtomicUsize::new(0));
        let (b, n) = (body.clone(), not_modified.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut if_none_match = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("if-none-match:") {
                        if_none_match = Some(v.trim().to_owned());
                    }
                }
                let body = b.lock().unwrap().clone();
                let etag = format!(
                    "\"{}\"",
                    body.len() * 31 + body.iter().map(|x| *x as usize).sum::<usize>()
                );
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    n.fetch_add(1, Ordering::SeqCst);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
                    );
                } else {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(&body);
                }
            }
        });
        BundleServer {
            url,
            body,
            not_modified,
        }
    }
}

#[test]
fn bundles_over_http_use_etags_and_keep_the_last_good() {
    let repo = TempRepo::with_banner("one");
    let bundle_bytes = |repo: &TempRepo| {
        let out = bundle_command(repo).args(["-o", "-"]).output().unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let server = BundleServer::start(bundle_bytes(&repo));
    let d = Daemon::prod(&["--bundle", &server.url]);
    d.await_value(DEADLINE, "banner", json!("one"));

    // Unchanged: the server answers 304 and flagd counts it.
    eventually(DEADLINE, "a 304", || {
        (server.not_modified.load(Ordering::SeqCst) >= 2).then_some(())
    });
    let metrics = d.get_text("/metrics");
    assert!(
        metric(
            &metrics,
            "flagd_source_checks_total{result=\"not_modified\"}"
        )
        .unwrap()
            >= 1.0,
        "{metrics}"
    );
    assert!(
        d.get("/api/v1/ruleset").1["checksNotModified"]
            .as_u64()
            .unwrap()
            >= 1
    );

    // Broken bundle: last good kept.
    *server.body.lock().unwrap() = b"{ definitely not a bundle".to_vec();
    d.failed_load(DEADLINE);
    assert_eq!(d.value("banner"), Some(json!("one")));

    // A new good bundle is served.
    repo.save_banner("two");
    *server.body.lock().unwrap() = bundle_bytes(&repo);
    d.await_value(DEADLINE, "banner", json!("two"));
    assert!(
        d.get("/api/v1/ruleset").1["source"]
            .as_str()
            .unwrap()
            .starts_with("bundle:http://")
    );
}

#[test]
fn a_bundle_for_another_environment_is_refused() {
    let repo = TempRepo::with_banner("one");
    let file = repo.path().join("b.json");
    bundle(&repo, &file, None);
    let d = Daemon::for_env("staging", &["--bundle", file.to_str().unwrap()]);
    let status = d.failed_load(DEADLINE);
    assert_says(&status, "/lastError/message", "not `staging`");
    assert_eq!(d.get("/readyz").0, 503);
}

#[test]
fn two_flagds_cannot_share_a_state_directory() {
    let repo = TempRepo::with_banner("one");
    let d = Daemon::prod(&["--repo", repo.path_str()]);
    d.wait_ready();
    assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("flagd"))
        .args(["--env", "prod", "--repo", repo.path_str(), "--state-dir"])
        .arg(d.state_path())
        .args(["--listen", "127.0.0.1:0"])
        .timeout(DEADLINE)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is in use by another flagd"));
    // The first one is unharmed.
    assert_eq!(d.value("banner"), Some(json!("one")));
}
