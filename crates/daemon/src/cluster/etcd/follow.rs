//! Every replica's view of the records: read them all, then follow
//! etcd's watch from that revision, install what is newer, measure the
//! writer's clock skew, and take over a single flagd's state directory
//! once (docs/cluster.md, How it works).

use super::*;

impl EtcdStore {
    /// Reads every record into `sink`; returns the revision read at.
    pub(super) async fn load_all(&self, sink: &dyn RecordSink) -> Result<i64, StoreError> {
        let records = self.keys.records();
        let response = self.timed(self.gateway.range(&records, true, None)).await?;
        let mut present = Vec::new();
        for kv in &response.kvs {
            if let Some(flag) = self.keys.flag_of(&kv.key) {
                present.push(flag.to_owned());
            }
            if let Some(record) = self.record_of(kv) {
                self.observe(sink, record, true);
            }
        }
        // A record held here and absent from etcd was lost there (etcd
        // restored empty or from an old snapshot): it is written back.
        sink.missing(&present);
        Ok(response.header.revision)
    }

    /// The record `kv` holds, if it is one: readable, under its own flag's
    /// key, every field in range. A bad one is logged and counted once,
    /// and ignored; the record held for that key is written back over it
    /// (docs/cluster.md, Failures).
    pub(super) fn record_of(&self, kv: &KeyValue) -> Option<RolloutRecord> {
        let sink = self.sink.get();
        let problem = match serde_json::from_slice::<RolloutRecord>(&kv.value) {
            Ok(mut record) => {
                record.store_revision = kv.mod_revision;
                match check_record(self.keys.flag_of(&kv.key), &record)
                    .and_then(|()| sink.map_or(Ok(()), |s| s.validate(&record)))
                {
                    Ok(()) => return Some(record),
                    Err(problem) => problem,
                }
            }
            Err(e) => format!("unreadable: {e}"),
        };
        if self.first_rejection(kv) {
            warn!(key = %String::from_utf8_lossy(&kv.key), revision = kv.mod_revision, problem = %problem, "bad rollout record in etcd, ignored: that rollout keeps its last good record");
        }
        if let (Some(sink), Some(flag)) = (sink, self.keys.flag_of(&kv.key)) {
            sink.superseded(flag, kv.mod_revision, false);
        }
        None
    }

