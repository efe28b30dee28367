//! Flag keys to ids: the first step of every evaluation by key.
//!
//! A general-purpose hash table cost about a third of a rollout flag's
//! evaluation (docs/performance.md, "Evaluation in process"): the key hashed through the
//! `Hasher` interface (its bytes, a terminator, a finish), then groups of
//! control bytes probed. Flag keys are few, short and fixed when the
//! ruleset is built, so a plain open-addressed table serves better: the
//! hash is a few word loads and one multiply, a slot holds the key's hash
//! tag beside its id, and the key itself is compared once, on a tag match.
//!
//! Flag keys come from the repository, not from clients, and looking up an
//! unknown key inserts nothing, so a fixed, unkeyed hash cannot be flooded.

use super::{CompiledFlag, FlagId};
use crate::text::{same, word4, word8};

/// An empty slot's id.
const EMPTY: FlagId = FlagId::MAX;

/// A table of flag ids, found by the hash of their keys; the keys are read
/// from the flags themselves (no second copy of every key).
#[derive(Debug)]
pub(crate) struct FlagIndex {
    /// A power of two in length, at most half full, so every probe meets
    /// an empty slot.
    slots: Box<[Slot]>,
    /// `64 - log2(slots.len())`: a hash's top bits choose its first slot.
    shift: u32,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The hash's low 32 bits, compared before the key.
    tag: u32,
    id: FlagId,
}

impl Default for FlagIndex {
    fn default() -> Self {
        FlagIndex::new(&[])
    }
}

impl FlagIndex {
    /// The index of `flags`, whose keys are distinct.
    pub(crate) fn new(flags: &[CompiledFlag]) -> Self {
        let len = (flags.len() * 2).next_power_of_two().max(8);
        let mut slots = vec![Slot { tag: 0, id: EMPTY }; len].into_boxed_slice();
        let shift = 64 - len.trailing_zeros();
        let mask = len - 1;
        for (id, flag) in flags.iter().enumerate() {
            let h = hash(flag.key.as_bytes());
            let mut at = (h >> shift) as usize;
            while slots[at].id != EMPTY {
                at = (at + 1) & mask;
            }
            slots[at] = Slot {
                tag: h as u32,
                id: id as FlagId,
            };
        }
        FlagIndex { slots, shift }
    }

    /// The id of the flag keyed `key` among `flags` (those it was built from).
    #[inline]
    pub(crate) fn get(&self, flags: &[CompiledFlag], key: &str) -> Option<FlagId> {
        let h = hash(key.as_bytes());
        let mask = self.slots.len() - 1;
        let mut at = (h >> self.shift) as usize;
        loop {
            let slot = self.slots[at & mask];
            if slot.id == EMPTY {
                return None;
            }
            if slot.tag == h as u32 && same(&flags[slot.id as usize].key, key) {
                return Some(slot.id);
            }
            at += 1;
        }
    }
}

/// A 64-bit hash of a key: its bytes read as words (overlapping at the
/// ends rather than padded, as `text::same` reads them), each pair
/// mixed by a folded 128-bit multiply.
#[inline(always)]
fn hash(key: &[u8]) -> u64 {
    const K0: u64 = 0x243f_6a88_85a3_08d3;
    const K1: u64 = 0x1319_8a2e_0370_7344;
    let n = key.len();
    let (a, b) = match n {
        0 => (0, 0),
        1..=3 => (
            u64::from(key[0]) | u64::from(key[n / 2]) << 8 | u64::from(key[n - 1]) << 16,
            0,
        ),
        4..=7 => (u64::from(word4(key, 0)), u64::from(word4(key, n - 4))),
        8..=16 => (word8(key, 0), word8(key, n - 8)),
        _ => {
            // Every 16-byte chunk, the last one overlapping its neighbour.
            let mut acc = K1;
            let mut at = 0;
            while at + 16 < n {
                acc = fold(word8(key, at) ^ acc, word8(key, at + 8) ^ K0);
                at += 16;
            }
            (word8(key, n - 16) ^ acc, word8(key, n - 8))
        }
    };
    fold(a ^ K0, b ^ K1 ^ n as u64)
}

#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ (p >> 64) as u64
}

#[cfg(test)]
mod tests {
    use super::hash;
    use std::collections::HashSet;

    #[test]
    fn keys_of_every_length_hash_apart() {
        // Keys that differ in one byte, at every position of every length
        // up to 40, and by length alone.
        let mut seen = HashSet::new();
        let mut count = 0;
        for n in 0..40 {
            let base: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(seen.insert(hash(&base)), "{n}");
            count += 1;
            for at in 0..n {
                let mut k = base.clone();
                k[at] = b'Z';
                assert!(seen.insert(hash(&k)), "{n} {at}");
                count += 1;
            }
        }
        assert_eq!(seen.len(), count);
        // Typical keys spread over a table's first slots (its top bits).
        let tops: HashSet<u64> = (0..1000)
            .map(|i| hash(format!("flag-{i}").as_bytes()) >> 54)
            .collect();
        assert!(tops.len() > 550, "{}", tops.len());
    }
}
