//! `POST /api/v1/ruleset/refresh`: check the source now instead of at the
//! next poll.
//!
//! Git hosts call it as a push webhook, so a merged pull request is served
//! within a second while the poll interval stays long (polling a remote every
//! second from every flagd would be wasteful). GitHub and Gitea sign the raw
//! body with HMAC-SHA256 under a shared secret (`--webhook-secret-file`):
//! `X-Hub-Signature-256: sha256=<hex>` (both send it) or Gitea's
//! `X-Gitea-Signature: <hex>`. The signature is checked in constant time
//! over the exact bytes received, before the body is looked at.
//!
//! Who may call it:
//!
//! - a request with a signature header must carry a valid signature — and
//!   flagd must have a secret to check it with — else 401;
//! - without a signature, a caller the access guard authenticated (a
//!   developer token) may refresh;
//! - without a signature and without a token, only a flagd with neither
//!   tokens nor a webhook secret configured accepts the call (it is then as
//!   open as every other endpoint); with a secret, 401.
//!
//! Events: `push` (or a request naming no event, such as a manual call)
//! wakes the feed and answers 202; `ping` (sent when a webhook is created)
//! and every other event answer 200 without a fetch. Refresh requests
//! coalesce: a burst of pushes while a fetch runs causes one more fetch,
//! not one per push.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;
use tracing::{info, warn};

use super::AppState;
use super::error::ApiError;
use super::rollouts::Actor;

/// GitHub's (and Gitea's) signature header: `sha256=<hex>`.
pub const GITHUB_SIGNATURE: &str = "x-hub-signature-256";
/// Gitea's own signature header: the bare hex digest.
pub const GITEA_SIGNATURE: &str = "x-gitea-signature";
/// Headers naming the event, in the order they are consulted.
const EVENT_HEADERS: [&str; 3] = ["x-github-event", "x-gitea-event", "x-gogs-event"];

/// Whether the request carries a webhook signature header (valid or not):
/// such a call is authenticated by the handler's own check, not by a token,
/// and a browser cannot make one.
pub fn is_signed(headers: &HeaderMap) -> bool {
    headers.contains_key(GITHUB_SIGNATURE) || headers.contains_key(GITEA_SIGNATURE)
}

/// Why the webhook secret cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The secret file cannot be read.
    #[error("cannot read the webhook secret {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The secret file is empty: every signature would be forgeable.
    #[error("the webhook secret {} is empty", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// The shared secret webhook bodies are signed with. Never printed; wiped
/// from memory when dropped.
pub struct WebhookSecret(zeroize::Zeroizing<Vec<u8>>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// Reads the secret from a file. Trailing line breaks are dropped (the
    /// file was most likely written by `echo` or an editor), nothing else:
    /// the secret is the rest of the file, byte for byte.
    pub fn read(path: &Path) -> Result<Self, WebhookError> {
        let mut bytes = std::fs::read(path).map_err(|error| WebhookError::Read {
            path: path.to_owned(),
            error,
        })?;
        while bytes.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
            bytes.pop();
        }
        WebhookSecret::new(bytes).ok_or_else(|| WebhookError::Empty {
            path: path.to_owned(),
        })
    }

    /// A secret from bytes; `None` if empty.
    pub fn new(bytes: Vec<u8>) -> Option<Self> {
        (!bytes.is_empty()).then(|| WebhookSecret(zeroize::Zeroizing::new(bytes)))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length; this cannot fail.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC accepts any key length")
    }

    /// The hex HMAC-SHA256 of `body` (for tests and tools that sign).
    pub fn sign(&self, body: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `tag` is the HMAC-SHA256 of `body`, compared in constant time.
    pub fn verify(&self, body: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.mac();
        mac.update(body);
        mac.verify_slice(tag).is_ok()
    }
}

