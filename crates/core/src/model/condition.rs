//! Targeting conditions (`when:`), as written.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A targeting condition. Written as a map with exactly one of `attr`,
/// `segment`, `all`, `any`, `not`, `time`, `percentage` or `flag`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawCondition", into = "RawCondition")]
pub enum Condition {
    /// Compare a context attribute: `{attr, op, value | values}`.
    Attr(AttrCondition),
    /// The context belongs to a segment: `{segment: NAME}`.
    Segment(String),
    /// Every condition holds: `{all: […]}`.
    All(Vec<Condition>),
    /// At least one condition holds: `{any: […]}`.
    Any(Vec<Condition>),
    /// The condition does not hold: `{not: …}`.
    Not(Box<Condition>),
    /// The evaluation time is inside a window: `{time: {after, before, timezone}}`.
    Time(TimeWindow),
    /// The context's bucket is inside a percentage: `{percentage: {value, salt, bucketBy}}`.
    Percentage(PercentageCondition),
    /// Another flag serves one of some variants: `{flag: {key, variants}}`.
    Flag(FlagCondition),
}

/// `{percentage: {value, salt?, bucketBy?}}`: a rollout inside a rule, as
/// Unleash's gradual and flexible rollout strategies are. The context is
/// hashed as the flag's rollout is (its `bucketing` mode) with this salt.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PercentageCondition {
    /// The share of contexts inside, 0 to 100.
    pub value: f64,
    /// The hash salt (default: the flag's rollout salt).
    pub salt: Option<String>,
    /// The attributes hashed, the first that gives a key (default: the
    /// flag's `bucketBy`).
    pub bucket_by: Option<super::flag::BucketByList>,
}

/// `{flag: {key, variants}}`: what another flag serves the same context,
/// as Unleash's dependent features ask of their parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagCondition {
    /// The other flag's key.
    pub key: String,
    /// Holds when that flag serves one of these variants.
    pub variants: Vec<String>,
}

/// `{attr, op, value | values}`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrCondition {
    /// The context attribute compared (`targetingKey` included).
    pub attr: String,
    /// The comparison.
    pub op: Op,
    /// The operand(s), as written.
    pub operands: Operands,
}

/// `value: x` or `values: [x, y]` — kept apart so files round-trip.
#[derive(Debug, Clone, PartialEq)]
pub enum Operands {
    /// No operand (only `exists`).
    None,
    /// `value: x`
    One(Value),
    /// `values: [x, y]`: any of them (for `neq` and `not_in`: none of them).
    Many(Vec<Value>),
}

impl Operands {
    /// The operands as a slice, whichever way they were written.
    pub fn as_slice(&self) -> &[Value] {
        match self {
            Operands::None => &[],
            Operands::One(v) => std::slice::from_ref(v),
            Operands::Many(vs) => vs,
        }
    }
}

/// Comparison operators of attribute conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal to any operand.
    Eq,
    /// Equal to none of the operands.
    Neq,
    /// Equal to any operand (a list reads better with `in`).
    In,
    /// Equal to none of the operands.
    NotIn,
    /// String contains the operand, or list has it as an element.
    Contains,
    /// String starts with the operand.
    StartsWith,
    /// String ends with the operand.
    EndsWith,
    /// String matches the regular expression (unanchored).
    Matches,
    /// Number greater than.
    Gt,
    /// Number greater than or equal.
    Gte,
    /// Number less than.
    Lt,
    /// Number less than or equal.
    Lte,
    /// Semantic version equal.
    SemverEq,
    /// Semantic version greater than.
    SemverGt,
    /// Semantic version greater than or equal.
    SemverGte,
    /// Semantic version less than.
    SemverLt,
    /// Semantic version less than or equal.
    SemverLte,
    /// Timestamp attribute before the operand.
    Before,
    /// Timestamp attribute at or after the operand.
    After,
    /// The attribute is present (and not null).
    Exists,
    /// An IP address inside any operand (a CIDR block or one address).
    InCidr,
}

