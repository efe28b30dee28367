//! The etcd store of a cluster (docs/cluster.md, How it works).
//!
//! Keys under the prefix (`/hotswap-flags/<env>/` by default):
//!
//! | key | value |
//! | --- | --- |
//! | `leader` | the leading replica's name, on its lease |
//! | `rollouts/<flag>` | the rollout record (JSON, as in a state directory) |
//! | `audit/<flag>/<time ns>-<replica>` | one audit line |
//! | `history/<flag>/<spec hash>/<time ns>` | one check round (docs/rollouts.md, Check history) |
//! | `migrated` | which replica took over a state directory's records |
//!
//! - **Election.** Each replica holds a lease (`--cluster-lease-ttl`) and
//!   tries to create `leader` on it in a transaction that succeeds only if
//!   the key does not exist. The winner's fence is the revision that created
//!   the key: every write of its controller compares it, so a replica that
//!   lost the key (paused, partitioned, slow) writes nothing.
//! - **Renewal.** The lease is renewed every third of its TTL; the leader
//!   stops deciding a quarter TTL before the lease could have expired,
//!   counted from when the renewal was sent.
//! - **One state.** A write also compares the record's version (its mod
//!   revision), so steering through a follower and the leader's rounds
//!   never overwrite each other. Every replica reads all records, then
//!   watches them, and serves the positions they hold.

mod election;
mod follow;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{debug, info, warn};

use super::gateway::{
    Compare, Gateway, GatewayError, KeyValue, Newest, Op, Target, Tls, Txn, TxnResponse,
};
use super::{ClusterConfig, ClusterError, SharedExposures};
use crate::live::Live;
use crate::rollout::audit::AuditLog;
use crate::rollout::history;
use crate::rollout::state::{RolloutRecord, RolloutStore};
use crate::rollout::store::{BoxFuture, Fence, RecordSink, Save, StateStore, StoreError};
use hotswap_flags_client::wire::{ClusterView, ExposureReport, HistoryRound, Phase};

/// How long to wait before calling etcd again after a failure.
const RETRY: Duration = Duration::from_millis(200);

/// Operations per migration transaction (etcd allows 128 by default).
const MIGRATION_BATCH: usize = 100;

/// Audit entries per read: a long trail is read in pages, so that no
/// answer grows past a few megabytes whatever the entries hold. etcd
/// sorts the whole range for each page (a quarter of a second for 100 000
/// entries of 500 bytes), hence pages this large.
const AUDIT_PAGE: usize = 2500;

/// How long a call that no lease bounds may wait for etcd: a person's
/// read (a page of the audit trail, the other replicas' exposure counts)
/// or a write fenced on the record alone (steering, a follower's repair).
/// Only a leader's fenced calls must fit a third of the lease; on a busy
/// machine etcd's answer (its sort of a long trail, or just its fsync
/// queue) outlasts that, and a person would rather wait than get a 503.
const PATIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The clock skew past which a replica warns (docs/cluster.md, Clocks).
const SKEW_WARNING: Duration = Duration::from_secs(1);

/// No skew measured yet.
const NO_SKEW: i64 = i64::MIN;

/// The highest membership threshold (100 %).
const BUCKETS: u32 = 100_000;

/// The keys of one environment.
#[derive(Debug, Clone)]
struct Keys {
    prefix: String,
}

