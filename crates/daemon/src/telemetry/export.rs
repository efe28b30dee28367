//! The export path's accounting: every sampled span that ends is either
//! exported or dropped, and both are counted for /metrics.
//!
//! The SDK's batch processor drops spans silently when its queue is full
//! and logs a failed export; neither reaches a metric. So [`Bounded`], in
//! front of it, keeps the queue's bound itself (a span that would not fit
//! is dropped and counted there), and [`Counting`], behind it, counts each
//! batch the exporter took or failed (a collector down, refusing or timing
//! out). A span handed on is then always within the processor's queue,
//! and ends counted once, exported or dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

/// Spans exported and dropped since start.
#[derive(Debug, Default)]
pub struct ExportStats {
    /// Handed to the batch processor, not yet exported or dropped.
    in_flight: AtomicUsize,
    exported: AtomicU64,
    dropped: AtomicU64,
}

impl ExportStats {
    /// Spans the collector took.
    pub fn exported(&self) -> u64 {
        self.exported.load(Ordering::Relaxed)
    }

    /// Spans dropped: the queue was full, or the collector did not take
    /// them.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Spans waiting for export now.
    pub fn queued(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Takes a place in the queue, or counts the span dropped.
    fn admit(&self, capacity: usize) -> bool {
        if self.in_flight.fetch_add(1, Ordering::Relaxed) >= capacity {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// A batch of `n` left the queue, exported or not.
    fn settle(&self, n: usize, exported: bool) {
        self.in_flight.fetch_sub(n, Ordering::Relaxed);
        let counter = if exported {
            &self.exported
        } else {
            &self.dropped
        };
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// A span processor that hands a span on only while the queue behind it
/// has room.
#[derive(Debug)]
pub struct Bounded<P> {
    inner: P,
    stats: Arc<ExportStats>,
    capacity: usize,
}

impl<P> Bounded<P> {
    /// `inner`, whose queue holds `capacity` spans.
    pub fn new(inner: P, stats: Arc<ExportStats>, capacity: usize) -> Self {
        Bounded {
            inner,
            stats,
            capacity,
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for Bounded<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        // The batch processor exports sampled spans only.
        if span.span_context.is_sampled() && self.stats.admit(self.capacity) {
            self.inner.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// An exporter that counts what it exported and what it failed to.
#[derive(Debug)]
pub struct Counting<E> {
    inner: E,
    stats: Arc<ExportStats>,
}

impl<E> Counting<E> {
    /// `inner`, counted in `stats`.
    pub fn new(inner: E, stats: Arc<ExportStats>) -> Self {
        Counting { inner, stats }
    }
}

impl<E: SpanExporter> SpanExporter for Counting<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        let result = self.inner.export(batch).await;
        self.stats.settle(n, result.is_ok());
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_and_counts() {
        let stats = ExportStats::default();
        assert!(stats.admit(2));
        assert!(stats.admit(2));
        assert!(!stats.admit(2));
        assert_eq!((stats.queued(), stats.dropped()), (2, 1));
        stats.settle(1, true);
        stats.settle(1, false);
        assert_eq!(
            (stats.queued(), stats.exported(), stats.dropped()),
            (0, 1, 2)
        );
        assert!(stats.admit(2));
    }
}
