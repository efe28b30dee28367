//! What a hostile neighbour can do to flagd on loopback, and what it can
//! no longer: steer rollouts from a web page (an `Origin`, a plain-text
//! body), reach flagd under a rebound host name, or hold a connection by
//! declaring a body it never sends; and the JSON bodies of the errors the
//! HTTP layer answers on its own.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::flagd::*;
use serde_json::Value;

const FLAGS: &str = "flags:\n  f:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rollout: { strategy: canary, serve: on, stages: [ { percentage: 10, duration: 1h }, { percentage: 100 } ] }\n";

fn daemon(options: &[&str]) -> (TempRepo, Daemon) {
    let repo = TempRepo::new(&[("envs/prod/f.yaml", FLAGS)]);
    let d = Daemon::on_repo(&repo, options);
    d.wait_ready();
    (repo, d)
}

/// POSTs `body` as `content_type` to pause `f`, with `origin` if given.
fn pause(d: &Daemon, origin: Option<&str>, content_type: &str, body: &str) -> (u16, Value) {
    let mut request = client()
        .post(d.url("/api/v1/rollouts/f/pause"))
        .header("content-type", content_type)
        .body(body.to_owned());
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn phase(d: &Daemon) -> Value {
    d.get_ok("/api/v1/rollouts/f")["phase"].clone()
}

#[test]
fn a_web_page_cannot_steer_a_rollout() {
    let (_repo, d) = daemon(&["--allowed-origin", "https://ops.example.com"]);
    // What a page on another site can send without a preflight: refused,
    // and the rollout keeps running.
    let (status, body) = pause(&d, Some("http://evil.example"), "text/plain", "{}");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("CROSS_ORIGIN")),
        "{body}"
    );
    assert_eq!(phase(&d), "progressing");
    // A form or plain-text body is refused even without an Origin.
    let (status, body) = pause(&d, None, "application/x-www-form-urlencoded", "a=b");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("UNSUPPORTED_MEDIA_TYPE")),
        "{body}"
    );
    assert_eq!(phase(&d), "progressing");
    // The allowed console may, with JSON.
    let (status, body) = pause(
        &d,
        Some("https://ops.example.com"),
        "application/json",
        "{}",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(phase(&d), "paused");
}

#[test]
fn only_the_allowed_hosts_are_answered() {
    let (_repo, d) = daemon(&["--allowed-host", "flags.internal"]);
    let get = |host: &str, path: &str| {
        let response = client()
            .get(d.url(path))
            .header("host", host)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().unwrap_or(Value::Null))
    };
    let (status, body) = get("evil.example:8013", "/api/v1/flags");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (421, Some("UNKNOWN_HOST")),
        "{body}"
    );
    assert_eq!(get("flags.internal", "/api/v1/flags").0, 200);
    assert_eq!(get("FLAGS.internal:8013", "/api/v1/flags").0, 200);
    // Probes answer whatever name the orchestrator uses.
    assert_eq!(get("10.1.2.3:8013", "/healthz").0, 200);
}

/// Sends `request` as raw bytes and reads the answer until flagd closes
/// the connection.
fn raw_exchange(d: &Daemon, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(d.base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stream.write_all(request).unwrap();
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

/// The JSON body of a raw answer, checked against its `content-length`.
fn json_body(answer: &str) -> Value {
    let (head, body) = answer.split_once("\r\n\r\n").expect(answer);
    assert!(head.contains("content-type: application/json"), "{answer}");
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect(answer);
    assert_eq!(length.parse::<usize>().unwrap(), body.len(), "{answer}");
    serde_json::from_str(body).expect(answer)
}

#[test]
fn an_oversized_declared_body_is_refused_before_it_is_read() {
    let (_repo, d) = daemon(&["--max-body-bytes", "1024"]);
    let sent = Instant::now();
    // The answer comes while the body is still "on its way"; the
    // connection then closes.
    let answer = raw_exchange(
        &d,
        b"POST /api/v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{}",
    );
    let took = sent.elapsed();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(json_body(&answer)["error"]["code"], "PAYLOAD_TOO_LARGE");
    assert!(took < Duration::from_secs(5), "took {took:?}: {answer}");
}

/// Requests the HTTP layer refuses before any handler sees them still get
/// flagd's JSON error body.
#[test]
fn errors_of_the_http_layer_have_json_bodies() {
    let (_repo, d) = daemon(&[]);
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let huge_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(500_000)
    );
    for (request, status, code) in [
        ("NOT HTTP AT ALL\r\n\r\n".to_owned(), "400", "BAD_REQUEST"),
        (
            "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n".to_owned(),
            "400",
            "BAD_REQUEST",
        ),
        (long_target, "414", "URI_TOO_LONG"),
        (huge_header, "431", "HEADERS_TOO_LARGE"),
    ] {
        let answer = raw_exchange(&d, request.as_bytes());
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{answer}"
        );
        let body = json_body(&answer);
        assert_eq!(body["error"]["code"], code, "{answer}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // The connections were refused one by one; flagd still answers.
    assert_eq!(d.get_ok("/healthz")["status"], "ok");
}

/// Reads until the peer closes; `None` if it is still open at `deadline`.
fn closed_by_peer(stream: &mut TcpStream, deadline: Instant) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return Some(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(got),
            Err(_) => return None,
        }
    }
}

#[test]
fn idle_sockets_cannot_exhaust_flagd() {
    let (_repo, d) = daemon(&["--idle-timeout", "1s", "--max-connections", "64"]);
    let addr = d.base.trim_start_matches("http://").to_owned();
    // Twice the cap in sockets that never send a byte.
    let mut idle: Vec<TcpStream> = (0..128)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    // Those over the cap are told at once, with a JSON 503.
    let deadline = Instant::now() + Duration::from_secs(3);
    let refused = idle
        .iter_mut()
        .filter_map(|s| {
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut buf = [0u8; 512];
            match s.read(&mut buf) {
                Ok(n) if n > 0 => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
                _ => None,
            }
        })
        .collect::<Vec<_>>();
    assert!(refused.len() >= 64, "only {} of 128 refused", refused.len());
    assert!(
        refused[0].starts_with("HTTP/1.1 503") && refused[0].contains("TOO_MANY_CONNECTIONS"),
        "{}",
        refused[0]
    );
    // The rest are closed by flagd once idle for a second.
    for s in &mut idle {
        assert!(
            closed_by_peer(s, deadline + Duration::from_secs(5)).is_some(),
            "an idle socket stayed open"
        );
    }
    // A keep-alive connection that goes quiet after a request is closed too.
    let mut kept = TcpStream::connect(&addr).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let answer = closed_by_peer(&mut kept, Instant::now() + DEADLINE).expect("closed after idling");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    // And flagd still answers.
    assert_eq!(d.get("/healthz").0, 200);
    assert!(d.value("f").is_some());
}

/// A flag file that is a link to a file of the host is refused by name:
/// neither its keys nor its values reach `GET /api/v1/ruleset`, while the
/// last good ruleset stays in service.
#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_repository_never_reaches_the_api() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("host.yaml"), "root_password: hunter2\n").unwrap();
    let (repo, d) = daemon(&[]);
    std::os::unix::fs::symlink(
        outside.path().join("host.yaml"),
        repo.path().join("envs/prod/leak.yaml"),
    )
    .unwrap();
    let status = d.failed_load(DEADLINE);
    let text = status.to_string();
    assert!(
        text.contains("envs/prod/leak.yaml is a symbolic link leading outside the repository"),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("root_password"),
        "{text}"
    );
    assert!(d.value("f").is_some(), "the last good ruleset stays");
}
