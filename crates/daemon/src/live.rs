//! What flagd serves right now, swapped whole.
//!
//! Requests read the current [`Served`] through one `ArcSwap` load: never a
//! lock, never half a ruleset. Loads happen off the request path and replace
//! it in one store; a failed load only records its error, so the last good
//! ruleset stays in service.
//!
//! Rollout positions live in atomic cells of each `Served`: evaluations read
//! them without a lock, the rollout controller stores into them, and a new
//! `Served` is built with the controller's positions already in place (the
//! install and the controller's updates serialize on one lock), so a swap
//! never shows a rollout at a stale percentage.
//!
//! Evaluation counters live outside any one ruleset (keyed by flag and
//! variant *name*) so they keep counting across swaps; each `Served` holds
//! direct handles to them, so counting is one relaxed atomic add.
//! Experiments' exposure counters work the same way, kept per experiment
//! spec rather than per name ([`crate::exposure`]).
//!
//! Every change of what is served — an install, a rollout position that
//! moves — advances a [`Change`] mark that browsers' event streams watch
//! (docs/flagd.md, Change events).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwapOption;
use jiff::Timestamp;
use serde::Serialize;

use crate::background;
use crate::exposure::{ExposureRegistry, ExposureTable};
use hotswap_flags_core::Diagnostic;
use hotswap_flags_core::bundle::signing::SignatureFailure;
use hotswap_flags_core::eval::{
    EvalEnv, Evaluation, Reason, RolloutPosition, RolloutState, initial_position,
};
use hotswap_flags_core::ruleset::Ruleset;
use hotswap_flags_core::ruleset::{CompiledFlag, CompiledRollout, FlagId};

/// A ruleset in service with its counter handles.
#[derive(Debug)]
pub struct Served {
    /// The compiled ruleset.
    pub ruleset: Arc<Ruleset>,
    /// When it was installed.
    pub loaded_at: Timestamp,
    /// The version client credentials are told: derived from what they
    /// can observe ([`client_fingerprint`]), so it moves only when that
    /// does — never with a server flag.
    client_version: Box<str>,
    /// `[flag id][variant id]` → that variant's counts by reason.
    counters: Box<[Box<[Arc<ReasonCounts>]>]>,
    /// `[flag id]` → the live rollout position.
    positions: PositionTable,
    /// `[flag id]` → the experiment's exposure counters (see [`crate::exposure`]).
    exposures: ExposureTable,
}

/// A rollout position readable and writable without a lock.
#[derive(Debug, Default)]
pub struct PositionCell {
    threshold: AtomicU32,
    /// The stage plus one; 0 for none.
    stage: AtomicU32,
}

impl PositionCell {
    fn load(&self) -> RolloutPosition {
        RolloutPosition {
            threshold: self.threshold.load(Ordering::Relaxed),
            stage: self.stage.load(Ordering::Relaxed).checked_sub(1),
        }
    }

    fn store(&self, p: RolloutPosition) {
        self.threshold.store(p.threshold, Ordering::Relaxed);
        self.stage.store(
            p.stage.map_or(0, |s| s.saturating_add(1)),
            Ordering::Relaxed,
        );
    }
}

/// The live rollout positions of a served ruleset, by flag id.
#[derive(Debug)]
pub struct PositionTable(Box<[PositionCell]>);

impl RolloutState for PositionTable {
    #[inline]
    fn position(
        &self,
        id: FlagId,
        _flag: &CompiledFlag,
        rollout: &CompiledRollout,
    ) -> RolloutPosition {
        self.0
            .get(id as usize)
            .map_or_else(|| initial_position(rollout), PositionCell::load)
    }
}

/// Supplies rollout positions for a ruleset being installed (the rollout
/// controller). `None` means "start where the spec starts".
pub trait Positions: Send + Sync + std::fmt::Debug {
    /// The position of `flag`'s rollout `rollout`, if one is under way.
    fn position(&self, flag: &str, rollout: &CompiledRollout) -> Option<RolloutPosition>;
}