impl Keys {
    fn leader(&self) -> String {
        format!("{}leader", self.prefix)
    }
    fn migrated(&self) -> String {
        format!("{}migrated", self.prefix)
    }
    fn records(&self) -> String {
        format!("{}rollouts/", self.prefix)
    }
    fn record(&self, flag: &str) -> String {
        format!("{}rollouts/{flag}", self.prefix)
    }
    /// The flag a record's key names.
    fn flag_of<'k>(&self, key: &'k [u8]) -> Option<&'k str> {
        let rest = key.strip_prefix(self.records().as_bytes())?;
        std::str::from_utf8(rest).ok()
    }
    fn exposures(&self, flag: &str) -> String {
        format!("{}exposures/{flag}/", self.prefix)
    }
    fn exposure(&self, flag: &str, replica: &str) -> String {
        format!("{}exposures/{flag}/{replica}", self.prefix)
    }
    fn audits(&self, flag: Option<&str>) -> String {
        match flag {
            Some(flag) => format!("{}audit/{flag}/", self.prefix),
            None => format!("{}audit/", self.prefix),
        }
    }
    fn audit(&self, flag: &str, at_ns: i128, replica: &str) -> String {
        format!("{}audit/{flag}/{at_ns:020}-{replica}", self.prefix)
    }
    /// Every check round of `flag`, of any spec.
    fn histories(&self, flag: &str) -> String {
        format!("{}history/{flag}/", self.prefix)
    }
    /// The check rounds of `flag`'s spec `spec_hash`.
    fn history(&self, flag: &str, spec_hash: &str) -> String {
        format!("{}history/{flag}/{spec_hash}/", self.prefix)
    }
}

/// This replica's leadership: the fence and how long it lasts.
#[derive(Debug, Clone, Copy)]
struct Lead {
    /// The revision that created the leader key.
    revision: i64,
    /// The lease the leader key is on (a key put by hand has none).
    lease: i64,
    /// Until when it may decide (a margin before the lease could expire).
    decide_until: Instant,
}

/// How often a replica publishes its exposure counts.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// One replica's counts of one experiment, as published under
/// `exposures/<flag>/<replica>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Published {
    replica: String,
    spec_hash: String,
    since: jiff::Timestamp,
    exposures: IndexMap<String, u64>,
}

/// What a single flagd's state directory held, taken over by the first
/// replica to reach an empty prefix (docs/cluster.md, Moving from a single
/// flagd).
#[derive(Debug, Default)]
pub struct Migration {
    /// The rollout records.
    pub records: Vec<RolloutRecord>,
    /// The audit log, one JSON object per line.
    pub audit: Vec<Value>,
}

/// Rollout state in etcd, with leader election (see the module docs).
pub struct EtcdStore {
    endpoints: Vec<String>,
    gateway: Gateway,
    keys: Keys,
    replica: String,
    lease_ttl: Duration,
    op_timeout: Duration,
    lead: Mutex<Option<Lead>>,
    /// The lease of the current session, revoked on shutdown.
    lease: Mutex<Option<i64>>,
    leader: Mutex<Option<String>>,
    reachable: AtomicBool,
    /// How many times etcd became unreachable: a watch that lived through
    /// an outage is read again from scratch.
    outages: AtomicU64,
    synced: AtomicBool,
    /// Set on shutdown: campaign no more.
    stopping: AtomicBool,
    /// The local JSON lines copy of the audit lines this replica writes.
    local_audit: AuditLog,
    /// Where read records go (the controller), once started.
    sink: OnceLock<Arc<dyn RecordSink>>,
    /// Bad records refused, each key version once (docs/cluster.md,
    /// Failures).
    rejected: AtomicU64,
    rejected_seen: Mutex<HashSet<(Vec<u8>, i64)>>,
    /// The newest record this replica knew of each flag, kept in its state
    /// directory: what it writes back when etcd lost it, even across a
    /// restart of this replica.
    cache: RolloutStore,
    /// The generation of each flag's cached record.
    cached: Arc<Mutex<HashMap<String, u64>>>,
    /// The last clock skew measured against a writer, in milliseconds
    /// ([`NO_SKEW`] before any).
    skew_ms: AtomicI64,
    /// Per flag: the spec whose check rounds this replica last wrote, how
    /// many etcd holds of it, and the rounds not written yet.
    history_known: tokio::sync::Mutex<HashMap<String, HistoryKnown>>,
}

