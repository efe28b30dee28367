//! `--fail-on` policies: changes risky enough to fail a CI check.
//!
//! A small set on purpose, each about something a reviewer could miss in a
//! diff that reads fine: a flag applications still ask for disappears; users
//! of a protected environment get a new variant without a rollout to catch
//! a bad change; a flag's type changes under typed clients; users are
//! reshuffled between variants, restarting experiments; a flag becomes
//! readable by every browser and app holding a client key.

use std::fmt;
use std::str::FromStr;

use hotswap_flags_core::escape::Words;
use serde::Serialize;

use super::{ChangeType, Kind, RepoDiff, percent};

/// A policy `--fail-on` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// A flag is removed from an environment (clients get `FLAG_NOT_FOUND`).
    RemovedFlag,
    /// In a protected environment, users newly get a variant other than
    /// the variant its kill switch served before, and not by joining a rollout.
    UnguardedExposure,
    /// A flag's `type` changes.
    TypeChange,
    /// A split or rollout salt, `bucketBy` or `bucketing` changes: users
    /// are reshuffled.
    Reshuffle,
    /// A flag becomes visible to client-side SDKs (`clientSide: true`, on a
    /// new flag or a changed one): its name and values reach browsers.
    ClientExposure,
}

impl Policy {
    /// Every policy.
    pub const ALL: [Policy; 5] = [
        Policy::RemovedFlag,
        Policy::UnguardedExposure,
        Policy::TypeChange,
        Policy::Reshuffle,
        Policy::ClientExposure,
    ];

    /// The name given to `--fail-on`.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::RemovedFlag => "removed-flag",
            Policy::UnguardedExposure => "unguarded-exposure",
            Policy::TypeChange => "type-change",
            Policy::Reshuffle => "reshuffle",
            Policy::ClientExposure => "client-exposure",
        }
    }

    /// One line on what the policy catches.
    pub fn description(self) -> &'static str {
        match self {
            Policy::RemovedFlag => "a flag is removed from an environment",
            Policy::UnguardedExposure => {
                "a protected environment serves users a new variant (not the previous offVariant) without a rollout"
            }
            Policy::TypeChange => "a flag's type changes",
            Policy::Reshuffle => "a salt, bucketBy or bucketing changes, reshuffling users",
            Policy::ClientExposure => "a flag becomes visible to client-side SDKs (clientSide)",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown policy name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown policy `{0}` (policies: removed-flag, unguarded-exposure, type-change, reshuffle, client-exposure)"
)]
pub struct UnknownPolicy(pub String);

impl FromStr for Policy {
    type Err = UnknownPolicy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Policy::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPolicy(s.to_owned()))
    }
}

/// A policy a diff hits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyHit {
    /// Which policy of `flags.toml` the change breaks.
    pub policy: Policy,
    /// The environment.
    pub env: String,
    /// The flag.
    pub key: String,
    /// Why, in words.
    pub message: Words,
}

/// A diff and the policies it was checked against: `flagctl diff --format
/// json` prints this, so that a script reads the verdict from the same
/// document as the changes.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DiffVerdict<'a> {
    /// The diff, its fields at the top level.
    #[serde(flatten)]
    pub diff: &'a RepoDiff,
    /// `--fail-on`'s verdict.
    pub policies: PolicyReport<'a>,
}

/// The policies asked for (`--fail-on`) and those hit.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PolicyReport<'a> {
    /// What `--fail-on` named (possibly nothing).
    pub checked: &'a [Policy],
    /// Every change that hit one of them; the run fails with any.
    pub hits: &'a [PolicyHit],
}

/// The hits of `policies` in `diff`.
pub fn check(diff: &RepoDiff, policies: &[Policy]) -> Vec<PolicyHit> {
    let mut hits = Vec::new();
    for env in &diff.environments {
        for c in env.changes.iter().filter(|c| c.kind == Kind::Flag) {
            let flag = || Words::from("flag ").quoted(&c.key);
            let env_name = || Words::new().bare(&env.env);
            let mut hit = |policy: Policy, message: Words| {
                if policies.contains(&policy) {
                    hits.push(PolicyHit {
                        policy,
                        env: env.env.clone(),
                        key: c.key.clone(),
                        message,
                    });
                }
            };
            if c.change == ChangeType::Removed {
                hit(
                    Policy::RemovedFlag,
                    flag().ours(" is removed from ").then(env_name()),
                );
            }
            if env.protected && !c.unguarded.is_empty() {
                let what = c.unguarded.iter().map(|v| {
                    Words::new()
                        .quoted(&v.variant)
                        .ours(format!(" to {}", percent(v.share)))
                });
                hit(
                    Policy::UnguardedExposure,
                    flag()
                        .ours(" newly serves ")
                        .then(Words::join(what, ", "))
                        .ours(" of users in protected ")
                        .then(env_name())
                        .ours(" without a rollout"),
                );
            }
            for f in &c.fields {
                let because = || flag().ours(": ").then(f.text.clone());
                if f.path == "type" {
                    hit(Policy::TypeChange, because());
                }
                if f.path.ends_with(".salt") || f.path == "bucketBy" || f.path == "bucketing" {
                    hit(Policy::Reshuffle, because());
                }
                if f.path == "clientSide" && f.after == Some(serde_json::Value::Bool(true)) {
                    hit(
                        Policy::ClientExposure,
                        flag()
                            .ours(" in ")
                            .then(env_name())
                            .ours(": ")
                            .then(f.text.clone()),
                    );
                }
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Policy::ALL {
            assert_eq!(p.as_str().parse::<Policy>().unwrap(), p);
        }
        assert!("removed".parse::<Policy>().is_err());
    }
}
