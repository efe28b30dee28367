//! Where rollout state lives: the one small interface between the
//! controller and its storage ([`StateStore`]), and today's single-flagd
//! store over the state directory ([`LocalStore`]).
//!
//! A store answers three questions for the controller: may this process
//! decide now ([`StateStore::leads`]), keep this record and its audit line
//! ([`StateStore::save`]), and what does the audit trail say
//! ([`StateStore::audit`]). The cluster store (`daemon::cluster`, etcd) adds
//! leadership and fencing behind the same calls (docs/cluster.md).

use std::future::Future;
use std::io;
use std::pin::Pin;

use serde_json::Value;
use tracing::warn;

use super::audit::AuditLog;
use super::history::HistoryFiles;
use super::state::{RolloutRecord, RolloutStore};
use hotswap_flags_client::wire::{ClusterView, HistoryRound};

/// A boxed future, for the object-safe async calls of the store.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who may write a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fence {
    /// The controller's own decisions: only while this process leads, and
    /// only over the record it read.
    Leader,
    /// Steering by a person, through any replica: only over the record it
    /// read (a concurrent change makes it a [`StoreError::Conflict`]).
    Record,
}

/// One write: a record, and the audit line of the transition that made it.
#[derive(Debug, Clone)]
pub struct Save {
    /// The record to keep; its `store_revision` is the version it was read at.
    pub record: RolloutRecord,
    /// The audit line (one JSON object), if a transition happened.
    pub audit: Option<String>,
    /// Who writes.
    pub fence: Fence,
}

/// Why a write or a read failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// This process no longer leads: the write was refused.
    #[error("this replica no longer leads the cluster; the write was refused")]
    Fenced,
    /// The record changed since it was read.
    #[error("the rollout of `{0}` changed meanwhile")]
    Conflict(String),
    /// The store cannot be reached.
    #[error("the cluster store is unreachable: {0}")]
    Unreachable(String),
    /// Reading local files failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Storage of rollout records and the audit trail.
pub trait StateStore: Send + Sync + std::fmt::Debug {
    /// Whether this process may decide (run checks, start, advance, roll
    /// back) now. A single flagd always may.
    fn leads(&self) -> bool;

    /// The name the audit trail records for this process (`None` for a
    /// single flagd, whose log has no replica column).
    fn replica(&self) -> Option<&str>;

    /// Keeps `save.record` and its audit line; returns the record's new
    /// version (the `store_revision` of the next write over it).
    fn save(&self, save: Save) -> BoxFuture<'_, Result<i64, StoreError>>;

    /// The current record of `flag`, read from the store (after a
    /// [`StoreError::Conflict`]).
    fn fetch(&self, flag: String) -> BoxFuture<'_, Result<Option<RolloutRecord>, StoreError>>;

    /// The most recent `limit` audit entries, oldest first, optionally of
    /// one flag.
    fn audit(
        &self,
        flag: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<Value>, StoreError>>;

    /// The cluster as this replica sees it; `None` for a single flagd.
    fn cluster(&self) -> Option<ClusterView>;

    /// Keeps one check round of `flag`'s rollout (the controller's, so
    /// fenced on leadership in a cluster); bounded as
    /// `rollout::history::thin` says (docs/rollouts.md, Check history).
    fn record_round(
        &self,
        flag: String,
        round: HistoryRound,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// The check rounds of `flag`'s rollout spec `spec_hash`, oldest first.
    fn history(
        &self,
        flag: String,
        spec_hash: String,
    ) -> BoxFuture<'_, Result<Vec<HistoryRound>, StoreError>>;
}

/// A single flagd's store: one JSON file per record and the audit log in
/// the state directory. It always leads, and the controller serializes its
/// writes, so versions are not compared.
#[derive(Debug, Clone)]
pub struct LocalStore {
    records: RolloutStore,
    audit: AuditLog,
    history: HistoryFiles,
    env: String,
}

impl LocalStore {
    /// The store in `state_dir` for environment `env`.
    pub fn new(state_dir: &std::path::Path, env: &str) -> Self {
        LocalStore {
            records: RolloutStore::new(state_dir),
            audit: AuditLog::new(state_dir),
            history: HistoryFiles::new(state_dir),
            env: env.to_owned(),
        }
    }

    /// Every readable record, by flag (problems are logged: that rollout
    /// starts over).
    pub fn load(&self) -> std::collections::HashMap<String, RolloutRecord> {
        let (records, problems) = self.records.load_all(&self.env);
        for p in problems {
            warn!(problem = %p, "unreadable rollout state; that rollout starts over");
        }
        records
    }

    /// The audit log file.
    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }
}

impl StateStore for LocalStore {
    fn leads(&self) -> bool {
        true
    }

