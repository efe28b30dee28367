//! flagd for browsers and mobile apps: which pages may read its answers
//! (CORS), and the change events that tell them to fetch again (OFREP
//! server-sent events).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::flagd::*;
use serde_json::Value;

const FLAGS: &str =
    "flags:\n  f:\n    type: boolean\n    variants: { on: true, off: false }\n    default: on\n";
const PAGE: &str = "https://shop.example.com";
const DASHBOARD: &str = "https://ops.example.com";

fn daemon(options: &[&str]) -> (TempRepo, Daemon) {
    let repo = TempRepo::new(&[("envs/prod/f.yaml", FLAGS)]);
    let d = Daemon::on_repo(&repo, options);
    d.wait_ready();
    (repo, d)
}

/// A browser's preflight for a JSON POST from `origin` to `path`.
fn preflight(d: &Daemon, path: &str, origin: &str) -> reqwest::blocking::Response {
    client()
        .request(reqwest::Method::OPTIONS, d.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,x-api-key")
        .send()
        .unwrap()
}

fn header(response: &reqwest::blocking::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[test]
fn pages_of_a_listed_origin_may_evaluate_and_read_the_etag() {
    let (_repo, d) = daemon(&["--cors-origin", PAGE, "--allowed-origin", DASHBOARD]);
    let answer = preflight(&d, "/ofrep/v1/evaluate/flags", PAGE);
    assert!(answer.status().is_success(), "{}", answer.status());
    assert_eq!(
        header(&answer, "access-control-allow-origin").as_deref(),
        Some(PAGE)
    );
    let headers = header(&answer, "access-control-allow-headers").unwrap();
    assert!(
        headers.contains("x-api-key") && headers.contains("content-type"),
        "{headers}"
    );
    assert_eq!(header(&answer, "access-control-allow-credentials"), None);

    let bulk = client()
        .post(d.url("/ofrep/v1/evaluate/flags"))
        .header("origin", PAGE)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(bulk.status().as_u16(), 200);
    assert_eq!(
        header(&bulk, "access-control-allow-origin").as_deref(),
        Some(PAGE)
    );
    assert!(
        header(&bulk, "access-control-expose-headers")
            .unwrap()
            .contains("etag")
    );

    // Another page gets no permission, so its browser withholds the answer.
    let other = preflight(&d, "/ofrep/v1/evaluate/flags", "https://evil.example");
    assert_eq!(header(&other, "access-control-allow-origin"), None);
    // The evaluating page may not read or steer the operations endpoints;
    // the dashboard (--allowed-origin) may.
    let steer = preflight(&d, "/api/v1/rollouts/f/pause", PAGE);
    assert_eq!(header(&steer, "access-control-allow-origin"), None);
    let read = preflight(&d, "/api/v1/flags", DASHBOARD);
    assert_eq!(
        header(&read, "access-control-allow-origin").as_deref(),
        Some(DASHBOARD)
    );
}

#[test]
fn without_cors_origins_no_page_is_allowed() {
    let (_repo, d) = daemon(&[]);
    let answer = preflight(&d, "/ofrep/v1/evaluate/flags", PAGE);
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
}

#[test]
fn any_origin_with_a_star() {
    let (_repo, d) = daemon(&["--cors-origin", "*"]);
    let answer = preflight(&d, "/api/v1/evaluate", "https://anyone.example");
    assert_eq!(
        header(&answer, "access-control-allow-origin").as_deref(),
        Some("*")
    );
}

#[test]
fn an_origin_with_a_path_is_refused_with_the_fix() {
    let repo = TempRepo::new(&[("envs/prod/f.yaml", FLAGS)]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flagd"))
        .args(["--env", "prod", "--repo"])
        .arg(repo.path())
        .args(["--cors-origin", "https://shop.example.com/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("write it as a browser sends it: https://shop.example.com"),
        "{stderr}"
    );
}

/// An open `GET /ofrep/v1/events`, read as raw bytes.
struct EventStream {
    stream: TcpStream,
    received: String,
}

impl EventStream {
    fn open(d: &Daemon, last_event_id: Option<&str>) -> EventStream {
        let last = last_event_id.map_or(String::new(), |id| format!("Last-Event-ID: {id}\r\n"));
        let events = EventStream::request(d, "/ofrep/v1/events", &last);
        assert!(
            events.received.starts_with("HTTP/1.1 200"),
            "{}",
            events.received
        );
        assert!(
            events.received.contains("content-type: text/event-stream"),
            "{}",
            events.received
        );
        events
    }

    /// `GET uri` with `headers` (each ending in CRLF); the head is read.
    fn request(d: &Daemon, uri: &str, headers: &str) -> EventStream {
        let mut stream = TcpStream::connect(d.base.trim_start_matches("http://")).unwrap();
        write!(
            stream,
            "GET {uri} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n{headers}\r\n"
        )
        .unwrap();
        let mut events = EventStream {
            stream,
            received: String::new(),
        };
        events.read_until(DEADLINE, |text| text.contains("\r\n\r\n"));
        events
    }

    /// Reads until `done` holds for all that was received, the peer closes,
    /// or `within` passes; whether `done` held.
    fn read_until(&mut self, within: Duration, done: impl Fn(&str) -> bool) -> bool {
        read_until(&mut self.stream, &mut self.received, within, done)
    }

    /// Whether flagd closes the stream within the deadline.
    fn ended(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        self.stream.set_read_timeout(Some(DEADLINE)).unwrap();
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(n) => self.received.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
            }
        }
    }

    /// The `refetchEvaluation` events received so far.
    fn events(&self) -> Vec<Value> {
        self.received
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(|data| serde_json::from_str(data).unwrap())
            .collect()
    }

    /// Waits for the `n`th event.
    fn await_event(&mut self, n: usize) -> Value {
        let arrived = self.read_until(DEADLINE, |text| {
            text.lines().filter(|l| l.starts_with("data: ")).count() >= n
        });
        assert!(arrived, "no event {n} in: {}", self.received);
        self.events()[n - 1].clone()
    }
}

fn canary() -> String {
    checkout_canary(
        "      stages:\n        - { percentage: 10, duration: 1h }\n        - { percentage: 50, duration: 1h }\n        - { percentage: 100 }\n",
    )
}

#[test]
fn bulk_answers_name_the_event_stream() {
    let (_repo, d) = daemon(&[]);
    let (status, body) = d.post("/ofrep/v1/evaluate/flags", "{}");
    assert_eq!(status, 200, "{body}");
    let streams = &body["eventStreams"];
    assert_eq!(streams[0]["type"], "sse", "{body}");
    assert_eq!(
        streams[0]["endpoint"]["requestUri"], "/ofrep/v1/events",
        "{body}"
    );
    assert_eq!(streams[0]["inactivityDelaySec"], 120, "{body}");

    let (_repo, off) = daemon(&["--max-event-streams", "0"]);
    let (_, body) = off.post("/ofrep/v1/evaluate/flags", "{}");
    assert!(body.get("eventStreams").is_none(), "{body}");
}

#[test]
fn a_swap_and_a_stage_change_each_send_one_refetch_event() {
    let repo = TempRepo::new(&[("envs/prod/flags.yaml", &canary())]);
    let d = Daemon::on_repo(&repo, &[]);
    eventually(DEADLINE, "the rollout", || {
        (d.get("/api/v1/rollouts/checkout").0 == 200).then_some(())
    });
    let mut stream = EventStream::open(&d, None);

    // An edit of the flag file: swapped, then announced.
    repo.save(
        "envs/prod/flags.yaml",
        &canary().replace("default: off", "default: on"),
    );
    let first = stream.await_event(1);
    assert_eq!(first["type"], "refetchEvaluation", "{first}");
    assert!(
        first["etag"].is_string() && first["lastModified"].is_i64(),
        "{first}"
    );
    assert!(stream.received.contains("\nid: "), "{}", stream.received);

    // A stage change moves what is served: announced too.
    let (status, body) = d.post("/api/v1/rollouts/checkout/promote", "{}");
    assert_eq!(status, 200, "{body}");
    let second = stream.await_event(2);
    assert_ne!(first["etag"], second["etag"]);

    // A pause changes no percentage: nothing to fetch.
    let (status, _) = d.post("/api/v1/rollouts/checkout/pause", "{}");
    assert_eq!(status, 200);
    assert!(!stream.read_until(Duration::from_millis(500), |t| {
        t.lines().filter(|l| l.starts_with("data: ")).count() >= 3
    }));

    let metrics = d.get_text("/metrics");
    assert_eq!(
        metric(&metrics, "flagd_event_streams_open"),
        Some(1.0),
        "{metrics}"
    );
    assert!(
        metric(&metrics, "flagd_change_events_sent_total").unwrap() >= 2.0,
        "{metrics}"
    );
}

#[test]
fn a_client_that_missed_a_change_hears_of_it_on_reconnect() {
    let (repo, d) = daemon(&[]);
    repo.save(
        "envs/prod/f.yaml",
        &FLAGS.replace("default: on", "default: off"),
    );
    eventually(DEADLINE, "the edit served", || {
        (d.value("f") == Some(Value::Bool(false))).then_some(())
    });
    // It saw the change numbered 1 (the first load); there has been one since.
    let mut stream = EventStream::open(&d, Some("1"));
    assert_eq!(stream.await_event(1)["type"], "refetchEvaluation");
}

#[test]
fn streams_are_bounded_and_end_at_shutdown() {
    let (_repo, d) = daemon(&["--max-event-streams", "1"]);
    let mut open = EventStream::open(&d, None);
    let (status, body) = d.get("/ofrep/v1/events");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "TOO_MANY_STREAMS", "{body}");

    let stopping = Instant::now();
    let exit = d.terminate();
    assert!(exit.success(), "{exit:?}");
    // Well before the 30 s drain: the stream did not hold shutdown.
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "{:?}",
        stopping.elapsed()
    );
    // The stream ended cleanly: the last chunk, then the close.
    assert!(open.ended(), "{}", open.received);
    assert!(open.received.ends_with("0\r\n\r\n"), "{}", open.received);
}

