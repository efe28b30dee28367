//! Flags, segments and the flag file that holds them, as written.

use std::fmt;

use indexmap::IndexMap;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::BucketingMode;
use super::condition::Condition;
use super::lifecycle::{ExpiryDate, FlagKind};
use super::rollout::Rollout;

/// One flag file: flags and segments, each keyed by name in written order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagFile {
    /// JSON editors' schema reference; ignored.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Flags by key.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub flags: IndexMap<String, Flag>,
    /// Segments by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub segments: IndexMap<String, Segment>,
}

/// The keys a flag file may have at its top level.
pub const FLAG_FILE_KEYS: &[&str] = &["$schema", "flags", "segments"];

/// The reserved reference that serves no value: the caller uses the default
/// in its code (docs/flag-format.md §5). It may stand for a flag's
/// `default`, `offVariant` or a rule's `serve`; no variant name starts
/// with `$`, so it names no variant.
pub const CODE_DEFAULT: &str = "$codeDefault";

/// The type of a flag's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagType {
    /// `true` / `false`
    Boolean,
    /// Any string.
    String,
    /// A whole number (64-bit).
    Integer,
    /// Any number.
    Float,
    /// A JSON object.
    Object,
}

impl FlagType {
    /// The name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagType::Boolean => "boolean",
            FlagType::String => "string",
            FlagType::Integer => "integer",
            FlagType::Float => "float",
            FlagType::Object => "object",
        }
    }

    /// Whether `value` is a value of this type.
    pub fn admits(self, value: &Value) -> bool {
        match self {
            FlagType::Boolean => value.is_boolean(),
            FlagType::String => value.is_string(),
            FlagType::Integer => value.is_i64() || value.is_u64(),
            FlagType::Float => value.is_number(),
            FlagType::Object => value.is_object(),
        }
    }
}

impl fmt::Display for FlagType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A feature flag.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Flag {
    /// What the flag is for.
    pub description: Option<String>,
    /// The type of every variant's value.
    #[serde(rename = "type")]
    pub kind: FlagType,
    /// Named values, in written order (the order splits refer to).
    pub variants: IndexMap<String, Value>,
    /// Served when nothing else applies: a variant or a split.
    pub default: Serve,
    /// `false` is the kill switch: everyone gets `offVariant`.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// Served when disabled (default: the `default` variant).
    #[serde(
        default,
        deserialize_with = "opt_variant_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub off_variant: Option<String>,
    /// Context attribute hashed for splits and rollouts (default `targetingKey`).
    pub bucket_by: Option<String>,
    /// How contexts are hashed into buckets: ours (`xxh3`, the default) or
    /// exactly as flagd's `fractional` or Unleash does (docs/flag-format.md §6).
    pub bucketing: Option<BucketingMode>,
    /// Targeting rules, in order; the first match wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// A progressive rollout of one variant.
    pub rollout: Option<Rollout>,
    /// Who owns the flag: a CODEOWNERS handle or an e-mail address.
    pub owner: Option<String>,
    /// What the flag is for, which sets its expected lifetime (written
    /// `kind`; `type` is the variants' type).
    #[serde(rename = "kind")]
    pub lifecycle: Option<FlagKind>,
    /// The day after which the flag should be gone.
    pub expires: Option<ExpiryDate>,
    /// Available to client-side SDKs (browsers, mobile apps): callers with
    /// a client credential see only such flags (docs/flag-format.md).
    #[serde(default, skip_serializing_if = "is_false")]
    pub client_side: bool,
    /// Strings, numbers and booleans passed through to OFREP's `metadata`
    /// of every answer (docs/flag-format.md §4), as flagd passes its flag
    /// metadata.
    pub metadata: Option<IndexMap<String, Value>>,
}

impl Flag {
    /// Whether [`CODE_DEFAULT`] stands where the flag names what to serve:
    /// its `default`, its kill switch (`offVariant`, or the `default` when
    /// that is left out) or a rule's `serve`.
    pub fn uses_code_default(&self) -> bool {
        let named = |s: &Serve| matches!(s, Serve::Variant(v) if v == CODE_DEFAULT);
        named(&self.default)
            || self.off_variant.as_deref() == Some(CODE_DEFAULT)
            || self.rules.iter().any(|r| named(&r.serve))
    }
}

