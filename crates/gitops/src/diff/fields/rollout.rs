//! Rollouts compared field by field: strategy, serve and salt, stage by
//! stage, the ramp and window fields, health checks.

use super::json::{json_changes, to_json};
use super::variants::names;
use super::wording::{list_delta, num, salt_text};
use super::{FieldChange, scalar_change};
use hotswap_flags_core::escape::Words;
use hotswap_flags_core::model::{DurationSpec, Rollout, Stage};

fn stage_text(s: &Stage) -> Words {
    let pct = Words::new().ours(format!("{} %", num(s.percentage)));
    match &s.duration {
        Some(d) => pct.ours(" for ").bare(d.as_str()),
        None => pct,
    }
}

/// What the file holds, or our word for its absence.
fn or_ours(v: Option<&str>, absent: &'static str) -> Words {
    v.map_or_else(|| Words::from(absent), |v| Words::new().bare(v))
}

/// A rollout in one line: `canary of on: 10 % for 1h → 30 % for 2h → 100 %`.
pub fn rollout_text(r: &Rollout) -> Words {
    use hotswap_flags_core::model::Strategy::*;
    let plan = match r.strategy {
        Direct => Words::from("everyone"),
        Canary => Words::join(
            r.stages
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(stage_text),
            " → ",
        ),
        Linear => Words::new()
            .ours(format!(
                "{} → {} % over ",
                num(r.from.unwrap_or(0.0)),
                num(r.to.unwrap_or(100.0))
            ))
            .then(or_ours(r.over.as_ref().map(DurationSpec::as_str), "?"))
            .ours(
                r.step
                    .map(|s| format!(" in steps of {} %", num(s)))
                    .unwrap_or_default(),
            ),
        Scheduled => Words::from("from ")
            .then(or_ours(r.start.as_deref(), "(open)"))
            .ours(" until ")
            .then(or_ours(r.end.as_deref(), "(open)")),
        Segment => {
            let segments: Vec<&str> = r.segments.iter().flatten().map(String::as_str).collect();
            Words::from("segments ").then(names(&segments))
        }
    };
    Words::new()
        .ours(format!("{} of ", r.strategy))
        .bare(&r.serve)
        .ours(": ")
        .then(plan)
}

fn opt_text<T, F: Fn(&T) -> Words>(v: Option<&T>, f: F) -> Words {
    v.map_or_else(|| Words::from("none"), f)
}

/// A flag's rollout: added or removed whole, or compared field by field.
pub(super) fn rollout_changes(
    a: Option<&Rollout>,
    b: Option<&Rollout>,
    out: &mut Vec<FieldChange>,
) {
    match (a, b) {
        (None, Some(r)) => out.push(
            FieldChange::new(
                "rollout",
                Words::from("rollout added: ").then(rollout_text(r)),
            )
            .values(None::<&Rollout>, Some(r)),
        ),
        (Some(r), None) => out.push(
            FieldChange::new(
                "rollout",
                Words::from("rollout removed (was ")
                    .then(rollout_text(r))
                    .ours(")"),
            )
            .values(Some(r), None::<&Rollout>),
        ),
        (Some(x), Some(y)) if x != y => field_changes(x, y, out),
        _ => {}
    }
}

/// Two rollouts of the same strategy field by field (another strategy is
/// another rollout, shown whole).
fn field_changes(a: &Rollout, b: &Rollout, out: &mut Vec<FieldChange>) {
    if a.strategy != b.strategy {
        let words = Words::from("rollout ")
            .then(rollout_text(a))
            .ours(" → ")
            .then(rollout_text(b));
        out.push(FieldChange::new("rollout", words).values(Some(a), Some(b)));
        return;
    }
    serve_changes(a, b, out);
    stage_changes(
        a.stages.as_deref().unwrap_or_default(),
        b.stages.as_deref().unwrap_or_default(),
        out,
    );
    ramp_changes(a, b, out);
    window_changes(a, b, out);
    for (key, x, y) in [
        ("health", to_json(&a.health), to_json(&b.health)),
        ("metrics", to_json(&a.metrics), to_json(&b.metrics)),
    ] {
        json_changes(
            &format!("rollout.{key}"),
            &Words::from("rollout ").ours(key),
            &x,
            &y,
            out,
        );
    }
    let flag = |v: Option<&bool>| Words::new().ours(v.map_or_else(String::new, bool::to_string));
    scalar_change(
        out,
        "rollout.rollbackOnError",
        "rollout rollbackOnError",
        (Some(&a.rollback_on_error), Some(&b.rollback_on_error)),
        flag,
    );
}

/// Who the rollout moves users to, and its salt (another reshuffles them).
fn serve_changes(a: &Rollout, b: &Rollout, out: &mut Vec<FieldChange>) {
    let shown = |v: Option<&String>| Words::new().bare(v.map_or("", String::as_str));
    scalar_change(
        out,
        "rollout.serve",
        "rollout serve",
        (Some(&a.serve), Some(&b.serve)),
        shown,
    );
    if a.salt != b.salt {
        let words = Words::from("rollout salt ")
            .then(salt_text(a.salt.as_deref()))
            .ours(" → ")
            .then(salt_text(b.salt.as_deref()))
            .ours(" (users reshuffled)");
        out.push(FieldChange::new("rollout.salt", words).values(a.salt.as_ref(), b.salt.as_ref()));
    }
}

