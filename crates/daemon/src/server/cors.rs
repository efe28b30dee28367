//! Cross-origin access for browsers (docs/flagd.md, Browsers and mobile
//! apps): which web pages may read flagd's answers.
//!
//! Evaluation and OFREP answer the origins of `--cors-origin` (or any, with
//! `*`); the read, refresh and steering endpoints answer only the origins of
//! `--allowed-origin`, which the same-site guard also lets steer. flagd never
//! allows credentials in the CORS sense (cookies): callers authenticate
//! with an `Authorization` or `X-API-Key` header, which a page may send to
//! an allowed origin, so `*` stays safe to answer.

use std::time::Duration;

use axum::Router;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The headers a page may send: a JSON body, a credential, a cached
/// answer's tag, and where an event stream left off.
const REQUEST_HEADERS: [HeaderName; 5] = [
    CONTENT_TYPE,
    AUTHORIZATION,
    HeaderName::from_static("x-api-key"),
    IF_NONE_MATCH,
    HeaderName::from_static("last-event-id"),
];

/// `router` answering cross-origin requests from `origins`; unchanged
/// when the list is empty (browsers then refuse pages of other origins).
pub fn allow<S: Clone + Send + Sync + 'static>(router: Router<S>, origins: &[String]) -> Router<S> {
    if origins.is_empty() {
        return router;
    }
    let allowed = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    router.layer(
        CorsLayer::new()
            .allow_origin(allowed)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(REQUEST_HEADERS)
            // A page's provider compares the bulk answer's tag.
            .expose_headers([ETAG])
            .max_age(Duration::from_secs(600)),
    )
}
