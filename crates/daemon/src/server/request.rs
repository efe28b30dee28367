//! Reading evaluation requests: contexts from query strings and JSON bodies.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::error::ApiError;
use hotswap_flags_core::eval::context::{ContextLimits, ContextSeed, IgnoredJson};
use hotswap_flags_core::eval::{Context, ContextError};

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
    /// The caps on one context (400 `INVALID_CONTEXT` beyond them).
    pub fn context(&self) -> ContextLimits {
        ContextLimits {
            max_attributes: self.max_context_attributes,
            max_depth: self.max_context_depth,
        }
    }
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
    for (k, v) in query_pairs(query.unwrap_or("")) {
        ctx.set_str(&k, &*v);
    }
    let count = ctx.attributes().count();
    if count > limits.max_context_attributes {
        return Err(too_many_attributes(count, limits));
    }
    Ok(ctx)
}

/// The name/value pairs of a query string, decoded exactly as
/// `form_urlencoded::parse` decodes them (`+` is a space, `%XX` a byte,
/// invalid UTF-8 replaced), but borrowed from the query where a pair has
/// nothing to decode — most do, and decoding scanned each one three times
/// and checked its UTF-8, which a `&str` already is.
fn query_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            if pair.bytes().any(|b| b == b'%' || b == b'+') {
                // One pair, no `&`: it yields exactly one.
                form_urlencoded::parse(pair.as_bytes())
                    .next()
                    .unwrap_or_default()
            } else {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (Cow::Borrowed(name), Cow::Borrowed(value))
            }
        })
}

fn too_many_attributes(count: usize, limits: &Limits) -> ApiError {
    ApiError::invalid_context(
        ContextError::TooManyAttributes {
            count,
            max: limits.max_context_attributes,
        }
        .to_string(),
    )
}

/// A JSON request body, `{"context": {…}, …}`; an empty body is `{}`.
pub fn body_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(body_not_an_object()),
        Err(e) => Err(not_json(&e)),
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
            Some(stray) => Err(stray_member(stray)),
            None => Ok(Context::new()),
        },
        Some(Value::Null) => Ok(Context::new()),
        Some(Value::Object(map)) => Context::from_map_within(map, &limits.context())
            .map_err(|e| ApiError::invalid_context(e.to_string())),
        Some(_) => Err(not_an_object()),
    }
}

fn not_json(e: &serde_json::Error) -> ApiError {
    ApiError::parse(format!("the request body is not valid JSON: {e}"))
}

fn body_not_an_object() -> ApiError {
    ApiError::parse("the request body must be a JSON object")
}

fn not_an_object() -> ApiError {
    ApiError::invalid_context("`context` must be a JSON object")
}

fn stray_member(stray: &str) -> ApiError {
    ApiError::parse(format!(
        "the body has `{stray}` but no `context`: attributes go inside it, as in {{\"context\": {{\"targetingKey\": \"user-1\"}}}}"
    ))
}

/// A request body's context, read straight from its bytes: what
/// [`body_object`] then [`context_of`] give, error for error (the same
/// statuses, codes and texts), without a `serde_json::Value` for the body
/// or the context's scalars ([`ContextSeed`]; docs/performance.md,
/// "Evaluation in process"). Also returns the body's `members` (the other
/// members the endpoint reads), each as the last of its name.
pub fn context_from_body(
    body: &[u8],
    limits: &Limits,
    members: &[&str],
) -> Result<(Context, Map<String, Value>), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((Context::new(), Map::new()));
    }
    let caps = limits.context();
    let mut de = serde_json::Deserializer::from_slice(body);
    let read = BodySeed {
        limits: &caps,
        members,
    }
    .deserialize(&mut de)
    .and_then(|read| de.end().map(|()| read));
    let Body {
        context,
        stray,
        members,
    } = match read {
        Ok(Some(body)) => body,
        Ok(None) => return Err(body_not_an_object()),
        Err(e) => return Err(not_json(&e)),
    };
    let ctx = match context {
        None => match stray {
            Some(stray) => return Err(stray_member(&stray)),
            None => Context::new(),
        },
        Some(Ok(ctx)) => ctx,
        Some(Err(ContextError::NotAnObject("null"))) => Context::new(),
        Some(Err(ContextError::NotAnObject(_))) => return Err(not_an_object()),
        Some(Err(e)) => return Err(ApiError::invalid_context(e.to_string())),
    };
    Ok((ctx, members))
}