const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";
const SERVER_KEY: &str = "server-key-0123456789";
const CLIENT_KEY: &str = "client-key-0123456789";

/// `banner` is for browsers; `internal` is not.
fn client_flags(banner: &str) -> String {
    format!(
        "flags:\n  banner:\n    type: string\n    clientSide: true\n    variants: {{ v: {banner} }}\n    default: v\n  internal:\n    type: boolean\n    variants: {{ on: true, off: false }}\n    default: off\n"
    )
}

/// A flagd where evaluation needs a key: a server key, a client key, and
/// HS256 tokens.
fn with_client_keys() -> (TempRepo, Daemon) {
    let repo = TempRepo::new(&[("envs/prod/flags.yaml", &client_flags("hello"))]);
    let dir = tempfile::tempdir().unwrap().keep();
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let secret = file("secret", SECRET);
    let server = file("server-keys", &format!("backend = {SERVER_KEY}\n"));
    let client = file("client-keys", &format!("web = {CLIENT_KEY}\n"));
    let d = Daemon::on_repo(
        &repo,
        &[
            "--auth-jwt-secret-file",
            &secret,
            "--api-keys-file",
            &server,
            "--client-api-keys-file",
            &client,
            "--auth-eval",
        ],
    );
    d.wait_ready();
    (repo, d)
}

