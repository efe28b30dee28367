//! What a second outside probe of flagd found, each finding against the
//! real binary over real HTTP (docs/security.md, Threats): HTTP/2 frames
//! that held connections open, roles that failed open, a client view that
//! told when server flags changed, limits and tickets shared by every
//! holder of a key, quiet exposures, and a few small ones.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::flagd::*;
use serde_json::Value;

const FLAGS: &str =
    "flags:\n  f:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n";

fn daemon(options: &[&str]) -> (TempRepo, Daemon) {
    let repo = TempRepo::new(&[("envs/prod/f.yaml", FLAGS)]);
    let d = Daemon::on_repo(&repo, options);
    d.wait_ready();
    (repo, d)
}

fn address(d: &Daemon) -> String {
    d.base.trim_start_matches("http://").to_owned()
}

// ---------------------------------------------------------------- HTTP/2

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const END_STREAM_AND_HEADERS: u8 = 0x5;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut out = vec![length[1], length[2], length[3], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// `GET path` as an HTTP/2 HEADERS frame on `stream` (HPACK: indexed
/// `:method GET`, `:scheme http`; literal `:path` and `:authority`).
fn get_request(stream: u32, path: &str) -> Vec<u8> {
    let mut block = vec![0x82, 0x86, 0x04, u8::try_from(path.len()).unwrap()];
    block.extend_from_slice(path.as_bytes());
    block.extend_from_slice(&[0x01, 1, b'x']);
    frame(HEADERS, END_STREAM_AND_HEADERS, stream, &block)
}

/// A hand-made HTTP/2 client over cleartext with prior knowledge (h2c):
/// the preface and frames, nothing more.
struct H2c {
    stream: TcpStream,
    received: Vec<u8>,
    closed: bool,
    connected: Instant,
    /// When the client first saw the connection closed.
    closed_at: Option<Instant>,
}

impl H2c {
    /// Connects and sends the preface and an empty SETTINGS frame.
    fn connect(d: &Daemon) -> H2c {
        let mut stream = TcpStream::connect(address(d)).unwrap();
        stream.write_all(PREFACE).unwrap();
        stream.write_all(&frame(SETTINGS, 0, 0, &[])).unwrap();
        H2c {
            stream,
            received: Vec::new(),
            closed: false,
            connected: Instant::now(),
            closed_at: None,
        }
    }

    fn close_seen(&mut self) {
        self.closed = true;
        self.closed_at.get_or_insert_with(Instant::now);
    }

    /// Sends bytes; a refused write means flagd closed the connection.
    fn send(&mut self, bytes: &[u8]) {
        if self.stream.write_all(bytes).is_err() {
            self.close_seen();
        }
    }

    fn ping(&mut self) {
        self.send(&frame(PING, 0, 0, b"12345678"));
    }

    /// Reads what has arrived without waiting; notes whether flagd closed.
    fn poll(&mut self) -> bool {
        self.stream.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => self.close_seen(),
                Ok(n) => {
                    self.received.extend_from_slice(&buf[..n]);
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => self.close_seen(),
            }
            break;
        }
        self.stream.set_nonblocking(false).unwrap();
        self.closed
    }

    /// Waits until flagd closes the connection (reading and discarding);
    /// whether it did before `deadline`.
    fn closed_by(&mut self, deadline: Instant) -> bool {
        let mut buf = [0u8; 64 * 1024];
        while !self.closed {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            match self.stream.read(&mut buf) {
                Ok(0) => self.close_seen(),
                Ok(n) => self.received.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => self.close_seen(),
            }
        }
        true
    }

    /// The frames received so far: (type, flags, stream, payload).
    fn frames(&self) -> Vec<(u8, u8, u32, &[u8])> {
        let mut out = Vec::new();
        let mut rest = &self.received[..];
        while rest.len() >= 9 {
            let length = u32::from_be_bytes([0, rest[0], rest[1], rest[2]]) as usize;
            if rest.len() < 9 + length {
                break;
            }
            let stream = u32::from_be_bytes([rest[5], rest[6], rest[7], rest[8]]) & 0x7fff_ffff;
            out.push((rest[3], rest[4], stream, &rest[9..9 + length]));
            rest = &rest[9 + length..];
        }
        out
    }

    /// Whether flagd served this connection as HTTP/2 (its first frame is
    /// SETTINGS), rather than refusing it over the connection cap.
    fn served(&self) -> bool {
        self.received.len() >= 9 && self.received[3] == SETTINGS
    }

    /// Whether stream `id` was answered `:status 200` (HPACK index 8).
    fn answered_200(&self, id: u32) -> bool {
        self.frames().iter().any(|(kind, _, stream, payload)| {
            *kind == HEADERS && *stream == id && payload.first() == Some(&0x88)
        })
    }
}

