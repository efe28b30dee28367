//! Bucketing simulation: what a flag serves a population at each rollout
//! percentage, who switches variant on the way, and whether the observed
//! split fits the configured weights.
//!
//! A correct rollout only ever *adds* users to `rollout.serve` as the
//! percentage rises; anyone whose variant changes for another reason between
//! two consecutive percentages is a "switcher", and there must be none. The
//! chi-square test checks the other promise of bucketing: that a split hands
//! out variants in the proportions written.

use hotswap_flags_stats::chisquare::goodness_of_fit;
use indexmap::IndexMap;
use jiff::Timestamp;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::population::Population;
use hotswap_flags_core::eval::bucket::{self, BUCKETS};
use hotswap_flags_core::eval::{Context, EvalEnv, Evaluation, FixedRollouts, Reason};
use hotswap_flags_core::ruleset::{CompiledFlag, CompiledServe, FlagId, RolloutPlan, Ruleset};

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// The ruleset has no such flag.
    #[error("no flag `{0}`")]
    UnknownFlag(String),
    /// A percentage outside 0–100.
    #[error("percentage {0} is not between 0 and 100")]
    BadPercentage(f64),
}

/// One row: the population at one rollout percentage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// The rollout percentage (`None` for a flag without a rollout).
    pub percentage: Option<f64>,
    /// Users per variant, in the flag's variant order (all variants listed).
    pub variants: IndexMap<String, u64>,
    /// Users for whom evaluation failed (`TARGETING_KEY_MISSING`).
    pub errors: u64,
    /// Users inside the rollout.
    pub in_rollout: u64,
    /// Users whose variant changed from the previous row by joining the rollout.
    pub joined: u64,
    /// Users whose variant changed from the previous row for another reason.
    pub switchers: u64,
}

/// A chi-square goodness-of-fit test of observed counts against weights.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChiSquare {
    /// The test statistic Σ (observed − expected)² / expected.
    pub statistic: f64,
    /// P(χ² ≥ statistic) with `df` degrees of freedom.
    pub p_value: f64,
    /// Degrees of freedom (categories with a positive weight, minus one).
    pub df: u32,
    /// What was tested: `default split`, `split of rule `eu``, `rollout at 10%`.
    pub tested: String,
    /// The row the counts come from.
    pub percentage: Option<f64>,
    /// Observed users per category.
    pub observed: IndexMap<String, u64>,
    /// Expected users per category under the configured weights.
    pub expected: IndexMap<String, f64>,
}

/// The result of [`simulate`]; serializes as `flagctl simulate --format
/// json` prints it (docs/gitops.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Simulation {
    /// The flag key simulated.
    pub flag: String,
    /// The environment.
    pub env: String,
    /// Population size.
    pub users: usize,
    /// The population, in words.
    pub population: String,
    /// One row per percentage, ascending.
    pub rows: Vec<Row>,
    /// Distinct users who switched variant between some pair of consecutive
    /// rows other than by joining the rollout (0 for a correct rollout).
    pub switchers: u64,
    /// The goodness-of-fit test, when the flag has a split or a partial rollout.
    #[serde(serialize_with = "untested_as_nulls")]
    pub chi_square: Option<ChiSquare>,
}

/// Without a test, `chiSquare` still has its two headline fields (null),
/// so scripts can read `chiSquare.pValue` whatever the flag.
fn untested_as_nulls<S: Serializer>(test: &Option<ChiSquare>, s: S) -> Result<S::Ok, S::Error> {
    match test {
        Some(test) => test.serialize(s),
        None => {
            let mut map = s.serialize_map(Some(2))?;
            map.serialize_entry("statistic", &None::<f64>)?;
            map.serialize_entry("pValue", &None::<f64>)?;
            map.end()
        }
    }
}

