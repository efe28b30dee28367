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

mod data;
mod json;

use indexmap::IndexMap;
use serde::Serialize;

pub use data::{ExperimentData, Observed, VariantCounts, VariantData};

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
    #[serde(serialize_with = "json::whole")]
    pub df: f64,
    /// The denominator's degrees of freedom for F.
    #[serde(serialize_with = "json::whole_or_null")]
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
    #[serde(serialize_with = "json::whole")]
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
    #[serde(serialize_with = "json::units")]
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

    /// Wilson for a rate, t for a mean.
    fn interval(&self, level: f64) -> Result<Interval, StatsError> {
        match self {
            Group::Rate(c) => proportions::wilson_interval(*c, level),
            Group::Mean(s) => means::t_interval(*s, level),
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
    let names = variant_names(variants)?;
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
    let looks = all_looks(data, &names, metric, current)?;
    let current = &looks[looks.len() - 1];
    let treatments: Vec<usize> = (0..names.len()).filter(|&i| i != control).collect();
    let tests = TreatmentTests::run(&looks, &treatments, control, mde)?;
    let level = 1.0 - alpha;
    let results = variants
        .iter()
        .zip(current)
        .enumerate()
        .map(|(i, (v, &g))| {
            let ci = g.interval(level)?;
            let comparison = match treatments.iter().position(|&t| t == i) {
                None => None,
                Some(k) => Some(tests.comparison(k, g, current[control], level, alpha)?),
            };
            Ok(VariantResult {
                name: v.name.clone(),
                exposures: v.exposures,
                estimate: g.estimate(),
                ci,
                comparison,
            })
        })
        .collect::<Result<Vec<_>, StatsError>>()?;
    let exposures: Vec<f64> = variants.iter().map(|v| v.exposures).collect();
    let plan_alpha = alpha / treatments.len() as f64;
    Ok(Analysis {
        metric,
        control: control_name.to_owned(),
        alpha,
        confidence_level: level,
        minimum_detectable_effect: mde,
        looks: looks.len(),
        variants: results,
        overall: overall_test(metric, current)?,
        srm: sample_ratio(&names, &exposures, &weights)?,
        power: power_plan(current[control], &exposures, mde, plan_alpha, target_power)?,
    })
}

/// The variants' names, at least two and each once.
fn variant_names(variants: &[VariantData]) -> Result<Vec<&str>, StatsError> {
    if variants.len() < 2 {
        return Err(StatsError::TooFewVariants(variants.len()));
    }
    let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(StatsError::Data(format!("variant `{name}` appears twice")));
        }
    }
    Ok(names)
}

/// Every look, oldest first and `current` last, validated and checked to
/// be cumulative.
fn all_looks(
    data: &ExperimentData,
    names: &[&str],
    metric: Metric,
    current: Vec<Group>,
) -> Result<Vec<Vec<Group>>, StatsError> {
    let mut looks: Vec<Vec<Group>> = Vec::with_capacity(data.history.len() + 1);
    for (i, snap) in data.history.iter().enumerate() {
        let place = match &snap.at {
            Some(at) => format!("history[{i}] ({at}): "),
            None => format!("history[{i}]: "),
        };
        let g = groups(&place, snap, names, metric)?;
        if let Some(prev) = looks.last() {
            check_cumulative(&format!("history[{}]: ", i - 1), names, prev, &g)?;
        }
        looks.push(g);
    }
    if let Some(prev) = looks.last() {
        let place = format!("history[{}]: ", looks.len() - 1);
        check_cumulative(&place, names, prev, &current)?;
    }
    looks.push(current);
    Ok(looks)
}

/// Each treatment against the control: the fixed-horizon test at the
/// current look, the sequential p-value over all looks, and both Holm
/// adjusted across treatments.
struct TreatmentTests {
    fixed: Vec<Fixed>,
    sequential: Vec<f64>,
    taus: Vec<f64>,
    adjusted: Vec<f64>,
    adjusted_sequential: Vec<f64>,
}

