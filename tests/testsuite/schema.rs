//! The JSON Schemas in `schemas/` against the serde model and the compiler.
//!
//! The schemas are for editors; the model (`crates/core/src/model/`) and the compiler
//! decide what a file may contain. They must agree in one direction each:
//!
//! - schema accepts ⇒ the model deserializes the document (`from_node`);
//! - schema rejects ⇒ the model does not deserialize it, or loading and
//!   compiling it reports an error.
//!
//! So the schema sits between the two: at least as strict as the model's
//! shape, never stricter than the whole check. This is tested on the example
//! repository, on a hand-written corpus (with the expected outcome of each
//! case) and on documents mutated by proptest (unknown keys, changed types,
//! dropped keys, wrong enum values).
//!
//! Known gaps, not generated below:
//! - JSON Schema counts `2.0` as an integer, the model does not
//!   (`failureLimit: 2.0`, `default: 1.0` as a variant name): a whole number
//!   written with a decimal point passes the schema and fails to load.
//! - The schema's `expires` pattern is the shape `YYYY-MM-DD`; the model
//!   also refuses days no calendar has (`2026-02-30`).
//! - The schema's duration pattern lists the documented notations; the
//!   parser (jiff) also takes rarer ones (`1 day 01:30:00`, `3µs`, leading
//!   blanks) that the schema rejects. `schema_durations_parse` checks the
//!   direction that matters: whatever the pattern admits parses.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::support::props::ALL_OPS;
use hotswap_flags_core::model::{
    BucketingMode, Compare, DurationSpec, FlagFile, FlagType, MetricsConfig, NoData, Op,
    RepoConfig, Strategy as RolloutStrategy,
};
use hotswap_flags_core::parse::{Format, from_node, parse_document};
use hotswap_flags_core::ruleset::RulesetMeta;
use hotswap_flags_gitops::repo::load::load_files;
use hotswap_flags_gitops::repo::parse_config;
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------- helpers

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_schema(name: &str) -> Value {
    let path = root().join("schemas").join(name);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn flagfile_schema() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| read_schema("flagfile.schema.json"))
}

fn toml_schema() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| read_schema("flags-toml.schema.json"))
}

fn flagfile_validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        jsonschema::draft202012::new(flagfile_schema()).expect("flagfile schema compiles")
    })
}

fn toml_validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        jsonschema::draft202012::new(toml_schema()).expect("flags.toml schema compiles")
    })
}

/// A validator for one definition of the flag file schema.
fn def_validator(def: &str) -> jsonschema::Validator {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": flagfile_schema()["$defs"].clone(),
        "$ref": format!("#/$defs/{def}"),
    });
    jsonschema::draft202012::new(&schema).expect("definition compiles")
}

fn schema_errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} (at {})", e, e.instance_path()))
        .collect()
}

/// Query templates the corpus refers to, as a flags.toml would define them.
fn metrics() -> MetricsConfig {
    let mut m = MetricsConfig::default();
    for (name, query) in [
        ("error_rate", r#"sum(rate(errors{flag="{{flag}}"}[1m]))"#),
        (
            "latency_p99",
            r#"histogram_quantile(0.99, rate(lat{flag="{{flag}}"}[5m]))"#,
        ),
        (
            "orders_completed",
            r#"sum(increase(orders{variant="{{variant}}"}[1h]))"#,
        ),
    ] {
        m.queries.insert(name.into(), query.into());
    }
    m
}

fn meta() -> RulesetMeta {
    RulesetMeta {
        env: "test".into(),
        version: "test".into(),
        source: "test".into(),
    }
}

/// What the schema, the model and the compiler make of one document.
#[derive(Debug)]
struct Outcome {
    schema_errors: Vec<String>,
    model_error: Option<String>,
    check_errors: Vec<String>,
}

impl Outcome {
    fn schema_accepts(&self) -> bool {
        self.schema_errors.is_empty()
    }

    /// The invariant every document must satisfy.
    fn agreement(&self) -> Result<(), String> {
        if self.schema_accepts() && self.model_error.is_some() {
            return Err(format!(
                "the schema accepts what the model rejects: {}",
                self.model_error.as_deref().unwrap_or_default()
            ));
        }
        if !self.schema_accepts() && self.model_error.is_none() && self.check_errors.is_empty() {
            return Err(format!(
                "the schema rejects what loads and compiles without error: {:?}",
                self.schema_errors
            ));
        }
        Ok(())
    }
}

/// Runs one flag file (text in `format`) through schema, model and compiler.
fn outcome(text: &str, format: Format) -> Outcome {
    let node = parse_document(text, format).unwrap_or_else(|e| panic!("syntax error {e}"));
    let doc = node.to_json();
    let model_error = from_node::<FlagFile>(&node)
        .err()
        .map(|e| format!("{e} (at {})", e.path()));
    let file = match format {
        Format::Yaml => "envs/test/flags.yaml",
        Format::Json => "envs/test/flags.json",
        Format::Toml => "envs/test/flags.toml",
    };
    let checked =
        load_files([(file.to_owned(), text.as_bytes().to_vec())]).check(&metrics(), meta());
    let check_errors = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    Outcome {
        schema_errors: schema_errors(flagfile_validator(), &doc),
        model_error,
        check_errors,
    }
}

fn json_outcome(doc: &Value) -> Outcome {
    outcome(&serde_json::to_string_pretty(doc).unwrap(), Format::Json)
}

// ------------------------------------------------------ the schemas as such

#[test]
fn schemas_are_valid_draft_2020_12() {
    for (name, schema) in [
        ("flagfile.schema.json", flagfile_schema()),
        ("flags-toml.schema.json", toml_schema()),
    ] {
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            panic!(
                "{name} is not a valid draft 2020-12 schema: {e} (at {})",
                e.instance_path()
            );
        }
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}: $schema"
        );
        assert_eq!(
            schema["$id"],
            format!("https://hotswap-flags.dev/schemas/{name}"),
            "{name}: $id"
        );
        assert!(
            schema["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{name}: title"
        );
        assert!(
            jsonschema::draft202012::new(schema).is_ok(),
            "{name} compiles"
        );
    }
    // Compiling is not vacuous: a broken schema is refused.
    assert!(jsonschema::draft202012::new(&json!({"type": "no-such-type"})).is_err());
}

/// Every definition and every property (wherever it is declared) has a
/// `description`, so editors can show one on hover.
#[test]
fn every_property_and_definition_has_a_description() {
    fn walk(node: &Value, path: &str, missing: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                for (k, v) in map {
                    let here = format!("{path}/{k}");
                    match (k.as_str(), v) {
                        ("properties" | "$defs", Value::Object(children)) => {
                            for (name, child) in children {
                                let child_path = format!("{here}/{name}");
                                if child.get("description").and_then(Value::as_str).is_none() {
                                    missing.push(child_path.clone());
                                }
                                walk(child, &child_path, missing);
                            }
                        }
                        _ => walk(v, &here, missing),
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}/{i}"), missing);
                }
            }
            _ => {}
        }
    }
    for (name, schema) in [
        ("flagfile", flagfile_schema()),
        ("flags-toml", toml_schema()),
    ] {
        let mut missing = Vec::new();
        walk(schema, "", &mut missing);
        assert!(missing.is_empty(), "{name}: no description at {missing:#?}");
        assert!(
            schema["description"].is_string(),
            "{name}: top-level description"
        );
    }
}

