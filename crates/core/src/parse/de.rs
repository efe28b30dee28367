//! A serde deserializer over [`Node`] that knows where every error happened.
//!
//! serde's derived code reports *what* is wrong ("unknown field", "invalid
//! type"); this deserializer adds *where*: each error leaving a node is given
//! that node's position (if it has none yet) and the key or index that led to
//! it, so the message ends up as `file:line:col: … (at flags.x.rules[2])`.

use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};

use super::node::{Key, Node, NodeKind};
use crate::diagnostic::{Diagnostic, KeyPath, PathSeg, Pos, did_you_mean};

/// What kind of mistake a [`DeError`] is, where it matters to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeErrorKind {
    /// A key the model does not have (the path ends at it).
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// Anything else: a wrong type, an unknown value, a custom check.
    Other,
}

/// A deserialization error with its position and key path.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    /// What kind of mistake.
    pub kind: DeErrorKind,
    /// What is wrong.
    pub message: String,
    /// How to fix it, where known.
    pub hint: Option<String>,
    /// Where, once known.
    pub pos: Option<Pos>,
    /// The path, innermost segment first while the error bubbles up.
    path_rev: Vec<PathSeg>,
}

impl DeError {
    fn new(message: String) -> Self {
        DeError {
            kind: DeErrorKind::Other,
            message,
            hint: None,
            pos: None,
            path_rev: Vec::new(),
        }
    }

    /// Gives the error a position unless a deeper node already did.
    fn located(mut self, pos: Pos) -> Self {
        self.pos.get_or_insert(pos);
        self
    }

    /// Locates an error that left the value of a map entry. A problem with a
    /// map or list as a whole (a missing key, a wrong type) is reported at the
    /// key that names it, like the compiler's findings, rather than at its
    /// first entry on the next line.
    pub fn at_entry(mut self, key: &Key, value: &Node) -> Self {
        if self.path_rev.is_empty() && matches!(value.kind, NodeKind::Map(_) | NodeKind::Seq(_)) {
            self.pos = Some(key.pos);
        }
        self.located(value.pos)
    }

    /// Records the key or index this error came through.
    fn within(mut self, seg: PathSeg) -> Self {
        self.path_rev.push(seg);
        self
    }

    /// The key path from the document root.
    pub fn path(&self) -> KeyPath {
        KeyPath(self.path_rev.iter().rev().cloned().collect())
    }

    /// Converts to a diagnostic (without a file), for a node found at `prefix`.
    pub fn into_diagnostic(self, prefix: &KeyPath) -> Diagnostic {
        let mut path = prefix.clone();
        path.0.extend(self.path().0);
        let mut d = Diagnostic::error(path, self.message).with_hint_opt(self.hint);
        d.pos = self.pos;
        d
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

fn one_of(expected: &[&str]) -> String {
    let list: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
    format!("expected one of {}", list.join(", "))
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(msg.to_string())
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let exp = plain_expected(&exp.to_string());
        let mut e = DeError::new(format!(
            "expected {exp}, found {}",
            describe_unexpected(&unexp)
        ));
        if let Unexpected::Str(s) = unexp {
            e.hint = match exp.as_str() {
                "a boolean" => boolean_string_hint(s),
                "a number" | "a whole number" | "a whole number of 0 or more" => {
                    Some(number_string_hint(s))
                }
                _ => None,
            };
        }
        e
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(format!(
            "invalid value {}: expected {exp}",
            describe_unexpected(&unexp)
        ))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(format!("unknown key `{field}`"));
        e.kind = DeErrorKind::UnknownKey;
        e.hint =
            Some(did_you_mean(field, expected.iter().copied()).unwrap_or_else(|| one_of(expected)));
        e
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(format!("unknown value `{variant}`"));
        e.hint = Some(
            did_you_mean(variant, expected.iter().copied()).unwrap_or_else(|| one_of(expected)),
        );
        e
    }

    fn missing_field(field: &'static str) -> Self {
        let mut e = DeError::new(format!("missing required key `{field}`"));
        e.kind = DeErrorKind::MissingKey;
        e
    }
}

/// What serde's visitors expect, in the words of the file format rather
/// than Rust's: its `Vec` expects "a sequence", its numbers name their Rust
/// type (`f64`, `u32`), which a flag file's author never wrote.
fn plain_expected(exp: &str) -> String {
    match exp {
        "a sequence" => "a list",
        "f32" | "f64" => "a number",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number of 0 or more",
        other => other,
    }
    .to_owned()
}

/// How to write a boolean given as a string: quoted `true`, or YAML 1.1's
/// `yes`/`no`/`on`/`off`, which YAML 1.2 reads as strings (docs/flag-format.md).
pub(crate) fn boolean_string_hint(s: &str) -> Option<String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "false" => Some(format!("write {} without quotes", s.to_ascii_lowercase())),
        "yes" | "y" | "on" => {
            Some("write `true` (YAML 1.2 reads `yes`, `no`, `on` and `off` as strings)".into())
        }
        "no" | "n" | "off" => {
            Some("write `false` (YAML 1.2 reads `yes`, `no`, `on` and `off` as strings)".into())
        }
        _ => None,
    }
}