/// The percentages a flag is simulated at by default: each canary stage; a
/// linear ramp's `from`, its step points and `to`; otherwise where the
/// rollout stands when it starts (`None` rows for a flag without rollout).
pub fn default_percentages(flag: &CompiledFlag) -> Vec<Option<f64>> {
    let Some(rollout) = &flag.rollout else {
        return vec![None];
    };
    let thresholds: Vec<u32> = match &rollout.plan {
        RolloutPlan::Canary { stages } => stages.iter().map(|s| s.threshold).collect(),
        RolloutPlan::Linear { from, to, step, .. } => {
            let mut t = vec![*from];
            if *step > 0 {
                let mut next = from.saturating_add(*step);
                while next < *to {
                    t.push(next);
                    next = next.saturating_add(*step);
                }
            }
            t.push(*to);
            t
        }
        _ => vec![BUCKETS],
    };
    thresholds
        .into_iter()
        .map(|t| Some(bucket::percentage(t)))
        .collect()
}

/// Per-worker tallies.
struct Tally {
    /// [row][variant]
    counts: Vec<Vec<u64>>,
    errors: Vec<u64>,
    in_rollout: Vec<u64>,
    joined: Vec<u64>,
    switchers: Vec<u64>,
    distinct_switchers: u64,
    /// [row][source][variant]; source 0 = default split, i + 1 = rule i.
    split_counts: Vec<Vec<Vec<u64>>>,
    /// [row]: users whose rollout bucket was computed.
    bucketed: Vec<u64>,
    /// [row]: of those, inside.
    bucketed_inside: Vec<u64>,
}

/// A row's outcome for a user that is not a variant id: an error.
const ERROR: u32 = u32::MAX;

impl Tally {
    fn new(rows: usize, sources: usize, variants: usize) -> Self {
        Tally {
            counts: vec![vec![0; variants]; rows],
            errors: vec![0; rows],
            in_rollout: vec![0; rows],
            joined: vec![0; rows],
            switchers: vec![0; rows],
            distinct_switchers: 0,
            split_counts: vec![vec![vec![0; variants]; sources]; rows],
            bucketed: vec![0; rows],
            bucketed_inside: vec![0; rows],
        }
    }

    fn merge(mut self, other: Tally) -> Tally {
        fn add(a: &mut [u64], b: &[u64]) {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            add(a, b);
        }
        add(&mut self.errors, &other.errors);
        add(&mut self.in_rollout, &other.in_rollout);
        add(&mut self.joined, &other.joined);
        add(&mut self.switchers, &other.switchers);
        add(&mut self.bucketed, &other.bucketed);
        add(&mut self.bucketed_inside, &other.bucketed_inside);
        self.distinct_switchers += other.distinct_switchers;
        for (ra, rb) in self.split_counts.iter_mut().zip(&other.split_counts) {
            for (a, b) in ra.iter_mut().zip(rb) {
                add(a, b);
            }
        }
        self
    }

    /// One user at every row: what each row serves them, and whether their
    /// variant changed between two rows other than by joining the rollout.
    fn user(
        &mut self,
        ruleset: &Ruleset,
        id: FlagId,
        ctx: &Context,
        states: &[FixedRollouts],
        now: Timestamp,
    ) {
        let mut previous: Option<(u32, bool)> = None;
        let mut switched = false;
        for (r, state) in states.iter().enumerate() {
            let env = EvalEnv {
                now,
                rollouts: state,
            };
            let (outcome, inside) = match ruleset.evaluate_id(id, ctx, &env) {
                Ok(ev) => self.served(r, &ev),
                Err(_) => {
                    self.errors[r] += 1;
                    (ERROR, false)
                }
            };
            if let Some((before, was_inside)) = previous
                && before != outcome
            {
                if inside && !was_inside {
                    self.joined[r] += 1;
                } else {
                    self.switchers[r] += 1;
                    switched = true;
                }
            }
            previous = Some((outcome, inside));
        }
        if switched {
            self.distinct_switchers += 1;
        }
    }

