//! The compiled, immutable ruleset that evaluation runs against.
//!
//! Everything a request would otherwise redo is done once per load: variant
//! and segment names are indices, regexes are compiled, times are instants,
//! versions are parsed, salts are byte prefixes. A ruleset is never changed
//! after it is built; flagd swaps whole rulesets.

use std::collections::HashSet;
use std::time::Duration;

use jiff::Timestamp;
use regex::Regex;
use serde_json::Value;

mod cond;
mod index;

pub use cond::Cond;
pub(crate) use cond::{FALSE, Leaf, TRUE};
pub(crate) use index::FlagIndex;

pub use crate::attr_key::AttrKey;
pub use crate::bucketing::BucketingMode;
pub use crate::bucketing::murmur::Murmur3Prefix;
use crate::diagnostic::did_you_mean;
use crate::model::{EnvModel, Experiment, Flag, FlagType, MetricsConfig, NoData, Strategy};

/// Index of a flag in its ruleset.
pub type FlagId = u32;
/// Index of a variant in its flag.
pub type VariantId = u16;
/// Index of a segment in its ruleset.
pub type SegmentId = u32;

/// Where a ruleset came from and which revision it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesetMeta {
    /// The environment's name.
    pub env: String,
    /// Commit id, or content hash for a plain directory.
    pub version: String,
    /// Human-readable source (`dir:/srv/flags`, `git:…@main`, `bundle:…`).
    pub source: String,
}

/// A flag key that names no flag of a ruleset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no flag `{key}` in environment `{env}`{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
pub struct UnknownFlag {
    /// The key asked for.
    pub key: String,
    /// The ruleset's environment.
    pub env: String,
    /// `did you mean `…`?`, when a flag's key is close.
    pub hint: Option<String>,
}

/// A compiled environment.
#[derive(Debug)]
pub struct Ruleset {
    pub(crate) meta: RulesetMeta,
    pub(crate) flags: Vec<CompiledFlag>,
    pub(crate) index: FlagIndex,
    pub(crate) segments: Vec<CompiledSegment>,
    /// The segments as written, compact JSON (see [`Ruleset::model`]).
    pub(crate) segment_definitions: Box<str>,
    pub(crate) metrics: MetricsConfig,
}

impl Ruleset {
    /// Environment, version and source.
    pub fn meta(&self) -> &RulesetMeta {
        &self.meta
    }

    /// The version: a commit id or content hash.
    pub fn version(&self) -> &str {
        &self.meta.version
    }

    /// The definitions as written (for bundling), rebuilt from the JSON
    /// text each flag keeps. A served ruleset keeps that text rather than
    /// the model itself: for 10,000 flags the model takes about eight times
    /// the room (docs/performance.md, "10,000 flags: memory and swaps under
    /// load").
    pub fn model(&self) -> Result<EnvModel, serde_json::Error> {
        let flags = self
            .flags
            .iter()
            .map(|f| Ok((f.key.to_string(), f.definition()?)))
            .collect::<Result<_, serde_json::Error>>()?;
        let segments = serde_json::from_str(&self.segment_definitions)?;
        Ok(EnvModel { flags, segments })
    }

    /// The metrics endpoint and query templates from `flags.toml`.
    pub fn metrics(&self) -> &MetricsConfig {
        &self.metrics
    }

    /// Looks a flag up by key.
    #[inline]
    pub fn flag_id(&self, key: &str) -> Option<FlagId> {
        self.index.get(&self.flags, key)
    }

    /// Looks up a flag key a person typed: a miss names the environment and
    /// suggests a close key, so every tool words a typo the same way.
    pub fn find_flag(&self, key: &str) -> Result<FlagId, UnknownFlag> {
        self.flag_id(key).ok_or_else(|| UnknownFlag {
            key: key.to_owned(),
            env: self.meta.env.clone(),
            hint: did_you_mean(key, self.flags.iter().map(|f| &*f.key)),
        })
    }

