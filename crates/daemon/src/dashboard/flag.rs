//! `/ui/flags/{key}`: one flag's impact page (docs/dashboard.md, Flag
//! page) — the rollout and its steering, the timeline of stages planned
//! against actual with every transition, each health check as a chart,
//! the guardrail's and the experiment's numbers, the audit trail, the flag
//! as written and an explanation for a typed-in context.

use std::collections::HashMap;
use std::fmt::Write as _;

use hotswap_flags_client::wire::{ExposureReport, Phase, RolloutHistory, RolloutStatus};
use hotswap_flags_core::eval::bucket::percentage;
use hotswap_flags_core::ruleset::{CompiledFlag, RolloutPlan};
use hotswap_flags_stats::proportions::{Counts, wilson_interval};
use hotswap_flags_stats::{Analysis, Metric};
use jiff::Timestamp;
use serde_json::Value;

use super::Viewer;
use super::chart::chart;
use super::html::{esc, num, page, time, url_part};
use super::overview::{header, last_outcome, serves};
use crate::live::Served;

/// Everything the page shows, gathered by the handler.
#[derive(Debug, Default)]
pub struct FlagData {
    /// The rollout's status, when the flag has a rollout.
    pub status: Option<RolloutStatus>,
    /// Its recorded check rounds.
    pub history: Option<RolloutHistory>,
    /// Prometheus' `query_range` of each check, by name, when it answered.
    pub context: HashMap<String, Vec<(Timestamp, f64)>>,
    /// The flag's audit trail, oldest first.
    pub audit: Vec<Value>,
    /// Why the audit trail could not be read.
    pub audit_error: Option<String>,
    /// The experiment's exposure counts, when its split runs one.
    pub experiment: Option<ExposureReport>,
    /// The experiment's analysis over its conversions from Prometheus, or
    /// why there is none, when the flag has a conversions query.
    pub conversions: Option<Result<Analysis, String>>,
    /// The context typed into the explanation form, as typed.
    pub context_text: Option<String>,
    /// The explanation of that context, or why there is none.
    pub explanation: Option<Result<Value, String>>,
}

/// The page of `flag`.
pub fn render(served: &Served, flag: &CompiledFlag, data: &FlagData, viewer: &Viewer) -> String {
    let key = esc(&flag.key);
    let written: Value = serde_json::from_str(&flag.definition).unwrap_or(Value::Null);
    let mut body = String::with_capacity(16 * 1024);
    let _ = write!(
        body,
        "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"/ui/\">Flags</a> › <span aria-current=\"page\">{key}</span></nav>\
<h1>{key}</h1>"
    );
    if let Some(d) = written["description"].as_str() {
        let _ = write!(body, "<p class=\"description\">{}</p>", esc(d));
    }
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>Type</dt><dd>{}</dd><dt>Serves</dt><dd>{}</dd><dt>Client-visible</dt><dd>{}</dd>\
<dt>Owner</dt><dd>{}</dd><dt>Expires</dt><dd>{}</dd></dl>",
        flag.kind.as_str(),
        esc(&serves(flag)),
        if flag.client_side { "yes" } else { "no" },
        esc(written["owner"].as_str().unwrap_or("—")),
        esc(written["expires"].as_str().unwrap_or("—")),
    );
    if let Some(status) = &data.status {
        rollout_section(&mut body, flag, status, viewer);
        timeline(&mut body, flag, status, &data.audit);
        checks_section(&mut body, data);
        guardrail(&mut body, status);
    }
    if let Some(report) = &data.experiment {
        experiment(&mut body, report, data.conversions.as_ref());
    }
    audit_section(&mut body, data);
    let _ = write!(
        body,
        "<section aria-labelledby=\"written-h\"><h2 id=\"written-h\">As written</h2><pre class=\"definition\" tabindex=\"0\">{}</pre></section>",
        esc(&serde_json::to_string_pretty(&written).unwrap_or_default())
    );
    explain_form(&mut body, flag, data);
    page(&flag.key, &header(served), viewer, &body)
}