impl Served {
    /// Counts one evaluation (lock-free).
    #[inline]
    pub fn count(&self, ev: &Evaluation<'_>) {
        if let Some(c) = self
            .counters
            .get(ev.flag_id as usize)
            .and_then(|v| v.get(usize::from(ev.variant)))
        {
            c.0[reason_index(ev.reason)].fetch_add(1, Ordering::Relaxed);
        }
        self.exposures.count(ev);
    }

    /// The exposure counters of this ruleset's experiments.
    pub fn experiments(&self) -> &ExposureTable {
        &self.exposures
    }

    /// The ruleset's version as `client` credentials see it (`true`), or
    /// as services do: client credentials learn nothing of server flags,
    /// not even that they changed (docs/security.md).
    pub fn version_for(&self, client: bool) -> &str {
        if client {
            &self.client_version
        } else {
            self.ruleset.version()
        }
    }
}

impl Served {
    /// How to evaluate against this ruleset now: the current time and the
    /// rollouts' live positions.
    #[inline]
    pub fn eval_env(&self) -> EvalEnv<'_, PositionTable> {
        EvalEnv {
            now: Timestamp::now(),
            rollouts: &self.positions,
        }
    }
}

fn reason_index(r: Reason) -> usize {
    Reason::ALL.iter().position(|x| *x == r).unwrap_or(0)
}

/// Counters by (flag key, variant name), kept across swaps.
type CounterMap = HashMap<(Box<str>, Box<str>), Arc<ReasonCounts>>;

/// Counts of one (flag, variant) by reason, in [`Reason::ALL`] order.
#[derive(Debug, Default)]
pub struct ReasonCounts([AtomicU64; 6]);

/// Why a load failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadFailure {
    /// One line for logs and status.
    pub message: String,
    /// The findings, rendered (`file:line:col: error: …`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<String>,
    /// When it happened.
    pub at: String,
    /// Set when a bundle was refused for its signature: which kind of
    /// failure (counted in `flagd_bundle_signature_failures_total`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_failure: Option<SignatureFailure>,
}

impl LoadFailure {
    /// A failure described in one line.
    pub fn new(message: impl Into<String>) -> Self {
        LoadFailure {
            message: message.into(),
            diagnostics: Vec::new(),
            at: Timestamp::now().to_string(),
            signature_failure: None,
        }
    }

    /// A bundle refused for its signature.
    pub fn signature(message: impl Into<String>, failure: SignatureFailure) -> Self {
        LoadFailure {
            signature_failure: Some(failure),
            ..LoadFailure::new(message)
        }
    }

    /// A failure of validation, with its findings.
    pub fn invalid(message: impl Into<String>, diagnostics: &[Diagnostic]) -> Self {
        LoadFailure {
            diagnostics: diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(ToString::to_string)
                .collect(),
            ..LoadFailure::new(message)
        }
    }
}

/// The load status shown on `GET /api/v1/ruleset`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The environment served.
    pub env: String,
    /// When this flagd started: its evaluation counts count from then
    /// (`flagctl stale --daemon`, docs/lifecycle.md).
    pub started_at: Option<Timestamp>,
    /// The version in service, if any.
    pub version: Option<String>,
    /// Where it came from.
    pub source: Option<String>,
    /// When it was installed.
    pub loaded_at: Option<String>,
    /// The latest load's failure, until a load succeeds again.
    pub last_error: Option<LoadFailure>,
    /// Set while serving the state directory's copy because the source
    /// could not be read: why.
    pub offline: Option<String>,
    /// Successful loads.
    pub reloads_ok: u64,
    /// Failed loads.
    pub reloads_failed: u64,
    /// Checks that found the source unchanged.
    pub checks_unchanged: u64,
    /// Checks answered 304 Not Modified (bundle URLs).
    pub checks_not_modified: u64,
    /// Flag files parsed by loads (directory and git sources).
    pub files_parsed: u64,
    /// Flag files whose bytes had not changed since the load before, so
    /// their reading was reused rather than parsed again.
    pub files_reused: u64,
    /// Whole-environment compiles (a check that finds every file unchanged
    /// runs none).
    pub compiles: u64,
    /// Bundles refused for their signature, by kind (only with
    /// `--bundle-public-key`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub signature_failures: BTreeMap<SignatureFailure, u64>,
}