/// One flag's check history as the leader writes it to etcd.
#[derive(Debug)]
struct HistoryKnown {
    spec_hash: String,
    /// Rounds etcd holds of the spec.
    held: usize,
    /// Rounds not written yet, oldest first (see [`HISTORY_FLUSH`]).
    pending: Vec<HistoryRound>,
    /// When rounds were last written.
    flushed: Option<Instant>,
}

/// How long rounds that change nothing wait to be written: etcd keeps
/// every revision until compaction, so a canary checking every second must
/// not write every second (docs/cluster.md, Writes). A round that causes a
/// transition, or whose outcome differs from the round before, is written
/// at once with those before it.
const HISTORY_FLUSH: Duration = Duration::from_secs(60);

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("endpoints", &self.endpoints)
            .field("prefix", &self.keys.prefix)
            .field("replica", &self.replica)
            .finish_non_exhaustive()
    }
}

impl EtcdStore {
    /// A store for `config`, not yet connected; the local audit lines go to
    /// `state_dir`.
    pub fn new(config: &ClusterConfig, state_dir: &std::path::Path) -> Result<Self, ClusterError> {
        let read = |path: &std::path::PathBuf| {
            std::fs::read(path).map_err(|error| ClusterError::File {
                path: path.clone(),
                error,
            })
        };
        let tls = if config.ca.is_some() || config.identity.is_some() {
            Some(Tls {
                ca: config.ca.as_ref().map(read).transpose()?,
                identity: match &config.identity {
                    Some((cert, key)) => Some((read(cert)?, read(key)?)),
                    None => None,
                },
            })
        } else {
            None
        };
        let gateway = Gateway::new(&config.endpoints, tls, config.user.clone())
            .map_err(|e| ClusterError::Client(e.to_string()))?;
        Ok(EtcdStore {
            endpoints: config.endpoints.clone(),
            gateway,
            keys: Keys {
                prefix: config.prefix.clone(),
            },
            replica: config.replica.clone(),
            lease_ttl: config.lease_ttl,
            op_timeout: (config.lease_ttl / 3)
                .clamp(Duration::from_millis(300), Duration::from_secs(3)),
            lead: Mutex::new(None),
            lease: Mutex::new(None),
            leader: Mutex::new(None),
            reachable: AtomicBool::new(false),
            outages: AtomicU64::new(0),
            synced: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            local_audit: AuditLog::new(state_dir),
            sink: OnceLock::new(),
            rejected: AtomicU64::new(0),
            rejected_seen: Mutex::new(HashSet::new()),
            cache: RolloutStore::new(&state_dir.join("cluster-cache")),
            cached: Arc::new(Mutex::new(HashMap::new())),
            skew_ms: AtomicI64::new(NO_SKEW),
            history_known: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The records this replica last knew (its cache in the state
    /// directory), to serve and write back before etcd is read.
    pub fn cached_records(&self, env: &str) -> HashMap<String, RolloutRecord> {
        let (records, problems) = self.cache.load_all(env);
        for p in problems {
            warn!(problem = %p, "unreadable cached rollout record; ignored");
        }
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        for r in records.values() {
            cached.insert(r.flag.clone(), r.generation);
        }
        records
    }

    /// Keeps `record` in the cache if it is newer than the one there
    /// (atomically written, off the async threads).
    fn remember(&self, record: RolloutRecord) {
        let cache = self.cache.clone();
        let cached = self.cached.clone();
        tokio::task::spawn_blocking(move || {
            let mut generations = cached.lock().unwrap_or_else(|e| e.into_inner());
            if generations
                .get(&record.flag)
                .is_some_and(|g| *g > record.generation)
            {
                return;
            }
            match cache.save(&record) {
                Ok(()) => {
                    generations.insert(record.flag.clone(), record.generation);
                }
                Err(e) => warn!(error = %e, "could not cache the rollout record"),
            }
        });
    }

    fn observe(&self, sink: &dyn RecordSink, record: RolloutRecord, current: bool) {
        if sink.observe(record.clone(), current) {
            self.remember(record);
        }
    }

    /// Starts following the records and campaigning for leadership; what
    /// is read goes to `sink` (the controller). `migration` is offered to
    /// the cluster once, before the first read.
    pub fn start(self: &Arc<Self>, sink: Arc<dyn RecordSink>, migration: Migration) {
        let _ = self.sink.set(sink.clone());
        tokio::spawn(self.clone().follow(sink.clone(), migration));
        tokio::spawn(self.clone().campaign(sink));
    }

    /// `call` with the operation timeout; records whether etcd answered.
    async fn timed<T>(
        &self,
        call: impl Future<Output = Result<T, GatewayError>>,
    ) -> Result<T, StoreError> {
        self.timed_within(self.op_timeout, call).await
    }

    /// `call` with a timeout of `within`; records whether etcd answered.
    async fn timed_within<T>(
        &self,
        within: Duration,
        call: impl Future<Output = Result<T, GatewayError>>,
    ) -> Result<T, StoreError> {
        let result = match tokio::time::timeout(within, call).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(StoreError::Unreachable(e.to_string())),
            Err(_) => Err(StoreError::Unreachable(format!(
                "no answer within {within:?}"
            ))),
        };
        self.set_reachable(result.is_ok());
        result
    }

    fn set_reachable(&self, up: bool) {
        let was = self.reachable.swap(up, Ordering::Relaxed);
        if was && !up {
            self.outages.fetch_add(1, Ordering::Relaxed);
            warn!(
                "etcd is unreachable: serving the last rollout positions known, deciding nothing"
            );
        } else if !was && up && self.synced.load(Ordering::Relaxed) {
            info!("etcd answers again");
        }
    }

    fn lock_lead(&self) -> MutexGuard<'_, Option<Lead>> {
        self.lead.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_leader(&self, name: Option<String>) {
        *self.leader.lock().unwrap_or_else(|e| e.into_inner()) = name;
    }

    fn step_down(&self) {
        if self.lock_lead().take().is_some() {
            info!(replica = %self.replica, "no longer leading the cluster's rollouts");
        }
    }

    /// Publishes this replica's exposure counts of the served ruleset's
    /// experiments every second, for ever (errors are retried).
    pub async fn publish_exposures(self: Arc<Self>, live: Arc<Live>) {
        loop {
            tokio::time::sleep(PUBLISH_EVERY).await;
            let Some(served) = live.current() else {
                continue;
            };
            let now = jiff::Timestamp::now();
            let mut ops = Vec::new();
            for set in served.experiments().iter() {
                let r = set.report(served.ruleset.version(), now);
                let published = Published {
                    replica: self.replica.clone(),
                    spec_hash: r.spec_hash,
                    since: r.since,
                    exposures: r.exposures,
                };
                let Ok(json) = serde_json::to_vec(&published) else {
                    continue;
                };
                ops.push(Op::put(self.keys.exposure(&r.flag, &self.replica), json));
            }
            for batch in ops.chunks(MIGRATION_BATCH) {
                let txn = Txn::success(batch.to_vec());
                if let Err(e) = self.timed(self.gateway.txn(&txn)).await {
                    debug!(error = %e, "exposure counts not published; again shortly");
                }
            }
        }
    }

    async fn merge_inner(&self, mut report: ExposureReport) -> Result<ExposureReport, StoreError> {
        let exposures = self.keys.exposures(&report.flag);
        let response = self
            .timed_within(PATIENT_TIMEOUT, self.gateway.range(&exposures, true, None))
            .await?;
        report.replicas = Some(vec![self.replica.clone()]);
        for kv in &response.kvs {
            let Ok(other) = serde_json::from_slice::<Published>(&kv.value) else {
                continue;
            };
            if other.replica != self.replica && other.spec_hash == report.spec_hash {
                report.add(&other.replica, other.since, &other.exposures);
            }
        }
        Ok(report)
    }

    async fn save_inner(&self, save: Save) -> Result<i64, StoreError> {
        let (fence, within) = match save.fence {
            Fence::Leader => (
                Some(self.fence().ok_or(StoreError::Fenced)?),
                self.op_timeout,
            ),
            Fence::Record => (None, PATIENT_TIMEOUT),
        };
        let flag = save.record.flag.clone();
        let key = self.keys.record(&flag);
        let json = serde_json::to_vec(&save.record).map_err(std::io::Error::other)?;
        let mut compare = vec![Compare::equal(
            key.as_str(),
            Target::Mod,
            save.record.store_revision,
        )];
        if let Some((revision, lease)) = fence {
            compare.push(Compare::equal(self.keys.leader(), Target::Create, revision));
            // A put over the key keeps its creation revision but drops its
            // lease: the lease tells the key is still this leadership's.
            compare.push(Compare::equal(self.keys.leader(), Target::Lease, lease));
        }
        let mut success = vec![Op::put(key, json)];
        if let Some(line) = &save.audit {
            let at = jiff::Timestamp::now().as_nanosecond();
            success.push(Op::put(
                self.keys.audit(&flag, at, &self.replica),
                line.as_str(),
            ));
        }
        let txn = Txn {
            compare,
            success,
            failure: vec![Op::Get(self.keys.leader())],
        };
        let response = self.timed_within(within, self.gateway.txn(&txn)).await?;
        if response.succeeded {
            let mut stored = save.record.clone();
            stored.store_revision = response.header.revision;
            self.remember(stored);
            if let Some(line) = save.audit {
                let log = self.local_audit.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(e) = log.append_line(&line) {
                        warn!(error = %e, "could not append to the local audit log");
                    }
                })
                .await;
            }
            return Ok(response.header.revision);
        }
        if let Some((revision, lease)) = fence {
            let still = first_read(&response)
                .is_some_and(|kv| kv.create_revision == revision && kv.lease == lease);
            if !still {
                self.step_down();
                return Err(StoreError::Fenced);
            }
        }
        Err(StoreError::Conflict(flag))
    }

    async fn fetch_inner(&self, flag: String) -> Result<Option<RolloutRecord>, StoreError> {
        let key = self.keys.record(&flag);
        let response = self.timed(self.gateway.range(&key, false, None)).await?;
        match response.kvs.first() {
            Some(kv) => Ok(self.record_of(kv)),
            None => {
                if let Some(sink) = self.sink.get() {
                    sink.superseded(&flag, 0, true);
                }
                Ok(None)
            }
        }
    }

    async fn audit_inner(
        &self,
        flag: Option<String>,
        limit: usize,
    ) -> Result<Vec<Value>, StoreError> {
        let audits = self.keys.audits(flag.as_deref());
        // Newest first, a page at a time: a page ends before the oldest
        // revision it reached, which the next one reads whole (the entries
        // of one migration batch share a revision).
        let mut kvs: Vec<KeyValue> = Vec::new();
        let mut at_most = 0;
        while kvs.len() < limit {
            let page = Newest {
                limit: AUDIT_PAGE.min(limit - kvs.len() + 1),
                at_most,
            };
            let response = self
                .timed_within(
                    PATIENT_TIMEOUT,
                    self.gateway.range(&audits, true, Some(page)),
                )
                .await?;
            let full = response.kvs.len() >= page.limit;
            let mut read = response.kvs;
            let oldest = read.last().map_or(0, |kv| kv.create_revision);
            if full && read.iter().any(|kv| kv.create_revision != oldest) {
                read.retain(|kv| kv.create_revision != oldest);
                at_most = oldest;
            } else {
                at_most = oldest - 1;
            }
            kvs.extend(read);
            if !full || at_most <= 0 {
                break;
            }
        }
        kvs.truncate(limit);
        // Oldest first: by revision, and within one (a migration's batch)
        // by the time in the key.
        let mut entries: Vec<(i64, &[u8], Value)> = kvs
            .iter()
            .filter_map(|kv| {
                let value = serde_json::from_slice(&kv.value).ok()?;
                let name = kv.key.rsplit(|b| *b == b'/').next().unwrap_or_default();
                Some((kv.create_revision, name, value))
            })
            .collect();
        entries.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        Ok(entries.into_iter().map(|(_, _, v)| v).collect())
    }
}

impl EtcdStore {
    /// Runs `ops` (in batches) while this replica leads.
    async fn fenced(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        for batch in ops.chunks(MIGRATION_BATCH) {
            let (revision, lease) = self.fence().ok_or(StoreError::Fenced)?;
            let txn = Txn {
                compare: vec![
                    Compare::equal(self.keys.leader(), Target::Create, revision),
                    Compare::equal(self.keys.leader(), Target::Lease, lease),
                ],
                success: batch.to_vec(),
                failure: Vec::new(),
            };
            if !self.timed(self.gateway.txn(&txn)).await?.succeeded {
                return Err(StoreError::Fenced);
            }
        }
        Ok(())
    }

