//! The HTTP client flagd and flagctl use (bundles, Prometheus, a daemon).

pub mod experiment;

/// A client over rustls with the ring crypto provider (no system OpenSSL,
/// no C toolchain beyond what ring needs).
pub fn client() -> Result<reqwest::Client, HttpClientError> {
    // Installing fails harmlessly when a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("hotswap-flags/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(HttpClientError)
}

/// The HTTP client could not be built (no TLS roots, a broken system
/// configuration): nothing remote can be reached.
#[derive(Debug, thiserror::Error)]
#[error("cannot build an HTTP client: {0}")]
pub struct HttpClientError(#[source] pub reqwest::Error);
