//! Everything known about one flag, gathered from the sources
//! (docs/lifecycle.md, "Evidence"): its metadata as written now, its git
//! history and rollout in each environment, its evaluations, its code
//! references.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::history::FlagHistory;
use super::refs::CodeRef;
use hotswap_flags_core::model::{ExpiryDate, FlagKind};

/// One flag's evidence.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagEvidence {
    /// The flag key.
    pub key: String,
    /// `owner`, as written in the first environment defining the flag.
    pub owner: Option<String>,
    /// `kind`, likewise.
    pub kind: Option<FlagKind>,
    /// `expires`, likewise.
    pub expires: Option<ExpiryDate>,
    /// Per environment asked about, in the order asked.
    pub envs: Vec<EnvEvidence>,
    /// References in code, the first by file and line (at most
    /// `refs::LISTED_PER_FLAG`); `None` when no code was searched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Vec<CodeRef>>,
    /// How many references there are, listed or not; `None` when no code
    /// was searched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_count: Option<u64>,
}

/// One flag in one environment.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvEvidence {
    /// The environment.
    pub env: String,
    /// Whether the environment defines the flag (in the working tree).
    pub defined: bool,
    /// Its git history; `None` when not committed (or not defined).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<FlagHistory>,
    /// Its rollout as flagd runs it; `None` when flagd was not asked or
    /// runs none for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutEvidence>,
    /// Evaluations over the window by variant; `None` when no evaluation
    /// data was asked for, empty when it was never evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluations: Option<BTreeMap<String, f64>>,
}

/// A rollout as flagd reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutEvidence {
    /// `progressing`, `paused`, `completed` or `rolled_back`.
    pub phase: String,
    /// The variant rolled out.
    pub serve: String,
    /// The percentage served now.
    pub percentage: f64,
    /// When it completed (the start of its last stage), if it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
}

impl FlagEvidence {
    /// When the flag was first created in any environment asked about.
    pub fn created(&self) -> Option<Timestamp> {
        self.envs
            .iter()
            .filter_map(|e| e.history.as_ref().map(|h| h.created))
            .min()
    }

    /// When the flag last changed in any environment asked about.
    pub fn changed(&self) -> Option<Timestamp> {
        self.envs
            .iter()
            .filter_map(|e| e.history.as_ref().map(|h| h.changed))
            .max()
    }

    /// The variant every environment defining the flag serves to everyone,
    /// and since when all of them have: as written (git), or because its
    /// rollout of that variant completed (flagd). `None` if any environment
    /// serves more than one, or they serve different ones.
    pub fn serves_one_everywhere(&self) -> Option<(&str, Timestamp)> {
        let mut found: Option<(&str, Timestamp)> = None;
        for env in self.envs.iter().filter(|e| e.defined) {
            let (variant, since) = env.serves_one()?;
            found = match found {
                None => Some((variant, since)),
                Some((v, _)) if v != variant => return None,
                Some((v, s)) => Some((v, s.max(since))),
            };
        }
        found
    }
}

impl EnvEvidence {
    /// The one variant this environment serves everyone and since when.
    fn serves_one(&self) -> Option<(&str, Timestamp)> {
        let h = self.history.as_ref()?;
        if let Some(one) = &h.serves_one {
            return Some((one.variant.as_str(), one.since));
        }
        let r = self
            .rollout
            .as_ref()
            .filter(|_| h.uniform_when_rolled_out)?;
        let completed = r.completed_at.filter(|_| r.percentage >= 100.0)?;
        Some((r.serve.as_str(), completed.max(h.changed)))
    }
}
