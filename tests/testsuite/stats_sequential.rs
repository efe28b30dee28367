//! The always-valid sequential p-value, as a team uses it: looking at
//! accumulating data again and again (fixed seeds throughout).
//!
//! - It never increases as looks are added, and never falls below the
//!   fixed-horizon p-value of the look it comes from.
//! - Peeking at A/A tests 20 times keeps its false-positive rate at α, while
//!   the fixed-horizon p-value, peeked at the same way, does not.
//! - It still finds a real effect (an always-1 p-value would pass the A/A test).

use hotswap_flags_stats::experiment::{
    Analysis, AnalysisConfig, ExperimentData, Observed, VariantCounts, VariantData,
};
use hotswap_flags_stats::proportions::{Counts, pooled_variance, two_proportion_z_test};
use hotswap_flags_stats::sequential::{mixture_scale, msprt_p_value};
use hotswap_flags_stats::{Metric, analyze};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const LOOKS: usize = 20;
const ALPHA: f64 = 0.05;

/// Cumulative (exposures, observed) of the two arms at each look.
type Stream = Vec<[(f64, Observed); 2]>;

fn conversion_stream(rng: &mut StdRng, rates: [f64; 2], per_look: u32) -> Stream {
    let mut totals = [(0.0, 0.0); 2];
    (0..LOOKS)
        .map(|_| {
            for (arm, rate) in totals.iter_mut().zip(rates) {
                let converted = (0..per_look).filter(|_| rng.random_bool(rate)).count();
                arm.0 += f64::from(per_look);
                arm.1 += converted as f64;
            }
            totals.map(|(n, c)| (n, Observed::Conversions(c)))
        })
        .collect()
}

/// A standard normal draw (Box–Muller; `rand` alone has no normal).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn continuous_stream(rng: &mut StdRng, means: [f64; 2], sd: f64, per_look: u32) -> Stream {
    let mut totals = [(0.0, 0.0, 0.0); 2];
    (0..LOOKS)
        .map(|_| {
            for (arm, mean) in totals.iter_mut().zip(means) {
                for _ in 0..per_look {
                    let x = mean + sd * normal(rng);
                    arm.0 += 1.0;
                    arm.1 += x;
                    arm.2 += x * x;
                }
            }
            totals.map(|(n, sum, sum_squares)| (n, Observed::Sums { sum, sum_squares }))
        })
        .collect()
}

fn snapshot(look: &[(f64, Observed); 2]) -> VariantCounts {
    VariantCounts {
        at: None,
        variants: ["control", "treatment"]
            .iter()
            .zip(look)
            .map(|(name, (exposures, observed))| VariantData {
                name: (*name).to_owned(),
                exposures: *exposures,
                observed: *observed,
            })
            .collect(),
    }
}

/// The analysis a team runs at look `k` (0-based), keeping the earlier
/// looks as history — or, with `history = false`, only the latest counts.
fn analyze_at(stream: &Stream, k: usize, history: bool, config: &AnalysisConfig) -> Analysis {
    let data = ExperimentData {
        control: Some("control".into()),
        current: snapshot(&stream[k]),
        history: if history {
            stream[..k].iter().map(snapshot).collect()
        } else {
            Vec::new()
        },
    };
    analyze(&data, config).unwrap()
}

/// (fixed-horizon p, sequential p) of the treatment.
fn p_values(a: &Analysis) -> (f64, f64) {
    let c = a.variants[1].comparison.as_ref().unwrap();
    (c.p_value, c.sequential_p_value)
}

