//! Bucketing modes (docs/flag-format.md §6, "Bucketing modes"): a flag may
//! bucket as we do (xxh3, the default), or exactly as flagd's `fractional`
//! (v1 or v2) or Unleash does, so that users moving over keep their
//! variant. A mode fixes the hashed bytes, the hash and its seed, and the
//! mapping from hash to bucket, for splits and for rollout membership:
//!
//! ```text
//! mode      hashed bytes         hash, seed                split bucket (W = Σ weights)   rollout bucket (< threshold: inside)
//! xxh3      salt ":" key         xxh3_64, 0                (h · 100000) >> 64, ranges §6   (h · 100000) >> 64
//! flagd-v2  salt key             murmur3_x86_32, 0         (h · W) >> 32                   (h · 100000) >> 32
//! flagd-v1  salt key             murmur3_x86_32, 0         |i32(h)|, ranges from flagd's   largest t with 100·t/100000 ≤
//!                                                          float running totals            |i32(h)| / (2³¹−1) · 100
//! unleash   salt ":" key         murmur3_x86_32, 86028157  h mod W                         (h mod 100 + 1) · 1000 − 1
//!                                (rollouts: seed 0)
//! ```
//!
//! The salt of a flagd or Unleash flag defaults to the flag key for splits
//! and rollouts alike (flagd's `flagKey + targetingKey`, Unleash's
//! `groupId`, which defaults to the feature name). Their split weights are
//! integers, as both tools require.

use serde::{Deserialize, Serialize};

use super::murmur::Murmur3Prefix;
use super::{BUCKETS, bucket};

/// How a flag hashes contexts into buckets (`bucketing:` in a flag file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BucketingMode {
    /// Ours: xxh3 of `salt:key` into 100000 buckets.
    #[default]
    #[serde(rename = "xxh3")]
    Xxh3,
    /// flagd's legacy `fractional`: the absolute value of the signed
    /// murmur3 hash against running percentage totals.
    #[serde(rename = "flagd-v1")]
    FlagdV1,
    /// flagd's `fractional` since 2026: `(hash · W) >> 32` over integer weights.
    #[serde(rename = "flagd-v2")]
    FlagdV2,
    /// Unleash: `murmur3("groupId:key") mod 100 + 1` for rollouts, seed
    /// 86028157 and `mod W + 1` for variants.
    #[serde(rename = "unleash")]
    Unleash,
}

/// The seed Unleash hashes variants with (rollouts use 0).
pub const UNLEASH_VARIANT_SEED: u32 = 86_028_157;

/// The largest sum of split weights in the integer modes: flagd's limit
/// (`i32::MAX`), which also keeps every bucket bound a `u32`.
pub const MAX_INTEGER_TOTAL: u64 = i32::MAX as u64;

impl BucketingMode {
    /// Every mode, the default first.
    pub const ALL: [BucketingMode; 4] = [
        BucketingMode::Xxh3,
        BucketingMode::FlagdV1,
        BucketingMode::FlagdV2,
        BucketingMode::Unleash,
    ];

