//! Cluster mode: three real flagd replicas sharing rollout state through a
//! real etcd (docs/cluster.md). One leader decides; every replica serves
//! the same positions, answers the same rollout status, names the leader
//! and reads the one audit trail.
//!
//! The metrics endpoint is a stand-in answering the Prometheus query API
//! ([`StageGate`]): a stage's checks pass once the test releases it, so
//! the test, not the machine's speed, decides how long each stage lasts.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::support::etcd::Etcd;
use crate::support::flagd::*;
use serde_json::Value;

/// `checkout` in one-second stages, checked every 200 ms; a stage's check
/// asks for `stage_N` (N from 1), which the gate answers.
pub(crate) fn flags() -> String {
    checkout_canary(
        r#"      stages:
        - { percentage: 10, duration: 1s }
        - { percentage: 50, duration: 1s }
        - { percentage: 100 }
      health:
        interval: 200ms
        noData: ignore
        checks:
          - { name: errors, query: 'stage_{{stage}}', max: 0.05 }
"#,
    )
}

/// A stand-in Prometheus: `stage_N` has a passing value once stage N is
/// released, and no series before (so the stage holds: `noData: ignore`);
/// a failing value for every stage once it is told to fail.
pub(crate) struct StageGate {
    released: Arc<AtomicU32>,
    failing: Arc<std::sync::atomic::AtomicBool>,
    pub(crate) url: String,
}

impl StageGate {
    pub(crate) fn start() -> StageGate {
        StageGate::start_on("127.0.0.1")
    }

    /// The stand-in on an ephemeral port of `ip`.
    pub(crate) fn start_on(ip: &str) -> StageGate {
        let released = Arc::new(AtomicU32::new(0));
        let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let gate = released.clone();
        let fail = failing.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                let _ = reader.read_line(&mut request);
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                let stage: Option<u32> = request
                    .split("query=stage_")
                    .nth(1)
                    .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|n| n.parse().ok());
                let open = stage.is_some_and(|n| n <= gate.load(Ordering::SeqCst));
                let result = if fail.load(Ordering::SeqCst) {
                    r#"[{"metric": {}, "value": [1, "1"]}]"#
                } else if open {
                    r#"[{"metric": {}, "value": [1, "0"]}]"#
                } else {
                    "[]"
                };
                let body = format!(
                    r#"{{"status": "success", "data": {{"resultType": "vector", "result": {result}}}}}"#
                );
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        StageGate {
            released,
            failing,
            url,
        }
    }

    /// Makes every check fail (an error rate of 1 against a max of 0.05),
    /// or pass as released again.
    pub(crate) fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Lets the checks of stage `n` (from 1) and those before pass.
    pub(crate) fn release(&self, n: u32) {
        self.released.store(n, Ordering::SeqCst);
    }
}

/// etcd, a flags repository, the metrics stand-in and the replicas.
pub(crate) struct Cluster {
    pub(crate) etcd: Etcd,
    pub(crate) repo: TempRepo,
    pub(crate) gate: StageGate,
    pub(crate) replicas: Vec<Daemon>,
}

impl Cluster {
    /// etcd and `n` replicas serving [`flags`], no stage released; `None`
    /// when etcd is not installed (skipped, see `require`).
    pub(crate) fn start(n: usize) -> Option<Cluster> {
        Cluster::start_with(n, &[("envs/prod/checkout.yaml", &flags())])
    }

    /// etcd and `n` replicas serving `files`.
    pub(crate) fn start_with(n: usize, files: &[(&str, &str)]) -> Option<Cluster> {
        let etcd = Etcd::start()?;
        let repo = TempRepo::new(files);
        let mut cluster = Cluster {
            etcd,
            repo,
            gate: StageGate::start(),
            replicas: Vec::new(),
        };
        for _ in 0..n {
            let replica = cluster.replica();
            cluster.replicas.push(replica);
        }
        for r in &cluster.replicas {
            r.wait_ready();
        }
        Some(cluster)
    }

