//! Contexts read straight from JSON text, and the caps on what a context
//! read from JSON may hold.
//!
//! [`ContextSeed`] deserializes a context from any self-describing serde
//! deserializer (flagd uses `serde_json::Deserializer::from_slice` on the
//! request body) without building a `serde_json::Value` first: names and
//! scalars go straight into the context, short strings inline, borrowed
//! from the input where it has no escapes. Only a nested object is built
//! as a `Value` map, which is how [`AttrValue::Map`] holds it.
//!
//! The result is the context [`Context::from_map_within`] makes of the
//! same text parsed into a `Value`, error for error: a repeated name keeps
//! its first position and its last value (as a `serde_json::Map` does),
//! null is missing, and the caps count the names the object ends up with.

use std::collections::HashMap;
use std::fmt;

use compact_str::CompactString;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use smallvec::SmallVec;

use super::{Attr, Context, ContextError, INLINE};
use crate::attr_key::{TARGETING_KEY, fingerprint};
use crate::eval::AttrValue;

/// Caps on a context read from JSON: how many attributes it has and how
/// deeply lists and objects nest in its values (flagd's
/// `--max-context-attributes` and `--max-context-depth`, docs/security.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextLimits {
    /// Attributes in one context, `targetingKey` and null ones included.
    pub max_attributes: usize,
    /// Nesting of objects and lists inside attribute values: a scalar is
    /// 0, a list or object one more than its deepest member (an empty one
    /// is 1).
    pub max_depth: usize,
}

impl ContextLimits {
    /// No caps.
    pub const NONE: ContextLimits = ContextLimits {
        max_attributes: usize::MAX,
        max_depth: usize::MAX,
    };

    /// Refuses an attribute map beyond the caps: too many attributes first,
    /// then too deep.
    pub fn check(&self, attrs: &Map<String, Value>) -> Result<(), ContextError> {
        self.check_counted(
            attrs.len(),
            attrs.values().map(value_depth).max().unwrap_or(0),
        )
    }

    fn check_counted(&self, count: usize, depth: usize) -> Result<(), ContextError> {
        if count > self.max_attributes {
            return Err(ContextError::TooManyAttributes {
                count,
                max: self.max_attributes,
            });
        }
        if depth > self.max_depth {
            return Err(ContextError::TooDeep {
                depth,
                max: self.max_depth,
            });
        }
        Ok(())
    }
}

/// How deeply objects and lists nest in a value: a scalar is 0, a list or
/// object one more than its deepest member — an empty one is 1, so empty
/// containers nest as deep as full ones.
fn value_depth(value: &Value) -> usize {
    let mut deepest = 0;
    // Each value with the number of containers around it: no recursion,
    // whatever the nesting.
    let mut stack = vec![(value, 0usize)];
    while let Some((v, around)) = stack.pop() {
        match v {
            Value::Array(items) => {
                deepest = deepest.max(around + 1);
                stack.extend(items.iter().map(|i| (i, around + 1)));
            }
            Value::Object(map) => {
                deepest = deepest.max(around + 1);
                stack.extend(map.values().map(|i| (i, around + 1)));
            }
            _ => deepest = deepest.max(around),
        }
    }
    deepest
}

