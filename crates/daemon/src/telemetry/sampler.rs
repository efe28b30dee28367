//! Which traces are kept: the standard samplers (`OTEL_TRACES_SAMPLER`,
//! `OTEL_TRACES_SAMPLER_ARG`) for requests, and every rollout span
//! whatever they say. Rollout decisions are a few a minute and are what an
//! incident is searched for: a rollback must not be in the 99 % a request
//! sampler leaves out.

use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingResult, ShouldSample};

use super::TelemetryError;

/// The prefix of the rollout controller's span names, always sampled.
pub const ROLLOUT_SPANS: &str = "rollout.";

/// A standard sampler: a ratio of traces, and whether a caller's decision
/// (the `traceparent`'s sampled flag) is followed instead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// The share of new traces kept, 0 to 1.
    pub ratio: f64,
    /// Follow the parent's decision where there is one.
    pub parent_based: bool,
}

impl Default for Sampling {
    /// `parentbased_always_on`, the specification's default.
    fn default() -> Self {
        Sampling {
            ratio: 1.0,
            parent_based: true,
        }
    }
}

impl Sampling {
    /// The sampler `name` (as `OTEL_TRACES_SAMPLER` spells it) with its
    /// argument (`OTEL_TRACES_SAMPLER_ARG`: the ratio, default 1).
    pub fn parse(name: &str, arg: Option<&str>) -> Result<Self, TelemetryError> {
        let ratio = || -> Result<f64, TelemetryError> {
            let Some(arg) = arg else { return Ok(1.0) };
            match arg.trim().parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => Err(TelemetryError::Config(format!(
                    "sampler argument `{arg}`: a ratio from 0 to 1"
                ))),
            }
        };
        let (ratio, parent_based) = match name.trim() {
            "always_on" => (1.0, false),
            "always_off" => (0.0, false),
            "traceidratio" => (ratio()?, false),
            "parentbased_always_on" => (1.0, true),
            "parentbased_always_off" => (0.0, true),
            "parentbased_traceidratio" => (ratio()?, true),
            other => {
                return Err(TelemetryError::Config(format!(
                    "unknown sampler `{other}`: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio"
                )));
            }
        };
        Ok(Sampling {
            ratio,
            parent_based,
        })
    }

    /// The standard name and argument, for `--check-config`.
    pub fn describe(&self) -> String {
        let base = match self.ratio {
            r if r >= 1.0 => "always_on".to_owned(),
            r if r <= 0.0 => "always_off".to_owned(),
            r => format!("traceidratio {r}"),
        };
        if self.parent_based {
            format!("parentbased_{base}")
        } else {
            base
        }
    }

    fn sampler(self) -> Sampler {
        let root = match self.ratio {
            r if r >= 1.0 => Sampler::AlwaysOn,
            r if r <= 0.0 => Sampler::AlwaysOff,
            r => Sampler::TraceIdRatioBased(r),
        };
        if self.parent_based {
            Sampler::ParentBased(Box::new(root))
        } else {
            root
        }
    }
}

/// flagd's sampler: rollout spans always, the rest by [`Sampling`].
#[derive(Debug, Clone)]
pub struct Flagd {
    requests: Sampler,
}

impl Flagd {
    /// Requests sampled by `sampling`.
    pub fn new(sampling: Sampling) -> Self {
        Flagd {
            requests: sampling.sampler(),
        }
    }
}

impl ShouldSample for Flagd {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let sampler = if name.starts_with(ROLLOUT_SPANS) {
            &Sampler::AlwaysOn
        } else {
            &self.requests
        };
        sampler.should_sample(parent_context, trace_id, name, span_kind, attributes, links)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_sdk::trace::SamplingDecision;

    use super::*;

    #[test]
    fn standard_names_parse() {
        assert_eq!(
            Sampling::parse("parentbased_traceidratio", Some("0.01")).unwrap(),
            Sampling {
                ratio: 0.01,
                parent_based: true
            }
        );
        assert_eq!(Sampling::parse("always_off", None).unwrap().ratio, 0.0);
        assert_eq!(Sampling::parse("traceidratio", None).unwrap().ratio, 1.0);
        assert!(Sampling::parse("traceidratio", Some("2")).is_err());
        assert!(Sampling::parse("jaeger_remote", None).is_err());
        assert_eq!(
            Sampling::parse("parentbased_traceidratio", Some("0.25"))
                .unwrap()
                .describe(),
            "parentbased_traceidratio 0.25"
        );
    }

    #[test]
    fn rollout_spans_are_always_kept() {
        let off = Flagd::new(Sampling::parse("always_off", None).unwrap());
        let decide = |name| {
            off.should_sample(
                None,
                TraceId::from(7u128),
                name,
                &SpanKind::Internal,
                &[],
                &[],
            )
            .decision
        };
        assert_eq!(
            decide("rollout.check_round"),
            SamplingDecision::RecordAndSample
        );
        assert_eq!(decide("GET /healthz"), SamplingDecision::Drop);
    }
}
