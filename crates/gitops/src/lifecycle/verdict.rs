//! Weighing a flag's evidence into a verdict with its reasons
//! (docs/lifecycle.md, "Verdicts").
//!
//! Each rule looks at one piece of evidence and says what it points to.
//! The verdict is the strongest of them: one reason to remove makes
//! `remove`, else one to look at makes `review`, else `keep`. The reasons
//! are kept, so the report says why.

use std::time::Duration;

use hotswap_flags_core::escape::Words;
use jiff::Timestamp;
use serde::Serialize;

use super::evidence::FlagEvidence;
use super::utc_date;

/// What to do with a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing suggests it can go.
    Keep,
    /// Something deserves a look: an owner to name, a lifetime passed.
    Review,
    /// The evidence says it can go.
    Remove,
}

impl Verdict {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Keep => "keep",
            Verdict::Review => "review",
            Verdict::Remove => "remove",
        }
    }
}

/// One reason, and the verdict it points to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// A stable name for scripts: `expired`, `past-lifetime`,
    /// `serves-one-variant`, `not-evaluated`, `evaluated-one-variant`,
    /// `no-code-references`, `no-owner`.
    pub code: &'static str,
    /// What it points to.
    pub points_to: Verdict,
    /// In words (the variants it names kept apart: code spans in Markdown).
    pub text: Words,
}

/// How the evidence is weighed.
#[derive(Debug, Clone, Copy)]
pub struct Weighing {
    /// Now (injected, so reports and tests are reproducible).
    pub now: Timestamp,
    /// How long a flag must have served one variant before that counts,
    /// and the window evaluations were counted over.
    pub older_than: Duration,
    /// When evaluations were counted from instead of over the window:
    /// flagd counts since it started.
    pub evaluations_since: Option<Timestamp>,
    /// Paths the code search could not walk or read: a flag without a
    /// reference may have one there.
    pub unreadable_paths: u64,
}

/// The verdict on one flag, with every reason found.
pub fn weigh(e: &FlagEvidence, w: &Weighing) -> (Verdict, Vec<Reason>) {
    let mut reasons = Vec::new();
    expiry(e, w, &mut reasons);
    lifetime(e, w, &mut reasons);
    serving(e, w, &mut reasons);
    evaluations(e, w, &mut reasons);
    code(e, w, &mut reasons);
    if e.owner.is_none() {
        reasons.push(Reason {
            code: "no-owner",
            points_to: Verdict::Review,
            text: "no owner".into(),
        });
    }
    let verdict = reasons
        .iter()
        .map(|r| r.points_to)
        .max()
        .unwrap_or(Verdict::Keep);
    (verdict, reasons)
}

/// Whether the flag's kind is meant to stay (permission, kill-switch).
fn permanent(e: &FlagEvidence) -> bool {
    e.kind.is_some_and(|k| k.expected_lifetime_days().is_none())
}

fn days_between(from: Timestamp, to: Timestamp) -> i64 {
    (to.as_second() - from.as_second()).div_euclid(86_400)
}

fn expiry(e: &FlagEvidence, w: &Weighing, out: &mut Vec<Reason>) {
    let Some(expires) = e.expires else { return };
    let today = utc_date(w.now);
    if expires.0 < today {
        let days = (today - expires.0).get_days();
        out.push(Reason {
            code: "expired",
            points_to: Verdict::Remove,
            text: Words::new().ours(format!("expired on {expires} ({days} days ago)")),
        });
    }
}

fn lifetime(e: &FlagEvidence, w: &Weighing, out: &mut Vec<Reason>) {
    let (Some(kind), Some(created)) = (e.kind, e.created()) else {
        return;
    };
    let Some(limit) = kind.expected_lifetime_days() else {
        return;
    };
    let age = days_between(created, w.now);
    if age > limit {
        out.push(Reason {
            code: "past-lifetime",
            points_to: Verdict::Review,
            text: Words::new().ours(format!(
                "{age} days old, past a {kind} flag's expected lifetime of {limit} days"
            )),
        });
    }
}

fn serving(e: &FlagEvidence, w: &Weighing, out: &mut Vec<Reason>) {
    if permanent(e) {
        return;
    }
    let Some((variant, since)) = e.serves_one_everywhere() else {
        return;
    };
    if w.now.as_second() - since.as_second() >= w.older_than.as_secs() as i64 {
        out.push(Reason {
            code: "serves-one-variant",
            points_to: Verdict::Remove,
            text: Words::from("serves ").quoted(variant).ours(format!(
                " to everyone in every environment since {} ({} days)",
                utc_date(since),
                days_between(since, w.now)
            )),
        });
    }
}

