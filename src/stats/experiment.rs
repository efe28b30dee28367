//! One A/B/n experiment: its data, and the whole analysis of it.
//!
//! The data is per variant: exposures, and either conversions (a conversion
//! metric) or the sum and sum of squares of a value (a continuous metric).
//! It comes from a JSON file ([`ExperimentData::from_json`], the format of
//! `docs/experiments.md`) or is assembled by the caller (exposures from
//! flagd, conversions from Prometheus). Optionally it carries earlier
//! cumulative snapshots, `history`, oldest first: the sequential p-value is
//! the running minimum over all looks, so keeping yesterday's numbers keeps
//! today's sequential p-value from rising above yesterday's.
//!
//! [`analyze`] compares every treatment with the control and adds the
//! overall test, the sample-ratio-mismatch check and the power calculation.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::diagnostic::{Diagnostic, KeyPath};
use crate::parse::{Format, Node, from_node, parse_document};

use super::chisquare::{self, ChiSquareTest};
use super::means::{self, Summary};
use super::proportions::{self, Counts};
use super::sequential::{self, AlwaysValid};
use super::{Interval, StatsError, multiple, non_negative, power, unit_open};

/// Significance level when the flag and the command line give none.
pub const DEFAULT_ALPHA: f64 = 0.05;
/// Relative minimum detectable effect when none is configured (5 %).
pub const DEFAULT_MDE: f64 = 0.05;
/// The power sample sizes are planned for.
pub const DEFAULT_POWER: f64 = 0.8;
/// A sample-ratio mismatch is declared below this p-value. Deliberately far
/// below α: the check runs on every analysis of every experiment, and a
/// false alarm discards a valid experiment, while real assignment bugs
/// produce p-values many orders of magnitude smaller.
pub const SRM_THRESHOLD: f64 = 0.001;

/// What is measured per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Converted or not: a rate per variant.
    Conversion,
    /// A number per unit (revenue, duration): a mean per variant.
    Continuous,
}

impl Metric {
    /// `conversion` or `continuous`.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Conversion => "conversion",
            Metric::Continuous => "continuous",
        }
    }

    /// What a variant's estimate is: `rate` or `mean`.
    pub fn estimate_name(self) -> &'static str {
        match self {
            Metric::Conversion => "rate",
            Metric::Continuous => "mean",
        }
    }
}

/// What was observed of one variant besides its exposures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Observed {
    /// Units that converted.
    Conversions(f64),
    /// `Σx` and `Σx²` of the metric over the exposed units.
    Sums {
        /// `Σx`.
        sum: f64,
        /// `Σx²`.
        sum_squares: f64,
    },
}

/// One variant's cumulative counts.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantData {
    /// The variant's name.
    pub name: String,
    /// Units exposed to it.
    pub exposures: f64,
    /// Their outcome.
    pub observed: Observed,
}

/// All variants' counts at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VariantCounts {
    /// A label for messages (e.g. a date); not used in computations.
    pub at: Option<String>,
    /// The variants, in the order given.
    pub variants: Vec<VariantData>,
}

/// An experiment's data: the latest counts and, optionally, earlier ones.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExperimentData {
    /// The control named by the data, if any.
    pub control: Option<String>,
    /// The latest cumulative counts.
    pub current: VariantCounts,
    /// Earlier cumulative counts, oldest first.
    pub history: Vec<VariantCounts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    control: Option<String>,
    variants: IndexMap<String, RawVariant>,
    #[serde(default)]
    history: Vec<RawVariantCounts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariantCounts {
    #[serde(default)]
    at: Option<String>,
    variants: IndexMap<String, RawVariant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawVariant {
    #[serde(default, deserialize_with = "number")]
    exposures: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    conversions: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    sum: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    sum_squares: Option<f64>,
}

/// A count or sum: any JSON number ("expected a number", not serde's "f64").
fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    struct Number;
    impl serde::de::Visitor<'_> for Number {
        type Value = f64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a number")
        }
        fn visit_f64<E>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_i64<E>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
    }
    d.deserialize_f64(Number).map(Some)
}

/// The snapshot under `path` (`variants`, `history[0].variants`) of the
/// data file `doc`; shape errors are located at the variant.
fn snapshot(
    doc: &Node,
    path: &KeyPath,
    at: Option<String>,
    raw: IndexMap<String, RawVariant>,
) -> Result<VariantCounts, StatsError> {
    let mut variants = Vec::with_capacity(raw.len());
    for (name, v) in raw {
        let here = path.key(name.as_str());
        let error = |message: String| {
            StatsError::File(
                Diagnostic::error(here.clone(), message).at(doc.report_position(&here)),
            )
        };
        let missing = |field: &str| error(format!("variant `{name}` has no `{field}`"));
        let exposures = v.exposures.ok_or_else(|| missing("exposures"))?;
        let observed = match (v.conversions, v.sum, v.sum_squares) {
            (Some(c), None, None) => Observed::Conversions(c),
            (None, Some(sum), Some(sum_squares)) => Observed::Sums { sum, sum_squares },
            (None, Some(_), None) => return Err(missing("sumSquares")),
            (None, None, Some(_)) => return Err(missing("sum")),
            (None, None, None) => {
                return Err(error(format!(
                    "variant `{name}` needs `conversions` (a conversion metric) or `sum` and `sumSquares` (a continuous metric)"
                )));
            }
            (Some(_), _, _) => {
                return Err(error(format!(
                    "variant `{name}` has both `conversions` and `sum`/`sumSquares`: give one metric"
                )));
            }
        };
        variants.push(VariantData {
            name,
            exposures,
            observed,
        });
    }
    Ok(VariantCounts { at, variants })
}

