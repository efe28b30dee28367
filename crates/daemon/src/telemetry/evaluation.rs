//! Evaluations recorded on the current request's span: one
//! `feature_flag.evaluation` event each, and for a single-flag request the
//! same attributes on the span itself, so that a backend's span search
//! finds it by flag, variant or reason.
//!
//! Nothing is built unless the span is recording (sampled): at 1 %
//! sampling, 99 requests in 100 pay one atomic load and one look at the
//! current context. A bulk request records an event per flag, up to the
//! SDK's limit of events a span (128 unless `OTEL_SPAN_EVENT_COUNT_LIMIT`
//! says otherwise); the rest are counted in the span's dropped events,
//! never a span per flag.

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, KeyValue, StringValue};

use super::names;
use super::recorder;
use hotswap_flags_core::eval::{AttrValue, Context as EvalContext, Evaluation, Reason};

/// Whether an evaluation is the request's only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A single-flag request: the span carries the flag's attributes too.
    One,
    /// One of a bulk request's flags: an event only.
    Many,
}

/// Records `ev` (served from ruleset `version`) on the current span, when
/// tracing is on and the span is sampled.
#[inline]
pub fn record(ev: &Evaluation<'_>, ctx: &EvalContext, version: &str, scope: Scope) {
    let Some(recorder) = recorder() else { return };
    Context::map_current(|cx| {
        let span = cx.span();
        if !span.is_recording() {
            return;
        }
        let mut attributes = Vec::with_capacity(9);
        attributes.push(KeyValue::new(names::KEY, ev.flag.key.to_string()));
        // No variant where the flag defers to the caller's code default
        // (`$codeDefault`): the caller's value is not known here.
        if let Some(variant) = ev.served_variant() {
            attributes.push(KeyValue::new(names::VARIANT, variant.to_owned()));
        }
        attributes.extend([
            KeyValue::new(names::REASON, convention_reason(ev.reason)),
            KeyValue::new(names::FLAGD_REASON, ev.reason.as_str()),
            KeyValue::new(names::PROVIDER_NAME, names::PROVIDER),
            KeyValue::new(names::VERSION, version.to_owned()),
            KeyValue::new(names::SET_ID, recorder.set_id.clone()),
        ]);
        if let Some(rule) = ev.rule_name() {
            attributes.push(KeyValue::new(names::RULE, rule.to_owned()));
        }
        if recorder.context_id
            && let Some(key) = ctx.targeting_key()
        {
            attributes.push(KeyValue::new(names::CONTEXT_ID, context_id(key)));
        }
        if scope == Scope::One {
            span.set_attributes(attributes.iter().cloned());
        }
        span.add_event(names::EVALUATION_EVENT, attributes);
    });
}

/// Records a failed evaluation of `key` (`FLAG_NOT_FOUND`, …) as an event
/// with `error.type`, when tracing is on and the span is sampled.
pub fn record_error(key: &str, code: &str) {
    if recorder().is_none() {
        return;
    }
    Context::map_current(|cx| {
        let span = cx.span();
        if !span.is_recording() {
            return;
        }
        span.add_event(
            names::EVALUATION_EVENT,
            vec![
                KeyValue::new(names::KEY, key.to_owned()),
                KeyValue::new(names::ERROR_TYPE, code.to_ascii_lowercase()),
                KeyValue::new(names::REASON, "error"),
                KeyValue::new(names::PROVIDER_NAME, names::PROVIDER),
            ],
        );
    });
}

/// The conventions' reason for flagd's: the same words in lower case, a
/// rollout's bucket being a pseudorandom assignment (`split`).
pub fn convention_reason(reason: Reason) -> &'static str {
    match reason {
        Reason::Static => "static",
        Reason::Default => "default",
        Reason::TargetingMatch => "targeting_match",
        Reason::Split | Reason::Rollout => "split",
        Reason::Disabled => "disabled",
    }
}

/// The targeting key as text: a string as it is, anything else as JSON.
fn context_id(key: &AttrValue) -> StringValue {
    match key.as_str() {
        Some(s) => s.to_owned().into(),
        None => key.to_json().to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_a_convention_word() {
        for reason in Reason::ALL {
            let word = convention_reason(reason);
            assert_eq!(word, word.to_ascii_lowercase());
        }
        assert_eq!(convention_reason(Reason::Rollout), "split");
        assert_eq!(convention_reason(Reason::TargetingMatch), "targeting_match");
    }
}
