//! Rollouts: per-strategy fields, stages, ramps, windows, health checks.

use std::time::Duration;

use super::Compiler;
use crate::diagnostic::KeyPath;
use crate::eval::bucket::{salt_prefix, threshold};
use crate::model::{Flag, Health, NoData, Rollout, Stage, Strategy};
use crate::ruleset::{CompiledCheck, CompiledHealth, CompiledRollout, CompiledStage, RolloutPlan};

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
        let serve = self.variant_ref(flag, &r.serve, path.key("serve"));
        self.unused_fields(r, path);
        let plan = match r.strategy {
            Strategy::Direct => Some(RolloutPlan::Direct),
            Strategy::Canary => self.stages(r.stages.as_deref(), path),
            Strategy::Linear => self.linear(r, path),
            Strategy::Scheduled => self.scheduled(r, path),
            Strategy::Segment => self.rollout_segments(r, path),
        };
        let health = self.health(r, path);
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
            None => format!("{key}:rollout"),
        };
        let spec_hash = spec_hash(r);
        Some(CompiledRollout {
            strategy: r.strategy,
            serve: serve?,
            salt_prefix: salt_prefix(&salt).into_bytes().into_boxed_slice(),
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

    fn health(&mut self, r: &Rollout, path: &KeyPath) -> Option<CompiledHealth> {
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
            if check.max.is_none() && check.min.is_none() {
                self.error(check_path.clone(), "a check needs `max`, `min` or both");
                ok = false;
            }
            if let (Some(min), Some(max)) = (check.min, check.max)
                && min > max
            {
                self.error(
                    check_path.key("min"),
                    format!("`min` {min} is above `max` {max}"),
                );
                ok = false;
            }
            match self.query(&check.query, check_path.key("query")) {
                Some(query) => checks.push(CompiledCheck {
                    name: check.name.clone(),
                    query,
                    max: check.max,
                    min: check.min,
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
                    Some(query) => checks.push(CompiledCheck {
                        name: template.to_owned(),
                        query: query.clone(),
                        max: Some(max),
                        min: None,
                    }),
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

/// A stable hash of the rollout as written: any edit starts a new rollout.
fn spec_hash(r: &Rollout) -> String {
    let canonical = serde_json::to_vec(r).unwrap_or_default();
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&canonical))
}