    /// Counts what row `r` served: the variant, whether through the
    /// rollout, which split, whether the rollout bucketed the user.
    /// Returns the variant and whether the user is inside the rollout.
    fn served(&mut self, r: usize, ev: &Evaluation<'_>) -> (u32, bool) {
        let v = usize::from(ev.variant);
        self.counts[r][v] += 1;
        let inside = ev.reason == Reason::Rollout;
        if inside {
            self.in_rollout[r] += 1;
        }
        if ev.reason == Reason::Split {
            let source = ev.rule.map_or(0, |i| i + 1);
            self.split_counts[r][source][v] += 1;
        }
        if let Some(o) = ev.rollout
            && o.bucket.is_some()
        {
            self.bucketed[r] += 1;
            if o.inside {
                self.bucketed_inside[r] += 1;
            }
        }
        (u32::from(ev.variant), inside)
    }

    /// The rows at `percentages`, variants named by `names`.
    fn rows(&self, percentages: &[Option<f64>], names: &[String]) -> Vec<Row> {
        percentages
            .iter()
            .enumerate()
            .map(|(r, p)| Row {
                percentage: *p,
                variants: names
                    .iter()
                    .cloned()
                    .zip(self.counts[r].iter().copied())
                    .collect(),
                errors: self.errors[r],
                in_rollout: self.in_rollout[r],
                joined: self.joined[r],
                switchers: self.switchers[r],
            })
            .collect()
    }
}

/// Evaluates `flag` for every user of `population` at each percentage
/// (`None`: [`default_percentages`]; given ones are sorted and deduplicated),
/// at the fixed time `now`.
pub fn simulate(
    ruleset: &Ruleset,
    flag: &str,
    population: &Population,
    percentages: Option<&[f64]>,
    now: Timestamp,
) -> Result<Simulation, SimulateError> {
    let id: FlagId = ruleset
        .flag_id(flag)
        .ok_or_else(|| SimulateError::UnknownFlag(flag.to_owned()))?;
    let compiled = ruleset.flag(id);
    let rows = match percentages {
        None => default_percentages(compiled),
        Some(given) => given_percentages(given)?,
    };
    let states: Vec<FixedRollouts> = rows
        .iter()
        .map(|p| FixedRollouts(p.map_or(BUCKETS, bucket::threshold)))
        .collect();
    let (variants, sources) = (compiled.variants.len(), compiled.rules.len() + 1);
    let tally = population.fold(
        |_| Tally::new(rows.len(), sources, variants),
        |t, _, ctx| t.user(ruleset, id, ctx, &states, now),
        Tally::merge,
    );
    let names: Vec<String> = compiled
        .variants
        .iter()
        .map(|v| v.name.to_string())
        .collect();
    Ok(Simulation {
        flag: flag.to_owned(),
        env: ruleset.meta().env.clone(),
        users: population.len(),
        population: population.describe().to_string(),
        rows: tally.rows(&rows, &names),
        switchers: tally.distinct_switchers,
        chi_square: fit(compiled, &rows, &tally, &names),
    })
}

/// Percentages given: each between 0 and 100, rounded to a bucket
/// threshold, sorted, without repeats.
fn given_percentages(given: &[f64]) -> Result<Vec<Option<f64>>, SimulateError> {
    if let Some(bad) = given.iter().find(|p| !(0.0..=100.0).contains(*p)) {
        return Err(SimulateError::BadPercentage(*bad));
    }
    let mut t: Vec<u32> = given.iter().map(|p| bucket::threshold(*p)).collect();
    t.sort_unstable();
    t.dedup();
    Ok(t.into_iter().map(|t| Some(bucket::percentage(t))).collect())
}

