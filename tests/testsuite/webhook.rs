//! The git push webhook, end to end: a bare repository served over
//! `file://` by the real flagd with a one-hour poll, a push, and
//! `POST /api/v1/ruleset/refresh` signed like GitHub and Gitea sign it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::flagd::*;
use hotswap_flags_daemon::server::webhook::WebhookSecret;
use serde_json::{Value, json};

const SECRET: &str = "correct horse battery staple";
const REFRESH: &str = "/api/v1/ruleset/refresh";

/// Writes [`SECRET`] to a file next to `remote`, for `--webhook-secret-file`.
fn secret_file(remote: &Remote) -> PathBuf {
    let path = remote.dir.path().join("webhook.secret");
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    path
}

/// flagd following `remote` with a poll far longer than any test.
fn start(remote: &Remote, secret: Option<&Path>) -> Daemon {
    let url = remote.url();
    let mut args = vec!["--git-url", &url, "--ref", "main", "--poll", "1h"];
    if let Some(secret) = secret {
        args.extend(["--webhook-secret-file", secret.to_str().unwrap()]);
    }
    let d = Daemon::prod(&args);
    eventually(DEADLINE, "first load", || d.value("banner").map(|_| ()));
    d
}

/// A GitHub push event's body (the fields flagd could care about).
fn push_body() -> String {
    json!({
        "ref": "refs/heads/main",
        "before": "0000000000000000000000000000000000000000",
        "repository": {"full_name": "acme/flags"},
        "pusher": {"name": "ana"},
    })
    .to_string()
}

/// POSTs `body` to the refresh endpoint with `headers`.
fn call(d: &Daemon, body: &str, headers: &[(&str, String)]) -> (u16, Value) {
    let mut request = client()
        .post(d.url(REFRESH))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().expect("POST refresh");
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn github_signature(body: &str) -> String {
    let secret = WebhookSecret::new(SECRET.as_bytes().to_vec()).unwrap();
    format!("sha256={}", secret.sign(body.as_bytes()))
}

fn counter(d: &Daemon, result: &str) -> f64 {
    let series = format!("flagd_refresh_requests_total{{result=\"{result}\"}}");
    metric(&d.get_text("/metrics"), &series).unwrap_or(-1.0)
}

/// How long a refresh may take to show; the issue asks for under 1 s.
const SERVED_WITHIN: Duration = Duration::from_secs(1);

/// Polls until `banner` serves `value`, returning how long it took.
fn served_after(d: &Daemon, value: &str, since: Instant) -> Duration {
    eventually(SERVED_WITHIN, &format!("`{value}` to be served"), || {
        (d.value("banner") == Some(json!(value))).then(|| since.elapsed())
    })
}

#[test]
fn a_signed_push_webhook_serves_the_push_within_a_second() {
    let Some(remote) = Remote::new("one") else {
        return;
    };
    let d = start(&remote, Some(&secret_file(&remote)));
    assert_eq!(d.value("banner"), Some(json!("one")));
    remote.push("two");
    let body = push_body();

    // A bad signature: 401 with a JSON error, and no fetch.
    let wrong = format!(
        "sha256={}",
        WebhookSecret::new(b"not the secret".to_vec())
            .unwrap()
            .sign(body.as_bytes())
    );
    let (status, error) = call(
        &d,
        &body,
        &[
            ("x-github-event", "push".into()),
            ("x-hub-signature-256", wrong),
        ],
    );
    assert_eq!(status, 401, "{error}");
    assert_eq!(error["error"]["code"], "INVALID_SIGNATURE", "{error}");
    // A body changed after signing is refused the same way.
    let (status, _) = call(
        &d,
        &body.replace("ana", "eve"),
        &[
            ("x-github-event", "push".into()),
            ("x-hub-signature-256", github_signature(&body)),
        ],
    );
    assert_eq!(status, 401);
    // So is an unsigned call while a secret is configured.
    let (status, error) = call(&d, &body, &[("x-github-event", "push".into())]);
    assert_eq!(status, 401);
    assert_eq!(error["error"]["code"], "SIGNATURE_REQUIRED", "{error}");
    assert_eq!(counter(&d, "rejected"), 3.0);
    // Nothing to wait for when nothing should happen: give a wrongly woken
    // feed ample time (a local fetch takes milliseconds), then check that
    // no check ran and the old commit still serves.
    std::thread::sleep(Duration::from_millis(500));
    let status = d.get("/api/v1/ruleset").1;
    assert_eq!(status["reloadsOk"], 1, "{status}");
    assert_eq!(status["checksUnchanged"], 0, "{status}");
    assert_eq!(d.value("banner"), Some(json!("one")));

    // A ping (sent when the webhook is created): 200, no fetch.
    let ping = json!({"zen": "Keep it logically awesome.", "hook_id": 1}).to_string();
    let (status, answer) = call(
        &d,
        &ping,
        &[
            ("x-github-event", "ping".into()),
            ("x-hub-signature-256", github_signature(&ping)),
        ],
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["refresh"], false);

    // The real push, signed: served within a second, poll or not.
    let sent = Instant::now();
    let (status, answer) = call(
        &d,
        &body,
        &[
            ("x-github-event", "push".into()),
            (
                "x-github-delivery",
                "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
            ),
            ("x-hub-signature-256", github_signature(&body)),
        ],
    );
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["refresh"], true);
    let took = served_after(&d, "two", sent);
    eprintln!("webhook → served: {} ms", took.as_millis());
    assert_eq!(d.get("/api/v1/ruleset").1["reloadsOk"], 2);
    assert_eq!(counter(&d, "accepted"), 1.0);
    assert_eq!(counter(&d, "ignored"), 1.0);
}