/// [`value_depth`] of the value an attribute was read from. Recursive for
/// lists, which the parser nests at most 128 deep.
fn attr_depth(value: &AttrValue) -> usize {
    match value {
        AttrValue::List(items) => 1 + items.iter().map(attr_depth).max().unwrap_or(0),
        AttrValue::Map(map) => 1 + map.values().map(value_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Why a context could not be read from JSON text.
#[derive(Debug, thiserror::Error)]
pub enum FromSliceError {
    /// The text is not JSON.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// The JSON is not a context (or is one beyond the caps).
    #[error(transparent)]
    Context(#[from] ContextError),
}

impl Context {
    /// A context from an attribute map, refused beyond `limits` (the map's
    /// size and nesting are checked before anything else).
    pub fn from_map_within(
        attrs: Map<String, Value>,
        limits: &ContextLimits,
    ) -> Result<Self, ContextError> {
        limits.check(&attrs)?;
        Context::from_map(attrs)
    }

    /// A context from the JSON text of an object, read without a
    /// `serde_json::Value` in between ([`ContextSeed`]): the context, or
    /// the error, that parsing `json` into a `Value` and handing its
    /// object to [`from_map_within`](Self::from_map_within) would give
    /// (not an object: [`ContextError::NotAnObject`]).
    ///
    /// ```
    /// use hotswap_flags_core::Context;
    /// use hotswap_flags_core::eval::context::{ContextLimits, FromSliceError};
    /// use hotswap_flags_core::eval::ContextError;
    ///
    /// let limits = ContextLimits { max_attributes: 4, max_depth: 2 };
    /// let ctx = Context::from_slice(br#"{"userId": "u-1", "plan": "trial"}"#, &limits)?;
    /// assert_eq!(ctx.get("targetingKey"), Some(&"u-1".into()));
    /// let deep = Context::from_slice(br#"{"a": [[[1]]]}"#, &limits).unwrap_err();
    /// assert!(matches!(deep, FromSliceError::Context(ContextError::TooDeep { depth: 3, .. })));
    /// # Ok::<(), FromSliceError>(())
    /// ```
    pub fn from_slice(json: &[u8], limits: &ContextLimits) -> Result<Self, FromSliceError> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let ctx = ContextSeed::new(limits).deserialize(&mut de)?;
        de.end()?;
        Ok(ctx?)
    }
}

/// Deserializes a [`Context`] within [`ContextLimits`], for a context
/// inside a larger document (flagd's `{"context": {…}}` bodies).
///
/// Its value is a `Result`: the deserializer's own error (the text is not
/// JSON) ends the parse, while a [`ContextError`] (not an object, beyond
/// the caps, a bad targeting key) is returned only once the whole value has
/// been read, every string and number in it checked as a `Value` would be,
/// so a syntax error later in the document still wins. A value that is not
/// an object gives [`ContextError::NotAnObject`] with the kind of JSON it
/// is (`"null"` for null).
#[derive(Debug, Clone, Copy)]
pub struct ContextSeed<'a> {
    limits: &'a ContextLimits,
}

impl<'a> ContextSeed<'a> {
    /// A seed that refuses contexts beyond `limits`.
    pub fn new(limits: &'a ContextLimits) -> Self {
        ContextSeed { limits }
    }
}

impl<'de> DeserializeSeed<'de> for ContextSeed<'_> {
    type Value = Result<Context, ContextError>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ContextSeed<'_> {
    type Value = Result<Context, ContextError>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut b = Builder::default();
        while let Some(Name(name)) = map.next_key()? {
            let value = map.next_value_seed(AttrSeed)?;
            b.put(name, value);
        }
        Ok(b.finish(self.limits))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredJson>()?.is_some() {}
        Ok(Err(ContextError::NotAnObject("an array")))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err(ContextError::NotAnObject("null")))
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Err(ContextError::NotAnObject("null")))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err(ContextError::NotAnObject("a boolean")))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err(ContextError::NotAnObject("a number")))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err(ContextError::NotAnObject("a number")))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // What a `Value` makes of it: a number, or null if it is none.
        let kind = if v.is_finite() { "a number" } else { "null" };
        Ok(Err(ContextError::NotAnObject(kind)))
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err(ContextError::NotAnObject("a string")))
    }
}

/// Attributes built up name by name. Names are unique in the end: a
/// repeated one replaces its earlier value in place. A null attribute is
/// kept as [`AttrValue::Null`] while the object is read (so that its
/// position is the first one, as in a `serde_json::Map`, should a later
/// value replace it) and dropped at the end.
#[derive(Default)]
struct Builder {
    /// The last `targetingKey` read, whatever its type; `Some(None)` for null.
    key: Option<Option<AttrValue>>,
    attrs: SmallVec<[Attr; INLINE]>,
    /// Whether any attribute is null.
    nulls: bool,
    /// Each name's position, once there are too many attributes to look
    /// through one by one for a repeated name (a hostile body may send
    /// thousands).
    index: Option<HashMap<CompactString, usize>>,
}

