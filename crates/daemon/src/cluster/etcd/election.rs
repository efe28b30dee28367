//! Leader election on a lease: campaign, hold the `leader` key while the
//! lease is renewed, step down a quarter TTL before it could expire, and
//! the fence every write of the leader compares (docs/cluster.md, How it
//! works).

use super::*;

impl EtcdStore {
    /// Holds a lease and campaigns with it, for ever.
    pub(super) async fn campaign(self: Arc<Self>, sink: Arc<dyn RecordSink>) {
        while !self.stopping.load(Ordering::SeqCst) {
            if let Err(e) = self.session(sink.as_ref()).await {
                debug!(error = %e, "leadership session ended; again shortly");
            }
            self.step_down();
            // A session can fail after it created the leader key (a slow
            // read while taking over): without the revocation its key would
            // block every replica, this one included, for a whole TTL.
            if let Err(e) = self.revoke_lease().await {
                debug!(error = %e, "could not revoke the ended session's lease; it expires by itself");
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    /// One lease: campaign, renew, and campaign again whenever the leader
    /// key goes; returns when the lease is lost.
    pub(super) async fn session(&self, sink: &dyn RecordSink) -> Result<(), StoreError> {
        let ttl_secs = i64::try_from(self.lease_ttl.as_secs().max(1)).unwrap_or(i64::MAX);
        let sent = Instant::now();
        let grant = self.timed(self.gateway.lease_grant(ttl_secs)).await?;
        let lease = grant.id;
        *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = Some(lease);
        let ttl = Duration::from_secs(u64::try_from(grant.ttl).unwrap_or(1));
        let mut valid_until = sent + ttl;
        let leader = self.keys.leader();
        let mut watch = self.timed(self.gateway.watch(&leader, false, 0)).await?;
        loop {
            if self.lock_lead().is_none() && !self.stopping.load(Ordering::SeqCst) {
                self.try_lead(lease, valid_until - ttl / 4, sink).await?;
            }
            tokio::select! {
                () = tokio::time::sleep(ttl / 3) => {
                    let sent = Instant::now();
                    let ack = match self.timed(self.gateway.lease_keep_alive(lease)).await {
                        Ok(ack) => ack,
                        // One slow or failed renewal on a busy host is not
                        // a lost lease: try again while it certainly lasts.
                        // The leader stops deciding at `decide_until` all
                        // the same, so this keeps leadership, not safety.
                        Err(e) if Instant::now() + ttl / 3 < valid_until => {
                            debug!(error = %e, "a lease renewal failed; again while the lease lasts");
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    if ack.ttl <= 0 {
                        return Err(StoreError::Unreachable("the lease expired".into()));
                    }
                    valid_until = sent + Duration::from_secs(u64::try_from(ack.ttl).unwrap_or(1));
                    if let Some(lead) = self.lock_lead().as_mut() {
                        lead.decide_until = valid_until - ttl / 4;
                    }
                }
                message = watch.next() => {
                    for event in message.map_err(unreachable)?.events {
                        match event.kv {
                            Some(kv) if !event.is_delete() => {
                                let ours = self.lock_lead().is_some_and(|l| l.lease == kv.lease);
                                if !ours {
                                    self.step_down();
                                }
                                if kv.lease == 0 {
                                    self.remove_foreign_leader(&kv).await?;
                                } else {
                                    self.set_leader(Some(String::from_utf8_lossy(&kv.value).into_owned()));
                                }
                            }
                            _ => self.set_leader(None),
                        }
                    }
                }
            }
        }
    }

    /// Creates the leader key on `lease` unless it exists; on success reads
    /// every record before deciding anything.
    pub(super) async fn try_lead(
        &self,
        lease: i64,
        decide_until: Instant,
        sink: &dyn RecordSink,
    ) -> Result<(), StoreError> {
        let key = self.keys.leader();
        let txn = Txn {
            compare: vec![Compare::equal(key.as_str(), Target::Create, 0)],
            success: vec![Op::Put {
                key: key.clone(),
                value: self.replica.clone().into_bytes(),
                lease,
            }],
            failure: vec![Op::Get(key)],
        };
        let response = self.timed(self.gateway.txn(&txn)).await?;
        if !response.succeeded {
            match first_read(&response) {
                // Our own key, from this very lease (a lost answer).
                Some(kv) if kv.lease == lease => {
                    self.lead(kv.create_revision, lease, decide_until, sink)
                        .await?;
                }
                Some(kv) if kv.lease == 0 => self.remove_foreign_leader(kv).await?,
                Some(kv) => self.set_leader(Some(String::from_utf8_lossy(&kv.value).into_owned())),
                None => self.set_leader(None),
            }
            return Ok(());
        }
        self.lead(response.header.revision, lease, decide_until, sink)
            .await
    }

    /// Counts a rejected key at this revision once, and says whether this
    /// is the first time (so each bad write is logged once, not per read).
    pub(super) fn first_rejection(&self, kv: &KeyValue) -> bool {
        let first = self
            .rejected_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((kv.key.clone(), kv.mod_revision));
        if first {
            self.rejected.fetch_add(1, Ordering::Relaxed);
        }
        first
    }

    /// Deletes a leader key that is on no lease (put by hand, or restored
    /// from a snapshot without its lease): nothing would ever delete it,
    /// so nobody could be elected again once its holder died, and the
    /// replica that created it would go on deciding under a key that is no
    /// longer its own (docs/cluster.md, Failures).
    pub(super) async fn remove_foreign_leader(&self, kv: &KeyValue) -> Result<(), StoreError> {
        let key = self.keys.leader();
        if self.first_rejection(kv) {
            warn!(key = %key, value = %String::from_utf8_lossy(&kv.value), "leader key on no lease (written by hand?): removed, a new election follows");
        }
        let txn = Txn {
            compare: vec![Compare::equal(key.as_str(), Target::Mod, kv.mod_revision)],
            success: vec![Op::Delete(key)],
            failure: Vec::new(),
        };
        self.timed(self.gateway.txn(&txn)).await?;
        self.set_leader(None);
        Ok(())
    }

    pub(super) async fn lead(
        &self,
        revision: i64,
        lease: i64,
        decide_until: Instant,
        sink: &dyn RecordSink,
    ) -> Result<(), StoreError> {
        // Everything the previous leader wrote is visible from `revision`
        // on (later writes of it are fenced): read it before deciding.
        self.load_all(sink).await?;
        *self.lock_lead() = Some(Lead {
            revision,
            lease,
            decide_until,
        });
        self.set_leader(Some(self.replica.clone()));
        info!(replica = %self.replica, "leading the cluster's rollouts");
        sink.wake();
        Ok(())
    }

    /// Gives up leadership on shutdown: stops deciding and revokes the
    /// lease, which deletes the leader key, so another replica leads at
    /// once rather than after the TTL.
    pub async fn resign(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.step_down();
        match self.revoke_lease().await {
            Ok(true) => info!(replica = %self.replica, "left the cluster (lease revoked)"),
            Ok(false) => {}
            Err(e) => warn!(error = %e, "could not revoke the lease; it expires by itself"),
        }
    }

    /// Revokes the current lease, deleting the keys held on it (the leader
    /// key among them); `Ok(false)` when there is none.
    pub(super) async fn revoke_lease(&self) -> Result<bool, StoreError> {
        let lease = self.lease.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(lease) = lease else {
            return Ok(false);
        };
        self.timed(self.gateway.lease_revoke(lease)).await?;
        Ok(true)
    }

    /// The fence of the current leadership (the leader key's creation
    /// revision and lease), if this replica may decide.
    pub(super) fn fence(&self) -> Option<(i64, i64)> {
        self.lock_lead()
            .filter(|l| Instant::now() < l.decide_until)
            .map(|l| (l.revision, l.lease))
    }
}