    /// The name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            BucketingMode::Xxh3 => "xxh3",
            BucketingMode::FlagdV1 => "flagd-v1",
            BucketingMode::FlagdV2 => "flagd-v2",
            BucketingMode::Unleash => "unleash",
        }
    }

    /// Whether this is one of flagd's modes.
    pub fn is_flagd(self) -> bool {
        matches!(self, BucketingMode::FlagdV1 | BucketingMode::FlagdV2)
    }

    /// Whether split weights must be whole numbers (flagd and Unleash).
    pub fn integer_weights(self) -> bool {
        self != BucketingMode::Xxh3
    }

    /// The bytes hashed before the key: `salt:` (xxh3, Unleash's
    /// `groupId:`), or the salt alone (flagd's `flagKey` + key).
    pub fn key_prefix(self, salt: &str) -> String {
        match self {
            BucketingMode::FlagdV1 | BucketingMode::FlagdV2 => salt.to_owned(),
            BucketingMode::Xxh3 | BucketingMode::Unleash => format!("{salt}:"),
        }
    }

    /// A rollout's salt when it sets none: `<flag>:rollout` for xxh3, so
    /// that split and rollout hashes are independent; the flag key for
    /// flagd and Unleash, which hash every decision of a flag alike.
    pub fn default_rollout_salt(self, flag: &str) -> String {
        match self {
            BucketingMode::Xxh3 => format!("{flag}:rollout"),
            _ => flag.to_owned(),
        }
    }

    /// The murmur3 state a split of this mode resumes from: its key
    /// prefix hashed with the mode's split seed (xxh3 needs none).
    pub fn split_murmur(self, key_prefix: &[u8]) -> Murmur3Prefix {
        match self {
            BucketingMode::Xxh3 => Murmur3Prefix::default(),
            BucketingMode::FlagdV1 | BucketingMode::FlagdV2 => Murmur3Prefix::new(key_prefix, 0),
            BucketingMode::Unleash => Murmur3Prefix::new(key_prefix, UNLEASH_VARIANT_SEED),
        }
    }

    /// The murmur3 state a rollout of this mode resumes from: its key
    /// prefix hashed with seed 0 (xxh3 needs none).
    pub fn rollout_murmur(self, key_prefix: &[u8]) -> Murmur3Prefix {
        match self {
            BucketingMode::Xxh3 => Murmur3Prefix::default(),
            _ => Murmur3Prefix::new(key_prefix, 0),
        }
    }

    /// The split bucket of `key` after `prefix` ([`key_prefix`]; its
    /// murmur3 state `murmur`, [`split_murmur`]), in `0..buckets` for
    /// every mode but flagd-v1, whose bucket is `|i32(hash)|` (`0..=2³¹`).
    /// `buckets` is the split's bucket count: 100000, or the sum of its
    /// weights.
    ///
    /// [`key_prefix`]: BucketingMode::key_prefix
    /// [`split_murmur`]: BucketingMode::split_murmur
    #[inline(always)]
    pub fn split_bucket(
        self,
        prefix: &[u8],
        murmur: &Murmur3Prefix,
        key: &[u8],
        buckets: u32,
    ) -> u32 {
        match self {
            BucketingMode::Xxh3 => bucket(prefix, key),
            BucketingMode::FlagdV2 => scale32(murmur.hash(key), buckets),
            BucketingMode::FlagdV1 => (murmur.hash(key) as i32).unsigned_abs(),
            BucketingMode::Unleash => murmur.hash(key) % buckets.max(1),
        }
    }

    /// The rollout bucket of `key` after `prefix` (its murmur3 state
    /// `murmur`, [`rollout_murmur`]), in `0..=100000`: inside iff
    /// `bucket < threshold`, as for xxh3.
    ///
    /// [`rollout_murmur`]: BucketingMode::rollout_murmur
    #[inline(always)]
    pub fn rollout_bucket(self, prefix: &[u8], murmur: &Murmur3Prefix, key: &[u8]) -> u32 {
        match self {
            BucketingMode::Xxh3 => bucket(prefix, key),
            BucketingMode::FlagdV2 => scale32(murmur.hash(key), BUCKETS),
            BucketingMode::FlagdV1 => flagd_v1_rollout_bucket(murmur.hash(key)),
            // Unleash's `normalized ≤ percentage`, with normalized =
            // h mod 100 + 1: `normalized · 1000 − 1 < percentage · 1000`.
            BucketingMode::Unleash => (murmur.hash(key) % 100 + 1) * 1000 - 1,
        }
    }
}

impl std::fmt::Display for BucketingMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// MurmurHash3 x86 32-bit of `a` followed by `b` (for tools and tests;
/// the evaluator resumes from a [`Murmur3Prefix`] computed at compile time).
pub fn murmur3(a: &[u8], b: &[u8], seed: u32) -> u32 {
    Murmur3Prefix::new(a, seed).hash(b)
}

