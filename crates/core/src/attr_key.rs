//! Attribute names as rules refer to them: each with a fingerprint of the
//! name, computed once when the ruleset is compiled.
//!
//! A leaf below `ruleset` and `eval`: compiled conditions and `bucketBy`
//! hold [`AttrKey`]s, and a context fingerprints each attribute with the
//! same [`fingerprint`] when it is set, so a lookup compares a few integers
//! and hashes no string (docs/performance.md).

use std::ops::Deref;

/// The standard key's name; `userId` is its alias.
pub(crate) const TARGETING_KEY: &str = "targetingKey";

/// An attribute name as a rule refers to it: the name with its fingerprint,
/// computed once when the ruleset is compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrKey {
    pub(crate) name: Box<str>,
    pub(crate) hash: u64,
    /// Whether this is [`TARGETING_KEY`], which a context keeps apart.
    pub(crate) targeting: bool,
    /// For a name with dots (`user.email`), its segments: read as a path
    /// into nested objects when the context has no attribute of the whole
    /// name (docs/flag-format.md §8, "Nested attributes").
    pub(crate) path: Option<Box<[Box<str>]>>,
}

impl AttrKey {
    /// The key for `name`.
    pub fn new(name: &str) -> Self {
        let path = (name.contains('.') && name.split('.').all(|s| !s.is_empty()))
            .then(|| name.split('.').map(Into::into).collect());
        AttrKey {
            name: name.into(),
            hash: fingerprint(name),
            targeting: name == TARGETING_KEY,
            path,
        }
    }
}

impl From<&str> for AttrKey {
    fn from(name: &str) -> Self {
        AttrKey::new(name)
    }
}

impl Deref for AttrKey {
    type Target = str;
    fn deref(&self) -> &str {
        &self.name
    }
}

/// The fingerprint lookups compare before comparing names.
#[inline]
pub(crate) fn fingerprint(name: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(name.as_bytes())
}