/// How to write a number given as a string: without its quotes, or in
/// digits.
pub(crate) fn number_string_hint(s: &str) -> String {
    if s.trim().parse::<f64>().is_ok_and(f64::is_finite) {
        format!("write the number without quotes: {}", s.trim())
    } else {
        "write it in digits, such as 60 or 0.5".into()
    }
}

fn describe_unexpected(u: &Unexpected<'_>) -> String {
    match u {
        Unexpected::Map => "a map".into(),
        Unexpected::Seq => "a list".into(),
        Unexpected::Unit => "null".into(),
        Unexpected::Str(s) => format!("the string \"{s}\""),
        Unexpected::Signed(i) => format!("the integer {i}"),
        Unexpected::Unsigned(i) => format!("the integer {i}"),
        Unexpected::Float(f) => format!("the number {f}"),
        Unexpected::Bool(b) => format!("the boolean {b}"),
        other => other.to_string(),
    }
}

/// Deserializes `T` from a document tree, with located errors.
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Result<T, DeError> {
    T::deserialize(NodeDe(node)).map_err(|e| e.located(node.pos))
}

struct NodeDe<'a>(&'a Node);

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = self.0;
        let result = match &node.kind {
            NodeKind::Null => visitor.visit_unit(),
            NodeKind::Bool(b) => visitor.visit_bool(*b),
            NodeKind::Int(i) => visitor.visit_i64(*i),
            // `.inf`, `.nan` and numbers too large for a double (`1e309`)
            // have no use in flag files, and JSON cannot carry them.
            NodeKind::Float(f) if !f.is_finite() => Err(DeError::new(format!(
                "{f} is not a usable number: numbers must be finite"
            ))),
            NodeKind::Float(f) => visitor.visit_f64(*f),
            NodeKind::Str(s) => visitor.visit_str(s),
            NodeKind::Seq(items) => visitor.visit_seq(SeqDe {
                items: items.iter().enumerate(),
            }),
            NodeKind::Map(entries) => visitor.visit_map(MapDe {
                entries: entries.iter(),
                value: None,
            }),
        };
        result.map_err(|e| e.located(node.pos))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0.kind {
            NodeKind::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let node = self.0;
        match &node.kind {
            NodeKind::Str(s) => visitor.visit_enum(UnitVariant(s)),
            other => Err(
                DeError::new(format!("expected a string, found {}", other.describe()))
                    .tap_hint(one_of(variants)),
            ),
        }
        .map_err(|e| e.located(node.pos))
    }

    /// Structs are maps. serde would also fill one from a list by position,
    /// which would let `health: []` pass; flag files never mean that.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.0.kind {
            NodeKind::Map(_) => self.deserialize_any(visitor),
            other => Err(
                DeError::new(format!("expected a map, found {}", other.describe()))
                    .located(self.0.pos),
            ),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map
        identifier ignored_any
    }
}

impl DeError {
    fn tap_hint(mut self, hint: String) -> Self {
        self.hint = Some(hint);
        self
    }
}

struct SeqDe<'a> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
}

impl<'de> SeqAccess<'de> for SeqDe<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, item)) => seed
                .deserialize(NodeDe(item))
                .map(Some)
                .map_err(|e| e.located(item.pos).within(PathSeg::Index(i))),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'a> {
    entries: std::slice::Iter<'a, (Key, Node)>,
    value: Option<(&'a Key, &'a Node)>,
}