#[test]
fn gitea_signatures_and_other_events() {
    let Some(remote) = Remote::new("one") else {
        return;
    };
    let d = start(&remote, Some(&secret_file(&remote)));
    let body = push_body();
    let hex = github_signature(&body)
        .strip_prefix("sha256=")
        .unwrap()
        .to_owned();

    // Events other than push are acknowledged and ignored.
    let (status, answer) = call(
        &d,
        &body,
        &[
            ("x-gitea-event", "issues".into()),
            ("x-gitea-signature", hex.clone()),
        ],
    );
    assert_eq!((status, &answer["status"]), (200, &json!("ignored")));
    // A malformed signature header is refused.
    let (status, _) = call(
        &d,
        &body,
        &[
            ("x-gitea-event", "push".into()),
            ("x-gitea-signature", format!("sha256={hex}")),
        ],
    );
    assert_eq!(status, 401);

    // Gitea's bare hex signature.
    remote.push("two");
    let sent = Instant::now();
    let (status, answer) = call(
        &d,
        &body,
        &[("x-gitea-event", "push".into()), ("x-gitea-signature", hex)],
    );
    assert_eq!(status, 202, "{answer}");
    let took = served_after(&d, "two", sent);
    eprintln!("gitea webhook → served: {} ms", took.as_millis());
}

#[test]
fn without_a_secret_the_endpoint_refreshes_and_refuses_signatures() {
    let Some(remote) = Remote::new("one") else {
        return;
    };
    let d = start(&remote, None);
    // A signature flagd cannot check is refused rather than ignored: a
    // webhook configured with a secret should not silently go unchecked.
    let body = push_body();
    let (status, error) = call(
        &d,
        &body,
        &[("x-hub-signature-256", github_signature(&body))],
    );
    assert_eq!(status, 401);
    assert_says(&error, "/error/message", "--webhook-secret-file");
    // Open flagd (no tokens, no secret): a plain call refreshes, as an
    // operator's `curl -X POST` would.
    remote.push("two");
    let sent = Instant::now();
    let (status, _) = call(&d, "", &[]);
    assert_eq!(status, 202);
    served_after(&d, "two", sent);
}
