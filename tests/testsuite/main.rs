//! The integration tests, as one test binary (the layout of cargo's own
//! `tests/testsuite`): one module per area, and `support/` for what they
//! share. One binary links once, where a binary per file linked the library
//! and its dependencies again for every file.
//!
//! Run one area with a filter, e.g. `cargo nextest run -E 'test(/^flagd_api::/)'`
//! or `cargo test --test testsuite flagd_api::`.

mod support;

mod browser;
mod bucketing;
mod bucketing_modes;
mod build_deps;
mod cli;
mod cluster;
mod cluster_faults;
mod cluster_store;
mod completions;
mod container;
mod dashboard;
mod dashboard_browser;
mod diff;
mod doc_paths;
mod eval_semantics;
mod example;
mod examples;
mod experiment_cli;
mod experiment_e2e;
mod flagd_api;
mod flagd_clients;
mod flagd_experiments;
mod flagd_hardening;
mod flagd_hotswap;
mod flagd_probe;
mod flagd_security;
mod flagd_sources;
mod fuzz_props;
mod grafana;
mod hostile_output;
mod import_flagd;
mod import_unleash;
mod init;
mod interop;
mod invalid_corpus;
mod layers;
mod lifecycle;
mod manifests;
mod no_alloc;
mod otel;
mod package;
mod promote;
mod properties;
mod readme;
mod rollout_cli;
mod rollout_controller;
mod rollout_e2e;
mod rollout_restart;
mod schema;
mod signed_bundles;
mod simulate;
mod stats_reference;
mod stats_sequential;
mod webhook;
