//! Feeds turn a source (a directory, a git remote, a bundle) into loads of
//! the served ruleset, off the request path.
//!
//! One driver runs every source the same way: check, install what is new and
//! valid, record what failed (the last good ruleset stays), keep a copy of
//! the last good ruleset in the state directory, and wait — for a file
//! event, the poll interval, a refresh request, or a backoff after failure.
//! If the very first load fails, the stored copy is served so a restart while
//! the source is unreachable does not take flags away.

mod bundle;
mod dir;
mod git;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::background;
use crate::live::{Live, LoadFailure, Work};
use hotswap_flags_core::bundle::Bundle;
use hotswap_flags_core::bundle::signing::TrustedKeys;
use hotswap_flags_core::ruleset::Ruleset;
use hotswap_flags_gitops::fsutil::write_atomic;
use hotswap_flags_gitops::repo::load::ReadCache;
use hotswap_flags_gitops::repo::snapshot::Snapshot;
use hotswap_flags_gitops::repo::{CONFIG_FILE, RepoError, Repository};

pub use bundle::BundleFeed;
pub use dir::DirFeed;
pub use git::GitFeed;

/// The stored copy of the last good ruleset, inside the state directory.
pub const LAST_GOOD_FILE: &str = "last-good.json";

/// The first retry after a failure; doubles up to the poll interval.
const MIN_BACKOFF: Duration = Duration::from_millis(500);

/// Where flagd reads an environment from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedSpec {
    /// A working tree on disk, watched.
    Dir(PathBuf),
    /// A git remote (URL or local path), fetched every poll.
    Git {
        /// The remote.
        url: String,
        /// Branch, tag or commit (default: the remote's HEAD).
        reference: Option<String>,
        /// Where `flags.toml` sits in the git repository, `/`-separated
        /// (empty: at the root), so flags can live in a monorepo.
        path: String,
    },
    /// A bundle file (watched) or URL (polled with ETag).
    Bundle(String),
}

/// As flagd's startup line names it: `git <url>@<ref>[:<path>]`, `dir <path>`,
/// `bundle <location>`.
impl std::fmt::Display for FeedSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeedSpec::Dir(path) => write!(f, "dir {}", path.display()),
            FeedSpec::Git {
                url,
                reference,
                path,
            } => {
                write!(f, "git {url}@{}", reference.as_deref().unwrap_or("HEAD"))?;
                if !path.is_empty() {
                    write!(f, ":{path}")?;
                }
                Ok(())
            }
            FeedSpec::Bundle(location) => write!(f, "bundle {location}"),
        }
    }
}

/// Why a feed cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// A bundle URL needs an HTTP client, and none could be built.
    #[error(transparent)]
    HttpClient(#[from] hotswap_flags_client::http::ClientError),
    /// Signature keys were given for a source that has no signatures.
    #[error(
        "bundle signature keys apply to bundle sources only (--bundle); a directory or git source has no signatures to check"
    )]
    SignaturesNeedBundle,
}

/// The result of one check of a source.
#[derive(Debug)]
pub enum Poll {
    /// Nothing changed since the last check.
    Unchanged,
    /// The server said 304 Not Modified.
    NotModified,
    /// A new, valid ruleset, and the bundle it was read from (bundle
    /// sources): that bundle is then stored as the last good copy as it
    /// is, so its signature can be checked again on an offline start.
    Loaded(Box<Ruleset>, Option<Box<Bundle>>),
    /// The source could not be read or does not validate.
    Failed(LoadFailure),
}

/// A source being fed: dispatches to its kind.
pub enum Feed {
    /// See [`DirFeed`].
    Dir(DirFeed),
    /// See [`GitFeed`].
    Git(GitFeed),
    /// See [`BundleFeed`].
    Bundle(BundleFeed),
}

impl Feed {
    /// Prepares a source for environment `env`.
    pub fn new(spec: &FeedSpec, env: &str, state_dir: &Path) -> Result<Self, FeedError> {
        Ok(match spec {
            FeedSpec::Dir(path) => Feed::Dir(DirFeed::new(path.clone(), env)),
            FeedSpec::Git {
                url,
                reference,
                path,
            } => Feed::Git(GitFeed::new(
                url.clone(),
                reference.clone(),
                path.clone(),
                env,
                state_dir,
            )),
            FeedSpec::Bundle(location) => Feed::Bundle(BundleFeed::new(location, env)?),
        })
    }

    /// Accepts only bundles signed by one of `keys` (see
    /// [`hotswap_flags_core::bundle::signing`]). Only bundle sources carry signatures; for the
    /// others this is an error rather than a setting that silently does
    /// nothing.
    pub fn require_signatures(&mut self, keys: Arc<TrustedKeys>) -> Result<(), FeedError> {
        match self {
            Feed::Bundle(s) => {
                s.require_signatures(keys);
                Ok(())
            }
            Feed::Dir(_) | Feed::Git(_) => Err(FeedError::SignaturesNeedBundle),
        }
    }