    /// A new replica (its own state dir) joining the cluster.
    pub(crate) fn replica(&self) -> Daemon {
        let url = self.etcd.url();
        Daemon::on_repo(
            &self.repo,
            &[
                "--cluster",
                &url,
                "--cluster-lease-ttl",
                "1s",
                "--metrics-url",
                &self.gate.url,
            ],
        )
    }

    /// The leader's name once every replica names the same one, and its
    /// index among the replicas.
    pub(crate) fn leader(&self) -> (String, usize) {
        eventually(DEADLINE, "every replica to name one leader", || {
            let views: Vec<Value> = self
                .replicas
                .iter()
                .map(|r| r.get("/api/v1/rollouts").1["cluster"].clone())
                .collect();
            let leader = views[0]["leader"].as_str()?;
            let leading: Vec<usize> = (0..views.len())
                .filter(|i| views[*i]["leading"] == true)
                .collect();
            let agreed = views.iter().all(|v| v["leader"] == leader);
            let named = leading
                .first()
                .is_some_and(|i| views[*i]["replica"] == leader);
            (agreed && leading.len() == 1 && named).then(|| (leader.to_owned(), leading[0]))
        })
    }
}

/// `checkout` for users `user-0` … `user-999` on the replica at `base`,
/// in order.
pub(crate) fn answers(base: &str) -> Vec<bool> {
    let http = client();
    (0..1000)
        .map(|i| {
            let url = format!("{base}/api/v1/flags/checkout/evaluate?userId=user-{i}");
            let body: Value = http.get(url).send().unwrap().json().unwrap();
            body["value"].as_bool().unwrap()
        })
        .collect()
}

pub(crate) fn stage(replica: &Daemon) -> Value {
    replica.get("/api/v1/rollouts/checkout").1["stage"].clone()
}