/// POSTs `body` to `path` with `X-API-Key: key`.
fn post_with_key(d: &Daemon, path: &str, key: &str, body: &str) -> (u16, Value) {
    let response = client()
        .post(d.url(path))
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn keys_of(flags: &Value, field: &str) -> Vec<String> {
    flags
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f[field].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_client_key_sees_only_client_flags_and_nothing_of_the_others() {
    let (_repo, d) = with_client_keys();
    let (status, bulk) = post_with_key(&d, "/ofrep/v1/evaluate/flags", CLIENT_KEY, "{}");
    assert_eq!(status, 200, "{bulk}");
    assert_eq!(keys_of(&bulk["flags"], "key"), ["banner"]);
    let (_, bulk) = post_with_key(&d, "/ofrep/v1/evaluate/flags", SERVER_KEY, "{}");
    assert_eq!(keys_of(&bulk["flags"], "key"), ["banner", "internal"]);

    // A server-only flag answers exactly as a flag that does not exist.
    let single = |key: &str| {
        post_with_key(
            &d,
            &format!("/ofrep/v1/evaluate/flags/{key}"),
            CLIENT_KEY,
            "{}",
        )
    };
    let (hidden_status, hidden) = single("internal");
    let (missing_status, missing) = single("no-such-flag");
    assert_eq!((hidden_status, missing_status), (404, 404));
    assert_eq!(
        hidden.to_string().replace("internal", "KEY"),
        missing.to_string().replace("no-such-flag", "KEY")
    );
    assert_eq!(single("banner").1["value"], "hello");

    // flagd's own API: the same.
    let (_, bulk) = post_with_key(&d, "/api/v1/evaluate", CLIENT_KEY, "{}");
    assert_eq!(keys_of(&bulk["flags"], "flag"), ["banner"]);
    let asked = r#"{"flags": ["internal", "no-such-flag"]}"#;
    let (_, bulk) = post_with_key(&d, "/api/v1/evaluate", CLIENT_KEY, asked);
    let errors: Vec<String> = bulk["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["error"]["message"]
                .as_str()
                .unwrap()
                .replace(f["flag"].as_str().unwrap(), "KEY")
        })
        .collect();
    assert_eq!(errors[0], errors[1], "{bulk}");
    let (status, _) = post_with_key(&d, "/api/v1/flags/internal/evaluate", CLIENT_KEY, "{}");
    assert_eq!(status, 404);

    // A client key reads nothing of the operations endpoints.
    let status = client()
        .get(d.url("/api/v1/flags"))
        .header("x-api-key", CLIENT_KEY)
        .send()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 401);
}