/// The enums are the model's, spelled as serde spells them.
#[test]
fn enums_match_the_model() {
    fn schema_enum(def: &str) -> Vec<String> {
        flagfile_schema()["$defs"][def]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("$defs/{def} has an enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }
    // Exhaustive matches: a new variant in the model fails to compile here
    // (add it to the list in support/props.rs too).
    let ops: Vec<&str> = ALL_OPS
        .into_iter()
        .map(|op| match op {
            Op::Eq
            | Op::Neq
            | Op::In
            | Op::NotIn
            | Op::Contains
            | Op::StartsWith
            | Op::EndsWith
            | Op::Matches
            | Op::Gt
            | Op::Gte
            | Op::Lt
            | Op::Lte
            | Op::SemverEq
            | Op::SemverGt
            | Op::SemverGte
            | Op::SemverLt
            | Op::SemverLte
            | Op::Before
            | Op::After
            | Op::Exists
            | Op::InCidr => op.as_str(),
        })
        .collect();
    assert_eq!(schema_enum("op"), ops);
    for op in &ops {
        let parsed: Op = serde_json::from_value(json!(op)).unwrap();
        assert_eq!(parsed.as_str(), *op);
    }

    let types: Vec<&str> = [
        FlagType::Boolean,
        FlagType::String,
        FlagType::Integer,
        FlagType::Float,
        FlagType::Object,
    ]
    .into_iter()
    .map(|t| match t {
        FlagType::Boolean
        | FlagType::String
        | FlagType::Integer
        | FlagType::Float
        | FlagType::Object => t.as_str(),
    })
    .collect();
    assert_eq!(schema_enum("flagType"), types);

    let strategies: Vec<&str> = [
        RolloutStrategy::Direct,
        RolloutStrategy::Canary,
        RolloutStrategy::Linear,
        RolloutStrategy::Scheduled,
        RolloutStrategy::Segment,
    ]
    .into_iter()
    .map(|s| match s {
        RolloutStrategy::Direct
        | RolloutStrategy::Canary
        | RolloutStrategy::Linear
        | RolloutStrategy::Scheduled
        | RolloutStrategy::Segment => s.as_str(),
    })
    .collect();
    assert_eq!(schema_enum("strategy"), strategies);

    let no_data: Vec<String> = [NoData::Fail, NoData::Pause, NoData::Ignore]
        .into_iter()
        .map(|n| match n {
            NoData::Fail | NoData::Pause | NoData::Ignore => serde_json::to_value(n)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
        })
        .collect();
    assert_eq!(schema_enum("noData"), no_data);

    let compare: Vec<String> = [Compare::Baseline]
        .into_iter()
        .map(|c| match c {
            Compare::Baseline => serde_json::to_value(c)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
        })
        .collect();
    assert_eq!(schema_enum("compare"), compare);

    let bucketing: Vec<&str> = BucketingMode::ALL
        .into_iter()
        .map(|m| match m {
            BucketingMode::Xxh3
            | BucketingMode::FlagdV1
            | BucketingMode::FlagdV2
            | BucketingMode::Unleash => m.as_str(),
        })
        .collect();
    assert_eq!(schema_enum("bucketing"), bucketing);
    for mode in BucketingMode::ALL {
        assert_eq!(serde_json::to_value(mode).unwrap(), json!(mode.as_str()));
    }
}

/// The keys each object of the schema declares are exactly the keys the
/// model's struct takes. The model's list comes from its own "unknown key"
/// error (`expected one of …`), so camelCase renames are covered.
#[test]
fn object_keys_match_the_model() {
    const ODD: &str = "qqqqqqqq";
    fn model_keys<T: serde::de::DeserializeOwned + std::fmt::Debug>(doc: Value) -> Vec<String> {
        let node = parse_document(&doc.to_string(), Format::Json).unwrap();
        let err = from_node::<T>(&node).expect_err("an unknown key is refused");
        assert_eq!(err.message, format!("unknown key `{ODD}`"), "{doc}");
        let hint = err.hint.expect("a hint listing the keys");
        let list = hint
            .strip_prefix("expected one of ")
            .unwrap_or_else(|| panic!("hint lists the keys: {hint}"));
        let mut keys: Vec<String> = list
            .split(", ")
            .map(|k| k.trim_matches('`').to_owned())
            .collect();
        keys.sort();
        keys
    }
    fn schema_keys(schema: &Value, pointer: &str) -> Vec<String> {
        let def = schema
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{pointer}"));
        assert_eq!(
            def["additionalProperties"],
            json!(false),
            "{pointer} is closed (deny_unknown_fields)"
        );
        let mut keys: Vec<String> = def["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{pointer} has properties"))
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }
    fn with_odd(mut v: Value) -> Value {
        v.as_object_mut().unwrap().insert(ODD.into(), json!(1));
        v
    }
    let flag = json!({"type": "boolean", "variants": {"on": true}, "default": "on"});
    let flag_with = |key: &str, value: Value| {
        let mut f = flag.clone();
        f.as_object_mut().unwrap().insert(key.into(), value);
        json!({"flags": {"f": f}})
    };
    let fs = flagfile_schema();
    let cases: Vec<(&str, Value)> = vec![
        ("", with_odd(json!({}))),
        (
            "/$defs/flag",
            json!({"flags": {"f": with_odd(flag.clone())}}),
        ),
        (
            "/$defs/rule",
            flag_with(
                "rules",
                json!([with_odd(
                    json!({"name": "r", "when": {"segment": "s"}, "serve": "on"})
                )]),
            ),
        ),
        (
            "/$defs/split",
            flag_with("default", with_odd(json!({"split": {"on": 1}}))),
        ),
        (
            "/$defs/experiment",
            flag_with(
                "default",
                json!({"split": {"on": 1}, "experiment": with_odd(json!({}))}),
            ),
        ),
        (
            "/$defs/condition",
            flag_with(
                "rules",
                json!([{"name": "r", "when": with_odd(json!({"segment": "s"})), "serve": "on"}]),
            ),
        ),
        (
            "/$defs/timeWindow",
            flag_with(
                "rules",
                json!([{"name": "r", "when": {"time": with_odd(json!({}))}, "serve": "on"}]),
            ),
        ),
        (
            "/$defs/rollout",
            flag_with(
                "rollout",
                with_odd(json!({"strategy": "direct", "serve": "on"})),
            ),
        ),
        (
            "/$defs/stage",
            flag_with(
                "rollout",
                json!({"strategy": "canary", "serve": "on", "stages": [with_odd(json!({"percentage": 1}))]}),
            ),
        ),
        (
            "/$defs/health",
            flag_with(
                "rollout",
                json!({"strategy": "direct", "serve": "on", "health": with_odd(json!({}))}),
            ),
        ),
        (
            "/$defs/check",
            flag_with(
                "rollout",
                json!({"strategy": "direct", "serve": "on", "health": {"checks": [with_odd(json!({"name": "c", "query": "q"}))]}}),
            ),
        ),
        (
            "/$defs/seedMetrics",
            flag_with(
                "rollout",
                json!({"strategy": "direct", "serve": "on", "metrics": with_odd(json!({}))}),
            ),
        ),
        (
            "/$defs/segment",
            json!({"segments": {"s": with_odd(json!({}))}}),
        ),
    ];
    for (pointer, doc) in cases {
        assert_eq!(
            model_keys::<FlagFile>(doc),
            schema_keys(fs, pointer),
            "flagfile {pointer}"
        );
    }

    let ts = toml_schema();
    let config = json!({"version": 1});
    let with = |key: &str, value: Value| {
        let mut c = config.clone();
        c.as_object_mut().unwrap().insert(key.into(), value);
        c
    };
    let cases: Vec<(&str, Value)> = vec![
        ("", with_odd(config.clone())),
        (
            "/$defs/environment",
            with(
                "environments",
                json!([with_odd(json!({"name": "a", "path": "a"}))]),
            ),
        ),
        ("/$defs/metrics", with("metrics", with_odd(json!({})))),
    ];
    for (pointer, doc) in cases {
        assert_eq!(
            model_keys::<RepoConfig>(doc),
            schema_keys(ts, pointer),
            "flags.toml {pointer}"
        );
    }
}

// ---------------------------------------------------------------- owners

/// The schema's `owner` pattern is the one `flagctl validate` checks, and
/// the owner the security probe slipped past the old e-mail check matches
/// neither (docs/flag-format.md, "Owners").
#[test]
fn the_schema_checks_owners_as_validate_does() {
    let pattern = flagfile_schema()["$defs"]["flag"]["properties"]["owner"]["pattern"]
        .as_str()
        .expect("owner has a pattern");
    assert_eq!(pattern, hotswap_flags_core::model::lifecycle::OWNER_PATTERN);
    let v = def_validator("flag");
    let flag = |owner: &str| json!({"type": "boolean", "variants": {"on": true}, "default": "on", "owner": owner});
    for good in ["@alice", "@acme/payments", "ops@example.com"] {
        assert!(v.is_valid(&flag(good)), "{good}");
    }
    for bad in [
        "\u{1b}[2J[approve](https://evil.example)<img/src=x>@x.com",
        "a`b@example.com",
        "payments team",
        "a@b",
    ] {
        assert!(!v.is_valid(&flag(bad)), "{bad:?}");
    }
}

// ---------------------------------------------------------------- durations

fn duration_pattern() -> String {
    flagfile_schema()["$defs"]["duration"]["pattern"]
        .as_str()
        .expect("duration has a pattern")
        .to_owned()
}

#[test]
fn documented_durations_match_and_nonsense_does_not() {
    let v = def_validator("duration");
    for good in [
        "PT1H",
        "PT1H30M",
        "P1D",
        "P1DT12H",
        "PT30S",
        "PT0.5S",
        "pt1h",
        "30s",
        "90m",
        "2h",
        "1h30m",
        "1h 30m",
        "1d 12h",
        "1.5h",
        "500ms",
        "2 hours",
        "1 hour, 30 minutes",
        "45 secs",
        "7d",
        "10 minutes",
    ] {
        assert!(
            v.is_valid(&json!(good)),
            "{good} should match the duration pattern"
        );
        assert!(good.parse::<DurationSpec>().is_ok(), "{good} should parse");
    }
    for bad in [
        "", "soon", "-1h", "P1M", "P1Y", "1w", "10", "1h,30m", "30m1h", "1h1h", "PT", "P", "P1DT",
        "1.5d", "1.5h 30m", " 1h", "1 h ", "١h",
    ] {
        assert!(
            !v.is_valid(&json!(bad)),
            "{bad:?} should not match the duration pattern"
        );
    }
    assert!(!v.is_valid(&json!(3600)), "numbers are not durations");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Whatever the schema's duration pattern admits, the model parses.
    #[test]
    fn schema_durations_parse(text in proptest::string::string_regex(
        duration_pattern().trim_start_matches('^').trim_end_matches('$')
    ).unwrap()) {
        let parsed = text.parse::<DurationSpec>();
        prop_assert!(parsed.is_ok(), "{:?} matches the schema but does not parse: {:?}", text, parsed.err());
    }
}

// ------------------------------------------------------- example repository

fn flag_files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            flag_files_under(&path, out);
        } else if Format::from_path(&path).is_some() {
            out.push(path);
        }
    }
}