    fn replica(&self) -> Option<&str> {
        None
    }

    fn save(&self, save: Save) -> BoxFuture<'_, Result<i64, StoreError>> {
        let store = self.clone();
        Box::pin(async move {
            // Durable writes (fsync) off the async threads. A failed write
            // is logged and the rollout goes on from memory, as it always
            // has (docs/rollouts.md, Durable state).
            let _ = tokio::task::spawn_blocking(move || {
                if let Some(line) = &save.audit
                    && let Err(e) = store.audit.append_line(line)
                {
                    warn!(error = %e, "could not append to the audit log");
                }
                if let Err(e) = store.records.save(&save.record) {
                    warn!(flag = %save.record.flag, error = %e, "could not store rollout state");
                }
            })
            .await;
            Ok(0)
        })
    }

    fn fetch(&self, flag: String) -> BoxFuture<'_, Result<Option<RolloutRecord>, StoreError>> {
        Box::pin(async move { Ok(self.load().remove(&flag)) })
    }

    fn audit(
        &self,
        flag: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<Value>, StoreError>> {
        let audit = self.audit.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || audit.read(flag.as_deref(), limit))
                .await
                .map_err(io::Error::other)?
                .map_err(StoreError::Io)
        })
    }

    fn cluster(&self) -> Option<ClusterView> {
        None
    }

    fn record_round(
        &self,
        flag: String,
        round: HistoryRound,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let history = self.history.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || history.append(&flag, &round))
                .await
                .map_err(io::Error::other)?
                .map_err(StoreError::Io)
        })
    }

    fn history(
        &self,
        flag: String,
        spec_hash: String,
    ) -> BoxFuture<'_, Result<Vec<HistoryRound>, StoreError>> {
        let history = self.history.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || history.read(&flag, &spec_hash))
                .await
                .map_err(io::Error::other)?
                .map_err(StoreError::Io)
        })
    }
}

/// What a store that others write to (a cluster's) tells the controller:
/// a record read from it, and that the controller should look again
/// (leadership gained).
pub trait RecordSink: Send + Sync {
    /// Installs `record` if it is newer than the one held; returns whether
    /// it was. `current` when it is what the store holds now (a read),
    /// rather than a change that may since have been overtaken (a watch
    /// event): only a current record older than the one held shows that
    /// the store lost data.
    fn observe(&self, record: RolloutRecord, current: bool) -> bool;
    /// Why `record` cannot be installed against the served rollout spec
    /// (a stage or threshold out of its range), if it cannot.
    fn validate(&self, record: &RolloutRecord) -> Result<(), String>;
    /// The store holds nothing usable for `flag` at `revision` (0: no key
    /// at all; otherwise a bad record): the record held here, if any, is
    /// written back over it. `lost` when the store lost data it had (a
    /// record deleted, or missing from a full read): the leader then
    /// decides nothing for a moment, while the replicas write back what
    /// they know (docs/cluster.md, Failures).
    fn superseded(&self, flag: &str, revision: i64, lost: bool);
    /// A full read found only the records of `present`: every other record
    /// held here was lost by the store.
    fn missing(&self, present: &[String]);
    /// Wakes the controller's loop.
    fn wake(&self);
}
