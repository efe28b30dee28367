//! What the property tests range over: every operator, and proptest's case
//! counts.

use hotswap_flags_core::model::Op;
use proptest::test_runner::Config as ProptestConfig;

/// Every condition operator, for the tests that must cover them all. A new
/// one fails to compile in schema.rs's `enums_match_the_model` until it is
/// added here too.
pub const ALL_OPS: [Op; 21] = [
    Op::Eq,
    Op::Neq,
    Op::In,
    Op::NotIn,
    Op::Contains,
    Op::StartsWith,
    Op::EndsWith,
    Op::Matches,
    Op::Gt,
    Op::Gte,
    Op::Lt,
    Op::Lte,
    Op::SemverEq,
    Op::SemverGt,
    Op::SemverGte,
    Op::SemverLt,
    Op::SemverLte,
    Op::Before,
    Op::After,
    Op::Exists,
    Op::InCidr,
];

/// `n` cases without persisted failures, or `PROPTEST_CASES` for a longer
/// soak.
pub fn cases(n: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(n);
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}
