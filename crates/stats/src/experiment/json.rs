//! `flagctl experiment analyze --format json` prints an [`Analysis`] as
//! serde renders it; docs/experiments.md §3 lists the fields.

use serde::{Serialize, Serializer};

use super::{Analysis, Comparison, Metric, OverallTest, PowerPlan, Srm, VariantResult};
use crate::Interval;

/// A count as people write it: `10000`, not `10000.0` (exposures and
/// degrees of freedom are whole numbers, unless a Prometheus `increase()`
/// extrapolated them).
pub(super) fn whole<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        s.serialize_i64(*x as i64)
    } else {
        s.serialize_f64(*x)
    }
}

pub(super) fn whole_or_null<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(x) => whole(x, s),
        None => s.serialize_none(),
    }
}

/// A sample size, rounded up already: whole units.
pub(super) fn units<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
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
