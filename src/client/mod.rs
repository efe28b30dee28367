//! The HTTP client flagd and flagctl use (bundles, Prometheus, a daemon).

pub mod experiment;

/// The shared client could not be built: no usable TLS setup.
#[derive(Debug, thiserror::Error)]
#[error("cannot build an HTTP client: {0}")]
pub struct ClientError(reqwest::Error);

/// A client over rustls with the ring crypto provider (no system OpenSSL,
/// no C toolchain beyond what ring needs).
pub fn client() -> Result<reqwest::Client, ClientError> {
    // Installing fails harmlessly when a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("hotswap-flags/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(ClientError)
}