impl TreatmentTests {
    fn run(
        looks: &[Vec<Group>],
        treatments: &[usize],
        control: usize,
        mde: f64,
    ) -> Result<Self, StatsError> {
        let mut fixed = Vec::with_capacity(treatments.len());
        let mut sequential = Vec::with_capacity(treatments.len());
        let mut taus = Vec::with_capacity(treatments.len());
        for &i in treatments {
            let mut running = AlwaysValid::new();
            let mut tau = 0.0;
            let mut last = None;
            for look in looks {
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
        let adjusted_sequential = multiple::holm(&sequential)?;
        Ok(TreatmentTests {
            fixed,
            sequential,
            taus,
            adjusted,
            adjusted_sequential,
        })
    }

    /// The `k`-th treatment, `treatment`, compared with `control`.
    fn comparison(
        &self,
        k: usize,
        treatment: Group,
        control: Group,
        level: f64,
        alpha: f64,
    ) -> Result<Comparison, StatsError> {
        let diff = treatment.estimate() - control.estimate();
        let diff_ci = match (treatment, control) {
            (Group::Rate(t), Group::Rate(c)) => proportions::wald_difference_interval(t, c, level)?,
            (Group::Mean(t), Group::Mean(c)) => means::welch_difference_interval(t, c, level)?,
            _ => return Err(StatsError::Data("mixed metrics".into())),
        };
        let base = control.estimate();
        Ok(Comparison {
            diff,
            diff_ci,
            lift: (base != 0.0).then(|| diff / base),
            statistic: self.fixed[k].statistic,
            p_value: self.fixed[k].p_value,
            adjusted_p_value: self.adjusted[k],
            sequential_p_value: self.sequential[k],
            adjusted_sequential_p_value: self.adjusted_sequential[k],
            significant: self.adjusted[k] <= alpha,
            sequential_significant: self.adjusted_sequential[k] <= alpha,
            tau: self.taus[k],
        })
    }
}

/// Do the variants differ at all: chi-square of independence for rates,
/// one-way ANOVA for means.
fn overall_test(metric: Metric, current: &[Group]) -> Result<OverallTest, StatsError> {
    Ok(match metric {
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
    })
}

/// Exposures against the split's weights: a mismatch means the assignment
/// or the counting is broken, and the results cannot be trusted.
fn sample_ratio(names: &[&str], exposures: &[f64], weights: &[f64]) -> Result<Srm, StatsError> {
    let test: ChiSquareTest = chisquare::goodness_of_fit(exposures, weights)?;
    let total_weight: f64 = weights.iter().sum();
    let total_exposures: f64 = exposures.iter().sum();
    let shares = |values: &[f64], total: f64| -> IndexMap<String, f64> {
        names
            .iter()
            .zip(values)
            .map(|(n, v)| ((*n).to_owned(), v / total))
            .collect()
    };
    Ok(Srm {
        statistic: test.statistic,
        df: test.df,
        p_value: test.p_value,
        mismatch: test.p_value < SRM_THRESHOLD,
        threshold: SRM_THRESHOLD,
        expected_shares: shares(weights, total_weight),
        observed_shares: shares(exposures, total_exposures),
    })
}

/// Units each variant needs to detect `mde` at `alpha` (already divided
/// among the treatments) with `target_power`, and how far the smallest
/// variant has got.
fn power_plan(
    control: Group,
    exposures: &[f64],
    mde: f64,
    alpha: f64,
    target_power: f64,
) -> Result<PowerPlan, StatsError> {
    let required = match control {
        Group::Rate(c) => power::sample_size_proportions(c.rate(), mde, alpha, target_power)?,
        Group::Mean(s) => {
            power::sample_size_means(s.mean(), s.variance(), mde, alpha, target_power)?
        }
    }
    .map(f64::ceil);
    let smallest = exposures.iter().copied().fold(f64::INFINITY, f64::min);
    Ok(PowerPlan {
        required_per_variant: required,
        progress: required.map(|r| smallest / r),
        alpha,
        power: target_power,
    })
}

#[cfg(test)]
mod tests;
