//! What the fuzz targets check, shared with `tests/testsuite/fuzz_props.rs` (which
//! includes this file with `#[path]`), so the libFuzzer targets and the
//! proptest versions in the regular test suite exercise exactly the same
//! code and the same invariants.
//!
//! Everything here must only use crates the main package also has
//! (`hotswap_flags`, `serde_json`, `jiff`): the test suite compiles this file
//! as one of its modules.

use std::path::Path;

use hotswap_flags_core::bundle::{Bundle, BundleError, content_hash};
use hotswap_flags_core::eval::{EvalEnv, FixedRollouts};
use hotswap_flags_core::model::MetricsConfig;
use hotswap_flags_core::repo::load::load_files;
use hotswap_flags_core::repo::parse_config;
use hotswap_flags_core::ruleset::{Ruleset, RulesetMeta};
use hotswap_flags_core::{Context, EvalError, Repository};
use jiff::Timestamp;
use serde_json::Value;

/// The synthetic ruleset: every operator, segments, every rollout strategy.
pub const SYNTHETIC_YAML: &str = include_str!("../synthetic.yaml");

/// The file names a flag-file input is read as, chosen by its first byte.
/// The fourth is `flags.toml`, the repository configuration.
pub const FLAG_FILE_NAMES: [&str; 4] = ["fuzz.yaml", "fuzz.json", "fuzz.toml", "flags.toml"];

fn meta() -> RulesetMeta {
    RulesetMeta {
        env: "fuzz".into(),
        version: "fuzz".into(),
        source: "fuzz".into(),
    }
}

/// Target `flag_files`: the first byte picks the format (YAML, JSON, TOML,
/// or `flags.toml`), the rest is the file. Reading and compiling must end
/// in a ruleset or in findings — never a panic — and:
///
/// - every finding renders;
/// - a ruleset that compiled evaluates every flag for a few contexts, and
///   each answer is one of the flag's variants (or `TARGETING_KEY_MISSING`);
/// - a ruleset that compiled survives flagd's bundle round trip (model →
///   JSON → parse → recompile) with the same flags and the same answers,
///   since flagd serves bundles and its last-good copy that way.
pub fn flag_file(data: &[u8]) {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let name = FLAG_FILE_NAMES[usize::from(selector) % FLAG_FILE_NAMES.len()];
    if name == "flags.toml" {
        let (_config, diagnostics) = parse_config(text);
        for d in &diagnostics {
            let _ = d.to_string();
        }
        return;
    }
    let loaded = load_files([(name.to_owned(), text.to_vec())]);
    let checked = loaded.check(&MetricsConfig::default(), meta());
    for d in &checked.diagnostics {
        let _ = d.to_string();
    }
    let Some(ruleset) = checked.ruleset else {
        return;
    };
    let contexts = sample_contexts();
    check_answers(&ruleset, &contexts);

    let bundle = Bundle::of_ruleset(&ruleset)
        .unwrap_or_else(|e| panic!("a compiled ruleset's definitions do not read back: {e}"));
    let bytes = bundle.to_bytes();
    let back = match Bundle::parse(&bytes) {
        Ok(b) => b,
        Err(e) => panic!(
            "a compiled ruleset's bundle does not parse: {e}\n{}",
            String::from_utf8_lossy(&bytes)
        ),
    };
    let recompiled = match back.compile("fuzz") {
        Ok(r) => r,
        Err(e) => panic!(
            "a compiled ruleset's bundle does not compile: {e}\n{}",
            String::from_utf8_lossy(&bytes)
        ),
    };
    assert_eq!(recompiled.flags().len(), ruleset.flags().len());
    let env = env_at(Timestamp::UNIX_EPOCH, 50_000);
    for ctx in &contexts {
        for flag in ruleset.flags() {
            let a = ruleset
                .evaluate(&flag.key, ctx, &env)
                .map(|e| e.value().clone());
            let b = recompiled
                .evaluate(&flag.key, ctx, &env)
                .map(|e| e.value().clone());
            assert_eq!(
                a, b,
                "flag `{}` answers differently after a bundle round trip",
                flag.key
            );
        }
    }
}

/// A few contexts that reach rules, splits and rollouts.
fn sample_contexts() -> Vec<Context> {
    [
        serde_json::json!({}),
        serde_json::json!({"targetingKey": "user-1", "country": "DE", "email": "a@example.com"}),
        serde_json::json!({"userId": 42, "plan": "enterprise", "version": "2.4.0", "n": 1.5}),
    ]
    .into_iter()
    .filter_map(|v| Context::from_json(v).ok())
    .collect()
}