/// The served ruleset and its status.
#[derive(Debug, Default)]
pub struct Live {
    served: ArcSwapOption<Served>,
    status: Mutex<Status>,
    counters: Mutex<CounterMap>,
    exposures: ExposureRegistry,
    positions: Mutex<Option<Arc<dyn Positions>>>,
    /// Serializes installs with position updates (see the module docs).
    install_lock: Mutex<()>,
    installed: tokio::sync::Notify,
    changes: ChangeFeed,
}

/// The latest change of what is served: generations counted up from 0 at
/// start, and when the latest change happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Counts changes since flagd started.
    pub generation: u64,
    /// Counts the changes a client credential can observe: of `clientSide`
    /// flags (their definitions, their rollout positions) and of segments.
    /// Client streams follow this one, so they learn nothing of server
    /// flags, not even when those change.
    pub client_generation: u64,
    /// When the latest happened.
    pub at: Timestamp,
    /// When the latest change a client can observe happened.
    pub client_at: Timestamp,
}

impl Change {
    /// The generation and time of the latest change `client` credentials
    /// (`true`) or services can observe.
    pub fn seen_by(&self, client: bool) -> (u64, Timestamp) {
        if client {
            (self.client_generation, self.client_at)
        } else {
            (self.generation, self.at)
        }
    }
}

/// Where [`Change`] marks are published; watchers see the latest one.
#[derive(Debug)]
struct ChangeFeed {
    sender: tokio::sync::watch::Sender<Change>,
    /// The client-visible part of the ruleset in service, hashed.
    client_fingerprint: Mutex<u64>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        let now = Timestamp::now();
        let (sender, _) = tokio::sync::watch::channel(Change {
            generation: 0,
            client_generation: 0,
            at: now,
            client_at: now,
        });
        ChangeFeed {
            sender,
            client_fingerprint: Mutex::new(0),
        }
    }
}

impl ChangeFeed {
    fn advance(&self, client_visible: bool) {
        self.sender.send_modify(|change| {
            change.generation += 1;
            change.at = Timestamp::now();
            if client_visible {
                change.client_generation += 1;
                change.client_at = change.at;
            }
        });
    }

    /// A new ruleset, whose [`client_fingerprint`] is `fingerprint`: a
    /// change for clients only when its client-visible part differs from
    /// the last one's.
    fn installed(&self, fingerprint: u64) {
        let mut last = self
            .client_fingerprint
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let client_visible = *last != fingerprint;
        *last = fingerprint;
        drop(last);
        self.advance(client_visible);
    }
}

/// A hash of what client credentials can observe of `ruleset`: the
/// definitions of its `clientSide` flags and every segment (segments may
/// decide a client flag's answer).
fn client_fingerprint(ruleset: &Ruleset) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for flag in ruleset.flags().iter().filter(|f| f.client_side) {
        // Keys and definitions each end in a byte JSON text cannot hold.
        for part in [&*flag.key, &*flag.definition] {
            hasher.update(part.as_bytes());
            hasher.update(&[0xff]);
        }
    }
    hasher.update(ruleset.segment_definitions().as_bytes());
    // 0 is the "nothing installed yet" mark: a first ruleset with client
    // flags is a change for clients.
    hasher.digest().max(1)
}

impl Live {
    /// Nothing served yet, for environment `env`.
    pub fn new(env: impl Into<String>) -> Self {
        let live = Live::default();
        let mut status = live.lock_status();
        status.env = env.into();
        status.started_at = Some(Timestamp::now());
        drop(status);
        live
    }

    /// The ruleset in service, if any (one atomic load).
    #[inline]
    pub fn current(&self) -> Option<Arc<Served>> {
        self.served.load_full()
    }

    /// A copy of the status.
    pub fn status(&self) -> Status {
        self.lock_status().clone()
    }

