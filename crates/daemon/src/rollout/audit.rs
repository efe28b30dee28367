//! The audit log: one JSON line per transition or steering call, appended
//! and fsynced to `STATE_DIR/audit.jsonl`.

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::machine::Transition;
use hotswap_flags_gitops::fsutil::append_line;

/// One audit line.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry<'a> {
    /// The flag key, the log's first column when grepped.
    pub flag: &'a str,
    /// Who: `controller` for automatic transitions, else the caller.
    pub actor: &'a str,
    /// In a cluster, the replica that made the transition
    /// (docs/cluster.md); absent for a single flagd.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<&'a str>,
    /// What happened and when, from where to where, why, with which values.
    #[serde(flatten)]
    pub transition: &'a Transition,
}

/// The append-only log.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// The log in `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        AuditLog {
            path: state_dir.join("audit.jsonl"),
        }
    }

    /// Appends one entry (durably).
    pub fn append(&self, entry: &AuditEntry<'_>) -> io::Result<()> {
        let line = serde_json::to_string(entry).map_err(io::Error::other)?;
        self.append_line(&line)
    }

    /// Appends one entry already serialized (durably).
    pub fn append_line(&self, line: &str) -> io::Result<()> {
        append_line(&self.path, line)
    }

    /// The most recent `limit` entries, oldest first, optionally of one flag.
    /// A torn last line (a crash mid-write) is skipped.
    pub fn read(&self, flag: Option<&str>, limit: usize) -> io::Result<Vec<Value>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut entries: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| flag.is_none_or(|f| v["flag"] == f))
            .collect();
        let skip = entries.len().saturating_sub(limit);
        entries.drain(..skip);
        Ok(entries)
    }
}