/// Opens `n` HTTP/2 connections that flagd serves (one refused over the
/// cap while a test client's connection is still being released is
/// opened again).
fn open_h2(d: &Daemon, n: usize) -> Vec<H2c> {
    (0..n)
        .map(|_| {
            eventually(DEADLINE, "an HTTP/2 connection flagd serves", || {
                let mut c = H2c::connect(d);
                let start = Instant::now();
                while c.received.len() < 9 && !c.poll() && start.elapsed() < DEADLINE {
                    std::thread::yield_now();
                }
                c.served().then_some(c)
            })
        })
        .collect()
}

/// With every connection slot held by HTTP/2 connections that only PING
/// and send SETTINGS, each is still closed at the idle timeout — those
/// that made a request first too — and flagd answers again.
#[test]
fn http2_pings_and_settings_do_not_keep_a_connection_open() {
    let (_repo, d) = daemon(&["--idle-timeout", "1s", "--max-connections", "8"]);
    let mut connections = open_h2(&d, 8);
    for c in connections.iter_mut().step_by(2) {
        c.send(&get_request(1, "/healthz"));
    }
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut round = 0u32;
    while connections.iter().any(|c| !c.closed) && Instant::now() < deadline {
        for c in connections.iter_mut().filter(|c| !c.closed) {
            if round.is_multiple_of(2) {
                c.ping();
            } else {
                c.send(&frame(SETTINGS, 0, 0, &[]));
            }
            c.poll();
        }
        round += 1;
        // The client's pace: a frame every 100 ms, ten times more often
        // than the idle timeout.
        std::thread::sleep(Duration::from_millis(100));
    }
    let open = connections.iter().filter(|c| !c.closed).count();
    assert_eq!(open, 0, "{open} pinging connections were never closed");
    for (i, c) in connections.iter().enumerate() {
        if i.is_multiple_of(2) {
            assert!(
                c.answered_200(1),
                "connection {i}'s request: {:?}",
                c.frames()
            );
        }
        assert!(
            c.frames()
                .iter()
                .any(|(kind, flags, _, _)| *kind == PING && *flags == 1),
            "connection {i} was served its pings until then"
        );
        let lived = c.closed_at.unwrap() - c.connected;
        assert!(
            lived >= Duration::from_millis(900),
            "connection {i} closed before the idle timeout, after {lived:?}"
        );
    }
    assert_eq!(d.get("/healthz").0, 200);
}

/// A flood of PING frames closes the connection long before its idle
/// timeout; other clients are served meanwhile.
#[test]
fn a_flood_of_http2_control_frames_closes_the_connection() {
    let (_repo, d) = daemon(&["--idle-timeout", "60s"]);
    let mut flood = open_h2(&d, 1).pop().unwrap();
    let pings: Vec<u8> = (0..5000)
        .flat_map(|_| frame(PING, 0, 0, b"abcdefgh"))
        .collect();
    flood.send(&pings);
    assert!(
        flood.closed_by(Instant::now() + Duration::from_secs(5)),
        "a connection that sent 5000 PINGs at once is still open"
    );
    let pongs = flood
        .frames()
        .iter()
        .filter(|(kind, flags, _, _)| *kind == PING && *flags == 1)
        .count();
    assert!(pongs < 5000, "every ping was answered ({pongs})");
    assert_eq!(d.get("/healthz").0, 200);
}