impl Op {
    /// The name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Neq => "neq",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::Contains => "contains",
            Op::StartsWith => "starts_with",
            Op::EndsWith => "ends_with",
            Op::Matches => "matches",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::SemverEq => "semver_eq",
            Op::SemverGt => "semver_gt",
            Op::SemverGte => "semver_gte",
            Op::SemverLt => "semver_lt",
            Op::SemverLte => "semver_lte",
            Op::Before => "before",
            Op::After => "after",
            Op::Exists => "exists",
            Op::InCidr => "in_cidr",
        }
    }

    /// Negated operators hold when *none* of the operands match.
    pub fn is_negated(self) -> bool {
        matches!(self, Op::Neq | Op::NotIn)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A window of evaluation time. Bounds are RFC 3339 timestamps, or local
/// date-times read in `timezone`. `after` is inclusive, `before` exclusive.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    /// Start of the window (inclusive).
    pub after: Option<String>,
    /// End of the window (exclusive).
    pub before: Option<String>,
    /// IANA time zone for local date-times, e.g. `America/New_York`.
    pub timezone: Option<String>,
}

/// The flat form conditions are written in; [`Condition`] checks that exactly
/// one form is used.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    attr: Option<String>,
    op: Option<Op>,
    value: Option<Value>,
    values: Option<Vec<Value>>,
    segment: Option<String>,
    all: Option<Vec<Condition>>,
    any: Option<Vec<Condition>>,
    not: Option<Box<Condition>>,
    time: Option<TimeWindow>,
    percentage: Option<PercentageCondition>,
    flag: Option<FlagCondition>,
}

impl TryFrom<RawCondition> for Condition {
    type Error = String;

    fn try_from(raw: RawCondition) -> Result<Self, String> {
        let forms = [
            ("attr", raw.attr.is_some()),
            ("segment", raw.segment.is_some()),
            ("all", raw.all.is_some()),
            ("any", raw.any.is_some()),
            ("not", raw.not.is_some()),
            ("time", raw.time.is_some()),
            ("percentage", raw.percentage.is_some()),
            ("flag", raw.flag.is_some()),
        ];
        let present: Vec<&str> = forms.iter().filter(|f| f.1).map(|f| f.0).collect();
        match present.as_slice() {
            [] => {
                return Err(
                    "a condition needs one of `attr`, `segment`, `all`, `any`, `not`, `time`, `percentage` or `flag`"
                        .into(),
                );
            }
            [_] => {}
            many => {
                return Err(format!(
                    "a condition has exactly one of `attr`, `segment`, `all`, `any`, `not`, `time`, `percentage`, `flag`; found {} (combine them with `all`)",
                    many.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ));
            }
        }
        let Some(attr) = raw.attr else {
            if raw.op.is_some() || raw.value.is_some() || raw.values.is_some() {
                return Err("`op`, `value` and `values` belong to an `attr` condition".into());
            }
            return Ok(if let Some(s) = raw.segment {
                Condition::Segment(s)
            } else if let Some(all) = raw.all {
                Condition::All(all)
            } else if let Some(any) = raw.any {
                Condition::Any(any)
            } else if let Some(not) = raw.not {
                Condition::Not(not)
            } else if let Some(p) = raw.percentage {
                Condition::Percentage(p)
            } else if let Some(f) = raw.flag {
                Condition::Flag(f)
            } else {
                Condition::Time(raw.time.unwrap_or(TimeWindow {
                    after: None,
                    before: None,
                    timezone: None,
                }))
            });
        };
        let op = raw
            .op
            .ok_or_else(|| format!("the condition on `{attr}` needs an `op`"))?;
        let operands = match (raw.value, raw.values) {
            (Some(_), Some(_)) => return Err("give `value` or `values`, not both".into()),
            (Some(v), None) => Operands::One(v),
            (None, Some(vs)) => Operands::Many(vs),
            (None, None) => Operands::None,
        };
        Ok(Condition::Attr(AttrCondition { attr, op, operands }))
    }
}

impl From<Condition> for RawCondition {
    fn from(c: Condition) -> Self {
        let mut raw = RawCondition::default();
        match c {
            Condition::Attr(a) => {
                raw.attr = Some(a.attr);
                raw.op = Some(a.op);
                match a.operands {
                    Operands::None => {}
                    Operands::One(v) => raw.value = Some(v),
                    Operands::Many(vs) => raw.values = Some(vs),
                }
            }
            Condition::Segment(s) => raw.segment = Some(s),
            Condition::All(v) => raw.all = Some(v),
            Condition::Any(v) => raw.any = Some(v),
            Condition::Not(c) => raw.not = Some(c),
            Condition::Time(t) => raw.time = Some(t),
            Condition::Percentage(p) => raw.percentage = Some(p),
            Condition::Flag(f) => raw.flag = Some(f),
        }
        raw
    }
}