#[test]
fn a_token_with_the_client_role_is_a_client_credential() {
    use jsonwebtoken::{EncodingKey, Header, encode};
    let (_repo, d) = with_client_keys();
    let now = jiff::Timestamp::now().as_second();
    let token = |role: &str| {
        let claims = serde_json::json!({"sub": "app", "exp": now + 3600, "role": role});
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    };
    let bulk = |token: &str| -> Value {
        client()
            .post(d.url("/ofrep/v1/evaluate/flags"))
            .bearer_auth(token)
            .body("{}")
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    assert_eq!(keys_of(&bulk(&token("client"))["flags"], "key"), ["banner"]);
    assert_eq!(
        keys_of(&bulk(&token("viewer"))["flags"], "key"),
        ["banner", "internal"]
    );
}

#[test]
fn a_client_stream_takes_its_ticket_and_hears_only_of_client_flags() {
    let (repo, d) = with_client_keys();
    let (_, bulk) = post_with_key(&d, "/ofrep/v1/evaluate/flags", CLIENT_KEY, "{}");
    let uri = bulk["eventStreams"][0]["endpoint"]["requestUri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(uri.starts_with("/ofrep/v1/events?ticket=k.web."), "{uri}");
    assert!(
        !uri.contains(CLIENT_KEY),
        "the key itself never goes into a URL: {uri}"
    );

    // Without the ticket, or with a forged one, the stream is refused.
    let refused = EventStream::request(&d, "/ofrep/v1/events", "");
    assert!(
        refused.received.starts_with("HTTP/1.1 401"),
        "{}",
        refused.received
    );
    let forged = uri.replace(&uri[uri.len() - 8..], "00000000");
    let refused = EventStream::request(&d, &forged, "");
    assert!(
        refused.received.starts_with("HTTP/1.1 401"),
        "{}",
        refused.received
    );

    let mut stream = EventStream::request(&d, &uri, "");
    assert!(
        stream.received.starts_with("HTTP/1.1 200"),
        "{}",
        stream.received
    );
    // A server flag changes: served, but the client hears nothing.
    repo.save(
        "envs/prod/flags.yaml",
        &client_flags("hello").replace("default: off", "default: on"),
    );
    eventually(DEADLINE, "the server flag's change served", || {
        let (_, v) = post_with_key(&d, "/ofrep/v1/evaluate/flags/internal", SERVER_KEY, "{}");
        (v["value"] == true).then_some(())
    });
    assert!(!stream.read_until(Duration::from_millis(500), |t| t.contains("data: ")));
    // The client flag changes: the client hears of it.
    repo.save(
        "envs/prod/flags.yaml",
        &client_flags("bonjour").replace("default: off", "default: on"),
    );
    assert_eq!(stream.await_event(1)["type"], "refetchEvaluation");
}