fn check_properties(stream: &Stream, config: &AnalysisConfig, label: &str) {
    let mut previous_seq = 1.0_f64;
    let mut smallest_fixed = 1.0_f64;
    for k in 0..LOOKS {
        let (fixed, seq) = p_values(&analyze_at(stream, k, true, config));
        let (alone_fixed, alone_seq) = p_values(&analyze_at(stream, k, false, config));
        smallest_fixed = smallest_fixed.min(fixed);
        assert_eq!(
            fixed, alone_fixed,
            "{label} look {k}: history must not change the fixed test"
        );
        assert!(
            seq <= previous_seq,
            "{label} look {k}: sequential p rose from {previous_seq} to {seq}"
        );
        assert!(
            alone_seq >= fixed,
            "{label} look {k}: sequential p {alone_seq} below the fixed-horizon p {fixed}"
        );
        assert!(
            seq <= alone_seq,
            "{label} look {k}: the running minimum exceeds this look's value"
        );
        assert!(
            seq >= smallest_fixed,
            "{label} look {k}: sequential p {seq} below every fixed-horizon p so far ({smallest_fixed})"
        );
        previous_seq = seq;
    }
}

#[test]
fn sequential_p_never_increases_and_never_undercuts_the_fixed_horizon_p() {
    let mut rng = StdRng::seed_from_u64(0x5EC0_0001);
    let config = AnalysisConfig::default();
    for (i, lift) in [0.0, 0.0, 0.03, 0.05, 0.1, 0.2, -0.1]
        .iter()
        .cycle()
        .take(28)
        .enumerate()
    {
        let stream = conversion_stream(&mut rng, [0.1, 0.1 * (1.0 + lift)], 400);
        check_properties(&stream, &config, &format!("conversion #{i} (lift {lift})"));
    }
    for (i, shift) in [0.0, 0.0, 0.1, 0.3, -0.2]
        .iter()
        .cycle()
        .take(10)
        .enumerate()
    {
        let stream = continuous_stream(&mut rng, [10.0, 10.0 + shift], 2.0, 30);
        check_properties(
            &stream,
            &config,
            &format!("continuous #{i} (shift {shift})"),
        );
    }
}

/// The inequality behind "never below the fixed-horizon p-value" holds for
/// the mSPRT value itself, not only because the analysis takes a maximum.
#[test]
fn msprt_alone_is_never_below_the_pooled_z_test() {
    let mut rng = StdRng::seed_from_u64(0x5EC0_0002);
    for _ in 0..200 {
        let n1 = f64::from(rng.random_range(20..20_000u32));
        let n0 = f64::from(rng.random_range(20..20_000u32));
        let rate = rng.random_range(0.001..0.6);
        let x1 = (n1 * rate * rng.random_range(0.7..1.4)).round().min(n1);
        let x0 = (n0 * rate).round();
        let (t, c) = (Counts::new(x1, n1).unwrap(), Counts::new(x0, n0).unwrap());
        let pooled = (x1 + x0) / (n1 + n0);
        for mde in [0.01, 0.05, 0.2, 1.0] {
            let tau = mixture_scale(mde, pooled, (pooled * (1.0 - pooled)).sqrt());
            let seq = msprt_p_value(t.rate() - c.rate(), pooled_variance(t, c), tau).unwrap();
            let fixed = two_proportion_z_test(t, c).p_value;
            assert!(
                seq >= fixed,
                "{x1}/{n1} vs {x0}/{n0}, MDE {mde}: {seq} < {fixed}"
            );
        }
    }
}

struct Rates {
    sequential: f64,
    peeking: f64,
    final_look: f64,
}

/// Over `streams`, the share declared significant: by the sequential p at
/// any look, by the fixed-horizon p at any look, by the fixed p at the end.
fn rejection_rates(streams: &[Stream], config: &AnalysisConfig) -> Rates {
    let (mut sequential, mut peeking, mut final_look) = (0, 0, 0);
    for stream in streams {
        // The sequential p-value is the running minimum over the looks, so
        // "below α at some look" is "below α at the last one".
        let (last_fixed, seq) = p_values(&analyze_at(stream, LOOKS - 1, true, config));
        sequential += usize::from(seq <= ALPHA);
        final_look += usize::from(last_fixed <= ALPHA);
        let ever = (0..LOOKS).any(|k| p_values(&analyze_at(stream, k, false, config)).0 <= ALPHA);
        peeking += usize::from(ever);
    }
    let n = streams.len() as f64;
    Rates {
        sequential: sequential as f64 / n,
        peeking: peeking as f64 / n,
        final_look: final_look as f64 / n,
    }
}

