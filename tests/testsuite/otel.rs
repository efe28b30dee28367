//! flagd's OpenTelemetry traces, received for real: a small OTLP/HTTP
//! receiver (tests/otel/receiver.py) decodes what flagd exports with the
//! `opentelemetry-proto` package's protobuf classes. A request carrying a
//! `traceparent` gives a server span in that trace with the flag's key,
//! variant and reason under the semantic conventions' names; a canary's
//! check rounds and transitions, a rollback included, arrive with their
//! check values; and with the receiver gone flagd serves on while its
//! dropped-span count rises (docs/observability.md).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::support::flagd::*;
use crate::support::require_that;
use serde_json::Value;

/// The receiver, killed on drop, and every span it decoded so far.
struct Receiver {
    child: Child,
    endpoint: String,
    spans: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    /// Starts the receiver, or `None` (skipped loudly, failed under CI)
    /// without python3 and its `opentelemetry-proto` package.
    fn start() -> Option<Receiver> {
        let python = require("python3")?;
        let has_proto = Command::new(&python)
            .args([
                "-c",
                "import opentelemetry.proto.collector.trace.v1.trace_service_pb2",
            ])
            .output()
            .is_ok_and(|out| out.status.success());
        require_that(
            has_proto,
            "python3 has no `opentelemetry-proto` package (pip install opentelemetry-proto; scripts/test.sh does)",
        )?;
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/otel/receiver.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the receiver starts");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let spans = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel();
        let received = spans.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if let Some(port) = line.strip_prefix("listening ") {
                    let _ = port_tx.send(port.to_owned());
                    continue;
                }
                let span: Value = serde_json::from_str(&line).expect("a span a line");
                assert!(span.get("error").is_none(), "undecodable export: {span}");
                received.lock().unwrap().push(span);
            }
        });
        let port = port_rx.recv_timeout(DEADLINE).expect("the receiver's port");
        Some(Receiver {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            spans,
        })
    }

    /// The first span received that `pick` accepts, waiting for it.
    fn span(&self, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
        eventually(DEADLINE, what, || {
            self.spans.lock().unwrap().iter().find(|s| pick(s)).cloned()
        })
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `checkout` in 1-second stages, checked every 300 ms, rolled back at
/// the first failing round.
fn flags() -> String {
    checkout_canary(
        r#"      stages:
        - { percentage: 10, duration: 1s }
        - { percentage: 50, duration: 1s }
        - { percentage: 90, duration: 1h }
        - { percentage: 100 }
      health:
        interval: 300ms
        failureLimit: 1
        noData: ignore
        checks:
          - { name: errors, query: 'errors{flag="{{flag}}"}', max: 0.05 }
"#,
    )
}

/// The Prometheus query API's answer with one series of `value`.
fn query_answer(value: f64) -> String {
    format!(
        r#"{{"status": "success", "data": {{"resultType": "vector", "result": [{{"metric": {{}}, "value": [1, "{value}"]}}]}}}}"#
    )
}

/// flagd on `repo` exporting to `endpoint`, its batches sent every 100 ms.
fn flagd(repo: &TempRepo, endpoint: &str, metrics: &str, state: &std::path::Path) -> Daemon {
    let mut command = Command::new(flagd_binary());
    command
        .args(["--env", "prod", "--repo", repo.path_str()])
        .args(["--state-dir", state.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--poll", "200ms"])
        .args(["--metrics-url", metrics, "--otlp-endpoint", endpoint])
        .args(["--otel-context-id"])
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "1000")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_TRACES_SAMPLER");
    Daemon::launch(command)
}

fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    &span["attributes"][key]
}

#[test]
fn traces_reach_a_real_otlp_receiver() {
    let Some(receiver) = Receiver::start() else {
        return;
    };
    let answer = Arc::new(Mutex::new(query_answer(0.0)));
    let metrics = format!("http://{}", serve("application/json", answer.clone()));
    let repo = TempRepo::new(&[("envs/prod/checkout.yaml", &flags())]);
    let (_guard, state) = state_dir();
    let d = flagd(&repo, &receiver.endpoint, &metrics, &state);
    d.wait_ready();

    // A request in the caller's trace.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let response = client()
        .get(d.url("/api/v1/flags/checkout/evaluate?userId=user-7"))
        .header("traceparent", format!("00-{trace_id}-{parent}-01"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let traceresponse = response.headers()["traceresponse"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().unwrap();
    let server = receiver.span("the request's server span", |s| {
        s["trace_id"] == trace_id && s["kind"] == 2
    });
    assert_eq!(server["parent_span_id"], parent, "{server}");
    assert_eq!(server["name"], "GET /api/v1/flags/{key}/evaluate");
    assert!(
        traceresponse.starts_with(&format!("00-{trace_id}-")),
        "{traceresponse}"
    );
    assert_eq!(attr(&server, "feature_flag.key"), "checkout");
    assert_eq!(
        attr(&server, "feature_flag.result.variant"),
        &body["variant"]
    );
    let reason = body["reason"].as_str().unwrap();
    let expected = if reason == "ROLLOUT" {
        "split"
    } else {
        "default"
    };
    assert_eq!(
        attr(&server, "feature_flag.result.reason"),
        expected,
        "{server}"
    );
    assert_eq!(attr(&server, "hotswap_flags.reason"), reason);
    assert_eq!(attr(&server, "feature_flag.provider.name"), "hotswap-flags");
    assert_eq!(attr(&server, "feature_flag.version"), &body["version"]);
    assert_eq!(attr(&server, "feature_flag.set.id"), "prod");
    assert_eq!(attr(&server, "feature_flag.context.id"), "user-7");
    assert_eq!(attr(&server, "http.response.status_code"), 200);
    let event = &server["events"][0];
    assert_eq!(event["name"], "feature_flag.evaluation");
    assert_eq!(event["attributes"]["feature_flag.key"], "checkout");
    assert_eq!(server["resource"]["service.name"], "flagd");

    // Without a `traceparent`: a trace of its own, the server span its root.
    let response = client()
        .get(d.url("/api/v1/flags/checkout/evaluate?userId=user-8"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let traceresponse = response.headers()["traceresponse"].to_str().unwrap();
    let own_trace = traceresponse.split('-').nth(1).unwrap().to_owned();
    assert_ne!(own_trace, trace_id);
    let root = receiver.span("a request's own trace", |s| s["trace_id"] == own_trace);
    assert_eq!(root["kind"], 2, "{root}");
    assert!(
        root["parent_span_id"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{root}"
    );
    assert_eq!(attr(&root, "feature_flag.context.id"), "user-8");

    // A bulk request: an event per flag on one span, none of its own.
    let bulk_trace = "5bf92f3577b34da6a3ce929d0e0e4736";
    let (status, _) = {
        let r = client()
            .post(d.url("/ofrep/v1/evaluate/flags"))
            .header("traceparent", format!("00-{bulk_trace}-{parent}-01"))
            .json(&serde_json::json!({"context": {"targetingKey": "user-8"}}))
            .send()
            .unwrap();
        (r.status(), ())
    };
    assert_eq!(status, 200);
    let bulk = receiver.span("the bulk request's span", |s| s["trace_id"] == bulk_trace);
    assert!(attr(&bulk, "feature_flag.key").is_null(), "{bulk}");
    assert_eq!(
        bulk["events"][0]["attributes"]["feature_flag.key"],
        "checkout"
    );

    // The canary advances on time after passing rounds, each round's
    // check values recorded.
    let advanced = receiver.span("an `advanced` transition", |s| {
        s["name"] == "rollout.transition" && attr(s, "hotswap_flags.rollout.event") == "advanced"
    });
    assert_eq!(attr(&advanced, "feature_flag.key"), "checkout");
    // A stage ends on time (its rounds passed): no values of its own.
    assert_eq!(
        attr(&advanced, "hotswap_flags.rollout.from.percentage"),
        10.0
    );
    assert_eq!(attr(&advanced, "hotswap_flags.rollout.to.percentage"), 50.0);
    let round = receiver.span("a check round", |s| s["name"] == "rollout.check_round");
    assert_eq!(attr(&round, "feature_flag.key"), "checkout");
    let check = round["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "rollout.check")
        .unwrap_or_else(|| panic!("no check event: {round}"));
    assert_eq!(check["attributes"]["hotswap_flags.check.name"], "errors");
    assert_eq!(check["attributes"]["hotswap_flags.check.value"], 0.0);
    assert_eq!(check["attributes"]["hotswap_flags.check.outcome"], "pass");

    // Unhealthy: the failing round rolls it back, in that round's trace.
    *answer.lock().unwrap() = query_answer(0.5);
    let rollback = receiver.span("a `rolled_back` transition", |s| {
        s["name"] == "rollout.transition" && attr(s, "hotswap_flags.rollout.event") == "rolled_back"
    });
    let values: Value = serde_json::from_str(
        attr(&rollback, "hotswap_flags.check.values")
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(values["errors"], 0.5, "{rollback}");
    assert_eq!(
        attr(&rollback, "hotswap_flags.rollout.to.phase"),
        "rolled_back"
    );
    let failing_round = receiver.span("the round that failed", |s| {
        s["span_id"] == rollback["parent_span_id"]
    });
    assert_eq!(failing_round["name"], "rollout.check_round");
    assert_eq!(
        attr(&failing_round, "hotswap_flags.rollout.decision"),
        "rolled_back"
    );
    assert_eq!(failing_round["trace_id"], rollback["trace_id"]);

    // The receiver gone: requests are answered as fast, spans dropped.
    let http = client();
    let timed = |n: usize| {
        let start = Instant::now();
        for i in 0..n {
            let r = http
                .get(d.url(&format!("/api/v1/flags/checkout/evaluate?userId=u{i}")))
                .header("traceparent", format!("00-{trace_id}-{parent}-01"))
                .send()
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        start.elapsed()
    };
    let up = timed(200);
    drop(receiver);
    let dropped = |d: &Daemon| metric(&d.get_text("/metrics"), "flagd_trace_spans_dropped_total");
    let before = dropped(&d).unwrap_or(0.0);
    let down = timed(200);
    assert!(
        down <= up * 3 + Duration::from_millis(500),
        "200 requests took {down:?} with the receiver down, {up:?} with it up"
    );
    eventually(DEADLINE, "the dropped-span count to rise", || {
        (dropped(&d)? > before).then_some(())
    });
}

/// A ratio sampler keeps that share of the requests that start a trace
/// (flagd asks the sampler before building their spans, then hands the
/// decided trace id to the span: a second draw would keep the ratio's
/// square), and a kept request's span is in the trace it answers with.
#[test]
fn a_ratio_sampler_keeps_that_share_of_new_traces() {
    let Some(receiver) = Receiver::start() else {
        return;
    };
    let answer = Arc::new(Mutex::new(query_answer(0.0)));
    let metrics = format!("http://{}", serve("application/json", answer));
    let repo = TempRepo::new(&[("envs/prod/checkout.yaml", &flags())]);
    let (_guard, state) = state_dir();
    let mut command = Command::new(flagd_binary());
    command
        .args(["--env", "prod", "--repo", repo.path_str()])
        .args(["--state-dir", state.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--metrics-url", &metrics])
        .args(["--otlp-endpoint", &receiver.endpoint])
        .args([
            "--otel-sampler",
            "traceidratio",
            "--otel-sampler-arg",
            "0.5",
        ])
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_TRACES_SAMPLER")
        .env_remove("OTEL_TRACES_SAMPLER_ARG");
    let d = Daemon::launch(command);
    d.wait_ready();
    let http = client();
    let kept: Vec<String> = (0..400)
        .filter_map(|i| {
            let url = d.url(&format!("/api/v1/flags/checkout/evaluate?userId=u-{i}"));
            let response = http.get(url).send().unwrap();
            assert_eq!(response.status(), 200);
            let header = response.headers().get("traceresponse")?.to_str().unwrap();
            Some(header.split('-').nth(1).unwrap().to_owned())
        })
        .collect();
    // Half of 400, give or take five standard deviations (10 each); a
    // ratio applied twice would keep about 100.
    assert!((150..=250).contains(&kept.len()), "{} kept", kept.len());
    for trace in &kept[..3] {
        let span = receiver.span("a kept request's span", |s| s["trace_id"] == *trace);
        assert_eq!(span["kind"], 2, "{span}");
    }
}

/// `--check-config` says where traces go and how they are sampled, from
/// the standard variables; an option wins over its variable.
#[test]
fn check_config_says_where_traces_go() {
    let check = |args: &[&str], vars: &[(&str, &str)]| {
        let mut command = Command::new(flagd_binary());
        command
            .args(["--check-config", "--env", "prod", "--repo", "flags"])
            .args(args)
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .env_remove("OTEL_TRACES_SAMPLER")
            .env_remove("OTEL_TRACES_SAMPLER_ARG")
            .env_remove("OTEL_SERVICE_NAME");
        command.envs(vars.iter().copied());
        let out = command.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    let (code, text) = check(&[], &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("\ntracing: off\n"), "{text}");

    let vars = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
        ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.01"),
    ];
    let (code, text) = check(&[], &vars);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("\ntracing: http/protobuf http://collector:4318/v1/traces service flagd sampler parentbased_traceidratio 0.01\n"),
        "{text}"
    );
    let (_, text) = check(
        &["--otel-service-name", "flags", "--otel-sampler-arg", "0.5"],
        &vars,
    );
    assert!(
        text.contains("service flags sampler parentbased_traceidratio 0.5"),
        "{text}"
    );

    let (code, text) = check(&["--otlp-protocol", "grpc"], &vars);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("http/protobuf"), "{text}");
}
