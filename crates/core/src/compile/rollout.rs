//! Rollouts: per-strategy fields, stages, ramps, windows, health checks.

use std::time::Duration;

use super::{Compiler, QueryUse};
use crate::bucketing::threshold;
use crate::diagnostic::KeyPath;
use crate::model::{
    CODE_DEFAULT, Check, Compare, Flag, Health, NoData, Rollout, Serve, Stage, Strategy,
};
use crate::ruleset::GuardrailConfig;
use crate::ruleset::{
    CheckKind, CompiledCheck, CompiledComparison, CompiledHealth, CompiledRollout, CompiledStage,
    RolloutPlan, VariantId,
};

/// Check interval when `health.interval` is not given.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

impl Compiler<'_> {
    pub(super) fn rollout(
        &mut self,
        key: &str,
        flag: &Flag,
        r: &Rollout,
        path: &KeyPath,
    ) -> Option<CompiledRollout> {
        let serve = if self.code_default_misplaced(
            &r.serve,
            &path.key("serve"),
            "`$codeDefault` cannot be rolled out: a rollout serves one of the flag's variants",
            "roll out a variant; users outside the rollout get the `default`, which may be `$codeDefault`",
        ) {
            None
        } else {
            self.variant_ref(flag, &r.serve, path.key("serve"))
        };
        let mode = flag.bucketing.unwrap_or_default();
        self.unused_fields(r, path);
        let plan = match r.strategy {
            Strategy::Direct => Some(RolloutPlan::Direct),
            Strategy::Canary => self.stages(r.stages.as_deref(), path),
            Strategy::Linear => self.linear(r, path),
            Strategy::Scheduled => self.scheduled(r, path),
            Strategy::Segment => self.rollout_segments(r, path),
        };
        let health = self.health(flag, serve, r, path);
        let has_checks =
            r.health.as_ref().is_some_and(|h| !h.checks.is_empty()) || r.metrics.is_some();
        if has_checks && matches!(r.strategy, Strategy::Direct | Strategy::Segment) {
            self.warning(
                path.key("health"),
                format!(
                    "health checks never run for a `{}` rollout: it is fully on at once (use `canary` or `linear` to gate it)",
                    r.strategy
                ),
            );
        }
        let salt = match &r.salt {
            Some(s) if s.is_empty() => {
                self.error(path.key("salt"), "`salt` is empty");
                return None;
            }
            Some(s) => s.clone(),
            None => mode.default_rollout_salt(key),
        };
        let spec_hash = spec_hash(r);
        let salt_prefix = mode.key_prefix(&salt).into_bytes().into_boxed_slice();
        Some(CompiledRollout {
            strategy: r.strategy,
            serve: serve?,
            murmur: mode.rollout_murmur(&salt_prefix),
            salt_prefix,
            salt: salt.into(),
            plan: plan?,
            health: health?,
            rollback_on_error: r.rollback_on_error,
            spec_hash,
        })
    }

    /// Fields that belong to another strategy are errors, not silently ignored.
    fn unused_fields(&mut self, r: &Rollout, path: &KeyPath) {
        let fields: [(&str, bool, &[Strategy]); 9] = [
            ("stages", r.stages.is_some(), &[Strategy::Canary]),
            ("from", r.from.is_some(), &[Strategy::Linear]),
            ("to", r.to.is_some(), &[Strategy::Linear]),
            ("over", r.over.is_some(), &[Strategy::Linear]),
            ("step", r.step.is_some(), &[Strategy::Linear]),
            ("start", r.start.is_some(), &[Strategy::Scheduled]),
            ("end", r.end.is_some(), &[Strategy::Scheduled]),
            ("timezone", r.timezone.is_some(), &[Strategy::Scheduled]),
            ("segments", r.segments.is_some(), &[Strategy::Segment]),
        ];
        for (name, present, allowed) in fields {
            if present && !allowed.contains(&r.strategy) {
                let owner = allowed[0];
                self.error(
                    path.key(name),
                    format!(
                        "`{name}` belongs to strategy `{owner}`, not `{}`",
                        r.strategy
                    ),
                );
            }
        }
    }

    fn stages(&mut self, stages: Option<&[Stage]>, path: &KeyPath) -> Option<RolloutPlan> {
        let path = path.key("stages");
        let Some(stages) = stages.filter(|s| !s.is_empty()) else {
            self.error(path, "a canary rollout needs at least one stage");
            return None;
        };
        let mut ok = true;
        let mut previous: Option<f64> = None;
        let last = stages.len() - 1;
        for (i, stage) in stages.iter().enumerate() {
            let p = stage.percentage;
            let stage_path = path.index(i);
            if !(p > 0.0 && p <= 100.0) {
                self.error(
                    stage_path.key("percentage"),
                    format!("percentage {p} must be above 0 and at most 100"),
                );
                ok = false;
            } else if let Some(prev) = previous
                && p <= prev
            {
                self.error(
                    stage_path.key("percentage"),
                    format!("stages must increase: {p} follows {prev}"),
                );
                ok = false;
            }
            previous = Some(p);
            match &stage.duration {
                None if i < last => {
                    self.error(
                        stage_path.clone(),
                        "every stage but the last needs a `duration`",
                    );
                    ok = false;
                }
                Some(d) if d.get().is_zero() => {
                    self.error(
                        stage_path.key("duration"),
                        "a stage duration must be longer than 0",
                    );
                    ok = false;
                }
                _ => {}
            }
        }
        ok.then(|| RolloutPlan::Canary {
            stages: stages
                .iter()
                .map(|s| CompiledStage {
                    threshold: threshold(s.percentage),
                    duration: s.duration.as_ref().map(|d| d.get()),
                })
                .collect(),
        })
    }

    fn linear(&mut self, r: &Rollout, path: &KeyPath) -> Option<RolloutPlan> {
        let from = r.from.unwrap_or(0.0);
        let to = r.to.unwrap_or(100.0);
        let mut ok = true;
        if !(0.0..100.0).contains(&from) {
            self.error(
                path.key("from"),
                format!("`from` {from} must be at least 0 and below 100"),
            );
            ok = false;
        }
        if !(to > from && to <= 100.0) {
            self.error(
                path.key("to"),
                format!("`to` {to} must be above `from` ({from}) and at most 100"),
            );
            ok = false;
        }
        let over = match &r.over {
            None => {
                self.error(
                    path.clone(),
                    "a linear rollout needs `over` (how long the ramp takes)",
                );
                ok = false;
                Duration::ZERO
            }
            Some(d) if d.get().is_zero() => {
                self.error(path.key("over"), "`over` must be longer than 0");
                ok = false;
                Duration::ZERO
            }
            Some(d) => d.get(),
        };
        if let Some(step) = r.step
            && !(step > 0.0 && step <= to - from)
        {
            self.error(
                path.key("step"),
                format!("`step` {step} must be above 0 and at most `to` − `from`"),
            );
            ok = false;
        }
        ok.then(|| RolloutPlan::Linear {
            from: threshold(from),
            to: threshold(to),
            over,
            step: r.step.map_or(0, threshold),
        })
    }

    fn scheduled(&mut self, r: &Rollout, path: &KeyPath) -> Option<RolloutPlan> {
        if r.start.is_none() && r.end.is_none() {
            self.error(
                path.clone(),
                "a scheduled rollout needs `start`, `end` or both",
            );
            return None;
        }
        self.time_range(
            r.start.as_deref(),
            r.end.as_deref(),
            r.timezone.as_deref(),
            path,
            ("start", "end"),
        )
        .map(RolloutPlan::Scheduled)
    }

    fn rollout_segments(&mut self, r: &Rollout, path: &KeyPath) -> Option<RolloutPlan> {
        let path = path.key("segments");
        let Some(names) = r.segments.as_ref().filter(|s| !s.is_empty()) else {
            self.error(path, "a segment rollout needs `segments`");
            return None;
        };
        let ids: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(i, n)| self.segment_ref(n, path.index(i)))
            .collect();
        ids.into_iter()
            .collect::<Option<Vec<_>>>()
            .map(|segments| RolloutPlan::Segment {
                segments: segments.into_boxed_slice(),
            })
    }

    fn health(
        &mut self,
        flag: &Flag,
        serve: Option<VariantId>,
        r: &Rollout,
        path: &KeyPath,
    ) -> Option<CompiledHealth> {
        let defaults = Health {
            interval: None,
            failure_limit: None,
            no_data: None,
            checks: Vec::new(),
        };
        let h = r.health.as_ref().unwrap_or(&defaults);
        let health_path = path.key("health");
        let mut ok = true;
        let interval = h.interval.as_ref().map_or(DEFAULT_INTERVAL, |d| d.get());
        if interval.is_zero() {
            self.error(
                health_path.key("interval"),
                "`interval` must be longer than 0",
            );
            ok = false;
        }
        let failure_limit = h.failure_limit.unwrap_or(1);
        if failure_limit == 0 {
            self.error(
                health_path.key("failureLimit"),
                "`failureLimit` must be at least 1",
            );
            ok = false;
        }
        let mut checks = Vec::new();
        for (i, check) in h.checks.iter().enumerate() {
            let check_path = health_path.key("checks").index(i);
            if check.name.trim().is_empty() {
                self.error(check_path.key("name"), "check names cannot be empty");
                ok = false;
            }
            let kind = match check.compare {
                None => self.threshold_check(check, &check_path),
                Some(Compare::Baseline) => self
                    .comparison_check(flag, serve, check, &check_path)
                    .map(CheckKind::Baseline),
            };
            match kind {
                Some(kind) => checks.push(CompiledCheck {
                    name: check.name.clone(),
                    kind,
                }),
                None => ok = false,
            }
        }
        if let Some(m) = &r.metrics {
            let shorthand = [
                ("error_rate", "errorRateThreshold", m.error_rate_threshold),
                (
                    "latency_p99",
                    "latencyP99Threshold",
                    m.latency_p99_threshold,
                ),
            ];
            for (template, field, max) in shorthand {
                let Some(max) = max else { continue };
                match self.metrics.queries.get(template) {
                    Some(_) => {
                        let field_path = path.key("metrics").key(field);
                        match self.query(template, field_path, QueryUse::Check) {
                            Some(query) => checks.push(CompiledCheck {
                                name: template.to_owned(),
                                kind: CheckKind::Threshold {
                                    query,
                                    max: Some(max),
                                    min: None,
                                },
                            }),
                            None => ok = false,
                        }
                    }
                    None => {
                        self.error_hint(
                            path.key("metrics").key(field),
                            format!("`{field}` needs the query template `{template}`, which flags.toml does not define"),
                            Some(format!("add `{template} = '…'` under [metrics.queries] in flags.toml")),
                        );
                        ok = false;
                    }
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in checks.iter().enumerate() {
            if !seen.insert(c.name.as_str()) {
                self.error(
                    health_path.key("checks").index(i).key("name"),
                    format!("two checks are named `{}`", c.name),
                );
                ok = false;
            }
        }
        ok.then(|| CompiledHealth {
            interval,
            failure_limit,
            no_data: h.no_data.unwrap_or(NoData::Pause),
            checks,
        })
    }
}

impl Compiler<'_> {
    /// A threshold check: `query` with `max` and/or `min`, nothing of a
    /// comparison.
    fn threshold_check(&mut self, check: &Check, path: &KeyPath) -> Option<CheckKind> {
        let before = self.error_count();
        let foreign = [
            ("baseline", check.baseline.is_some()),
            ("failures", check.failures.is_some()),
            ("total", check.total.is_some()),
            ("tolerance", check.tolerance.is_some()),
            ("alpha", check.alpha.is_some()),
            ("minSamples", check.min_samples.is_some()),
        ];
        for (field, present) in foreign {
            if present {
                self.error_hint(
                    path.key(field),
                    format!("`{field}` belongs to a comparison check"),
                    Some("add `compare: baseline`, or remove it".into()),
                );
            }
        }
        if check.max.is_none() && check.min.is_none() {
            self.error_hint(
                path.clone(),
                "a check needs `max`, `min` or both",
                Some(
                    "or compare with the baseline: `compare: baseline` with `failures` and `total`"
                        .into(),
                ),
            );
        }
        if let (Some(min), Some(max)) = (check.min, check.max)
            && min > max
        {
            self.error(path.key("min"), format!("`min` {min} is above `max` {max}"));
        }
        let query = match &check.query {
            Some(q) => self.query(q, path.key("query"), QueryUse::Check),
            None => {
                self.error_hint(
                    path.clone(),
                    "a check needs `query` (with `max` or `min`)",
                    Some("or compare with the baseline: `compare: baseline` with `failures` and `total`".into()),
                );
                None
            }
        };
        if self.error_count() > before {
            return None;
        }
        Some(CheckKind::Threshold {
            query: query?,
            max: check.max,
            min: check.min,
        })
    }

    /// A `compare: baseline` check: `failures` and `total`, the guardrail's
    /// settings in range, a baseline that is a variant other than the one
    /// rolled out, nothing of a threshold check.
    fn comparison_check(
        &mut self,
        flag: &Flag,
        serve: Option<VariantId>,
        check: &Check,
        path: &KeyPath,
    ) -> Option<CompiledComparison> {
        let before = self.error_count();
        for (field, present) in [
            ("query", check.query.is_some()),
            ("max", check.max.is_some()),
            ("min", check.min.is_some()),
        ] {
            if present {
                self.error_hint(
                    path.key(field),
                    format!("`{field}` is not used by a `compare: baseline` check"),
                    Some("it compares `failures` / `total` of the rollout variant and the baseline; tune it with `tolerance`, `alpha` and `minSamples`".into()),
                );
            }
        }
        let template = |this: &mut Self, field: &str, value: &Option<String>| match value {
            Some(q) => this.query(q, path.key(field), QueryUse::Check),
            None => {
                this.error(
                    path.clone(),
                    format!("a `compare: baseline` check needs `{field}` (a query template, rendered for each variant)"),
                );
                None
            }
        };
        let failures = template(self, "failures", &check.failures);
        let total = template(self, "total", &check.total);
        let defaults = GuardrailConfig::default();
        let tolerance = check.tolerance.unwrap_or(defaults.tolerance);
        if !(0.0..1.0).contains(&tolerance) {
            self.error(
                path.key("tolerance"),
                format!("`tolerance` {tolerance} must be at least 0 and below 1 (an absolute difference of failure rates: 0.002 = 0.2 percentage points)"),
            );
        }
        let alpha = check.alpha.unwrap_or(defaults.alpha);
        if !(alpha > 0.0 && alpha < 1.0) {
            self.error(
                path.key("alpha"),
                format!("`alpha` {alpha} must be between 0 and 1 (exclusive), such as 0.05"),
            );
        }
        let min_samples = check.min_samples.unwrap_or(defaults.min_samples);
        if !(min_samples >= 0.0 && min_samples.is_finite()) {
            self.error(
                path.key("minSamples"),
                format!("`minSamples` {min_samples} must be a number of requests, 0 or more"),
            );
        }
        let off = flag.off_variant.as_deref().or(match &flag.default {
            Serve::Variant(v) => Some(v.as_str()),
            Serve::Split(_) => None,
        });
        let baseline = match &check.baseline {
            Some(name)
                if self.code_default_misplaced(
                    name,
                    &path.key("baseline"),
                    "`$codeDefault` cannot be a baseline: its callers report no variant, so no query counts their requests",
                    "set `baseline:` to a variant of the flag",
                ) =>
            {
                None
            }
            Some(name) => self.variant_ref(flag, name, path.key("baseline")),
            None if off == Some(CODE_DEFAULT) => {
                self.error_hint(
                    path.clone(),
                    "this comparison needs a `baseline`: it defaults to the kill switch's `offVariant`, which is `$codeDefault`, no variant to compare with",
                    Some("set `baseline:` to the variant users outside the rollout get".into()),
                );
                None
            }
            // What users outside the rollout get; its own errors are
            // reported at `offVariant`/`default`.
            None => off
                .and_then(|name| flag.variants.get_index_of(name))
                .and_then(|i| VariantId::try_from(i).ok()),
        };
        if let (Some(b), Some(s)) = (baseline, serve)
            && b == s
        {
            let name = flag
                .variants
                .get_index(usize::from(b))
                .map_or("", |(n, _)| n.as_str());
            let at = if check.baseline.is_some() {
                path.key("baseline")
            } else {
                path.clone()
            };
            self.error_hint(
                at,
                format!("the baseline `{name}` is the variant being rolled out: a comparison needs another variant"),
                Some("set `baseline:` to the variant users outside the rollout get".into()),
            );
        }
        if self.error_count() > before {
            return None;
        }
        Some(CompiledComparison {
            baseline: baseline?,
            failures: failures?,
            total: total?,
            guardrail: GuardrailConfig {
                tolerance,
                alpha,
                min_samples,
            },
        })
    }
}

/// A stable hash of the rollout as written: any edit starts a new rollout.
fn spec_hash(r: &Rollout) -> String {
    let canonical = serde_json::to_vec(r).unwrap_or_default();
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&canonical))
}
