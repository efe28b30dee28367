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
fn flags() -> String {
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
/// released, and no series before (so the stage holds: `noData: ignore`).
struct StageGate {
    released: Arc<AtomicU32>,
    url: String,
}

impl StageGate {
    fn start() -> StageGate {
        let released = Arc::new(AtomicU32::new(0));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let gate = released.clone();
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
                let result = if open {
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
        StageGate { released, url }
    }

    /// Lets the checks of stage `n` (from 1) and those before pass.
    fn release(&self, n: u32) {
        self.released.store(n, Ordering::SeqCst);
    }
}

/// etcd, a flags repository, the metrics stand-in and the replicas.
struct Cluster {
    etcd: Etcd,
    repo: TempRepo,
    gate: StageGate,
    replicas: Vec<Daemon>,
}

impl Cluster {
    /// etcd and `n` replicas serving [`flags`], no stage released; `None`
    /// when etcd is not installed (skipped, see `require`).
    fn start(n: usize) -> Option<Cluster> {
        let etcd = Etcd::start()?;
        let repo = TempRepo::new(&[("envs/prod/checkout.yaml", &flags())]);
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
    fn replica(&self) -> Daemon {
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
    fn leader(&self) -> (String, usize) {
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
fn answers(base: &str) -> Vec<bool> {
    let http = client();
    (0..1000)
        .map(|i| {
            let url = format!("{base}/api/v1/flags/checkout/evaluate?userId=user-{i}");
            let body: Value = http.get(url).send().unwrap().json().unwrap();
            body["value"].as_bool().unwrap()
        })
        .collect()
}

fn stage(replica: &Daemon) -> Value {
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
}
