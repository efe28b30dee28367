//! flagd's HTTP API against the real binary: the evaluation API (docs/flagd.md),
//! OFREP (every documented status and error code, ETag/304), definitions,
//! status, metrics, configuration file and graceful shutdown.

use crate::support::flagd::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const FLAGS: &str = r#"
flags:
  checkout:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules:
      - name: staff
        when: { attr: email, op: ends_with, value: "@example.com" }
        serve: on
      - name: eu
        when: { attr: country, op: in, values: [DE, FR] }
        serve: { split: { on: 50, off: 50 } }
  layout:
    type: string
    variants: { grid: "grid", list: "list" }
    default: grid
    enabled: false
    offVariant: list
  limits:
    type: object
    variants: { std: { max: 5 } }
    default: std
  ratio:
    type: float
    variants: { half: 0.5 }
    default: half
  count:
    type: integer
    variants: { three: 3 }
    default: three
  canary:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rollout:
      strategy: canary
      serve: on
      stages:
        - { percentage: 100 }
"#;

fn daemon() -> (TempRepo, Daemon) {
    let repo = TempRepo::new(&[("envs/prod/flags.yaml", FLAGS)]);
    let d = Daemon::on_repo(&repo, &[]);
    d.wait_ready();
    (repo, d)
}

#[test]
fn seed_get_evaluate() {
    let (_repo, d) = daemon();
    let (status, body) =
        d.get("/api/v1/flags/checkout/evaluate?userId=user-1&email=ana%40example.com");
    assert_eq!(status, 200);
    let version = d.get("/api/v1/ruleset").1["version"].clone();
    assert_eq!(
        body,
        json!({
            "flag": "checkout", "enabled": true, "value": true, "variant": "on",
            "reason": "TARGETING_MATCH", "detail": "rule `staff` matched", "rule": "staff",
            "version": version,
        })
    );
    let (_, body) = d.get("/api/v1/flags/checkout/evaluate?userId=user-1&country=DE");
    assert_eq!(body["reason"], "SPLIT");
    assert_eq!(body["rule"], "eu");
    assert_eq!(body["enabled"], body["value"]);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("rule `eu` matched; split bucket"),
        "{body}"
    );

    // `enabled` for a non-boolean flag: false only when the kill switch served offVariant.
    let (_, body) = d.get("/api/v1/flags/layout/evaluate?userId=u");
    assert_eq!(
        (
            body["enabled"].clone(),
            body["reason"].clone(),
            body["value"].clone()
        ),
        (json!(false), json!("DISABLED"), json!("list"))
    );
    let (_, body) = d.get("/api/v1/flags/limits/evaluate");
    assert_eq!(
        (
            body["enabled"].clone(),
            body["value"].clone(),
            body["reason"].clone()
        ),
        (json!(true), json!({"max": 5}), json!("STATIC"))
    );
    let (_, body) = d.get("/api/v1/flags/canary/evaluate?userId=x");
    assert_eq!(body["reason"], "ROLLOUT");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("canary stage 1: bucket"),
        "{body}"
    );

    let (status, body) = d.get("/api/v1/flags/nope/evaluate");
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "FLAG_NOT_FOUND");
    let (status, body) = d.get("/api/v1/flags/checkout/evaluate?country=DE");
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "TARGETING_KEY_MISSING");
}

