//! `flagctl experiment analyze --daemon` end to end: the real flagd counts
//! exposures while the test evaluates users through it; a real Prometheus
//! (Debian's `prometheus`) scrapes a tiny target exposing conversion
//! counters per variant; flagctl reads both and must produce exactly the
//! analysis a data file with the same counts gives. Then the failure modes
//! with real services: unreachable, unusable answers, another version of
//! the experiment, impossible counts.
//!
//! Skipped (loudly) only when `prometheus` is not installed and `CI` is
//! unset, like tests/rollout_e2e.rs.

use std::path::Path;
use std::time::Duration;

use crate::support::flagd::*;
use crate::support::gitops::flagctl;
use crate::support::prometheus::{Prometheus, Target};
use predicates::prelude::*;
use serde_json::{Value, json};

/// The experiment, with a conversions query over `{{window}}` (`max_over_time`
/// of a counter the test sets is exact, where `increase` would extrapolate),
/// and a second experiment whose conversions query returns two series.
fn flags(weights: &str) -> String {
    format!(
        r#"flags:
  layout:
    type: string
    variants: {{ a: A, b: B }}
    offVariant: a
    default:
      split: {{ {weights} }}
      salt: layout-e2e
      experiment:
        control: a
        minimumDetectableEffect: 0.1
        conversions: orders
  unaggregated:
    type: string
    variants: {{ a: A, b: B }}
    offVariant: a
    default:
      split: {{ a: 50, b: 50 }}
      experiment:
        conversions: 'orders_total{{flag="layout"}}'
"#
    )
}

fn config(prometheus: &str) -> String {
    format!(
        r#"{CONFIG}[metrics]
prometheus = "{prometheus}"
[metrics.queries]
orders = 'sum(max_over_time(orders_total{{flag="{{{{flag}}}}",variant="{{{{variant}}}}"}}[{{{{window}}}}]))'
"#
    )
}

fn orders(a: u64, b: u64) -> String {
    format!(
        "# TYPE orders_total counter\n\
         orders_total{{flag=\"layout\",variant=\"a\"}} {a}\n\
         orders_total{{flag=\"layout\",variant=\"b\"}} {b}\n"
    )
}

/// `flagctl experiment analyze ARGS… --repo REPO`.
fn analyze(repo: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    flagctl(repo)
        .args(["experiment", "analyze"])
        .args(args)
        .args(["--repo", repo.to_str().unwrap()])
        .assert()
}

/// `flagctl experiment analyze FLAG --env prod --daemon D ARGS…` on `repo`.
fn analyze_daemon(
    repo: &Path,
    flag: &str,
    d: &Daemon,
    args: &[&str],
) -> assert_cmd::assert::Assert {
    let mut all = vec![flag, "--env", "prod", "--daemon", &d.base];
    all.extend_from_slice(args);
    analyze(repo, &all)
}

fn json_of(assert: &assert_cmd::assert::Assert) -> Value {
    serde_json::from_slice(&assert.get_output().stdout).expect("JSON on stdout")
}

