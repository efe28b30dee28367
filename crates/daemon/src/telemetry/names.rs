//! The attribute and event names flagd's spans carry. The `feature_flag.*`
//! names are OpenTelemetry's semantic conventions for feature flags (the
//! attribute registry's release candidates, and the `feature_flag.evaluation`
//! event; docs/observability.md names the version followed); the
//! `hotswap_flags.*` names are flagd's own, for what the conventions
//! have no name for.

/// The event recorded for each evaluation.
pub const EVALUATION_EVENT: &str = "feature_flag.evaluation";
/// The flag's key.
pub const KEY: &str = "feature_flag.key";
/// The variant served.
pub const VARIANT: &str = "feature_flag.result.variant";
/// Why, in the conventions' words (`targeting_match`, `split`, …).
pub const REASON: &str = "feature_flag.result.reason";
/// Who evaluated: always [`PROVIDER`].
pub const PROVIDER_NAME: &str = "feature_flag.provider.name";
/// The targeting key, only with `--otel-context-id`.
pub const CONTEXT_ID: &str = "feature_flag.context.id";
/// The ruleset's version (`sha256:…`).
pub const VERSION: &str = "feature_flag.version";
/// The flag set: the environment served.
pub const SET_ID: &str = "feature_flag.set.id";
/// An evaluation's error code, lower case (`flag_not_found`).
pub const ERROR_TYPE: &str = "error.type";
/// flagd's own reason (`ROLLOUT`, `TARGETING_MATCH`, …), as its API
/// answers: the conventions have no `rollout`, and call it `split`.
pub const FLAGD_REASON: &str = "hotswap_flags.reason";
/// The rule that matched, by name.
pub const RULE: &str = "hotswap_flags.rule";

/// The provider name recorded.
pub const PROVIDER: &str = "hotswap-flags";
