//! Every metric the Grafana dashboard queries exists in flagd's `/metrics`.

use std::collections::BTreeSet;

use crate::support::flagd::*;

/// Metric names in a PromQL expression: identifiers followed by `{`, `[`
/// or `)` that are not functions, keywords or label names.
fn metric_names(expr: &str) -> Vec<String> {
    let re = regex::Regex::new(r"\b([a-z_][a-z0-9_]*)\s*(\{|\[)").unwrap();
    re.captures_iter(expr)
        .map(|c| c[1].to_owned())
        .filter(|n| !matches!(n.as_str(), "by" | "without" | "on" | "ignoring"))
        .chain(
            regex::Regex::new(r"^\s*([a-z_][a-z0-9_]*)\s*(==|$)")
                .unwrap()
                .captures_iter(expr)
                .map(|c| c[1].to_owned()),
        )
        .collect()
}

#[test]
fn dashboard_queries_only_exported_metrics() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/grafana/flagd.json"
    ))
    .unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut wanted = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            for name in metric_names(target["expr"].as_str().unwrap()) {
                wanted.insert(name);
            }
        }
    }
    assert!(wanted.len() >= 8, "{wanted:?}");

    let repo = TempRepo::new(&[(
        "envs/prod/f.yaml",
        "flags:\n  f:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    rollout: { strategy: canary, serve: on, stages: [ { percentage: 10, duration: 1h }, { percentage: 100 } ] }\n",
    )]);
    let d = Daemon::on_repo(&repo, &[]);
    eventually(DEADLINE, "the rollout", || {
        (d.get("/api/v1/rollouts/f").0 == 200).then_some(())
    });
    d.get("/api/v1/flags/f/evaluate?userId=u");
    let exported: BTreeSet<String> = d
        .get_text("/metrics")
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    for name in &wanted {
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        assert!(
            exported.contains(name) || exported.contains(base),
            "the dashboard queries `{name}`, which flagd does not export; exported: {exported:?}"
        );
    }
}