    /// Puts a ruleset in service. `offline` says why it is a stored copy
    /// rather than the source's (or `None`).
    pub fn install(&self, ruleset: Ruleset, offline: Option<String>) -> Arc<Served> {
        let ruleset = Arc::new(ruleset);
        let fingerprint = client_fingerprint(&ruleset);
        let guard = self.install_lock.lock().unwrap_or_else(|e| e.into_inner());
        let loaded_at = Timestamp::now();
        let served = Arc::new(Served {
            client_version: format!("client:{fingerprint:016x}").into(),
            counters: self.bind_counters(&ruleset),
            positions: self.initial_positions(&ruleset),
            exposures: self.exposures.bind(&ruleset, loaded_at),
            ruleset: ruleset.clone(),
            loaded_at,
        });
        let replaced = self.served.swap(Some(served.clone()));
        drop(guard);
        if let Some(old) = replaced {
            // Freed on the dropper thread, whichever is let go of last.
            let ruleset = old.ruleset.clone();
            background::retire(old);
            background::retire(ruleset);
        }
        self.installed.notify_one();
        self.changes.installed(fingerprint);
        let mut status = self.lock_status();
        status.version = Some(ruleset.version().to_owned());
        status.source = Some(ruleset.meta().source.clone());
        status.loaded_at = Some(served.loaded_at.to_string());
        status.offline = offline;
        if status.offline.is_none() {
            status.last_error = None;
        }
        status.reloads_ok += 1;
        served
    }

    /// Lets `provider` (the rollout controller) supply positions for every
    /// ruleset installed from now on.
    pub fn set_positions(&self, provider: Arc<dyn Positions>) {
        *self.positions.lock().unwrap_or_else(|e| e.into_inner()) = Some(provider);
    }

    /// Moves `flag`'s rollout in the ruleset in service, if that ruleset
    /// still has the same rollout spec.
    pub fn set_position(&self, flag: &str, spec_hash: &str, position: RolloutPosition) {
        let _guard = self.install_lock.lock().unwrap_or_else(|e| e.into_inner());
        let Some(served) = self.served.load_full() else {
            return;
        };
        let Some(id) = served.ruleset.flag_id(flag) else {
            return;
        };
        let same_spec = served
            .ruleset
            .flag(id)
            .rollout
            .as_ref()
            .is_some_and(|r| r.spec_hash == spec_hash);
        if same_spec
            && let Some(cell) = served.positions.0.get(id as usize)
            && cell.load() != position
        {
            cell.store(position);
            self.changes.advance(served.ruleset.flag(id).client_side);
        }
    }