    /// The flag with this id.
    #[inline]
    pub fn flag(&self, id: FlagId) -> &CompiledFlag {
        &self.flags[id as usize]
    }

    /// All flags, in definition order.
    pub fn flags(&self) -> &[CompiledFlag] {
        &self.flags
    }

    /// The segment with this id.
    pub fn segment(&self, id: SegmentId) -> &CompiledSegment {
        &self.segments[id as usize]
    }

    /// All segments, in definition order.
    pub fn segments(&self) -> &[CompiledSegment] {
        &self.segments
    }

    /// The segments as written, as compact JSON.
    pub fn segment_definitions(&self) -> &str {
        &self.segment_definitions
    }
}

/// A flag ready to evaluate.
#[derive(Debug)]
pub struct CompiledFlag {
    /// The flag key.
    pub key: Box<str>,
    /// Its value type.
    pub kind: FlagType,
    /// Variants in written order; a flag that uses `$codeDefault` has one
    /// more, last: that reference, of value `null` (see
    /// [`CompiledFlag::code_default`]).
    pub variants: Box<[Variant]>,
    /// The id of the synthetic variant `$codeDefault`, when the flag serves
    /// it somewhere: an evaluation that lands on it serves no value, and
    /// the caller uses the default in its code (docs/flag-format.md §5).
    pub code_default: Option<VariantId>,
    /// Served when nothing else applies.
    pub default: CompiledServe,
    /// `false`: the kill switch is on.
    pub enabled: bool,
    /// Served while disabled.
    pub off_variant: VariantId,
    /// The attribute hashed for splits and rollouts.
    pub bucket_by: BucketBy,
    /// How it is hashed into buckets (docs/flag-format.md §6).
    pub bucketing: BucketingMode,
    /// Rules in order.
    pub rules: Box<[CompiledRule]>,
    /// The rollout, if any.
    pub rollout: Option<CompiledRollout>,
    /// Client credentials may evaluate it (`clientSide: true`).
    pub client_side: bool,
    /// `metadata`: entries OFREP answers carry beside `version` and `rule`.
    pub metadata: Box<[(Box<str>, serde_json::Value)]>,
    /// The flag as written, as compact JSON (see [`Ruleset::model`]).
    pub definition: Box<str>,
}

impl CompiledFlag {
    /// The flag as written, read back from [`CompiledFlag::definition`].
    pub fn definition(&self) -> Result<Flag, serde_json::Error> {
        serde_json::from_str(&self.definition)
    }

    /// The variant with this id.
    pub fn variant(&self, id: VariantId) -> &Variant {
        &self.variants[usize::from(id)]
    }

    /// Whether `id` is the synthetic `$codeDefault`, which serves no value.
    #[inline]
    pub fn is_code_default(&self, id: VariantId) -> bool {
        self.code_default == Some(id)
    }

    /// The variants written in the flag, without the synthetic
    /// `$codeDefault`.
    pub fn written_variants(&self) -> &[Variant] {
        match self.code_default {
            Some(id) => &self.variants[..usize::from(id)],
            None => &self.variants,
        }
    }

    /// A variant's id by name.
    pub fn variant_id(&self, name: &str) -> Option<VariantId> {
        self.variants
            .iter()
            .position(|v| &*v.name == name)
            .and_then(|i| VariantId::try_from(i).ok())
    }

    /// True for a flag whose answer never depends on the context.
    pub fn is_static(&self) -> bool {
        self.rules.is_empty() && self.rollout.is_none()
    }

    /// The experiment on one of this flag's splits, if any.
    pub fn experiment(&self) -> Option<(&CompiledSplit, &Experiment)> {
        std::iter::once(&self.default)
            .chain(self.rules.iter().map(|r| &r.serve))
            .find_map(|s| match s {
                CompiledServe::Split(split) => split.experiment.as_ref().map(|e| (&**split, e)),
                CompiledServe::Variant(_) => None,
            })
    }
}

