//! Durations as users write them: ISO 8601 (`PT1H`, `P1D`) or short (`1h`, `90m`, `30s`, `1h30m`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::{Span, SpanRelativeTo};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative duration that remembers how it was written, so files
/// round-trip and diffs show `2h → 30m` rather than seconds.
#[derive(Clone, PartialEq, Eq)]
pub struct DurationSpec {
    text: String,
    duration: Duration,
}

impl DurationSpec {
    /// The duration.
    pub fn get(&self) -> Duration {
        self.duration
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A duration of whole seconds, written in the short form.
    pub fn from_secs(secs: u64) -> Self {
        DurationSpec {
            text: format!("{secs}s"),
            duration: Duration::from_secs(secs),
        }
    }
}

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{text}`: {reason}")]
pub struct DurationError {
    text: String,
    reason: String,
}

impl FromStr for DurationSpec {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| DurationError {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(fail(
                "expected ISO 8601 (PT1H) or a short form (1h, 90m, 30s)",
            ));
        }
        let span: Span = trimmed
            .parse()
            .map_err(|_| fail("expected ISO 8601 (PT1H) or a short form (1h, 90m, 30s)"))?;
        if span.get_years() != 0 || span.get_months() != 0 || span.get_weeks() != 0 {
            return Err(fail(
                "years, months and weeks have no fixed length; use days or hours",
            ));
        }
        let signed = span
            .to_duration(SpanRelativeTo::days_are_24_hours())
            .map_err(|e| fail(&e.to_string()))?;
        let duration =
            Duration::try_from(signed).map_err(|_| fail("durations cannot be negative"))?;
        Ok(DurationSpec {
            text: text.to_owned(),
            duration,
        })
    }
}

impl fmt::Display for DurationSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for DurationSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({:?})", self.text, self.duration)
    }
}

impl Serialize for DurationSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for DurationSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = DurationSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"PT1H\", \"90m\" or \"30s\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DurationSpec, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> u64 {
        s.parse::<DurationSpec>().unwrap().get().as_secs()
    }

    #[test]
    fn both_notations() {
        assert_eq!(secs("PT1H"), 3600);
        assert_eq!(secs("PT1H30M"), 5400);
        assert_eq!(secs("P1D"), 86400);
        assert_eq!(secs("1h"), 3600);
        assert_eq!(secs("90m"), 5400);
        assert_eq!(secs("30s"), 30);
        assert_eq!(secs("1h30m"), 5400);
        assert_eq!(secs("2 hours"), 7200);
    }

    #[test]
    fn rejects_nonsense() {
        for bad in ["", "soon", "-1h", "P1M", "1w", "10"] {
            assert!(bad.parse::<DurationSpec>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn keeps_text() {
        let d: DurationSpec = "90m".parse().unwrap();
        assert_eq!(d.to_string(), "90m");
    }
}
