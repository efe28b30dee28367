//! The dashboard under `/ui/` against the real binary (docs/dashboard.md):
//! the overview of flags-example, search, filters and pages, 10,000 flags
//! in under a second, the Content-Security-Policy of every response, and
//! access (docs/security.md, The dashboard): the login that exchanges a
//! token for a session cookie, roles, client keys, `--ui off|read|steer`,
//! `--allowed-host`, and steering through the steering API with the
//! session, its actor in the audit trail. The pages in a browser:
//! dashboard_browser.rs.

use std::time::{Duration, Instant};

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::support::flagd::*;
use crate::support::free_port;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";

/// A plain client that follows no redirect, so a test sees the 303s.
fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

pub(crate) fn token(subject: &str, role: &str) -> String {
    let now = jiff::Timestamp::now().as_second();
    let claims = json!({"sub": subject, "role": role, "exp": now + 3600, "iat": now});
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// A page: status, headers, text.
fn page(
    d: &Daemon,
    path: &str,
    auth: Option<(&str, &str)>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = http().get(d.url(path));
    if let Some((name, value)) = auth {
        req = req.header(name, value);
    }
    let resp = req.send().unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().unwrap())
}

/// No inline script, style or event handler: what the CSP would block.
fn assert_nothing_inline(html: &str) {
    for bad in ["<script>", "style=", " onclick=", " onload=", "javascript:"] {
        assert!(!html.contains(bad), "the page holds `{bad}`");
    }
    assert!(html.contains("<script src=\"/ui/assets/dashboard.js\" defer></script>"));
}