/// An event stream over HTTP/2 is a request in flight: it outlives the
/// idle timeout, its keep-alive comments arriving as data.
#[test]
fn an_http2_event_stream_outlives_the_idle_timeout() {
    let (_repo, d) = daemon(&["--idle-timeout", "1s"]);
    let mut c = open_h2(&d, 1).pop().unwrap();
    c.send(&get_request(1, "/ofrep/v1/events"));
    assert!(
        !c.closed_by(Instant::now() + Duration::from_millis(2500)),
        "the stream was closed"
    );
    assert!(c.answered_200(1), "{:?}", c.frames());
    let comments = c
        .frames()
        .iter()
        .filter(|(kind, _, stream, payload)| {
            *kind == DATA && *stream == 1 && payload.starts_with(b":")
        })
        .count();
    assert!(comments >= 2, "{:?}", c.frames());
}

// ------------------------------------------------------------- small ones

/// Sends `request` as raw bytes and reads the answer until flagd closes
/// the connection or `DEADLINE` passes.
fn raw_exchange(d: &Daemon, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(address(d)).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// The request line and headers may take 400 KiB, as documented — not
/// whatever more hyper's buffer happens to take in.
#[test]
fn headers_are_limited_to_the_documented_400_kib() {
    let (_repo, d) = daemon(&[]);
    let with_header = |bytes: usize| {
        let head = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: \r\n\r\n";
        let padding = "a".repeat(bytes - head.len());
        format!("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {padding}\r\n\r\n")
    };
    let answer = raw_exchange(&d, with_header(400 * 1024).as_bytes());
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "{}",
        &answer[..answer.len().min(300)]
    );
    let answer = raw_exchange(&d, with_header(400 * 1024 + 1).as_bytes());
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "{}",
        &answer[..answer.len().min(300)]
    );
    let body: Value = serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["error"]["code"], "HEADERS_TOO_LARGE", "{body}");
    let answer = raw_exchange(&d, with_header(405 * 1024).as_bytes());
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "{}",
        &answer[..answer.len().min(300)]
    );
}

// ------------------------------------------------------------------ roles

const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";

/// `banner` is for browsers; `internal` is not.
const CLIENT_FLAGS: &str = "flags:\n  banner:\n    type: string\n    clientSide: true\n    variants: { v: hello }\n    default: v\n  internal:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n";

