//! A rollout's durable state, one JSON file per flag in
//! `STATE_DIR/rollouts/`, written atomically.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use hotswap_flags_client::wire::{CheckResult, Phase};
use hotswap_flags_core::model::Strategy;
use hotswap_flags_gitops::fsutil::write_atomic;

/// The durable state of one flag's rollout.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutRecord {
    /// The flag key; also the state file's name.
    pub flag: String,
    /// The environment (a state directory serves one).
    pub env: String,
    /// Hash of the rollout spec this state belongs to.
    pub spec_hash: String,
    /// The strategy at the time of the record: a changed strategy is a new spec, and starts over.
    pub strategy: Strategy,
    /// Where it stands.
    pub phase: Phase,
    /// The canary stage (0-based; 0 for other strategies).
    pub stage: u32,
    /// The membership threshold in force (0–100000).
    pub threshold: u32,
    /// When this rollout started (flagd first loaded its spec).
    pub started_at: Timestamp,
    /// When the current stage started.
    pub stage_started_at: Timestamp,
    /// When it was paused, while paused.
    pub paused_at: Option<Timestamp>,
    /// `linear`: time spent progressing and healthy (the ramp's clock).
    #[serde(default)]
    pub ramp_elapsed_ms: u64,
    /// Passed check rounds in the current stage.
    pub checks_passed: u32,
    /// Failed check rounds in the current stage.
    pub checks_failed: u32,
    /// The latest result of each check.
    #[serde(default)]
    pub last_checks: Vec<CheckResult>,
    /// When checks last ran.
    pub last_check_at: Option<Timestamp>,
    /// Why the phase is what it is (rollback cause, pause cause).
    pub reason: Option<String>,
    /// How many times this record was written: one more on every write,
    /// whatever the store. It orders versions of a record where the store's
    /// revisions cannot: an etcd restored empty or from an old snapshot
    /// counts its revisions anew, and the highest generation a replica
    /// knows is what etcd lost (docs/cluster.md, Failures).
    #[serde(default)]
    pub generation: u64,
    /// When the writer stored this version, by its wall clock. A follower
    /// receiving it live compares it with its own clock: the difference
    /// is the replicas' clock skew (plus milliseconds of delivery), which
    /// stage times depend on (docs/cluster.md, Clocks).
    pub written_at: Option<Timestamp>,
    /// Whether the latest check round passed *since this process started*.
    /// Not persisted: after a restart a stage never advances on a pass seen
    /// before the restart.
    #[serde(skip)]
    pub fresh_pass: bool,
    /// The store's version of this record (etcd's mod revision), for the
    /// compare-and-swap of the next write; 0 when unknown or unused.
    #[serde(skip)]
    pub store_revision: i64,
}

/// The directory of rollout records.
#[derive(Debug, Clone)]
pub struct RolloutStore {
    dir: PathBuf,
}

impl RolloutStore {
    /// Records under `state_dir/rollouts`.
    pub fn new(state_dir: &Path) -> Self {
        RolloutStore {
            dir: state_dir.join("rollouts"),
        }
    }

    fn path(&self, flag: &str) -> PathBuf {
        self.dir.join(format!("{flag}.json"))
    }

    /// Writes one record atomically (write, fsync, rename).
    pub fn save(&self, record: &RolloutRecord) -> io::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(record).map_err(io::Error::other)?;
        bytes.push(b'\n');
        write_atomic(&self.path(&record.flag), &bytes)
    }

    /// Every readable record of environment `env`, by flag. Unreadable files
    /// are reported, not fatal: that rollout then starts over at stage 0.
    pub fn load_all(&self, env: &str) -> (HashMap<String, RolloutRecord>, Vec<String>) {
        let mut records = HashMap::new();
        let mut problems = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return (records, problems);
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| {
                    serde_json::from_slice::<RolloutRecord>(&b).map_err(|e| e.to_string())
                }) {
                Ok(r) if r.env == env => {
                    records.insert(r.flag.clone(), r);
                }
                Ok(_) => {}
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
        (records, problems)
    }
}