    /// Watches the changes of what is served, from the latest one on.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<Change> {
        self.changes.sender.subscribe()
    }

    /// Completes after the next install (for the rollout controller).
    pub async fn installed(&self) {
        self.installed.notified().await;
    }

    fn initial_positions(&self, ruleset: &Ruleset) -> PositionTable {
        let provider = self
            .positions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        PositionTable(
            ruleset
                .flags()
                .iter()
                .map(|flag| {
                    let cell = PositionCell::default();
                    if let Some(rollout) = &flag.rollout {
                        let position = provider
                            .as_ref()
                            .and_then(|p| p.position(&flag.key, rollout))
                            .unwrap_or_else(|| initial_position(rollout));
                        cell.store(position);
                    }
                    cell
                })
                .collect(),
        )
    }

    /// Records a failed load; what is in service stays.
    pub fn fail(&self, failure: LoadFailure) {
        let mut status = self.lock_status();
        if let Some(kind) = failure.signature_failure {
            *status.signature_failures.entry(kind).or_default() += 1;
        }
        status.last_error = Some(failure);
        status.reloads_failed += 1;
    }

    /// Records a check that found nothing new.
    pub fn note_unchanged(&self) {
        self.lock_status().checks_unchanged += 1;
    }

    /// Records what a load did: files parsed and reused, compiles.
    pub fn note_work(&self, work: Work) {
        let mut status = self.lock_status();
        status.files_parsed += work.parsed;
        status.files_reused += work.reused;
        status.compiles += work.compiles;
    }

    /// Records a check answered 304 Not Modified.
    pub fn note_not_modified(&self) {
        self.lock_status().checks_not_modified += 1;
    }

    /// Evaluation counts: (flag, variant, counts by reason in [`Reason::ALL`] order).
    pub fn evaluation_counts(&self) -> Vec<(String, String, [u64; 6])> {
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<_> = counters
            .iter()
            .map(|((flag, variant), c)| {
                let counts = std::array::from_fn(|i| c.0[i].load(Ordering::Relaxed));
                (flag.to_string(), variant.to_string(), counts)
            })
            .collect();
        out.sort();
        out
    }

    /// Exposure counts of the experiments in service: (flag, variant, count).
    pub fn exposure_counts(&self) -> Vec<(String, String, u64)> {
        let Some(served) = self.current() else {
            return Vec::new();
        };
        served
            .experiments()
            .iter()
            .flat_map(|set| {
                let flag = &set.spec().flag;
                set.counts()
                    .into_iter()
                    .map(move |(variant, n)| (flag.clone(), variant.to_owned(), n))
            })
            .collect()
    }

    fn bind_counters(&self, ruleset: &Ruleset) -> Box<[Box<[Arc<ReasonCounts>]>]> {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        ruleset
            .flags()
            .iter()
            .map(|flag| {
                flag.variants
                    .iter()
                    .map(|v| {
                        counters
                            .entry((flag.key.clone(), v.name.clone()))
                            .or_default()
                            .clone()
                    })
                    .collect()
            })
            .collect()
    }

    fn lock_status(&self) -> MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What loads did, counted for `/api/v1/ruleset` and the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Files parsed.
    pub parsed: u64,
    /// Files whose bytes were unchanged, their reading reused.
    pub reused: u64,
    /// Whole-environment compiles.
    pub compiles: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotswap_flags_core::Context;
    use hotswap_flags_core::eval::EvalEnv;

    fn ruleset(default: &str, version: &str) -> Ruleset {
        let text = format!(
            "flags:\n  x: {{type: string, variants: {{a: A, b: B}}, default: {default}}}\n"
        );
        hotswap_flags_core::testing::compile_yaml_as(&text, "e", version)
    }

    #[test]
    fn counts_survive_swaps_and_failures_keep_the_ruleset() {
        let live = Live::new("e");
        assert!(live.current().is_none());
        let served = live.install(ruleset("a", "v1"), None);
        let ev = served
            .ruleset
            .evaluate("x", &Context::new(), &EvalEnv::now())
            .unwrap();
        served.count(&ev);
        served.count(&ev);
        live.fail(LoadFailure::new("broken"));
        assert_eq!(live.current().unwrap().ruleset.version(), "v1");
        assert_eq!(live.status().last_error.unwrap().message, "broken");

        let served2 = live.install(ruleset("b", "v2"), None);
        let ev = served2
            .ruleset
            .evaluate("x", &Context::new(), &EvalEnv::now())
            .unwrap();
        served2.count(&ev);
        // An evaluation still running on the old ruleset counts too.
        served.count(
            &served
                .ruleset
                .evaluate("x", &Context::new(), &EvalEnv::now())
                .unwrap(),
        );
        let counts = live.evaluation_counts();
        let static_ix = reason_index(Reason::Static);
        assert_eq!(counts[0].0, "x");
        assert_eq!((counts[0].1.as_str(), counts[0].2[static_ix]), ("a", 3));
        assert_eq!((counts[1].1.as_str(), counts[1].2[static_ix]), ("b", 1));
        let status = live.status();
        assert_eq!(status.version.as_deref(), Some("v2"));
        assert!(status.last_error.is_none());
        assert_eq!((status.reloads_ok, status.reloads_failed), (2, 1));
    }

    #[test]
    fn a_replaced_ruleset_is_freed_once_its_last_request_ends() {
        let live = Live::new("e");
        // A request still evaluating against the first ruleset.
        let request = live.install(ruleset("a", "v1"), None);
        let old = Arc::downgrade(&request.ruleset);
        live.install(ruleset("b", "v2"), None);
        let ev = request
            .ruleset
            .evaluate("x", &Context::new(), &EvalEnv::now())
            .unwrap();
        assert_eq!(ev.variant_name(), "a", "still served to that request");
        drop(request);
        // The dropper thread frees it (crate::background's tests
        // show on which thread); here: that it is freed at all.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while old.strong_count() > 0 {
            assert!(std::time::Instant::now() < deadline, "never freed");
            std::thread::yield_now();
        }
        assert_eq!(live.current().unwrap().ruleset.version(), "v2");
    }
}
