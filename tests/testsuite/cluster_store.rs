//! Cluster mode over a damaged or abused etcd (docs/cluster.md, Failures):
//! etcd restored empty or from an old snapshot, records edited by hand, a
//! leader key put by hand, a long audit trail, and how often the replicas
//! write. The tests tamper with etcd through its own JSON gateway, as
//! `etcdctl` would, while three real replicas run.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cluster::{Cluster, all_report, flags};
use crate::support::flagd::*;

const PREFIX: &str = "/hotswap-flags/prod/";

/// A second canary, `search`, in the same stages as `checkout` (the
/// metrics stand-in gates both).
fn search() -> String {
    flags().replace("checkout", "search")
}

/// `checkout` and `search`, both canaries.
fn two_canaries() -> Vec<(&'static str, String)> {
    vec![
        ("envs/prod/checkout.yaml", flags()),
        ("envs/prod/search.yaml", search()),
    ]
}

fn start(n: usize, files: &[(&'static str, String)]) -> Option<Cluster> {
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    Cluster::start_with(n, &files)
}

/// Waits until `pointer` of `flag`'s rollout is `value` on every replica.
fn all_say(replicas: &[&Daemon], flag: &str, pointer: &str, value: Value) {
    eventually(
        DEADLINE,
        &format!("{flag}{pointer} = {value} on every replica"),
        || {
            replicas
                .iter()
                .all(|r| {
                    r.get(&format!("/api/v1/rollouts/{flag}"))
                        .1
                        .pointer(pointer)
                        == Some(&value)
                })
                .then_some(())
        },
    );
}

/// The record etcd holds for `flag`, as JSON.
fn record(cluster: &Cluster, flag: &str) -> Option<Value> {
    let text = cluster.etcd.get(&format!("{PREFIX}rollouts/{flag}"))?;
    serde_json::from_str(&text).ok()
}

/// `flag` for users `user-0` … `user-199` on `replica`.
fn served(replica: &Daemon, flag: &str) -> Vec<bool> {
    let http = client();
    (0..200)
        .map(|i| {
            let url = replica.url(&format!("/api/v1/flags/{flag}/evaluate?userId=user-{i}"));
            let body: Value = http.get(url).send().unwrap().json().unwrap();
            body["value"].as_bool().unwrap()
        })
        .collect()
}

fn rejected(replica: &Daemon) -> u64 {
    replica.get_ok("/api/v1/rollouts")["cluster"]["rejectedRecords"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn a_bad_record_is_ignored_reported_and_written_over_without_touching_another_flag() {
    let Some(cluster) = start(3, &two_canaries()) else {
        return;
    };
    cluster.leader();
    cluster.gate.release(1);
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    all_say(&all, "checkout", "/stage", 1.into());
    all_say(&all, "search", "/stage", 1.into());
    let good_search = record(&cluster, "search").unwrap();

    // `rollouts/checkout` naming `search`: it must not become search's.
    let mut foreign = record(&cluster, "checkout").unwrap();
    foreign["flag"] = "search".into();
    foreign["stage"] = 0.into();
    foreign["threshold"] = 10_000.into();
    cluster
        .etcd
        .put(&format!("{PREFIX}rollouts/checkout"), &foreign.to_string());
    eventually(DEADLINE, "checkout's own record written back", || {
        (record(&cluster, "checkout")?["flag"] == "checkout").then_some(())
    });
    for r in &all {
        let s = r.get_ok("/api/v1/rollouts/search");
        assert_eq!(
            (s["stage"].clone(), s["percentage"].clone()),
            (json!(1), json!(50.0)),
            "{s}"
        );
        let s = r.get_ok("/api/v1/rollouts/checkout");
        assert_eq!(s["stage"], 1, "{s}");
        eventually(DEADLINE, "the bad record reported", || {
            (rejected(r) >= 1).then_some(())
        });
    }
    // search still steers, through any replica.
    let (status, body) = all[1].post("/api/v1/rollouts/search/pause", "");
    assert_eq!(status, 200, "{body}");
    let (status, body) = all[2].post("/api/v1/rollouts/search/resume", "");
    assert_eq!(status, 200, "{body}");
    all_say(&all, "search", "/phase", "progressing".into());

    // Out of range: each is ignored, counted and written over; the
    // rollout keeps its last good record everywhere.
    let good_search = record(&cluster, "search").unwrap_or(good_search);
    let mut bad = Vec::new();
    for (field, value) in [
        ("stage", json!(999)),
        ("threshold", json!(4_000_000_000_u32)),
        ("phase", json!("rolled_back")),
    ] {
        let mut r = good_search.clone();
        r[field] = value;
        if field == "phase" {
            r["threshold"] = 100_000.into();
        }
        bad.push(r);
    }
    bad.push(json!({"flag": "search", "garbage": true}));
    let before = rejected(all[0]);
    for (n, b) in bad.iter().enumerate() {
        cluster
            .etcd
            .put(&format!("{PREFIX}rollouts/search"), &b.to_string());
        eventually(
            DEADLINE,
            &format!("search's good record back over {b}"),
            || {
                let r = record(&cluster, "search")?;
                (r["stage"] == 1 && r["threshold"] == 50_000 && r["phase"] == "progressing")
                    .then_some(())
            },
        );
        for r in &all {
            let s = r.get_ok("/api/v1/rollouts/search");
            assert_eq!(
                (s["stage"].clone(), s["phase"].clone()),
                (json!(1), json!("progressing")),
                "{s} after {b}"
            );
        }
        eventually(DEADLINE, "the bad record counted", || {
            (rejected(all[0]) > before + n as u64).then_some(())
        });
    }
    let metrics = all[0].get_text("/metrics");
    assert!(
        metric(&metrics, "flagd_cluster_rejected_records_total").unwrap_or(0.0) >= 5.0,
        "{metrics}"
    );
    // Both complete as usual.
    cluster.gate.release(3);
    all_say(&all, "search", "/phase", "completed".into());
    all_say(&all, "checkout", "/phase", "completed".into());
}

/// A linear ramp over a week and a canary holding mid-stage: almost nothing
/// changes, so the replicas almost never write. Before, the leader wrote
/// the ramp's record on every tick and on the echo of its own write (7–19
/// a second), and the canary's record on every check round.
#[test]
fn replicas_write_only_when_a_rollout_really_changes() {
    let ramp = "flags:\n  ramp:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rollout: {strategy: linear, serve: on, from: 0, to: 100, over: 168h}\n";
    let Some(cluster) = start(
        3,
        &[
            ("envs/prod/checkout.yaml", flags()),
            ("envs/prod/ramp.yaml", ramp.to_owned()),
        ],
    ) else {
        return;
    };
    cluster.leader();
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    all_say(&all, "ramp", "/phase", "progressing".into());
    all_say(&all, "checkout", "/checks/0/outcome", "no_data".into());

    // 10 s here; longer for docs/cluster.md's figures
    // (CLUSTER_WRITES_WINDOW=600).
    let window = Duration::from_secs(
        std::env::var("CLUSTER_WRITES_WINDOW")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10),
    );
    let (revision, size) = (cluster.etcd.revision(), cluster.etcd.db_size());
    let started = Instant::now();
    // A measurement over a fixed window: nothing to await.
    std::thread::sleep(window);
    let writes = cluster.etcd.revision() - revision;
    let grown = cluster.etcd.db_size().saturating_sub(size);
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "writes: {writes} in {seconds:.1} s for 2 rollouts ({:.0} per rollout per hour); etcd grew {grown} bytes ({:.1} MB a day)",
        writes as f64 / seconds * 3600.0 / 2.0,
        grown as f64 / seconds * 86_400.0 / 1e6
    );
    // The ramp moves by one unit (0.001 %) every 6 s, a real change each;
    // the canary's unchanged rounds are stored once a minute.
    assert!(
        writes as f64 <= 4.0 * (seconds / 10.0).max(1.0),
        "{writes} etcd writes in {seconds:.1} s with nothing but a slow ramp moving"
    );
}

#[test]
fn a_leader_key_put_by_hand_is_removed_and_an_election_follows() {
    let Some(mut cluster) = Cluster::start(3) else {
        return;
    };
    let (old, _) = cluster.leader();
    cluster
        .etcd
        .put(&format!("{PREFIX}leader"), "someone-by-hand");
    // A new election: the key is again on a lease, naming a replica, and
    // the replicas agree.
    let (leader, li) = cluster.leader();
    let key = cluster.etcd.kv(&format!("{PREFIX}leader")).unwrap();
    assert_ne!(key["lease"].as_str().unwrap_or("0"), "0", "{key}");
    assert!(cluster.replicas.iter().any(|r| rejected(r) >= 1));
    eprintln!("leader before the hand edit: {old}, after: {leader}");

    // Not a permanent state either: the leader dies, another leads and the
    // rollout moves on.
    drop(cluster.replicas.remove(li));
    let (next, _) = cluster.leader();
    assert_ne!(next, leader);
    cluster.gate.release(1);
    let rest: Vec<&Daemon> = cluster.replicas.iter().collect();
    all_report(&rest, DEADLINE, "/stage", 1.into());
}

/// A plain put over the leader key keeps its creation revision: the old
/// leader's fence must still refuse its writes.
#[test]
fn a_leader_whose_key_was_overwritten_decides_nothing_more() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    cluster.leader();
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    all_report(&all, DEADLINE, "/stage", 0.into());
    cluster
        .etcd
        .put(&format!("{PREFIX}leader"), "someone-by-hand");
    cluster.gate.release(1);
    // It gives the key up, is elected again on a lease, and only then
    // moves the rollout on: one `advanced`, by it.
    all_report(&all, DEADLINE, "/stage", 1.into());
    let key = cluster.etcd.kv(&format!("{PREFIX}leader")).unwrap();
    assert_ne!(key["lease"].as_str().unwrap_or("0"), "0", "{key}");
    let audit = all[0].get_ok("/api/v1/rollouts/checkout/audit");
    assert_eq!(
        transitions(&audit),
        [("started".to_owned(), 10.0), ("advanced".to_owned(), 50.0)]
    );
}

#[test]
fn a_long_audit_trail_reads_in_pages() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    cluster.leader();
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    all_report(&all, DEADLINE, "/stage", 0.into());
    // 100 000 entries of about 500 bytes: 50 MB, far over one message of
    // 4 MiB; the newest 10 000 (the API's most) alone are 5 MB.
    let padding = "x".repeat(400);
    cluster.etcd.put_many(
        &format!("{PREFIX}audit/checkout/0-bulk-"),
        100_000,
        &|n| {
            json!({"flag": "checkout", "event": "check_failed", "actor": "bulk", "n": n, "reason": padding})
                .to_string()
        },
    );
    cluster.gate.release(1);
    all_report(&all, DEADLINE, "/stage", 1.into());
    for path in [
        "/api/v1/rollouts/checkout/audit?limit=100000",
        "/api/v1/audit?limit=100000",
    ] {
        let asked = Instant::now();
        let (status, body) = all[0].get(path);
        assert_eq!(status, 200, "{path}: {}", body["error"]);
        let entries = body["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 10_000, "{path}");
        // Oldest first, ending with the newest: the leader's `advanced`.
        assert_eq!(entries.last().unwrap()["event"], "advanced", "{path}");
        let bulk: Vec<u64> = entries.iter().filter_map(|e| e["n"].as_u64()).collect();
        assert!(
            bulk.windows(2).all(|w| w[0] + 1 == w[1]),
            "{path}: no gap, no repeat"
        );
        assert_eq!(bulk.last(), Some(&99_999), "{path}");
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "{path}: {:?}",
            asked.elapsed()
        );
    }
}

