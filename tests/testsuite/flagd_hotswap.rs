//! Hot swap under load: while clients hammer evaluations, the ruleset is
//! swapped 100 times. No request may fail, and every answer must come from
//! one whole ruleset: two flags that always change together are read in one
//! bulk request and must agree, and must match the version that served them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::support::flagd::*;
use serde_json::Value;

const SWAPS: usize = 100;
const CLIENTS: usize = 3;

/// Generation `n`: flags `left` and `right` both serve `n`.
fn generation(n: usize) -> String {
    format!(
        "flags:\n  left:\n    type: integer\n    variants: {{ g: {n} }}\n    default: g\n  right:\n    type: integer\n    variants: {{ g: {n} }}\n    default: g\n"
    )
}

#[test]
fn swapping_100_times_under_load_fails_no_request_and_mixes_no_rulesets() {
    let repo = TempRepo::new(&[("envs/prod/flags.yaml", &generation(0))]);
    let d = Daemon::on_repo(&repo, &[]);
    d.wait_ready();

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let url = d.url("/ofrep/v1/evaluate/flags");
    let hammers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (stop, answered, url) = (stop.clone(), answered.clone(), url.clone());
            std::thread::spawn(move || -> Result<(), String> {
                let http = client();
                let mut seen = std::collections::HashMap::<String, i64>::new();
                while !stop.load(Ordering::Relaxed) {
                    let resp = http
                        .post(&url)
                        .body(r#"{"context": {"targetingKey": "u"}}"#)
                        .send()
                        .map_err(|e| format!("request failed: {e}"))?;
                    if resp.status() != 200 {
                        return Err(format!("status {}", resp.status()));
                    }
                    let body: Value = resp.json().map_err(|e| e.to_string())?;
                    let flags = body["flags"].as_array().ok_or("no flags")?;
                    let value = |k: &str| {
                        flags
                            .iter()
                            .find(|f| f["key"] == k)
                            .and_then(|f| f["value"].as_i64())
                    };
                    let (l, r) = (value("left"), value("right"));
                    if l.is_none() || l != r {
                        return Err(format!("mixed answer: {body}"));
                    }
                    // One version always serves the same generation.
                    let version = flags[0]["metadata"]["version"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned();
                    if *seen.entry(version.clone()).or_insert(l.unwrap()) != l.unwrap() {
                        return Err(format!("version {version} served two generations"));
                    }
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();

    for n in 1..=SWAPS {
        repo.save("envs/prod/flags.yaml", &generation(n));
        d.await_value(DEADLINE, "left", Value::from(n));
    }
    stop.store(true, Ordering::Relaxed);
    for h in hammers {
        h.join().unwrap().unwrap();
    }
    let status = d.get("/api/v1/ruleset").1;
    assert!(
        status["reloadsOk"].as_u64().unwrap() > SWAPS as u64,
        "{status}"
    );
    assert_eq!(status["reloadsFailed"], 0);
    assert!(
        answered.load(Ordering::Relaxed) > SWAPS,
        "the clients barely ran"
    );
}