    async fn record_round_inner(
        &self,
        flag: String,
        round: HistoryRound,
    ) -> Result<(), StoreError> {
        let mut known = self.history_known.lock().await;
        let ours = self.keys.history(&flag, &round.spec_hash);
        if known
            .get(&flag)
            .is_none_or(|k| k.spec_hash != round.spec_hash)
        {
            // The first round of this spec this replica writes: count what
            // etcd holds of it, and drop the rounds of older specs.
            let all = self
                .timed_within(
                    PATIENT_TIMEOUT,
                    self.gateway.range(&self.keys.histories(&flag), true, None),
                )
                .await?;
            let mut held = 0;
            let mut stale = Vec::new();
            for kv in &all.kvs {
                if kv.key.starts_with(ours.as_bytes()) {
                    held += 1;
                } else {
                    stale.push(Op::Delete(String::from_utf8_lossy(&kv.key).into_owned()));
                }
            }
            self.fenced(stale).await?;
            known.insert(
                flag.clone(),
                HistoryKnown {
                    spec_hash: round.spec_hash.clone(),
                    held,
                    pending: Vec::new(),
                    flushed: None,
                },
            );
        }
        let Some(entry) = known.get_mut(&flag) else {
            return Ok(());
        };
        let news = round.event.is_some()
            || entry
                .pending
                .last()
                .is_some_and(|last| last.outcome != round.outcome);
        entry.pending.push(round);
        if !news && entry.flushed.is_some_and(|t| t.elapsed() < HISTORY_FLUSH) {
            return Ok(());
        }
        let mut puts = Vec::with_capacity(entry.pending.len());
        for r in &entry.pending {
            let json = serde_json::to_vec(r).map_err(std::io::Error::other)?;
            puts.push(Op::put(format!("{ours}{:020}", r.at.as_nanosecond()), json));
        }
        self.fenced(puts).await?;
        entry.held += entry.pending.len();
        entry.pending.clear();
        entry.flushed = Some(Instant::now());
        if entry.held > history::LIMIT {
            let held = self
                .timed_within(PATIENT_TIMEOUT, self.gateway.range(&ours, true, None))
                .await?;
            let mut rounds = Vec::with_capacity(held.kvs.len());
            let mut keys = Vec::with_capacity(held.kvs.len());
            for kv in &held.kvs {
                if let Ok(r) = serde_json::from_slice::<HistoryRound>(&kv.value) {
                    rounds.push(r);
                    keys.push(String::from_utf8_lossy(&kv.key).into_owned());
                }
            }
            let drop = history::thin(&rounds);
            entry.held = rounds.len() - drop.len();
            self.fenced(
                drop.into_iter()
                    .map(|i| Op::Delete(keys[i].clone()))
                    .collect(),
            )
            .await?;
        }
        Ok(())
    }

