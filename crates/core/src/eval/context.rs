//! The evaluation context: who is asking, with which attributes.
//!
//! Built once per request, read by every rule: attributes sit in a small
//! inline array (no allocation for up to [`INLINE`] attributes whose names
//! and string values fit in 24 bytes), each with a fingerprint of its name
//! computed when it is set. Rules carry the fingerprint of the name they
//! test ([`AttrKey`], computed at compile time), so a lookup compares a few
//! integers and hashes no string.

use compact_str::CompactString;
use jiff::Timestamp;
use serde_json::{Map, Number, Value};
use smallvec::SmallVec;

use super::value::{AttrValue, Strings};
// A public path of the key, which is defined beneath `ruleset` (which
// holds it in conditions).
pub use crate::attr_key::AttrKey;
use crate::attr_key::{TARGETING_KEY, fingerprint};
use crate::text::same;

mod json;
pub use json::{ContextLimits, ContextSeed, FromSliceError, IgnoredJson};

/// Attributes a context holds without allocating (the targeting key aside).
pub const INLINE: usize = 6;

const USER_ID: &str = "userId";

/// Attributes of the unit a flag is evaluated for.
///
/// `targetingKey` is the standard key; `userId` is accepted as its alias (the
/// evaluation API's query parameters use it). Null attributes count as missing.
/// Embedders build contexts with the typed setters; the HTTP API reads JSON.
///
/// ```
/// use hotswap_flags_core::Context;
/// use hotswap_flags_core::eval::AttrValue;
/// use serde_json::json;
///
/// let ctx = Context::new()
///     .with_key("u-1")
///     .with_str("plan", "trial")
///     .with_number("seats", 12)
///     .with_bool("beta", true)
///     .with_version("appVersion", "2.4.1".parse()?)
///     .with_list("groups", ["admins", "ops"]);
/// assert_eq!(ctx.targeting_key(), Some(&AttrValue::from("u-1")));
/// assert_eq!(ctx.get("seats"), Some(&AttrValue::from(12)));
///
/// let parsed = Context::from_json(json!({"userId": "u-1", "plan": "trial", "beta": null}))?;
/// assert_eq!(parsed.get("targetingKey"), Some(&"u-1".into()));
/// assert_eq!(parsed.get("beta"), None); // null is missing
/// assert_eq!(parsed.get("plan"), ctx.get("plan"));
/// assert!(Context::from_json(json!(["not", "an", "object"])).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// The key: `targetingKey`, or else `userId`.
    key: Option<AttrValue>,
    /// Whether `key` came from `targetingKey` (which `userId` cannot override).
    key_is_targeting: bool,
    /// Every other attribute, `userId` included, in the order set.
    attrs: SmallVec<[Attr; INLINE]>,
}

#[derive(Debug, Clone, PartialEq)]
struct Attr {
    hash: u64,
    name: CompactString,
    value: AttrValue,
}