/// The rollout records every replica's `served` answers say: checkout
/// completed (everyone on), search rolled back (everyone off).
fn assert_final(replicas: &[&Daemon]) {
    all_say(replicas, "checkout", "/phase", "completed".into());
    all_say(replicas, "search", "/phase", "rolled_back".into());
    for r in replicas {
        assert!(
            served(r, "checkout").iter().all(|on| *on),
            "checkout on for all"
        );
        assert!(
            served(r, "search").iter().all(|on| !on),
            "search off for all"
        );
    }
}

/// Waits until etcd holds checkout completed and search rolled back.
fn etcd_holds_final(cluster: &Cluster, what: &str) {
    eventually(DEADLINE, what, || {
        let c = record(cluster, "checkout")?;
        let s = record(cluster, "search")?;
        (c["phase"] == "completed" && s["phase"] == "rolled_back").then_some(())
    });
}

/// A replica on its own state directory, restartable on it.
fn replica_on(cluster: &Cluster, state: &std::path::Path, name: &str) -> Daemon {
    let url = cluster.etcd.url();
    Daemon::start(&[
        "--env",
        "prod",
        "--repo",
        cluster.repo.path_str(),
        "--state-dir",
        state.to_str().unwrap(),
        "--cluster",
        &url,
        "--cluster-lease-ttl",
        "1s",
        "--cluster-replica",
        name,
        "--metrics-url",
        &cluster.gate.url,
    ])
}

