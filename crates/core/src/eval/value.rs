//! Attribute values as the evaluator reads them: typed, small strings kept
//! inline, so that building a context for a request does not allocate.

use compact_str::CompactString;
use jiff::Timestamp;
use serde_json::{Map, Number, Value};

/// The value of one context attribute.
///
/// A context given as JSON holds strings, numbers, booleans, lists and maps.
/// Embedders may also set parsed versions and instants
/// ([`Context::with_version`](super::Context::with_version),
/// [`Context::with_time`](super::Context::with_time)): version and time
/// conditions compare those without parsing, while string operators
/// (`eq`, `starts_with`, …) see them as neither strings nor numbers, as they
/// would a map. Strings of up to 24 bytes are stored inline.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// A string.
    Str(CompactString),
    /// A number, in the form JSON gave it (an integer buckets as `42`, not `42.0`).
    Num(Number),
    /// A boolean.
    Bool(bool),
    /// A parsed semantic version.
    Version(Box<semver::Version>),
    /// An instant.
    Time(Timestamp),
    /// A list.
    List(Box<[AttrValue]>),
    /// A JSON object: only `exists` looks into maps.
    Map(Box<Map<String, Value>>),
    /// Null, inside a list (a null attribute is missing, not null).
    Null,
}

/// How strings parsed from JSON become attribute strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strings {
    /// Short strings copied inline and their buffers freed: for contexts
    /// kept by the thousand (a simulated population), which then hold no
    /// allocation each.
    Inline,
    /// The parsed buffers kept as they are: for a context built per request
    /// and dropped after it, where copying and freeing every string would
    /// double the cost of building it.
    Reuse,
}

impl Strings {
    #[inline]
    pub(crate) fn take(self, s: String) -> CompactString {
        match self {
            Strings::Inline => CompactString::from(s),
            Strings::Reuse => CompactString::from_string_buffer(s),
        }
    }
}

impl AttrValue {
    /// The value from JSON; `None` for null (a null attribute is missing).
    pub fn from_json(value: Value) -> Option<Self> {
        AttrValue::from_json_as(value, Strings::Inline)
    }

    /// [`from_json`](Self::from_json), taking strings as `strings` says.
    pub(crate) fn from_json_as(value: Value, strings: Strings) -> Option<Self> {
        Some(match value {
            Value::Null => return None,
            Value::Bool(b) => AttrValue::Bool(b),
            Value::Number(n) => AttrValue::Num(n),
            Value::String(s) => AttrValue::Str(strings.take(s)),
            Value::Array(items) => AttrValue::List(
                items
                    .into_iter()
                    .map(|v| AttrValue::from_json_as(v, strings).unwrap_or(AttrValue::Null))
                    .collect(),
            ),
            Value::Object(map) => AttrValue::Map(Box::new(map)),
        })
    }

    /// The value as JSON (versions and instants as their strings).
    pub fn to_json(&self) -> Value {
        match self {
            AttrValue::Str(s) => Value::String(s.as_str().to_owned()),
            AttrValue::Num(n) => Value::Number(n.clone()),
            AttrValue::Bool(b) => Value::Bool(*b),
            AttrValue::Version(v) => Value::String(v.to_string()),
            AttrValue::Time(t) => Value::String(t.to_string()),
            AttrValue::List(items) => Value::Array(items.iter().map(AttrValue::to_json).collect()),
            AttrValue::Map(map) => Value::Object((**map).clone()),
            AttrValue::Null => Value::Null,
        }
    }

    /// The string, if this is one.
    #[inline]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this value can be a targeting key (a string or a number).
    #[inline]
    pub(crate) fn is_key(&self) -> bool {
        matches!(self, AttrValue::Str(_) | AttrValue::Num(_))
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::Str(s.into())
    }
}

impl From<String> for AttrValue {
    fn from(s: String) -> Self {
        AttrValue::Str(s.into())
    }
}

impl From<CompactString> for AttrValue {
    fn from(s: CompactString) -> Self {
        AttrValue::Str(s)
    }
}

impl From<bool> for AttrValue {
    fn from(b: bool) -> Self {
        AttrValue::Bool(b)
    }
}

macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for AttrValue {
            fn from(n: $t) -> Self {
                AttrValue::Num(n.into())
            }
        }
    )*};
}
from_integer!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl From<semver::Version> for AttrValue {
    fn from(v: semver::Version) -> Self {
        AttrValue::Version(Box::new(v))
    }
}

impl From<Timestamp> for AttrValue {
    fn from(t: Timestamp) -> Self {
        AttrValue::Time(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trip() {
        for v in [
            json!("s"),
            json!(42),
            json!(-1.5),
            json!(true),
            json!(["a", 1, false, null]),
            json!({"a": {"b": 1}}),
        ] {
            assert_eq!(AttrValue::from_json(v.clone()).unwrap().to_json(), v);
        }
        assert_eq!(AttrValue::from_json(Value::Null), None);
        let v = AttrValue::from(semver::Version::new(2, 4, 0));
        assert_eq!(v.to_json(), json!("2.4.0"));
    }
}