/// A named value.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The variant's name.
    pub name: Box<str>,
    /// The JSON value served, already checked against the flag's type.
    pub value: Value,
    /// `value` as JSON text, written once so that bulk answers copy it
    /// rather than serialize it per request.
    pub value_json: Box<str>,
}

/// Which context attribute identifies a unit for hashing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketBy {
    /// The standard key (`targetingKey`, alias `userId`).
    TargetingKey,
    /// Another attribute, e.g. `accountId`.
    Attr(AttrKey),
}

impl BucketBy {
    /// The attribute's name.
    pub fn name(&self) -> &str {
        match self {
            BucketBy::TargetingKey => "targetingKey",
            BucketBy::Attr(a) => a,
        }
    }
}

/// A `{percentage: …}` condition: the context's rollout bucket, in the
/// flag's bucketing mode, below a threshold.
#[derive(Debug)]
pub struct PercentageTest {
    /// The flag's bucketing mode.
    pub mode: BucketingMode,
    /// The attributes hashed, the first that gives a key.
    pub bucket_by: Box<[BucketBy]>,
    /// The bytes hashed before the key ([`BucketingMode::key_prefix`]).
    pub salt_prefix: Box<[u8]>,
    /// murmur3's state after `salt_prefix` (the rollout seed).
    pub murmur: Murmur3Prefix,
    /// Inside iff `bucket < threshold` (thousandths of a percent).
    pub threshold: u32,
}

/// A rule ready to evaluate.
#[derive(Debug)]
pub struct CompiledRule {
    /// The rule's name.
    pub name: Box<str>,
    /// Its condition.
    pub when: Cond,
    /// What it serves.
    pub serve: CompiledServe,
}

/// A variant or a split.
#[derive(Debug)]
pub enum CompiledServe {
    /// One variant.
    Variant(VariantId),
    /// A weighted split.
    Split(Box<CompiledSplit>),
}

/// A split as bucket ranges.
#[derive(Debug)]
pub struct CompiledSplit {
    /// The bytes hashed before the key: `salt + ":"`, or the salt alone in
    /// the flagd modes ([`BucketingMode::key_prefix`]).
    pub salt_prefix: Box<[u8]>,
    /// murmur3's state after `salt_prefix` (flagd and Unleash modes).
    pub murmur: Murmur3Prefix,
    /// The salt as written (or the flag key).
    pub salt: Box<str>,
    /// The attributes hashed instead of the flag's `bucketBy`, the first
    /// that gives a key; `None`: the flag's.
    pub bucket_by: Option<Box<[BucketBy]>>,
    /// How many buckets the hash is mapped onto: 100000 (xxh3), the sum of
    /// the integer weights (flagd-v2, unleash), or 2³¹ + 1 (flagd-v1, whose
    /// bucket is `|i32(hash)|`).
    pub buckets: u32,
    /// Per slot: the variant and the exclusive upper bucket bound. Slots are
    /// in written order; zero-weight variants have empty ranges.
    pub slots: Box<[SplitSlot]>,
    /// The experiment on this split, if any.
    pub experiment: Option<Experiment>,
}

/// One variant's range in a split: buckets `[previous upper, upper)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitSlot {
    /// The variant served to buckets in this slot.
    pub variant: VariantId,
    /// Exclusive upper bound.
    pub upper: u32,
    /// The configured weight (for statistics).
    pub weight: f64,
}

impl CompiledSplit {
    /// The variant owning `bucket`.
    #[inline]
    pub fn pick(&self, bucket: u32) -> VariantId {
        self.slots
            .iter()
            .find(|s| bucket < s.upper)
            .or(self.slots.last())
            .map_or(0, |s| s.variant)
    }
}

/// A half-open range of instants; a missing bound is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Inclusive start.
    pub after: Option<Timestamp>,
    /// Exclusive end.
    pub before: Option<Timestamp>,
}