/// Chooses what to test and tests it: the split that served the most users
/// (in the row where it served the most); failing that, rollout membership
/// at the first percentage strictly between 0 and 100.
fn fit(
    flag: &CompiledFlag,
    rows: &[Option<f64>],
    t: &Tally,
    names: &[String],
) -> Option<ChiSquare> {
    let mut best: Option<(u64, usize, usize)> = None; // (users, row, source)
    for (r, per_source) in t.split_counts.iter().enumerate() {
        for (s, counts) in per_source.iter().enumerate() {
            let n: u64 = counts.iter().sum();
            if n > 0 && best.is_none_or(|(m, _, _)| n > m) {
                best = Some((n, r, s));
            }
        }
    }
    if let Some((_, r, s)) = best {
        let (serve, tested) = if s == 0 {
            (&flag.default, "default split".to_owned())
        } else {
            let rule = &flag.rules[s - 1];
            (&rule.serve, format!("split of rule `{}`", rule.name))
        };
        let CompiledServe::Split(split) = serve else {
            return None;
        };
        let counts = &t.split_counts[r][s];
        let cats: Vec<(String, u64, f64)> = split
            .slots
            .iter()
            .map(|slot| {
                let v = usize::from(slot.variant);
                (names[v].clone(), counts[v], slot.weight)
            })
            .collect();
        return test(tested, rows[r], &cats);
    }
    let r = rows
        .iter()
        .position(|p| p.is_some_and(|p| p > 0.0 && p < 100.0))?;
    let n = t.bucketed[r];
    if n == 0 {
        return None;
    }
    let p = rows[r]?;
    let inside = t.bucketed_inside[r];
    let cats = vec![
        ("inside".to_owned(), inside, p),
        ("outside".to_owned(), n - inside, 100.0 - p),
    ];
    test(format!("rollout at {p}%"), rows[r], &cats)
}

/// Pearson's chi-square over categories (name, observed, weight): the
/// stats crate's goodness-of-fit test. Zero-weight categories are left out
/// (nobody can land in them).
pub fn chi_square(observed_weights: &[(String, u64, f64)]) -> Option<(f64, f64, u32)> {
    let cats: Vec<&(String, u64, f64)> = observed_weights.iter().filter(|c| c.2 > 0.0).collect();
    let n: u64 = cats.iter().map(|c| c.1).sum();
    if cats.len() < 2 || n == 0 {
        return None;
    }
    let observed: Vec<f64> = cats.iter().map(|c| c.1 as f64).collect();
    let weights: Vec<f64> = cats.iter().map(|c| c.2).collect();
    let test = goodness_of_fit(&observed, &weights).ok()?;
    // Every category here has a positive weight, so df = categories − 1.
    let df = u32::try_from(cats.len() - 1).ok()?;
    Some((test.statistic, test.p_value, df))
}

fn test(tested: String, percentage: Option<f64>, cats: &[(String, u64, f64)]) -> Option<ChiSquare> {
    let (statistic, p_value, df) = chi_square(cats)?;
    let total_weight: f64 = cats.iter().filter(|c| c.2 > 0.0).map(|c| c.2).sum();
    let n: u64 = cats.iter().filter(|c| c.2 > 0.0).map(|c| c.1).sum();
    Some(ChiSquare {
        statistic,
        p_value,
        df,
        tested,
        percentage,
        observed: cats.iter().map(|c| (c.0.clone(), c.1)).collect(),
        expected: cats
            .iter()
            .map(|c| (c.0.clone(), n as f64 * c.2.max(0.0) / total_weight))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi_square_of_a_perfect_fit_is_zero() {
        let (s, p, df) = chi_square(&[
            ("a".into(), 50, 1.0),
            ("b".into(), 50, 1.0),
            ("z".into(), 0, 0.0),
        ])
        .unwrap();
        assert_eq!((s, df), (0.0, 1));
        assert!((p - 1.0).abs() < 1e-12);
    }

    #[test]
    fn chi_square_matches_a_hand_computation() {
        // 60/40 against 50/50 over 100: (10²/50)·2 = 4, df 1, p ≈ 0.0455.
        let (s, p, _) = chi_square(&[("a".into(), 60, 50.0), ("b".into(), 40, 50.0)]).unwrap();
        assert!((s - 4.0).abs() < 1e-12);
        assert!((p - 0.045_500_263_896).abs() < 1e-9, "{p}");
        assert!(chi_square(&[("a".into(), 5, 1.0)]).is_none());
    }
}