impl<'de> MapAccess<'de> for MapDe<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((key, value));
        seed.deserialize(KeyDe(key))
            .map(Some)
            .map_err(|e| e.located(key.pos).within(PathSeg::Key(key.name.clone())))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (key, value) = self
            .value
            .take()
            .ok_or_else(|| DeError::new("map value requested before its key".into()))?;
        seed.deserialize(NodeDe(value)).map_err(|e| {
            e.at_entry(key, value)
                .within(PathSeg::Key(key.name.clone()))
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// Map keys are always strings, whatever the format wrote.
struct KeyDe<'a>(&'a Key);

impl<'de> de::Deserializer<'de> for KeyDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_str(&self.0.name)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_enum(UnitVariant(&self.0.name))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// An enum written as a bare string: only unit variants can match.
struct UnitVariant<'a>(&'a str);

impl<'de> EnumAccess<'de> for UnitVariant<'_> {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), DeError> {
        let de: de::value::StrDeserializer<'_, DeError> = self.0.into_deserializer();
        Ok((seed.deserialize(de)?, self))
    }
}

impl<'de> VariantAccess<'de> for UnitVariant<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, DeError> {
        Err(DeError::new(format!("`{}` needs a value", self.0)))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, DeError> {
        Err(DeError::new(format!("`{}` needs a list", self.0)))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, DeError> {
        Err(DeError::new(format!("`{}` needs a map", self.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::yaml;
    use indexmap::IndexMap;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Inner {
        name: String,
        max_count: Option<u32>,
        kind: Kind,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Small,
        Large,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        items: IndexMap<String, Vec<Inner>>,
    }

    fn de(text: &str) -> Result<Outer, DeError> {
        from_node(&yaml::parse(text).unwrap())
    }

    #[test]
    fn ok_keeps_order() {
        let o = de("items:\n  z: [{name: a, kind: small}]\n  a: []\n").unwrap();
        assert_eq!(o.items.keys().collect::<Vec<_>>(), ["z", "a"]);
        assert_eq!(o.items["z"][0].kind, Kind::Small);
    }

    #[test]
    fn unknown_key_points_at_key_with_hint() {
        let e =
            de("items:\n  z:\n    - name: a\n      kind: small\n      maxCuont: 3\n").unwrap_err();
        assert_eq!(e.message, "unknown key `maxCuont`");
        assert_eq!(e.kind, DeErrorKind::UnknownKey);
        assert_eq!(e.hint.as_deref(), Some("did you mean `maxCount`?"));
        assert_eq!(e.pos, Some(Pos::new(5, 7)));
        assert_eq!(e.path().to_string(), "items.z[0].maxCuont");
    }

    #[test]
    fn wrong_type_points_at_value() {
        let e = de("items:\n  z:\n    - name: a\n      kind: small\n      maxCount: many\n")
            .unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(5, 17)));
        assert!(
            e.message.contains("found the string \"many\""),
            "{}",
            e.message
        );
        assert_eq!(e.path().to_string(), "items.z[0].maxCount");
    }

    #[test]
    fn wrong_types_are_said_in_the_files_words_with_a_hint() {
        let e = de("items:\n  z:\n    - name: a\n      kind: small\n      maxCount: sixty\n")
            .unwrap_err();
        assert_eq!(
            e.message,
            "expected a whole number of 0 or more, found the string \"sixty\""
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("write it in digits, such as 60 or 0.5")
        );
        let e = de("items:\n  z:\n    - {name: a, kind: small, maxCount: '3'}\n").unwrap_err();
        assert_eq!(
            e.hint.as_deref(),
            Some("write the number without quotes: 3")
        );
        assert_eq!(
            boolean_string_hint("yes").as_deref(),
            Some("write `true` (YAML 1.2 reads `yes`, `no`, `on` and `off` as strings)")
        );
    }

    #[test]
    fn missing_key_points_at_map() {
        let e = de("items:\n  z:\n    - kind: small\n").unwrap_err();
        assert_eq!(e.message, "missing required key `name`");
        assert_eq!(e.kind, DeErrorKind::MissingKey);
        assert_eq!(e.pos, Some(Pos::new(3, 7)));
        assert_eq!(e.path().to_string(), "items.z[0]");
    }

    #[test]
    fn unknown_enum_value_has_hint() {
        let e = de("items:\n  z:\n    - {name: a, kind: smal}\n").unwrap_err();
        assert_eq!(e.message, "unknown value `smal`");
        assert_eq!(e.hint.as_deref(), Some("did you mean `small`?"));
        assert_eq!(e.path().to_string(), "items.z[0].kind");
    }
}
