//! OFREP change events (ADR-0008; docs/flagd.md, Change events): a
//! server-sent event stream that tells static-context clients (browsers,
//! mobile apps) to fetch the bulk evaluation again.
//!
//! Events only notify; the answer itself still comes from the bulk
//! endpoint, with its `ETag`. A stream watches the [`Change`] marks of
//! [`crate::live::Live`]: a swap, a rollout position that moves.
//! Bursts are coalesced into one event, comments keep idle proxies (and
//! flagd's own idle deadline) from closing the stream, the number of
//! streams is bounded, and shutdown ends every stream so it does not hold
//! the drain.

use std::convert::Infallible;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::AppState;
use super::audience::Audience;
use super::error::ApiError;
use crate::live::Change;

/// Where browsers' event streams connect; named in every bulk answer.
pub const EVENTS_PATH: &str = "/ofrep/v1/events";

/// How long a burst of changes (a swap and the positions installed with
/// it) is gathered into one event.
const COALESCE: Duration = Duration::from_millis(50);

/// Seconds a client may stay inactive (a hidden tab) before it closes its
/// stream, as advertised to it.
pub const INACTIVITY_DELAY_SECS: u64 = 120;

/// The open event streams and their limits.
#[derive(Debug)]
pub struct EventStreams {
    slots: Arc<Semaphore>,
    max: usize,
    keepalive: Duration,
    closing: watch::Sender<bool>,
}

impl EventStreams {
    /// At most `max` streams (0: none, and bulk answers advertise none),
    /// each sent a comment every `keepalive`.
    pub fn new(max: usize, keepalive: Duration) -> Self {
        EventStreams {
            slots: Arc::new(Semaphore::new(max)),
            max,
            keepalive,
            closing: watch::channel(false).0,
        }
    }

    /// Whether clients are offered streams at all.
    pub fn enabled(&self) -> bool {
        self.max > 0
    }

    /// Ends every stream (at shutdown, before connections drain).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Writes the `eventStreams` member of a bulk answer (`,"eventStreams":[…]`)
    /// when streams are on: where to connect, relative to the provider's
    /// base URL (`endpoint.requestUri`, as `@openfeature/ofrep-core` reads
    /// it). `query` is appended as is. Written as bytes, since every bulk
    /// answer carries it.
    pub fn write_advertised(&self, query: &str, out: &mut Vec<u8>) {
        if !self.enabled() {
            return;
        }
        out.extend_from_slice(
            b",\"eventStreams\":[{\"type\":\"sse\",\"endpoint\":{\"requestUri\":",
        );
        let uri = if query.is_empty() {
            std::borrow::Cow::Borrowed(EVENTS_PATH)
        } else {
            std::borrow::Cow::Owned(format!("{EVENTS_PATH}?{query}"))
        };
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, uri.as_ref());
        let _ = write!(out, "}},\"inactivityDelaySec\":{INACTIVITY_DELAY_SECS}}}]");
    }
}

/// An open stream's slot; also what the open-streams gauge counts.
struct Slot {
    _permit: OwnedSemaphorePermit,
    state: Arc<AppState>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.state.metrics.stream_closed();
    }
}

/// `GET /ofrep/v1/events`
pub async fn stream(
    State(state): State<Arc<AppState>>,
    audience: Audience,
    headers: HeaderMap,
) -> Response {
    let events = &state.events;
    let Ok(permit) = events.slots.clone().try_acquire_owned() else {
        let message = if events.enabled() {
            format!(
                "flagd has {} event streams open, as many as --max-event-streams allows; poll the bulk endpoint meanwhile",
                events.max
            )
        } else {
            "event streams are off (--max-event-streams 0); poll the bulk endpoint".to_owned()
        };
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "TOO_MANY_STREAMS", message)
            .into_response();
    };
    state.metrics.stream_opened();
    let changes = state.live.changes();
    let latest = generation(audience, &changes.borrow());
    // A client that saw an older change than the latest missed one: it is
    // told at once. Without an id it fetches on connect anyway.
    let seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map_or(Some(latest), |id| id.parse().ok());
    let watch = Watch {
        changes,
        closing: events.closing.subscribe(),
        audience,
        sent: seen.filter(|&s| s == latest),
        slot: Slot {
            _permit: permit,
            state: state.clone(),
        },
    };
    Sse::new(refetch_events(watch))
        .keep_alive(
            KeepAlive::new()
                .interval(events.keepalive)
                .text("keep-alive"),
        )
        .into_response()
}

/// The generation `audience` follows: clients only hear of what they can
/// see.
fn generation(audience: Audience, change: &Change) -> u64 {
    change.seen_by(audience == Audience::Client).0
}

/// One stream's view of the changes.
struct Watch {
    changes: watch::Receiver<Change>,
    closing: watch::Receiver<bool>,
    audience: Audience,
    /// The generation the client last heard of (`None`: an unknown one).
    sent: Option<u64>,
    slot: Slot,
}

impl Watch {
    /// The next change this stream's audience can observe, gathered over
    /// [`COALESCE`]; `None` at shutdown.
    async fn next(&mut self) -> Option<Change> {
        loop {
            let change = *self.changes.borrow_and_update();
            if self.sent != Some(generation(self.audience, &change)) {
                self.sent = Some(generation(self.audience, &change));
                return Some(change);
            }
            tokio::select! {
                changed = self.changes.changed() => changed.ok()?,
                _ = self.closing.changed() => return None,
            }
            tokio::time::sleep(COALESCE).await;
        }
    }
}

/// One `refetchEvaluation` event per burst of changes, until shutdown.
fn refetch_events(watch: Watch) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(watch, |mut watch| async move {
        if *watch.closing.borrow() {
            return None;
        }
        let change = watch.next().await?;
        watch.slot.state.metrics.event_sent();
        let event = refetch(change.seen_by(watch.audience == Audience::Client));
        Some((Ok(event), watch))
    })
}

/// The event ADR-0008 defines: fetch the bulk evaluation again. The id
/// (the audience's generation) lets a reconnecting client say what it saw
/// last; the time is of the latest change the audience can observe.
fn refetch((generation, at): (u64, jiff::Timestamp)) -> Event {
    let data = json!({
        "type": "refetchEvaluation",
        "etag": format!("\"g{generation}\""),
        "lastModified": at.as_second(),
    });
    Event::default()
        .id(generation.to_string())
        .data(data.to_string())
}
