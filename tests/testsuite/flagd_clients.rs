//! flagd for browsers and mobile apps: which pages may read its answers
//! (CORS).

use crate::support::flagd::*;

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
