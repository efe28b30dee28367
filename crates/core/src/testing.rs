//! Inline flag files compiled in one call, for unit tests here and in the
//! crates built on this one (feature `testing`).

use crate::model::MetricsConfig;
use crate::repo::load::{Checked, load_files};
use crate::ruleset::{Ruleset, RulesetMeta};

/// Checks one inline flag file as environment `test`, version `v`.
pub fn check_yaml(yaml: &str) -> Checked {
    check_yaml_as(yaml, "test", "v")
}

fn check_yaml_as(yaml: &str, env: &str, version: &str) -> Checked {
    let meta = RulesetMeta {
        env: env.into(),
        version: version.into(),
        source: "test".into(),
    };
    load_files([("f.yaml".to_owned(), yaml.as_bytes().to_vec())])
        .check(&MetricsConfig::default(), meta)
}

/// [`check_yaml`]'s ruleset, for tests of what comes after compiling.
pub fn compile_yaml(yaml: &str) -> Ruleset {
    compile_yaml_as(yaml, "test", "v")
}

/// [`compile_yaml`] with the environment and version given; panics with the
/// findings if the file does not compile.
pub fn compile_yaml_as(yaml: &str, env: &str, version: &str) -> Ruleset {
    let checked = check_yaml_as(yaml, env, version);
    let findings = format!("{:?}", checked.diagnostics);
    checked.ruleset.expect(&findings)
}