#[test]
fn example_flag_files_validate() {
    let mut files = Vec::new();
    flag_files_under(&root().join("flags-example/envs"), &mut files);
    let mut failures = Vec::new();
    for path in &files {
        let text = fs::read_to_string(path).unwrap();
        let format = Format::from_path(path).unwrap();
        let node =
            parse_document(&text, format).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc = node.to_json();
        for e in schema_errors(flagfile_validator(), &doc) {
            failures.push(format!("{}: {e}", path.display()));
        }
        if let Err(e) = from_node::<FlagFile>(&node) {
            failures.push(format!("{}: model: {e} (at {})", path.display(), e.path()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(!files.is_empty(), "no flag files under flags-example/envs");
}

#[test]
fn example_flags_toml_validates() {
    let path = root().join("flags-example/flags.toml");
    let text = fs::read_to_string(&path).expect("flags-example/flags.toml exists");
    let node = parse_document(&text, Format::Toml).unwrap();
    let errors = schema_errors(toml_validator(), &node.to_json());
    assert!(errors.is_empty(), "{errors:#?}");
    from_node::<RepoConfig>(&node).expect("the model reads it");
}

// ------------------------------------------------------- hand-written corpus

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The schema accepts it, and it loads and compiles without error.
    Valid,
    /// The schema rejects it (and the model or the compiler reports an error).
    Rejected,
    /// The schema accepts it, the model reads it, the compiler finds an error
    /// no JSON Schema can see (references, cycles, ordering, regexes…).
    SemanticError,
}
use Expect::*;

/// Wraps a flag definition (YAML, indented by 4) into a flag file.
fn flag(body: &str) -> String {
    format!("flags:\n  f:\n{}", indent(body, 4))
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}\n")
            }
        })
        .collect()
}

const BOOL: &str = "type: boolean\nvariants: { on: true, off: false }\ndefault: off\n";

fn with_rule(when: &str) -> String {
    flag(&format!(
        "{BOOL}rules:\n  - name: r\n    when: {when}\n    serve: on\n"
    ))
}

fn with_rollout(rollout: &str) -> String {
    flag(&format!("{BOOL}rollout:\n{}", indent(rollout, 2)))
}

const SEGMENTS: &str = "segments:\n  beta: { keys: [u1] }\n  blocked: { when: { attr: fraud, op: eq, value: true } }\n";

