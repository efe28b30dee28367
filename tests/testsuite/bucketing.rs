//! The published bucketing algorithm (docs/flag-format.md §6, Bucketing) against the language-neutral
//! vectors in `tests/data/bucketing-vectors.json`, which an independent Python
//! implementation (`tests/data/check_vectors.py`) produced and checks.
//!
//! Bucket rows are checked through `bucket_for` and through a real canary
//! rollout; split rows through compiled flags evaluated end to end.

use std::path::Path;
use std::process::Command;

use hotswap_flags_core::eval::bucket::{self, BUCKETS, bucket_for};
use hotswap_flags_core::eval::{EvalEnv, FixedRollouts};
use hotswap_flags_core::{Context, Reason};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::support::files::read_json;
use crate::support::rulesets::{compile_json, fixed_env};
use crate::support::{require, require_that};
use hotswap_flags_core::ruleset::Ruleset;

#[derive(Debug, Deserialize)]
struct Vectors {
    buckets: Vec<BucketRow>,
    splits: Vec<SplitRow>,
}

#[derive(Debug, Deserialize)]
struct BucketRow {
    salt: String,
    key: String,
    bucket: u32,
}

#[derive(Debug, Deserialize)]
struct SplitRow {
    salt: String,
    key: String,
    weights: Vec<(String, f64)>,
    bucket: u32,
    variant: String,
}

fn data_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

fn vectors() -> Vectors {
    read_json("tests/data/bucketing-vectors.json")
}

fn ruleset(doc: &Value) -> Ruleset {
    compile_json(doc)
}

fn env(threshold: u32) -> EvalEnv<'static, FixedRollouts> {
    fixed_env("2025-06-01T00:00:00Z", threshold)
}

fn ctx(key: Value) -> Context {
    Context::from_json(json!({ "targetingKey": key })).unwrap()
}

