//! A health check's recorded values as an SVG chart: the values over time,
//! the threshold as a line, failed rounds marked, rounds without data as
//! ticks on the axis; and, when Prometheus answered, its `query_range`
//! series behind them for context (docs/dashboard.md, Flag page).

use std::fmt::Write as _;

use hotswap_flags_client::wire::{CheckOutcome, HistoryCheck, HistoryRound};
use jiff::Timestamp;

use super::html::{esc, num, time};

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 30.0;

/// One check's chart over `rounds` (oldest first); `context` is
/// Prometheus' range answer for the check's query, if any.
pub fn chart(
    check: &HistoryCheck,
    index: usize,
    rounds: &[HistoryRound],
    context: &[(Timestamp, f64)],
) -> String {
    let points: Vec<(Timestamp, Option<f64>, CheckOutcome)> = rounds
        .iter()
        .filter_map(|r| {
            let p = r.checks.get(index).filter(|p| p.name == check.name)?;
            Some((r.at, p.value.filter(|v| v.is_finite()), p.outcome))
        })
        .collect();
    let bound = |b: &Option<f64>| b.filter(|v| v.is_finite());
    let (min, max) = (bound(&check.min), bound(&check.max));
    let label = format!(
        "Check {}: {} rounds{}{}",
        check.name,
        points.len(),
        max.map(|m| format!(", max {}", num(m))).unwrap_or_default(),
        min.map(|m| format!(", min {}", num(m))).unwrap_or_default(),
    );
    let mut out = String::with_capacity(4096);
    let _ = write!(
        out,
        "<figure class=\"chart\" data-check=\"{name}\"><figcaption>{caption}</figcaption>\
<svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{label}\" preserveAspectRatio=\"xMidYMid meet\">",
        name = esc(&check.name),
        caption = esc(&check.name),
        label = esc(&label),
    );
    if points.is_empty() && context.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" class=\"empty\">no check rounds yet</text></svg></figure>",
            W / 2.0,
            H / 2.0
        );
        return out;
    }
    // Scales: time across, values up; the bounds always in view.
    let times = points
        .iter()
        .map(|p| p.0)
        .chain(context.iter().map(|c| c.0));
    let (t0, t1) = times.fold((None::<Timestamp>, None::<Timestamp>), |(a, b), t| {
        (
            Some(a.map_or(t, |a: Timestamp| a.min(t))),
            Some(b.map_or(t, |b: Timestamp| b.max(t))),
        )
    });
    let (t0, t1) = (t0.unwrap_or_default(), t1.unwrap_or_default());
    let span = (t1.as_millisecond() - t0.as_millisecond()).max(1) as f64;
    let values = points
        .iter()
        .filter_map(|p| p.1)
        .chain(context.iter().map(|c| c.1))
        .chain(min)
        .chain(max);
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    lo = lo.min(0.0);
    if hi <= lo {
        hi = lo + 1.0;
    }
    hi += (hi - lo) * 0.08;
    let x = |t: Timestamp| {
        LEFT + (t.as_millisecond() - t0.as_millisecond()) as f64 / span * (W - LEFT - RIGHT)
    };
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * (H - TOP - BOTTOM);
    // Axes and labels.
    let base = H - BOTTOM;
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\"/>\
<line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{base}\"/>\
<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
<text class=\"tick\" x=\"{LEFT}\" y=\"{}\">{}</text>\
<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        W - RIGHT,
        LEFT - 4.0,
        y(hi) + 4.0,
        esc(&num(hi)),
        LEFT - 4.0,
        y(lo) + 4.0,
        esc(&num(lo)),
        H - 8.0,
        esc(&t0.strftime("%H:%M:%S").to_string()),
        W - RIGHT,
        H - 8.0,
        esc(&t1.strftime("%H:%M:%S").to_string()),
    );
    // Prometheus' context, behind.
    if context.len() > 1 {
        out.push_str("<polyline class=\"context\" points=\"");
        for (t, v) in context {
            let _ = write!(out, "{:.1},{:.1} ", x(*t), y(*v));
        }
        out.push_str("\"><title>Prometheus query_range</title></polyline>");
    }
    // The bounds.
    for (bound, name) in [(max, "max"), (min, "min")] {
        if let Some(b) = bound {
            let _ = write!(
                out,
                "<line class=\"threshold\" data-threshold=\"{b}\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\"/>\
<text class=\"threshold-label\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{name} {}</text>",
                W - RIGHT,
                W - RIGHT,
                y(b) - 4.0,
                esc(&num(b)),
                y = y(b),
            );
        }
    }
    // The recorded values.
    let line: Vec<String> = points
        .iter()
        .filter_map(|(t, v, _)| Some(format!("{:.1},{:.1}", x(*t), y((*v)?))))
        .collect();
    if line.len() > 1 {
        let _ = write!(
            out,
            "<polyline class=\"values\" points=\"{}\"/>",
            line.join(" ")
        );
    }
    for (t, v, outcome) in &points {
        match (v, outcome) {
            (Some(v), CheckOutcome::Fail) => {
                let _ = write!(
                    out,
                    "<circle class=\"fail\" data-value=\"{v}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\"><title>{} failed: {} at {}</title></circle>",
                    x(*t),
                    y(*v),
                    esc(&check.name),
                    esc(&num(*v)),
                    esc(&time(*t)),
                );
            }
            (Some(v), _) => {
                let _ = write!(
                    out,
                    "<circle class=\"pass\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\"><title>{}: {} at {}</title></circle>",
                    x(*t),
                    y(*v),
                    esc(&check.name),
                    esc(&num(*v)),
                    esc(&time(*t)),
                );
            }
            (None, _) => {
                let _ = write!(
                    out,
                    "<line class=\"nodata\" x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\"><title>no data at {}</title></line>",
                    base - 6.0,
                    base,
                    esc(&time(*t)),
                    x = x(*t),
                );
            }
        }
    }
    out.push_str("</svg>");
    // The numbers behind it, for screen readers and for a closer look.
    let failed = points.iter().filter(|p| p.2 == CheckOutcome::Fail).count();
    let last = points
        .last()
        .map(|p| match p.1 {
            Some(v) => format!("latest {} ({})", num(v), p.2.as_str()),
            None => "latest: no data".to_owned(),
        })
        .unwrap_or_default();
    let _ = write!(
        out,
        "<p class=\"chart-summary\">{}; {failed} failed round{}</p></figure>",
        esc(&last),
        if failed == 1 { "" } else { "s" }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotswap_flags_client::wire::HistoryPoint;

    fn round(s: i64, value: Option<f64>, outcome: CheckOutcome) -> HistoryRound {
        HistoryRound {
            at: Timestamp::from_second(1_700_000_000 + s).unwrap(),
            spec_hash: "h".into(),
            stage: 0,
            percentage: 10.0,
            outcome,
            event: None,
            checks: vec![HistoryPoint {
                name: "errors".into(),
                value,
                outcome,
                message: None,
                p_value: None,
            }],
        }
    }

    #[test]
    fn draws_values_the_threshold_and_failed_rounds() {
        let check = HistoryCheck {
            name: "errors".into(),
            kind: "threshold".into(),
            min: None,
            max: Some(0.05),
            query: "error_rate".into(),
        };
        let rounds = [
            round(0, Some(0.01), CheckOutcome::Pass),
            round(1, None, CheckOutcome::NoData),
            round(2, Some(0.02), CheckOutcome::Pass),
            round(3, Some(0.5), CheckOutcome::Fail),
        ];
        let svg = chart(&check, 0, &rounds, &[]);
        assert!(
            svg.contains("class=\"threshold\" data-threshold=\"0.05\""),
            "{svg}"
        );
        assert!(svg.contains(">max 0.05</text>"), "{svg}");
        assert_eq!(svg.matches("class=\"fail\"").count(), 1);
        assert!(svg.contains("data-value=\"0.5\""));
        assert_eq!(svg.matches("class=\"pass\"").count(), 2);
        assert_eq!(svg.matches("class=\"nodata\"").count(), 1);
        assert!(svg.contains("latest 0.5 (fail); 1 failed round"));
        // Every coordinate is a number: nothing NaN or infinite leaks.
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        // With Prometheus' context behind.
        let context = [(rounds[0].at, 0.01), (rounds[3].at, 0.4)];
        assert!(chart(&check, 0, &rounds, &context).contains("class=\"context\""));
    }

    #[test]
    fn an_empty_history_says_so() {
        let check = HistoryCheck {
            name: "p99".into(),
            kind: "threshold".into(),
            min: Some(1.0),
            max: None,
            query: "q".into(),
        };
        assert!(chart(&check, 0, &[], &[]).contains("no check rounds yet"));
    }
}