/// A signature header, decoded.
#[derive(Debug, PartialEq, Eq)]
enum Signature {
    /// No signature header.
    Absent,
    /// The digest, and the header it came from.
    Present(Vec<u8>, &'static str),
    /// A signature header that is not `sha256=<64 hex>` / `<64 hex>`.
    Malformed(&'static str),
}

fn signature(headers: &HeaderMap) -> Signature {
    let decode = |text: &str| hex::decode(text.trim()).ok().filter(|d| d.len() == 32);
    if let Some(value) = headers.get(GITHUB_SIGNATURE) {
        return match value
            .to_str()
            .ok()
            .and_then(|v| v.trim().strip_prefix("sha256="))
            .and_then(decode)
        {
            Some(digest) => Signature::Present(digest, "X-Hub-Signature-256"),
            None => Signature::Malformed("X-Hub-Signature-256 must be `sha256=` and 64 hex digits"),
        };
    }
    if let Some(value) = headers.get(GITEA_SIGNATURE) {
        return match value.to_str().ok().and_then(decode) {
            Some(digest) => Signature::Present(digest, "X-Gitea-Signature"),
            None => Signature::Malformed("X-Gitea-Signature must be 64 hex digits"),
        };
    }
    Signature::Absent
}

fn event(headers: &HeaderMap) -> Option<String> {
    EVENT_HEADERS
        .iter()
        .find_map(|h| headers.get(*h))
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
}

fn refused(state: &AppState, code: &'static str, message: impl Into<String>) -> Response {
    let message = message.into();
    warn!(%message, "refresh request refused");
    state.metrics.count_refresh("rejected");
    ApiError::new(StatusCode::UNAUTHORIZED, code, message).into_response()
}

/// `POST /api/v1/ruleset/refresh`
pub async fn refresh(
    State(state): State<Arc<AppState>>,
    actor: Option<Extension<Actor>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match (signature(&headers), state.webhook.as_deref()) {
        (Signature::Malformed(why), _) => return refused(&state, "INVALID_SIGNATURE", why),
        (Signature::Present(_, header), None) => {
            return refused(
                &state,
                "INVALID_SIGNATURE",
                format!(
                    "{header} cannot be checked: this flagd has no webhook secret (--webhook-secret-file)"
                ),
            );
        }
        (Signature::Present(digest, header), Some(secret)) => {
            if !secret.verify(&body, &digest) {
                return refused(
                    &state,
                    "INVALID_SIGNATURE",
                    format!(
                        "{header} does not match the body: the webhook's secret differs from --webhook-secret-file, or the body was changed"
                    ),
                );
            }
        }
        (Signature::Absent, Some(_)) if actor.is_none() => {
            return refused(
                &state,
                "SIGNATURE_REQUIRED",
                "a webhook secret is configured: sign the body (X-Hub-Signature-256: sha256=<HMAC-SHA256 hex>) or call with a developer token",
            );
        }
        (Signature::Absent, _) => {}
    }
    let event = event(&headers);
    let (status, outcome, message) = match event.as_deref() {
        None | Some("push") => {
            state.refresh.notify_one();
            (StatusCode::ACCEPTED, "accepted", "checking the source now")
        }
        Some("ping") => (
            StatusCode::OK,
            "ignored",
            "pong: the webhook reaches flagd; pushes will make it check the source",
        ),
        Some(_) => (
            StatusCode::OK,
            "ignored",
            "only push events make flagd check the source",
        ),
    };
    let by = actor.map(|Extension(Actor(a))| a);
    info!(
        event = event.as_deref().unwrap_or("-"),
        actor = by.as_deref().unwrap_or("-"),
        outcome,
        "refresh request"
    );
    state.metrics.count_refresh(outcome);
    (
        status,
        Json(json!({
            "status": outcome,
            "event": event,
            "refresh": status == StatusCode::ACCEPTED,
            "message": message,
        })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn github_and_gitea_signatures() {
        let secret = WebhookSecret::new(b"It's a Secret to Everybody".to_vec()).unwrap();
        // GitHub's documented example (docs: "Validating webhook deliveries").
        let expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(secret.sign(b"Hello, World!"), expected);

        let mut headers = HeaderMap::new();
        assert_eq!(signature(&headers), Signature::Absent);
        headers.insert(GITEA_SIGNATURE, HeaderValue::from_static(expected));
        let Signature::Present(digest, "X-Gitea-Signature") = signature(&headers) else {
            panic!("gitea header not read");
        };
        assert!(secret.verify(b"Hello, World!", &digest));
        assert!(!secret.verify(b"Hello, World?", &digest));

        let github = format!("sha256={expected}");
        headers.insert(GITHUB_SIGNATURE, HeaderValue::from_str(&github).unwrap());
        assert!(matches!(
            signature(&headers),
            Signature::Present(_, "X-Hub-Signature-256")
        ));
        for bad in [expected, "sha256=zz", "sha1=abcd", "sha256=abcd"] {
            headers.insert(GITHUB_SIGNATURE, HeaderValue::from_static(bad));
            assert!(
                matches!(signature(&headers), Signature::Malformed(_)),
                "{bad}"
            );
        }
    }

    #[test]
    fn secret_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cret \r\n\n").unwrap();
        let secret = WebhookSecret::read(&path).unwrap();
        assert_eq!(
            secret.sign(b"x"),
            WebhookSecret::new(b"s3cret ".to_vec()).unwrap().sign(b"x")
        );
        assert_eq!(format!("{secret:?}"), "WebhookSecret(…)");
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(
            WebhookSecret::read(&path),
            Err(WebhookError::Empty { .. })
        ));
        assert!(matches!(
            WebhookSecret::read(&dir.path().join("none")),
            Err(WebhookError::Read { .. })
        ));
    }
}