#[rustfmt::skip]
fn yaml_cases() -> Vec<(&'static str, Expect, String)> {
    let design = r#"
# yaml-language-server: $schema=../../schemas/flagfile.schema.json
flags:
  new-checkout-flow:
    description: New checkout experience
    type: boolean
    variants: { on: true, off: false }
    default: off
    enabled: true
    offVariant: off
    bucketBy: targetingKey
    rules:
      - name: staff
        when: { attr: email, op: ends_with, value: "@example.com" }
        serve: on
      - name: beta
        when: { segment: beta-testers }
        serve: on
      - name: eu
        when: { all: [ { attr: country, op: in, values: [DE, FR] }, { not: { segment: blocked } } ] }
        serve: { split: { on: 50, off: 50 } }
      - name: holidays
        when: { time: { after: "2025-12-01T00:00:00", before: "2026-01-01T00:00:00", timezone: America/New_York } }
        serve: on
    rollout:
      strategy: canary
      serve: on
      stages:
        - { percentage: 10, duration: PT1H }
        - { percentage: 30, duration: 2h }
        - { percentage: 50, duration: 4h }
        - { percentage: 100 }
      health:
        interval: 30s
        failureLimit: 2
        noData: pause
        checks:
          - { name: errors, query: error_rate, max: 0.05 }
          - { name: p99, query: 'histogram_quantile(0.99, rate(x{flag="{{flag}}"}[5m]))', max: 500 }
      rollbackOnError: true
segments:
  beta-testers:
    when: { attr: role, op: eq, value: beta-tester }
  blocked:
    keys: [acct-1, acct-7]
  pilot-accounts:
    keys: [acct-1, acct-7]
    when: { segment: beta-testers }
"#;
    let every_op = flag(
        r#"type: string
variants: { a: A, b: B }
default: a
rules:
  - { name: eq, when: { attr: plan, op: eq, value: pro }, serve: b }
  - { name: eq-num, when: { attr: age, op: eq, value: 30 }, serve: b }
  - { name: eq-bool, when: { attr: beta, op: eq, value: true }, serve: b }
  - { name: neq, when: { attr: plan, op: neq, values: [free, trial] }, serve: b }
  - { name: in, when: { attr: country, op: in, values: [DE, 49, true] }, serve: b }
  - { name: not_in, when: { attr: country, op: not_in, values: [US] }, serve: b }
  - { name: contains, when: { attr: tags, op: contains, value: vip }, serve: b }
  - { name: contains-num, when: { attr: groups, op: contains, values: [7, x] }, serve: b }
  - { name: starts_with, when: { attr: email, op: starts_with, value: admin@ }, serve: b }
  - { name: ends_with, when: { attr: email, op: ends_with, values: ["@a.com", "@b.com"] }, serve: b }
  - { name: matches, when: { attr: ua, op: matches, value: "(?i)bot|crawler" }, serve: b }
  - { name: gt, when: { attr: age, op: gt, value: 18 }, serve: b }
  - { name: gte, when: { attr: score, op: gte, value: 0.5 }, serve: b }
  - { name: lt, when: { attr: age, op: lt, values: [13, 65] }, serve: b }
  - { name: lte, when: { attr: age, op: lte, value: -1 }, serve: b }
  - { name: semver_eq, when: { attr: v, op: semver_eq, value: "1.2.3" }, serve: b }
  - { name: semver_gt, when: { attr: v, op: semver_gt, value: "v1.2.3" }, serve: b }
  - { name: semver_gte, when: { attr: v, op: semver_gte, value: "2.0.0-rc.1" }, serve: b }
  - { name: semver_lt, when: { attr: v, op: semver_lt, values: ["3.0.0"] }, serve: b }
  - { name: semver_lte, when: { attr: v, op: semver_lte, value: "3.0.0" }, serve: b }
  - { name: before, when: { attr: signup, op: before, value: "2020-01-01T00:00:00Z" }, serve: b }
  - { name: after, when: { attr: signup, op: after, value: "2024-06-01T12:00:00+02:00" }, serve: b }
  - { name: exists, when: { attr: email, op: exists }, serve: b }
  - { name: not-exists, when: { not: { attr: email, op: exists } }, serve: b }
  - { name: any, when: { any: [ { attr: a, op: exists }, { time: { after: "2025-01-01" , timezone: UTC } } ] }, serve: b }
"#,
    );
    let strategies = r#"
flags:
  lin:
    type: integer
    variants: { small: 1, big: 100 }
    default: small
    rollout: { strategy: linear, serve: big, from: 5, to: 50, over: 7d, step: 5, salt: lin-2, metrics: { errorRateThreshold: 0.01, latencyP99Threshold: 300 } }
  lin-defaults:
    type: float
    variants: { low: 0.5, high: 2 }
    default: low
    rollout: { strategy: linear, serve: high, over: "1 hour, 30 minutes", health: { noData: ignore, failureLimit: 3, interval: 1m } }
  sched:
    type: string
    variants: { none: "", sale: "Sale!" }
    default: none
    rollout: { strategy: scheduled, serve: sale, start: "2026-11-27T00:00:00", end: "2026-12-01", timezone: Europe/Berlin, rollbackOnError: false }
  sched-open:
    type: string
    variants: { none: "", sale: "Sale!" }
    default: none
    rollout: { strategy: scheduled, serve: sale, end: "2026-12-01T00:00:00Z" }
  seg:
    type: object
    variants: { plain: {}, fancy: { colour: red, sizes: [1, 2] } }
    default: plain
    rollout: { strategy: segment, serve: fancy, segments: [beta, blocked] }
  everyone:
    type: boolean
    variants: { "true": true, "false": false }
    default: false
    offVariant: false
    rollout: { strategy: direct, serve: true, health: { checks: [ { name: floor, query: 'sum(up)', min: 1 } ] } }
  numbered:
    type: string
    variants: { "1": one, "2": two }
    default: 1
    rules:
      - { name: two, when: { attr: n, op: eq, value: 2 }, serve: 2 }
  experiment:
    type: string
    variants: { control: classic, gallery: big, video: moving }
    offVariant: control
    default:
      split: { control: 34, gallery: 33, video: 33 }
      salt: exp-2026
      experiment:
        hypothesis: Bigger pictures sell more
        control: control
        minimumDetectableEffect: 0.03
        alpha: 0.05
        conversions: orders_completed
    rules:
      - name: half
        when: { attr: country, op: eq, value: DE }
        serve: { split: { control: 1, gallery: 0, video: 1 } }
"#
    .to_owned()
        + SEGMENTS;
    let nulls = r#"
$schema: ~
flags:
  f:
    description:
    type: boolean
    variants: { on: true, off: false }
    default: on
    offVariant: ~
    bucketBy: null
    rollout: ~
    rules:
      - name: r
        when: { attr: a, op: exists, value: null, values: ~, segment: ~, all: ~, any: ~, not: ~, time: ~ }
        serve: on
      - name: s
        when: { segment: beta, attr: null, op: null, value: null, values: null }
        serve: { split: { on: 1 }, salt: ~, experiment: ~ }
      - name: t
        when: { time: { after: "2025-01-01T00:00:00Z", before: ~, timezone: ~ } }
        serve: on
  g:
    type: boolean
    variants: { on: true }
    default: on
    rollout:
      strategy: canary
      serve: on
      salt: null
      stages: [ { percentage: 100, duration: ~ } ]
      from: ~
      over: ~
      start: ~
      segments: ~
      metrics: { errorRateThreshold: ~ }
      health: { interval: ~, failureLimit: ~, noData: ~, checks: [ { name: c, query: error_rate, max: 1, min: ~ } ] }
segments:
  beta:
    description: ~
    when: ~
    keys: [u1]
"#
    .to_owned();

    vec![
        // ---------------------------------------------------------- valid
        ("the format reference's example", Valid, design.to_owned()),
        ("a comparison check with every key", Valid, with_rollout("strategy: canary\nserve: on\nstages: [ { percentage: 10, duration: 1h }, { percentage: 100 } ]\nhealth: { checks: [ { name: g, compare: baseline, baseline: off, failures: 'sum(errors{v=\"{{variant}}\"})', total: 'sum(requests{v=\"{{variant}}\"})', tolerance: 0.002, alpha: 0.01, minSamples: 500 } ] }\n")),
        ("a comparison check with defaults and null threshold keys", Valid, with_rollout("strategy: canary\nserve: on\nstages: [ { percentage: 10, duration: 1h }, { percentage: 100 } ]\nhealth: { checks: [ { name: g, compare: baseline, failures: error_rate, total: 'sum(requests{v=\"{{variant}}\"})', query: ~, max: ~, min: ~, baseline: ~ } ] }\n")),
        ("a threshold check with null comparison keys", Valid, with_rollout("strategy: canary\nserve: on\nstages: [ { percentage: 10, duration: 1h }, { percentage: 100 } ]\nhealth: { checks: [ { name: c, query: error_rate, max: 1, compare: ~, failures: ~, total: ~, tolerance: ~, alpha: ~, minSamples: ~ } ] }\n")),
        ("every operator", Valid, every_op),
        ("strategies, experiment, bool/int variant names", Valid, strategies),
        ("null counts as absent", Valid, nulls),
        ("empty file", Valid, String::new()),
        ("only segments", Valid, "segments:\n  s: { keys: [a] }\n".into()),
        ("segment with empty keys", Valid, "segments:\n  s: { keys: [] }\n".into()),
        ("exists with empty values", Rejected, with_rule("{ attr: a, op: exists, values: [] }")),
        ("a single-stage canary", Valid, with_rollout("strategy: canary\nserve: on\nstages: [ { percentage: 0.001 } ]\n")),
        ("zero weight next to a positive one", Valid, flag("type: boolean\nvariants: { on: true, off: false }\noffVariant: off\ndefault: { split: { on: 0, off: 1 } }\n")),
        ("a negative integer variant name", Valid, flag("type: integer\nvariants: { \"-1\": -1 }\ndefault: -1\n")),
        ("lifecycle metadata", Valid, flag(&format!("{BOOL}owner: \"@acme/payments\"\nkind: kill-switch\nexpires: 2026-03-31\n"))),
        ("an e-mail owner, null kind and expiry", Valid, flag(&format!("{BOOL}owner: ops@example.com\nkind: ~\nexpires: ~\n"))),
        ("flagd bucketing with whole weights (50.0 is one)", Valid, flag("type: string\nbucketing: flagd-v2\nvariants: { a: A, b: B }\noffVariant: a\ndefault: { split: { a: 1, b: 3 } }\nrules:\n  - name: r\n    when: { attr: x, op: exists }\n    serve: { split: { a: 50.0, b: 50 } }\n")),
        ("xxh3 bucketing named, with decimal weights", Valid, flag("type: string\nbucketing: xxh3\nvariants: { a: A, b: B }\noffVariant: a\ndefault: { split: { a: 33.3, b: 66.7 } }\n")),
        ("unleash bucketing of a rollout", Valid, flag(&format!("{BOOL}bucketing: unleash\nrollout: {{ strategy: canary, serve: on, stages: [ {{ percentage: 10.5 }} ] }}\n"))),
        ("bucketing: null", Valid, flag(&format!("{BOOL}bucketing: ~\n"))),
        ("an unknown bucketing", Rejected, flag(&format!("{BOOL}bucketing: murmur3\n"))),
        ("a decimal weight under unleash bucketing", Rejected, flag("type: string\nbucketing: unleash\nvariants: { a: A, b: B }\noffVariant: a\ndefault: { split: { a: 33.3, b: 66.7 } }\n")),
        ("a decimal weight in a rule's split under flagd-v1", Rejected, flag("type: string\nbucketing: flagd-v1\nvariants: { a: A, b: B }\ndefault: a\nrules:\n  - name: r\n    when: { attr: x, op: exists }\n    serve: { split: { a: 0.5, b: 1 } }\n")),
        ("weights above flagd's total", SemanticError, flag("type: string\nbucketing: flagd-v2\nvariants: { a: A, b: B, c: C }\noffVariant: a\ndefault: { split: { a: 1000000000, b: 1000000000, c: 1000000000 } }\n")),
        ("an unknown kind", Rejected, flag(&format!("{BOOL}kind: temporary\n"))),
        ("an expiry with a time", Rejected, flag(&format!("{BOOL}expires: \"2026-03-31T00:00:00Z\"\n"))),
        ("an owner that is not a handle", Rejected, flag(&format!("{BOOL}owner: payments team\n"))),
        // ------------------------------------------------------- rejected
        ("unknown top-level key", Rejected, "flag:\n  f: {}\n".into()),
        ("`flags` is a list", Rejected, "flags: []\n".into()),
        ("`flags: null`", Rejected, "flags:\n".into()),
        ("`$schema` is a number", Rejected, "$schema: 5\n".into()),
        ("invalid flag key", Rejected, format!("flags:\n  New Checkout:\n{}", indent(BOOL, 4))),
        ("invalid segment key", Rejected, "segments:\n  -beta: { keys: [a] }\n".into()),
        ("unknown flag key", Rejected, flag(&format!("{BOOL}colour: red\n"))),
        ("key in the wrong case", Rejected, flag(&format!("{BOOL}offvariant: off\n"))),
        ("unknown type", Rejected, flag("type: bool\nvariants: { on: true }\ndefault: on\n")),
        ("missing type", Rejected, flag("variants: { on: true }\ndefault: on\n")),
        ("missing default", Rejected, flag("type: boolean\nvariants: { on: true }\n")),
        ("missing variants", Rejected, flag("type: boolean\ndefault: on\n")),
        ("no variants", Rejected, flag("type: boolean\nvariants: {}\ndefault: on\n")),
        ("variants as a list", Rejected, flag("type: boolean\nvariants: [on]\ndefault: on\n")),
        ("a value not of the flag's type", Rejected, flag("type: boolean\nvariants: { on: \"yes\" }\ndefault: on\n")),
        ("a float in an integer flag", Rejected, flag("type: integer\nvariants: { a: 1.5 }\ndefault: a\n")),
        ("a string in an object flag", Rejected, flag("type: object\nvariants: { a: x }\ndefault: a\n")),
        ("a null variant value", Rejected, flag("type: string\nvariants: { a: ~ }\ndefault: a\n")),
        ("an empty variant name", Rejected, flag("type: string\nvariants: { \"\": x }\ndefault: \"\"\n")),
        ("a float as variant name", Rejected, flag("type: boolean\nvariants: { on: true }\ndefault: 1.5\n")),
        ("a list as variant name", Rejected, flag("type: boolean\nvariants: { on: true }\ndefault: [on]\n")),
        ("enabled is a string", Rejected, flag(&format!("{BOOL}enabled: \"false\"\n"))),
        ("enabled is null", Rejected, flag(&format!("{BOOL}enabled: ~\n"))),
        ("empty bucketBy", Rejected, flag(&format!("{BOOL}bucketBy: \"\"\n"))),
        ("offVariant is a list", Rejected, flag(&format!("{BOOL}offVariant: [off]\n"))),
        ("rules is a map", Rejected, flag(&format!("{BOOL}rules: {{ r: on }}\n"))),
        ("rules: null", Rejected, flag(&format!("{BOOL}rules: ~\n"))),
        ("a negative weight", Rejected, flag("type: boolean\nvariants: { on: true, off: false }\noffVariant: off\ndefault: { split: { on: -1, off: 2 } }\n")),
        ("a weight above 1e9", Rejected, flag("type: boolean\nvariants: { on: true, off: false }\noffVariant: off\ndefault: { split: { on: 2000000000, off: 1 } }\n")),
        ("all weights zero", Rejected, flag("type: boolean\nvariants: { on: true, off: false }\noffVariant: off\ndefault: { split: { on: 0, off: 0 } }\n")),
        ("an empty split", Rejected, flag("type: boolean\nvariants: { on: true }\noffVariant: on\ndefault: { split: {} }\n")),
        ("a weight as a string", Rejected, flag("type: boolean\nvariants: { on: true }\noffVariant: on\ndefault: { split: { on: \"50\" } }\n")),
        ("an unknown split key", Rejected, flag("type: boolean\nvariants: { on: true }\noffVariant: on\ndefault: { split: { on: 1 }, salts: x }\n")),
        ("a split without `split`", Rejected, flag("type: boolean\nvariants: { on: true }\noffVariant: on\ndefault: { salt: x }\n")),
        ("an empty salt", SemanticError, flag("type: boolean\nvariants: { on: true }\noffVariant: on\ndefault: { split: { on: 1 }, salt: \"\" }\n")),
        ("an empty salt under flagd bucketing", Valid, flag("type: boolean\nbucketing: flagd-v2\nvariants: { on: true }\noffVariant: on\ndefault: { split: { on: 1 }, salt: \"\" }\n")),
        ("metadata", Valid, flag("type: boolean\nvariants: { on: true }\ndefault: on\nmetadata: { team: checkout, tier: 1, beta: true }\n")),
        ("metadata holding a map", Rejected, flag("type: boolean\nvariants: { on: true }\ndefault: on\nmetadata: { team: { a: 1 } }\n")),
        ("metadata named version", Rejected, flag("type: boolean\nvariants: { on: true }\ndefault: on\nmetadata: { version: x }\n")),
        ("a default split without offVariant", Rejected, flag("type: boolean\nvariants: { on: true, off: false }\ndefault: { split: { on: 1, off: 1 } }\n")),
        ("alpha of 1.5", Rejected, flag("type: boolean\nvariants: { on: true, off: false }\noffVariant: off\ndefault: { split: { on: 1, off: 1 }, experiment: { alpha: 1.5 } }\n")),
        ("a negative effect", Rejected, flag("type: boolean\nvariants: { on: true, off: false }\noffVariant: off\ndefault: { split: { on: 1, off: 1 }, experiment: { minimumDetectableEffect: -0.1 } }\n")),
        ("an experiment on one variant", Rejected, flag("type: boolean\nvariants: { on: true }\noffVariant: on\ndefault: { split: { on: 1 }, experiment: {} }\n")),
        ("an unknown experiment key", Rejected, flag("type: boolean\nvariants: { on: true, off: false }\noffVariant: off\ndefault: { split: { on: 1, off: 1 }, experiment: { metric: x } }\n")),
        ("a rule without name", Rejected, flag(&format!("{BOOL}rules: [ {{ when: {{ segment: s }}, serve: on }} ]\n"))),
        ("a blank rule name", Rejected, flag(&format!("{BOOL}rules: [ {{ name: \"  \", when: {{ attr: a, op: exists }}, serve: on }} ]\n"))),
        ("a rule without when", Rejected, flag(&format!("{BOOL}rules: [ {{ name: r, serve: on }} ]\n"))),
        ("a rule with when: null", Rejected, flag(&format!("{BOOL}rules: [ {{ name: r, when: ~, serve: on }} ]\n"))),
        ("an empty condition", Rejected, with_rule("{}")),
        ("attr and segment together", Rejected, with_rule("{ attr: a, op: exists, segment: s }")),
        ("all and any together", Rejected, with_rule("{ all: [ { attr: a, op: exists } ], any: [ { attr: a, op: exists } ] }")),
        ("op without attr", Rejected, with_rule("{ segment: s, op: eq }")),
        ("value without attr", Rejected, with_rule("{ segment: s, value: 1 }")),
        ("attr without op", Rejected, with_rule("{ attr: a, value: 1 }")),
        ("a blank attr", Rejected, with_rule("{ attr: \" \", op: exists }")),
        ("an unknown op", Rejected, with_rule("{ attr: a, op: equals, value: 1 }")),
        ("an op in upper case", Rejected, with_rule("{ attr: a, op: EQ, value: 1 }")),
        ("eq without value", Rejected, with_rule("{ attr: a, op: eq }")),
        ("eq with value: null", Rejected, with_rule("{ attr: a, op: eq, value: ~ }")),
        ("eq with empty values", Rejected, with_rule("{ attr: a, op: eq, values: [] }")),
        ("value and values together", Rejected, with_rule("{ attr: a, op: in, value: x, values: [y] }")),
        ("values is not a list", Rejected, with_rule("{ attr: a, op: in, values: x }")),
        ("eq with a list value", Rejected, with_rule("{ attr: a, op: eq, value: [x] }")),
        ("eq with a map value", Rejected, with_rule("{ attr: a, op: eq, value: { x: 1 } }")),
        ("in with a null operand", Rejected, with_rule("{ attr: a, op: in, values: [x, ~] }")),
        ("exists with a value", Rejected, with_rule("{ attr: a, op: exists, value: true }")),
        ("exists with values", Rejected, with_rule("{ attr: a, op: exists, values: [x] }")),
        ("gt with a string", Rejected, with_rule("{ attr: a, op: gt, value: \"18\" }")),
        ("lte with a boolean", Rejected, with_rule("{ attr: a, op: lte, values: [1, true] }")),
        ("starts_with with a number", Rejected, with_rule("{ attr: a, op: starts_with, value: 1 }")),
        ("matches with a number", Rejected, with_rule("{ attr: a, op: matches, value: 1 }")),
        ("semver with a number", Rejected, with_rule("{ attr: a, op: semver_gt, value: 2 }")),
        ("before with a number", Rejected, with_rule("{ attr: a, op: before, value: 1700000000 }")),
        ("an empty all", Rejected, with_rule("{ all: [] }")),
        ("any is not a list", Rejected, with_rule("{ any: { attr: a, op: exists } }")),
        ("not is a list", Rejected, with_rule("{ not: [ { attr: a, op: exists } ] }")),
        ("a segment number", Rejected, with_rule("{ segment: 5 }")),
        ("an empty time window", Rejected, with_rule("{ time: {} }")),
        ("a time window with only a zone", Rejected, with_rule("{ time: { timezone: UTC } }")),
        ("an unknown time key", Rejected, with_rule("{ time: { from: \"2025-01-01T00:00:00Z\" } }")),
        ("a time as a number", Rejected, with_rule("{ time: { after: 2025 } }")),
        ("an empty time zone", Rejected, with_rule("{ time: { after: \"2025-01-01T00:00:00\", timezone: \"\" } }")),
        ("a rollout without serve", Rejected, with_rollout("strategy: direct\n")),
        ("a rollout without strategy", Rejected, with_rollout("serve: on\n")),
        ("an unknown strategy", Rejected, with_rollout("strategy: gradual\nserve: on\n")),
        ("rollout serve is a split", Rejected, with_rollout("strategy: direct\nserve: { split: { on: 1 } }\n")),
        ("a canary without stages", Rejected, with_rollout("strategy: canary\nserve: on\n")),
        ("a canary with no stages", Rejected, with_rollout("strategy: canary\nserve: on\nstages: []\n")),
        ("a canary with `over`", Rejected, with_rollout("strategy: canary\nserve: on\nstages: [ { percentage: 100 } ]\nover: 1h\n")),
        ("direct with stages", Rejected, with_rollout("strategy: direct\nserve: on\nstages: [ { percentage: 100 } ]\n")),
        ("linear without over", Rejected, with_rollout("strategy: linear\nserve: on\n")),
        ("linear with segments", Rejected, with_rollout("strategy: linear\nserve: on\nover: 1h\nsegments: [beta]\n")),
        ("linear from 100", Rejected, with_rollout("strategy: linear\nserve: on\nover: 1h\nfrom: 100\n")),
        ("linear to 150", Rejected, with_rollout("strategy: linear\nserve: on\nover: 1h\nto: 150\n")),
        ("linear step 0", Rejected, with_rollout("strategy: linear\nserve: on\nover: 1h\nstep: 0\n")),
        ("scheduled without start and end", Rejected, with_rollout("strategy: scheduled\nserve: on\ntimezone: UTC\n")),
        ("scheduled with stages", Rejected, with_rollout("strategy: scheduled\nserve: on\nstart: \"2025-01-01T00:00:00Z\"\nstages: [ { percentage: 10 } ]\n")),
        ("segment without segments", Rejected, with_rollout("strategy: segment\nserve: on\n")),
        ("segment with no segments", Rejected, with_rollout("strategy: segment\nserve: on\nsegments: []\n")),
        ("segment with a timezone", Rejected, format!("{}{SEGMENTS}", with_rollout("strategy: segment\nserve: on\nsegments: [beta]\ntimezone: UTC\n"))),
        ("a stage at 0 %", Rejected, with_rollout("strategy: canary\nserve: on\nstages: [ { percentage: 0, duration: 1h }, { percentage: 100 } ]\n")),
        ("a stage at 150 %", Rejected, with_rollout("strategy: canary\nserve: on\nstages: [ { percentage: 150 } ]\n")),
        ("a stage without percentage", Rejected, with_rollout("strategy: canary\nserve: on\nstages: [ { duration: 1h } ]\n")),
        ("a stage percentage as a string", Rejected, with_rollout("strategy: canary\nserve: on\nstages: [ { percentage: \"10%\" } ]\n")),
        ("a duration that is not one", Rejected, with_rollout("strategy: canary\nserve: on\nstages: [ { percentage: 10, duration: soon }, { percentage: 100 } ]\n")),
        ("a duration in weeks", Rejected, with_rollout("strategy: linear\nserve: on\nover: 1w\n")),
        ("a negative duration", Rejected, with_rollout("strategy: linear\nserve: on\nover: -1h\n")),
        ("a duration as a number", Rejected, with_rollout("strategy: linear\nserve: on\nover: 3600\n")),
        ("failureLimit 0", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { failureLimit: 0 }\n")),
        ("failureLimit 2.5", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { failureLimit: 2.5 }\n")),
        ("failureLimit negative", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { failureLimit: -1 }\n")),
        ("an unknown noData", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { noData: skip }\n")),
        ("checks: null", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: ~ }\n")),
        ("a check without bounds", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: c, query: error_rate } ] }\n")),
        ("a check without query", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: c, max: 1 } ] }\n")),
        ("an empty query", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: c, query: \"\", max: 1 } ] }\n")),
        ("a blank check name", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: \"\", query: error_rate, max: 1 } ] }\n")),
        ("an unknown compare", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: g, compare: control, failures: error_rate, total: error_rate } ] }\n")),
        ("a comparison without total", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: g, compare: baseline, failures: error_rate } ] }\n")),
        ("a comparison with a max", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: g, compare: baseline, failures: error_rate, total: error_rate, max: 1 } ] }\n")),
        ("a comparison with a query", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: g, compare: baseline, failures: error_rate, total: error_rate, query: error_rate } ] }\n")),
        ("a threshold check with a tolerance", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: c, query: error_rate, max: 1, tolerance: 0.01 } ] }\n")),
        ("a comparison tolerance of 1", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: g, compare: baseline, failures: error_rate, total: error_rate, tolerance: 1 } ] }\n")),
        ("a comparison alpha of 0", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: g, compare: baseline, failures: error_rate, total: error_rate, alpha: 0 } ] }\n")),
        ("negative minSamples", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: g, compare: baseline, failures: error_rate, total: error_rate, minSamples: -1 } ] }\n")),
        ("an empty failures query", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: g, compare: baseline, failures: \"\", total: error_rate } ] }\n")),
        ("a threshold as a string", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: c, query: error_rate, max: \"5%\" } ] }\n")),
        ("an unknown seed metric", Rejected, with_rollout("strategy: direct\nserve: on\nmetrics: { errorRate: 0.05 }\n")),
        ("rollbackOnError is a string", Rejected, with_rollout("strategy: direct\nserve: on\nrollbackOnError: \"yes\"\n")),
        ("an unknown rollout key", Rejected, with_rollout("strategy: direct\nserve: on\nstage: 1\n")),
        ("a segment with neither keys nor when", Rejected, "segments:\n  s: { description: nobody }\n".into()),
        ("numeric segment keys", Rejected, "segments:\n  s: { keys: [1, 2] }\n".into()),
        ("an empty segment key", Rejected, "segments:\n  s: { keys: [\"\"] }\n".into()),
        ("an unknown segment key", Rejected, "segments:\n  s: { keys: [a], rules: [] }\n".into()),
        ("a segment as a list", Rejected, "segments:\n  s: [a]\n".into()),
        // -------------------------------------------------- semantic only
        ("an unknown variant", SemanticError, flag("type: boolean\nvariants: { on: true }\ndefault: of\n")),
        ("an unknown split variant", SemanticError, flag("type: boolean\nvariants: { on: true }\noffVariant: on\ndefault: { split: { on: 1, off: 1 } }\n")),
        ("an unknown segment", SemanticError, with_rule("{ segment: nobody }")),
        ("cyclic segments", SemanticError, format!("{}segments:\n  a: {{ when: {{ segment: b }} }}\n  b: {{ when: {{ segment: a }} }}\n", with_rule("{ segment: a }"))),
        ("stages not increasing", SemanticError, with_rollout("strategy: canary\nserve: on\nstages: [ { percentage: 50, duration: 1h }, { percentage: 10 } ]\n")),
        ("a middle stage without duration", SemanticError, with_rollout("strategy: canary\nserve: on\nstages: [ { percentage: 10 }, { percentage: 100 } ]\n")),
        ("a zero stage duration", SemanticError, with_rollout("strategy: canary\nserve: on\nstages: [ { percentage: 10, duration: 0s }, { percentage: 100 } ]\n")),
        ("linear to below from", SemanticError, with_rollout("strategy: linear\nserve: on\nover: 1h\nfrom: 50\nto: 20\n")),
        ("a step over the ramp", SemanticError, with_rollout("strategy: linear\nserve: on\nover: 1h\nfrom: 50\nstep: 60\n")),
        ("a bad regex", SemanticError, with_rule("{ attr: a, op: matches, value: \"(\" }")),
        ("a bad version", SemanticError, with_rule("{ attr: a, op: semver_gt, value: \"1.2\" }")),
        ("a bad instant", SemanticError, with_rule("{ attr: a, op: before, value: yesterday }")),
        ("an unknown time zone", SemanticError, with_rule("{ time: { after: \"2025-01-01T00:00:00\", timezone: Mars/Olympus } }")),
        ("a local time without zone", SemanticError, with_rule("{ time: { after: \"2025-01-01T00:00:00\" } }")),
        ("after not before before", SemanticError, with_rule("{ time: { after: \"2026-01-01T00:00:00Z\", before: \"2025-01-01T00:00:00Z\" } }")),
        ("an unknown query template", SemanticError, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: c, query: eror_rate, max: 1 } ] }\n")),
        ("an unknown placeholder", SemanticError, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: c, query: 'rate(x{f=\"{{flg}}\"}[1m])', max: 1 } ] }\n")),
        ("a comparison with an unknown baseline", SemanticError, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: g, compare: baseline, baseline: of, failures: error_rate, total: error_rate } ] }\n")),
        ("a comparison against the variant rolled out", SemanticError, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: g, compare: baseline, baseline: on, failures: error_rate, total: error_rate } ] }\n")),
        ("a comparison with an unknown template", SemanticError, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: g, compare: baseline, failures: eror_rate, total: error_rate } ] }\n")),
        ("a check using {{window}}", SemanticError, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: c, query: 'sum(increase(x[{{window}}]))', max: 1 } ] }\n")),
        ("conversions using {{stage}}", SemanticError, flag("type: boolean\nvariants: { on: true, off: false }\noffVariant: off\ndefault: { split: { on: 1, off: 1 }, experiment: { conversions: 'x{s=\"{{stage}}\"}' } }\n")),
        ("min above max", SemanticError, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: c, query: 'sum(up)', max: 1, min: 2 } ] }\n")),
        ("two checks of one name", SemanticError, with_rollout("strategy: direct\nserve: on\nmetrics: { errorRateThreshold: 0.1 }\nhealth: { checks: [ { name: error_rate, query: 'sum(up)', max: 1 } ] }\n")),
        ("duplicate rule names", SemanticError, flag(&format!("{BOOL}rules:\n  - {{ name: r, when: {{ attr: a, op: exists }}, serve: on }}\n  - {{ name: r, when: {{ attr: b, op: exists }}, serve: on }}\n"))),
        ("two experiments", SemanticError, flag("type: boolean\nvariants: { on: true, off: false }\noffVariant: off\ndefault: { split: { on: 1, off: 1 }, experiment: {} }\nrules:\n  - { name: r, when: { attr: a, op: exists }, serve: { split: { on: 1, off: 1 }, experiment: {} } }\n")),
        ("a control outside the split", SemanticError, flag("type: boolean\nvariants: { on: true, off: false, x: true }\noffVariant: off\ndefault: { split: { on: 1, off: 1 }, experiment: { control: x } }\n")),
        ("a rollout of an unknown variant", SemanticError, with_rollout("strategy: direct\nserve: maybe\n")),
        ("an unknown rollout segment", SemanticError, with_rollout("strategy: segment\nserve: on\nsegments: [nobody]\n")),
        // ------------------------------------------- `$codeDefault` (§5)
        ("a code default as the default", Valid, flag("type: boolean\nvariants: { on: true, off: false }\ndefault: $codeDefault\nrules:\n  - { name: r, when: { attr: a, op: exists }, serve: on }\n")),
        ("a code default served by a rule and the kill switch", Valid, flag(&format!("{BOOL}enabled: false\noffVariant: $codeDefault\nrules:\n  - {{ name: r, when: {{ attr: a, op: exists }}, serve: $codeDefault }}\n"))),
        ("a flag condition on a code default", Valid, format!("{}  g:\n    type: boolean\n    variants: {{ on: true }}\n    default: $codeDefault\n", with_rule("{ flag: { key: g, variants: [$codeDefault] } }"))),
        ("a code default as a split key", Rejected, flag("type: boolean\nvariants: { on: true, off: false }\noffVariant: off\ndefault: { split: { on: 1, $codeDefault: 1 } }\n")),
        ("a code default rolled out", Rejected, with_rollout("strategy: direct\nserve: $codeDefault\n")),
        ("a code default as the baseline", Rejected, with_rollout("strategy: direct\nserve: on\nhealth: { checks: [ { name: g, compare: baseline, baseline: $codeDefault, failures: error_rate, total: error_rate } ] }\n")),
        ("a code default as the control", Rejected, flag("type: boolean\nvariants: { on: true, off: false }\noffVariant: off\ndefault: { split: { on: 1, off: 1 }, experiment: { control: $codeDefault } }\n")),
        ("a variant named with a dollar", Rejected, flag("type: boolean\nvariants: { $on: true, off: false }\ndefault: off\n")),
        ("a reference that is not the code default", Rejected, flag("type: boolean\nvariants: { on: true, off: false }\ndefault: $codeDefalt\n")),
        ("a comparison without baseline against a code default kill switch", SemanticError, flag("type: boolean\nvariants: { on: true, off: false }\ndefault: $codeDefault\nrollout:\n  strategy: canary\n  serve: on\n  stages: [ { percentage: 10, duration: 1h }, { percentage: 100 } ]\n  health: { checks: [ { name: g, compare: baseline, failures: error_rate, total: error_rate } ] }\n")),
    ]
}

