//! Reading evaluation requests: contexts from query strings and JSON bodies.

use serde_json::{Map, Value};

use super::error::ApiError;
use hotswap_flags_core::eval::Context;

/// Caps on what one request may send, ask for or take. Documented
/// defaults; all settable with flagd options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Request body size (larger: 413).
    pub max_body_bytes: usize,
    /// Time to answer a request, body upload included (longer: 408).
    pub request_timeout: std::time::Duration,
    /// Attributes in one context.
    pub max_context_attributes: usize,
    /// Nesting of objects and lists inside attribute values.
    pub max_context_depth: usize,
    /// Flags named in one bulk request.
    pub max_bulk_flags: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 256 * 1024,
            request_timeout: std::time::Duration::from_secs(30),
            max_context_attributes: 256,
            max_context_depth: 8,
            max_bulk_flags: 1000,
        }
    }
}

impl Limits {
    /// Refuses contexts beyond the caps (400 `INVALID_CONTEXT`).
    fn check(&self, attrs: &Map<String, Value>) -> Result<(), ApiError> {
        if attrs.len() > self.max_context_attributes {
            return Err(too_many_attributes(attrs.len(), self));
        }
        let depth = attrs.values().map(depth).max().unwrap_or(0);
        if depth > self.max_context_depth {
            return Err(ApiError::invalid_context(format!(
                "attribute values nest {depth} levels deep; at most {} are accepted",
                self.max_context_depth
            )));
        }
        Ok(())
    }
}

/// How deeply objects and lists nest in a value: a scalar is 0, a list or
/// object one more than its deepest member — an empty one is 1, so empty
/// containers nest as deep as full ones.
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    // Each value with the number of containers around it.
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

/// `GET …/evaluate?userId=…&country=DE`: every parameter becomes
/// a string attribute (`userId` is the targeting key's alias). A repeated
/// parameter keeps its last value.
///
/// The context is built directly, without a JSON map in between; string
/// values cannot be a bad targeting key, and strings nest nothing, so only
/// the attribute count is checked.
pub fn context_from_query(query: Option<&str>, limits: &Limits) -> Result<Context, ApiError> {
    let mut ctx = Context::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        ctx = ctx.with_str(&k, &*v);
    }
    let count = ctx.attributes().count();
    if count > limits.max_context_attributes {
        return Err(too_many_attributes(count, limits));
    }
    Ok(ctx)
}

fn too_many_attributes(count: usize, limits: &Limits) -> ApiError {
    ApiError::invalid_context(format!(
        "the context has {count} attributes; at most {} are accepted",
        limits.max_context_attributes
    ))
}

/// A JSON request body, `{"context": {…}, …}`; an empty body is `{}`.
pub fn body_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::parse("the request body must be a JSON object")),
        Err(e) => Err(ApiError::parse(format!(
            "the request body is not valid JSON: {e}"
        ))),
    }
}