    async fn history_inner(
        &self,
        flag: String,
        spec_hash: String,
    ) -> Result<Vec<HistoryRound>, StoreError> {
        let held = self
            .timed_within(
                PATIENT_TIMEOUT,
                self.gateway
                    .range(&self.keys.history(&flag, &spec_hash), true, None),
            )
            .await?;
        // Keys sort by the round's time (zero-padded nanoseconds).
        let mut rounds: Vec<HistoryRound> = held
            .kvs
            .iter()
            .filter_map(|kv| serde_json::from_slice(&kv.value).ok())
            .collect();
        // The leader's rounds not written yet (a follower's page sees them
        // within `HISTORY_FLUSH`, or at once when they change something).
        if let Some(k) = self.history_known.lock().await.get(&flag)
            && k.spec_hash == spec_hash
        {
            rounds.extend(k.pending.iter().cloned());
        }
        Ok(rounds)
    }
}

/// What is wrong with `r`, read under the key of `flag`, whatever the
/// spec: a record must name its own key's flag, and hold a threshold in
/// range for its phase. The controller checks it against the spec
/// ([`RecordSink::validate`]).
fn check_record(flag: Option<&str>, r: &RolloutRecord) -> Result<(), String> {
    if flag != Some(r.flag.as_str()) {
        return Err(format!(
            "names flag `{}` under the key of `{}`",
            r.flag,
            flag.unwrap_or("?")
        ));
    }
    if r.threshold > BUCKETS {
        return Err(format!("threshold {} above {BUCKETS}", r.threshold));
    }
    if r.phase == Phase::RolledBack && r.threshold != 0 {
        return Err(format!("rolled back with threshold {}", r.threshold));
    }
    Ok(())
}

/// The first key the branch of `response` that ran read.
fn first_read(response: &TxnResponse) -> Option<&KeyValue> {
    response.ranges().find_map(|r| r.kvs.first())
}

fn unreachable(e: GatewayError) -> StoreError {
    StoreError::Unreachable(e.to_string())
}

impl SharedExposures for EtcdStore {
    fn merge(&self, report: ExposureReport) -> BoxFuture<'_, Result<ExposureReport, StoreError>> {
        Box::pin(self.merge_inner(report))
    }
}