/// Attributes looked through one by one for a repeated name; past these,
/// [`Builder::index`] finds them.
const SCAN: usize = 16;

impl Builder {
    #[inline]
    fn put(&mut self, name: CompactString, value: Option<AttrValue>) {
        if name == TARGETING_KEY {
            self.key = Some(value);
            return;
        }
        let value = value.unwrap_or_else(|| {
            self.nulls = true;
            AttrValue::Null
        });
        let hash = fingerprint(&name);
        let at = match &self.index {
            Some(index) => index.get(name.as_str()).copied(),
            None => self
                .attrs
                .iter()
                .position(|a| a.hash == hash && a.name == name),
        };
        match at {
            Some(i) => self.attrs[i].value = value,
            None => {
                if let Some(index) = &mut self.index {
                    index.insert(name.clone(), self.attrs.len());
                }
                self.attrs.push(Attr { hash, name, value });
                if self.index.is_none() && self.attrs.len() > SCAN {
                    self.index = Some(
                        self.attrs
                            .iter()
                            .enumerate()
                            .map(|(i, a)| (a.name.clone(), i))
                            .collect(),
                    );
                }
            }
        }
    }

    /// The context, checked as [`Context::from_map_within`] checks: the
    /// caps, then `targetingKey`, then `userId`.
    fn finish(self, limits: &ContextLimits) -> Result<Context, ContextError> {
        let Builder {
            key,
            mut attrs,
            nulls,
            ..
        } = self;
        let count = attrs.len() + usize::from(key.is_some());
        let depth = attrs
            .iter()
            .map(|a| &a.value)
            .chain(key.iter().flatten())
            .map(attr_depth)
            .max()
            .unwrap_or(0);
        limits.check_counted(count, depth)?;
        if nulls {
            attrs.retain(|a| !matches!(a.value, AttrValue::Null));
        }
        let mut ctx = Context {
            key: None,
            key_is_targeting: false,
            attrs,
        };
        if let Some(Some(key)) = key {
            if !key.is_key() {
                return Err(ContextError::BadTargetingKey(TARGETING_KEY));
            }
            ctx.key = Some(key);
            ctx.key_is_targeting = true;
        }
        ctx.key_from_user_id()?;
        Ok(ctx)
    }
}

/// An attribute's name: inline up to 24 bytes, borrowed from the input
/// while it is read.
struct Name(CompactString);

impl<'de> de::Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Name;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, s: &str) -> Result<Name, E> {
                Ok(Name(CompactString::from(s)))
            }
            fn visit_string<E>(self, s: String) -> Result<Name, E> {
                Ok(Name(CompactString::from_string_buffer(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// An attribute's value, `None` for null: [`AttrValue::from_json`] of the
/// `Value` the same text would parse to.
struct AttrSeed;

impl<'de> DeserializeSeed<'de> for AttrSeed {
    type Value = Option<AttrValue>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AttrSeed {
    type Value = Option<AttrValue>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(AttrValue::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(AttrValue::Num(v.into())))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(AttrValue::Num(v.into())))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Number::from_f64(v).map(AttrValue::Num))
    }

    #[inline]
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(AttrValue::Str(CompactString::from(s))))
    }

    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Some(AttrValue::Str(CompactString::from_string_buffer(s))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(AttrSeed)? {
            items.push(item.unwrap_or(AttrValue::Null));
        }
        Ok(Some(AttrValue::List(items.into_boxed_slice())))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // As `Value` builds an object: a repeated member keeps its first
        // position and its last value.
        let mut members = Map::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            members.insert(k, v);
        }
        Ok(Some(AttrValue::Map(Box::new(members))))
    }
}

/// Any JSON value, read to its end and checked as a `Value` would be (every
/// string's escapes and UTF-8, every number's range), then dropped — unlike
/// serde's `IgnoredAny`, which serde_json lets skip those checks.
#[derive(Debug, Clone, Copy)]
pub struct IgnoredJson;

