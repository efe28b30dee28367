//! flagd's defences against the real binary: JWT roles per endpoint class,
//! refused tokens (expired, not yet valid, wrong signature, `alg: none`,
//! HS/RS confusion, wrong issuer), API keys, TLS with a certificate swap,
//! rate limiting, body and context limits, slow clients.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::flagd::*;
use crate::support::pki::pki;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";

const FLAGS: &str = "flags:\n  f:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rollout: { strategy: canary, serve: on, stages: [ { percentage: 10, duration: 1h }, { percentage: 100 } ] }\n";

fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keys")
}

/// The bytes of `name` in tests/data/keys.
fn key_file(name: &str) -> Vec<u8> {
    std::fs::read(keys_dir().join(name)).unwrap()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn claims(sub: &str, role: Option<&str>) -> Value {
    let mut c = json!({"sub": sub, "exp": now() + 3600, "iat": now()});
    if let Some(r) = role {
        c["role"] = json!(r);
    }
    c
}

/// A token for `claims`, signed by `key` with `algorithm`.
fn sign(algorithm: Algorithm, claims: &Value, key: &EncodingKey) -> String {
    encode(&Header::new(algorithm), claims, key).unwrap()
}

fn hs256(claims: &Value, secret: &str) -> String {
    sign(
        Algorithm::HS256,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}

/// A flagd with HS256 auth (plus `extra` options) over a canary flag.
fn secured(extra: &[&str]) -> (TempRepo, Daemon) {
    let repo = TempRepo::new(&[("envs/prod/f.yaml", FLAGS)]);
    std::fs::write(repo.path().join("secret"), format!("{SECRET}\n")).unwrap();
    let secret = repo.path().join("secret");
    let mut options = vec!["--auth-jwt-secret-file", secret.to_str().unwrap()];
    options.extend_from_slice(extra);
    let d = Daemon::on_repo(&repo, &options);
    d.wait_ready();
    (repo, d)
}

/// `GET /api/v1/flags` (the `read` class) with bearer `token`.
fn read_flags(d: &Daemon, token: &str) -> (u16, Value) {
    call(d, "GET", "/api/v1/flags", Some(token))
}

fn call(d: &Daemon, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let http = client();
    let mut req = match method {
        "POST" => http
            .post(d.url(path))
            .header("content-type", "application/json")
            .body("{}"),
        _ => http.get(d.url(path)),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

#[test]
fn every_role_against_every_endpoint_class() {
    let (_repo, d) = secured(&["--metrics-auth"]);
    let token = |role: &str| hs256(&claims(&format!("{role}-user"), Some(role)), SECRET);
    let tokens = [
        ("none", None),
        ("viewer", Some(token("viewer"))),
        ("developer", Some(token("developer"))),
        ("admin", Some(token("admin"))),
        (
            "no role claim",
            Some(hs256(&claims("nobody", None), SECRET)),
        ),
    ];
    // (class, method, path, [status for none, viewer, developer, admin, no role])
    let classes: [(&str, &str, &str, [u16; 5]); 6] = [
        (
            "evaluate",
            "GET",
            "/api/v1/flags/f/evaluate?userId=u",
            [200, 200, 200, 200, 200],
        ),
        ("read", "GET", "/api/v1/flags", [401, 200, 200, 200, 403]),
        ("audit", "GET", "/api/v1/audit", [401, 200, 200, 200, 403]),
        (
            "steer",
            "POST",
            "/api/v1/rollouts/f/pause",
            [401, 403, 403, 200, 403],
        ),
        ("metrics", "GET", "/metrics", [401, 200, 200, 200, 403]),
        ("probes", "GET", "/healthz", [200, 200, 200, 200, 200]),
    ];
    for (class, method, path, expected) in classes {
        for ((who, token), want) in tokens.iter().zip(expected) {
            let (status, body) = call(&d, method, path, token.as_deref());
            // The pause succeeds once; later admins meet a paused rollout (409).
            let status = if class == "steer" && status == 409 {
                200
            } else {
                status
            };
            assert_eq!(status, want, "{class} as {who}: {body}");
            if want == 401 {
                assert_eq!(body["error"]["code"], "UNAUTHORIZED");
            }
            if want == 403 {
                assert_eq!(body["error"]["code"], "FORBIDDEN");
                assert!(
                    body["error"]["message"].as_str().unwrap().contains("needs"),
                    "{body}"
                );
            }
        }
    }
    // The audit log names the token's subject.
    let (_, audit) = call(&d, "GET", "/api/v1/audit?flag=f", Some(&token("viewer")));
    assert_eq!(
        texts_of(&audit["entries"], "actor"),
        ["controller", "admin-user"]
    );
}

#[test]
fn refused_tokens() {
    let (_repo, d) = secured(&["--auth-issuer", "https://id.example.com"]);
    let ok_claims = || {
        let mut c = claims("ana", Some("admin"));
        c["iss"] = json!("https://id.example.com");
        c
    };
    assert_eq!(read_flags(&d, &hs256(&ok_claims(), SECRET)).0, 200);

    let mut expired = ok_claims();
    expired["exp"] = json!(now() - 3600);
    let mut not_yet = ok_claims();
    not_yet["nbf"] = json!(now() + 3600);
    let mut other_issuer = ok_claims();
    other_issuer["iss"] = json!("https://evil.example.com");
    let mut no_exp = ok_claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&ok_claims())
    );
    let hs512 = sign(
        Algorithm::HS512,
        &ok_claims(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    );
    let cases = [
        ("expired", hs256(&expired, SECRET)),
        ("not yet valid", hs256(&not_yet, SECRET)),
        (
            "wrong signature",
            hs256(&ok_claims(), "another-secret-another-secret-another"),
        ),
        ("wrong issuer", hs256(&other_issuer, SECRET)),
        ("no exp", hs256(&no_exp, SECRET)),
        ("alg none", alg_none),
        ("another algorithm", hs512),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in cases {
        let (status, body) = read_flags(&d, &token);
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body["error"]["code"], "UNAUTHORIZED", "{what}");
    }
    let resp = client()
        .get(d.url("/api/v1/flags"))
        .header("Authorization", "Basic abc")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
}

/// A flagd verifying tokens with the public key `key` (in tests/data/keys).
fn public_key_daemon(key: &str) -> (TempRepo, Daemon) {
    let repo = TempRepo::new(&[("envs/prod/f.yaml", FLAGS)]);
    let key = keys_dir().join(key);
    let d = Daemon::on_repo(&repo, &["--auth-jwt-public-key", key.to_str().unwrap()]);
    d.wait_ready();
    (repo, d)
}

/// A viewer token of `subject`, signed by `algorithm` (RS256 or ES256) with
/// the private key `private` (in tests/data/keys).
fn viewer_token(algorithm: Algorithm, private: &str, subject: &str) -> String {
    let pem = key_file(private);
    let key = match algorithm {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
        other => panic!("no test key for {other:?}"),
    };
    sign(algorithm, &claims(subject, Some("viewer")), &key.unwrap())
}

#[test]
fn rs256_and_es256_and_no_algorithm_confusion() {
    let rsa_public = key_file("rsa-public.pem");
    let (_repo, d) = public_key_daemon("rsa-public.pem");
    let rs256 = viewer_token(Algorithm::RS256, "rsa-private.pem", "ana");
    assert_eq!(read_flags(&d, &rs256).0, 200);
    // HS/RS confusion: an HS256 token whose "secret" is the public key.
    let confused = sign(
        Algorithm::HS256,
        &claims("mallory", Some("admin")),
        &EncodingKey::from_secret(&rsa_public),
    );
    let (status, body) = read_flags(&d, &confused);
    assert_eq!(status, 401, "{body}");
    assert_says(&body, "/error/message", "not accepted");
    drop(d);

    let (_repo, d) = public_key_daemon("ec-public.pem");
    let es256 = viewer_token(Algorithm::ES256, "ec-private.pem", "bo");
    assert_eq!(read_flags(&d, &es256).0, 200);
    assert_eq!(
        read_flags(&d, &rs256).0,
        401,
        "an RSA token against an EC key"
    );
}

#[test]
fn jwks_keys_are_found_by_kid() {
    let ec_private = key_file("ec-private.pem");
    let signing = EncodingKey::from_ec_pem(&ec_private).unwrap();
    let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&signing, Algorithm::ES256).unwrap();
    jwk.common.key_id = Some("key-1".into());
    let jwks = json!({"keys": [jwk]});
    let repo = TempRepo::new(&[("envs/prod/f.yaml", FLAGS)]);
    std::fs::write(repo.path().join("jwks.json"), jwks.to_string()).unwrap();
    let jwks_path = repo.path().join("jwks.json");
    let d = Daemon::on_repo(&repo, &["--auth-jwks-file", jwks_path.to_str().unwrap()]);
    d.wait_ready();
    let token = |kid: Option<&str>| {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid.map(str::to_owned);
        encode(&header, &claims("cy", Some("viewer")), &signing).unwrap()
    };
    assert_eq!(read_flags(&d, &token(Some("key-1"))).0, 200);
    assert_eq!(read_flags(&d, &token(Some("key-2"))).0, 401);
    assert_eq!(read_flags(&d, &token(None)).0, 401);
}

#[test]
fn evaluation_with_auth_eval_takes_tokens_or_api_keys() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("api-keys");
    std::fs::write(&keys, "# services\ncheckout = ck-0123456789abcdef\n").unwrap();
    let (_repo, d) = secured(&["--auth-eval", "--api-keys-file", keys.to_str().unwrap()]);
    let path = "/ofrep/v1/evaluate/flags/f";
    let post = |header: Option<(&str, &str)>| {
        let mut req = client()
            .post(d.url(path))
            .body(r#"{"context": {"targetingKey": "u"}}"#);
        if let Some((k, v)) = header {
            req = req.header(k, v);
        }
        let resp = req.send().unwrap();
        (
            resp.status().as_u16(),
            resp.json::<Value>().unwrap_or(Value::Null),
        )
    };
    assert_eq!(post(None).0, 401);
    assert_eq!(post(Some(("X-API-Key", "ck-0123456789abcdef"))).0, 200);
    assert_eq!(post(Some(("X-API-Key", "ck-0123456789abcdeX"))).0, 401);
    let token = hs256(&claims("svc", Some("viewer")), SECRET);
    assert_eq!(
        post(Some(("Authorization", &format!("Bearer {token}")))).0,
        200,
        "any valid token with a role evaluates"
    );
    // A token that grants no role grants nothing (flagd_probe tests every
    // shape of role claim).
    let token = hs256(&claims("svc", None), SECRET);
    assert_eq!(
        post(Some(("Authorization", &format!("Bearer {token}")))).0,
        403
    );
    // API keys only evaluate; they are not a way into the admin API.
    let resp = client()
        .get(d.url("/api/v1/flags"))
        .header("X-API-Key", "ck-0123456789abcdef")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[test]
fn rate_limits_answer_429_with_retry_after() {
    let repo = TempRepo::new(&[("envs/prod/f.yaml", FLAGS)]);
    let d = Daemon::on_repo(&repo, &["--rate-limit", "2", "--rate-burst", "5"]);
    d.wait_ready();
    let http = client();
    let statuses: Vec<u16> = (0..8)
        .map(|_| {
            http.get(d.url("/api/v1/flags/f/evaluate?userId=u"))
                .send()
                .unwrap()
                .status()
                .as_u16()
        })
        .collect();
    assert_eq!(&statuses[..5], &[200; 5], "the burst passes");
    assert!(statuses[5..].contains(&429), "{statuses:?}");
    let resp = http
        .get(d.url("/api/v1/flags/f/evaluate?userId=u"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    let body: Value = resp.json().unwrap();
    assert_eq!(body["error"]["code"], "RATE_LIMITED");
    // Health probes are never limited.
    assert_eq!(http.get(d.url("/healthz")).send().unwrap().status(), 200);
}

#[test]
fn oversized_bodies_bad_contexts_and_big_bulks_are_refused() {
    let repo = TempRepo::new(&[("envs/prod/f.yaml", FLAGS)]);
    let d = Daemon::on_repo(
        &repo,
        &[
            "--max-body-bytes",
            "2000",
            "--max-context-attributes",
            "10",
            "--max-context-depth",
            "2",
            "--max-bulk-flags",
            "3",
        ],
    );
    d.wait_ready();
    let big = format!(
        r#"{{"context": {{"targetingKey": "u", "pad": "{}"}}}}"#,
        "x".repeat(5000)
    );
    let (status, body) = d.post("/ofrep/v1/evaluate/flags/f", &big);
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");

    let many: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("a{i}"), json!(i))).collect();
    let (status, body) = d.post(
        "/ofrep/v1/evaluate/flags/f",
        &json!({"context": many}).to_string(),
    );
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("INVALID_CONTEXT")),
        "{body}"
    );
    let (status, body) = d.post(
        "/ofrep/v1/evaluate/flags/f",
        r#"{"context": {"a": [[[1]]]}}"#,
    );
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("INVALID_CONTEXT")),
        "{body}"
    );
    let (status, body) = d.post(
        "/ofrep/v1/evaluate/flags/f",
        r#"{"context": {"targetingKey": "u", "a": [[1]]}}"#,
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = d.post("/api/v1/evaluate", r#"{"flags": ["f", "f", "f", "f"]}"#);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("PARSE_ERROR")),
        "{body}"
    );
    // Errors from outside the handlers are JSON too.
    let resp = client().delete(d.url("/api/v1/flags")).send().unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(
        resp.json::<Value>().unwrap()["error"]["code"],
        "METHOD_NOT_ALLOWED"
    );
}

