//! flagd as a library (the `flagd` binary is its command line): feeds bring
//! rulesets in, [`live`] swaps them into service, [`server`] answers over HTTP, [`rollout`] moves canaries by their health
//! checks, [`exposure`] counts experiment exposures, [`state_dir`] keeps what
//! must survive a restart, [`cluster`] shares rollout state between
//! replicas through etcd, [`dashboard`] renders the pages flagd serves
//! under `/ui/`, [`background`] runs loads and frees old rulesets
//! away from the request threads, [`telemetry`] exports traces over OTLP.
//!
//! ```text
//! feed (dir | git | bundle) ──check──▶ live (ArcSwap<Served>) ──▶ server (axum)
//!                                          ▲
//!                    rollout controller ───┘ positions, state in state_dir
//! ```

#![warn(missing_docs)]

pub mod background;
pub mod cluster;
pub mod dashboard;
pub mod exposure;
pub mod feed;
pub mod live;
pub mod rollout;
pub mod server;
pub mod state_dir;
pub mod telemetry;