#[test]
fn three_replicas_serve_identical_answers_at_every_stage() {
    let Some(cluster) = Cluster::start(3) else {
        return;
    };
    let (leader, _) = cluster.leader();
    assert_eq!(
        cluster.etcd.get("/hotswap-flags/prod/leader").as_deref(),
        Some(leader.as_str()),
        "the leader key in etcd, under the default prefix"
    );

    for (stage_index, percentage) in [(0, 10.0), (1, 50.0), (2, 100.0)] {
        // The stage holds until released: sampled while every replica
        // serves it.
        eventually(DEADLINE, &format!("stage {stage_index} everywhere"), || {
            cluster
                .replicas
                .iter()
                .all(|d| stage(d) == stage_index)
                .then_some(())
        });
        let sampled: Vec<Vec<bool>> = std::thread::scope(|s| {
            let handles: Vec<_> = cluster
                .replicas
                .iter()
                .map(|r| {
                    let base = r.base.as_str();
                    s.spawn(move || answers(base))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            sampled[0], sampled[1],
            "replicas 0 and 1 differ at stage {stage_index}"
        );
        assert_eq!(
            sampled[0], sampled[2],
            "replicas 0 and 2 differ at stage {stage_index}"
        );
        let share = sampled[0].iter().filter(|on| **on).count() as f64 / 10.0;
        assert!(
            (share - percentage).abs() <= 6.0,
            "{share} % served at stage {stage_index}, not about {percentage} %"
        );
        // The same status everywhere, naming the leader.
        let statuses: Vec<Value> = cluster
            .replicas
            .iter()
            .map(|r| r.get_ok("/api/v1/rollouts/checkout"))
            .collect();
        for s in &statuses {
            assert_eq!(s["leader"], leader.as_str(), "{s}");
            assert_eq!(s["stageStartedAt"], statuses[0]["stageStartedAt"], "{s}");
            assert_eq!(s["percentage"], percentage, "{s}");
        }
        cluster.gate.release(stage_index + 1);
    }

    // One audit trail, the same on every replica: each transition once,
    // made by the leader.
    for r in &cluster.replicas {
        let audit = r.get_ok("/api/v1/rollouts/checkout/audit");
        assert_eq!(
            transitions(&audit),
            [
                ("started".to_owned(), 10.0),
                ("advanced".to_owned(), 50.0),
                ("completed".to_owned(), 100.0)
            ]
        );
        for e in audit["entries"].as_array().unwrap() {
            assert_eq!(e["replica"], leader.as_str(), "{e}");
            assert_eq!(e["actor"], "controller", "{e}");
        }
    }

    // One check history, kept in etcd: the leader's rounds, the same from
    // every replica, every stage's included (docs/rollouts.md, Check
    // history).
    let histories: Vec<Value> = cluster
        .replicas
        .iter()
        .map(|r| r.get_ok("/api/v1/rollouts/checkout/history"))
        .collect();
    let rounds = histories[0]["rounds"].as_array().unwrap();
    for stage in [0, 1] {
        assert!(
            rounds
                .iter()
                .any(|r| r["stage"] == stage && r["outcome"] == "pass"),
            "no passing round of stage {stage}: {}",
            histories[0]
        );
    }
    for h in &histories[1..] {
        assert_eq!(h, &histories[0]);
    }
}

/// Sends `signal` to a replica.
pub(crate) fn signal(d: &Daemon, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(d.child.id()).unwrap();
    // SAFETY: signals a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// Waits until every replica in `replicas` reports `pointer` = `value` in
/// the rollout of `checkout`, within `within`; returns their statuses.
pub(crate) fn all_report(
    replicas: &[&Daemon],
    within: std::time::Duration,
    pointer: &str,
    value: Value,
) -> Vec<Value> {
    eventually(
        within,
        &format!("{pointer} = {value} on every replica"),
        || {
            let statuses: Vec<Value> = replicas
                .iter()
                .map(|r| r.get("/api/v1/rollouts/checkout").1)
                .collect();
            statuses
                .iter()
                .all(|s| s.pointer(pointer) == Some(&value))
                .then_some(statuses)
        },
    )
}

/// Each audit entry's event and the replica that made it.
/// The replica name `d` goes by in the cluster (`--cluster-replica`).
fn name(d: &Daemon) -> String {
    d.get_ok("/api/v1/rollouts")["cluster"]["replica"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) fn made_by(audit: &Value) -> Vec<(String, String)> {
    audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_owned(),
                e["replica"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn steering_through_a_follower_holds_cluster_wide() {
    let Some(cluster) = Cluster::start(3) else {
        return;
    };
    let (leader, li) = cluster.leader();
    let followers: Vec<&Daemon> = (0..3)
        .filter(|i| *i != li)
        .map(|i| &cluster.replicas[i])
        .collect();
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    all_report(&all, DEADLINE, "/stage", 0.into());

    // Paused through a follower: visible on every replica within a second.
    let (status, body) = followers[0].post("/api/v1/rollouts/checkout/pause", "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["phase"], "paused");
    assert_eq!(body["leader"], leader.as_str());
    all_report(
        &all,
        std::time::Duration::from_secs(1),
        "/phase",
        "paused".into(),
    );
    // The leader holds the same record: pausing twice is refused there.
    let (status, body) = cluster.replicas[li].post("/api/v1/rollouts/checkout/pause", "");
    assert_eq!(status, 409, "{body}");

    // Resumed through the other follower, promoted through the first: the
    // leader carries on from there.
    let (status, body) = followers[1].post("/api/v1/rollouts/checkout/resume", "");
    assert_eq!(status, 200, "{body}");
    all_report(
        &all,
        std::time::Duration::from_secs(1),
        "/phase",
        "progressing".into(),
    );
    let (status, body) = followers[0].post("/api/v1/rollouts/checkout/promote", "");
    assert_eq!(status, 200, "{body}");
    all_report(&all, std::time::Duration::from_secs(1), "/stage", 1.into());
    cluster.gate.release(3);
    all_report(&all, DEADLINE, "/phase", "completed".into());

    // One trail, read from any replica: who steered, through which
    // replica, and the leader's own transitions.
    let expected = vec![
        ("started".to_owned(), leader.clone()),
        ("paused".to_owned(), name(followers[0])),
        ("resumed".to_owned(), name(followers[1])),
        ("promoted".to_owned(), name(followers[0])),
        ("completed".to_owned(), leader.clone()),
    ];
    for r in &all {
        let audit = r.get_ok("/api/v1/rollouts/checkout/audit");
        assert_eq!(made_by(&audit), expected);
        let actors: Vec<&str> = texts_of(&audit["entries"], "actor");
        assert_eq!(
            actors,
            [
                "controller",
                "anonymous",
                "anonymous",
                "anonymous",
                "controller"
            ]
        );
    }
    // Still written as JSON lines, by the replica that made the entry.
    let lines = std::fs::read_to_string(followers[0].state_path().join("audit.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
}

#[test]
fn failover_after_kill_9_continues_the_stage_from_its_start() {
    let Some(mut cluster) = Cluster::start(3) else {
        return;
    };
    let (old, li) = cluster.leader();
    cluster.gate.release(1);
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    let before = all_report(&all, DEADLINE, "/stage", 1.into());

    // kill -9 the leader mid-stage (stage 2 is not released: it holds).
    drop(cluster.replicas.remove(li));
    let killed = std::time::Instant::now();
    let (new, _) = cluster.leader();
    assert_ne!(new, old);
    // Within the lease TTL (1 s) plus a check interval, with slack for a
    // loaded machine.
    assert!(
        killed.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        killed.elapsed()
    );
    let rest: Vec<&Daemon> = cluster.replicas.iter().collect();
    for s in all_report(&rest, DEADLINE, "/stage", 1.into()) {
        assert_eq!(s["stageStartedAt"], before[0]["stageStartedAt"], "{s}");
        assert_eq!(s["leader"], new.as_str());
    }
    cluster.gate.release(3);
    all_report(&rest, DEADLINE, "/phase", "completed".into());
    let audit = rest[0].get_ok("/api/v1/rollouts/checkout/audit");
    let made = made_by(&audit);
    let events: Vec<&str> = made.iter().map(|(event, _)| event.as_str()).collect();
    assert_eq!(
        events,
        ["started", "advanced", "completed"],
        "no stage skipped, repeated or restarted: {made:?}"
    );
    // Who started and advanced is whoever led then: on a loaded machine a
    // 1 s lease can lapse before the kill, and the election go either way.
    // The completion is a survivor's.
    assert_ne!(made[2].1, old, "{made:?}");
    let names: Vec<String> = rest.iter().copied().map(name).collect();
    assert!(names.contains(&made[2].1), "{made:?} {names:?}");
}

/// A rollout the leader rolled back stays rolled back when the leader
/// dies: the new leader neither rolls it back a second time nor restarts
/// it, even once its checks would pass again.
#[test]
fn a_rolled_back_flag_stays_rolled_back_after_failover() {
    let Some(mut cluster) = Cluster::start(3) else {
        return;
    };
    let (old, li) = cluster.leader();
    cluster.gate.release(1);
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    all_report(&all, DEADLINE, "/stage", 1.into());
    cluster.gate.fail(true);
    all_report(&all, DEADLINE, "/phase", "rolled_back".into());

    drop(cluster.replicas.remove(li));
    let (new, _) = cluster.leader();
    assert_ne!(new, old);
    // Checks would pass now; the new leader runs rounds every 200 ms. Over
    // ten of them nothing may move.
    cluster.gate.fail(false);
    cluster.gate.release(3);
    let rest: Vec<&Daemon> = cluster.replicas.iter().collect();
    let watched = std::time::Instant::now();
    while watched.elapsed() < std::time::Duration::from_secs(2) {
        for r in &rest {
            let status = r.get_ok("/api/v1/rollouts/checkout");
            assert_eq!(status["phase"], "rolled_back", "{status}");
            assert_eq!(status["percentage"], 0.0, "{status}");
        }
    }
    for r in &rest {
        assert!(
            answers(&r.base).iter().all(|on| !on),
            "everyone is back on off"
        );
    }
    let audit = rest[0].get_ok("/api/v1/rollouts/checkout/audit");
    assert_eq!(
        made_by(&audit),
        [
            ("started".to_owned(), old.clone()),
            ("advanced".to_owned(), old.clone()),
            ("rolled_back".to_owned(), old)
        ],
        "one rollback, by the leader that decided it"
    );
}

#[test]
fn a_leader_stopped_with_sigterm_hands_over_at_once() {
    let Some(etcd) = Etcd::start() else {
        return;
    };
    let gate = StageGate::start();
    let repo = TempRepo::new(&[("envs/prod/checkout.yaml", &flags())]);
    let url = etcd.url();
    // A long lease: only a resignation hands over within seconds.
    let args = [
        "--cluster",
        &url,
        "--cluster-lease-ttl",
        "30s",
        "--metrics-url",
        &gate.url,
    ];
    let mut replicas: Vec<Daemon> = (0..2).map(|_| Daemon::on_repo(&repo, &args)).collect();
    let leading = |d: &Daemon| d.get("/api/v1/rollouts").1["cluster"]["leading"] == true;
    let li = eventually(DEADLINE, "a leader", || {
        (0..2).find(|i| leading(&replicas[*i]))
    });
    let stopped = std::time::Instant::now();
    assert!(replicas.remove(li).terminate().success());
    eventually(DEADLINE, "the other replica to lead", || {
        leading(&replicas[0]).then_some(())
    });
    assert!(
        stopped.elapsed() < std::time::Duration::from_secs(10),
        "handed over after {:?}, not at once",
        stopped.elapsed()
    );
}

#[test]
fn a_leader_stopped_past_its_lease_writes_nothing_and_follows() {
    let Some(cluster) = Cluster::start(3) else {
        return;
    };
    let (old, li) = cluster.leader();
    let stopped = &cluster.replicas[li];
    let rest: Vec<&Daemon> = (0..3)
        .filter(|i| *i != li)
        .map(|i| &cluster.replicas[i])
        .collect();
    all_report(&rest, DEADLINE, "/stage", 0.into());

    signal(stopped, libc::SIGSTOP);
    let new = eventually(DEADLINE, "a new leader", || {
        let views: Vec<Value> = rest
            .iter()
            .map(|r| r.get("/api/v1/rollouts").1["cluster"].clone())
            .collect();
        let leader = views[0]["leader"].as_str()?;
        (leader != old && views.iter().all(|v| v["leader"] == leader)).then(|| leader.to_owned())
    });
    // The new leader moves the rollout on while the old one sleeps.
    cluster.gate.release(1);
    all_report(&rest, DEADLINE, "/stage", 1.into());

    // Woken: it finds itself fenced, writes nothing and follows.
    signal(stopped, libc::SIGCONT);
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    all_report(&all, DEADLINE, "/leader", Value::from(new.as_str()));
    all_report(&all, DEADLINE, "/stage", 1.into());
    cluster.gate.release(3);
    all_report(&all, DEADLINE, "/phase", "completed".into());
    let audit = stopped.get_ok("/api/v1/rollouts/checkout/audit");
    // Fenced, the woken replica wrote nothing: the stage it had started
    // was advanced by the new leader alone. The completion is the leader's
    // of that moment: on a loaded machine a lease can lapse again after
    // the handover, and the next election may go either way.
    let view = stopped.get_ok("/api/v1/rollouts")["cluster"].clone();
    let leader = view["leader"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        made_by(&audit),
        [
            ("started".to_owned(), old.clone()),
            ("advanced".to_owned(), new),
            ("completed".to_owned(), leader.clone())
        ]
    );
    assert_eq!(view["leading"], leader == old, "{view}");
}

#[test]
fn an_etcd_outage_freezes_positions_and_progression_resumes_after() {
    let Some(mut cluster) = Cluster::start(2) else {
        return;
    };
    cluster.leader();
    cluster.gate.release(1);
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    let before = all_report(&all, DEADLINE, "/stage", 1.into());
    drop(all);

    cluster.etcd.stop();
    // Stage 2 may pass now, but nobody decides while etcd is away.
    cluster.gate.release(3);
    for r in &cluster.replicas {
        let ready = eventually(DEADLINE, "the outage in /readyz", || {
            let (status, body) = r.get("/readyz");
            (body["clusterStore"] == "unreachable" && body["cluster"]["leading"] == false)
                .then_some((status, body))
        });
        assert_eq!(
            ready.0, 200,
            "still ready: it serves what it knew: {}",
            ready.1
        );
        let metrics = r.get_text("/metrics");
        assert_eq!(
            metric(&metrics, "flagd_cluster_store_up"),
            Some(0.0),
            "{metrics}"
        );
        let s = r.get_ok("/api/v1/rollouts/checkout");
        assert_eq!(s["stage"], 1, "{s}");
        assert_eq!(s["percentage"], 50.0);
        assert_eq!(s["stageStartedAt"], before[0]["stageStartedAt"]);
    }
    // A replica that never read the cluster state is not ready.
    let newcomer = cluster.replica();
    let (status, body) = newcomer.get("/readyz");
    assert_eq!(status, 503, "{body}");
    assert_says(&body, "/reason", "cluster");

    cluster.etcd.resume();
    newcomer.wait_ready();
    cluster.replicas.push(newcomer);
    let all: Vec<&Daemon> = cluster.replicas.iter().collect();
    all_report(&all, DEADLINE, "/phase", "completed".into());
    for r in &all {
        let (_, body) = r.get("/readyz");
        assert_eq!(body["clusterStore"], "reachable", "{body}");
    }
    let audit = all[2].get_ok("/api/v1/rollouts/checkout/audit");
    assert_eq!(
        transitions(&audit),
        [
            ("started".to_owned(), 10.0),
            ("advanced".to_owned(), 50.0),
            ("completed".to_owned(), 100.0)
        ]
    );
}

#[test]
fn the_first_replica_takes_over_a_single_flagds_state_dir() {
    let Some(cluster) = Cluster::start(0) else {
        return;
    };
    // A single flagd, mid-rollout at stage 2, stopped.
    let (_state, state) = state_dir();
    let single = [
        "--env",
        "prod",
        "--repo",
        cluster.repo.path_str(),
        "--state-dir",
        state.to_str().unwrap(),
        "--metrics-url",
        &cluster.gate.url,
    ];
    let d = Daemon::start(&single);
    cluster.gate.release(1);
    let before = all_report(&[&d], DEADLINE, "/stage", 1.into()).remove(0);
    assert!(d.terminate().success());

    // The first cluster start on that state dir, then one on an empty one.
    let url = cluster.etcd.url();
    let mut first_args = single.to_vec();
    first_args.extend(["--cluster", &url, "--cluster-lease-ttl", "1s"]);
    let first = Daemon::start(&first_args);
    first.wait_ready();
    let second = cluster.replica();
    second.wait_ready();
    let both = [&first, &second];
    for s in all_report(&both, DEADLINE, "/stage", 1.into()) {
        assert_eq!(s["stageStartedAt"], before["stageStartedAt"], "{s}");
        assert_eq!(s["startedAt"], before["startedAt"], "{s}");
    }
    let name = first.get_ok("/api/v1/rollouts")["cluster"]["replica"].clone();
    assert_eq!(
        cluster
            .etcd
            .get("/hotswap-flags/prod/migrated")
            .map(Value::from),
        Some(name)
    );
    cluster.gate.release(3);
    all_report(&both, DEADLINE, "/phase", "completed".into());
    // The single flagd's history comes along.
    let audit = second.get_ok("/api/v1/rollouts/checkout/audit");
    assert_eq!(
        transitions(&audit),
        [
            ("started".to_owned(), 10.0),
            ("advanced".to_owned(), 50.0),
            ("completed".to_owned(), 100.0)
        ]
    );
}

/// A flag running an experiment on the users of rule `eu`.
const LAYOUT: &str = r#"flags:
  layout:
    type: string
    variants: { control: c, gallery: g }
    default: control
    rules:
      - name: eu
        when: { attr: country, op: eq, value: DE }
        serve:
          split: { control: 50, gallery: 50 }
          experiment: { control: control }
"#;

#[test]
fn experiment_reports_count_the_exposures_of_every_replica() {
    let Some(etcd) = Etcd::start() else {
        return;
    };
    let repo = TempRepo::new(&[("envs/prod/layout.yaml", LAYOUT)]);
    let url = etcd.url();
    let args = ["--cluster", &url, "--cluster-lease-ttl", "1s"];
    let replicas = [Daemon::on_repo(&repo, &args), Daemon::on_repo(&repo, &args)];
    let http = client();
    for (r, users) in replicas.iter().zip([0..30, 100..150]) {
        r.wait_ready();
        for i in users {
            let url = r.url(&format!(
                "/api/v1/flags/layout/evaluate?userId=user-{i}&country=DE"
            ));
            assert_eq!(http.get(url).send().unwrap().status(), 200);
        }
    }
    // Asked of either replica, a report counts the exposures of both.
    for r in &replicas {
        let report = eventually(DEADLINE, "both replicas' counts", || {
            let report = r.get_ok("/api/v1/experiments/layout");
            (report["total"] == 80).then_some(report)
        });
        assert_eq!(report["replicas"].as_array().unwrap().len(), 2, "{report}");
        let by_variant: u64 = report["exposures"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(by_variant, 80, "{report}");
    }
}

#[test]
fn replicas_reach_etcd_over_tls_with_a_client_certificate_and_a_password() {
    let pki = crate::support::pki::pki("etcd");
    let Some(etcd) = Etcd::start_secured(&pki) else {
        return;
    };
    etcd.enable_auth("flagd", "s3cret");
    let dir = etcd.dir();
    let file = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap();
        dir.join(name).to_str().unwrap().to_owned()
    };
    // A certificate without a name: etcd's gateway refuses a named one
    // when authentication is on (docs/cluster.md, The etcd client), so
    // what flagd may do comes from its password alone.
    let (cert, key) = pki.client(None);
    let (cert, key) = (file("client.pem", &cert), file("client.key", &key));
    let (named_cert, named_key) = pki.client(Some("flagd"));
    let (named_cert, named_key) = (
        file("named.pem", &named_cert),
        file("named.key", &named_key),
    );
    let (ca, password) = (dir.join("ca.pem"), file("password", "s3cret\n"));
    let (url, ca) = (etcd.url(), ca.to_str().unwrap().to_owned());
    let repo = TempRepo::new(&[("envs/prod/checkout.yaml", &flags())]);
    let replica = |cert: &str, key: &str| {
        Daemon::on_repo(
            &repo,
            &[
                "--cluster",
                &url,
                "--cluster-lease-ttl",
                "1s",
                "--cluster-ca",
                &ca,
                "--cluster-cert",
                cert,
                "--cluster-key",
                key,
                "--cluster-user",
                "flagd",
                "--cluster-password-file",
                &password,
            ],
        )
    };
    let replicas = [replica(&cert, &key), replica(&cert, &key)];
    for r in &replicas {
        r.wait_ready();
    }
    eventually(DEADLINE, "both replicas to name one leader", || {
        let views: Vec<Value> = replicas
            .iter()
            .map(|r| r.get("/api/v1/rollouts").1["cluster"].clone())
            .collect();
        let leading = views.iter().filter(|v| v["leading"] == true).count();
        let leader = views[0]["leader"].as_str()?;
        let agreed = views.iter().all(|v| v["leader"] == leader);
        let reachable = views.iter().all(|v| v["storeReachable"] == true);
        (leading == 1 && agreed && reachable).then_some(())
    });

    // A named certificate is refused, and the log says what to do.
    let named = replica(&named_cert, &named_key);
    let mut logs = String::new();
    eventually(
        DEADLINE,
        "the refusal of a named certificate in the log",
        || {
            logs.push_str(&named.logs());
            logs.contains("certificate without one").then_some(())
        },
    );
    assert_eq!(named.get("/readyz").0, 503, "never read the records");
}
