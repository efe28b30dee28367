//! The evaluation context: who is asking, with which attributes.

use serde_json::{Map, Value};

/// Attributes of the unit a flag is evaluated for.
///
/// `targetingKey` is the standard key; `userId` is accepted as its alias (the
/// evaluation API's query parameters use it). Null attributes count as missing.
///
/// ```
/// use hotswap_flags::Context;
/// use serde_json::json;
///
/// let ctx = Context::from_json(json!({"userId": "u-1", "plan": "trial", "beta": null}))?;
/// assert_eq!(ctx.targeting_key(), Some(&json!("u-1")));
/// assert_eq!(ctx.get("targetingKey"), Some(&json!("u-1")));
/// assert_eq!(ctx.get("beta"), None); // null is missing
///
/// let mut built = Context::new().with_key("u-1");
/// built.insert("plan", json!("trial"))?;
/// assert_eq!(built.get("plan"), ctx.get("plan"));
/// assert!(Context::from_json(json!(["not", "an", "object"])).is_err());
/// # Ok::<(), hotswap_flags::eval::ContextError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    targeting_key: Option<Value>,
    attrs: Map<String, Value>,
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

    /// A context from a JSON object.
    pub fn from_json(value: Value) -> Result<Self, ContextError> {
        match value {
            Value::Object(map) => Context::from_map(map),
            other => Err(ContextError::NotAnObject(json_kind(&other))),
        }
    }

    /// A context from attributes; `targetingKey` or else `userId` becomes the key.
    pub fn from_map(attrs: Map<String, Value>) -> Result<Self, ContextError> {
        let targeting_key = match (attrs.get("targetingKey"), attrs.get("userId")) {
            (Some(Value::Null) | None, Some(Value::Null) | None) => None,
            (Some(Value::Null) | None, Some(k)) => Some(checked_key(k, "userId")?),
            (Some(k), _) => Some(checked_key(k, "targetingKey")?),
        };
        Ok(Context {
            targeting_key,
            attrs,
        })
    }

    /// The same context with a targeting key.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        let key = Value::String(key.into());
        self.attrs.insert("targetingKey".into(), key.clone());
        self.targeting_key = Some(key);
        self
    }

    /// Sets an attribute (`targetingKey` and `userId` update the key).
    pub fn insert(&mut self, name: impl Into<String>, value: Value) -> Result<(), ContextError> {
        let mut attrs = std::mem::take(&mut self.attrs);
        attrs.insert(name.into(), value);
        *self = Context::from_map(attrs)?;
        Ok(())
    }

    /// The targeting key, if the context has one.
    #[inline]
    pub fn targeting_key(&self) -> Option<&Value> {
        self.targeting_key.as_ref()
    }

    /// An attribute by name; `targetingKey` resolves the alias. Null is missing.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&Value> {
        if name == "targetingKey" {
            return self.targeting_key.as_ref();
        }
        self.attrs.get(name).filter(|v| !v.is_null())
    }

    /// All attributes as given.
    pub fn attributes(&self) -> &Map<String, Value> {
        &self.attrs
    }
}

fn checked_key(v: &Value, name: &'static str) -> Result<Value, ContextError> {
    match v {
        Value::String(_) | Value::Number(_) => Ok(v.clone()),
        _ => Err(ContextError::BadTargetingKey(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_id_is_an_alias() {
        let c = Context::from_json(json!({"userId": "u1", "plan": "pro"})).unwrap();
        assert_eq!(c.get("targetingKey"), Some(&json!("u1")));
        assert_eq!(c.get("userId"), Some(&json!("u1")));
        let c = Context::from_json(json!({"userId": "u1", "targetingKey": "t"})).unwrap();
        assert_eq!(c.targeting_key(), Some(&json!("t")));
    }

    #[test]
    fn null_is_missing() {
        let c = Context::from_json(json!({"targetingKey": null, "a": null})).unwrap();
        assert_eq!(c.targeting_key(), None);
        assert_eq!(c.get("a"), None);
    }

    #[test]
    fn bad_inputs() {
        assert!(Context::from_json(json!([1])).is_err());
        assert!(Context::from_json(json!({"targetingKey": {"x": 1}})).is_err());
    }

    #[test]
    fn insert_updates_key() {
        let mut c = Context::new();
        c.insert("targetingKey", json!(7)).unwrap();
        assert_eq!(c.targeting_key(), Some(&json!(7)));
    }
}