#[test]
fn analyze_from_flagd_and_prometheus_equals_the_same_counts_from_a_file() {
    let Some(binary) = require("prometheus") else {
        return;
    };
    let target = Target::start(&orders(0, 0));
    let prom = Prometheus::start(&binary, &target);
    let repo = TempRepo::new(&[("envs/prod/flags.yaml", &flags("a: 50, b: 50"))]);
    write(repo.path(), "flags.toml", &config(&prom.url));
    let d = Daemon::on_repo(&repo, &[]);
    d.wait_ready();

    // 2000 users see the experiment through flagd.
    let http = client();
    for i in 0..2000 {
        let url = d.url(&format!("/api/v1/flags/layout/evaluate?userId=user-{i}"));
        assert_eq!(http.get(url).send().unwrap().status(), 200);
    }
    let (_, report) = d.get("/api/v1/experiments/layout");
    let exposed = |v: &str| report["exposures"][v].as_u64().unwrap();
    let (na, nb) = (exposed("a"), exposed("b"));
    assert_eq!(na + nb, 2000, "{report}");

    // The shop converts 10 % of `a` and 13 % of `b`; wait until Prometheus
    // has scraped it.
    let (ca, cb) = (na / 10, nb * 13 / 100);
    target.set(&orders(ca, cb));
    eventually(
        Duration::from_secs(30),
        "the counters in Prometheus",
        || {
            let seen = prom.value(r#"sum(orders_total{flag="layout",variant="b"})"#)?;
            (seen == cb as f64).then_some(())
        },
    );

    let daemon = analyze_daemon(repo.path(), "layout", &d, &["--format", "json"]).code(0);
    let mut from_daemon = json_of(&daemon);

    // Where the numbers came from.
    let source = from_daemon
        .as_object_mut()
        .unwrap()
        .remove("source")
        .expect("a source");
    assert_eq!(source["daemon"], d.base.as_str());
    assert_eq!(source["prometheus"], prom.url.as_str());
    assert_eq!(source["specHash"], report["specHash"]);
    assert_eq!(source["since"], report["since"]);
    let query = source["queries"]["b"].as_str().unwrap();
    assert!(
        query.starts_with(r#"sum(max_over_time(orders_total{flag="layout",variant="b"}["#)
            && query.ends_with("s]))"),
        "{query}"
    );

    // Exactly what a file with the same counts gives.
    let data = json!({"control": "a", "variants": {
        "a": {"exposures": na, "conversions": ca},
        "b": {"exposures": nb, "conversions": cb},
    }});
    write(repo.path(), "counts.json", &data.to_string());
    let file = analyze(
        repo.path(),
        &[
            "layout",
            "--env",
            "prod",
            "--data",
            repo.path().join("counts.json").to_str().unwrap(),
            "--format",
            "json",
        ],
    )
    .code(0);
    assert_eq!(from_daemon, json_of(&file));
    assert_eq!(from_daemon["variants"][1]["exposures"], nb);
    assert_eq!(
        from_daemon["variants"][1]["rate"].as_f64().unwrap(),
        cb as f64 / nb as f64
    );

    // The dashboard's flag page shows the same rates and intervals
    // (docs/dashboard.md, Flag page).
    let html = d.get_text("/ui/flags/layout");
    for variant in from_daemon["variants"].as_array().unwrap() {
        let name = variant["name"].as_str().unwrap();
        let row = dashboard_row(&html, name);
        let attr = |a: &str| {
            let start = row.find(&format!("{a}=\"")).expect(a) + a.len() + 2;
            row[start..][..row[start..].find('"').unwrap()].to_owned()
        };
        assert_eq!(
            attr("data-rate").parse::<f64>().unwrap(),
            variant["rate"].as_f64().unwrap(),
            "{row}"
        );
        let ci: Vec<f64> = attr("data-ci")
            .split(' ')
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(
            ci,
            [
                variant["ci"][0].as_f64().unwrap(),
                variant["ci"][1].as_f64().unwrap()
            ],
            "{row}"
        );
    }
    assert!(
        html.contains("difference from the control <code>a</code>"),
        "{html}"
    );

    // The table says where the counts came from.
    analyze_daemon(repo.path(), "layout", &d, &[])
        .code(0)
        .stdout(predicate::str::contains(format!(
            "exposures from flagd {} since",
            d.base
        )))
        .stdout(predicate::str::contains("conversions from Prometheus"));

    // --metrics-url wins over flags.toml: an unreachable one is exit 2.
    analyze_daemon(
        repo.path(),
        "layout",
        &d,
        &["--metrics-url", "http://127.0.0.1:1"],
    )
    .code(2)
    .stderr(predicate::str::contains(
        "cannot reach Prometheus at http://127.0.0.1:1",
    ));

    // A conversions query that returns one series per variant label is
    // unusable: exit 1, naming the variant and the query.
    analyze_daemon(repo.path(), "unaggregated", &d, &[])
        .code(1)
        .stderr(predicate::str::contains(
            "the conversions query for variant `a` gave no count: the query returned 2 series",
        ));

    // The repository defines another version of the experiment than flagd
    // counts: exit 1.
    let other = TempRepo::new(&[("envs/prod/flags.yaml", &flags("a: 30, b: 70"))]);
    write(other.path(), "flags.toml", &config(&prom.url));
    analyze_daemon(other.path(), "layout", &d, &[])
        .code(1)
        .stderr(predicate::str::contains(
            "counts exposures for another version of experiment `layout`",
        ));

    // More conversions than exposures: bad data, exit 1, with a hint.
    target.set(&orders(na + 5, cb));
    eventually(
        Duration::from_secs(30),
        "the new counter in Prometheus",
        || {
            let seen = prom.value(r#"sum(orders_total{flag="layout",variant="a"})"#)?;
            (seen == (na + 5) as f64).then_some(())
        },
    );
    analyze_daemon(repo.path(), "layout", &d, &[])
        .code(1)
        .stderr(predicate::str::contains("conversions"))
        .stderr(predicate::str::contains("must count the same units"));

    // flagd gone: exit 2.
    let base = d.base.clone();
    d.terminate();
    analyze(repo.path(), &["layout", "--env", "prod", "--daemon", &base])
        .code(2)
        .stderr(predicate::str::contains("cannot reach flagd"));
}

/// The `<tr>` of `variant` in the dashboard's conversion table.
fn dashboard_row<'a>(html: &'a str, variant: &str) -> &'a str {
    let table = &html[html
        .find("<table id=\"conversions\"")
        .expect("a conversion table")..];
    let start = table
        .find(&format!("<tr data-variant=\"{variant}\""))
        .unwrap_or_else(|| panic!("no row for `{variant}` in {table}"));
    &table[start..][..table[start..].find("</tr>").unwrap()]
}

/// An unreachable Prometheus is named once, with its address: not
/// "cannot reach Prometheus at URL: cannot reach Prometheus: …". Needs
/// flagd only, not Prometheus, so it always runs.
#[test]
fn an_unreachable_prometheus_is_said_once() {
    let nowhere = "http://127.0.0.1:1";
    let repo = TempRepo::new(&[("envs/prod/flags.yaml", &flags("a: 50, b: 50"))]);
    write(repo.path(), "flags.toml", &config(nowhere));
    let d = Daemon::on_repo(&repo, &[]);
    d.wait_ready();
    let out = flagctl(repo.path())
        .args(["experiment", "analyze", "layout", "--env", "prod"])
        .args(["--daemon", &d.base, "--repo", repo.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("error: cannot reach Prometheus at {nowhere}: ")),
        "{err}"
    );
    assert_eq!(err.matches("cannot reach").count(), 1, "{err}");
}
