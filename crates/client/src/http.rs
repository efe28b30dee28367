//! Outgoing HTTP: the one client flagd and flagctl share (bundles,
//! Prometheus, a daemon), and how its errors read.

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

/// An error and its causes in one line (`a: b: c`): reqwest says only
/// "error sending request" at the top, the reason (refused, timed out, a
/// DNS failure) sits in its sources.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