impl<'de> de::Deserialize<'de> for IgnoredJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IgnoredJson)
    }
}

impl<'de> Visitor<'de> for IgnoredJson {
    type Value = IgnoredJson;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<IgnoredJson, E> {
        Ok(IgnoredJson)
    }

    fn visit_none<E>(self) -> Result<IgnoredJson, E> {
        Ok(IgnoredJson)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<IgnoredJson, D::Error> {
        d.deserialize_any(IgnoredJson)
    }

    fn visit_bool<E>(self, _: bool) -> Result<IgnoredJson, E> {
        Ok(IgnoredJson)
    }

    fn visit_i64<E>(self, _: i64) -> Result<IgnoredJson, E> {
        Ok(IgnoredJson)
    }

    fn visit_u64<E>(self, _: u64) -> Result<IgnoredJson, E> {
        Ok(IgnoredJson)
    }

    fn visit_f64<E>(self, _: f64) -> Result<IgnoredJson, E> {
        Ok(IgnoredJson)
    }

    fn visit_str<E>(self, _: &str) -> Result<IgnoredJson, E> {
        Ok(IgnoredJson)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IgnoredJson, A::Error> {
        while seq.next_element::<IgnoredJson>()?.is_some() {}
        Ok(IgnoredJson)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IgnoredJson, A::Error> {
        while map.next_entry::<IgnoredJson, IgnoredJson>()?.is_some() {}
        Ok(IgnoredJson)
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use proptest::prelude::*;

    use super::*;

    /// The reference: the text parsed into a `Value`, its object handed to
    /// [`Context::from_map_within`]. Errors as comparable text.
    fn via_value(json: &[u8], limits: &ContextLimits) -> Result<Context, String> {
        match serde_json::from_slice::<Value>(json) {
            Err(e) => Err(format!("json: {e}")),
            Ok(Value::Object(map)) => {
                Context::from_map_within(map, limits).map_err(|e| format!("{e:?}"))
            }
            Ok(other) => Err(format!(
                "{:?}",
                ContextError::NotAnObject(super::super::json_kind(&other))
            )),
        }
    }

    fn via_bytes(json: &[u8], limits: &ContextLimits) -> Result<Context, String> {
        Context::from_slice(json, limits).map_err(|e| match e {
            FromSliceError::Json(e) => format!("json: {e}"),
            FromSliceError::Context(e) => format!("{e:?}"),
        })
    }

    fn agree(json: &str, limits: &ContextLimits) -> Result<Context, String> {
        let expected = via_value(json.as_bytes(), limits);
        assert_eq!(via_bytes(json.as_bytes(), limits), expected, "{json}");
        expected
    }

    /// JSON as a client may write it: repeated names, escapes anywhere,
    /// numbers in every form the grammar allows and some it does not.
    #[derive(Debug, Clone)]
    enum Json {
        Null,
        Bool(bool),
        Int(i64),
        UInt(u64),
        Float(f64),
        Text(&'static str),
        Str(String, bool),
        List(Vec<Json>),
        Object(Vec<(String, bool, Json)>),
    }

    /// Number texts beyond what `Int`/`UInt`/`Float` write: negative zero,
    /// exponents, integers past 64 bits (read as floats), out of range and
    /// malformed.
    const NUMBERS: &[&str] = &[
        "-0",
        "0.0",
        "1e5",
        "1E+2",
        "-1.5e-3",
        "18446744073709551616",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "1e400",
        "01",
        "1.",
        "-",
        "2.5e-400",
    ];

    const NAMES: &[&str] = &[
        "targetingKey",
        "userId",
        "a",
        "b",
        "plan",
        "é",
        "user.email",
        "x\"y\\z",
        "a-name-longer-than-twenty-four-bytes",
        "😀",
        "",
        "tab\there",
    ];

    fn write_str(out: &mut String, s: &str, escape: bool) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c if (c as u32) < 0x20 || escape => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        let _ = write!(out, "\\u{u:04x}");
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }

    impl Json {
        fn write(&self, out: &mut String) {
            match self {
                Json::Null => out.push_str("null"),
                Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                Json::Int(n) => {
                    let _ = write!(out, "{n}");
                }
                Json::UInt(n) => {
                    let _ = write!(out, "{n}");
                }
                Json::Float(f) => {
                    let _ = write!(out, "{f:?}");
                }
                Json::Text(t) => out.push_str(t),
                Json::Str(s, escape) => write_str(out, s, *escape),
                Json::List(items) => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        item.write(out);
                    }
                    out.push(']');
                }
                Json::Object(members) => {
                    out.push('{');
                    for (i, (name, escape, value)) in members.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        write_str(out, name, *escape);
                        out.push(':');
                        value.write(out);
                    }
                    out.push('}');
                }
            }
        }
    }

    fn scalar() -> impl Strategy<Value = Json> {
        prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(Json::Int),
            any::<u64>().prop_map(Json::UInt),
            any::<f64>()
                .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
                .prop_map(Json::Float),
            prop::sample::select(NUMBERS).prop_map(Json::Text),
            (".{0,30}", any::<bool>()).prop_map(|(s, e)| Json::Str(s, e)),
            (prop::sample::select(NAMES), any::<bool>())
                .prop_map(|(s, e)| Json::Str(s.to_owned(), e)),
        ]
    }

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => prop::sample::select(NAMES).prop_map(str::to_owned),
            1 => "[a-z.]{1,6}",
            1 => ".{0,28}",
        ]
    }

    fn json() -> impl Strategy<Value = Json> {
        scalar().prop_recursive(5, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Json::List),
                prop::collection::vec((name(), any::<bool>(), inner), 0..8).prop_map(Json::Object),
            ]
        })
    }

    /// A context: an object, most of the time, of up to 24 members (past
    /// [`SCAN`], repeated names are found through the index).
    fn context() -> impl Strategy<Value = Json> {
        prop_oneof![
            8 => prop::collection::vec((name(), any::<bool>(), json()), 0..24)
                .prop_map(Json::Object),
            1 => json(),
        ]
    }

    fn limits() -> impl Strategy<Value = ContextLimits> {
        (
            prop_oneof![Just(usize::MAX), 0usize..10],
            prop_oneof![Just(usize::MAX), 0usize..4],
        )
            .prop_map(|(max_attributes, max_depth)| ContextLimits {
                max_attributes,
                max_depth,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// The byte path gives the `Value` path's context or error, for
        /// well-formed text and for text cut short or with a stray byte.
        #[test]
        fn bytes_and_value_agree(
            ctx in context(),
            limits in limits(),
            damage in prop::option::weighted(0.15, (any::<prop::sample::Index>(), prop::sample::select(&[None, Some(b'}'), Some(b','), Some(b'"'), Some(0xff)][..]))),
        ) {
            let mut text = String::new();
            ctx.write(&mut text);
            let mut bytes = text.into_bytes();
            if let Some((at, byte)) = damage {
                let at = at.index(bytes.len() + 1);
                match byte {
                    None => bytes.truncate(at),
                    Some(b) => bytes.insert(at, b),
                }
            }
            prop_assert_eq!(via_bytes(&bytes, &limits), via_value(&bytes, &limits));
        }
    }

    #[test]
    fn repeated_names_keep_the_first_place_and_the_last_value() {
        let n = ContextLimits::NONE;
        let c = agree(r#"{"a": null, "b": 1, "a": 2}"#, &n).unwrap();
        let names: Vec<_> = c.attributes().map(|(k, _)| k.to_owned()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(c.get("a"), Some(&2.into()));
        let c = agree(r#"{"a": 1, "b": 1, "a": null}"#, &n).unwrap();
        assert_eq!(c.get("a"), None);
        // A repeated key: the last one counts, bad or not.
        agree(r#"{"targetingKey": [1], "targetingKey": "k"}"#, &n).unwrap();
        agree(r#"{"targetingKey": "k", "targetingKey": [1]}"#, &n).unwrap_err();
        agree(
            r#"{"targetingKey": "k", "targetingKey": null, "userId": 5}"#,
            &n,
        )
        .unwrap();
        // Escaped names are the same names.
        let c = agree(r#"{"\u0061": 1, "a": 2, "targetingK\u0065y": "k"}"#, &n).unwrap();
        assert_eq!((c.get("a"), c.attributes().count()), (Some(&2.into()), 2));
    }

    #[test]
    fn caps_count_the_names_the_object_ends_up_with() {
        let tight = ContextLimits {
            max_attributes: 2,
            max_depth: 1,
        };
        agree(r#"{"a": 1, "a": 2, "b": null}"#, &tight).unwrap();
        assert_eq!(
            agree(r#"{"a": 1, "b": 2, "targetingKey": null}"#, &tight),
            Err("TooManyAttributes { count: 3, max: 2 }".into())
        );
        // A deep value replaced by a flat one does not count.
        agree(r#"{"a": [[1]], "a": 1}"#, &tight).unwrap();
        for deep in [
            r#"[[]]"#,
            r#"[{}]"#,
            r#"{"x": []}"#,
            r#"[[], 1]"#,
            r#"{"x": 1, "x": []}"#,
        ] {
            assert_eq!(
                agree(&format!(r#"{{"targetingKey": {deep}}}"#), &tight),
                Err("TooDeep { depth: 2, max: 1 }".into()),
                "{deep}"
            );
        }
        // Too many attributes is found before too deep, and both before a
        // bad key.
        assert_eq!(
            agree(r#"{"userId": [[true]], "b": 1, "c": 2}"#, &tight),
            Err("TooManyAttributes { count: 3, max: 2 }".into())
        );
        assert_eq!(
            agree(r#"{"userId": [[true]]}"#, &tight),
            Err("TooDeep { depth: 2, max: 1 }".into())
        );
    }

    #[test]
    fn many_names_and_deep_nesting() {
        // Thousands of names, every tenth repeated: the index finds them.
        let mut text = String::from("{");
        for i in 0..5000 {
            let _ = write!(text, r#""n{}": {i},"#, i % 4500);
        }
        text.push_str(r#""targetingKey": "k"}"#);
        let c = agree(&text, &ContextLimits::NONE).unwrap();
        assert_eq!(c.attributes().count(), 4501);
        assert_eq!(c.get("n3"), Some(&4503.into()));
        let capped = ContextLimits {
            max_attributes: 256,
            max_depth: 8,
        };
        assert_eq!(
            agree(&text, &capped),
            Err("TooManyAttributes { count: 4501, max: 256 }".into())
        );
        // Past serde_json's nesting limit, the same parse error.
        let deep = format!(r#"{{"a": {}1{}}}"#, "[".repeat(200), "]".repeat(200));
        assert!(
            agree(&deep, &ContextLimits::NONE)
                .unwrap_err()
                .contains("recursion limit")
        );
    }

    #[test]
    fn values_checked_as_a_value_would_be() {
        let n = ContextLimits::NONE;
        // Not an object: still read to the end, so a syntax error wins.
        assert_eq!(
            agree("[1, 2]", &n),
            Err(r#"NotAnObject("an array")"#.into())
        );
        assert!(agree("[1, 1e400]", &n).unwrap_err().starts_with("json: "));
        assert!(
            agree(r#"["\ud800"]"#, &n)
                .unwrap_err()
                .starts_with("json: ")
        );
        assert_eq!(agree("null", &n), Err(r#"NotAnObject("null")"#.into()));
        assert!(
            agree(r#"{"a": 1} x"#, &n)
                .unwrap_err()
                .starts_with("json: ")
        );
        let c = agree(
            r#"{"l": [null, 1, -0, 1.5, "s", {"k": [1]}], "m": {"k": 1, "k": 2}, "big": 18446744073709551616}"#,
            &n,
        )
        .unwrap();
        assert_eq!(c.get("l").map(AttrValue::to_json).unwrap()[0], Value::Null);
        assert_eq!(
            c.get("m").map(AttrValue::to_json),
            Some(serde_json::json!({"k": 2}))
        );
    }
}