impl StateStore for EtcdStore {
    fn leads(&self) -> bool {
        self.fence().is_some()
    }

    fn replica(&self) -> Option<&str> {
        Some(&self.replica)
    }

    fn save(&self, save: Save) -> BoxFuture<'_, Result<i64, StoreError>> {
        Box::pin(self.save_inner(save))
    }

    fn fetch(&self, flag: String) -> BoxFuture<'_, Result<Option<RolloutRecord>, StoreError>> {
        Box::pin(self.fetch_inner(flag))
    }

    fn audit(
        &self,
        flag: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<Value>, StoreError>> {
        Box::pin(self.audit_inner(flag, limit))
    }

    fn cluster(&self) -> Option<ClusterView> {
        Some(ClusterView {
            replica: self.replica.clone(),
            leader: self
                .leader
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            leading: self.leads(),
            store_reachable: self.reachable.load(Ordering::Relaxed),
            synced: self.synced.load(Ordering::Relaxed),
            rejected_records: self.rejected.load(Ordering::Relaxed),
            clock_skew_ms: Some(self.skew_ms.load(Ordering::Relaxed)).filter(|s| *s != NO_SKEW),
        })
    }

    fn record_round(
        &self,
        flag: String,
        round: HistoryRound,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.record_round_inner(flag, round))
    }

    fn history(
        &self,
        flag: String,
        spec_hash: String,
    ) -> BoxFuture<'_, Result<Vec<HistoryRound>, StoreError>> {
        Box::pin(self.history_inner(flag, spec_hash))
    }
}