    /// The environment it serves.
    pub fn env(&self) -> &str {
        match self {
            Feed::Dir(s) => &s.env,
            Feed::Git(s) => &s.env,
            Feed::Bundle(s) => &s.env,
        }
    }

    /// The keys bundles must be signed with, if any.
    pub fn trusted_keys(&self) -> Option<Arc<TrustedKeys>> {
        match self {
            Feed::Bundle(s) => s.trusted_keys(),
            Feed::Dir(_) | Feed::Git(_) => None,
        }
    }

    /// What the last check did (directory and git sources).
    fn take_work(&mut self) -> Work {
        match self {
            Feed::Dir(s) => std::mem::take(&mut s.work),
            Feed::Git(s) => std::mem::take(&mut s.work),
            Feed::Bundle(_) => Work::default(),
        }
    }

    async fn check(&mut self) -> Poll {
        match self {
            Feed::Dir(s) => s.check().await,
            Feed::Git(s) => s.check().await,
            Feed::Bundle(s) => s.check().await,
        }
    }

    /// Waits until the next check is due: a change, the poll interval or a
    /// refresh request.
    async fn wait(&mut self, poll: Duration, refresh: &Notify) {
        match self {
            Feed::Dir(s) => s.wait(poll, refresh).await,
            Feed::Bundle(s) => s.wait(poll, refresh).await,
            Feed::Git(_) => {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = refresh.notified() => {}
                }
            }
        }
    }
}

