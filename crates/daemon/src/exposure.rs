//! Exposure counting for experiments: how many evaluations each variant of
//! an experiment's split received, since the experiment's spec last changed.
//!
//! **What counts.** An exposure is an evaluation in which the experiment's
//! own split chose the variant: reason `SPLIT`, at the split that carries
//! the `experiment` block (the default, or the rule it sits in). Everything
//! else serves a variant without randomizing — a rule matching staff, a
//! rollout, the kill switch — and counting it would mix people who were not
//! assigned by chance into the comparison (and break the sample-ratio
//! check, which compares exposures with the split's weights).
//!
//! An exposure is an *evaluation*, not a distinct unit: a client that
//! evaluates once per request counts a user once per request. Conversions
//! must then be counted on the same footing (see docs/experiments.md).
//!
//! **The hot path.** Each served ruleset holds an [`ExposureTable`]: per flag
//! id, where its experiment sits and a direct handle to the counters, per
//! variant id the counter's slot. Counting is a bounds-checked index and one
//! relaxed atomic add; nothing is looked up by name and nothing allocates.
//!
//! **Across swaps.** The counters of an experiment live in an
//! [`ExposureSet`] keyed by flag in the [`ExposureRegistry`], outside any one
//! ruleset. A new ruleset whose experiment has the same spec hash binds to
//! the same set, so hot swaps and unrelated edits keep counting; a changed
//! spec (split weights or order, salt, `bucketBy`, `bucketing`, the experiment block, the
//! split's variant values, the rule it sits in) gets a fresh set with a new
//! `since`; a flag that no longer runs an experiment drops its set. Counts
//! are not persisted: a restart starts a new window (`since` moves), which
//! keeps exposures and the conversions counted over `since … now`
//! consistent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use jiff::Timestamp;

use hotswap_flags_client::wire::{ExperimentSpec, ExposureReport, Site};
use hotswap_flags_core::eval::{Evaluation, Reason};
use hotswap_flags_core::ruleset::{FlagId, Ruleset};

/// The exposure counters of one experiment spec, shared by every ruleset
/// that serves that spec.
#[derive(Debug)]
pub struct ExposureSet {
    spec: ExperimentSpec,
    since: Timestamp,
    /// By position in `spec.weights`.
    counts: Box<[AtomicU64]>,
}

impl ExposureSet {
    fn new(spec: ExperimentSpec, since: Timestamp) -> Self {
        let counts = spec.weights.iter().map(|_| AtomicU64::new(0)).collect();
        ExposureSet {
            spec,
            since,
            counts,
        }
    }

    /// The experiment counted.
    pub fn spec(&self) -> &ExperimentSpec {
        &self.spec
    }

    /// When counting started: when this process first served this spec.
    pub fn since(&self) -> Timestamp {
        self.since
    }

    /// `(variant, exposures)` in the split's order.
    pub fn counts(&self) -> Vec<(&str, u64)> {
        self.spec
            .weights
            .iter()
            .zip(self.counts.iter())
            .map(|((name, _), c)| (name.as_str(), c.load(Ordering::Relaxed)))
            .collect()
    }

    /// The answer of `GET /api/v1/experiments/{flag}`; `version` is the
    /// ruleset's, `at` the time of the answer.
    pub fn report(&self, version: &str, at: Timestamp) -> ExposureReport {
        let exposures: IndexMap<String, u64> = self
            .counts()
            .into_iter()
            .map(|(n, c)| (n.to_owned(), c))
            .collect();
        ExposureReport {
            flag: self.spec.flag.clone(),
            spec_hash: self.spec.spec_hash.clone(),
            since: self.since,
            at,
            version: version.to_owned(),
            rule: self.spec.rule.clone(),
            bucket_by: self.spec.bucket_by.clone(),
            salt: self.spec.salt.clone(),
            control: self.spec.control.clone(),
            weights: self.spec.weights.iter().cloned().collect(),
            total: exposures.values().sum(),
            exposures,
            experiment: self.spec.experiment.clone(),
            replicas: None,
        }
    }
}

/// No slot: the variant is not in the experiment's split.
const NO_SLOT: u16 = u16::MAX;

/// A flag's experiment as one served ruleset sees it.
#[derive(Debug)]
struct Bound {
    site: Site,
    /// By variant id: the slot in `set`, or [`NO_SLOT`].
    slot_of: Box<[u16]>,
    set: Arc<ExposureSet>,
}

/// The exposure counters of one served ruleset, by flag id.
#[derive(Debug, Default)]
pub struct ExposureTable(Box<[Option<Bound>]>);