/// A context that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    /// The context is not a JSON object.
    #[error("the context must be a JSON object, not {0}")]
    NotAnObject(&'static str),
    /// `targetingKey` (or `userId`) is not a string or number.
    #[error("`{0}` must be a string or a number")]
    BadTargetingKey(&'static str),
    /// More attributes than [`ContextLimits::max_attributes`].
    #[error("the context has {count} attributes; at most {max} are accepted")]
    TooManyAttributes {
        /// The attributes the context has (null ones included).
        count: usize,
        /// The cap.
        max: usize,
    },
    /// Values nested deeper than [`ContextLimits::max_depth`].
    #[error("attribute values nest {depth} levels deep; at most {max} are accepted")]
    TooDeep {
        /// The deepest nesting in the context.
        depth: usize,
        /// The cap.
        max: usize,
    },
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Context {
    /// An empty context (no key, no attributes).
    pub fn new() -> Self {
        Context::default()
    }

    /// A context from a JSON object. The JSON's strings become the
    /// context's without being copied (see [`from_map`](Self::from_map)).
    pub fn from_json(value: Value) -> Result<Self, ContextError> {
        Context::from_json_as(value, Strings::Reuse)
    }

    /// [`from_json`](Self::from_json) for a context kept long, among many
    /// (a simulated population): short strings are stored inline, so the
    /// context holds no allocation of its own.
    pub fn from_json_inline(value: Value) -> Result<Self, ContextError> {
        Context::from_json_as(value, Strings::Inline)
    }

    fn from_json_as(value: Value, strings: Strings) -> Result<Self, ContextError> {
        match value {
            Value::Object(map) => Context::from_map_as(map, strings),
            other => Err(ContextError::NotAnObject(json_kind(&other))),
        }
    }

    /// A context from attributes; `targetingKey` or else `userId` becomes the key.
    ///
    /// The map's strings are kept, not copied: a context built per request
    /// from a parsed body costs no allocation or copy of its own, and its
    /// strings are freed when it is dropped.
    pub fn from_map(attrs: Map<String, Value>) -> Result<Self, ContextError> {
        Context::from_map_as(attrs, Strings::Reuse)
    }

    fn from_map_as(attrs: Map<String, Value>, strings: Strings) -> Result<Self, ContextError> {
        let mut ctx = Context::new();
        ctx.attrs.reserve(attrs.len());
        for (name, value) in attrs {
            let Some(value) = AttrValue::from_json_as(value, strings) else {
                continue;
            };
            if name == TARGETING_KEY {
                if !value.is_key() {
                    return Err(ContextError::BadTargetingKey(TARGETING_KEY));
                }
                ctx.key = Some(value);
                ctx.key_is_targeting = true;
            } else {
                // The names of a JSON object are distinct: no need to look
                // for an earlier attribute of the same name.
                ctx.attrs.push(Attr {
                    hash: fingerprint(&name),
                    name: strings.take(name),
                    value,
                });
            }
        }
        ctx.key_from_user_id()?;
        Ok(ctx)
    }

    /// Without `targetingKey`, takes `userId` as the key.
    fn key_from_user_id(&mut self) -> Result<(), ContextError> {
        if self.key_is_targeting {
            return Ok(());
        }
        self.key = match self.find(fingerprint(USER_ID), USER_ID) {
            Some(v) if v.is_key() => Some(v.clone()),
            Some(_) => return Err(ContextError::BadTargetingKey(USER_ID)),
            None => None,
        };
        Ok(())
    }

    /// The same context with a targeting key.
    #[must_use]
    #[inline(always)]
    pub fn with_key(mut self, key: impl Into<CompactString>) -> Self {
        self.key = Some(AttrValue::Str(key.into()));
        self.key_is_targeting = true;
        self
    }

    /// The same context with a string attribute.
    #[must_use]
    #[inline(always)]
    pub fn with_str(self, name: &str, value: impl Into<CompactString>) -> Self {
        self.with(name, AttrValue::Str(value.into()))
    }

    /// The same context with a number attribute (integers; see
    /// [`with_float`](Self::with_float) for fractions).
    #[must_use]
    #[inline(always)]
    pub fn with_number(self, name: &str, value: impl Into<Number>) -> Self {
        self.with(name, AttrValue::Num(value.into()))
    }

    /// The same context with a number attribute; NaN and infinities, which
    /// JSON cannot carry either, leave the attribute missing.
    #[must_use]
    #[inline(always)]
    pub fn with_float(self, name: &str, value: f64) -> Self {
        match Number::from_f64(value) {
            Some(n) => self.with(name, AttrValue::Num(n)),
            None => self,
        }
    }

    /// The same context with a boolean attribute.
    #[must_use]
    #[inline(always)]
    pub fn with_bool(self, name: &str, value: bool) -> Self {
        self.with(name, AttrValue::Bool(value))
    }

    /// The same context with a parsed semantic version, which `semver_*`
    /// conditions compare without parsing.
    #[must_use]
    #[inline(always)]
    pub fn with_version(self, name: &str, value: semver::Version) -> Self {
        self.with(name, AttrValue::Version(Box::new(value)))
    }

    /// The same context with an instant, for `before`/`after` conditions.
    #[must_use]
    #[inline(always)]
    pub fn with_time(self, name: &str, value: Timestamp) -> Self {
        self.with(name, AttrValue::Time(value))
    }

    /// The same context with a list attribute (for `contains`).
    #[must_use]
    #[inline(always)]
    pub fn with_list<T: Into<AttrValue>>(
        self,
        name: &str,
        items: impl IntoIterator<Item = T>,
    ) -> Self {
        self.with(
            name,
            AttrValue::List(items.into_iter().map(Into::into).collect()),
        )
    }

    /// The same context with an attribute of any type. A `targetingKey`
    /// that is neither a string nor a number is ignored, and such a `userId`
    /// is an attribute but not the key ([`insert`](Self::insert) refuses
    /// both).
    #[must_use]
    #[inline(always)]
    pub fn with(mut self, name: &str, value: impl Into<AttrValue>) -> Self {
        self.set(name, value.into());
        self
    }

    /// Sets a string attribute in place (`targetingKey` and `userId`
    /// update the key), for contexts built in a loop, where
    /// [`with_str`](Self::with_str) would move the whole context in and
    /// out on each pass.
    pub fn set_str(&mut self, name: &str, value: impl Into<CompactString>) {
        self.set(name, AttrValue::Str(value.into()));
    }

    /// Sets an attribute (`targetingKey` and `userId` update the key; null
    /// removes the attribute).
    pub fn insert(&mut self, name: &str, value: Value) -> Result<(), ContextError> {
        let value = AttrValue::from_json(value);
        if let Some(v) = &value
            && !v.is_key()
        {
            if name == TARGETING_KEY {
                return Err(ContextError::BadTargetingKey(TARGETING_KEY));
            }
            if name == USER_ID && !self.key_is_targeting {
                return Err(ContextError::BadTargetingKey(USER_ID));
            }
        }
        match value {
            Some(v) => self.set(name, v),
            None => self.remove(name),
        }
        Ok(())
    }

    /// The setters above are inlined wrappers around this call, so a
    /// chain of them builds the context in place: by value, each would
    /// copy the whole inline array in and out.
    fn set(&mut self, name: &str, value: AttrValue) {
        if name == TARGETING_KEY {
            if value.is_key() {
                self.key = Some(value);
                self.key_is_targeting = true;
            }
            return;
        }
        let hash = fingerprint(name);
        if name == USER_ID && !self.key_is_targeting {
            self.key = value.is_key().then(|| value.clone());
        }
        match self
            .attrs
            .iter_mut()
            .find(|a| a.hash == hash && a.name == name)
        {
            Some(attr) => attr.value = value,
            None => self.attrs.push(Attr {
                hash,
                name: name.into(),
                value,
            }),
        }
    }

    fn remove(&mut self, name: &str) {
        if name == TARGETING_KEY {
            self.key = None;
            self.key_is_targeting = false;
        } else {
            let hash = fingerprint(name);
            self.attrs.retain(|a| !(a.hash == hash && a.name == name));
        }
        if !self.key_is_targeting {
            // Whatever `userId` holds was checked when it was set.
            let _ = self.key_from_user_id();
        }
    }

    /// The targeting key, if the context has one.
    #[inline]
    pub fn targeting_key(&self) -> Option<&AttrValue> {
        self.key.as_ref()
    }

    /// An attribute by name; `targetingKey` resolves the alias. Null is missing.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        if name == TARGETING_KEY {
            return self.key.as_ref();
        }
        self.find(fingerprint(name), name)
    }

    /// An attribute by a rule's key: integers compared, no string hashed.
    #[inline(always)]
    pub fn lookup(&self, key: &AttrKey) -> Option<&AttrValue> {
        if key.targeting {
            return self.key.as_ref();
        }
        self.find(key.hash, &key.name)
    }

    /// The value at a dotted key's path (`user.email`: the attribute
    /// `user`, an object, then its member `email`; a number segment
    /// indexes a list), for a key the context has no attribute of the
    /// whole name for. `None` for a key without dots, a path that leads
    /// nowhere, or null.
    pub fn nested(&self, key: &AttrKey) -> Option<&Value> {
        let path = key.path.as_deref()?;
        let (first, rest) = path.split_first()?;
        let AttrValue::Map(map) = self.find(fingerprint(first), first)? else {
            return None;
        };
        let (second, rest) = rest.split_first()?;
        let mut at = map.get(&**second)?;
        for seg in rest {
            at = match at {
                Value::Object(m) => m.get(&**seg)?,
                Value::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        (!at.is_null()).then_some(at)
    }

    /// A plain loop rather than `Iterator::find`, whose closure the
    /// compiler kept out of line: a call per lookup, several per rule.
    #[inline(always)]
    fn find(&self, hash: u64, name: &str) -> Option<&AttrValue> {
        for attr in self.attrs.iter() {
            if attr.hash == hash && same(&attr.name, name) {
                return Some(&attr.value);
            }
        }
        None
    }

    /// All attributes, the targeting key first (as `targetingKey`, unless it
    /// came from `userId`, which is listed in its place).
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &AttrValue)> {
        let key = self
            .key
            .as_ref()
            .filter(|_| self.key_is_targeting)
            .map(|k| (TARGETING_KEY, k));
        key.into_iter()
            .chain(self.attrs.iter().map(|a| (a.name.as_str(), &a.value)))
    }

    /// The context as a JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.attributes()
                .map(|(k, v)| (k.to_owned(), v.to_json()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_id_is_an_alias() {
        let c = Context::from_json(json!({"userId": "u1", "plan": "pro"})).unwrap();
        assert_eq!(c.get("targetingKey"), Some(&"u1".into()));
        assert_eq!(c.get("userId"), Some(&"u1".into()));
        let c = Context::from_json(json!({"userId": "u1", "targetingKey": "t"})).unwrap();
        assert_eq!(c.targeting_key(), Some(&"t".into()));
        let c = Context::new().with_str("userId", "u").with_key("t");
        assert_eq!(c.targeting_key(), Some(&"t".into()));
        let c = Context::new().with_key("t").with_str("userId", "u");
        assert_eq!(c.targeting_key(), Some(&"t".into()));
    }

    #[test]
    fn null_is_missing() {
        let c = Context::from_json(json!({"targetingKey": null, "a": null})).unwrap();
        assert_eq!(c.targeting_key(), None);
        assert_eq!(c.get("a"), None);
        let mut c = Context::new().with_key("k").with_str("a", "x");
        c.insert("a", Value::Null).unwrap();
        c.insert("targetingKey", Value::Null).unwrap();
        assert_eq!((c.get("a"), c.targeting_key()), (None, None));
    }

    #[test]
    fn bad_inputs() {
        assert!(Context::from_json(json!([1])).is_err());
        assert!(Context::from_json(json!({"targetingKey": {"x": 1}})).is_err());
        assert_eq!(
            Context::from_json(json!({"userId": true})),
            Err(ContextError::BadTargetingKey("userId"))
        );
        // A bad `userId` beside a good `targetingKey` is just an attribute.
        assert!(Context::from_json(json!({"userId": true, "targetingKey": "k"})).is_ok());
        let mut c = Context::new();
        assert!(c.insert("targetingKey", json!([1])).is_err());
        // The typed setters never fail: such a key is no key.
        let c = Context::new().with_bool("targetingKey", true);
        assert_eq!(c.targeting_key(), None);
    }

    #[test]
    fn insert_updates_key_and_replaces() {
        let mut c = Context::new();
        c.insert("targetingKey", json!(7)).unwrap();
        assert_eq!(c.targeting_key(), Some(&7.into()));
        c.insert("plan", json!("a")).unwrap();
        c.insert("plan", json!("b")).unwrap();
        assert_eq!(c.attributes().count(), 2);
        assert_eq!(c.get("plan"), Some(&"b".into()));
    }

    #[test]
    fn builder_and_json_agree() {
        let built = Context::new()
            .with_key("u-123")
            .with_str("plan", "trial")
            .with_number("seats", 3)
            .with_float("ratio", 0.5)
            .with_float("nan", f64::NAN)
            .with_list("tags", ["a", "b"]);
        let parsed = Context::from_json(json!({
            "targetingKey": "u-123", "plan": "trial", "seats": 3, "ratio": 0.5, "tags": ["a", "b"]
        }))
        .unwrap();
        assert_eq!(built, parsed);
        assert_eq!(built.to_json()["tags"], json!(["a", "b"]));
        assert_eq!(built.lookup(&AttrKey::new("plan")), Some(&"trial".into()));
        assert_eq!(
            built.lookup(&AttrKey::new("targetingKey")),
            Some(&"u-123".into())
        );
    }
}