/// A linear ramp: from, to, over, step.
fn ramp_changes(a: &Rollout, b: &Rollout, out: &mut Vec<FieldChange>) {
    let pct = |default: f64| {
        move |v: Option<&f64>| {
            Words::new().ours(format!("{} %", num(v.copied().unwrap_or(default))))
        }
    };
    let duration = |d: Option<&DurationSpec>| opt_text(d, |d| Words::new().bare(d.as_str()));
    let step = |s: Option<&f64>| opt_text(s, |s| Words::new().ours(format!("{} %", num(*s))));
    scalar_change(
        out,
        "rollout.from",
        "rollout from",
        (a.from.as_ref(), b.from.as_ref()),
        pct(0.0),
    );
    scalar_change(
        out,
        "rollout.to",
        "rollout to",
        (a.to.as_ref(), b.to.as_ref()),
        pct(100.0),
    );
    scalar_change(
        out,
        "rollout.over",
        "rollout over",
        (a.over.as_ref(), b.over.as_ref()),
        duration,
    );
    scalar_change(
        out,
        "rollout.step",
        "rollout step",
        (a.step.as_ref(), b.step.as_ref()),
        step,
    );
}

/// When and to whom a scheduled or segment rollout applies: start, end,
/// timezone, segments.
fn window_changes(a: &Rollout, b: &Rollout, out: &mut Vec<FieldChange>) {
    let text = |v: Option<&String>| or_ours(v.map(String::as_str), "none");
    for (name, x, y) in [
        ("start", &a.start, &b.start),
        ("end", &a.end, &b.end),
        ("timezone", &a.timezone, &b.timezone),
    ] {
        scalar_change(
            out,
            format!("rollout.{name}"),
            Words::from("rollout ").ours(name),
            (x.as_ref(), y.as_ref()),
            text,
        );
    }
    if a.segments != b.segments {
        let words = Words::from("rollout segments ")
            .then(list_delta(a.segments.as_deref(), b.segments.as_deref()));
        out.push(
            FieldChange::new("rollout.segments", words)
                .values(a.segments.as_ref(), b.segments.as_ref()),
        );
    }
}

/// Stage by stage: percentages and durations changed, stages added or
/// removed at the end.
fn stage_changes(sa: &[Stage], sb: &[Stage], out: &mut Vec<FieldChange>) {
    let duration = |d: Option<&DurationSpec>| opt_text(d, |d| Words::new().bare(d.as_str()));
    let pct = |p: Option<&f64>| format!("{} %", p.copied().map(num).unwrap_or_default());
    for i in 0..sa.len().max(sb.len()) {
        let path = format!("rollout.stages[{i}]");
        let n = i + 1;
        match (sa.get(i), sb.get(i)) {
            (Some(x), Some(y)) => {
                let (px, py) = (Some(&x.percentage), Some(&y.percentage));
                if x.percentage != y.percentage {
                    // "10 → 20 %": the unit once, after both numbers.
                    let words = Words::new().ours(format!(
                        "rollout stage {n} percentage {} → {}",
                        num(x.percentage),
                        pct(py)
                    ));
                    out.push(FieldChange::new(format!("{path}.percentage"), words).values(px, py));
                }
                let what = Words::new().ours(format!("rollout stage {n} duration"));
                let durations = (x.duration.as_ref(), y.duration.as_ref());
                scalar_change(out, format!("{path}.duration"), what, durations, duration);
            }
            (None, Some(y)) => out.push(
                FieldChange::new(
                    path,
                    Words::new()
                        .ours(format!("rollout stage {n} added: "))
                        .then(stage_text(y)),
                )
                .values(None::<&Stage>, Some(y)),
            ),
            (Some(x), None) => out.push(
                FieldChange::new(
                    path,
                    Words::new()
                        .ours(format!("rollout stage {n} removed (was "))
                        .then(stage_text(x))
                        .ours(")"),
                )
                .values(Some(x), None::<&Stage>),
            ),
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::flag_changes;
    use super::super::tests::{BASE, flag, texts};

    #[test]
    fn every_rollout_field_is_worded() {
        const LINEAR: &str = "type: boolean\nvariants: { on: true, off: false }\ndefault: off\nrollout: { strategy: linear, serve: on, over: 2h, step: 5, start: '2026-01-01T00:00:00', timezone: Europe/Berlin }\n";
        let head = LINEAR
            .replace("over: 2h, step: 5", "from: 10, to: 90, over: 4h")
            .replace("start: '2026-01-01T00:00:00'", "end: '2026-02-01T00:00:00'")
            .replace("serve: on", "serve: off, salt: s2, rollbackOnError: false");
        let changes = flag_changes(&flag(LINEAR), &flag(&head));
        let worded: Vec<String> = changes.iter().map(|c| c.text.to_string()).collect();
        assert_eq!(
            worded,
            [
                "rollout serve on → off",
                "rollout salt (default) → `s2` (users reshuffled)",
                "rollout from 0 % → 10 %",
                "rollout to 100 % → 90 %",
                "rollout over 2h → 4h",
                "rollout step 5 % → none",
                "rollout start 2026-01-01T00:00:00 → none",
                "rollout end none → 2026-02-01T00:00:00",
                "rollout rollbackOnError true → false",
            ]
        );
        let step = &changes[5];
        assert_eq!(
            (step.path.as_str(), step.before.clone(), step.after.clone()),
            ("rollout.step", Some(5.0.into()), None)
        );
        let stages = |s: &str| {
            BASE.replace(
                "    - { percentage: 30, duration: 2h }\n    - { percentage: 100 }\n",
                s,
            )
        };
        assert_eq!(
            texts(
                &stages("    - { percentage: 30, duration: 2h }\n"),
                &stages("    - { percentage: 40 }\n    - { percentage: 100 }\n")
            ),
            [
                "rollout stage 2 percentage 30 → 40 %",
                "rollout stage 2 duration 2h → none",
                "rollout stage 3 added: 100 %",
            ]
        );
    }
}