/// The `context` member of a request body (absent means empty). `members`
/// are the other members the endpoint reads. Unknown members beside a
/// `context` are allowed (clients may send more than this version reads),
/// but without one they are refused: `{"targetingKey": "u1"}` is a context
/// put at the top level by mistake, and evaluating it as an empty context
/// would answer a question nobody asked.
pub fn context_of(
    body: &mut Map<String, Value>,
    limits: &Limits,
    members: &[&str],
) -> Result<Context, ApiError> {
    match body.remove("context") {
        None => match body.keys().find(|k| !members.contains(&k.as_str())) {
            Some(stray) => Err(ApiError::parse(format!(
                "the body has `{stray}` but no `context`: attributes go inside it, as in {{\"context\": {{\"targetingKey\": \"user-1\"}}}}"
            ))),
            None => Ok(Context::new()),
        },
        Some(Value::Null) => Ok(Context::new()),
        Some(Value::Object(map)) => {
            limits.check(&map)?;
            Context::from_map(map).map_err(|e| ApiError::invalid_context(e.to_string()))
        }
        Some(_) => Err(ApiError::invalid_context("`context` must be a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_string_attributes() {
        let ctx = context_from_query(
            Some("userId=u%201&country=DE&age=30&country=FR"),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(ctx.targeting_key(), Some(&"u 1".into()));
        assert_eq!(ctx.get("country"), Some(&"FR".into()));
        assert_eq!(ctx.get("age"), Some(&"30".into()));
        assert!(
            context_from_query(None, &Limits::default())
                .unwrap()
                .targeting_key()
                .is_none()
        );
    }

    #[test]
    fn limits() {
        let tight = Limits {
            max_context_attributes: 2,
            max_context_depth: 1,
            max_bulk_flags: 1,
            ..Limits::default()
        };
        let mut b = body_object(br#"{"context": {"a": 1, "b": 2, "c": 3}}"#).unwrap();
        assert_eq!(
            context_of(&mut b, &tight, &[]).unwrap_err().code,
            "INVALID_CONTEXT"
        );
        let mut b = body_object(br#"{"context": {"a": [[1]]}}"#).unwrap();
        assert!(
            context_of(&mut b, &tight, &[])
                .unwrap_err()
                .message
                .contains("nest 2 levels")
        );
        let mut b = body_object(br#"{"context": {"a": [1]}}"#).unwrap();
        assert!(context_of(&mut b, &tight, &[]).is_ok());
        // Empty containers nest too.
        for nested in [r#"[[]]"#, r#"[{}]"#, r#"{"x": []}"#, r#"[[], 1]"#] {
            let mut b =
                body_object(format!(r#"{{"context": {{"a": {nested}}}}}"#).as_bytes()).unwrap();
            let e = context_of(&mut b, &tight, &[]).unwrap_err();
            assert!(
                e.message.contains("nest 2 levels"),
                "{nested}: {}",
                e.message
            );
        }
        let mut b = body_object(br#"{"context": {"a": [], "b": {}}}"#).unwrap();
        assert!(context_of(&mut b, &tight, &[]).is_ok());
        assert!(context_from_query(Some("a=1&b=2&c=3"), &tight).is_err());
    }

    #[test]
    fn bodies() {
        assert!(body_object(b"").unwrap().is_empty());
        assert_eq!(body_object(b"[1]").unwrap_err().code, "PARSE_ERROR");
        assert_eq!(body_object(b"{oops").unwrap_err().code, "PARSE_ERROR");
        let mut b = body_object(br#"{"context": {"targetingKey": "k"}}"#).unwrap();
        assert_eq!(
            context_of(&mut b, &Limits::default(), &[])
                .unwrap()
                .targeting_key(),
            Some(&"k".into())
        );
        // A context at the top level is refused, not read as empty.
        let mut b = body_object(br#"{"targetingKey": "k"}"#).unwrap();
        let e = context_of(&mut b, &Limits::default(), &[]).unwrap_err();
        assert_eq!(e.code, "PARSE_ERROR");
        assert!(e.message.contains("has `targetingKey` but no `context`"));
        // Members the endpoint reads, and extra members beside a context,
        // are fine.
        let mut b = body_object(br#"{"flags": ["a"]}"#).unwrap();
        assert!(context_of(&mut b, &Limits::default(), &["flags"]).is_ok());
        let mut b = body_object(br#"{"context": {}, "future": 1}"#).unwrap();
        assert!(context_of(&mut b, &Limits::default(), &[]).is_ok());
        let mut b = body_object(br#"{"context": 5}"#).unwrap();
        assert_eq!(
            context_of(&mut b, &Limits::default(), &[])
                .unwrap_err()
                .code,
            "INVALID_CONTEXT"
        );
        let mut b = body_object(br#"{"context": {"targetingKey": [1]}}"#).unwrap();
        assert_eq!(
            context_of(&mut b, &Limits::default(), &[])
                .unwrap_err()
                .code,
            "INVALID_CONTEXT"
        );
    }
}
