//! A working tree on disk, watched with `notify`.
//!
//! Events are debounced (editors write several times per save) and only
//! trigger a load; whether anything changed is decided by content, so atomic
//! saves by rename, deleted and recreated files and Kubernetes ConfigMap
//! symlink swaps all end in one reload. The poll interval is a safety net
//! for events a filesystem does not deliver.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::Notify;
use tokio::time::{Instant, timeout};
use tracing::warn;

use super::{Poll, Work, is_change, load_snapshot, load_with_cache};
use hotswap_flags_gitops::repo::load::ReadCache;
use hotswap_flags_gitops::repo::snapshot::DirSnapshot;

/// Quiet time after the last event before loading.
const QUIET: Duration = Duration::from_millis(20);
/// Longest a burst of events may delay a load.
const MAX_DELAY: Duration = Duration::from_millis(200);

/// A repository directory.
pub struct DirFeed {
    root: PathBuf,
    pub(super) env: String,
    changed: Arc<Notify>,
    watcher: Option<RecommendedWatcher>,
    watched_inode: Option<u64>,
    last_fingerprint: Option<String>,
    /// The readings of the last load's files (taken by the load thread
    /// while it runs).
    cache: Option<ReadCache>,
    pub(super) work: Work,
}

impl DirFeed {
    /// Watches `root` for environment `env`.
    pub fn new(root: PathBuf, env: &str) -> Self {
        let mut source = DirFeed {
            root,
            env: env.to_owned(),
            changed: Arc::new(Notify::new()),
            watcher: None,
            watched_inode: None,
            last_fingerprint: None,
            cache: Some(ReadCache::default()),
            work: Work::default(),
        };
        source.rewatch();
        source
    }

    /// (Re)creates the watcher when the root is new (first time, or the
    /// directory was replaced, which silently ends an inotify watch).
    fn rewatch(&mut self) {
        let inode = inode(&self.root);
        if self.watcher.is_some() && inode == self.watched_inode {
            return;
        }
        let changed = self.changed.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if res.is_ok_and(|e| is_change(&e)) {
                changed.notify_one();
            }
        })
        .and_then(|mut w| w.watch(&self.root, RecursiveMode::Recursive).map(|()| w));
        match watcher {
            Ok(w) => {
                self.watcher = Some(w);
                self.watched_inode = inode;
            }
            Err(e) => {
                warn!(dir = %self.root.display(), error = %e, "cannot watch; relying on polling");
                self.watcher = None;
            }
        }
    }

    pub(super) async fn check(&mut self) -> Poll {
        self.rewatch();
        let root = self.root.clone();
        let env = self.env.clone();
        let last = self.last_fingerprint.clone();
        let loaded = load_with_cache(&mut self.cache, &mut self.work, move |cache| {
            load_snapshot(
                Box::new(DirSnapshot::new(&root)),
                &env,
                last.as_deref(),
                cache,
            )
        })
        .await;
        let mut attempt = match loaded {
            Ok(attempt) => attempt,
            Err(f) => return Poll::Failed(f),
        };
        if attempt.result.is_some() {
            self.last_fingerprint = attempt.fingerprint.take();
        }
        attempt.into_poll()
    }

    pub(super) async fn wait(&mut self, poll: Duration, refresh: &Notify) {
        tokio::select! {
            _ = self.changed.notified() => {
                // Debounce: wait for a quiet moment, but not forever.
                let deadline = Instant::now() + MAX_DELAY;
                while Instant::now() < deadline {
                    if timeout(QUIET, self.changed.notified()).await.is_err() {
                        break;
                    }
                }
            }
            _ = tokio::time::sleep(poll) => {}
            _ = refresh.notified() => {}
        }
    }
}

#[cfg(unix)]
fn inode(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.ino())
}

#[cfg(not(unix))]
fn inode(path: &std::path::Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|_| 0)
}