#[test]
fn the_overview_lists_flags_example_with_a_strict_csp() {
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/flags-example");
    let d = Daemon::for_env("production", &["--repo", repo]);
    d.wait_ready();
    let flags = d.get_ok("/api/v1/flags");
    let (status, headers, html) = page(&d, "/ui/", None);
    assert_eq!(status, 200);
    assert_eq!(headers["content-security-policy"], CSP);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_nothing_inline(&html);
    let keys: Vec<&str> = flags["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert!(keys.len() >= 5, "{keys:?}");
    for key in &keys {
        assert!(
            html.contains(&format!("data-flag=\"{key}\"")),
            "{key} missing"
        );
    }
    let version = d.get_ok("/api/v1/ruleset")["version"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(html.contains(&version), "the ruleset version");
    // The rollout of new-checkout-flow, with its phase and stage.
    assert!(html.contains("data-phase=\"progressing\""), "{html}");
    // Each flag has a page; each asset is served, with the same policy.
    for key in &keys {
        let (status, _, html) = page(&d, &format!("/ui/flags/{key}"), None);
        assert_eq!(status, 200, "{key}");
        assert_nothing_inline(&html);
        assert!(html.contains("As written"));
    }
    for (asset, kind) in [
        ("dashboard.css", "text/css"),
        ("dashboard.js", "text/javascript"),
    ] {
        let (status, headers, _) = page(&d, &format!("/ui/assets/{asset}"), None);
        assert_eq!(status, 200);
        assert!(headers["content-type"].to_str().unwrap().starts_with(kind));
        assert_eq!(headers["content-security-policy"], CSP);
    }
    // An unknown flag is a page too, 404.
    let (status, headers, _) = page(&d, "/ui/flags/nope", None);
    assert_eq!(status, 404);
    assert_eq!(headers["content-security-policy"], CSP);
    // The explanation form: a context typed in, the evaluation explained.
    let (_, _, html) = page(
        &d,
        "/ui/flags/new-checkout-flow?context=%7B%22targetingKey%22%3A%22user-42%22%2C%22email%22%3A%22ana%40example.com%22%7D",
        None,
    );
    assert!(html.contains("class=\"explanation\""), "{html}");
    let (_, _, html) = page(&d, "/ui/flags/new-checkout-flow?context=%7Bnot-json", None);
    assert!(html.contains("the context is not JSON"));
}

/// `n` boolean flags, every seventh with an owner, every third client-side.
fn many_flags(n: usize) -> String {
    let mut yaml = String::from("flags:\n");
    for i in 0..n {
        yaml += &format!(
            "  flag-{i:05}:\n    type: boolean\n    variants: {{ on: true, off: false }}\n    default: off\n{}{}",
            if i % 7 == 0 {
                "    owner: \"@team/seven\"\n"
            } else {
                ""
            },
            if i % 3 == 0 {
                "    clientSide: true\n"
            } else {
                ""
            },
        );
    }
    yaml
}

#[test]
fn search_filters_and_pages_work_without_script() {
    let repo = TempRepo::new(&[("envs/prod/many.yaml", &many_flags(250))]);
    let d = Daemon::on_repo(&repo, &[]);
    d.wait_ready();
    let rows = |html: &str| html.matches("<tr data-flag=").count();
    let (_, _, html) = page(&d, "/ui/", None);
    assert_eq!(rows(&html), 100);
    assert!(html.contains("250 flags of 250, page 1 of 3"), "{html}");
    assert!(html.contains("href=\"/ui/?page=2\""));
    let (_, _, html) = page(&d, "/ui/?page=3", None);
    assert_eq!(rows(&html), 50);
    let (_, _, html) = page(&d, "/ui/?q=flag-0012", None);
    assert_eq!(rows(&html), 10, "flag-00120 … flag-00129");
    let (_, _, html) = page(&d, "/ui/?q=%40team%2Fseven", None);
    assert_eq!(rows(&html), 36, "by owner: every seventh of 250");
    let (_, _, html) = page(&d, "/ui/?client=yes&q=flag-0000", None);
    assert_eq!(rows(&html), 4, "flag-00000, 3, 6, 9");
    let (_, _, html) = page(&d, "/ui/?phase=progressing", None);
    assert_eq!(rows(&html), 0);
    // Markup in a query comes back escaped.
    let (_, _, html) = page(&d, "/ui/?q=%3Cscript%3E", None);
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
}

#[test]
fn the_overview_of_10000_flags_renders_in_under_a_second() {
    let repo = TempRepo::new(&[("envs/prod/many.yaml", &many_flags(10_000))]);
    let d = Daemon::on_repo(&repo, &[]);
    eventually(Duration::from_secs(120), "10,000 flags loaded", || {
        (d.get("/readyz").0 == 200).then_some(())
    });
    let http = http();
    let mut best = Duration::MAX;
    for path in [
        "/ui/",
        "/ui/?q=flag-09",
        "/ui/?page=100",
        "/ui/?client=yes&page=20",
    ] {
        let start = Instant::now();
        let resp = http.get(d.url(path)).send().unwrap();
        assert_eq!(resp.status(), 200);
        let html = resp.text().unwrap();
        let took = start.elapsed();
        eprintln!("{path}: {} bytes in {took:?}", html.len());
        assert!(took < Duration::from_secs(1), "{path} took {took:?}");
        best = best.min(took);
    }
    let (_, _, html) = page(&d, "/ui/?page=100", None);
    assert!(html.contains("flag-09999"));
    eprintln!("fastest overview of 10,000 flags: {best:?}");
}

/// A canary flag behind HS256 auth, with a client key, `--ui` as given and
/// flagd's own origin allowed to steer.
pub(crate) fn secured(ui: &str) -> (TempRepo, Daemon, String, tempfile::TempDir) {
    secured_with(ui, &[])
}

/// [`secured`] with `extra` options.
fn secured_with(ui: &str, extra: &[&str]) -> (TempRepo, Daemon, String, tempfile::TempDir) {
    let flags = checkout_canary(
        "      stages:\n        - { percentage: 10, duration: 1h }\n        - { percentage: 100 }\n",
    );
    let repo = TempRepo::new(&[("envs/prod/checkout.yaml", &flags)]);
    std::fs::write(repo.path().join("secret"), SECRET).unwrap();
    std::fs::write(
        repo.path().join("client-keys"),
        "web = client-key-0123456789abcdef\n",
    )
    .unwrap();
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let secret = repo.path().join("secret");
    let keys = repo.path().join("client-keys");
    // A port chosen before the start, so that flagd's own origin can be
    // allowed to steer (docs/dashboard.md, Steering).
    let (state, state_path) = state_dir();
    let mut command = std::process::Command::new(flagd_binary());
    command.args([
        "--env",
        "prod",
        "--state-dir",
        state_path.to_str().unwrap(),
        "--repo",
        repo.path_str(),
        "--auth-jwt-secret-file",
        secret.to_str().unwrap(),
        "--client-api-keys-file",
        keys.to_str().unwrap(),
        "--ui",
        ui,
        "--allowed-origin",
        &origin,
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    command.args(extra);
    let d = Daemon::launch(command);
    d.wait_ready();
    (repo, d, origin, state)
}

/// Signs in with `token` through the login form; the session cookie.
fn sign_in(d: &Daemon, origin: &str, token: &str) -> String {
    let resp = http()
        .post(d.url("/ui/login"))
        .header("origin", origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}&next=%2Fui%2Fflags%2Fcheckout"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/ui/flags/checkout");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "no TLS here: {cookie}");
    assert!(
        !cookie.contains(token),
        "the token itself never becomes the cookie"
    );
    cookie.split(';').next().unwrap().to_owned()
}

fn steer(d: &Daemon, action: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = http()
        .post(d.url(&format!("/api/v1/rollouts/checkout/{action}")))
        .header("content-type", "application/json")
        .body("{}");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().unwrap();
    (resp.status().as_u16(), resp.json().unwrap_or(Value::Null))
}

#[test]
fn browsers_sign_in_with_a_token_and_steer_through_the_api() {
    let (_repo, d, origin, _state) = secured("steer");
    // No credentials: the login page, 401, with the policy.
    let (status, headers, html) = page(&d, "/ui/flags/checkout", None);
    assert_eq!(status, 401);
    assert_eq!(headers["content-security-policy"], CSP);
    assert!(html.contains("name=\"token\"") && html.contains("value=\"/ui/flags/checkout\""));
    // A client key and a token without a role never see it.
    let (status, _, _) = page(
        &d,
        "/ui/",
        Some(("x-api-key", "client-key-0123456789abcdef")),
    );
    assert_eq!(status, 403);
    let client = token("page", "client");
    let (status, _, _) = page(
        &d,
        "/ui/",
        Some(("authorization", &format!("Bearer {client}"))),
    );
    assert_eq!(status, 403);
    // A wrong token at the login: the form again, no cookie.
    let resp = http()
        .post(d.url("/ui/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=not-a-token")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().get("set-cookie").is_none());
    // A login posted by another site's page is refused.
    let resp = http()
        .post(d.url("/ui/login"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}", token("ana", "viewer")))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 403);

    // A viewer: the pages, no steering controls, and steering refused.
    let viewer = sign_in(&d, &origin, &token("ana@example.com", "viewer"));
    let cookie = ("cookie", viewer.as_str());
    let (status, _, html) = page(&d, "/ui/flags/checkout", Some(cookie));
    assert_eq!(status, 200);
    assert!(html.contains("ana@example.com") && html.contains("Sign out"));
    assert!(
        !html.contains("data-steer"),
        "a viewer sees no steering controls"
    );
    assert_eq!(page(&d, "/api/v1/rollouts/checkout", Some(cookie)).0, 200);
    let (status, body) = steer(&d, "pause", &[cookie, ("origin", &origin)]);
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "FORBIDDEN");

    // An admin: steering controls, and a pause through the API with the
    // session, recorded with the token's subject.
    let admin = sign_in(&d, &origin, &token("ops@example.com", "admin"));
    let cookie = ("cookie", admin.as_str());
    let (_, _, html) = page(&d, "/ui/flags/checkout", Some(cookie));
    assert!(
        html.contains("data-steer=\"/api/v1/rollouts/checkout/pause\""),
        "{html}"
    );
    // Not without the page's Origin, nor from a page not allowed.
    assert_eq!(steer(&d, "pause", &[cookie]).0, 403);
    let (status, body) = steer(&d, "pause", &[cookie, ("origin", "https://evil.example")]);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("CROSS_ORIGIN"))
    );
    let (status, body) = steer(&d, "pause", &[cookie, ("origin", &origin)]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["phase"], "paused");
    let audit = page(&d, "/api/v1/rollouts/checkout/audit", Some(cookie)).2;
    let audit: Value = serde_json::from_str(&audit).unwrap();
    let last = audit["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["event"].as_str(), last["actor"].as_str()),
        (Some("paused"), Some("ops@example.com"))
    );
    let (_, _, html) = page(&d, "/ui/flags/checkout", Some(cookie));
    assert!(
        html.contains("<td class=\"actor\">ops@example.com</td>"),
        "the pause's actor in the audit trail"
    );
    assert!(
        html.contains("ops@example.com (steering)"),
        "and in the timeline"
    );

    // A forged or altered session is no session.
    let forged = admin.replace(".admin.", ".viewer.");
    assert_eq!(page(&d, "/ui/", Some(("cookie", &forged))).0, 401);
    assert_eq!(
        page(&d, "/api/v1/rollouts", Some(("cookie", &forged))).0,
        401
    );
    // Sign out forgets the cookie.
    let resp = http()
        .post(d.url("/ui/logout"))
        .header("cookie", &admin)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(
        resp.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // A session opens reading and steering only: not a refresh.
    let resp = http()
        .post(d.url("/api/v1/ruleset/refresh"))
        .header("cookie", &admin)
        .header("origin", &origin)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[test]
fn read_mode_shows_no_steering_and_off_serves_nothing() {
    let (_repo, d, _, _state) = secured("read");
    let admin = format!("Bearer {}", token("ops", "admin"));
    let (status, _, html) = page(&d, "/ui/flags/checkout", Some(("authorization", &admin)));
    assert_eq!(status, 200);
    assert!(
        !html.contains("data-steer"),
        "--ui read: no controls, even for an admin"
    );

    let (_repo, d, _, _state) = secured("off");
    let (status, headers, _) = page(&d, "/ui/", Some(("authorization", &admin)));
    assert_eq!(status, 404);
    assert!(headers.get("content-security-policy").is_none());
}

#[test]
fn the_dashboard_obeys_allowed_host() {
    let repo = TempRepo::new(&[("envs/prod/f.yaml", &many_flags(3))]);
    let d = Daemon::on_repo(&repo, &["--allowed-host", "flags.internal"]);
    d.wait_ready();
    let resp = http()
        .get(d.url("/ui/"))
        .header("host", "evil.example")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 421);
    let resp = http()
        .get(d.url("/ui/"))
        .header("host", "flags.internal")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[test]
fn the_pages_take_the_apis_rate_limit() {
    let repo = TempRepo::new(&[("envs/prod/f.yaml", &many_flags(3))]);
    let d = Daemon::on_repo(&repo, &["--rate-limit", "1", "--rate-burst", "2"]);
    d.wait_ready();
    let statuses: Vec<u16> = (0..4).map(|_| page(&d, "/ui/", None).0).collect();
    assert_eq!(&statuses[..2], [200, 200]);
    assert!(statuses[2..].contains(&429), "{statuses:?}");
}

#[test]
fn under_auth_eval_the_page_hears_events_with_a_ticket_not_the_session() {
    let (_repo, d, origin, _state) = secured_with("read", &["--auth-eval"]);
    let session = sign_in(&d, &origin, &token("ana@example.com", "viewer"));
    let (_, _, html) = page(&d, "/ui/flags/checkout", Some(("cookie", &session)));
    let events = html
        .split("data-events=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page names its event stream")
        .replace("&amp;", "&");
    assert!(events.starts_with("/ofrep/v1/events?ticket=t."), "{events}");
    let session_value = session.split('=').nth(1).unwrap();
    assert!(
        !events.contains(session_value),
        "the session never goes into a URL"
    );
    // The stream opens with the ticket alone (no cookie, no token).
    let resp = http().get(d.url(&events)).send().unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    // The session is no credential for evaluation.
    let (status, _, _) = page(
        &d,
        "/api/v1/flags/checkout/evaluate?userId=u",
        Some(("cookie", &session)),
    );
    assert_eq!(status, 401);
}
