//! The check history of each rollout: every health check round the
//! controller runs, with what each check measured, kept for the life of
//! the rollout (docs/rollouts.md, Check history).
//!
//! A single flagd keeps it in `STATE_DIR/history/<flag>.jsonl`, one round
//! a line; a cluster keeps it in etcd (`daemon::cluster`), one key a
//! round. Both keep only the rounds of the rollout spec in service and
//! bound them the same way ([`thin`]).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hotswap_flags_client::wire::{CheckResult, HistoryPoint, HistoryRound};
use hotswap_flags_gitops::fsutil::{append_line, write_atomic};

/// Rounds kept whole per rollout (each round holds every check's value);
/// past it the older rounds are thinned ([`thin`]).
pub const LIMIT: usize = 2000;

/// Which rounds to drop from `rounds` (oldest first) once there are more
/// than [`LIMIT`]: every second round of the older half, except rounds
/// that caused a transition (a failed round, a rollback, a pause), which
/// are always kept. The newest half is always whole; older stretches get
/// sparser each time, evenly, and the whole rollout stays covered.
pub fn thin(rounds: &[HistoryRound]) -> Vec<usize> {
    if rounds.len() <= LIMIT {
        return Vec::new();
    }
    (0..rounds.len() / 2)
        .filter(|&i| rounds[i].event.is_none())
        .skip(1)
        .step_by(2)
        .collect()
}

/// The round the controller records for `results`, measured at `stage`
/// and `percentage`, which caused `event`.
pub fn round_of(
    spec_hash: &str,
    stage: u32,
    percentage: f64,
    results: &[CheckResult],
    event: Option<&str>,
) -> Option<HistoryRound> {
    let at = results.first()?.at;
    let checks: Vec<HistoryPoint> = results
        .iter()
        .map(|c| HistoryPoint {
            name: c.name.clone(),
            value: c.value,
            outcome: c.outcome,
            message: c.message.clone(),
            p_value: c.comparison.as_ref().and_then(|c| c.result.p_value),
        })
        .collect();
    Some(HistoryRound {
        at,
        spec_hash: spec_hash.to_owned(),
        stage,
        percentage,
        outcome: HistoryRound::outcome_of(&checks),
        event: event.map(str::to_owned),
        checks,
    })
}

/// A single flagd's history files, `STATE_DIR/history/<flag>.jsonl`.
#[derive(Debug, Clone)]
pub struct HistoryFiles {
    dir: PathBuf,
    /// Per flag: the spec whose rounds the file holds, and how many.
    known: Arc<Mutex<HashMap<String, (String, usize)>>>,
}

impl HistoryFiles {
    /// The files under `state_dir/history`.
    pub fn new(state_dir: &Path) -> Self {
        HistoryFiles {
            dir: state_dir.join("history"),
            known: Arc::default(),
        }
    }

    fn path(&self, flag: &str) -> PathBuf {
        self.dir.join(format!("{flag}.jsonl"))
    }