/// A file in a fresh directory kept for the test's life (flagd reads
/// key files at start only).
fn file(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// An HS256 token of subject `app` with `role` as its role claim (none
/// when `None`).
fn token(role: Option<Value>) -> String {
    use jsonwebtoken::{EncodingKey, Header, encode};
    let now = jiff::Timestamp::now().as_second();
    let mut claims = serde_json::json!({"sub": "app", "exp": now + 3600});
    if let Some(role) = role {
        claims["role"] = role;
    }
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// A flagd over [`CLIENT_FLAGS`] verifying HS256 tokens, with `extra`
/// options.
fn with_tokens(extra: &[&str]) -> (TempRepo, Daemon) {
    let repo = TempRepo::new(&[("envs/prod/flags.yaml", CLIENT_FLAGS)]);
    let secret = file("secret", SECRET);
    let mut options = vec!["--auth-jwt-secret-file", secret.as_str()];
    options.extend_from_slice(extra);
    let d = Daemon::on_repo(&repo, &options);
    d.wait_ready();
    (repo, d)
}

/// POSTs `{}` to `path` with `Authorization: authorization`.
fn post_authorized(d: &Daemon, path: &str, authorization: &str) -> (u16, Value) {
    let response = client()
        .post(d.url(path))
        .header("authorization", authorization)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

/// Under `--auth-eval`, a valid token whose role claim is missing, unknown
/// or malformed is refused (403: it proves who the caller is, but grants
/// nothing) — never taken for a full server credential.
#[test]
fn a_token_without_a_known_role_is_refused() {
    use serde_json::json;
    let (_repo, d) = with_tokens(&["--auth-eval"]);
    let shapes = [
        ("missing", None),
        ("unknown", Some(json!("guest"))),
        ("a trailing space", Some(json!("client "))),
        ("a comma string", Some(json!("viewer,admin"))),
        ("nested list", Some(json!([["admin"]]))),
        ("object", Some(json!({"role": "admin"}))),
        ("number", Some(json!(3))),
        ("empty list", Some(json!([]))),
        ("a list with a number", Some(json!(["viewer", 2]))),
    ];
    for (shape, role) in shapes {
        let bearer = format!("Bearer {}", token(role));
        for path in [
            "/ofrep/v1/evaluate/flags",
            "/api/v1/evaluate",
            "/api/v1/flags/internal/evaluate",
        ] {
            let (status, body) = post_authorized(&d, path, &bearer);
            assert_eq!(status, 403, "{shape} on {path}: {body}");
            assert!(!body.to_string().contains("internal\""), "{shape}: {body}");
        }
        let (status, body) = post_authorized(&d, "/api/v1/evaluate", &bearer);
        assert_eq!(
            body["error"]["code"], "FORBIDDEN",
            "{shape}: {status} {body}"
        );
        assert_says(&body, "/error/message", "it needs a role");
    }
    // The known roles: a client sees client flags, a viewer every flag.
    let (status, bulk) = post_authorized(
        &d,
        "/ofrep/v1/evaluate/flags",
        &format!("Bearer {}", token(Some(json!("client")))),
    );
    assert_eq!(status, 200, "{bulk}");
    assert_eq!(texts_of(&bulk["flags"], "key"), ["banner"]);
    let (_, bulk) = post_authorized(
        &d,
        "/ofrep/v1/evaluate/flags",
        &format!("Bearer {}", token(Some(json!(["guest", "viewer"])))),
    );
    assert_eq!(texts_of(&bulk["flags"], "key"), ["banner", "internal"]);
    // Read endpoints say the same.
    let response = client()
        .get(d.url("/api/v1/flags"))
        .bearer_auth(token(Some(json!("guest"))))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
}

/// The scheme of `Authorization` is case-insensitive: `BEARER` works.
#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let (_repo, d) = with_tokens(&["--auth-eval"]);
    let viewer = token(Some(Value::from("viewer")));
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let (status, body) = post_authorized(
            &d,
            "/ofrep/v1/evaluate/flags",
            &format!("{scheme} {viewer}"),
        );
        assert_eq!(status, 200, "{scheme}: {body}");
        let response = client()
            .get(d.url("/api/v1/flags"))
            .header("authorization", format!("{scheme} {viewer}"))
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{scheme}");
    }
}

// ------------------------------------------------------------ client view

const SERVER_KEY: &str = "server-key-0123456789";
const CLIENT_KEY: &str = "client-key-0123456789";

/// A flagd over [`CLIENT_FLAGS`] where evaluation needs a credential: a
/// server key, a client key, and tokens.
fn with_client_keys(extra: &[&str]) -> (TempRepo, Daemon) {
    let server = file("server-keys", &format!("backend = {SERVER_KEY}\n"));
    let client = file("client-keys", &format!("web = {CLIENT_KEY}\n"));
    let mut options = vec![
        "--api-keys-file",
        server.as_str(),
        "--client-api-keys-file",
        client.as_str(),
        "--auth-eval",
    ];
    options.extend_from_slice(extra);
    with_tokens(&options)
}

/// POSTs `body` to `path` with `X-API-Key: key`: status, `ETag`, body.
fn post_with_key(d: &Daemon, path: &str, key: &str, body: &str) -> (u16, String, String) {
    let response = client()
        .post(d.url(path))
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .unwrap();
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, etag, response.text().unwrap())
}