impl ExposureTable {
    /// Counts `ev` if the flag's experiment split chose its variant
    /// (lock-free, no allocation).
    #[inline]
    pub fn count(&self, ev: &Evaluation<'_>) {
        if ev.reason != Reason::Split {
            return;
        }
        let Some(Some(bound)) = self.0.get(ev.flag_id as usize) else {
            return;
        };
        if !bound.site.reached_by(ev.rule) {
            return;
        }
        let slot = bound
            .slot_of
            .get(usize::from(ev.variant))
            .copied()
            .unwrap_or(NO_SLOT);
        if let Some(counter) = bound.set.counts.get(usize::from(slot)) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counters of flag `id`'s experiment, if it runs one.
    pub fn get(&self, id: FlagId) -> Option<&Arc<ExposureSet>> {
        self.0.get(id as usize)?.as_ref().map(|b| &b.set)
    }

    /// Every experiment's counters, in flag order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<ExposureSet>> {
        self.0.iter().flatten().map(|b| &b.set)
    }
}

/// Every experiment's counters by flag key, kept across swaps.
#[derive(Debug, Default)]
pub struct ExposureRegistry(Mutex<HashMap<Box<str>, Arc<ExposureSet>>>);

impl ExposureRegistry {
    /// The table for a ruleset about to be served: the existing counters of
    /// each experiment whose spec is unchanged, fresh ones (since `now`)
    /// for new or changed specs. Flags without an experiment lose theirs.
    pub fn bind(&self, ruleset: &Ruleset, now: Timestamp) -> ExposureTable {
        let mut sets = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut kept = HashMap::with_capacity(sets.len());
        let table = ruleset
            .flags()
            .iter()
            .map(|flag| {
                let (site, spec) = ExperimentSpec::of(flag)?;
                let set = match sets.remove(&*flag.key) {
                    Some(set) if set.spec.spec_hash == spec.spec_hash => set,
                    _ => Arc::new(ExposureSet::new(spec, now)),
                };
                let slot_of = flag
                    .variants
                    .iter()
                    .map(|v| {
                        set.spec
                            .weights
                            .iter()
                            .position(|(name, _)| **name == *v.name)
                            .and_then(|i| u16::try_from(i).ok())
                            .unwrap_or(NO_SLOT)
                    })
                    .collect();
                kept.insert(flag.key.clone(), set.clone());
                Some(Bound { site, slot_of, set })
            })
            .collect();
        *sets = kept;
        ExposureTable(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Live;
    use hotswap_flags_core::eval::Context;
    use serde_json::json;

    fn ruleset(yaml: &str) -> Ruleset {
        hotswap_flags_core::testing::compile_yaml(yaml)
    }

    /// An experiment on the rule `eu`, a staff rule before it and a rollout
    /// of `b`; `extra` is appended to the flag.
    fn flags(weights: &str, extra: &str) -> String {
        format!(
            "flags:
  x:
    type: string
    variants: {{ a: A, b: B, c: C }}
    default: a
    rules:
      - name: staff
        when: {{ attr: staff, op: exists }}
        serve: b
      - name: eu
        when: {{ attr: country, op: eq, value: DE }}
        serve: {{ split: {{ {weights} }}, experiment: {{ control: a }} }}
    rollout: {{ strategy: direct, serve: c }}
{extra}"
        )
    }

    fn evaluate_all(live: &Live, ctxs: &[Context]) {
        let served = live.current().unwrap();
        let env = served.eval_env();
        for ctx in ctxs {
            if let Ok(ev) = served.ruleset.evaluate("x", ctx, &env) {
                served.count(&ev);
            }
        }
    }

    fn counts(live: &Live) -> Vec<(String, u64)> {
        let served = live.current().unwrap();
        let id = served.ruleset.flag_id("x").unwrap();
        served
            .experiments()
            .get(id)
            .unwrap()
            .counts()
            .into_iter()
            .map(|(n, c)| (n.to_owned(), c))
            .collect()
    }

    fn eu(n: usize) -> Vec<Context> {
        (0..n)
            .map(|i| {
                Context::from_json(json!({"targetingKey": format!("u{i}"), "country": "DE"}))
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn only_the_experiment_split_counts() {
        let live = Live::new("e");
        live.install(ruleset(&flags("a: 50, b: 50", "")), None);
        let staff = Context::from_json(json!({"targetingKey": "s", "staff": true})).unwrap();
        let outside = Context::from_json(json!({"targetingKey": "o", "country": "US"})).unwrap();
        evaluate_all(&live, &[staff, outside]);
        assert_eq!(counts(&live), [("a".into(), 0), ("b".into(), 0)]);
        evaluate_all(&live, &eu(1000));
        let c = counts(&live);
        assert_eq!(c[0].1 + c[1].1, 1000);
        assert!((400..600).contains(&c[0].1), "{c:?}");

        // The evaluation counters saw all 1002 evaluations.
        let evaluated: u64 = live
            .evaluation_counts()
            .iter()
            .map(|(_, _, n)| n.iter().sum::<u64>())
            .sum();
        assert_eq!(evaluated, 1002);
    }

    #[test]
    fn swaps_keep_counts_and_spec_changes_reset_them() {
        let live = Live::new("e");
        live.install(ruleset(&flags("a: 50, b: 50", "")), None);
        evaluate_all(&live, &eu(100));
        let served = live.current().unwrap();
        let first = served.experiments().get(0).unwrap().clone();
        let since = first.since();

        // An unrelated edit (a description, a new variant outside the split
        // that shifts nothing in it) keeps the counts and `since`.
        let edited = flags("a: 50, b: 50", "    description: edited\n")
            .replace("{ a: A, b: B, c: C }", "{ z: Z, a: A, b: B, c: C }");
        live.install(ruleset(&edited), None);
        evaluate_all(&live, &eu(100));
        let total: u64 = counts(&live).iter().map(|(_, n)| n).sum();
        assert_eq!(total, 200);
        let set = live
            .current()
            .unwrap()
            .experiments()
            .get(0)
            .unwrap()
            .clone();
        assert!(Arc::ptr_eq(&set, &first));
        assert_eq!(set.since(), since);
        // An evaluation still running on the old ruleset counts in the same set.
        let old_env = served.eval_env();
        let ev = served.ruleset.evaluate("x", &eu(1)[0], &old_env).unwrap();
        served.count(&ev);
        let total: u64 = counts(&live).iter().map(|(_, n)| n).sum();
        assert_eq!(total, 201);

        // New weights: a new experiment, counted from zero.
        live.install(ruleset(&flags("a: 90, b: 10", "")), None);
        assert_eq!(counts(&live), [("a".into(), 0), ("b".into(), 0)]);
        let changed = live
            .current()
            .unwrap()
            .experiments()
            .get(0)
            .unwrap()
            .clone();
        assert_ne!(changed.spec().spec_hash, first.spec().spec_hash);

        // A new salt, a changed experiment block: new experiments too.
        for yaml in [
            flags("a: 90, b: 10", "").replace("experiment:", "salt: s2, experiment:"),
            flags("a: 90, b: 10", "").replace("control: a", "control: b"),
            // Another bucketing mode reshuffles who gets which variant.
            flags("a: 90, b: 10", "    bucketing: flagd-v2\n").replace("control: a", "control: b"),
        ] {
            evaluate_all(&live, &eu(10));
            let before = live
                .current()
                .unwrap()
                .experiments()
                .get(0)
                .unwrap()
                .spec()
                .spec_hash
                .clone();
            live.install(ruleset(&yaml), None);
            let after = live
                .current()
                .unwrap()
                .experiments()
                .get(0)
                .unwrap()
                .clone();
            assert_ne!(after.spec().spec_hash, before, "{yaml}");
            assert_eq!(after.counts().iter().map(|(_, n)| n).sum::<u64>(), 0);
        }

        // The default mode written out is the same experiment.
        let spec = |yaml: &str| {
            let rs = ruleset(yaml);
            ExperimentSpec::of(rs.flag(0)).unwrap().1.spec_hash
        };
        let unset = flags("a: 90, b: 10", "");
        assert_eq!(
            spec(&unset),
            spec(&flags("a: 90, b: 10", "    bucketing: xxh3\n"))
        );
        assert_ne!(
            spec(&unset),
            spec(&flags("a: 90, b: 10", "    bucketing: unleash\n"))
        );

        // No experiment any more: no counters.
        let plain = flags("a: 90, b: 10", "")
            .replace(", experiment: { control: b }", "")
            .replace(", experiment: { control: a }", "");
        live.install(ruleset(&plain), None);
        assert!(live.current().unwrap().experiments().get(0).is_none());
    }

    #[test]
    fn the_report_carries_weights_and_counts_in_split_order() {
        let live = Live::new("e");
        live.install(ruleset(&flags("b: 1, a: 3", "")), None);
        evaluate_all(&live, &eu(400));
        let served = live.current().unwrap();
        let report = served
            .experiments()
            .get(0)
            .unwrap()
            .report("v", Timestamp::UNIX_EPOCH);
        assert_eq!(report.rule.as_deref(), Some("eu"));
        assert_eq!(report.control, "a");
        assert_eq!(report.weights.keys().collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(report.exposures.keys().collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(report.total, 400);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["weights"], json!({"b": 1.0, "a": 3.0}));
        assert_eq!(json["specHash"], json!(report.spec_hash));
        let back: ExposureReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);
    }
}
