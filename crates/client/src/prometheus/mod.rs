//! Prometheus, as the rollout controller and `flagctl experiment analyze
//! --daemon` ask it: the client and reading of answers ([`client`]), and the
//! query templates flag files hold ([`template`]).

pub mod client;
pub mod template;

pub use client::{MetricsSource, Prometheus, QueryError, QueryValue};
pub use template::{TemplateVars, render, render_with};