fn default_true() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(b: &bool) -> bool {
    *b
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(b: &bool) -> bool {
    !*b
}

/// A targeting rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Name shown in evaluations, diffs and audit.
    pub name: String,
    /// When the rule applies.
    pub when: Condition,
    /// What it serves.
    pub serve: Serve,
}

/// What a rule or default serves: a variant by name, or a split.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Serve {
    /// One variant for everyone it applies to.
    Variant(String),
    /// Variants by weight, assigned by hashing the bucketing attribute.
    Split(Split),
}

impl<'de> Deserialize<'de> for Serve {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Serve;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a variant name or `{split: {...}}`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Serve, E> {
                Ok(Serve::Variant(v.to_owned()))
            }
            // Variant names are strings, but `default: true` or `serve: 1` in
            // YAML means the variant called "true" or "1".
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Serve, E> {
                Ok(Serve::Variant(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Serve, E> {
                Ok(Serve::Variant(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Serve, A::Error> {
                Split::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(Serve::Split)
            }
        }
        d.deserialize_any(V)
    }
}

/// A variant name where one is referred to. Like [`Serve`], it also takes a
/// YAML boolean or integer: `offVariant: false` names the variant "false",
/// just as `default: false` does.
struct VariantName(String);

impl<'de> Deserialize<'de> for VariantName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = VariantName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a variant name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<VariantName, E> {
                Ok(VariantName(v.to_owned()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<VariantName, E> {
                Ok(VariantName(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<VariantName, E> {
                Ok(VariantName(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Deserializes a variant reference (see [`VariantName`]).
pub(crate) fn variant_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    VariantName::deserialize(d).map(|n| n.0)
}

/// Deserializes an optional variant reference; null is absent.
pub(crate) fn opt_variant_name<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Option::<VariantName>::deserialize(d).map(|n| n.map(|n| n.0))
}

/// One attribute or several, tried in order: `bucketBy: sessionId` or
/// `bucketBy: [userId, sessionId]` (the first that gives a bucketing key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BucketByList {
    /// One attribute.
    One(String),
    /// Several, the first present wins.
    Many(Vec<String>),
}

impl BucketByList {
    /// The attributes in the order they are tried.
    pub fn as_slice(&self) -> &[String] {
        match self {
            BucketByList::One(a) => std::slice::from_ref(a),
            BucketByList::Many(v) => v,
        }
    }
}

/// Variants by relative weight, optionally an experiment.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Split {
    /// Weights by variant, in the order buckets are assigned.
    pub split: IndexMap<String, f64>,
    /// Hash salt (default: the flag key). Change it to reshuffle users.
    pub salt: Option<String>,
    /// The attributes hashed for this split, the first that gives a key
    /// (default: the flag's `bucketBy`), as Unleash's variant stickiness.
    #[serde(rename = "bucketBy")]
    pub bucket_by: Option<Box<BucketByList>>,
    /// This split is an experiment to analyse.
    pub experiment: Option<Experiment>,
}

/// An A/B/n experiment on a split.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Experiment {
    /// What the experiment is expected to show.
    pub hypothesis: Option<String>,
    /// The control variant (default: the split's first).
    #[serde(
        default,
        deserialize_with = "opt_variant_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub control: Option<String>,
    /// Smallest relative effect worth detecting, e.g. `0.05`.
    pub minimum_detectable_effect: Option<f64>,
    /// Significance level (default 0.05).
    pub alpha: Option<f64>,
    /// Query template counting conversions per variant.
    pub conversions: Option<String>,
}

/// A named group of contexts.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// What the segment is.
    pub description: Option<String>,
    /// Contexts matching this condition belong.
    pub when: Option<Condition>,
    /// Contexts with one of these `targetingKey`s belong.
    pub keys: Option<Vec<String>>,
}
