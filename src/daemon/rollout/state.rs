//! A rollout's durable state, one JSON file per flag in
//! `STATE_DIR/rollouts/`, written atomically.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::fsutil::write_atomic;
use crate::model::Strategy;
use crate::stats::guardrail::GuardrailResult;

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Moving on as stages pass their time and their checks.
    Progressing,
    /// Held by a person or by missing data; the percentage stays.
    Paused,
    /// At its last stage (or, for `direct`/`segment`, fully on).
    Completed,
    /// Back at 0 % after failed checks or an abort; stays there until the
    /// rollout spec changes.
    RolledBack,
}

impl Phase {
    /// All phases, for metrics.
    pub const ALL: [Phase; 4] = [
        Phase::Progressing,
        Phase::Paused,
        Phase::Completed,
        Phase::RolledBack,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Progressing => "progressing",
            Phase::Paused => "paused",
            Phase::Completed => "completed",
            Phase::RolledBack => "rolled_back",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// Inside its bounds.
    Pass,
    /// Outside its bounds.
    Fail,
    /// No usable value (empty, NaN, several series, HTTP error, timeout).
    NoData,
}

impl CheckOutcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckOutcome::Pass => "pass",
            CheckOutcome::Fail => "fail",
            CheckOutcome::NoData => "no_data",
        }
    }
}

/// The latest result of one check, with what was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    /// The check's name.
    pub name: String,
    /// The measured value.
    pub value: Option<f64>,
    /// Pass, fail or no data.
    pub outcome: CheckOutcome,
    /// Why, for fail and no data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The PromQL sent (a comparison: its four queries, one per line —
    /// failures and total of the rollout variant, then of the baseline).
    pub query: String,
    /// A comparison check's measurements: both failure rates, the counts,
    /// the test statistic and p-value. `value` is then the difference of
    /// the rates (rollout − baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<BaselineComparison>,
    /// When it ran.
    pub at: Timestamp,
}

impl CheckResult {
    /// The values the audit log records for this check: its value, and for
    /// a comparison both rates and the p-value (`<name>.rolloutRate`,
    /// `<name>.baselineRate`, `<name>.pValue`).
    pub fn audit_values(&self) -> Vec<(String, Option<f64>)> {
        let mut values = vec![(self.name.clone(), self.value)];
        if let Some(c) = &self.comparison {
            values.extend([
                (format!("{}.rolloutRate", self.name), c.result.rollout_rate),
                (
                    format!("{}.baselineRate", self.name),
                    c.result.baseline_rate,
                ),
                (format!("{}.pValue", self.name), c.result.p_value),
            ]);
        }
        values
    }
}

/// What a `compare: baseline` check measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineComparison {
    /// The variant rolled out.
    pub rollout_variant: String,
    /// The variant compared with.
    pub baseline_variant: String,
    /// The guardrail test's verdict, rates, counts, statistic and p-value.
    #[serde(flatten)]
    pub result: GuardrailResult,
}

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