fn evaluations(e: &FlagEvidence, w: &Weighing, out: &mut Vec<Reason>) {
    let counted: Vec<_> = e
        .envs
        .iter()
        .filter_map(|env| env.evaluations.as_ref())
        .collect();
    if counted.is_empty() {
        return;
    }
    let window = match w.evaluations_since {
        Some(since) => format!(
            "since flagd started at {}",
            since.strftime("%Y-%m-%d %H:%M:%S UTC")
        ),
        None => format!(
            "in the last {}",
            human(&hotswap_flags_core::model::DurationSpec::from_secs(
                w.older_than.as_secs()
            ))
        ),
    };
    let total: f64 = counted.iter().flat_map(|c| c.values()).sum();
    if total < 0.5 {
        out.push(not_evaluated(e, w, &window));
        return;
    }
    if permanent(e) {
        return;
    }
    let mut variants: Vec<&str> = counted
        .iter()
        .flat_map(|c| {
            c.iter()
                .filter(|(_, n)| **n >= 0.5)
                .map(|(v, _)| v.as_str())
        })
        .collect();
    variants.sort_unstable();
    variants.dedup();
    if let [only] = variants.as_slice() {
        out.push(Reason {
            code: "evaluated-one-variant",
            points_to: Verdict::Review,
            text: Words::new()
                .ours(format!(
                    "evaluated {} times {window}, always ",
                    total.round()
                ))
                .quoted(only),
        });
    }
}

/// No evaluation is evidence to remove only over the whole window: the
/// counts must cover `--older-than` (flagd counts since it started), and
/// so must the flag's life (a flag committed an hour ago was not
/// evaluated for a month either). Less is worth a look, and says why.
fn not_evaluated(e: &FlagEvidence, w: &Weighing, window: &str) -> Reason {
    let needed = w.older_than.as_secs() as i64;
    let since = |t: Timestamp| w.now.as_second() - t.as_second();
    let counted = w.evaluations_since.map_or(needed, since);
    let lived = e.created().map_or(0, since);
    if counted >= needed && lived >= needed {
        return Reason {
            code: "not-evaluated",
            points_to: Verdict::Remove,
            text: Words::new().ours(format!("not evaluated {window}")),
        };
    }
    let short = |secs: i64| short_span(secs.max(0).unsigned_abs());
    let why = if counted < needed {
        format!("the counts cover only {}", short(counted))
    } else if e.created().is_some() {
        format!("the flag is only {} old", short(lived))
    } else {
        "the flag is not committed yet".to_owned()
    };
    Reason {
        code: "not-evaluated",
        points_to: Verdict::Review,
        text: Words::new().ours(format!(
            "not evaluated {window}, but {why}, less than --older-than ({})",
            human(&hotswap_flags_core::model::DurationSpec::from_secs(
                w.older_than.as_secs()
            ))
        )),
    }
}

fn code(e: &FlagEvidence, w: &Weighing, out: &mut Vec<Reason>) {
    if e.code_count != Some(0) {
        return;
    }
    out.push(if w.unreadable_paths == 0 {
        Reason {
            code: "no-code-references",
            points_to: Verdict::Remove,
            text: "no reference in the code searched".into(),
        }
    } else {
        Reason {
            code: "no-code-references",
            points_to: Verdict::Review,
            text: Words::new().ours(format!(
                "no reference in the code searched, but {} path{} could not be read",
                w.unreadable_paths,
                if w.unreadable_paths == 1 { "" } else { "s" }
            )),
        }
    });
}

/// A span in its largest whole unit, rounded down (`10 minutes`, `2 days`).
fn short_span(secs: u64) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match secs {
        s if s >= 86_400 => plural(s / 86_400, "day"),
        s if s >= 3_600 => plural(s / 3_600, "hour"),
        s if s >= 60 => plural(s / 60, "minute"),
        s => plural(s, "second"),
    }
}