fn env_at(now: Timestamp, threshold: u32) -> EvalEnv<'static, FixedRollouts> {
    // One leaked cell per distinct threshold would grow without bound under
    // a fuzzer; thresholds are therefore taken from a fixed table.
    static TABLE: [FixedRollouts; 5] = [
        FixedRollouts(0),
        FixedRollouts(1),
        FixedRollouts(50_000),
        FixedRollouts(99_999),
        FixedRollouts(100_000),
    ];
    let rollouts = TABLE
        .iter()
        .min_by_key(|r| r.0.abs_diff(threshold))
        .unwrap_or(&TABLE[0]);
    EvalEnv { now, rollouts }
}

/// Evaluates every flag of `ruleset` for each context at a few times and
/// rollout positions, asserting the evaluation contract.
fn check_answers(ruleset: &Ruleset, contexts: &[Context]) {
    let times = [
        Timestamp::UNIX_EPOCH,
        Timestamp::from_second(1_767_225_600).unwrap_or(Timestamp::UNIX_EPOCH),
        Timestamp::MAX,
    ];
    for (i, now) in times.into_iter().enumerate() {
        let env = env_at(now, [0, 50_000, 100_000][i]);
        for ctx in contexts {
            for flag in ruleset.flags() {
                match ruleset.evaluate(&flag.key, ctx, &env) {
                    Ok(ev) => {
                        assert!(
                            flag.variants.iter().any(|v| &v.value == ev.value()),
                            "flag `{}` served a value that is none of its variants",
                            flag.key
                        );
                        assert!(!ev.detail().to_string().is_empty());
                        // Evaluation is a pure function of its inputs.
                        let again = ruleset.evaluate(&flag.key, ctx, &env).map(|e| e.variant);
                        assert_eq!(again, Ok(ev.variant));
                    }
                    Err(EvalError::TargetingKeyMissing) => {}
                    Err(e) => panic!("flag `{}`: unexpected error {e}", flag.key),
                }
            }
            assert_eq!(
                ruleset.evaluate("\u{0}no such flag", ctx, &env).err(),
                Some(EvalError::FlagNotFound)
            );
        }
    }
}

/// The rulesets the `contexts` target evaluates against.
pub struct Rulesets(Vec<Ruleset>);

impl Rulesets {
    /// Both environments of `flags-example` (at `example_root`) and the
    /// synthetic ruleset. Panics if any of them does not compile: that is
    /// a broken harness, not a finding.
    pub fn load(example_root: &Path) -> Rulesets {
        let repo = Repository::open(example_root).expect("flags-example opens");
        let mut rulesets: Vec<Ruleset> = ["staging", "production"]
            .into_iter()
            .map(|env| repo.ruleset(env).expect("flags-example compiles"))
            .collect();
        let checked = load_files([(
            "synthetic.yaml".to_owned(),
            SYNTHETIC_YAML.as_bytes().to_vec(),
        )])
        .check(&MetricsConfig::default(), meta());
        let errors: Vec<String> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(ToString::to_string)
            .collect();
        assert!(
            errors.is_empty(),
            "synthetic.yaml does not compile: {errors:#?}"
        );
        rulesets.extend(checked.ruleset);
        Rulesets(rulesets)
    }
}

/// Target `contexts`: the bytes are an evaluation request body as flagd
/// receives it — JSON, either the context itself or `{"context": …}`. Input
/// that is not JSON or not a usable context is refused up front (as flagd
/// answers 400); any context that is accepted must evaluate every flag of
/// every ruleset without a panic, to one of the flag's variants or to
/// `TARGETING_KEY_MISSING`.
pub fn contexts(rulesets: &Rulesets, data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let value = match value {
        Value::Object(mut map) if map.contains_key("context") => {
            map.remove("context").unwrap_or(Value::Null)
        }
        other => other,
    };
    let Ok(ctx) = Context::from_json(value) else {
        return;
    };
    for ruleset in &rulesets.0 {
        check_answers(ruleset, std::slice::from_ref(&ctx));
    }
}

/// Target `bundle`: arbitrary bytes as a bundle file (what flagd pulls).
/// Parsing must refuse or accept without a panic, and an accepted bundle
/// must compile or be refused with findings.
///
/// The content hash is no secret — anyone can make content and hash agree
/// — so a bundle refused only for its hash is re-hashed and tried again:
/// what matters is what compiling does with *any* content. Re-hashing must
/// make it acceptable (serialization round-trips).
pub fn bundle(data: &[u8]) {
    let bundle = match Bundle::parse(data) {
        Ok(b) => b,
        Err(BundleError::HashMismatch { .. }) => {
            let Ok(mut b) = serde_json::from_slice::<Bundle>(data) else {
                return;
            };
            b.content_hash = content_hash(&b.content);
            match Bundle::parse(&b.to_bytes()) {
                Ok(b) => b,
                Err(e) => panic!("a re-hashed bundle is refused: {e}"),
            }
        }
        Err(_) => return,
    };
    if let Ok(ruleset) = bundle.compile("fuzz") {
        check_answers(&ruleset, &sample_contexts());
    }
}