impl TimeRange {
    /// Whether `now` is inside.
    #[inline]
    pub fn contains(&self, now: Timestamp) -> bool {
        self.after.is_none_or(|a| now >= a) && self.before.is_none_or(|b| now < b)
    }
}

/// A scalar operand of an equality test.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A string.
    Str(Box<str>),
    /// A number.
    Num(f64),
    /// A boolean.
    Bool(bool),
}

/// Strings to compare against: a short list is scanned, a long one hashed.
#[derive(Debug, Clone)]
pub enum StrSet {
    /// Up to a handful of strings.
    Few(Box<[Box<str>]>),
    /// Many strings.
    Many(HashSet<Box<str>>),
}

impl StrSet {
    /// Above this many strings a hash set beats a scan.
    const SCAN_LIMIT: usize = 8;

    /// Builds the set.
    pub fn new(items: Vec<Box<str>>) -> Self {
        if items.len() <= Self::SCAN_LIMIT {
            StrSet::Few(items.into_boxed_slice())
        } else {
            StrSet::Many(items.into_iter().collect())
        }
    }

    /// Membership. Inlined: a rule's `eq` or `in` is a short scan.
    #[inline(always)]
    pub fn contains(&self, s: &str) -> bool {
        match self {
            // A loop, not `Iterator::any`, whose closure stayed a call.
            StrSet::Few(items) => {
                for item in items {
                    if crate::text::same(item, s) {
                        return true;
                    }
                }
                false
            }
            StrSet::Many(set) => set.contains(s),
        }
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        match self {
            StrSet::Few(items) => items.is_empty(),
            StrSet::Many(set) => set.is_empty(),
        }
    }
}

/// How an attribute is tested.
#[derive(Debug)]
pub enum AttrTest {
    /// Present and not null.
    Exists,
    /// `eq`/`in` (any operand equal) or `neq`/`not_in` (none equal).
    Equals {
        /// True for `neq`/`not_in`.
        negated: bool,
        /// String operands.
        strings: StrSet,
        /// Number and boolean operands.
        others: Box<[Scalar]>,
    },
    /// String contains, or list has the element.
    Contains(Box<[Scalar]>),
    /// String starts with.
    StartsWith(Box<[Box<str>]>),
    /// String ends with.
    EndsWith(Box<[Box<str>]>),
    /// String matches a regex.
    Matches(Box<[Regex]>),
    /// Numeric comparison against any operand.
    Compare(NumOp, Box<[f64]>),
    /// Semantic-version comparison against any operand.
    Semver(NumOp, Box<[semver::Version]>),
    /// An IP address inside any network.
    Cidr(Box<[ipnet::IpNet]>),
    /// Timestamp attribute before (`<`) or at/after (`>=`) any operand.
    Instant {
        /// True for `before`.
        before: bool,
        /// The instants compared with, parsed once at compile time.
        operands: Box<[Timestamp]>,
    },
}

/// An ordering test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumOp {
    /// `==`
    Eq,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
}

impl NumOp {
    /// Applies the test to an ordering of attribute vs operand.
    #[inline]
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            NumOp::Eq => ord == Equal,
            NumOp::Gt => ord == Greater,
            NumOp::Gte => ord != Less,
            NumOp::Lt => ord == Less,
            NumOp::Lte => ord != Greater,
        }
    }
}

/// A compiled segment.
#[derive(Debug)]
pub struct CompiledSegment {
    /// The segment's name, for messages and the explanation API.
    pub name: Box<str>,
    /// Targeting keys that belong.
    pub keys: StrSet,
    /// A condition that admits, if any.
    pub when: Option<Cond>,
}