/// flagd v2's mapping of a 32-bit hash onto `0..n`: `(h · n) >> 32`.
#[inline(always)]
fn scale32(h: u32, n: u32) -> u32 {
    ((u64::from(h) * u64::from(n)) >> 32) as u32
}

/// flagd v1's bucket: `|i32(h)| / (2³¹ − 1) · 100`, a float in `[0, 100]`
/// (a hair above 100 for `h = 2³¹`), computed in flagd's order.
#[inline]
pub fn flagd_v1_percent(h: u32) -> f64 {
    flagd_v1_percent_of_abs((h as i32).unsigned_abs())
}

#[inline]
fn flagd_v1_percent_of_abs(abs: u32) -> f64 {
    f64::from(abs) / f64::from(i32::MAX) * 100.0
}

/// flagd v1's end of a variant's range: `100 · weight / total`, added up
/// in written order like flagd's `rangeEnd`.
pub fn flagd_v1_range_ends(weights: impl IntoIterator<Item = u64>) -> Vec<f64> {
    let weights: Vec<u64> = weights.into_iter().collect();
    let total = weights.iter().sum::<u64>() as f64;
    let mut end = 0.0;
    weights
        .iter()
        .map(|w| {
            if total > 0.0 {
                end += 100.0 * (*w as f64) / total;
            }
            end
        })
        .collect()
}

