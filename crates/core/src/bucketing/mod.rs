//! The published bucketing algorithm (docs/flag-format.md §6, Bucketing),
//! and the modes that bucket as flagd or Unleash do instead ([`mode`]).
//!
//! ```text
//! key    = context[bucketBy] as a string (numbers in their JSON form)
//! h      = xxh3_64(utf8(salt + ":" + key))          # seed 0
//! bucket = (h * 100000) >> 64                       # 128-bit product
//! ```
//! `tests/data/bucketing-vectors.json` holds vectors that a second,
//! independent implementation (`tests/data/check_vectors.py`) confirms.
//!
//! The arithmetic alone, a leaf below `compile` and `eval`: the compiler
//! turns percentages into thresholds and salts into prefixes, the evaluator
//! hashes keys into buckets, and both must count buckets alike. Its public
//! path is `eval::bucket`, which adds the key bytes of a context's
//! attribute values.

use serde_json::Value;
use xxhash_rust::xxh3::{Xxh3Default, xxh3_64};

pub mod mode;
pub mod murmur;

pub use mode::BucketingMode;

/// Buckets per flag: percentages have three decimals of resolution.
pub const BUCKETS: u32 = 100_000;

/// Inputs up to this size are hashed from a stack buffer in one shot.
const STACK_INPUT: usize = 256;

/// Most salts and keys fit this smaller buffer, which is cheaper to clear.
const SHORT_INPUT: usize = 64;

/// Maps a 64-bit hash onto `0..BUCKETS` without modulo bias.
#[inline]
pub fn bucket_of_hash(h: u64) -> u32 {
    ((u128::from(h) * u128::from(BUCKETS)) >> 64) as u32
}

/// The bucket of `key` under a salt prefix that already ends in `:`.
///
/// Never allocates: short inputs are joined on the stack, long ones streamed.
/// The short case, nearly every salt and key, is inlined into the
/// evaluator; a call's entry and exit were a fifth of its cost.
#[inline(always)]
pub fn bucket(salt_prefix: &[u8], key: &[u8]) -> u32 {
    let h = if salt_prefix.len() + key.len() <= SHORT_INPUT {
        hash_joined::<SHORT_INPUT>(salt_prefix, key)
    } else {
        hash_long(salt_prefix, key)
    };
    bucket_of_hash(h)
}

/// xxh3 of `a` followed by `b`, for inputs longer than [`SHORT_INPUT`].
#[inline(never)]
fn hash_long(a: &[u8], b: &[u8]) -> u64 {
    if a.len() + b.len() <= STACK_INPUT {
        hash_joined::<STACK_INPUT>(a, b)
    } else {
        let mut hasher = Xxh3Default::new();
        hasher.update(a);
        hasher.update(b);
        hasher.digest()
    }
}

/// xxh3 of `a` followed by `b`, joined in an `N`-byte stack buffer
/// (`a.len() + b.len() <= N`).
#[inline(always)]
fn hash_joined<const N: usize>(a: &[u8], b: &[u8]) -> u64 {
    let len = a.len() + b.len();
    let mut buf = [0u8; N];
    copy_short(&mut buf[..a.len()], a);
    copy_short(&mut buf[a.len()..len], b);
    xxh3_64(&buf[..len])
}