impl ExperimentData {
    /// Reads the JSON data file format (see `docs/experiments.md`). Only
    /// the shape is checked here; [`analyze`] checks the numbers. The file
    /// is read like a flag file (strict JSON, duplicate keys refused), so a
    /// shape error says where: line, column and key path
    /// ([`StatsError::File`]).
    pub fn from_json(text: &str) -> Result<Self, StatsError> {
        let doc = parse_document(text, Format::Json)
            .map_err(|e| StatsError::File(e.into_diagnostic()))?;
        let raw: RawFile =
            from_node(&doc).map_err(|e| StatsError::File(e.into_diagnostic(&KeyPath::root())))?;
        let mut history = Vec::with_capacity(raw.history.len());
        for (i, h) in raw.history.into_iter().enumerate() {
            let path = KeyPath::root().key("history").index(i).key("variants");
            history.push(snapshot(&doc, &path, h.at, h.variants)?);
        }
        Ok(ExperimentData {
            control: raw.control,
            current: snapshot(&doc, &KeyPath::root().key("variants"), None, raw.variants)?,
            history,
        })
    }
}

/// Settings of an analysis, usually from the flag's `experiment` block.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisConfig {
    /// Significance level; intervals are at `1 − alpha`.
    pub alpha: f64,
    /// The smallest relative effect worth detecting: sets the power
    /// calculation and the sequential test's mixture scale τ.
    pub minimum_detectable_effect: f64,
    /// The power sample sizes are planned for.
    pub power: f64,
    /// The control when the data names none (default: the first variant).
    pub control: Option<String>,
    /// The split's configured weights by variant, for the sample-ratio
    /// check; `None` expects equal shares.
    pub weights: Option<Vec<(String, f64)>>,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            alpha: DEFAULT_ALPHA,
            minimum_detectable_effect: DEFAULT_MDE,
            power: DEFAULT_POWER,
            control: None,
            weights: None,
        }
    }
}

/// A treatment compared with the control.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    /// Treatment minus control (rate or mean).
    pub diff: f64,
    /// Its interval: unpooled Wald for rates, Welch for means.
    pub diff_ci: Interval,
    /// `diff / control`; `None` when the control's rate or mean is 0.
    pub lift: Option<f64>,
    /// The z (rates) or Welch t (means) statistic.
    pub statistic: f64,
    /// The fixed-horizon two-sided p-value.
    pub p_value: f64,
    /// Holm-adjusted across the treatments.
    pub adjusted_p_value: f64,
    /// The always-valid p-value (mSPRT), running minimum over the looks.
    pub sequential_p_value: f64,
    /// The sequential p-values, Holm-adjusted across the treatments.
    pub adjusted_sequential_p_value: f64,
    /// `adjusted_p_value ≤ alpha`.
    pub significant: bool,
    /// `adjusted_sequential_p_value ≤ alpha`: the answer that stays valid
    /// however often the results are looked at.
    pub sequential_significant: bool,
    /// The mixture scale τ of the latest look (absolute, in the metric's units).
    pub tau: f64,
}

/// One variant's results.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantResult {
    /// The variant.
    pub name: String,
    /// Its exposures.
    pub exposures: f64,
    /// Its rate (conversion) or mean (continuous).
    pub estimate: f64,
    /// The estimate's interval: Wilson for rates, t for means.
    pub ci: Interval,
    /// The comparison with the control; `None` for the control itself.
    pub comparison: Option<Comparison>,
}

/// The test across all variants at once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OverallTest {
    /// `chi-square` (conversion) or `anova` (continuous).
    pub test: &'static str,
    /// χ² or F.
    pub statistic: f64,
    /// Degrees of freedom (the numerator's for F).
    #[serde(serialize_with = "whole")]
    pub df: f64,
    /// The denominator's degrees of freedom for F.
    #[serde(serialize_with = "whole_or_null")]
    pub df_within: Option<f64>,
    /// The p-value.
    pub p_value: f64,
}

/// The sample-ratio-mismatch check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Srm {
    /// χ² of exposures against the configured shares.
    pub statistic: f64,
    /// Its degrees of freedom.
    #[serde(serialize_with = "whole")]
    pub df: f64,
    /// Its p-value.
    pub p_value: f64,
    /// `p_value < threshold`: the results are not trustworthy.
    pub mismatch: bool,
    /// [`SRM_THRESHOLD`], reported so a reader of the JSON knows the bar.
    pub threshold: f64,
    /// The configured share of each variant, in variant order.
    pub expected_shares: IndexMap<String, f64>,
    /// The observed share of each variant.
    pub observed_shares: IndexMap<String, f64>,
}

