//! Equality of short strings without a call into `memcmp`.
//!
//! A rule compares attribute names and operand strings several times per
//! evaluation, and nearly all of them are shorter than 17 bytes. For those,
//! two overlapping word loads a side decide equality; the library call they
//! replace cost more than the comparison itself (docs/performance.md).
//!
//! A leaf below `ruleset` and `eval`: the ruleset's flag index hashes keys
//! from the same word loads and its string sets compare with [`same`], and
//! the evaluator compares context attribute names with it.

/// Whether `a` and `b` hold the same bytes.
#[inline(always)]
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        // First, middle and last byte cover every byte of 1 to 3.
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        _ => a == b,
    }
}

/// The four bytes of `s` at `at`, as one word (little-endian, so the flag
/// index's hash is the same on every machine).
#[inline(always)]
pub(crate) fn word4(s: &[u8], at: usize) -> u32 {
    let mut w = [0; 4];
    w.copy_from_slice(&s[at..at + 4]);
    u32::from_le_bytes(w)
}

/// The eight bytes of `s` at `at`, as one word.
#[inline(always)]
pub(crate) fn word8(s: &[u8], at: usize) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&s[at..at + 8]);
    u64::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::same;
    use proptest::prelude::*;

    #[test]
    fn every_length_and_position() {
        for n in 0..40 {
            let a: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            assert!(same(&a, &a.clone()));
            for at in 0..n {
                let mut b = a.clone().into_bytes();
                b[at] = b'Z';
                let b = String::from_utf8(b).unwrap();
                assert!(!same(&a, &b), "{a} vs {b}");
            }
            assert!(!same(&a, &format!("{a}x")));
        }
    }

    proptest! {
        #[test]
        fn agrees_with_eq(a in "[a-c]{0,20}", b in "[a-c]{0,20}") {
            prop_assert_eq!(same(&a, &b), a == b);
        }
    }
}