fn rollout_section(out: &mut String, flag: &CompiledFlag, s: &RolloutStatus, viewer: &Viewer) {
    let stage = match s.stages {
        Some(n) => format!("stage {} of {n}, ", s.stage + 1),
        None => String::new(),
    };
    let _ = write!(
        out,
        "<section aria-labelledby=\"rollout-h\" id=\"rollout\" data-region data-phase=\"{phase}\" data-stage=\"{}\" data-percentage=\"{}\">\
<h2 id=\"rollout-h\">Rollout</h2><p class=\"now\"><span class=\"phase {phase}\">{phase}</span> {} strategy, {stage}<strong>{}%</strong> get <code>{}</code></p>",
        s.stage,
        s.percentage,
        s.strategy.as_str(),
        num(s.percentage),
        esc(&s.serve),
        phase = s.phase.as_str(),
    );
    if let Some(end) = s.stage_ends_at {
        let _ = write!(out, "<p>Next transition: {}</p>", time(end));
    }
    if let Some(reason) = &s.reason {
        let _ = write!(out, "<p class=\"reason\">Reason: {}</p>", esc(reason));
    }
    if let Some(outcome) = last_outcome(s) {
        let _ = write!(
            out,
            "<p>Last check round: <span class=\"outcome {0}\">{0}</span> ({1} passed, {2} failed this stage; failure limit {3})</p>",
            outcome.as_str(),
            s.checks_passed,
            s.checks_failed,
            s.failure_limit
        );
    }
    if let Some(leader) = &s.leader {
        let _ = write!(
            out,
            "<p>Decided by cluster leader <code>{}</code></p>",
            esc(leader)
        );
    }
    if viewer.can_steer {
        let actions: &[(&str, &str, bool)] = match s.phase {
            Phase::Progressing => &[
                ("pause", "Pause", false),
                ("promote", "Promote to the next stage", false),
                ("promote", "Promote to 100 %", true),
                ("abort", "Abort (roll back)", false),
            ],
            Phase::Paused => &[
                ("resume", "Resume", false),
                ("promote", "Promote to the next stage", false),
                ("abort", "Abort (roll back)", false),
            ],
            Phase::Completed => &[("abort", "Abort (roll back)", false)],
            Phase::RolledBack => &[],
        };
        if !actions.is_empty() {
            out.push_str("<div class=\"steer\" role=\"group\" aria-label=\"Steering\">");
            for (action, label, full) in actions {
                let _ = write!(
                    out,
                    "<button type=\"button\" class=\"steer-button {action}\" data-steer=\"/api/v1/rollouts/{}/{action}{}\" data-confirm=\"{} `{}`?\">{label}</button>",
                    url_part(&flag.key),
                    if *full { "?full=true" } else { "" },
                    esc(label),
                    esc(&flag.key),
                );
            }
            out.push_str(
                "<p class=\"steer-result\" role=\"status\" aria-live=\"polite\"></p></div>",
            );
        }
    }
    out.push_str("</section>");
}

/// The entries of the rollout in service: from its last `started` on.
fn current_entries(audit: &[Value]) -> &[Value] {
    let start = audit
        .iter()
        .rposition(|e| e["event"] == "started")
        .unwrap_or(0);
    &audit[start..]
}

/// Who made a transition, as people read it.
fn actor(e: &Value) -> String {
    let actor = e["actor"].as_str().unwrap_or("?");
    match (actor, e["event"].as_str()) {
        ("controller", Some("started")) => "file change (new rollout spec)".to_owned(),
        ("controller", _) => "controller".to_owned(),
        (subject, _) => format!("{subject} (steering)"),
    }
}

fn entry_time(e: &Value) -> Option<Timestamp> {
    e["time"].as_str()?.parse().ok()
}