/// A compiled rollout.
#[derive(Debug)]
pub struct CompiledRollout {
    /// Canary, linear, scheduled, segment or direct.
    pub strategy: Strategy,
    /// The variant served inside.
    pub serve: VariantId,
    /// The bytes hashed before the key for membership: `salt + ":"`, or
    /// the salt alone in the flagd modes ([`BucketingMode::key_prefix`]).
    pub salt_prefix: Box<[u8]>,
    /// murmur3's state after `salt_prefix` (flagd and Unleash modes).
    pub murmur: Murmur3Prefix,
    /// The salt as written, else `<flag>:rollout` (xxh3) or the flag key
    /// ([`BucketingMode::default_rollout_salt`]).
    pub salt: Box<str>,
    /// Strategy-specific plan.
    pub plan: RolloutPlan,
    /// Health gating.
    pub health: CompiledHealth,
    /// Roll back (true) or pause (false) on failed health.
    pub rollback_on_error: bool,
    /// Hash of the rollout spec as written: a change starts a new rollout.
    pub spec_hash: String,
}

/// What each strategy needs at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum RolloutPlan {
    /// Everyone at once.
    Direct,
    /// Health-gated stages.
    Canary {
        /// Stages in order.
        stages: Box<[CompiledStage]>,
    },
    /// Time-based ramp.
    Linear {
        /// Starting threshold.
        from: u32,
        /// Final threshold.
        to: u32,
        /// Ramp length.
        over: Duration,
        /// Increment in thresholds (0: continuous).
        step: u32,
    },
    /// A time window.
    Scheduled(TimeRange),
    /// Members of segments.
    Segment {
        /// Membership in any one of them puts the context inside.
        segments: Box<[SegmentId]>,
    },
}

/// One canary stage.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledStage {
    /// Membership threshold.
    pub threshold: u32,
    /// Minimum time in the stage (none for a final stage).
    pub duration: Option<Duration>,
}

/// Health checks, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledHealth {
    /// Time between checks.
    pub interval: Duration,
    /// Failed checks in a stage that trigger rollback.
    pub failure_limit: u32,
    /// Missing-data policy.
    pub no_data: NoData,
    /// Threshold and comparison checks, run in order every interval.
    pub checks: Vec<CompiledCheck>,
}

/// One check with its query templates resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledCheck {
    /// The check's name.
    pub name: String,
    /// What it measures and how it is judged.
    pub kind: CheckKind,
}

/// The two kinds of health check.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckKind {
    /// One query whose value must stay within bounds.
    Threshold {
        /// PromQL with `{{…}}` placeholders still in.
        query: String,
        /// Upper bound.
        max: Option<f64>,
        /// Lower bound.
        min: Option<f64>,
    },
    /// The rollout variant's failure rate against the baseline's
    /// (`compare: baseline`).
    Baseline(CompiledComparison),
}

/// A `compare: baseline` check: two query templates, each run for the
/// rollout variant and for the baseline, and the guardrail test's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledComparison {
    /// The variant compared with.
    pub baseline: VariantId,
    /// PromQL counting failures of `{{variant}}`.
    pub failures: String,
    /// PromQL counting all requests of `{{variant}}`.
    pub total: String,
    /// Tolerance, alpha and minimum samples, defaults applied.
    pub guardrail: GuardrailConfig,
}

/// The guardrail's parameters, from the rollout's health check: the
/// test itself is the stats crate's (docs/rollouts.md, guardrails).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardrailConfig {
    /// How much higher the rollout variant's failure rate may be, in
    /// absolute terms (0.002 = 0.2 percentage points).
    pub tolerance: f64,
    /// One-sided significance level.
    pub alpha: f64,
    /// Fewer total requests than this in either group is "no data".
    pub min_samples: f64,
}

impl Default for GuardrailConfig {
    /// No tolerance, α = 0.05, at least 100 requests per group.
    fn default() -> Self {
        GuardrailConfig {
            tolerance: 0.0,
            alpha: 0.05,
            min_samples: 100.0,
        }
    }
}