/// How many units the experiment needs, and how far along it is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PowerPlan {
    /// Units per variant for the minimum detectable effect (rounded up);
    /// `None` when the control's numbers give it no size (a rate or mean of 0).
    #[serde(serialize_with = "units")]
    pub required_per_variant: Option<f64>,
    /// The smallest variant's exposures over that; may exceed 1.
    pub progress: Option<f64>,
    /// The per-comparison level planned for: α / (number of treatments).
    pub alpha: f64,
    /// The power planned for.
    pub power: f64,
}

/// The analysis of one experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Conversion or continuous.
    pub metric: Metric,
    /// The control variant.
    pub control: String,
    /// Significance level.
    pub alpha: f64,
    /// Interval confidence level, `1 − alpha`.
    pub confidence_level: f64,
    /// The relative minimum detectable effect used.
    pub minimum_detectable_effect: f64,
    /// Looks at the data: history entries plus the current one.
    pub looks: usize,
    /// Every variant, in data order.
    pub variants: Vec<VariantResult>,
    /// The test across all variants.
    pub overall: OverallTest,
    /// The sample-ratio-mismatch check.
    pub srm: Srm,
    /// The power calculation.
    pub power: PowerPlan,
}

// ------------------------------------------------------------------ JSON
//
// `flagctl experiment analyze --format json` prints an [`Analysis`] as
// serde renders it; docs/experiments.md §3 lists the fields.

/// A count as people write it: `10000`, not `10000.0` (exposures and
/// degrees of freedom are whole numbers, unless a Prometheus `increase()`
/// extrapolated them).
fn whole<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        s.serialize_i64(*x as i64)
    } else {
        s.serialize_f64(*x)
    }
}

fn whole_or_null<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(x) => whole(x, s),
        None => s.serialize_none(),
    }
}

/// A sample size, rounded up already: whole units.
fn units<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    x.map(|x| x as u64).serialize(s)
}

/// `{metric, control, alpha, confidenceLevel, minimumDetectableEffect,
/// looks, variants, overall, srm, power}`; each variant's estimate is named
/// after the metric (`rate` or `mean`), which the variant itself does not
/// know, hence a hand-written impl over derived parts.
impl Serialize for Analysis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Flat<'a> {
            metric: Metric,
            control: &'a str,
            alpha: f64,
            confidence_level: f64,
            minimum_detectable_effect: f64,
            looks: usize,
            variants: Vec<VariantJson<'a>>,
            overall: &'a OverallTest,
            srm: &'a Srm,
            power: &'a PowerPlan,
        }
        Flat {
            metric: self.metric,
            control: &self.control,
            alpha: self.alpha,
            confidence_level: self.confidence_level,
            minimum_detectable_effect: self.minimum_detectable_effect,
            looks: self.looks,
            variants: self
                .variants
                .iter()
                .map(|v| VariantJson::new(self.metric, v))
                .collect(),
            overall: &self.overall,
            srm: &self.srm,
            power: &self.power,
        }
        .serialize(s)
    }
}

/// One variant in the JSON: `{name, exposures, rate|mean, ci, isControl}`
/// and the comparison's fields, null for the control so that every variant
/// has the same keys.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VariantJson<'a> {
    name: &'a str,
    #[serde(serialize_with = "whole")]
    exposures: f64,
    #[serde(flatten)]
    estimate: Estimate,
    ci: Interval,
    is_control: bool,
    #[serde(flatten)]
    comparison: ComparisonJson<'a>,
}

