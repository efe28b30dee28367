//! Reading evaluation requests: contexts from query strings and JSON bodies.

use serde_json::{Map, Value};

use super::error::ApiError;
use crate::eval::Context;

/// The seed's `GET …/evaluate?userId=…&country=DE`: every parameter becomes
/// a string attribute (`userId` is the targeting key's alias). A repeated
/// parameter keeps its last value.
pub fn context_from_query(query: Option<&str>) -> Result<Context, ApiError> {
    let mut attrs = Map::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        attrs.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    Context::from_map(attrs).map_err(|e| ApiError::invalid_context(e.to_string()))
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

/// The `context` member of a request body (absent means empty).
pub fn context_of(body: &mut Map<String, Value>) -> Result<Context, ApiError> {
    match body.remove("context") {
        None | Some(Value::Null) => Ok(Context::new()),
        Some(Value::Object(map)) => {
            Context::from_map(map).map_err(|e| ApiError::invalid_context(e.to_string()))
        }
        Some(_) => Err(ApiError::invalid_context("`context` must be a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_params_are_string_attributes() {
        let ctx = context_from_query(Some("userId=u%201&country=DE&age=30&country=FR")).unwrap();
        assert_eq!(ctx.targeting_key(), Some(&json!("u 1")));
        assert_eq!(ctx.get("country"), Some(&json!("FR")));
        assert_eq!(ctx.get("age"), Some(&json!("30")));
        assert!(context_from_query(None).unwrap().targeting_key().is_none());
    }

    #[test]
    fn bodies() {
        assert!(body_object(b"").unwrap().is_empty());
        assert_eq!(body_object(b"[1]").unwrap_err().code, "PARSE_ERROR");
        assert_eq!(body_object(b"{oops").unwrap_err().code, "PARSE_ERROR");
        let mut b = body_object(br#"{"context": {"targetingKey": "k"}}"#).unwrap();
        assert_eq!(
            context_of(&mut b).unwrap().targeting_key(),
            Some(&json!("k"))
        );
        let mut b = body_object(br#"{"context": 5}"#).unwrap();
        assert_eq!(context_of(&mut b).unwrap_err().code, "INVALID_CONTEXT");
        let mut b = body_object(br#"{"context": {"targetingKey": [1]}}"#).unwrap();
        assert_eq!(context_of(&mut b).unwrap_err().code, "INVALID_CONTEXT");
    }
}
