//! A bundle: a local file (watched) or an HTTP(S) URL (polled with
//! `If-None-Match`, so an unchanged bundle costs a 304).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_NONE_MATCH};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tracing::info;

use super::Poll;
use crate::background;
use crate::live::LoadFailure;
use hotswap_flags_core::bundle::signing::TrustedKeys;
use hotswap_flags_core::bundle::{Bundle, Verified};

/// How long one bundle download may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

enum Location {
    File(PathBuf),
    Url(String),
}

/// A bundle to follow.
pub struct BundleFeed {
    location: Location,
    pub(super) env: String,
    client: Option<reqwest::Client>,
    etag: Option<String>,
    last_hash: Option<Vec<u8>>,
    changed: Arc<Notify>,
    _watcher: Option<RecommendedWatcher>,
    trusted: Option<Arc<TrustedKeys>>,
}

impl BundleFeed {
    /// A bundle at a path or an `http(s)://` URL.
    pub fn new(location: &str, env: &str) -> Result<Self, super::FeedError> {
        let changed = Arc::new(Notify::new());
        let (location, client, watcher) =
            if location.starts_with("http://") || location.starts_with("https://") {
                (
                    Location::Url(location.to_owned()),
                    Some(hotswap_flags_client::http::client()?),
                    None,
                )
            } else {
                let path = PathBuf::from(location);
                let watcher = watch_parent(&path, changed.clone());
                (Location::File(path), None, watcher)
            };
        Ok(BundleFeed {
            location,
            env: env.to_owned(),
            client,
            etag: None,
            last_hash: None,
            changed,
            _watcher: watcher,
            trusted: None,
        })
    }

    /// From now on, accept only bundles signed by one of `keys`.
    pub fn require_signatures(&mut self, keys: Arc<TrustedKeys>) {
        self.trusted = Some(keys);
    }

    /// The keys bundles must be signed with, if any.
    pub fn trusted_keys(&self) -> Option<Arc<TrustedKeys>> {
        self.trusted.clone()
    }

    pub(super) async fn check(&mut self) -> Poll {
        let (bytes, describe) = match &self.location {
            Location::File(path) => match tokio::fs::read(path).await {
                Ok(b) => (b, format!("bundle:{}", path.display())),
                Err(e) => {
                    return Poll::Failed(LoadFailure::new(format!("{}: {e}", path.display())));
                }
            },
            Location::Url(url) => match download(self.client.as_ref(), &mut self.etag, url).await {
                Ok(Some(b)) => (b, format!("bundle:{url}")),
                Ok(None) => return Poll::NotModified,
                Err(msg) => return Poll::Failed(LoadFailure::new(msg)),
            },
        };
        let hash = Sha256::digest(&bytes).to_vec();
        if self.last_hash.as_ref() == Some(&hash) {
            return Poll::Unchanged;
        }
        self.last_hash = Some(hash);
        let (trusted, env, label) = (self.trusted.clone(), self.env.clone(), describe.clone());
        let verified = background::run_low("flagd-load", move || {
            Bundle::verify(&bytes, trusted.as_deref(), Some(&env), &label)
        })
        .await;
        let verified = match verified {
            Ok(v) => v,
            Err(e) => return Poll::Failed(LoadFailure::new(format!("{describe}: {e}"))),
        };
        match verified {
            Ok(Verified { bundle, ruleset }) => {
                if let Some(signature) =
                    bundle.signature.as_ref().filter(|_| self.trusted.is_some())
                {
                    info!(key = %signature.key_id, version = %bundle.version, "bundle signature verified");
                }
                Poll::Loaded(Box::new(ruleset), Some(Box::new(bundle)))
            }
            Err(e) => {
                let message = format!("{describe}: {e}");
                Poll::Failed(match e.signature_failure() {
                    Some(kind) => LoadFailure::signature(message, kind),
                    None => LoadFailure::new(message),
                })
            }
        }
    }

    pub(super) async fn wait(&mut self, poll: Duration, refresh: &Notify) {
        tokio::select! {
            _ = self.changed.notified() => {
                // Let a writer finish (a rename is instant; a slow copy is not).
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            _ = tokio::time::sleep(poll) => {}
            _ = refresh.notified() => {}
        }
    }
}

/// Downloads the bundle; `Ok(None)` when the server says it is unchanged.
async fn download(
    client: Option<&reqwest::Client>,
    etag: &mut Option<String>,
    url: &str,
) -> Result<Option<Vec<u8>>, String> {
    let client = client.ok_or("no HTTP client")?;
    let mut request = client.get(url).timeout(FETCH_TIMEOUT);
    if let Some(tag) = etag.as_deref() {
        request = request.header(IF_NONE_MATCH, tag);
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    match response.status() {
        StatusCode::NOT_MODIFIED => return Ok(None),
        s if !s.is_success() => return Err(format!("GET {url}: HTTP {s}")),
        _ => {}
    }
    *etag = response
        .headers()
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    Ok(Some(body.to_vec()))
}

/// Watches the bundle's directory, so replacing the file by rename is seen.
fn watch_parent(path: &std::path::Path, changed: Arc<Notify>) -> Option<RecommendedWatcher> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path.file_name()?.to_owned();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res
            && super::is_change(&event)
            && event
                .paths
                .iter()
                .any(|p| p.file_name() == Some(name.as_os_str()))
        {
            changed.notify_one();
        }
    })
    .ok()?;
    watcher.watch(dir, RecursiveMode::NonRecursive).ok()?;
    Some(watcher)
}