fn check_case(name: &str, expect: Expect, o: &Outcome) -> Result<(), String> {
    o.agreement()?;
    let ok = match expect {
        Valid => o.schema_accepts() && o.model_error.is_none() && o.check_errors.is_empty(),
        Rejected => !o.schema_accepts(),
        SemanticError => {
            o.schema_accepts() && o.model_error.is_none() && !o.check_errors.is_empty()
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expect:?} for `{name}`"))
    }
}

#[test]
fn hand_written_corpus() {
    let mut failures = Vec::new();
    let cases = yaml_cases();
    for (name, expect, text) in &cases {
        let o = outcome(text, Format::Yaml);
        if let Err(e) = check_case(name, *expect, &o) {
            failures.push(format!("{e}\n{o:#?}\n--- document ---\n{text}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The corpus covers all three outcomes.
    for e in [Valid, Rejected, SemanticError] {
        assert!(
            cases.iter().filter(|c| c.1 == e).count() >= 5,
            "few {e:?} cases"
        );
    }
}

/// The same checks on JSON and TOML flag files (TOML has no null; its
/// datetimes arrive as strings).
#[test]
fn json_and_toml_documents() {
    let cases: &[(&str, Expect, Format, &str)] = &[
        (
            "json flag",
            Valid,
            Format::Json,
            r#"{"$schema": "../../schemas/flagfile.schema.json",
                "flags": {"f": {"type": "float", "variants": {"a": 1.5, "b": 2}, "default": "a",
                  "rules": [{"name": "r", "when": {"attr": "x", "op": "gte", "value": 3}, "serve": "b"}]}}}"#,
        ),
        (
            "json unknown key",
            Rejected,
            Format::Json,
            r#"{"flags": {"f": {"type": "float", "variants": {"a": 1.5}, "default": "a", "colour": 1}}}"#,
        ),
        (
            "toml flag with a datetime",
            Valid,
            Format::Toml,
            r#""$schema" = "../../schemas/flagfile.schema.json"
[flags.f]
type = "string"
default = "a"
variants = { a = "A", b = "B" }
[[flags.f.rules]]
name = "new"
when = { attr = "signup", op = "after", value = 2025-11-01T00:00:00Z }
serve = "b"
[flags.f.rollout]
strategy = "scheduled"
serve = "b"
start = 2026-11-27T00:00:00Z
"#,
        ),
        (
            "toml integer variant name",
            Valid,
            Format::Toml,
            "[flags.f]\ntype = \"integer\"\ndefault = 1\nvariants = { 1 = 1, 2 = 2 }\n",
        ),
        (
            "toml wrong type",
            Rejected,
            Format::Toml,
            "[flags.f]\ntype = \"integer\"\ndefault = \"one\"\nvariants = { one = \"1\" }\n",
        ),
    ];
    let mut failures = Vec::new();
    for (name, expect, format, text) in cases {
        let o = outcome(text, *format);
        if let Err(e) = check_case(name, *expect, &o) {
            failures.push(format!("{e}\n{o:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// flags.toml: schema accepts ⇒ the model reads it; schema rejects ⇒ the
/// model or the configuration checks report an error.
#[test]
fn flags_toml_corpus() {
    const BASE: &str =
        "version = 1\n[[environments]]\nname = \"staging\"\npath = \"envs/staging\"\n";
    let cases: Vec<(&str, bool, String)> = vec![
        ("minimal", true, BASE.into()),
        (
            "full",
            true,
            format!(
                "{BASE}[[environments]]\nname = \"production\"\npath = \"./envs/production\"\nprotected = true\n\
                 [metrics]\nprometheus = \"https://prom.example.com:9090\"\n\
                 [metrics.queries]\nerror_rate = 'sum(rate(x{{flag=\"{{{{flag}}}}\"}}[1m]))'\n"
            ),
        ),
        (
            "no version",
            false,
            "[[environments]]\nname = \"a\"\npath = \"a\"\n".into(),
        ),
        (
            "version 2",
            false,
            BASE.replace("version = 1", "version = 2"),
        ),
        (
            "version as a string",
            false,
            BASE.replace("version = 1", "version = \"1\""),
        ),
        ("no environments", false, "version = 1\n".into()),
        (
            "unknown top-level key",
            false,
            format!("{BASE}owner = \"me\"\n"),
        ),
        (
            "unknown environment key",
            false,
            format!("{BASE}branch = \"main\"\n"),
        ),
        (
            "environment without path",
            false,
            "version = 1\n[[environments]]\nname = \"a\"\n".into(),
        ),
        (
            "absolute path",
            false,
            BASE.replace("\"envs/staging\"", "\"/srv/flags\""),
        ),
        (
            "path with ..",
            false,
            BASE.replace("\"envs/staging\"", "\"envs/../x\""),
        ),
        (
            "bad environment name",
            false,
            BASE.replace("\"staging\"", "\"my env\""),
        ),
        (
            "protected as a string",
            false,
            format!("{BASE}protected = \"yes\"\n"),
        ),
        (
            "prometheus not http",
            false,
            format!("{BASE}[metrics]\nprometheus = \"prom:9090\"\n"),
        ),
        (
            "unknown metrics key",
            false,
            format!("{BASE}[metrics]\nurl = \"http://x\"\n"),
        ),
        (
            "empty query template",
            false,
            format!("{BASE}[metrics.queries]\nerror_rate = \" \"\n"),
        ),
        (
            "query template as a number",
            false,
            format!("{BASE}[metrics.queries]\nerror_rate = 1\n"),
        ),
    ];
    let mut failures = Vec::new();
    for (name, accept, text) in &cases {
        let node = parse_document(text, Format::Toml).unwrap();
        let errors = schema_errors(toml_validator(), &node.to_json());
        let model_ok = from_node::<RepoConfig>(&node).is_ok();
        let (config, diags) = parse_config(text.as_bytes());
        let config_errors = config.is_none() || diags.iter().any(|d| d.is_error());
        if errors.is_empty() != *accept {
            failures.push(format!(
                "{name}: expected the schema to {} it: {errors:?}",
                if *accept { "accept" } else { "reject" }
            ));
        }
        if errors.is_empty() && !model_ok {
            failures.push(format!("{name}: the schema accepts what the model rejects"));
        }
        if !errors.is_empty() && !config_errors {
            failures.push(format!(
                "{name}: the schema rejects a configuration without errors: {errors:?}"
            ));
        }
        if *accept && config_errors {
            failures.push(format!("{name}: a valid case has errors: {diags:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ------------------------------------------------- mutated documents (proptest)

/// The valid corpus documents, as JSON: the seeds of mutation.
fn seeds() -> &'static [Value] {
    static S: OnceLock<Vec<Value>> = OnceLock::new();
    S.get_or_init(|| {
        yaml_cases()
            .into_iter()
            .filter(|c| c.1 == Valid)
            .map(|(_, _, text)| parse_document(&text, Format::Yaml).unwrap().to_json())
            .filter(|doc| doc.as_object().is_some_and(|m| !m.is_empty()))
            .collect()
    })
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Every path in the document (the root included).
fn paths(doc: &Value) -> Vec<Vec<Seg>> {
    fn walk(v: &Value, here: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
        out.push(here.clone());
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    here.push(Seg::Key(k.clone()));
                    walk(child, here, out);
                    here.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    here.push(Seg::Index(i));
                    walk(child, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, &mut Vec::new(), &mut out);
    out
}

fn at_mut<'a>(doc: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    path.iter().fold(doc, |v, seg| match seg {
        Seg::Key(k) => &mut v[k.as_str()],
        Seg::Index(i) => &mut v[*i],
    })
}

/// Values a mutation puts in place of another. No whole number is written
/// as a float (see the module comment).
fn replacements() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(7),
        json!(-3),
        json!(150),
        json!(1.5),
        json!(-0.5),
        json!(""),
        json!(" "),
        json!("x"),
        json!("on"),
        json!("PT1H"),
        json!("5.0.0"),
        json!("2025-01-01T00:00:00Z"),
        json!([]),
        json!(["x"]),
        json!([1]),
        json!({}),
        json!({"x": 1}),
        json!({"attr": "a", "op": "exists"}),
        json!({"segment": "beta"}),
        json!({"split": {"on": 1}}),
        json!({"percentage": 10}),
        json!({"name": "c", "query": "error_rate", "max": 1}),
    ]
}

/// Keys added to maps: unknown ones and ones that belong elsewhere.
const ADDED_KEYS: &[&str] = &[
    "colour",
    "x-extra",
    "Type",
    "offvariant",
    "value",
    "values",
    "segment",
    "op",
    "attr",
    "all",
    "time",
    "stages",
    "over",
    "from",
    "start",
    "timezone",
    "segments",
    "salt",
    "experiment",
    "offVariant",
    "keys",
    "when",
    "name",
    "split",
    "health",
    "metrics",
    "$schema",
    "on",
    "owner",
    "kind",
    "expires",
];

/// Strings put where enums (and other strings) were.
const ENUM_WORDS: &[&str] = &[
    "boolean",
    "string",
    "integer",
    "float",
    "object",
    "Boolean",
    "bool",
    "eq",
    "neq",
    "in",
    "not_in",
    "contains",
    "matches",
    "gt",
    "lte",
    "semver_gt",
    "before",
    "after",
    "exists",
    "not-in",
    "direct",
    "canary",
    "linear",
    "scheduled",
    "segment",
    "gradual",
    "fail",
    "pause",
    "ignore",
    "skip",
    "bogus",
    "release",
    "kill-switch",
    "Release",
    "@alice",
    "2026-03-31",
];

#[derive(Debug, Clone)]
enum Mutation {
    AddKey(prop::sample::Index, usize, usize),
    ChangeType(prop::sample::Index, usize),
    DropKey(prop::sample::Index, prop::sample::Index),
    WrongEnum(prop::sample::Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let n_rep = replacements().len();
    prop_oneof![
        (any::<prop::sample::Index>(), 0..ADDED_KEYS.len(), 0..n_rep)
            .prop_map(|(p, k, v)| Mutation::AddKey(p, k, v)),
        (any::<prop::sample::Index>(), 0..n_rep).prop_map(|(p, v)| Mutation::ChangeType(p, v)),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(p, k)| Mutation::DropKey(p, k)),
        (any::<prop::sample::Index>(), 0..ENUM_WORDS.len())
            .prop_map(|(p, w)| Mutation::WrongEnum(p, w)),
    ]
}

/// Applies a mutation; `false` if it found nothing to apply to.
fn apply(doc: &mut Value, m: &Mutation) -> bool {
    let all = paths(doc);
    match m {
        Mutation::AddKey(p, k, v) => {
            let objects: Vec<_> = all.iter().filter(|p| at_mut(doc, p).is_object()).collect();
            let path = objects[p.index(objects.len())].clone();
            at_mut(doc, &path)
                .as_object_mut()
                .unwrap()
                .insert(ADDED_KEYS[*k].into(), replacements()[*v].clone());
            true
        }
        Mutation::ChangeType(p, v) => {
            let inner: Vec<_> = all.iter().filter(|p| !p.is_empty()).collect();
            if inner.is_empty() {
                return false;
            }
            let path = inner[p.index(inner.len())].clone();
            *at_mut(doc, &path) = replacements()[*v].clone();
            true
        }
        Mutation::DropKey(p, k) => {
            let objects: Vec<_> = all
                .iter()
                .filter(|p| at_mut(doc, p).as_object().is_some_and(|m| !m.is_empty()))
                .collect();
            if objects.is_empty() {
                return false;
            }
            let path = objects[p.index(objects.len())].clone();
            let map = at_mut(doc, &path).as_object_mut().unwrap();
            let key = map.keys().nth(k.index(map.len())).unwrap().clone();
            map.shift_remove(&key);
            true
        }
        Mutation::WrongEnum(p, w) => {
            let strings: Vec<_> = all.iter().filter(|p| at_mut(doc, p).is_string()).collect();
            if strings.is_empty() {
                return false;
            }
            let path = strings[p.index(strings.len())].clone();
            *at_mut(doc, &path) = json!(ENUM_WORDS[*w]);
            true
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    /// Mutated documents: the schema and the model+compiler agree.
    #[test]
    fn mutated_documents_agree(
        seed in prop::sample::select((0..seeds().len()).collect::<Vec<_>>()),
        mutations in prop::collection::vec(mutation(), 1..=3),
    ) {
        let mut doc = seeds()[seed].clone();
        for m in &mutations {
            apply(&mut doc, m);
        }
        let o = json_outcome(&doc);
        prop_assert!(
            o.agreement().is_ok(),
            "{}\n{:#?}\n{}",
            o.agreement().unwrap_err(),
            o,
            serde_json::to_string_pretty(&doc).unwrap()
        );
    }
}

/// A deterministic sweep besides proptest's random one: every value of every
/// seed replaced by null, and every key of every map dropped, one at a time.
/// Both outcomes must occur, or the sweep would prove nothing.
#[test]
fn every_single_null_and_drop_agrees() {
    let (mut accepted, mut rejected) = (0, 0);
    let mut failures = Vec::new();
    for seed in seeds() {
        for path in paths(seed) {
            let mut variants = Vec::new();
            if !path.is_empty() {
                let mut doc = seed.clone();
                *at_mut(&mut doc, &path) = Value::Null;
                variants.push(doc);
            }
            if let Some(Seg::Key(key)) = path.last() {
                let mut doc = seed.clone();
                at_mut(&mut doc, &path[..path.len() - 1])
                    .as_object_mut()
                    .unwrap()
                    .shift_remove(key);
                variants.push(doc);
            }
            for doc in variants {
                let o = json_outcome(&doc);
                if o.schema_accepts() {
                    accepted += 1;
                } else {
                    rejected += 1;
                }
                if let Err(e) = o.agreement() {
                    failures.push(format!(
                        "{e}\n{o:#?}\n{}",
                        serde_json::to_string_pretty(&doc).unwrap()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        accepted > 20 && rejected > 20,
        "accepted {accepted}, rejected {rejected}"
    );
}
