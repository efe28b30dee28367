//! Inline flag files compiled in one call, for unit tests here and in the
//! crates built on this one (feature `testing`).

use crate::model::MetricsConfig;
use crate::repo::load::{Checked, load_files};
use crate::ruleset::{Ruleset, RulesetMeta};

/// One flag file as the loaders take it: its path and its bytes.
pub fn file(path: &str, text: &str) -> (String, Vec<u8>) {
    (path.to_owned(), text.as_bytes().to_vec())
}

/// The identity tests give a ruleset: environment `test`, version `v`.
pub fn meta() -> RulesetMeta {
    meta_as("test", "v")
}

/// [`meta`] with the environment and version given; the source is `test`.
pub fn meta_as(env: &str, version: &str) -> RulesetMeta {
    RulesetMeta {
        env: env.into(),
        version: version.into(),
        source: "test".into(),
    }
}

/// Checks one inline flag file as environment `test`, version `v`.
pub fn check_yaml(yaml: &str) -> Checked {
    check_yaml_as(yaml, "test", "v")
}

fn check_yaml_as(yaml: &str, env: &str, version: &str) -> Checked {
    load_files([file("f.yaml", yaml)]).check(&MetricsConfig::default(), meta_as(env, version))
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