/// An open event stream, read as raw bytes.
struct Events {
    stream: TcpStream,
    received: String,
}

impl Events {
    /// `GET /ofrep/v1/events` with the client key and `Last-Event-ID: last`.
    fn open(d: &Daemon, last: Option<&str>) -> Events {
        let mut stream = TcpStream::connect(address(d)).unwrap();
        let last = last.map_or(String::new(), |id| format!("Last-Event-ID: {id}\r\n"));
        write!(
            stream,
            "GET /ofrep/v1/events HTTP/1.1\r\nHost: x\r\nX-API-Key: {CLIENT_KEY}\r\n{last}\r\n"
        )
        .unwrap();
        let mut events = Events {
            stream,
            received: String::new(),
        };
        assert!(events.read_until(DEADLINE, |t| t.contains("\r\n\r\n")));
        assert!(
            events.received.starts_with("HTTP/1.1 200"),
            "{}",
            events.received
        );
        events
    }

    fn read_until(&mut self, within: Duration, done: impl Fn(&str) -> bool) -> bool {
        read_until(&mut self.stream, &mut self.received, within, done)
    }

    /// The first event: its id and data.
    fn first(&mut self) -> (String, Value) {
        assert!(
            self.read_until(DEADLINE, |t| t.contains("data: ")),
            "no event: {}",
            self.received
        );
        let id = self
            .received
            .lines()
            .find_map(|l| l.strip_prefix("id: "))
            .unwrap()
            .to_owned();
        let data = self
            .received
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .unwrap();
        (id, serde_json::from_str(data).unwrap())
    }
}

/// Everything a client credential is answered — bulk and single
/// evaluations of both APIs with their versions and `ETag`, the events of
/// its stream — stays byte for byte the same when only a server flag
/// changes.
#[test]
fn a_server_flag_change_is_invisible_to_clients() {
    let (repo, d) = with_client_keys(&[]);
    let answers = || {
        let (status, etag, ofrep) = post_with_key(&d, "/ofrep/v1/evaluate/flags", CLIENT_KEY, "{}");
        assert_eq!(status, 200, "{ofrep}");
        let ofrep: Value = serde_json::from_str(&ofrep).unwrap();
        [
            etag,
            ofrep["flags"].to_string(),
            post_with_key(&d, "/ofrep/v1/evaluate/flags/banner", CLIENT_KEY, "{}").2,
            post_with_key(&d, "/api/v1/evaluate", CLIENT_KEY, "{}").2,
            post_with_key(&d, "/api/v1/flags/banner/evaluate", CLIENT_KEY, "{}").2,
        ]
    };
    let before = answers();
    let mut stale = Events::open(&d, Some("0"));
    let (id, event) = stale.first();
    let mut current = Events::open(&d, Some(&id));
    // The change must fall in a later second than the last one a client
    // saw, or `lastModified` could not tell them apart.
    let seen = event["lastModified"].as_i64().unwrap();
    eventually(DEADLINE, "the clock's next second", || {
        (jiff::Timestamp::now().as_second() > seen).then_some(())
    });
    repo.save(
        "envs/prod/flags.yaml",
        &CLIENT_FLAGS.replace("default: off", "default: on"),
    );
    eventually(DEADLINE, "the server flag's change served", || {
        let (_, _, v) = post_with_key(&d, "/ofrep/v1/evaluate/flags/internal", SERVER_KEY, "{}");
        v.contains("\"value\":true").then_some(())
    });
    assert_eq!(answers(), before);
    let cached = client()
        .post(d.url("/ofrep/v1/evaluate/flags"))
        .header("x-api-key", CLIENT_KEY)
        .header("if-none-match", &before[0])
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(
        cached.status(),
        304,
        "the client's cached answer still holds"
    );
    // A stream that missed changes hears of the same last change as before.
    let (again_id, again) = Events::open(&d, Some("0")).first();
    assert_eq!((again_id, again), (id, event));
    // A stream that is up to date hears nothing.
    assert!(!current.read_until(Duration::from_millis(500), |t| t.contains("data: ")));
    // Services see the change, under a version of their own.
    let (_, _, server) = post_with_key(&d, "/api/v1/evaluate", SERVER_KEY, "{}");
    let server: Value = serde_json::from_str(&server).unwrap();
    let seen_by_client: Value = serde_json::from_str(&before[3]).unwrap();
    assert_ne!(server["version"], seen_by_client["version"], "{server}");
}