/// `dst.copy_from_slice(src)` for the short salts and keys bucketing joins:
/// two overlapping loads and stores rather than a call into `memcpy`, which
/// cost more than the hash of a short input (docs/performance.md).
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    match n {
        0 => {}
        1..=3 => {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
        4..=7 => copy_ends::<4>(dst, src),
        8..=15 => copy_ends::<8>(dst, src),
        16..=32 => copy_ends::<16>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// Copies the first and the last `W` bytes of `src` (`W <= src.len() <= 2W`),
/// which together cover all of it.
#[inline(always)]
fn copy_ends<const W: usize>(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    let head: [u8; W] = src[..W].try_into().unwrap_or([0; W]);
    let tail: [u8; W] = src[n - W..].try_into().unwrap_or([0; W]);
    dst[..W].copy_from_slice(&head);
    dst[n - W..n].copy_from_slice(&tail);
}

/// The bucket of `key` under `salt` (joins them with `:`). For tools and tests;
/// the evaluator uses [`bucket`] with a precomputed prefix.
pub fn bucket_for(salt: &str, key: &str) -> u32 {
    bucket(salt_prefix(salt).as_bytes(), key.as_bytes())
}

/// `salt + ":"`, computed once per flag at compile time.
pub fn salt_prefix(salt: &str) -> String {
    format!("{salt}:")
}

/// The rollout threshold for a percentage: inside iff `bucket < threshold`.
pub fn threshold(percentage: f64) -> u32 {
    let t = (percentage * 1000.0).round();
    if t.is_nan() || t <= 0.0 {
        0
    } else if t >= f64::from(BUCKETS) {
        BUCKETS
    } else {
        t as u32
    }
}

/// A threshold back as a percentage.
pub fn percentage(threshold: u32) -> f64 {
    f64::from(threshold) / 1000.0
}

/// Scratch space for writing a number key in its JSON form.
pub type KeyBuf = [u8; 40];

/// The bytes a context value hashes as: strings as UTF-8, numbers in their
/// JSON form (`42`, `1.5`). Other types cannot be bucketed.
#[inline]
pub fn key_bytes<'a>(value: &'a Value, buf: &'a mut KeyBuf) -> Option<&'a [u8]> {
    match value {
        Value::String(s) => Some(s.as_bytes()),
        Value::Number(n) => number_bytes(n, buf),
        _ => None,
    }
}

/// A number's JSON form (`42`, `1.5`), written to `buf`.
#[inline]
pub(crate) fn number_bytes<'a>(n: &serde_json::Number, buf: &'a mut KeyBuf) -> Option<&'a [u8]> {
    let mut cursor: &mut [u8] = &mut buf[..];
    serde_json::to_writer(&mut cursor, n).ok()?;
    let remaining = cursor.len();
    let written = buf.len() - remaining;
    Some(&buf[..written])
}

/// A number key written to a `String` (for tools that keep keys).
pub fn key_string(value: &Value) -> Option<String> {
    let mut buf = [0u8; 40];
    key_bytes(value, &mut buf).map(|b| String::from_utf8_lossy(b).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn streamed_and_stack_hashing_agree() {
        let text = |n: usize, from: u8| -> String {
            (0..n).map(|i| char::from(from + (i % 26) as u8)).collect()
        };
        // Each of the three paths: the short buffer, the long one, streamed;
        // and every pair of lengths the short copies tell apart.
        for salt in (0..34).map(|n| text(n, b'a')) {
            let prefix = salt_prefix(&salt);
            for n in (0..=40).chain([58, 59, 60, 250, 251, 252, 600]) {
                let key = text(n, b'A');
                let direct = bucket_of_hash(xxh3_64(format!("{prefix}{key}").as_bytes()));
                assert_eq!(
                    bucket(prefix.as_bytes(), key.as_bytes()),
                    direct,
                    "{salt} {n}"
                );
            }
        }
        let short = bucket_of_hash(xxh3_64(b"flag:user-1"));
        assert_eq!(bucket_for("flag", "user-1"), short);
    }

    #[test]
    fn buckets_stay_in_range() {
        assert_eq!(bucket_of_hash(0), 0);
        assert_eq!(bucket_of_hash(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn thresholds_round_to_thousandths() {
        assert_eq!(threshold(10.0), 10_000);
        assert_eq!(threshold(0.0015), 2);
        assert_eq!(threshold(100.0), BUCKETS);
        assert_eq!(threshold(250.0), BUCKETS);
        assert_eq!(threshold(-3.0), 0);
        assert_eq!(threshold(f64::NAN), 0);
    }

    #[test]
    fn number_keys_use_json_form() {
        let mut buf = [0u8; 40];
        assert_eq!(key_bytes(&json!(42), &mut buf), Some(&b"42"[..]));
        let mut buf = [0u8; 40];
        assert_eq!(key_bytes(&json!(1.5), &mut buf), Some(&b"1.5"[..]));
        let mut buf = [0u8; 40];
        assert_eq!(
            key_bytes(&json!(-9007199254740993i64), &mut buf),
            Some(&b"-9007199254740993"[..])
        );
        let mut buf = [0u8; 40];
        assert_eq!(key_bytes(&json!(true), &mut buf), None);
        assert_eq!(key_string(&json!("u")), Some("u".into()));
    }
}