#[test]
fn a_slow_header_client_is_cut_off() {
    let repo = TempRepo::new(&[("envs/prod/f.yaml", FLAGS)]);
    let d = Daemon::on_repo(&repo, &["--header-timeout", "500ms"]);
    let addr = d.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let start = Instant::now();
    let mut buf = Vec::new();
    // flagd closes the connection (maybe after a 408) instead of waiting forever.
    let _ = stream.read_to_end(&mut buf);
    let waited = start.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "the connection stayed open {waited:?}"
    );
    assert!(
        waited >= Duration::from_millis(400),
        "cut off before the timeout: {waited:?}"
    );
    // A prompt client on another connection is unaffected.
    assert_eq!(d.get("/healthz").0, 200);
}

fn trusting(ca_pem: &str) -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[test]
fn tls_serves_with_a_trusted_ca_and_picks_up_a_new_certificate() {
    let first = pki("first");
    let repo = TempRepo::new(&[("envs/prod/f.yaml", FLAGS)]);
    let (cert, key) = (repo.path().join("tls.crt"), repo.path().join("tls.key"));
    std::fs::write(&cert, &first.cert_pem).unwrap();
    std::fs::write(&key, &first.key_pem).unwrap();
    let d = Daemon::on_repo(
        &repo,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(d.base.starts_with("https://127.0.0.1:"), "{}", d.base);
    let url = d.url("/api/v1/flags/f/evaluate?userId=u");
    let old_client = trusting(&first.ca_pem);
    // The first ruleset is loaded on its own thread: wait for an
    // evaluation, not just for any answer.
    let body: Value = eventually(DEADLINE, "an HTTPS evaluation", || {
        let body: Value = old_client.get(&url).send().ok()?.json().ok()?;
        body.get("flag").is_some().then_some(body)
    });
    assert_eq!(body["flag"], "f");

    // A client that trusts only another CA is refused.
    let second = pki("second");
    let new_client = trusting(&second.ca_pem);
    assert!(new_client.get(&url).send().is_err());

    // Swap the certificate on disk: new connections get the new one.
    std::fs::write(&key, &second.key_pem).unwrap();
    std::fs::write(&cert, &second.cert_pem).unwrap();
    eventually(DEADLINE, "the new certificate", || {
        new_client
            .get(&url)
            .send()
            .ok()
            .filter(|r| r.status() == 200)
    });
    let fresh_old = trusting(&first.ca_pem);
    assert!(
        fresh_old.get(&url).send().is_err(),
        "the old certificate is no longer served"
    );
}

/// With tokens on but no webhook secret, a signed refresh call is refused by
/// the webhook's own check (it cannot be verified), not by the token guard:
/// the error says what is wrong with the signature, as docs/flagd.md lists.
#[test]
fn a_signature_flagd_cannot_check_is_an_invalid_signature() {
    let (_repo, d) = secured(&[]);
    let response = client()
        .post(d.url("/api/v1/ruleset/refresh"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", format!("sha256={}", "ab".repeat(32)))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().unwrap();
    assert_eq!(body["error"]["code"], "INVALID_SIGNATURE", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no webhook secret"),
        "{body}"
    );
}
