//! A flag's lifecycle metadata as written: `owner`, `kind` and `expires`
//! (docs/flag-format.md, "Lifecycle"; docs/lifecycle.md).
//!
//! None of it changes what a flag serves: it tells `flagctl stale` whose
//! the flag is, how long it is expected to live, and when it should be gone.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a flag is for, which sets how long it is expected to live (the
/// categories and lifetimes of Unleash's flag types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlagKind {
    /// Ships a feature gradually; gone once it is out (40 days).
    Release,
    /// An A/B/n test; gone once it is decided (40 days).
    Experiment,
    /// Steers the system during an operation or migration (7 days).
    Operational,
    /// Grants a feature to some users, for good (permanent).
    Permission,
    /// Turns a part of the system off in an emergency, for good (permanent).
    KillSwitch,
}

impl FlagKind {
    /// Every kind, in documented order.
    pub const ALL: [FlagKind; 5] = [
        FlagKind::Release,
        FlagKind::Experiment,
        FlagKind::Operational,
        FlagKind::Permission,
        FlagKind::KillSwitch,
    ];

    /// The name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::Release => "release",
            FlagKind::Experiment => "experiment",
            FlagKind::Operational => "operational",
            FlagKind::Permission => "permission",
            FlagKind::KillSwitch => "kill-switch",
        }
    }

    /// How many days a flag of this kind is expected to live; `None` for a
    /// permanent kind (docs/lifecycle.md, "Kinds").
    pub fn expected_lifetime_days(self) -> Option<i64> {
        match self {
            FlagKind::Release | FlagKind::Experiment => Some(40),
            FlagKind::Operational => Some(7),
            FlagKind::Permission | FlagKind::KillSwitch => None,
        }
    }
}

impl fmt::Display for FlagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The day after which a flag should be gone, written `YYYY-MM-DD` (in
/// TOML also as a bare local date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExpiryDate(pub Date);

/// Why an expiry date did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date `{0}`: expected a calendar date written YYYY-MM-DD, such as 2026-03-31")]
pub struct ExpiryDateError(String);

impl FromStr for ExpiryDate {
    type Err = ExpiryDateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // jiff also reads a date out of a datetime; a flag's expiry is a day.
        let shaped = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if !shaped {
            return Err(ExpiryDateError(text.to_owned()));
        }
        text.parse::<Date>()
            .map(ExpiryDate)
            .map_err(|_| ExpiryDateError(text.to_owned()))
    }
}

impl fmt::Display for ExpiryDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for ExpiryDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ExpiryDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The pattern an `owner` must match (docs/flag-format.md, §4): a
/// CODEOWNERS handle, `@user` or `@org/team`, each name a letter or digit
/// then letters, digits, `.`, `_` and `-`; or an e-mail address whose local
/// part is letters, digits and `.`, `_`, `%`, `+`, `-`, and whose domain is
/// dot-separated labels of letters, digits and inner hyphens ending in a
/// top-level domain of two letters or more. Nothing else: an owner is shown
/// in pull-request comments and terminals, so no markup, space or control
/// character gets in with it. The JSON Schema carries the same pattern
/// (`tests/testsuite/schema.rs` compares them).
pub const OWNER_PATTERN: &str = r"^(@[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?|[A-Za-z0-9._%+-]+@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,})$";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_days_only() {
        assert_eq!(
            "2026-03-31".parse::<ExpiryDate>().unwrap().to_string(),
            "2026-03-31"
        );
        for bad in [
            "2026-02-30",
            "2026-3-31",
            "2026-03-31T00:00:00",
            "",
            "31.03.2026",
        ] {
            let e = bad.parse::<ExpiryDate>().unwrap_err();
            assert!(e.to_string().contains("YYYY-MM-DD"), "{bad}: {e}");
        }
    }

    #[test]
    fn kinds_read_as_written() {
        for kind in FlagKind::ALL {
            let back: FlagKind =
                serde_json::from_value(serde_json::Value::String(kind.as_str().into())).unwrap();
            assert_eq!(back, kind);
        }
        assert_eq!(FlagKind::Release.expected_lifetime_days(), Some(40));
        assert_eq!(FlagKind::KillSwitch.expected_lifetime_days(), None);
    }
}
