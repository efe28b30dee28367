//! Trace ids for the provider, so that a request starting a trace can be
//! sampled before its span is built.
//!
//! An unsampled request (99 in 100 at 1 %) should cost next to nothing,
//! but the SDK only asks the sampler while building a span, after drawing
//! its ids. So `server::trace` draws the trace id itself and asks the
//! sampler first ([`super::Recorder::start_root`]); only a sampled
//! request then builds its span, and that span must get the very id the
//! sampler decided on — the SDK ignores a span builder's trace id for a
//! root span, and a second draw would sample a ratio's square. [`Ids`]
//! hands the decided id over, on the building thread, through
//! [`with_trace_id`].

use std::cell::Cell;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

thread_local! {
    /// The trace id the next root span built on this thread gets.
    static DECIDED: Cell<Option<TraceId>> = const { Cell::new(None) };
}

/// The provider's id generator: random ids, except for a trace id
/// decided just before on the same thread ([`with_trace_id`]).
#[derive(Debug, Default)]
pub struct Ids {
    random: RandomIdGenerator,
}

impl Ids {
    /// A random trace id, for a sampling decision made before the span.
    pub(super) fn random_trace_id(&self) -> TraceId {
        self.random.new_trace_id()
    }
}

impl IdGenerator for Ids {
    fn new_trace_id(&self) -> TraceId {
        DECIDED.take().unwrap_or_else(|| self.random.new_trace_id())
    }

    fn new_span_id(&self) -> SpanId {
        self.random.new_span_id()
    }
}

/// Runs `build`, which builds a span, so that the span gets trace id `id`
/// if it starts a trace. (One that continues a parent's trace takes the
/// parent's; the id is not left for another span either way.)
pub(super) fn with_trace_id<T>(id: TraceId, build: impl FnOnce() -> T) -> T {
    DECIDED.set(Some(id));
    let built = build();
    DECIDED.set(None);
    built
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decided_id_is_handed_over_once() {
        let ids = Ids::default();
        let decided = ids.random_trace_id();
        let got = with_trace_id(decided, || ids.new_trace_id());
        assert_eq!(got, decided);
        assert_ne!(ids.new_trace_id(), decided);
        // Not taken by the build: gone afterwards all the same.
        with_trace_id(decided, || ());
        assert_ne!(ids.new_trace_id(), decided);
    }
}