    /// Every round in `flag`'s file (a torn last line is skipped).
    fn read_all(&self, flag: &str) -> io::Result<Vec<HistoryRound>> {
        match std::fs::read_to_string(self.path(flag)) {
            Ok(text) => Ok(text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    fn rewrite(&self, flag: &str, rounds: &[HistoryRound]) -> io::Result<()> {
        let mut bytes = Vec::new();
        for r in rounds {
            serde_json::to_writer(&mut bytes, r).map_err(io::Error::other)?;
            bytes.push(b'\n');
        }
        std::fs::create_dir_all(&self.dir)?;
        write_atomic(&self.path(flag), &bytes)
    }

    /// Appends one round of `flag` (durably). The first round of a new
    /// spec drops the rounds of the one before; past [`LIMIT`] the file
    /// is thinned and rewritten atomically.
    pub fn append(&self, flag: &str, round: &HistoryRound) -> io::Result<()> {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let count = match known.get(flag) {
            Some((spec, count)) if *spec == round.spec_hash => *count,
            _ => {
                let all = self.read_all(flag)?;
                let total = all.len();
                let kept: Vec<_> = all
                    .into_iter()
                    .filter(|r| r.spec_hash == round.spec_hash)
                    .collect();
                if kept.len() != total {
                    self.rewrite(flag, &kept)?;
                }
                kept.len()
            }
        };
        std::fs::create_dir_all(&self.dir)?;
        let line = serde_json::to_string(round).map_err(io::Error::other)?;
        append_line(&self.path(flag), &line)?;
        let mut count = count + 1;
        if count > LIMIT {
            let mut rounds = self.read_all(flag)?;
            let drop = thin(&rounds);
            let mut i = 0;
            rounds.retain(|_| {
                i += 1;
                drop.binary_search(&(i - 1)).is_err()
            });
            self.rewrite(flag, &rounds)?;
            count = rounds.len();
        }
        known.insert(flag.to_owned(), (round.spec_hash.clone(), count));
        Ok(())
    }

    /// The rounds of `flag`'s rollout spec `spec_hash`, oldest first.
    pub fn read(&self, flag: &str, spec_hash: &str) -> io::Result<Vec<HistoryRound>> {
        let mut rounds = self.read_all(flag)?;
        rounds.retain(|r| r.spec_hash == spec_hash);
        Ok(rounds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotswap_flags_client::wire::CheckOutcome;

    fn round(spec: &str, i: u64, event: Option<&str>) -> HistoryRound {
        HistoryRound {
            at: jiff::Timestamp::from_second(1_700_000_000 + i as i64).unwrap(),
            spec_hash: spec.into(),
            stage: 0,
            percentage: 10.0,
            outcome: CheckOutcome::Pass,
            event: event.map(str::to_owned),
            checks: vec![HistoryPoint {
                name: "errors".into(),
                value: Some(i as f64),
                outcome: CheckOutcome::Pass,
                message: None,
                p_value: None,
            }],
        }
    }

    #[test]
    fn thinning_keeps_the_newest_half_and_every_transition() {
        let mut rounds: Vec<_> = (0..=LIMIT as u64)
            .map(|i| round("s", i, (i == 7).then_some("check_failed")))
            .collect();
        let drop = thin(&rounds);
        assert!(!drop.is_empty());
        assert!(drop.iter().all(|&i| i < rounds.len() / 2));
        assert!(!drop.contains(&7), "a round with a transition is kept");
        assert!(!drop.contains(&0), "the first round is kept");
        // Every second candidate: about a quarter of the rounds go.
        assert!((drop.len() as i64 - (LIMIT as i64 / 4)).abs() <= 2);
        let mut i = 0;
        rounds.retain(|_| {
            i += 1;
            drop.binary_search(&(i - 1)).is_err()
        });
        // No gap in the older half is wider than two rounds.
        let values: Vec<f64> = rounds.iter().map(|r| r.checks[0].value.unwrap()).collect();
        assert!(values.windows(2).all(|w| w[1] - w[0] <= 2.0));
        assert!(thin(&rounds).is_empty());
    }

    #[test]
    fn the_file_keeps_one_spec_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let files = HistoryFiles::new(dir.path());
        files.append("f", &round("old", 0, None)).unwrap();
        files.append("f", &round("old", 1, None)).unwrap();
        assert_eq!(files.read("f", "old").unwrap().len(), 2);
        // A new spec starts over (also in a new process, which knows nothing).
        let files = HistoryFiles::new(dir.path());
        files.append("f", &round("new", 2, None)).unwrap();
        assert!(files.read("f", "old").unwrap().is_empty());
        for i in 3..(LIMIT as u64 + 10) {
            files.append("f", &round("new", i, None)).unwrap();
        }
        let kept = files.read("f", "new").unwrap();
        assert!(kept.len() <= LIMIT, "{}", kept.len());
        assert!(kept.len() > LIMIT / 2);
        // The newest rounds are all there, in order.
        let last: Vec<f64> = kept[kept.len() - 5..]
            .iter()
            .map(|r| r.checks[0].value.unwrap())
            .collect();
        let n = LIMIT as f64 + 9.0;
        assert_eq!(last, vec![n - 4.0, n - 3.0, n - 2.0, n - 1.0, n]);
    }
}