// ----------------------------------------------------- keys and tickets

/// A client (plain HTTP/1.1) whose connections leave from `source`, a
/// loopback address of its own: another visitor, as flagd sees it.
fn visitor(source: [u8; 4]) -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .local_address(std::net::IpAddr::from(source))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn evaluate_as(http: &reqwest::blocking::Client, d: &Daemon, key: &str) -> u16 {
    http.post(d.url("/ofrep/v1/evaluate/flags/banner"))
        .header("x-api-key", key)
        .body("{}")
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// One visitor using a public (client) key cannot throttle the others:
/// each visitor's address has a bucket of its own. A server key is one
/// caller, wherever it calls from.
#[test]
fn one_visitor_cannot_exhaust_a_public_keys_rate_limit() {
    let (_repo, d) = with_client_keys(&["--rate-limit", "1", "--rate-burst", "3"]);
    let (first, second) = (visitor([127, 0, 0, 1]), visitor([127, 0, 0, 2]));
    let statuses: Vec<u16> = (0..6u32)
        .map(|_| evaluate_as(&first, &d, CLIENT_KEY))
        .collect();
    assert_eq!(&statuses[..3], &[200; 3], "the burst passes");
    assert!(statuses.contains(&429), "{statuses:?}");
    // Another visitor with the same key has a full bucket of its own.
    let statuses: Vec<u16> = (0..3)
        .map(|_| evaluate_as(&second, &d, CLIENT_KEY))
        .collect();
    assert_eq!(statuses, [200; 3], "another visitor, same key");
    // A server key is one caller, from any address: its bucket is shared.
    let statuses: Vec<u16> = (0..6u32)
        .map(|i| {
            evaluate_as(
                if i.is_multiple_of(2) { &first } else { &second },
                &d,
                SERVER_KEY,
            )
        })
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
}

/// The stream URL of a token caller carries a ticket flagd made, never
/// the token; the token itself is no ticket.
#[test]
fn a_token_callers_stream_ticket_is_not_the_token() {
    let (_repo, d) = with_client_keys(&[]);
    let bearer = token(Some(Value::from("client")));
    let bulk: Value = client()
        .post(d.url("/ofrep/v1/evaluate/flags"))
        .bearer_auth(&bearer)
        .body("{}")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let uri = bulk["eventStreams"][0]["endpoint"]["requestUri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(uri.starts_with("/ofrep/v1/events?ticket=t."), "{uri}");
    let signature = bearer.rsplit('.').next().unwrap();
    assert!(
        !uri.contains(signature) && !uri.contains(&bearer[..20]),
        "{uri}"
    );
    let stream = |uri: &str| {
        let response = client().get(d.url(uri)).send().unwrap();
        (
            response.status().as_u16(),
            response.headers().get("content-type").cloned(),
        )
    };
    let (status, content_type) = stream(&uri);
    assert_eq!(status, 200, "{uri}");
    assert_eq!(content_type.unwrap(), "text/event-stream");
    // The token as a ticket (what flagd used to hand out), and a ticket
    // changed by a byte, are refused.
    assert_eq!(
        stream(&format!("/ofrep/v1/events?ticket=t.{bearer}")).0,
        401
    );
    let forged = format!(
        "{}{}",
        &uri[..uri.len() - 1],
        if uri.ends_with('0') { '1' } else { '0' }
    );
    assert_eq!(stream(&forged).0, 401);
    let other_role = uri.replacen(".client.", ".admin.", 1);
    assert_eq!(stream(&other_role).0, 401);
}

fn start_failure(args: &[&str]) -> String {
    let repo = TempRepo::new(&[("envs/prod/f.yaml", FLAGS)]);
    let (_guard, state) = state_dir();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flagd"))
        .args(["--env", "prod", "--listen", "127.0.0.1:0", "--repo"])
        .arg(repo.path())
        .arg("--state-dir")
        .arg(&state)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let exited = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let exited = exited.unwrap_or_else(|| panic!("flagd started: {stderr}"));
    assert_eq!(exited.code(), Some(2), "{stderr}");
    stderr
}

/// A key name given twice — in one file, or once in each — is refused at
/// start with the reason, and so is one key under two names.
#[test]
fn a_key_name_given_twice_is_refused_at_start() {
    let secret = file("secret", SECRET);
    let twice = file(
        "client-keys",
        "web = key-one-0123456789\nweb = key-two-0123456789\n",
    );
    let stderr = start_failure(&[
        "--auth-jwt-secret-file",
        &secret,
        "--client-api-keys-file",
        &twice,
    ]);
    assert!(
        stderr.contains("the key name `web` is given twice"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("key-one") && !stderr.contains("key-two"),
        "keys stay secret: {stderr}"
    );

    let server = file("server-keys", "web = key-one-0123456789\n");
    let client = file("client-keys", "web = key-two-0123456789\n");
    let stderr = start_failure(&[
        "--auth-jwt-secret-file",
        &secret,
        "--api-keys-file",
        &server,
        "--client-api-keys-file",
        &client,
    ]);
    assert!(
        stderr.contains("the key name `web` is given twice"),
        "{stderr}"
    );

    let same = file(
        "client-keys",
        "web = key-one-0123456789\napp = key-one-0123456789\n",
    );
    let stderr = start_failure(&[
        "--auth-jwt-secret-file",
        &secret,
        "--client-api-keys-file",
        &same,
    ]);
    assert!(
        stderr.contains("`web` and `app` are the same key"),
        "{stderr}"
    );
}

// ------------------------------------------------------ quiet exposures

/// Waits until flagd's log has a line containing `needle`.
fn logged(d: &Daemon, log: &mut String, needle: &str) -> bool {
    let start = Instant::now();
    loop {
        log.push_str(&d.logs());
        if log.contains(needle) {
            return true;
        }
        if start.elapsed() > DEADLINE {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Configurations that leave something open their operator may not
/// expect are warned about at start, on stderr.
#[test]
fn open_metrics_and_client_keys_without_auth_eval_are_warned_about() {
    let client_keys = file("client-keys", &format!("web = {CLIENT_KEY}\n"));
    let (_repo, d) = with_tokens(&["--client-api-keys-file", &client_keys]);
    let mut log = String::new();
    assert!(
        logged(
            &d,
            &mut log,
            "client keys are configured without --auth-eval"
        ),
        "{log}"
    );
    assert!(logged(&d, &mut log, "/metrics is open to anyone"), "{log}");

    let (_repo, d) = with_tokens(&["--auth-eval"]);
    let mut log = String::new();
    assert!(
        logged(
            &d,
            &mut log,
            "/metrics is open to anyone who can reach flagd while evaluation needs credentials"
        ),
        "{log}"
    );
    assert!(!log.contains("without --auth-eval"), "{log}");

    let (_repo, d) = with_client_keys(&["--metrics-auth"]);
    assert_eq!(d.get("/healthz").0, 200);
    let log = d.logs();
    assert!(
        !log.contains("/metrics is open") && !log.contains("without --auth-eval"),
        "{log}"
    );
}

// ------------------------------------------- depth, readiness and rollouts

/// Empty lists and objects nest as deep as full ones under
/// `--max-context-depth`.
#[test]
fn empty_containers_count_against_the_context_depth() {
    let (_repo, d) = daemon(&["--max-context-depth", "2"]);
    for nested in ["[[[]]]", "[[{}]]", r#"{"a": {"b": []}}"#, "[[[1]]]"] {
        let (status, body) = d.post(
            "/ofrep/v1/evaluate/flags/f",
            &format!(r#"{{"context": {{"targetingKey": "u", "a": {nested}}}}}"#),
        );
        assert_eq!(
            (status, body["errorCode"].as_str()),
            (400, Some("INVALID_CONTEXT")),
            "{nested}: {body}"
        );
    }
    for nested in ["[[]]", "[{}]", "{}", "[[1]]"] {
        let (status, body) = d.post(
            "/ofrep/v1/evaluate/flags/f",
            &format!(r#"{{"context": {{"targetingKey": "u", "a": {nested}}}}}"#),
        );
        assert_eq!(status, 200, "{nested}: {body}");
    }
}

/// The moment `/readyz` says ready, every rollout the ruleset defines has
/// a status — here two hundred, which the controller stores one by one.
#[test]
fn a_ready_flagd_answers_for_every_rollout() {
    let flags: String = (0..200)
        .map(|i| {
            format!(
                "  r{i}:\n    type: boolean\n    variants: {{ on: true, off: false }}\n    default: off\n    rollout: {{ strategy: canary, serve: on, stages: [ {{ percentage: 10, duration: 1h }}, {{ percentage: 100 }} ] }}\n"
            )
        })
        .collect();
    let repo = TempRepo::new(&[("envs/prod/rollouts.yaml", &format!("flags:\n{flags}"))]);
    let d = Daemon::on_repo(&repo, &[]);
    eventually(DEADLINE, "readiness", || {
        (client().get(d.url("/readyz")).send().ok()?.status() == 200).then_some(())
    });
    let (status, body) = d.get("/api/v1/rollouts/r199");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["phase"].as_str(), body["percentage"].as_f64()),
        (Some("progressing"), Some(10.0)),
        "{body}"
    );
    let (status, list) = d.get("/api/v1/rollouts");
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["rollouts"].as_array().unwrap().len(), 200, "{list}");
}

// ------------------------------------------------------------------ logs

/// A token's `sub` is the actor of a steering call, and flagd's text log
/// quotes it — in the actor field and in the reason it writes. Its escape
/// sequences, OSC 8 link and newline reach the log as escapes, on the one
/// line of the event (docs/security.md, "Output").
#[test]
fn a_token_subject_reaches_the_text_log_escaped() {
    use jsonwebtoken::{EncodingKey, Header, encode};
    let sub = "eve\u{1b}]8;;https://evil.example\u{7}\u{1b}[2J\nINFO forged=\"yes\"";
    let repo = TempRepo::new(&[(
        "envs/prod/flags.yaml",
        &checkout_canary(
            "      stages:\n        - { percentage: 10, duration: 1h }\n        - { percentage: 100 }\n",
        ),
    )]);
    let secret = file("secret", SECRET);
    let d = Daemon::on_repo(&repo, &["--auth-jwt-secret-file", &secret]);
    d.wait_ready();
    let now = jiff::Timestamp::now().as_second();
    let claims = serde_json::json!({"sub": sub, "exp": now + 3600, "role": "admin"});
    let bearer = encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let mut logs = String::new();
    eventually(DEADLINE, "the pause", || {
        let (status, _) = post_authorized(
            &d,
            "/api/v1/rollouts/checkout/pause",
            &format!("Bearer {bearer}"),
        );
        (status == 200).then_some(())
    });
    eventually(DEADLINE, "the pause in the log", || {
        logs.push_str(&d.logs());
        logs.push('\n');
        logs.contains("paused by eve").then_some(())
    });
    assert!(
        !logs.contains('\u{1b}') && !logs.contains('\u{7}'),
        "{logs:?}"
    );
    assert!(
        !logs.lines().any(|l| l.starts_with("INFO forged")),
        "a line of its own:\n{logs}"
    );
    assert!(
        logs.contains(r#"reason="paused by eve\u{1b}]8;;https://evil.example\u{7}\u{1b}[2J\nINFO forged=\"yes\"""#),
        "{logs}"
    );
}
