//! Talking to the running system: flagd's API as a typed client
//! ([`flagd`]) over the types both sides share ([`wire`]), Prometheus as
//! rollout checks and experiments ask it ([`prometheus`]), and the one
//! outgoing HTTP client they use ([`http`]).
//!
//! ```text
//! wire ◀─ flagd ─▶ http ◀─ prometheus
//! ```

#![warn(missing_docs)]

pub mod flagd;
pub mod http;
pub mod prometheus;
pub mod wire;

pub use http::{ClientError, client};