#[test]
fn etcd_restored_empty_or_from_an_old_snapshot_gets_back_what_the_replicas_know() {
    let Some(mut cluster) = start(0, &two_canaries()) else {
        return;
    };
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, d) in dirs.iter().enumerate() {
        let r = replica_on(&cluster, d.path(), &format!("r{i}"));
        cluster.replicas.push(r);
    }
    cluster.leader();
    let snapshot = cluster.etcd.snapshot();
    cluster.leader();
    cluster.gate.release(1);
    {
        let all: Vec<&Daemon> = cluster.replicas.iter().collect();
        all_say(&all, "search", "/stage", 1.into());
        let (status, body) = all[0].post("/api/v1/rollouts/search/abort", "");
        assert_eq!(status, 200, "{body}");
        cluster.gate.release(3);
        assert_final(&all);
    }

    // Restored empty: the replicas write back what they know; nothing is
    // started again, the rolled-back flag stays off.
    cluster.etcd.restore(None);
    etcd_holds_final(&cluster, "the records written back into an empty etcd");
    cluster.leader();
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    assert_final(&all);

    // Restored from a snapshot taken when both rollouts were at their
    // first stage: the newer records win.
    cluster.etcd.restore(Some(&snapshot));
    eventually(DEADLINE, "the snapshot's records replaced", || {
        let c = record(&cluster, "checkout")?;
        (c["phase"] == "completed").then_some(())
    });
    etcd_holds_final(&cluster, "the newer records written over the snapshot's");
    cluster.leader();
    assert_final(&all);
    drop(all);

    // Every replica restarted on its state directory while etcd lost
    // everything: they serve what they knew and start nothing over.
    cluster.replicas.clear();
    cluster.etcd.restore(None);
    for (i, d) in dirs.iter().enumerate() {
        let r = replica_on(&cluster, d.path(), &format!("r{i}"));
        cluster.replicas.push(r);
    }
    etcd_holds_final(&cluster, "the records written back by restarted replicas");
    cluster.leader();
    // And one with an empty state directory learns them from etcd.
    let newcomer = cluster.replica();
    newcomer.wait_ready();
    cluster.replicas.push(newcomer);
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    assert_final(&all);
    for flag in ["checkout", "search"] {
        let audit = all[3].get_ok(&format!("/api/v1/rollouts/{flag}/audit"));
        let events = texts_of(&audit["entries"], "event");
        assert!(
            !events.contains(&"started"),
            "{flag} started over after etcd was restored: {audit}"
        );
    }
}

