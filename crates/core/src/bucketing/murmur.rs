//! MurmurHash3 x86 32-bit resumed after a salt hashed ahead of time, for
//! the flagd and Unleash bucketing modes (docs/flag-format.md §6,
//! Bucketing modes).
//!
//! Why not a crate's hasher alone: the salt is the same for every
//! evaluation of a split or rollout, so its blocks are hashed once, when
//! the ruleset is compiled, and an evaluation hashes only the key. No
//! murmur3 crate can resume from such a state — `mur3::Hasher32` and
//! `murmur3_32::Murmur3` cannot be cloned, `hash32`'s hasher takes no seed
//! — and hashing the salt on every evaluation cost 1.25–1.35× our own
//! bucketing, against a budget of 1.3× (docs/performance.md). The rounds
//! below are MurmurHash3's; the tests check them against `mur3`, and
//! tests/testsuite/bucketing_modes.rs against flagd's and Unleash's own
//! libraries.

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

/// murmur3's state after a prefix: the hash of its whole 4-byte blocks, the
/// 0–3 bytes left over, and its length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Murmur3Prefix {
    h: u32,
    /// The bytes left over, little-endian in the low `pending_len` bytes.
    pending: u32,
    pending_len: u8,
    len: u32,
}

impl Murmur3Prefix {
    /// The state after hashing `prefix` from `seed`.
    pub fn new(prefix: &[u8], seed: u32) -> Self {
        let mut h = seed;
        let mut blocks = prefix.chunks_exact(4);
        for block in &mut blocks {
            h = round(h, le_partial(block));
        }
        let rest = blocks.remainder();
        Murmur3Prefix {
            h,
            pending: le_partial(rest),
            pending_len: rest.len() as u8,
            len: prefix.len() as u32,
        }
    }

    /// MurmurHash3 x86 32-bit of the prefix followed by `key`: the key's
    /// bytes are shifted behind the prefix's leftover bytes word by word.
    /// Never allocates.
    #[inline]
    pub fn hash(&self, key: &[u8]) -> u32 {
        let shift = 8 * u32::from(self.pending_len);
        let mut h = self.h;
        let mut carry = u64::from(self.pending);
        let mut words = key.chunks_exact(4);
        for word in &mut words {
            let joined = carry | (u64::from(le_partial(word)) << shift);
            h = round(h, joined as u32);
            carry = joined >> 32;
        }
        let rest = words.remainder();
        let mut joined = carry | (u64::from(le_partial(rest)) << shift);
        let mut left = u32::from(self.pending_len) + rest.len() as u32;
        if left >= 4 {
            h = round(h, joined as u32);
            joined >>= 32;
            left -= 4;
        }
        if left > 0 {
            h ^= mix_k(joined as u32);
        }
        fmix32(h ^ self.len.wrapping_add(key.len() as u32))
    }
}

/// Up to four bytes as a little-endian word, without a call to `memcpy`.
#[inline(always)]
fn le_partial(bytes: &[u8]) -> u32 {
    match *bytes {
        [] => 0,
        [a] => u32::from(a),
        [a, b] => u32::from(a) | u32::from(b) << 8,
        [a, b, c] => u32::from(a) | u32::from(b) << 8 | u32::from(c) << 16,
        [a, b, c, d, ..] => u32::from_le_bytes([a, b, c, d]),
    }
}

#[inline(always)]
fn mix_k(k: u32) -> u32 {
    k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

#[inline(always)]
fn round(h: u32, k: u32) -> u32 {
    (h ^ mix_k(k))
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

#[inline(always)]
fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every split point of inputs of 0 to 80 bytes, several seeds: the
    /// same hash as `mur3`, a murmur3 crate checked against the C reference.
    #[test]
    fn agrees_with_mur3_at_every_split() {
        let mut state = 0x2545_f491_u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for len in 0..=80usize {
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            for seed in [0, 1, 86_028_157, u32::MAX] {
                let whole = mur3::murmurhash3_x86_32(&bytes, seed);
                for at in 0..=len {
                    let (prefix, key) = bytes.split_at(at);
                    let got = Murmur3Prefix::new(prefix, seed).hash(key);
                    assert_eq!(got, whole, "len {len} split at {at} seed {seed}");
                }
            }
        }
        let long = vec![0xA5u8; 5000];
        assert_eq!(
            Murmur3Prefix::new(&long[..1234], 9).hash(&long[1234..]),
            mur3::murmurhash3_x86_32(&long, 9)
        );
    }
}
