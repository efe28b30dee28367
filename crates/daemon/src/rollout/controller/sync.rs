//! Records that arrive from the store rather than from this controller's
//! own decisions (a cluster's watch): installed when newer, refused when
//! they could not be the rollout's (docs/cluster.md, Failures).

use super::*;

impl<M: MetricsSource + std::fmt::Debug> RecordSink for Controller<M> {
    /// Installs a record read from the store (a cluster's watch): it
    /// replaces an older version of it and moves the position served.
    fn observe(&self, mut record: RolloutRecord, current: bool) -> bool {
        let mut inner = self.lock();
        if let Some(known) = inner.records.get(&record.flag) {
            // Generations order versions of a record; revisions only
            // within one generation, since an etcd restored empty or from
            // a snapshot counts them anew.
            if record.generation < known.generation && !current {
                // An older write's event, overtaken by a newer one
                // already held (the writer's own answer came first).
                return false;
            }
            if record.generation < known.generation {
                // The store lost what this replica knows: write it back
                // (docs/cluster.md, Failures).
                let flag = record.flag.clone();
                drop(inner);
                warn!(flag = %flag, stored = record.generation, known = self.lock().records.get(&flag).map(|k| k.generation), "the cluster store holds an older rollout record than this replica knows; writing back the newer one");
                self.superseded(&flag, record.store_revision, true);
                return false;
            }
            if record.generation == known.generation
                && record.store_revision == known.store_revision
            {
                return false;
            }
            if record.generation == known.generation && same_content(known, &record) {
                // The same record at another revision (written back after
                // the store lost it): only its version moves.
                if let Some(known) = inner.records.get_mut(&record.flag) {
                    known.store_revision = record.store_revision;
                }
                inner.repair.remove(&record.flag);
                return false;
            }
            // A pass this process saw still counts while the rollout
            // stands where it stood.
            record.fresh_pass = known.fresh_pass
                && known.spec_hash == record.spec_hash
                && known.stage == record.stage
                && known.phase == record.phase;
        }
        let spec_position = self.live.current().and_then(|served| {
            let spec = served
                .ruleset
                .flag(served.ruleset.flag_id(&record.flag)?)
                .rollout
                .as_ref()?;
            Some(position(&record, spec))
        });
        self.publish(&record, spec_position);
        inner.repair.remove(&record.flag);
        inner.base.remove(&record.flag);
        inner.records.insert(record.flag.clone(), record);
        drop(inner);
        self.wake.notify_one();
        true
    }

    fn validate(&self, r: &RolloutRecord) -> Result<(), String> {
        let Some(served) = self.live.current() else {
            return Ok(());
        };
        let Some(spec) = served
            .ruleset
            .flag_id(&r.flag)
            .and_then(|id| served.ruleset.flag(id).rollout.as_ref())
            .filter(|spec| spec.spec_hash == r.spec_hash)
        else {
            // Another spec's record: nothing served depends on it.
            return Ok(());
        };
        if r.strategy != spec.strategy {
            return Err(format!(
                "strategy {} where the spec says {}",
                r.strategy, spec.strategy
            ));
        }
        let held = matches!(r.phase, Phase::Progressing | Phase::Paused);
        match &spec.plan {
            RolloutPlan::Canary { stages } => {
                let Some(stage) = stages.get(r.stage as usize) else {
                    return Err(format!("stage {} of {}", r.stage, stages.len()));
                };
                if held && r.threshold != stage.threshold {
                    return Err(format!(
                        "threshold {} at stage {}, whose threshold is {}",
                        r.threshold, r.stage, stage.threshold
                    ));
                }
            }
            RolloutPlan::Linear { from, to, .. }
                if held && !(*from..=*to).contains(&r.threshold) =>
            {
                return Err(format!(
                    "threshold {} outside the ramp's {from}..={to}",
                    r.threshold
                ));
            }
            _ => {}
        }
        Ok(())
    }

    fn superseded(&self, flag: &str, revision: i64, lost: bool) {
        let mut inner = self.lock();
        if let Some(known) = inner.records.get_mut(flag) {
            known.store_revision = revision;
            inner.repair.insert(flag.to_owned());
            if lost {
                inner.hold_until = Some(std::time::Instant::now() + HOLD_AFTER_LOSS);
            }
        } else {
            inner.base.insert(flag.to_owned(), revision);
        }
        drop(inner);
        self.wake.notify_one();
    }

    fn missing(&self, present: &[String]) {
        let lost: Vec<String> = self
            .lock()
            .records
            .keys()
            .filter(|flag| !present.contains(flag))
            .cloned()
            .collect();
        for flag in lost {
            warn!(flag = %flag, "the cluster store lost this rollout's record; writing back the one this replica knows");
            self.superseded(&flag, 0, true);
        }
    }

    fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Whether two versions of a record say the same, whatever their store
/// revisions and write times.
fn same_content(a: &RolloutRecord, b: &RolloutRecord) -> bool {
    let strip = |r: &RolloutRecord| RolloutRecord {
        store_revision: 0,
        fresh_pass: false,
        written_at: None,
        ..r.clone()
    };
    strip(a) == strip(b)
}