    /// Reads, then watches every record, for ever.
    pub(super) async fn follow(self: Arc<Self>, sink: Arc<dyn RecordSink>, migration: Migration) {
        let mut migration = Some(migration);
        // Each new reason is said once at warn level: a replica that never
        // reached etcd (a wrong address, refused credentials) would
        // otherwise only show as not ready.
        let mut last = String::new();
        loop {
            if let Err(e) = self.follow_once(sink.as_ref(), &mut migration).await {
                let reason = e.to_string();
                if reason == last {
                    debug!(error = %e, "following the cluster's records stopped; again shortly");
                } else {
                    warn!(error = %e, "cannot follow the cluster's records; trying again every {RETRY:?}");
                    last = reason;
                }
                self.set_reachable(false);
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    pub(super) async fn follow_once(
        &self,
        sink: &dyn RecordSink,
        migration: &mut Option<Migration>,
    ) -> Result<(), StoreError> {
        if let Some(m) = migration.as_ref() {
            self.migrate(m).await?;
            *migration = None;
        }
        let outages = self.outages.load(Ordering::Relaxed);
        let revision = self.load_all(sink).await?;
        if !self.synced.swap(true, Ordering::Relaxed) {
            info!(replica = %self.replica, "read the cluster's rollout state");
        }
        let records = self.keys.records();
        let mut watch = self
            .timed(self.gateway.watch(&records, true, revision + 1))
            .await?;
        let mut check = tokio::time::interval(self.lease_ttl / 3);
        loop {
            let response = tokio::select! {
                message = watch.next() => message.map_err(unreachable)?,
                _ = check.tick() => {
                    // A watch that hears nothing cannot tell a quiet store
                    // from a lost one; when the lease renewals found etcd
                    // unreachable since it started, the watch starts over
                    // with a full read. Whether etcd is unreachable *now*
                    // is not enough: after a partition shorter than this
                    // tick, or healed by now, the watch's connection may
                    // survive while etcd's retransmissions of the events
                    // it missed back off for many seconds (found by
                    // tests/testsuite/cluster_faults.rs: 15 s).
                    if self.reachable.load(Ordering::Relaxed)
                        && self.outages.load(Ordering::Relaxed) == outages
                    {
                        continue;
                    }
                    return Err(StoreError::Unreachable("etcd stopped answering".into()));
                }
            };
            self.set_reachable(true);
            for event in &response.events {
                let Some(kv) = event.kv.as_ref() else {
                    continue;
                };
                if event.is_delete() {
                    // flagd never deletes a record: it was lost, and is
                    // written back.
                    if let Some(flag) = self.keys.flag_of(&kv.key) {
                        sink.superseded(flag, 0, true);
                    }
                } else if let Some(record) = self.record_of(kv) {
                    self.measure_skew(&record);
                    self.observe(sink, record, false);
                }
            }
        }
    }

    /// Compares the wall clock of a record's writer with this replica's,
    /// for a record received live (a watch event arrives milliseconds
    /// after the write). The leader's own writes say nothing.
    pub(super) fn measure_skew(&self, record: &RolloutRecord) {
        let Some(written) = record.written_at else {
            return;
        };
        if self.fence().is_some() {
            return;
        }
        let now = jiff::Timestamp::now();
        let skew = now.as_millisecond() - written.as_millisecond();
        let before = self.skew_ms.swap(skew, Ordering::Relaxed);
        let limit = SKEW_WARNING.as_millis() as i64;
        let was = before != NO_SKEW && before.abs() > limit;
        if skew.abs() > limit && !was {
            warn!(skew_ms = skew, flag = %record.flag, "this replica's clock differs from the rollout leader's by more than {SKEW_WARNING:?}: stage times are wall-clock instants, so keep the replicas' clocks in sync (NTP)");
        } else if was && skew.abs() <= limit {
            info!(
                skew_ms = skew,
                "this replica's clock agrees with the rollout leader's again"
            );
        }
    }

    /// Takes over a state directory's records if the prefix holds none and
    /// nothing was migrated before.
    pub(super) async fn migrate(&self, m: &Migration) -> Result<(), StoreError> {
        if m.records.is_empty() {
            return Ok(());
        }
        let mut ops = vec![Op::put(self.keys.migrated(), self.replica.as_str())];
        for r in &m.records {
            let json = serde_json::to_vec(r).map_err(std::io::Error::other)?;
            ops.push(Op::put(self.keys.record(&r.flag), json));
        }
        let txn = Txn {
            compare: vec![
                Compare::all_under(self.keys.records(), Target::Create, 0),
                Compare::equal(self.keys.migrated(), Target::Create, 0),
            ],
            success: ops,
            failure: Vec::new(),
        };
        if !self.timed(self.gateway.txn(&txn)).await?.succeeded {
            return Ok(());
        }
        let audit: Vec<Op> = m
            .audit
            .iter()
            .filter_map(|entry| {
                let flag = entry["flag"].as_str()?;
                let at: jiff::Timestamp = entry["time"].as_str()?.parse().ok()?;
                let key = self.keys.audit(flag, at.as_nanosecond(), "migrated");
                Some(Op::put(key, entry.to_string()))
            })
            .collect();
        for batch in audit.chunks(MIGRATION_BATCH) {
            self.timed(self.gateway.txn(&Txn::success(batch.to_vec())))
                .await?;
        }
        info!(
            records = m.records.len(),
            audit = audit.len(),
            "took over the state directory's rollout records: the cluster continues them"
        );
        Ok(())
    }
}