#[test]
fn seed_post_and_bulk() {
    let (_repo, d) = daemon();
    let (status, body) = d.post(
        "/api/v1/flags/checkout/evaluate",
        r#"{"context": {"targetingKey": "k", "email": "bo@example.com"}}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(body["rule"], "staff");
    let (status, body) = d.post("/api/v1/flags/checkout/evaluate", "{not json");
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("PARSE_ERROR"))
    );
    let (status, body) = d.post("/api/v1/flags/checkout/evaluate", r#"{"context": [1]}"#);
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("INVALID_CONTEXT"))
    );
    // A context put at the top level is refused with the fix, not
    // evaluated as an empty context.
    let (status, body) = d.post(
        "/api/v1/flags/checkout/evaluate",
        r#"{"targetingKey": "k"}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert_says(
        &body,
        "/error/message",
        "has `targetingKey` but no `context`",
    );

    let (status, body) = d.post(
        "/api/v1/evaluate",
        r#"{"context": {"country": "FR"}, "flags": ["count", "checkout", "nope"]}"#,
    );
    assert_eq!(status, 200);
    let flags = body["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 3);
    assert_eq!(flags[0]["value"], 3);
    assert_eq!(flags[1]["error"]["code"], "TARGETING_KEY_MISSING");
    assert_eq!(flags[2]["error"]["code"], "FLAG_NOT_FOUND");
    let (_, all) = d.post("/api/v1/evaluate", r#"{"context": {"targetingKey": "z"}}"#);
    assert_eq!(all["flags"].as_array().unwrap().len(), 6);
}

#[test]
fn ofrep_single_status_and_error_codes() {
    let (_repo, d) = daemon();
    let path = "/ofrep/v1/evaluate/flags";
    let (status, body) = d.post(
        &format!("{path}/ratio"),
        r#"{"context": {"targetingKey": "u"}}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(body["key"], "ratio");
    assert_eq!(body["value"], 0.5);
    assert_eq!(body["variant"], "half");
    assert_eq!(body["reason"], "STATIC");
    assert!(body["metadata"]["version"].is_string());

    let (status, body) = d.post(
        &format!("{path}/checkout"),
        r#"{"context": {"targetingKey": "u", "email": "x@example.com"}}"#,
    );
    assert_eq!(
        (
            status,
            body["reason"].clone(),
            body["metadata"]["rule"].clone()
        ),
        (200, json!("TARGETING_MATCH"), json!("staff"))
    );
    let (status, body) = d.post(&format!("{path}/layout"), "{}");
    assert_eq!((status, body["reason"].clone()), (200, json!("DISABLED")));

    let cases = [
        ("nope", r#"{"context": {}}"#, 404, "FLAG_NOT_FOUND"),
        ("checkout", "{\"context\": ", 400, "PARSE_ERROR"),
        ("checkout", "[]", 400, "PARSE_ERROR"),
        ("checkout", r#"{"targetingKey": "u"}"#, 400, "PARSE_ERROR"),
        ("checkout", r#"{"context": "me"}"#, 400, "INVALID_CONTEXT"),
        (
            "checkout",
            r#"{"context": {"targetingKey": {"id": 1}}}"#,
            400,
            "INVALID_CONTEXT",
        ),
        (
            "checkout",
            r#"{"context": {"country": "DE"}}"#,
            400,
            "TARGETING_KEY_MISSING",
        ),
    ];
    for (key, body, want_status, want_code) in cases {
        let (status, resp) = d.post(&format!("{path}/{key}"), body);
        assert_eq!(status, want_status, "{key} {body}: {resp}");
        assert_eq!(resp["key"], key, "{resp}");
        assert_eq!(resp["errorCode"], want_code, "{resp}");
        assert!(
            resp["errorDetails"].as_str().is_some_and(|s| !s.is_empty()),
            "{resp}"
        );
    }
}

fn bulk(
    d: &Daemon,
    body: &str,
    if_none_match: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut req = client()
        .post(d.url("/ofrep/v1/evaluate/flags"))
        .body(body.to_owned());
    if let Some(tag) = if_none_match {
        req = req.header("If-None-Match", tag);
    }
    let resp = req.send().unwrap();
    let status = resp.status();
    let etag = resp
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, etag, resp.json().unwrap_or(Value::Null))
}

#[test]
fn ofrep_bulk_etags_change_with_the_answer() {
    let (repo, d) = daemon();
    let ctx = r#"{"context": {"targetingKey": "user-1", "country": "DE"}}"#;
    let (status, etag, body) = bulk(&d, ctx, None);
    assert_eq!(status, 200);
    let etag = etag.expect("an ETag");
    let flags = body["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 6);
    assert!(flags.iter().all(|f| f["key"].is_string()));

    // Same answer → 304 without a body, weak or strong.
    let (status, again, _) = bulk(&d, ctx, Some(&etag));
    assert_eq!(status, 304);
    assert_eq!(again.as_deref(), Some(etag.as_str()));
    assert_eq!(bulk(&d, ctx, Some(&format!("W/{etag}"))).0, 304);
    assert_eq!(bulk(&d, ctx, Some("\"other\", *")).0, 304);

    // A context that changes the answer → a new ETag and a 200.
    let (status, other, _) = bulk(
        &d,
        r#"{"context": {"targetingKey": "user-1", "email": "a@example.com"}}"#,
        Some(&etag),
    );
    assert_eq!(status, 200);
    assert_ne!(other.unwrap(), etag);

    // A new ruleset that changes the answer → a new ETag.
    repo.save(
        "envs/prod/flags.yaml",
        &FLAGS.replace("{ three: 3 }", "{ three: 4 }"),
    );
    let (status, newer, body) = eventually(DEADLINE, "the new ruleset", || {
        let r = bulk(&d, ctx, Some(&etag));
        (r.0 == 200).then_some(r)
    });
    assert_eq!(status, 200);
    assert_ne!(newer.unwrap(), etag);
    assert!(
        body["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"] == "count" && f["value"] == 4)
    );

    // Errors inside a bulk answer are per flag; a broken request is a 400.
    let (_, _, body) = bulk(&d, r#"{"context": {"country": "DE"}}"#, None);
    let checkout = body["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "checkout")
        .unwrap()
        .clone();
    assert_eq!(checkout["errorCode"], "TARGETING_KEY_MISSING");
    let (status, _, body) = bulk(&d, "{oops", None);
    assert_eq!(status, 400);
    assert_eq!(body["errorCode"], "PARSE_ERROR");
    let (status, _, body) = bulk(&d, r#"{"context": 7}"#, None);
    assert_eq!(
        (status.as_u16(), body["errorCode"].clone()),
        (400, json!("INVALID_CONTEXT"))
    );
}

#[test]
fn ofrep_configuration() {
    let (_repo, d) = daemon();
    let body = d.get_ok("/ofrep/v1/configuration");
    assert_eq!(body["name"], "hotswap-flags");
    assert_eq!(
        body["capabilities"]["cacheInvalidation"]["polling"]["enabled"],
        true
    );
}

#[test]
fn definitions_status_and_unknown_routes() {
    let (_repo, d) = daemon();
    let body = d.get_ok("/api/v1/flags");
    assert_eq!(body["env"], "prod");
    assert_eq!(
        texts_of(&body["flags"], "key"),
        ["checkout", "layout", "limits", "ratio", "count", "canary"]
    );
    let (_, canary) = d.get("/api/v1/flags/canary");
    assert_eq!(canary["type"], "boolean");
    assert_eq!(canary["rollout"]["strategy"], "canary");
    assert_eq!(canary["rolloutState"]["percentage"], 100.0);
    assert_eq!(d.get("/api/v1/flags/nope").0, 404);

    let (status, s) = d.get("/api/v1/ruleset");
    assert_eq!(status, 200);
    assert!(s["version"].as_str().unwrap().starts_with("sha256:"));
    assert!(s["source"].as_str().unwrap().starts_with("dir:"));
    assert!(s["loadedAt"].is_string());
    assert!(s["lastError"].is_null());
    assert_eq!(s["flags"], 6);

    let (status, body) = d.get("/no/such/thing");
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (404, json!("NOT_FOUND"))
    );
}

#[test]
fn metrics_in_prometheus_text_format() {
    let (_repo, d) = daemon();
    for _ in 0..3 {
        d.get("/api/v1/flags/count/evaluate");
    }
    d.post(
        "/ofrep/v1/evaluate/flags/checkout",
        r#"{"context": {"targetingKey": "u", "email": "x@example.com"}}"#,
    );
    let resp = client().get(d.url("/metrics")).send().unwrap();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = resp.text().unwrap();
    assert_eq!(
        metric(
            &text,
            "flagd_evaluations_total{flag=\"count\",variant=\"three\",reason=\"STATIC\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "flagd_evaluations_total{flag=\"checkout\",variant=\"on\",reason=\"TARGETING_MATCH\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "flagd_reloads_total{result=\"success\"}"),
        Some(1.0)
    );
    assert!(
        text.contains("flagd_ruleset_info{env=\"prod\",version=\"sha256:"),
        "{text}"
    );
    assert!(
        metric(
            &text,
            "flagd_http_request_duration_seconds_count{route=\"/api/v1/flags/{key}/evaluate\"}"
        )
        .unwrap()
            >= 3.0,
        "{text}"
    );
    assert_eq!(metric(&text, "flagd_ruleset_offline"), Some(0.0));
}

#[test]
fn config_file_mirrors_the_options() {
    let repo = TempRepo::new(&[("envs/prod/flags.yaml", FLAGS)]);
    let d = Daemon::from_config(&format!(
        "repo = {:?}\nlog-format = \"json\"\n",
        repo.path_str()
    ));
    d.await_value(DEADLINE, "count", json!(3));
    let line = eventually(DEADLINE, "a JSON log line", || {
        d.stderr.try_iter().find(|l| l.starts_with('{'))
    });
    let log: Value = serde_json::from_str(&line).unwrap();
    assert!(log["level"].is_string(), "{line}");

    // Unknown keys in the file are errors, not silently ignored.
    let config = repo.path().join("flagd.toml");
    std::fs::write(&config, "env = \"prod\"\nrepos = \"x\"\n").unwrap();
    assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("flagd"))
        .args(["--config", config.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown field `repos`"));
}

/// The command line goes over the config file option by option: what it
/// gives wins, and what it leaves off keeps the file's value — a flag
/// included, though left off it reads `false`.
#[test]
fn the_command_line_goes_over_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("flagd.toml");
    let check = |file: &str, args: &[&str]| {
        std::fs::write(
            &config,
            format!("env = \"staging\"\nrepo = \"flags\"\n{file}"),
        )
        .unwrap();
        let out = std::process::Command::new(flagd_binary())
            .args(["--check-config", "--config", config.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(if out.status.success() {
            &out.stdout
        } else {
            &out.stderr
        });
        (out.status.success(), text.into_owned())
    };

    let file = "poll = \"2s\"\nlisten = \"127.0.0.1:9000\"\nauth-jwt-secret-file = \"file.key\"\nui = \"steer\"\n";
    let (ok, answer) = check(
        file,
        &[
            "--listen",
            "127.0.0.1:9100",
            "--auth-jwt-secret-file",
            "cli.key",
        ],
    );
    assert!(ok, "{answer}");
    for line in [
        "env: staging",
        "source: dir flags",
        "poll: 2s",
        "listen: 127.0.0.1:9100",
        "auth: HS256 secret cli.key",
        "ui: steer",
    ] {
        assert!(
            answer.lines().any(|l| l == line),
            "no {line:?} in:\n{answer}"
        );
    }

    // `auth-eval` needs a token key: the file's `true` stands.
    let (ok, answer) = check("auth-eval = true\n", &["--poll", "1s"]);
    assert!(!ok && answer.contains("need a token key"), "{answer}");
}

#[test]
fn sigterm_stops_gracefully() {
    let (_repo, d) = daemon();
    assert_eq!(d.value("count"), Some(json!(3)));
    let status = d.terminate();
    assert!(status.success(), "{status:?}");
}

/// `$codeDefault` (docs/flag-format.md §5, docs/flagd.md): a successful
/// answer without `value` and `variant`, over OFREP (single and bulk, as
/// OFREP's ADR 0006) and flagd's own API (`codeDefault: true`).
#[test]
fn code_defaults_answer_without_a_value() {
    let repo = TempRepo::new(&[(
        "envs/prod/flags.yaml",
        crate::support::rulesets::CODE_DEFAULTS,
    )]);
    let d = Daemon::on_repo(&repo, &[]);
    d.wait_ready();
    let version = d.get("/api/v1/ruleset").1["version"].clone();
    let ofrep = "/ofrep/v1/evaluate/flags";

    // OFREP single: key, reason and metadata, nothing else.
    let (status, body) = d.post(&format!("{ofrep}/deferred"), r#"{"context": {}}"#);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"key": "deferred", "reason": "DEFAULT",
               "metadata": {"team": "search", "version": version}})
    );
    let (_, body) = d.post(
        &format!("{ofrep}/deferred"),
        r#"{"context": {"plan": "legacy"}}"#,
    );
    assert_eq!(
        body,
        json!({"key": "deferred", "reason": "TARGETING_MATCH",
               "metadata": {"team": "search", "version": version, "rule": "legacy"}})
    );
    let (_, body) = d.post(&format!("{ofrep}/killed"), "{}");
    assert_eq!(
        body,
        json!({"key": "killed", "reason": "DISABLED", "metadata": {"version": version}})
    );
    // A rule serving a variant answers as ever.
    let (_, body) = d.post(
        &format!("{ofrep}/deferred"),
        r#"{"context": {"email": "ana@example.com"}}"#,
    );
    assert_eq!(
        (&body["value"], &body["variant"]),
        (&json!("N"), &json!("new"))
    );

    // OFREP bulk: listed like the others, in the same shape.
    let (status, _, body) = bulk(&d, r#"{"context": {}}"#, None);
    assert_eq!(status, 200);
    let flags = body["flags"].as_array().unwrap();
    assert_eq!(
        texts_of(&body["flags"], "key"),
        ["deferred", "killed", "plain"]
    );
    assert_eq!(
        flags[0],
        json!({"key": "deferred", "reason": "DEFAULT",
               "metadata": {"team": "search", "version": version}})
    );
    assert_eq!(
        flags[1],
        json!({"key": "killed", "reason": "DISABLED", "metadata": {"version": version}})
    );
    assert_eq!(
        (&flags[2]["value"], &flags[2]["variant"]),
        (&json!(3), &json!("three"))
    );

    // flagd's own API: `codeDefault: true` instead of value and variant.
    let (status, body) = d.get("/api/v1/flags/killed/evaluate?userId=u");
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"flag": "killed", "enabled": false, "codeDefault": true, "reason": "DISABLED",
               "detail": "flag is disabled; the caller uses its code default",
               "rule": null, "version": version})
    );
    let (status, body) = d.post("/api/v1/evaluate", r#"{"context": {"plan": "pro"}}"#);
    assert_eq!(status, 200);
    let flags = body["flags"].as_array().unwrap();
    assert_eq!(flags[0]["codeDefault"], true, "{body}");
    assert_eq!(flags[0]["enabled"], true, "{body}");
    assert!(flags[0].get("value").is_none() && flags[0].get("variant").is_none());
    assert!(flags[2].get("codeDefault").is_none(), "{body}");
    assert_eq!(flags[2]["value"], 3);

    // Counted as the variant `$codeDefault`.
    let text = client()
        .get(d.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(
        metric(
            &text,
            "flagd_evaluations_total{flag=\"killed\",variant=\"$codeDefault\",reason=\"DISABLED\"}"
        ),
        Some(4.0),
        "{text}"
    );
}