/// The first `|i32(h)|` whose flagd v1 bucket is not below `range_end`:
/// the exclusive upper bound of a split range over `|i32(h)|`, since the
/// bucket grows with `|i32(h)|`. `2³¹ + 1` when every value is below.
pub fn flagd_v1_upper(range_end: f64) -> u32 {
    let (mut lo, mut hi) = (0u32, (1u32 << 31) + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if flagd_v1_percent_of_abs(mid) >= range_end {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// A rollout at threshold `t` is flagd v1's `fractional` with the range
/// `[0, 100 · t / 100000)`: the rollout bucket is the largest `t` whose
/// range the hash is not inside, so that inside iff `bucket < threshold`.
#[inline]
fn flagd_v1_rollout_bucket(h: u32) -> u32 {
    // In exact arithmetic the answer is floor(|i32(h)| · 100000 / (2³¹−1)):
    // flagd's bucket `|i32(h)| / (2³¹−1) · 100` against range ends
    // `t / 1000`. Its floating point rounds both sides by less than 1e-15
    // relative, so only a quotient within 1e-6 of a whole number can come
    // out otherwise; those go through flagd's own arithmetic. The division
    // is by a constant: a multiplication, no floating point.
    const M: u64 = i32::MAX as u64;
    const MARGIN: u64 = M / 1_000_000;
    let n = u64::from((h as i32).unsigned_abs()) * u64::from(BUCKETS);
    let (q, r) = (n / M, n % M);
    if r > MARGIN && r < M - MARGIN {
        return (q as u32).min(BUCKETS);
    }
    let pct = flagd_v1_percent(h);
    flagd_v1_rollout_bucket_exact(pct, ((pct * 1000.0) as u32).min(BUCKETS))
}

/// [`flagd_v1_rollout_bucket`] near a range end: flagd's own arithmetic.
#[cold]
fn flagd_v1_rollout_bucket_exact(pct: f64, mut b: u32) -> u32 {
    let end = |t: u32| 100.0 * f64::from(t) / f64::from(BUCKETS);
    while b > 0 && end(b) > pct {
        b -= 1;
    }
    while b < BUCKETS && end(b + 1) <= pct {
        b += 1;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bucketing::threshold as threshold_of;

    /// Published MurmurHash3 x86 32-bit values (SMHasher's verification
    /// strings), fed whole and split at every point.
    #[test]
    fn murmur3_matches_known_values() {
        for (input, seed, expected) in [
            ("", 0, 0),
            ("", 1, 0x514E_28B7),
            ("hello", 0, 0x248B_FA47),
            ("hello, world", 0, 0x149B_BB7F),
            (
                "The quick brown fox jumps over the lazy dog",
                0,
                0x2E4F_F723,
            ),
        ] {
            let bytes = input.as_bytes();
            for at in 0..=bytes.len() {
                let (a, b) = bytes.split_at(at);
                assert_eq!(murmur3(a, b, seed), expected, "{input:?} split at {at}");
            }
        }
    }

    #[test]
    fn flagd_v2_scales_onto_the_weights() {
        assert_eq!(scale32(0, 100), 0);
        assert_eq!(scale32(u32::MAX, 100), 99);
        assert_eq!(scale32(1 << 31, 100), 50);
    }

    #[test]
    fn flagd_v1_rollout_buckets_agree_with_its_ranges() {
        for h in [
            0u32,
            1,
            21_474_836,
            21_474_837,
            1 << 30,
            i32::MAX as u32,
            1 << 31,
            u32::MAX,
        ]
        .into_iter()
        .chain((0..2000u32).map(|i| i.wrapping_mul(2_654_435_761)))
        {
            let b = flagd_v1_rollout_bucket(h);
            let pct = flagd_v1_percent(h);
            for t in [b.saturating_sub(1), b, b + 1, 1000, 10_000, 50_000, BUCKETS] {
                let end = 100.0 * f64::from(t) / f64::from(BUCKETS);
                assert_eq!(b < t, pct < end, "h={h} t={t} b={b}");
            }
        }
        // The shortcut agrees with flagd's arithmetic everywhere, near range
        // ends (whole thousandths of a percent) above all.
        let near_ends = (0..=100_000u32).step_by(7).flat_map(|t| {
            let a = (f64::from(t) / 100_000.0 * f64::from(i32::MAX)) as u32;
            [a.saturating_sub(1), a, a + 1]
        });
        for h in near_ends.chain((0..100_000u32).map(|i| i.wrapping_mul(2_654_435_761))) {
            let pct = flagd_v1_percent(h);
            assert_eq!(
                flagd_v1_rollout_bucket(h),
                flagd_v1_rollout_bucket_exact(pct, ((pct * 1000.0) as u32).min(BUCKETS)),
                "h={h}"
            );
        }
        // |i32::MIN| is a hair above 100: outside even at 100 %, as in flagd.
        assert_eq!(flagd_v1_rollout_bucket(1 << 31), BUCKETS);
    }

    #[test]
    fn flagd_v1_uppers_bound_the_float_ranges() {
        let ends = flagd_v1_range_ends([1, 1, 1]);
        for end in ends.iter().copied().chain([0.0, 33.3, 100.0, 100.1]) {
            let upper = flagd_v1_upper(end);
            assert!(upper == 0 || flagd_v1_percent_of_abs(upper - 1) < end);
            assert!(upper > 1 << 31 || flagd_v1_percent_of_abs(upper) >= end);
        }
        assert_eq!(flagd_v1_upper(0.0), 0);
        assert_eq!(flagd_v1_upper(100.1), (1 << 31) + 1);
    }

    #[test]
    fn unleash_rollout_buckets_are_normalized_values() {
        // normalized 1 (h mod 100 = 0) is inside at 1 %, not at 0.
        let key = (0..)
            .map(|i| format!("u{i}"))
            .find(|k| murmur3(b"f:", k.as_bytes(), 0).is_multiple_of(100));
        let key = key.unwrap();
        let mode = BucketingMode::Unleash;
        let murmur = mode.rollout_murmur(b"f:");
        let b = mode.rollout_bucket(b"f:", &murmur, key.as_bytes());
        assert_eq!(b, 999);
        assert!(b >= threshold_of(0.0) && b < threshold_of(1.0));
        assert!(mode.rollout_bucket(b"f:", &murmur, b"x") < BUCKETS);
    }
}
