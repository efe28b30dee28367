//! The published bucketing algorithm (docs/flag-format.md §6, Bucketing),
//! as the evaluator applies it to a context.
//!
//! The arithmetic — hashing, thresholds, salt prefixes, the bucketing
//! modes of flagd and Unleash — is defined beneath
//! `compile`, which uses it too, and re-exported here, its public path.
//! What is added here needs the evaluator's own types: the bytes an
//! attribute value hashes as.

pub use crate::bucketing::mode::{UNLEASH_VARIANT_SEED, murmur3};
use crate::bucketing::number_bytes;
pub use crate::bucketing::{
    BUCKETS, BucketingMode, KeyBuf, bucket, bucket_for, bucket_of_hash, key_bytes, key_string,
    percentage, salt_prefix, threshold,
};

use super::value::AttrValue;

/// [`key_bytes`] of an attribute value: strings as UTF-8, numbers in their
/// JSON form; other types cannot be bucketed.
#[inline]
pub fn attr_key_bytes<'a>(value: &'a AttrValue, buf: &'a mut KeyBuf) -> Option<&'a [u8]> {
    match value {
        AttrValue::Str(s) => Some(s.as_bytes()),
        AttrValue::Num(n) => number_bytes(n, buf),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attribute_values_hash_as_their_json() {
        for v in [json!("user-1"), json!(42), json!(1.5), json!(-7)] {
            let (mut a, mut b) = ([0u8; 40], [0u8; 40]);
            let attr = AttrValue::from_json(v.clone()).unwrap();
            assert_eq!(attr_key_bytes(&attr, &mut a), key_bytes(&v, &mut b));
        }
        let mut buf = [0u8; 40];
        assert_eq!(attr_key_bytes(&AttrValue::Bool(true), &mut buf), None);
    }
}