/// A window in whole days or hours when it is one (`30 days`, `1 hour`),
/// else as given.
fn human(d: &hotswap_flags_core::model::DurationSpec) -> String {
    let secs = d.get().as_secs();
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if secs > 0 && secs.is_multiple_of(86_400) {
        plural(secs / 86_400, "day")
    } else if secs > 0 && secs.is_multiple_of(3_600) {
        plural(secs / 3_600, "hour")
    } else {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::evidence::{EnvEvidence, FlagEvidence};
    use crate::lifecycle::history::{FlagHistory, ServesOne};
    use hotswap_flags_core::model::FlagKind;

    const DAY: i64 = 86_400;

    fn now() -> Timestamp {
        Timestamp::from_second(1_780_000_000).unwrap()
    }

    fn ago(days: i64) -> Timestamp {
        Timestamp::from_second(now().as_second() - days * DAY).unwrap()
    }

    /// A flag created 100 days ago serving `on` since `since` days ago.
    fn evidence(kind: Option<FlagKind>, since: Option<i64>) -> FlagEvidence {
        let history = FlagHistory {
            created: ago(100),
            created_commit: "a".into(),
            changed: ago(since.unwrap_or(50)),
            changed_commit: "b".into(),
            serves_one: since.map(|d| ServesOne {
                variant: "on".into(),
                since: ago(d),
            }),
            uniform_when_rolled_out: false,
        };
        FlagEvidence {
            key: "f".into(),
            owner: Some("@a".into()),
            kind,
            expires: None,
            envs: vec![EnvEvidence {
                env: "prod".into(),
                defined: true,
                history: Some(history),
                rollout: None,
                evaluations: None,
            }],
            code: Some(vec![]),
            code_count: Some(0),
        }
    }

    fn weighing(older_than_days: u64) -> Weighing {
        Weighing {
            now: now(),
            older_than: Duration::from_secs(older_than_days * DAY as u64),
            evaluations_since: None,
            unreadable_paths: 0,
        }
    }

    fn codes(e: &FlagEvidence, w: &Weighing) -> (Verdict, Vec<&'static str>) {
        let (v, reasons) = weigh(e, w);
        (v, reasons.iter().map(|r| r.code).collect())
    }

    #[test]
    fn the_strongest_reason_decides() {
        let mut e = evidence(Some(FlagKind::Release), Some(45));
        assert_eq!(
            codes(&e, &weighing(30)),
            (
                Verdict::Remove,
                vec!["past-lifetime", "serves-one-variant", "no-code-references"]
            )
        );
        // Serving one variant for less than the threshold does not count.
        (e.code, e.code_count) = (None, None);
        assert_eq!(
            codes(&e, &weighing(60)),
            (Verdict::Review, vec!["past-lifetime"])
        );
        // A kill switch is meant to serve one variant for good.
        let e = FlagEvidence {
            code: None,
            code_count: None,
            ..evidence(Some(FlagKind::KillSwitch), Some(90))
        };
        assert_eq!(codes(&e, &weighing(30)), (Verdict::Keep, vec![]));
    }

    #[test]
    fn evaluations_and_expiry() {
        let mut e = evidence(Some(FlagKind::KillSwitch), None);
        (e.code, e.code_count) = (None, None);
        e.expires = Some(hotswap_flags_core::model::ExpiryDate(utc_date(ago(1))));
        e.envs[0].evaluations = Some([("on".to_owned(), 10.0)].into());
        assert_eq!(codes(&e, &weighing(30)), (Verdict::Remove, vec!["expired"]));
        e.expires = None;
        e.envs[0].evaluations = Some(Default::default());
        let (verdict, reasons) = weigh(&e, &weighing(30));
        assert_eq!(verdict, Verdict::Remove);
        assert_eq!(
            reasons[0].text.to_string(),
            "not evaluated in the last 30 days"
        );
        e.kind = Some(FlagKind::Release);
        e.envs[0].evaluations = Some([("on".to_owned(), 10.0), ("off".to_owned(), 0.0)].into());
        assert_eq!(
            codes(&e, &weighing(30)),
            (
                Verdict::Review,
                vec!["past-lifetime", "evaluated-one-variant"]
            )
        );
    }

    #[test]
    fn removal_needs_evidence_that_covers_the_window() {
        let mut e = evidence(Some(FlagKind::Release), None);
        (e.code, e.code_count) = (None, None);
        e.envs[0].evaluations = Some(Default::default());
        // flagd started ten minutes ago: not evaluated since says little.
        let mut w = weighing(30);
        w.evaluations_since = Some(Timestamp::from_second(now().as_second() - 600).unwrap());
        let (verdict, reasons) = weigh(&e, &w);
        assert_eq!(verdict, Verdict::Review);
        assert!(
            reasons[1].text.to_string().ends_with(
                "but the counts cover only 10 minutes, less than --older-than (30 days)"
            ),
            "{reasons:?}"
        );
        // Counted for 40 days, but the flag is 2 days old.
        w.evaluations_since = Some(ago(40));
        e.envs[0].history.as_mut().unwrap().created = ago(2);
        let (verdict, reasons) = weigh(&e, &w);
        assert_eq!(verdict, Verdict::Review);
        assert!(
            reasons[0]
                .text
                .to_string()
                .contains("but the flag is only 2 days old"),
            "{reasons:?}"
        );
        // Both cover the window.
        e.envs[0].history.as_mut().unwrap().created = ago(31);
        assert_eq!(codes(&e, &w).0, Verdict::Remove);
        // Not committed: no age to speak for it.
        e.envs[0].history = None;
        let (verdict, reasons) = weigh(&e, &w);
        assert_eq!(verdict, Verdict::Review);
        assert!(
            reasons[0].text.to_string().contains("not committed yet"),
            "{reasons:?}"
        );
    }

    #[test]
    fn no_reference_is_evidence_only_when_every_path_was_read() {
        let e = evidence(None, None);
        let mut w = weighing(30);
        assert_eq!(codes(&e, &w), (Verdict::Remove, vec!["no-code-references"]));
        w.unreadable_paths = 2;
        let (verdict, reasons) = weigh(&e, &w);
        assert_eq!(verdict, Verdict::Review);
        assert_eq!(
            reasons[0].text.to_string(),
            "no reference in the code searched, but 2 paths could not be read"
        );
    }
}