impl<'a> VariantJson<'a> {
    fn new(metric: Metric, v: &'a VariantResult) -> Self {
        VariantJson {
            name: &v.name,
            exposures: v.exposures,
            estimate: match metric {
                Metric::Conversion => Estimate::Rate(v.estimate),
                Metric::Continuous => Estimate::Mean(v.estimate),
            },
            ci: v.ci,
            is_control: v.comparison.is_none(),
            comparison: match &v.comparison {
                Some(c) => ComparisonJson::Treatment(c),
                None => ComparisonJson::Control(NoComparison::default()),
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum Estimate {
    Rate(f64),
    Mean(f64),
}

#[derive(Serialize)]
#[serde(untagged)]
enum ComparisonJson<'a> {
    Treatment(&'a Comparison),
    Control(NoComparison),
}

/// [`Comparison`]'s keys, all null (a test keeps the two in step).
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct NoComparison {
    diff: (),
    diff_ci: (),
    lift: (),
    statistic: (),
    p_value: (),
    adjusted_p_value: (),
    sequential_p_value: (),
    adjusted_sequential_p_value: (),
    significant: (),
    sequential_significant: (),
    tau: (),
}

/// One variant ready for the statistics.
#[derive(Debug, Clone, Copy)]
enum Group {
    Rate(Counts),
    Mean(Summary),
}

impl Group {
    fn estimate(&self) -> f64 {
        match self {
            Group::Rate(c) => c.rate(),
            Group::Mean(s) => s.mean(),
        }
    }
}

fn metric_of(observed: &Observed) -> Metric {
    match observed {
        Observed::Conversions(_) => Metric::Conversion,
        Observed::Sums { .. } => Metric::Continuous,
    }
}

/// Validates one variant's numbers, naming it in every error.
fn group(place: &str, v: &VariantData) -> Result<Group, StatsError> {
    let what = |field: &str| format!("{place}the {field} of variant `{}`", v.name);
    let exposures = non_negative(|| what("exposures"), v.exposures)?;
    if exposures == 0.0 {
        return Err(StatsError::TooFew {
            what: format!("{place}variant `{}`", v.name),
            n: 0.0,
            unit: "exposures",
            min: 1.0,
        });
    }
    match v.observed {
        Observed::Conversions(c) => {
            non_negative(|| what("conversions"), c)?;
            if c > exposures {
                return Err(StatsError::Exceeds {
                    what: format!("{place}variant `{}`", v.name),
                    part: "conversions",
                    count: c,
                    whole: "exposures",
                    total: exposures,
                });
            }
            Ok(Group::Rate(Counts::new(c, exposures)?))
        }
        Observed::Sums { sum, sum_squares } => {
            if !sum.is_finite() {
                return Err(StatsError::NotFinite {
                    what: what("sum"),
                    value: sum,
                });
            }
            non_negative(|| what("sumSquares"), sum_squares)?;
            if exposures < 2.0 {
                return Err(StatsError::TooFew {
                    what: format!("{place}variant `{}`", v.name),
                    n: exposures,
                    unit: "exposures",
                    min: 2.0,
                });
            }
            Summary::from_sums(exposures, sum, sum_squares)
                .map(Group::Mean)
                .map_err(|e| match e {
                    StatsError::NotSumOfSquares {
                        sum_squares, floor, ..
                    } => StatsError::NotSumOfSquares {
                        what: format!("{place}variant `{}`", v.name),
                        sum_squares,
                        floor,
                    },
                    other => other,
                })
        }
    }
}

/// Validates a snapshot against the current one's variant names and metric.
fn groups(
    place: &str,
    snapshot: &VariantCounts,
    names: &[&str],
    metric: Metric,
) -> Result<Vec<Group>, StatsError> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let v = snapshot
            .variants
            .iter()
            .find(|v| v.name == *name)
            .ok_or_else(|| StatsError::Data(format!("{place}variant `{name}` is missing")))?;
        if metric_of(&v.observed) != metric {
            return Err(StatsError::Data(format!(
                "{place}variant `{name}` has a {} metric, the others a {} one",
                metric_of(&v.observed).as_str(),
                metric.as_str()
            )));
        }
        out.push(group(place, v)?);
    }
    if let Some(extra) = snapshot
        .variants
        .iter()
        .find(|v| !names.contains(&v.name.as_str()))
    {
        return Err(StatsError::Data(format!(
            "{place}variant `{}` is not among the current data's variants",
            extra.name
        )));
    }
    Ok(out)
}

/// Counts of a later look must not be below an earlier look's: the data
/// is cumulative.
fn check_cumulative(
    place: &str,
    names: &[&str],
    earlier: &[Group],
    later: &[Group],
) -> Result<(), StatsError> {
    for ((name, a), b) in names.iter().zip(earlier).zip(later) {
        let (fewer, what) = match (a, b) {
            (Group::Rate(a), Group::Rate(b)) => (
                b.trials() < a.trials() || b.successes() < a.successes(),
                "exposures or conversions",
            ),
            (Group::Mean(a), Group::Mean(b)) => (b.n() < a.n(), "exposures"),
            _ => (false, ""),
        };
        if fewer {
            return Err(StatsError::Data(format!(
                "{place}variant `{name}` has more {what} than the next look; history must hold cumulative counts, oldest first"
            )));
        }
    }
    Ok(())
}

struct Fixed {
    statistic: f64,
    p_value: f64,
}

fn fixed_test(t: &Group, c: &Group) -> Fixed {
    match (t, c) {
        (Group::Rate(t), Group::Rate(c)) => {
            let z = proportions::two_proportion_z_test(*t, *c);
            Fixed {
                statistic: z.statistic,
                p_value: z.p_value,
            }
        }
        (Group::Mean(t), Group::Mean(c)) => {
            let w = means::welch_t_test(*t, *c);
            Fixed {
                statistic: w.statistic,
                p_value: w.p_value,
            }
        }
        _ => Fixed {
            statistic: f64::NAN,
            p_value: f64::NAN,
        },
    }
}

/// One look's sequential p-value and the τ it used.
fn sequential_look(t: &Group, c: &Group, mde: f64, fixed: f64) -> Result<(f64, f64), StatsError> {
    let (estimate, variance, tau) = match (t, c) {
        (Group::Rate(t), Group::Rate(c)) => {
            let pooled = (t.successes() + c.successes()) / (t.trials() + c.trials());
            (
                t.rate() - c.rate(),
                proportions::pooled_variance(*t, *c),
                sequential::mixture_scale(mde, pooled, (pooled * (1.0 - pooled)).sqrt()),
            )
        }
        (Group::Mean(t), Group::Mean(c)) => {
            let n = t.n() + c.n();
            let pooled_mean = (t.n() * t.mean() + c.n() * c.mean()) / n;
            let pooled_sd =
                (((t.n() - 1.0) * t.variance() + (c.n() - 1.0) * c.variance()) / (n - 2.0)).sqrt();
            (
                t.mean() - c.mean(),
                t.variance() / t.n() + c.variance() / c.n(),
                sequential::mixture_scale(mde, pooled_mean, pooled_sd),
            )
        }
        _ => return Err(StatsError::Data("mixed metrics".into())),
    };
    Ok((
        sequential::look_p_value(estimate, variance, tau, fixed)?,
        tau,
    ))
}

/// The configured weight of each variant (in data order), checking that the
/// data and the split agree on the variants.
fn expected_weights(
    variants: &[VariantData],
    configured: Option<&[(String, f64)]>,
) -> Result<Vec<f64>, StatsError> {
    let Some(configured) = configured else {
        return Ok(vec![1.0; variants.len()]);
    };
    let split_names = || {
        configured
            .iter()
            .map(|(n, _)| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (name, weight) in configured {
        non_negative(|| format!("the weight of variant `{name}`"), *weight)?;
        if *weight > 0.0 && !variants.iter().any(|v| &v.name == name) {
            return Err(StatsError::VariantMismatch(format!(
                "the split has variant `{name}` (weight {weight}) but the data does not; give every variant of the split"
            )));
        }
    }
    variants
        .iter()
        .map(|v| {
            let weight = configured
                .iter()
                .find(|(n, _)| n == &v.name)
                .map(|(_, w)| *w)
                .ok_or_else(|| {
                    StatsError::VariantMismatch(format!(
                        "variant `{}` of the data is not in the split (variants: {})",
                        v.name,
                        split_names()
                    ))
                })?;
            Ok(weight)
        })
        .collect()
}

/// Analyses an experiment: every treatment against the control, the
/// overall test, the sample-ratio check and the power plan.
///
/// Errors name the variant (and the history entry) at fault: fewer than two
/// variants, an unknown control, a negative or non-finite number, more
/// conversions than exposures, no exposures, fewer than two exposures for a
/// continuous metric, impossible sums of squares, mixed metrics, history
/// that is not cumulative, variants that do not match the split.
pub fn analyze(data: &ExperimentData, config: &AnalysisConfig) -> Result<Analysis, StatsError> {
    let alpha = unit_open("alpha", config.alpha)?;
    let target_power = unit_open("the power", config.power)?;
    let mde = config.minimum_detectable_effect;
    if !(mde > 0.0 && mde.is_finite()) {
        return Err(StatsError::OutOfRange {
            what: "the minimum detectable effect".into(),
            range: "a positive number",
            value: mde,
        });
    }
    let variants = &data.current.variants;
    if variants.len() < 2 {
        return Err(StatsError::TooFewVariants(variants.len()));
    }
    let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(StatsError::Data(format!("variant `{name}` appears twice")));
        }
    }
    let control_name = data
        .control
        .as_deref()
        .or(config.control.as_deref())
        .unwrap_or(names[0]);
    let control = names
        .iter()
        .position(|n| *n == control_name)
        .ok_or_else(|| StatsError::UnknownControl {
            control: control_name.to_owned(),
            variants: names.join(", "),
        })?;
    let metric = metric_of(&variants[0].observed);
    let current = groups("", &data.current, &names, metric)?;
    let weights = expected_weights(variants, config.weights.as_deref())?;

    // Every look, oldest first, validated and checked to be cumulative.
    let mut looks: Vec<Vec<Group>> = Vec::with_capacity(data.history.len() + 1);
    for (i, snap) in data.history.iter().enumerate() {
        let place = match &snap.at {
            Some(at) => format!("history[{i}] ({at}): "),
            None => format!("history[{i}]: "),
        };
        let g = groups(&place, snap, &names, metric)?;
        if let Some(prev) = looks.last() {
            check_cumulative(&format!("history[{}]: ", i - 1), &names, prev, &g)?;
        }
        looks.push(g);
    }
    if let Some(prev) = looks.last() {
        let place = format!("history[{}]: ", looks.len() - 1);
        check_cumulative(&place, &names, prev, &current)?;
    }
    looks.push(current.clone());

    let level = 1.0 - alpha;
    let control_group = current[control];
    let treatments: Vec<usize> = (0..names.len()).filter(|&i| i != control).collect();

    // Fixed-horizon and sequential p-values of each treatment.
    let mut fixed = Vec::with_capacity(treatments.len());
    let mut sequential = Vec::with_capacity(treatments.len());
    let mut taus = Vec::with_capacity(treatments.len());
    for &i in &treatments {
        let mut running = AlwaysValid::new();
        let mut tau = 0.0;
        let mut last = None;
        for look in &looks {
            let f = fixed_test(&look[i], &look[control]);
            let (p, t) = sequential_look(&look[i], &look[control], mde, f.p_value)?;
            running.observe(p);
            tau = t;
            last = Some(f);
        }
        fixed.push(last.unwrap_or(Fixed {
            statistic: f64::NAN,
            p_value: f64::NAN,
        }));
        sequential.push(running.p_value());
        taus.push(tau);
    }
    let adjusted = multiple::holm(&fixed.iter().map(|f| f.p_value).collect::<Vec<_>>())?;
    let adjusted_seq = multiple::holm(&sequential)?;

    let mut results = Vec::with_capacity(names.len());
    for (i, v) in variants.iter().enumerate() {
        let g = current[i];
        let ci = match g {
            Group::Rate(c) => proportions::wilson_interval(c, level)?,
            Group::Mean(s) => means::t_interval(s, level)?,
        };
        let comparison = match treatments.iter().position(|&t| t == i) {
            None => None,
            Some(k) => {
                let diff = g.estimate() - control_group.estimate();
                let diff_ci = match (g, control_group) {
                    (Group::Rate(t), Group::Rate(c)) => {
                        proportions::wald_difference_interval(t, c, level)?
                    }
                    (Group::Mean(t), Group::Mean(c)) => {
                        means::welch_difference_interval(t, c, level)?
                    }
                    _ => return Err(StatsError::Data("mixed metrics".into())),
                };
                let base = control_group.estimate();
                Some(Comparison {
                    diff,
                    diff_ci,
                    lift: (base != 0.0).then(|| diff / base),
                    statistic: fixed[k].statistic,
                    p_value: fixed[k].p_value,
                    adjusted_p_value: adjusted[k],
                    sequential_p_value: sequential[k],
                    adjusted_sequential_p_value: adjusted_seq[k],
                    significant: adjusted[k] <= alpha,
                    sequential_significant: adjusted_seq[k] <= alpha,
                    tau: taus[k],
                })
            }
        };
        results.push(VariantResult {
            name: v.name.clone(),
            exposures: v.exposures,
            estimate: g.estimate(),
            ci,
            comparison,
        });
    }

    let overall = match metric {
        Metric::Conversion => {
            let table: Vec<Vec<f64>> = current
                .iter()
                .map(|g| match g {
                    Group::Rate(c) => vec![c.successes(), c.trials() - c.successes()],
                    Group::Mean(_) => vec![],
                })
                .collect();
            let t = chisquare::independence(&table)?;
            OverallTest {
                test: "chi-square",
                statistic: t.statistic,
                df: t.df,
                df_within: None,
                p_value: t.p_value,
            }
        }
        Metric::Continuous => {
            let summaries: Vec<Summary> = current
                .iter()
                .filter_map(|g| match g {
                    Group::Mean(s) => Some(*s),
                    Group::Rate(_) => None,
                })
                .collect();
            let f = means::one_way_anova(&summaries)?;
            OverallTest {
                test: "anova",
                statistic: f.statistic,
                df: f.df_between,
                df_within: Some(f.df_within),
                p_value: f.p_value,
            }
        }
    };

    let exposures: Vec<f64> = variants.iter().map(|v| v.exposures).collect();
    let srm_test: ChiSquareTest = chisquare::goodness_of_fit(&exposures, &weights)?;
    let total_weight: f64 = weights.iter().sum();
    let total_exposures: f64 = exposures.iter().sum();
    let srm = Srm {
        statistic: srm_test.statistic,
        df: srm_test.df,
        p_value: srm_test.p_value,
        mismatch: srm_test.p_value < SRM_THRESHOLD,
        threshold: SRM_THRESHOLD,
        expected_shares: names
            .iter()
            .zip(&weights)
            .map(|(n, w)| ((*n).to_owned(), w / total_weight))
            .collect(),
        observed_shares: names
            .iter()
            .zip(&exposures)
            .map(|(n, e)| ((*n).to_owned(), e / total_exposures))
            .collect(),
    };

    let plan_alpha = alpha / treatments.len() as f64;
    let required = match control_group {
        Group::Rate(c) => power::sample_size_proportions(c.rate(), mde, plan_alpha, target_power)?,
        Group::Mean(s) => {
            power::sample_size_means(s.mean(), s.variance(), mde, plan_alpha, target_power)?
        }
    }
    .map(f64::ceil);
    let smallest = exposures.iter().copied().fold(f64::INFINITY, f64::min);
    let power = PowerPlan {
        required_per_variant: required,
        progress: required.map(|r| smallest / r),
        alpha: plan_alpha,
        power: target_power,
    };

    Ok(Analysis {
        metric,
        control: control_name.to_owned(),
        alpha,
        confidence_level: level,
        minimum_detectable_effect: mde,
        looks: looks.len(),
        variants: results,
        overall,
        srm,
        power,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(json: &str) -> ExperimentData {
        ExperimentData::from_json(json).unwrap()
    }

    const EXAMPLE: &str = r#"{"control": "control", "variants": {
        "control": {"exposures": 10000, "conversions": 1200},
        "green": {"exposures": 9950, "conversions": 1302}}}"#;

    fn err(json: &str) -> String {
        match ExperimentData::from_json(json).and_then(|d| analyze(&d, &AnalysisConfig::default()))
        {
            Ok(_) => panic!("expected an error for {json}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_example_file() {
        let a = analyze(&data(EXAMPLE), &AnalysisConfig::default()).unwrap();
        assert_eq!(a.metric, Metric::Conversion);
        assert_eq!(a.control, "control");
        assert_eq!(a.variants.len(), 2);
        assert!(a.variants[0].comparison.is_none());
        let green = a.variants[1].comparison.as_ref().unwrap();
        assert!((a.variants[1].estimate - 1302.0 / 9950.0).abs() < 1e-15);
        assert!(green.diff > 0.0 && green.lift.unwrap() > 0.08);
        assert!(green.significant, "{green:?}");
        // One look: the sequential p-value is above the fixed one.
        assert!(green.sequential_p_value >= green.p_value);
        assert!(!a.srm.mismatch);
        assert_eq!(a.looks, 1);
    }

    #[test]
    fn shape_errors_name_the_variant_and_field() {
        assert!(err(r#"{"variants": {"a": {"conversions": 1}, "b": {"exposures": 2, "conversions": 1}}}"#)
            .contains("variant `a` has no `exposures`"));
        assert!(err(r#"{"variants": {"a": {"exposures": 2, "sum": 1}, "b": {"exposures": 2, "sum": 1, "sumSquares": 1}}}"#)
            .contains("`sumSquares`"));
        assert!(
            err(
                r#"{"variants": {"a": {"exposures": 2}, "b": {"exposures": 2, "conversions": 1}}}"#
            )
            .contains("needs `conversions`")
        );
        assert!(
            err(r#"{"variants": {"a": {"exposures": 2, "conversions": 1, "sum": 3}}}"#)
                .contains("both")
        );
        assert_eq!(
            err(r#"{"variants": {}, "extra": 1}"#),
            "1:18: unknown key `extra` (at extra); expected one of `control`, `variants`, `history`"
        );
        assert_eq!(
            err(r#"{"variants": {"a": {"exposures": "10", "conversions": 1}}}"#),
            "1:34: expected a number, found the string \"10\" (at variants.a.exposures)"
        );
    }

    #[test]
    fn shape_errors_are_located_and_name_the_variant() {
        // A misspelt key inside variant `b`: line, column, the path through
        // the variant, and the key it should be.
        let e = ExperimentData::from_json(
            "{\"variants\": {\n  \"a\": {\"exposures\": 10, \"conversions\": 1},\n  \"b\": {\"exposures\": 10, \"conversion\": 1}\n}}",
        )
        .unwrap_err();
        let StatsError::File(d) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(d.pos, Some(crate::diagnostic::Pos::new(3, 26)));
        assert_eq!(d.path.to_string(), "variants.b.conversion");
        assert_eq!(d.message, "unknown key `conversion`");
        assert_eq!(d.hint.as_deref(), Some("did you mean `conversions`?"));
        // A missing field: at the variant, in the history too.
        assert_eq!(
            err(
                r#"{"history": [{"variants": {"a": {"exposures": 5}}}], "variants": {"a": {"exposures": 5, "conversions": 1}, "b": {"exposures": 10, "conversions": 1}}}"#
            ),
            "1:28: variant `a` needs `conversions` (a conversion metric) or `sum` and `sumSquares` (a continuous metric) (at history[0].variants.a)"
        );
        // Syntax errors and duplicate keys are located too.
        assert!(err(r#"{"variants": {"a": {"exposures": 5"#).starts_with("1:"));
        assert!(
            err(r#"{"variants": {"a": {"exposures": 5, "exposures": 6, "conversions": 1}}}"#)
                .contains("duplicate key `exposures`")
        );
    }

    #[test]
    fn value_errors_are_clear() {
        let e = err(
            r#"{"variants": {"a": {"exposures": 10, "conversions": 11}, "b": {"exposures": 10, "conversions": 1}}}"#,
        );
        assert_eq!(e, "variant `a`: conversions (11) exceed exposures (10)");
        let e = err(
            r#"{"variants": {"a": {"exposures": -10, "conversions": 0}, "b": {"exposures": 10, "conversions": 1}}}"#,
        );
        assert!(
            e.contains("exposures of variant `a` must not be negative"),
            "{e}"
        );
        let e = err(
            r#"{"variants": {"a": {"exposures": 0, "conversions": 0}, "b": {"exposures": 10, "conversions": 1}}}"#,
        );
        assert!(e.contains("variant `a` has 0 exposures"), "{e}");
        let e = err(
            r#"{"control": "x", "variants": {"a": {"exposures": 10, "conversions": 0}, "b": {"exposures": 10, "conversions": 1}}}"#,
        );
        assert!(e.contains("control `x` is not a variant"), "{e}");
        let e = err(r#"{"variants": {"a": {"exposures": 10, "conversions": 0}}}"#);
        assert!(e.contains("at least two variants"), "{e}");
        let e = err(
            r#"{"variants": {"a": {"exposures": 10, "conversions": 0}, "b": {"exposures": 10, "sum": 1, "sumSquares": 1}}}"#,
        );
        assert!(e.contains("variant `b` has a continuous metric"), "{e}");
        let e = err(
            r#"{"variants": {"a": {"exposures": 1, "sum": 1, "sumSquares": 1}, "b": {"exposures": 10, "sum": 1, "sumSquares": 1}}}"#,
        );
        assert!(e.contains("variant `a` has 1 exposures"), "{e}");
    }

    #[test]
    fn history_must_be_cumulative_and_alike() {
        let e = err(
            r#"{"variants": {"a": {"exposures": 10, "conversions": 1}, "b": {"exposures": 10, "conversions": 1}},
            "history": [{"at": "day 1", "variants": {"a": {"exposures": 20, "conversions": 1}, "b": {"exposures": 5, "conversions": 1}}}]}"#,
        );
        assert!(
            e.contains("history[0]: variant `a` has more exposures"),
            "{e}"
        );
        let e = err(
            r#"{"variants": {"a": {"exposures": 10, "conversions": 1}, "b": {"exposures": 10, "conversions": 1}},
            "history": [{"at": "day 1", "variants": {"a": {"exposures": 5, "conversions": 1}}}]}"#,
        );
        assert!(
            e.contains("history[0] (day 1): variant `b` is missing"),
            "{e}"
        );
    }

    #[test]
    fn weights_must_match_the_data() {
        let d = data(EXAMPLE);
        let cfg = |w: &[(&str, f64)]| AnalysisConfig {
            weights: Some(w.iter().map(|(n, w)| ((*n).to_owned(), *w)).collect()),
            ..AnalysisConfig::default()
        };
        let e = analyze(
            &d,
            &cfg(&[("control", 50.0), ("green", 25.0), ("blue", 25.0)]),
        );
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("split has variant `blue`")
        );
        let e = analyze(&d, &cfg(&[("control", 50.0)]));
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("`green` of the data is not in the split")
        );
        // A zero-weight variant that got traffic is a certain mismatch.
        let a = analyze(&d, &cfg(&[("control", 1.0), ("green", 0.0)])).unwrap();
        assert!(a.srm.mismatch);
        // Unequal weights fitting the data: no mismatch.
        let skewed = data(
            r#"{"variants": {"a": {"exposures": 9000, "conversions": 9}, "b": {"exposures": 1000, "conversions": 1}}}"#,
        );
        let a = analyze(&skewed, &cfg(&[("a", 90.0), ("b", 10.0)])).unwrap();
        assert!(!a.srm.mismatch && a.srm.p_value > 0.99);
        let a = analyze(&skewed, &AnalysisConfig::default()).unwrap();
        assert!(a.srm.mismatch);
    }

    #[test]
    fn control_precedence() {
        let d = data(
            r#"{"variants": {"a": {"exposures": 10, "conversions": 1}, "b": {"exposures": 10, "conversions": 2}}}"#,
        );
        assert_eq!(
            analyze(&d, &AnalysisConfig::default()).unwrap().control,
            "a"
        );
        let cfg = AnalysisConfig {
            control: Some("b".into()),
            ..AnalysisConfig::default()
        };
        assert_eq!(analyze(&d, &cfg).unwrap().control, "b");
        let mut named = d.clone();
        named.control = Some("a".into());
        assert_eq!(analyze(&named, &cfg).unwrap().control, "a");
    }

    #[test]
    fn bad_parameters() {
        let d = data(EXAMPLE);
        for cfg in [
            AnalysisConfig {
                alpha: 0.0,
                ..AnalysisConfig::default()
            },
            AnalysisConfig {
                alpha: f64::NAN,
                ..AnalysisConfig::default()
            },
            AnalysisConfig {
                minimum_detectable_effect: -0.1,
                ..AnalysisConfig::default()
            },
        ] {
            assert!(analyze(&d, &cfg).is_err());
        }
    }

    #[test]
    fn every_variant_has_the_same_keys_in_json() {
        let a = analyze(&data(EXAMPLE), &AnalysisConfig::default()).unwrap();
        let v = serde_json::to_value(&a).unwrap();
        let keys = |i: usize| -> Vec<String> {
            v["variants"][i]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        assert_eq!(keys(0), keys(1));
        assert_eq!(v["variants"][0]["isControl"], true);
        assert!(v["variants"][0]["tau"].is_null());
        assert_eq!(v["variants"][1]["exposures"], 9950);
        assert_eq!(v["variants"][1]["ci"].as_array().unwrap().len(), 2);
        assert_eq!(v["metric"], "conversion");
        assert_eq!(v["srm"]["expectedShares"]["green"], 0.5);
        assert_eq!(v["srm"]["df"], 1);
        assert_eq!(v["power"]["requiredPerVariant"], 47036);
    }
}