/// Whether a filesystem event can mean changed content. Reads (our own
/// loads among them) produce access events, which must not trigger loads.
pub(crate) fn is_change(event: &notify::Event) -> bool {
    use notify::EventKind;
    use notify::event::{AccessKind, AccessMode};
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Runs a source forever, installing what it yields into `live`.
pub async fn run(
    mut source: Feed,
    live: Arc<Live>,
    poll: Duration,
    state_dir: PathBuf,
    refresh: Arc<Notify>,
) {
    let mut backoff = MIN_BACKOFF;
    let mut first = true;
    loop {
        let checked = source.check().await;
        live.note_work(source.take_work());
        let failed = match checked {
            Poll::Loaded(ruleset, bundle) => {
                info!(version = ruleset.version(), source = %ruleset.meta().source, "ruleset loaded");
                let (live, path) = (live.clone(), state_dir.join(LAST_GOOD_FILE));
                let installed = background::run_low("flagd-install", move || {
                    let served = live.install(*ruleset, None);
                    let stored = match bundle {
                        Some(bundle) => *bundle,
                        None => {
                            Bundle::of_ruleset(&served.ruleset).map_err(std::io::Error::other)?
                        }
                    };
                    let written = write_atomic(&path, &stored.to_bytes());
                    drop(stored);
                    background::release_free_memory();
                    written
                })
                .await;
                if let Ok(Err(e)) | Err(e) = installed.map_err(std::io::Error::other) {
                    warn!(error = %e, "could not store the last good ruleset");
                }
                false
            }
            Poll::Unchanged => {
                live.note_unchanged();
                false
            }
            Poll::NotModified => {
                live.note_not_modified();
                false
            }
            Poll::Failed(failure) => {
                if live.current().is_some() {
                    warn!(error = %failure.message, diagnostics = ?failure.diagnostics, "load failed; keeping the ruleset in service");
                } else {
                    warn!(error = %failure.message, diagnostics = ?failure.diagnostics, "load failed; nothing to serve yet (evaluations answer 503)");
                }
                let reason = failure.message.clone();
                live.fail(failure);
                if first && live.current().is_none() {
                    let trusted = source.trusted_keys();
                    serve_last_good(&live, &state_dir, &reason, source.env(), trusted).await;
                }
                true
            }
        };
        first = false;
        if failed {
            tokio::select! {
                _ = tokio::time::sleep(backoff.min(poll)) => {}
                _ = refresh.notified() => {}
            }
            backoff = (backoff * 2).min(poll);
        } else {
            backoff = MIN_BACKOFF;
            source.wait(poll, &refresh).await;
        }
    }
}

/// Runs `load` on the load thread (`background::run_low`) with the feed's
/// read cache, puts the cache back and records what the load did in
/// `work`. A load's memory is handed back on the load thread: polls and
/// swaps of a large repository would otherwise leave the process at a
/// load's peak.
pub(crate) async fn load_with_cache(
    cache: &mut Option<ReadCache>,
    work: &mut Work,
    load: impl FnOnce(&mut ReadCache) -> Attempt + Send + 'static,
) -> Result<Attempt, LoadFailure> {
    let mut taken = cache.take().unwrap_or_default();
    let loaded = background::run_low("flagd-load", move || {
        let attempt = load(&mut taken);
        if attempt.result.is_some() {
            background::release_free_memory();
        }
        (attempt, taken)
    })
    .await;
    let (attempt, taken) =
        loaded.map_err(|e| LoadFailure::new(format!("load task failed: {e}")))?;
    *cache = Some(taken);
    *work = attempt.work;
    Ok(attempt)
}

/// One attempt to load a repository snapshot.
pub(crate) struct Attempt {
    /// What was read (`flags.toml` and the environment's files), so an
    /// unchanged source is not reloaded; `None` if it could not be read.
    pub fingerprint: Option<String>,
    /// The ruleset, or why there is none; `None` when the fingerprint was
    /// the last load's, so nothing was parsed or compiled.
    pub result: Option<Result<Ruleset, LoadFailure>>,
    /// What the attempt did.
    pub work: Work,
}

impl Attempt {
    /// What a check that made this attempt found.
    fn into_poll(self) -> Poll {
        match self.result {
            Some(Ok(ruleset)) => Poll::Loaded(Box::new(ruleset), None),
            Some(Err(f)) => Poll::Failed(f),
            None => Poll::Unchanged,
        }
    }
}

/// Compiles one environment from a snapshot of repository files, unless
/// its fingerprint is `last` (then nothing is parsed: docs/flagd.md,
/// "Sources"). `cache` holds the readings of the files of earlier loads.
pub(crate) fn load_snapshot(
    snapshot: Box<dyn Snapshot>,
    env: &str,
    last: Option<&str>,
    cache: &mut ReadCache,
) -> Attempt {
    let fail = |fingerprint: Option<String>, failure: LoadFailure| Attempt {
        result: Some(Err(failure)),
        fingerprint,
        work: Work::default(),
    };
    // An invalid `flags.toml` opens no repository, so it gets a fingerprint
    // of its own: an unchanged invalid file is then not reloaded (and its
    // failure not logged) at every poll.
    let config_fingerprint = match snapshot.read(CONFIG_FILE) {
        Ok(bytes) => hex::encode(Sha256::digest(bytes.as_deref().unwrap_or(b"\0missing"))),
        Err(e) => return fail(None, LoadFailure::new(e.to_string())),
    };
    let repo = match Repository::from_snapshot(snapshot) {
        Ok(repo) => repo,
        Err(RepoError::InvalidConfig(d)) => {
            if last == Some(config_fingerprint.as_str()) {
                return Attempt {
                    fingerprint: Some(config_fingerprint),
                    result: None,
                    work: Work::default(),
                };
            }
            let failure = LoadFailure::invalid(format!("{CONFIG_FILE} is invalid"), &d);
            return fail(Some(config_fingerprint), failure);
        }
        Err(other) => return fail(None, LoadFailure::new(other.to_string())),
    };
    let files = match repo.read_env(env) {
        Ok(files) => files,
        Err(e) => return fail(None, LoadFailure::new(e.to_string())),
    };
    let fingerprint = repo.fingerprint(&files);
    if last == Some(fingerprint.as_str()) {
        return Attempt {
            fingerprint: Some(fingerprint),
            result: None,
            work: Work::default(),
        };
    }
    let checked = repo.check_files(env, files, Some(cache));
    let work = Work {
        parsed: checked.loaded.parsed_files as u64,
        reused: checked.loaded.reused_files as u64,
        compiles: 1,
    };
    let errors = checked.errors().count();
    let result = checked.ruleset.ok_or_else(|| {
        LoadFailure::invalid(
            format!(
                "environment `{env}` does not validate ({errors} error{})",
                if errors == 1 { "" } else { "s" }
            ),
            &checked.diagnostics,
        )
    });
    Attempt {
        fingerprint: Some(checked.fingerprint),
        result: Some(result),
        work,
    }
}

/// Serves the stored last good ruleset if it is of environment `env` (a
/// state directory reused with another `--env` must not serve the other
/// environment's flags). With `trusted` keys the stored copy must be signed
/// by one of them too: the state directory is no more trusted than the
/// bundle source.
async fn serve_last_good(
    live: &Live,
    state_dir: &Path,
    reason: &str,
    env: &str,
    trusted: Option<Arc<TrustedKeys>>,
) {
    let path = state_dir.join(LAST_GOOD_FILE);
    let env = env.to_owned();
    let loaded = tokio::task::spawn_blocking(move || -> Result<Ruleset, String> {
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let source = format!("state:{}", path.display());
        Bundle::verify(&bytes, trusted.as_deref(), Some(&env), &source)
            .map(|verified| verified.ruleset)
            .map_err(|e| format!("{}: {e}", path.display()))
    })
    .await;
    match loaded {
        Ok(Ok(ruleset)) => {
            warn!(
                version = ruleset.version(),
                "source unavailable; serving the last good ruleset from the state directory"
            );
            live.install(
                ruleset,
                Some(format!("serving the stored last good ruleset: {reason}")),
            );
        }
        Ok(Err(e)) => info!(error = %e, "no usable stored ruleset"),
        Err(e) => warn!(error = %e, "reading the stored ruleset failed"),
    }
}