fn timeline(out: &mut String, flag: &CompiledFlag, s: &RolloutStatus, audit: &[Value]) {
    let entries = current_entries(audit);
    out.push_str("<section aria-labelledby=\"timeline-h\" id=\"timeline\" data-region><h2 id=\"timeline-h\">Timeline</h2>");
    if let Some(RolloutPlan::Canary { stages }) = flag.rollout.as_ref().map(|r| &r.plan) {
        // When each stage started: the transitions that entered it.
        let mut starts: Vec<(u32, Timestamp, Option<Timestamp>)> = Vec::new();
        let mut ended: Option<(Timestamp, String)> = None;
        for e in entries {
            let Some(at) = entry_time(e) else { continue };
            let event = e["event"].as_str().unwrap_or("");
            let to_stage = e["to"]["stage"].as_u64().unwrap_or(0) as u32;
            let from_stage = e["from"]["stage"].as_u64().unwrap_or(0) as u32;
            match event {
                "started" | "advanced" | "promoted" | "completed"
                    if event == "started" || to_stage != from_stage =>
                {
                    if let Some(last) = starts.last_mut()
                        && last.2.is_none()
                    {
                        last.2 = Some(at);
                    }
                    starts.push((to_stage, at, None));
                }
                "rolled_back" | "aborted" => {
                    if let Some(last) = starts.last_mut()
                        && last.2.is_none()
                    {
                        last.2 = Some(at);
                    }
                    ended = Some((at, event.replace('_', " ")));
                }
                _ => {}
            }
        }
        out.push_str("<div class=\"table-wrap\"><table class=\"stages\"><caption>Stages, planned and actual</caption><thead><tr><th scope=\"col\">Stage</th><th scope=\"col\">Planned</th><th scope=\"col\">Started</th><th scope=\"col\">Ended</th><th scope=\"col\">Lasted</th></tr></thead><tbody>");
        for (i, stage) in stages.iter().enumerate() {
            let actual = starts.iter().rev().find(|(n, _, _)| *n as usize == i);
            let current =
                i as u32 == s.stage && matches!(s.phase, Phase::Progressing | Phase::Paused);
            let planned = format!(
                "{}%{}",
                num(percentage(stage.threshold)),
                stage
                    .duration
                    .map(|d| format!(" for {}", human(d)))
                    .unwrap_or_default()
            );
            let (started, ended_at, lasted) = match actual {
                Some((_, start, end)) => (
                    time(*start),
                    end.map(time)
                        .unwrap_or_else(|| if current { "now".into() } else { String::new() }),
                    end.map(|e| human_secs(e.as_millisecond() - start.as_millisecond()))
                        .unwrap_or_default(),
                ),
                None => (String::new(), String::new(), String::new()),
            };
            let _ = write!(
                out,
                "<tr data-stage-row=\"{i}\"{}><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if current {
                    " class=\"current\" aria-current=\"step\""
                } else {
                    ""
                },
                i + 1,
                esc(&planned),
                started,
                ended_at,
                lasted
            );
        }
        out.push_str("</tbody></table></div>");
        if let Some((at, what)) = ended {
            let _ = write!(out, "<p class=\"ended\">{} at {}</p>", esc(&what), time(at));
        }
    }
    out.push_str("<ol class=\"transitions\">");
    for e in entries {
        let values = e["values"]
            .as_object()
            .map(|v| {
                v.iter()
                    .map(|(k, v)| {
                        format!(
                            "{k} = {}",
                            v.as_f64().map(num).unwrap_or_else(|| "no data".into())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let _ = write!(
            out,
            "<li class=\"event {ev}\"><time>{}</time> <strong>{}</strong> by {} — {} % → {} %{}{}</li>",
            entry_time(e).map(time).unwrap_or_default(),
            esc(&e["event"].as_str().unwrap_or("").replace('_', " ")),
            esc(&actor(e)),
            e["from"]["percentage"]
                .as_f64()
                .map(num)
                .unwrap_or_default(),
            e["to"]["percentage"].as_f64().map(num).unwrap_or_default(),
            e["reason"]
                .as_str()
                .map(|r| format!(": {}", esc(r)))
                .unwrap_or_default(),
            if values.is_empty() {
                String::new()
            } else {
                format!(" <span class=\"values\">({})</span>", esc(&values))
            },
            ev = esc(e["event"].as_str().unwrap_or("")),
        );
    }
    out.push_str("</ol></section>");
}

fn checks_section(out: &mut String, data: &FlagData) {
    let Some(history) = &data.history else { return };
    if history.checks.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section aria-labelledby=\"checks-h\" id=\"checks\" data-region><h2 id=\"checks-h\">Health checks</h2>\
<p class=\"hint\">{} recorded round{} of this rollout (thinned past {}); red dots are failed rounds, the dashed line the threshold{}.</p><div class=\"charts\">",
        history.rounds.len(),
        if history.rounds.len() == 1 { "" } else { "s" },
        history.limit,
        if data.context.is_empty() {
            ""
        } else {
            ", the grey line Prometheus' own series"
        }
    );
    for (i, check) in history.checks.iter().enumerate() {
        let context = data
            .context
            .get(&check.name)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        out.push_str(&chart(check, i, &history.rounds, context));
    }
    out.push_str("</div></section>");
}

fn interval(failures: f64, total: f64) -> String {
    Counts::new(failures, total)
        .and_then(|c| wilson_interval(c, 0.95))
        .map(|i| format!("[{}, {}]", pct(i.lower), pct(i.upper)))
        .unwrap_or_else(|_| "—".to_owned())
}

fn pct(rate: f64) -> String {
    format!("{}%", num((rate * 100.0 * 1000.0).round() / 1000.0))
}

fn guardrail(out: &mut String, s: &RolloutStatus) {
    let comparisons: Vec<_> = s
        .checks
        .iter()
        .filter_map(|c| Some((c, c.comparison.as_ref()?)))
        .collect();
    if comparisons.is_empty() {
        return;
    }
    out.push_str("<section aria-labelledby=\"guard-h\" id=\"guardrail\" data-region><h2 id=\"guard-h\">Guardrail</h2><div class=\"table-wrap\"><table><caption>Latest verdicts: failure rates with 95% Wilson intervals</caption><thead><tr><th scope=\"col\">Check</th><th scope=\"col\">Verdict</th><th scope=\"col\">Variant</th><th scope=\"col\">Failure rate</th><th scope=\"col\">95% CI</th><th scope=\"col\">Requests</th><th scope=\"col\">p-value</th></tr></thead><tbody>");
    for (c, cmp) in comparisons {
        let r = &cmp.result;
        for (variant, rate, counts) in [
            (&cmp.rollout_variant, r.rollout_rate, &r.rollout),
            (&cmp.baseline_variant, r.baseline_rate, &r.baseline),
        ] {
            let _ = write!(
                out,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.name),
                r.verdict.as_str(),
                esc(variant),
                rate.map(pct).unwrap_or_else(|| "—".into()),
                interval(counts.failures, counts.total),
                num(counts.total),
                r.p_value.map(num).unwrap_or_else(|| "—".into()),
            );
        }
    }
    out.push_str("</tbody></table></div></section>");
}

fn experiment(
    out: &mut String,
    report: &ExposureReport,
    conversions: Option<&Result<Analysis, String>>,
) {
    let observed: Vec<f64> = report.exposures.values().map(|n| *n as f64).collect();
    let weights: Vec<f64> = report.weights.values().copied().collect();
    let srm = hotswap_flags_stats::chisquare::goodness_of_fit(&observed, &weights)
        .map(|t| {
            format!(
                "χ² = {}, p = {}{}",
                num(t.statistic),
                num(t.p_value),
                if t.p_value < 0.001 {
                    ": sample ratio mismatch, do not trust the results"
                } else {
                    ": no mismatch"
                }
            )
        })
        .unwrap_or_else(|e| format!("not computed: {e}"));
    let _ = write!(
        out,
        "<section aria-labelledby=\"exp-h\" id=\"experiment\" data-region><h2 id=\"exp-h\">Experiment</h2>\
<p>{} exposures since {}; sample ratio check (SRM): {}</p><div class=\"table-wrap\"><table><caption>Exposures per variant, share with 95% Wilson interval</caption><thead><tr><th scope=\"col\">Variant</th><th scope=\"col\">Weight</th><th scope=\"col\">Exposures</th><th scope=\"col\">Share</th><th scope=\"col\">95% CI</th></tr></thead><tbody>",
        report.total,
        time(report.since),
        esc(&srm)
    );
    let total = report.total as f64;
    let weight_sum: f64 = weights.iter().sum();
    for (variant, n) in &report.exposures {
        let w = report.weights.get(variant).copied().unwrap_or(0.0);
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{n}</td><td>{}</td><td>{}</td></tr>",
            esc(variant),
            pct(if weight_sum > 0.0 {
                w / weight_sum
            } else {
                0.0
            }),
            if total > 0.0 {
                pct(*n as f64 / total)
            } else {
                "—".into()
            },
            interval(*n as f64, total),
        );
    }
    out.push_str("</tbody></table></div>");
    match conversions {
        Some(Ok(analysis)) => conversion_table(out, analysis),
        Some(Err(why)) => {
            let _ = write!(
                out,
                "<p class=\"error\">No conversion rates: {}</p>",
                esc(why)
            );
        }
        None => out.push_str(
            "<p class=\"hint\">Conversion rates appear here when the experiment has a \
<code>conversions</code> query and flagd knows its Prometheus (docs/experiments.md §9).</p>",
        ),
    }
    out.push_str("</section>");
}

/// Each variant's conversion rate with its interval, and each treatment
/// against the control, as `flagctl experiment analyze --daemon` prints
/// them. The exact numbers ride in `data-` attributes for scripts and tests.
fn conversion_table(out: &mut String, analysis: &Analysis) {
    if analysis.metric != Metric::Conversion {
        return;
    }
    let level = num(analysis.confidence_level * 100.0);
    let _ = write!(
        out,
        "<div class=\"table-wrap\"><table id=\"conversions\"><caption>Conversion rate per variant with {level}% Wilson interval; \
difference from the control <code>{}</code> with its interval and Holm-adjusted p-values (fixed-horizon and always-valid)</caption>\
<thead><tr><th scope=\"col\">Variant</th><th scope=\"col\">Exposures</th><th scope=\"col\">Rate</th><th scope=\"col\">{level}% CI</th>\
<th scope=\"col\">Difference</th><th scope=\"col\">p</th><th scope=\"col\">Sequential p</th></tr></thead><tbody>",
        esc(&analysis.control)
    );
    for v in &analysis.variants {
        let (diff, p, seq) = match &v.comparison {
            Some(c) => (
                format!(
                    "{} [{}, {}]{}",
                    pct(c.diff),
                    pct(c.diff_ci.lower),
                    pct(c.diff_ci.upper),
                    if c.sequential_significant {
                        ", significant"
                    } else {
                        ""
                    }
                ),
                num(c.adjusted_p_value),
                num(c.adjusted_sequential_p_value),
            ),
            None => ("control".to_owned(), "—".to_owned(), "—".to_owned()),
        };
        let _ = write!(
            out,
            "<tr data-variant=\"{name}\" data-rate=\"{rate:?}\" data-ci=\"{lo:?} {hi:?}\"><th scope=\"row\">{name}</th>\
<td>{}</td><td>{}</td><td>[{}, {}]</td><td>{diff}</td><td>{p}</td><td>{seq}</td></tr>",
            num(v.exposures),
            pct(v.estimate),
            pct(v.ci.lower),
            pct(v.ci.upper),
            name = esc(&v.name),
            rate = v.estimate,
            lo = v.ci.lower,
            hi = v.ci.upper,
        );
    }
    out.push_str("</tbody></table></div>");
}

fn audit_section(out: &mut String, data: &FlagData) {
    out.push_str("<section aria-labelledby=\"audit-h\" id=\"audit\" data-region><h2 id=\"audit-h\">Audit trail</h2>");
    if let Some(e) = &data.audit_error {
        let _ = write!(out, "<p class=\"error\">{}</p>", esc(e));
    }
    if data.audit.is_empty() {
        out.push_str("<p>No entries.</p></section>");
        return;
    }
    out.push_str("<div class=\"table-wrap\"><table class=\"audit\"><caption class=\"visually-hidden\">Audit entries, newest first</caption><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Event</th><th scope=\"col\">Actor</th><th scope=\"col\">From → to</th><th scope=\"col\">Reason</th></tr></thead><tbody>");
    for e in data.audit.iter().rev() {
        let position = |p: &Value| {
            format!(
                "{} {}%",
                p["phase"].as_str().unwrap_or(""),
                p["percentage"].as_f64().map(num).unwrap_or_default()
            )
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"actor\">{}</td><td>{} → {}</td><td>{}</td></tr>",
            entry_time(e).map(time).unwrap_or_default(),
            esc(e["event"].as_str().unwrap_or("")),
            esc(e["actor"].as_str().unwrap_or("")),
            esc(&position(&e["from"])),
            esc(&position(&e["to"])),
            esc(e["reason"].as_str().unwrap_or("")),
        );
    }
    out.push_str("</tbody></table></div></section>");
}

fn explain_form(out: &mut String, flag: &CompiledFlag, data: &FlagData) {
    let text = data
        .context_text
        .as_deref()
        .unwrap_or("{\"targetingKey\": \"user-1\"}");
    let _ = write!(
        out,
        "<section aria-labelledby=\"explain-h\" id=\"explain\"><h2 id=\"explain-h\">Explain an evaluation</h2>\
<form method=\"get\" action=\"/ui/flags/{}#explain\"><label for=\"context\">Context (JSON)</label>\
<textarea id=\"context\" name=\"context\" rows=\"4\" spellcheck=\"false\">{}</textarea>\
<button type=\"submit\">Explain</button></form>",
        url_part(&flag.key),
        esc(text)
    );
    match &data.explanation {
        Some(Ok(x)) => {
            // `$codeDefault` serves no value (docs/flag-format.md §5).
            let serves = if x["codeDefault"] == true {
                "no value: the caller uses its code default".to_owned()
            } else {
                format!(
                    "<code>{}</code> (variant <code>{}</code>)",
                    esc(&x["value"].to_string()),
                    esc(x["variant"].as_str().unwrap_or(""))
                )
            };
            let _ = write!(
                out,
                "<p class=\"answer\">Serves {serves}, reason {}: {}</p><pre class=\"explanation\" tabindex=\"0\">{}</pre>",
                esc(x["reason"].as_str().unwrap_or("")),
                esc(x["detail"].as_str().unwrap_or("")),
                esc(&serde_json::to_string_pretty(x).unwrap_or_default())
            );
        }
        Some(Err(e)) => {
            let _ = write!(out, "<p class=\"error\" role=\"alert\">{}</p>", esc(e));
        }
        None => {}
    }
    out.push_str("</section>");
}

fn human(d: std::time::Duration) -> String {
    human_secs(d.as_millis() as i64)
}

/// A duration in milliseconds as `1h 5m`, `3.2 s`.
fn human_secs(ms: i64) -> String {
    let s = ms as f64 / 1000.0;
    if s < 60.0 {
        return format!("{} s", num((s * 10.0).round() / 10.0));
    }
    let total = ms / 1000;
    let (d, h, m, sec) = (
        total / 86400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d}d"));
    }
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 {
        parts.push(format!("{m}m"));
    }
    if sec > 0 && d == 0 {
        parts.push(format!("{sec}s"));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actors_name_the_file_the_controller_or_the_token() {
        assert_eq!(
            actor(&json!({"actor": "controller", "event": "started"})),
            "file change (new rollout spec)"
        );
        assert_eq!(
            actor(&json!({"actor": "controller", "event": "advanced"})),
            "controller"
        );
        assert_eq!(
            actor(&json!({"actor": "ops@example.com", "event": "paused"})),
            "ops@example.com (steering)"
        );
    }

    #[test]
    fn the_timeline_starts_at_the_last_start() {
        let audit = [
            json!({"event": "started"}),
            json!({"event": "rolled_back"}),
            json!({"event": "started"}),
            json!({"event": "advanced"}),
        ];
        assert_eq!(current_entries(&audit).len(), 2);
    }

    #[test]
    fn durations() {
        assert_eq!(human_secs(3200), "3.2 s");
        assert_eq!(human_secs(3_900_000), "1h 5m");
        assert_eq!(human(std::time::Duration::from_secs(600)), "10m");
    }
}
