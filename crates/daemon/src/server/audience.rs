//! Whom an evaluation answers (docs/flagd.md, Client flags and client
//! keys): services see every flag; a client credential — held by browsers
//! and mobile apps, where anyone can read it — sees `clientSide` flags only,
//! and every other flag answers as if it did not exist.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use hotswap_flags_core::ruleset::CompiledFlag;

/// Set by the auth guard on evaluation requests; `Server` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Audience {
    /// A service: every flag.
    #[default]
    Server,
    /// A client credential: `clientSide` flags only.
    Client,
}

impl Audience {
    /// Whether this audience may evaluate `flag`, or even learn it exists.
    #[inline]
    pub fn may_see(self, flag: &CompiledFlag) -> bool {
        self == Audience::Server || flag.client_side
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Audience {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Audience>()
            .copied()
            .unwrap_or_default())
    }
}