/// `n` simulated experiments, each a `stream` drawn from one generator
/// seeded with `seed`, so that every run of the suite sees the same ones.
fn runs(seed: u64, n: usize, mut stream: impl FnMut(&mut StdRng) -> Stream) -> Vec<Stream> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| stream(&mut rng)).collect()
}

/// The rejection rates over `streams` analysed for a planned relative effect
/// of `mde`, printed under `label` (`--nocapture` shows them).
fn rates(label: &str, mde: f64, streams: &[Stream]) -> Rates {
    let config = AnalysisConfig {
        minimum_detectable_effect: mde,
        ..AnalysisConfig::default()
    };
    let r = rejection_rates(streams, &config);
    eprintln!(
        "{label}: sequential {:.3}, fixed-horizon peeked {:.3}, fixed at the end {:.3}",
        r.sequential, r.peeking, r.final_look
    );
    r
}

/// Under no effect the sequential test rejects at most α + `slack` (three
/// standard errors of the simulated rate), yet not never: a test that never
/// rejects would pass the bound.
fn assert_sequential_keeps_alpha(r: &Rates, slack: f64) {
    assert!(
        r.sequential <= ALPHA + slack,
        "sequential: {}",
        r.sequential
    );
    assert!(r.sequential > 0.0, "sequential: never rejects");
}

#[test]
fn a_a_tests_peeked_at_20_times_keep_the_false_positive_rate_at_alpha() {
    // The team planned for the data it will have: 10000 per arm at a 10 %
    // rate detects a 12 % relative effect with 80 % power. τ follows the MDE.
    let streams = runs(0xAA_2026, 1000, |rng| {
        conversion_stream(rng, [0.1, 0.1], 500)
    });
    let r = rates("A/A conversion, 1000 runs × 20 looks", 0.12, &streams);
    // SE of a rate near 0.05 over 1000 runs ≈ 0.007: allow three. The mSPRT
    // bound holds over an unlimited horizon, so 20 looks spend only part of
    // α (about 0.01 here).
    assert_sequential_keeps_alpha(&r, 0.021);
    assert!(
        (r.final_look - ALPHA).abs() <= 0.021,
        "fixed at the end: {}",
        r.final_look
    );
    // The simulation sees the problem the sequential test solves.
    assert!(r.peeking >= 3.0 * ALPHA, "peeking: {}", r.peeking);
}

#[test]
fn a_a_tests_of_a_continuous_metric_keep_the_false_positive_rate_at_alpha() {
    // 1000 per arm at mean 10, sd 3 plans for a 4 % relative effect.
    let streams = runs(0xAA_2027, 400, |rng| {
        continuous_stream(rng, [10.0, 10.0], 3.0, 50)
    });
    let r = rates("A/A continuous, 400 runs × 20 looks", 0.04, &streams);
    // SE over 400 runs ≈ 0.011.
    assert_sequential_keeps_alpha(&r, 0.033);
    assert!(r.peeking >= 2.5 * ALPHA, "peeking: {}", r.peeking);
}

#[test]
fn a_real_effect_is_found_by_the_sequential_test() {
    let streams = runs(0xAB_2026, 200, |rng| {
        conversion_stream(rng, [0.10, 0.11], 1000)
    });
    let r = rates("A/B +10 %, 200 runs × 20 looks", 0.1, &streams);
    assert!(r.sequential >= 0.5, "sequential power: {}", r.sequential);
    assert!(r.final_look >= 0.8, "fixed-horizon power: {}", r.final_look);
}

#[test]
fn the_stream_helpers_build_what_the_analysis_expects() {
    let mut rng = StdRng::seed_from_u64(1);
    let stream = conversion_stream(&mut rng, [0.5, 0.5], 10);
    let a = analyze_at(&stream, LOOKS - 1, true, &AnalysisConfig::default());
    assert_eq!(a.metric, Metric::Conversion);
    assert_eq!(a.looks, LOOKS);
    assert_eq!(a.variants[0].exposures, 200.0);
}
