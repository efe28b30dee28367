//! Shared by the tests that call the library in-process rather than run the
//! binaries (eval_semantics, properties, fuzz_props): compiling in-memory
//! flag files, and proptest's case counts.
#![allow(dead_code)] // each test file uses a different part of it

use hotswap_flags::model::{MetricsConfig, Op};
use hotswap_flags::repo::load::load_files;
use hotswap_flags::ruleset::{Ruleset, RulesetMeta};
use proptest::test_runner::Config as ProptestConfig;

/// The version [`compile_file`] gives every ruleset.
pub const VERSION: &str = "v-test";

/// Compiles one in-memory flag file at `path` (environment `test`, version
/// [`VERSION`]), failing the test with every error and the text unless it
/// is valid.
pub fn compile_file(path: &str, text: &str) -> Ruleset {
    let checked = load_files([(path.to_owned(), text.as_bytes().to_vec())]).check(
        &MetricsConfig::default(),
        RulesetMeta {
            env: "test".into(),
            version: VERSION.into(),
            source: format!("in-memory {path}"),
        },
    );
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n---\n{text}");
    checked.ruleset.expect("no errors, so a ruleset")
}

/// Every condition operator, for the tests that must cover them all. A new
/// one fails to compile in schema.rs's `enums_match_the_model` until it is
/// added here too.
pub const ALL_OPS: [Op; 20] = [
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