/// Whether `key` is usable as a flag key (same rule as the compiler's).
fn valid_flag_key(key: &str) -> bool {
    key.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && key.len() <= 200
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The JSON number a key reads as when its JSON text is exactly the key
/// (`42`, `1.5`, `-7`), so a numeric `targetingKey` hashes like the string.
fn as_json_number(key: &str) -> Option<Value> {
    let n: serde_json::Number = serde_json::from_str(key).ok()?;
    (n.to_string() == key).then_some(Value::Number(n))
}

#[test]
fn the_table_is_big_and_varied_enough() {
    let v = vectors();
    assert!(v.buckets.len() >= 50, "{} bucket rows", v.buckets.len());
    assert!(v.splits.len() >= 8, "{} split rows", v.splits.len());
    let long = |salt: &str, key: &str| salt.len() + 1 + key.len() > 256;
    assert!(v.buckets.iter().any(|r| long(&r.salt, &r.key)));
    assert!(v.buckets.iter().any(|r| r.key.is_empty()));
    assert!(v.buckets.iter().any(|r| r.salt.ends_with(":rollout")));
    assert!(v.buckets.iter().any(|r| !r.key.is_ascii()));
    assert!(
        v.buckets
            .iter()
            .any(|r| r.key.chars().any(|c| c as u32 > 0xFFFF))
    );
    assert!(v.buckets.iter().any(|r| r.key.parse::<f64>().is_ok()));
    assert!(v.splits.iter().any(|r| r.weights.len() >= 3));
    assert!(
        v.splits
            .iter()
            .any(|r| r.weights.iter().any(|w| w.1 == 0.0))
    );
    assert!(
        v.splits
            .iter()
            .any(|r| r.weights.iter().any(|w| w.1.fract() != 0.0))
    );
    assert!(v.splits.iter().any(|r| long(&r.salt, &r.key)));
    // Buckets spread over the whole range (a constant implementation fails).
    let distinct: std::collections::HashSet<u32> = v.buckets.iter().map(|r| r.bucket).collect();
    assert!(distinct.len() > v.buckets.len() * 9 / 10);
    assert!(v.buckets.iter().all(|r| r.bucket < BUCKETS));
}

#[test]
fn bucket_rows_match_bucket_for() {
    let mut mismatches = Vec::new();
    for (i, row) in vectors().buckets.iter().enumerate() {
        let got = bucket_for(&row.salt, &row.key);
        if got != row.bucket {
            mismatches.push(format!(
                "buckets[{i}] salt={:?} key={:?}: expected {}, got {got}",
                row.salt,
                row.key.chars().take(40).collect::<String>(),
                row.bucket
            ));
        }
        // The evaluator's entry point (precomputed prefix) agrees too.
        let prefix = bucket::salt_prefix(&row.salt);
        assert_eq!(bucket::bucket(prefix.as_bytes(), row.key.as_bytes()), got);
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// A boolean flag whose canary rollout (default salt) serves `on`.
fn canary_to_on() -> Value {
    json!({
        "type": "boolean",
        "variants": {"on": true, "off": false},
        "default": "off",
        "rollout": {
            "strategy": "canary",
            "serve": "on",
            "stages": [{"percentage": 10, "duration": "1h"}, {"percentage": 100}]
        }
    })
}

/// Each bucket row as rollout membership: a canary with `rollout.salt` set to
/// the row's salt puts the key outside at threshold `bucket` and inside at
/// `bucket + 1` (inside iff bucket < threshold).
#[test]
fn bucket_rows_decide_rollout_membership() {
    for (i, row) in vectors().buckets.iter().enumerate() {
        if row.salt.is_empty() {
            continue; // files reject empty salts
        }
        let mut flags = Map::new();
        let mut probe = canary_to_on();
        probe["rollout"]["salt"] = json!(row.salt);
        flags.insert("probe".into(), probe);
        // `<flag>:rollout` is the default salt: the same flag without `salt`.
        let default_salted = row
            .salt
            .strip_suffix(":rollout")
            .filter(|f| valid_flag_key(f) && *f != "probe");
        if let Some(flag) = default_salted {
            flags.insert(flag.into(), canary_to_on());
        }
        let rs = ruleset(&json!({ "flags": flags }));
        let c = ctx(json!(row.key));
        for flag in std::iter::once("probe").chain(default_salted) {
            let at = rs.evaluate(flag, &c, &env(row.bucket)).unwrap();
            assert_eq!(
                (at.variant_name(), at.reason),
                ("off", Reason::Default),
                "buckets[{i}] {flag}: at threshold {} the key must be outside",
                row.bucket
            );
            assert_eq!(at.rollout.unwrap().bucket, Some(row.bucket), "buckets[{i}]");
            let above = rs.evaluate(flag, &c, &env(row.bucket + 1)).unwrap();
            assert_eq!(
                (above.variant_name(), above.reason),
                ("on", Reason::Rollout),
                "buckets[{i}] {flag}: at threshold {} the key must be inside",
                row.bucket + 1
            );
        }
    }
}

/// An object with a member per variant of `row`, in its order.
fn by_variant(row: &SplitRow, value: impl Fn(&str, f64) -> Value) -> Map<String, Value> {
    row.weights
        .iter()
        .map(|(name, w)| (name.clone(), value(name, *w)))
        .collect()
}

fn split_serve(row: &SplitRow, salt: Option<&str>) -> Value {
    let weights = by_variant(row, |_, w| json!(w));
    match salt {
        Some(salt) => json!({ "split": weights, "salt": salt }),
        None => json!({ "split": weights }),
    }
}

fn split_flag(row: &SplitRow, salt: Option<&str>) -> Value {
    let variants = by_variant(row, |name, _| json!(name));
    json!({
        "type": "string",
        "variants": variants,
        "offVariant": row.weights[0].0,
        "default": split_serve(row, salt),
        "rules": [{
            "name": "vip",
            "when": {"attr": "tier", "op": "eq", "value": "vip"},
            "serve": split_serve(row, salt)
        }]
    })
}

#[test]
fn split_rows_match_compiled_flags() {
    let mut mismatches = Vec::new();
    for (i, row) in vectors().splits.iter().enumerate() {
        assert_eq!(
            bucket_for(&row.salt, &row.key),
            row.bucket,
            "splits[{i}] bucket"
        );
        let mut flags = Map::new();
        // A custom salt on a flag of another name.
        flags.insert("split-probe".into(), split_flag(row, Some(&row.salt)));
        // The default salt: a flag named like the salt.
        let default_salted = valid_flag_key(&row.salt) && row.salt != "split-probe";
        if default_salted {
            flags.insert(row.salt.clone(), split_flag(row, None));
        }
        let rs = ruleset(&json!({ "flags": flags }));
        let mut keys = vec![json!(row.key)];
        keys.extend(as_json_number(&row.key));
        let names = std::iter::once("split-probe").chain(default_salted.then_some(&*row.salt));
        for flag in names {
            for key in &keys {
                for tier in ["basic", "vip"] {
                    let c = Context::from_json(json!({"targetingKey": key, "tier": tier})).unwrap();
                    let ev = rs.evaluate(flag, &c, &env(0)).unwrap();
                    let expected_rule = (tier == "vip").then_some("vip");
                    if ev.variant_name() != row.variant
                        || ev.split_bucket != Some(row.bucket)
                        || ev.reason != Reason::Split
                        || ev.rule_name() != expected_rule
                        || ev.value() != &json!(row.variant)
                    {
                        mismatches.push(format!(
                            "splits[{i}] flag {flag} key {key} tier {tier}: expected bucket {} → {}, got {:?} → {} ({}, rule {:?})",
                            row.bucket,
                            row.variant,
                            ev.split_bucket,
                            ev.variant_name(),
                            ev.reason,
                            ev.rule_name()
                        ));
                    }
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// The split ranges of each vector's weights, computed from the compiled
/// flag: contiguous, starting at 0, ending at 100000, zero weights empty.
#[test]
fn split_ranges_partition_the_buckets() {
    for (i, row) in vectors().splits.iter().enumerate() {
        let rs = ruleset(&json!({ "flags": { "f": split_flag(row, Some(&row.salt)) } }));
        let flag = rs.flag(rs.flag_id("f").unwrap());
        let hotswap_flags_core::ruleset::CompiledServe::Split(split) = &flag.default else {
            panic!("splits[{i}]: default is not a split");
        };
        let uppers: Vec<u32> = split.slots.iter().map(|s| s.upper).collect();
        assert_eq!(uppers.last(), Some(&BUCKETS), "splits[{i}]: {uppers:?}");
        assert!(
            uppers.windows(2).all(|w| w[0] <= w[1]),
            "splits[{i}]: {uppers:?}"
        );
        let mut lower = 0;
        for (slot, (name, weight)) in split.slots.iter().zip(&row.weights) {
            if *weight == 0.0 {
                assert_eq!(
                    slot.upper, lower,
                    "splits[{i}]: zero weight {name} owns buckets"
                );
            }
            // The owner of each range's first bucket is that range's variant.
            if slot.upper > lower {
                assert_eq!(&*flag.variant(split.pick(lower)).name, name, "splits[{i}]");
                assert_eq!(
                    &*flag.variant(split.pick(slot.upper - 1)).name,
                    name,
                    "splits[{i}]"
                );
            }
            lower = slot.upper;
        }
    }
}

/// The vectors agree with the independent Python implementation.
#[test]
fn python_reference_implementation_agrees() {
    let Some(python) = require("python3") else {
        return;
    };
    let has_xxhash = Command::new(&python)
        .args(["-c", "import xxhash"])
        .output()
        .is_ok_and(|out| out.status.success());
    let Some(()) = require_that(
        has_xxhash,
        "python3 has no `xxhash` module (pip install xxhash; scripts/test.sh does)",
    ) else {
        return;
    };
    let out = Command::new(&python)
        .arg(data_dir().join("check_vectors.py"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "check_vectors.py failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("ok:"), "unexpected output: {stdout}");
}