/// libfaketime, which shifts a process's wall clock (and leaves its
/// monotonic clock alone).
const FAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// A replica whose wall clock is 5 s ahead says so: stage times are the
/// leader's wall-clock instants, so the clocks must agree (docs/cluster.md,
/// Clocks).
#[test]
fn a_replica_whose_clock_is_off_reports_the_skew() {
    let Some(()) = crate::support::require_that(
        std::path::Path::new(FAKETIME).exists(),
        "libfaketime is not installed (apt-get install libfaketime)",
    ) else {
        return;
    };
    let Some(mut cluster) = Cluster::start(1) else {
        return;
    };
    cluster.leader();
    let (_state, state) = state_dir();
    let url = cluster.etcd.url();
    let mut command = std::process::Command::new(flagd_binary());
    command
        .args(["--env", "prod", "--repo", cluster.repo.path_str()])
        .arg("--state-dir")
        .arg(&state)
        .args(["--cluster", &url, "--cluster-lease-ttl", "1s"])
        .args(["--metrics-url", &cluster.gate.url])
        .args(["--listen", "127.0.0.1:0", "--poll", "200ms"])
        .env("LD_PRELOAD", FAKETIME)
        .env("FAKETIME", "+5s")
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    let skewed = Daemon::launch(command);
    skewed.wait_ready();
    cluster.replicas.push(skewed);
    cluster.leader();
    // A write of the leader reaches it live.
    cluster.gate.release(1);
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    all_report(&all, DEADLINE, "/stage", 1.into());
    let skewed = &cluster.replicas[1];
    let ready = eventually(DEADLINE, "the skew in /readyz", || {
        let (_, body) = skewed.get("/readyz");
        body["cluster"]["clockSkewMs"].as_i64().map(|_| body)
    });
    let skew = ready["cluster"]["clockSkewMs"].as_i64().unwrap();
    assert!((4000..7000).contains(&skew), "{ready}");
    let metrics = skewed.get_text("/metrics");
    let seconds = metric(&metrics, "flagd_cluster_clock_skew_seconds").unwrap();
    assert!((4.0..7.0).contains(&seconds), "{metrics}");
    let mut logs = String::new();
    eventually(DEADLINE, "the warning in the log", || {
        logs.push_str(&skewed.logs());
        logs.contains("keep the replicas' clocks in sync")
            .then_some(())
    });
    // The leader's own clock is the reference: it reports none.
    assert!(
        cluster.replicas[0].get_ok("/readyz")["cluster"]["clockSkewMs"].is_null(),
        "the leader measures nothing"
    );
}