/// A member's name, borrowed from the body unless it has escapes.
struct MemberName<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for MemberName<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MemberName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(MemberName(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(MemberName(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A body object as [`context_from_body`] reads it.
struct Body {
    /// The last `context` member, read.
    context: Option<Result<Context, ContextError>>,
    /// The first member that is neither `context` nor one of the
    /// endpoint's.
    stray: Option<String>,
    /// The endpoint's members.
    members: Map<String, Value>,
}

/// Reads a body: `Some` for an object, `None` for other JSON.
struct BodySeed<'a> {
    limits: &'a ContextLimits,
    members: &'a [&'a str],
}

impl<'de> DeserializeSeed<'de> for BodySeed<'_> {
    type Value = Option<Body>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BodySeed<'_> {
    type Value = Option<Body>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut body = Body {
            context: None,
            stray: None,
            members: Map::new(),
        };
        while let Some(MemberName(name)) = map.next_key()? {
            if name == "context" {
                body.context = Some(map.next_value_seed(ContextSeed::new(self.limits))?);
            } else if self.members.contains(&&*name) {
                let value = map.next_value::<Value>()?;
                body.members.insert(name.into_owned(), value);
            } else {
                map.next_value::<IgnoredJson>()?;
                if body.stray.is_none() {
                    body.stray = Some(name.into_owned());
                }
            }
        }
        Ok(Some(body))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredJson>()?.is_some() {}
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
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

    proptest::proptest! {
        /// The borrowing parser reads every query as the `form_urlencoded`
        /// parser does: the same pairs, decoded alike.
        #[test]
        fn query_pairs_agree_with_form_urlencoded(query in "[a-zA-Z0-9=&%+._~-]{0,40}") {
            let ours: Vec<_> = query_pairs(&query).collect();
            let theirs: Vec<_> = form_urlencoded::parse(query.as_bytes()).collect();
            proptest::prop_assert_eq!(ours, theirs);
        }
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

    /// [`context_from_body`] answers as [`body_object`] then
    /// [`context_of`] do: the same context or the same error (status, code,
    /// text), and the same members.
    #[test]
    fn bodies_read_from_bytes_as_from_values() {
        let tight = Limits {
            max_context_attributes: 2,
            max_context_depth: 1,
            ..Limits::default()
        };
        let bodies = [
            "",
            " \n\t",
            "{}",
            "[1]",
            "[1, 1e400]",
            "5",
            "null",
            r#""context""#,
            "{oops",
            r#"{"context": {}} trailing"#,
            r#"{"context": {"targetingKey": "k", "plan": "pro"}}"#,
            r#"{"context": {"userId": "u", "a": [1, {"b": null}]}, "future": [1]}"#,
            r#"{"future": 1, "context": {"targetingKey": 7}}"#,
            r#"{"targetingKey": "k"}"#,
            r#"{"flags": ["a"], "zeta": 1, "alpha": 2}"#,
            r#"{"flags": ["a"]}"#,
            r#"{"flags": ["a"], "flags": null, "context": null}"#,
            r#"{"context": null}"#,
            r#"{"context": 5}"#,
            r#"{"context": [1, 2]}"#,
            r#"{"context": [1, 1e400]}"#,
            r#"{"context": "s"}"#,
            r#"{"context": {"targetingKey": [1]}}"#,
            r#"{"context": {"targetingKey": [1]}, "context": {"targetingKey": "k"}}"#,
            r#"{"context": {"targetingKey": "k"}, "context": true}"#,
            r#"{"context": {"a": 1, "b": 2, "c": 3}}"#,
            r#"{"context": {"a": 1, "a": 2, "b": 3}}"#,
            r#"{"context": {"a": [[1]]}}"#,
            r#"{"context": {"a": [[1]], "a": 1}}"#,
            r#"{"context": {"userId": true}}"#,
            r#"{"context": {"a": "\ud800"}}"#,
            r#"{"cont\u0065xt": {"targetingKey": "k"}}"#,
            r#"{"\u0066lags": [1], "x": {"y": 1e400}}"#,
            r#"{"x": "\ud800"}"#,
            r#"{"context": {"targetingKey": "k"}, "x": "\ud800"}"#,
        ];
        for limits in [Limits::default(), tight] {
            for members in [&[][..], &["flags"][..]] {
                for text in bodies {
                    let by_value = body_object(text.as_bytes()).and_then(|mut body| {
                        context_of(&mut body, &limits, members)
                            .map(|ctx| (ctx, body.remove("flags").filter(|_| !members.is_empty())))
                    });
                    let by_bytes = context_from_body(text.as_bytes(), &limits, members)
                        .map(|(ctx, mut members)| (ctx, members.remove("flags")));
                    assert_eq!(by_bytes, by_value, "{text} {members:?} {limits:?}");
                }
            }
        }
    }
}
