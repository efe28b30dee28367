//! The bucketing modes (docs/flag-format.md §6, "Bucketing modes") against
//! the real Node implementations of flagd's `fractional` and Unleash:
//!
//! - the committed vectors `tests/data/bucketing-vectors-<mode>.json`,
//!   which `tests/bucketing/vectors.mjs` wrote from those implementations,
//!   evaluated through compiled flags (no Node needed);
//! - thousands of random keys sent to `tests/bucketing/oracle.mjs`, each
//!   decision compared with ours (Node and `npm ci` in tests/bucketing
//!   needed; skipped loudly without them, failed under `CI`).

use std::collections::BTreeMap;
use std::path::Path;

use hotswap_flags_core::eval::bucket::{BucketingMode, UNLEASH_VARIANT_SEED, murmur3, threshold};
use hotswap_flags_core::eval::{EvalEnv, FixedRollouts};
use hotswap_flags_core::{Context, Reason};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::support::files::read_json;
use crate::support::rulesets::{compile_json, fixed_env};
use crate::support::{require, require_that};
use hotswap_flags_core::ruleset::Ruleset;

const MODES: [BucketingMode; 3] = [
    BucketingMode::FlagdV1,
    BucketingMode::FlagdV2,
    BucketingMode::Unleash,
];

/// What the Node implementations decided (tests/bucketing/modes.mjs).
#[derive(Debug, Deserialize)]
struct Answers {
    mode: String,
    splits: Vec<SplitRow>,
    rollouts: Vec<RolloutRow>,
}

#[derive(Debug, Clone, Deserialize)]
struct SplitRow {
    flag: String,
    salt: Option<String>,
    key: String,
    weights: Vec<(String, u64)>,
    hash: u32,
    /// `(default)` where the tool found no variant.
    variant: String,
}

#[derive(Debug, Clone, Deserialize)]
struct RolloutRow {
    flag: String,
    salt: Option<String>,
    key: String,
    percentage: f64,
    hash: u32,
    inside: bool,
}

/// A request to the oracle: cases, each with its keys.
#[derive(Debug, Serialize)]
struct Request {
    mode: &'static str,
    splits: Vec<SplitCase>,
    rollouts: Vec<RolloutCase>,
}

#[derive(Debug, Serialize)]
struct SplitCase {
    flag: String,
    salt: Option<String>,
    weights: Vec<(String, u64)>,
    keys: Vec<String>,
}

#[derive(Debug, Serialize)]
struct RolloutCase {
    flag: String,
    salt: Option<String>,
    percentage: f64,
    keys: Vec<String>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn vectors(mode: BucketingMode) -> Answers {
    let answers: Answers = read_json(&format!("tests/data/bucketing-vectors-{mode}.json"));
    assert_eq!(answers.mode, mode.as_str(), "vectors of {mode}");
    answers
}

fn ruleset(flags: Map<String, Value>) -> Ruleset {
    compile_json(&json!({ "flags": flags }))
}

fn env(threshold: u32) -> EvalEnv<'static, FixedRollouts> {
    fixed_env("2026-06-01T00:00:00Z", threshold)
}

/// A string flag named `flag` whose default is a split over `weights`.
fn split_flag(mode: BucketingMode, salt: Option<&str>, weights: &[(String, u64)]) -> Value {
    let variants: Map<String, Value> = weights.iter().map(|(n, _)| (n.clone(), json!(n))).collect();
    let split: Map<String, Value> = weights.iter().map(|(n, w)| (n.clone(), json!(w))).collect();
    let mut default = json!({ "split": split });
    if let Some(salt) = salt {
        default["salt"] = json!(salt);
    }
    json!({
        "type": "string",
        "bucketing": mode.as_str(),
        "variants": variants,
        "offVariant": weights[0].0,
        "default": default,
    })
}

/// A boolean flag whose canary rollout serves `on`.
fn rollout_flag(mode: BucketingMode, salt: Option<&str>) -> Value {
    let mut rollout = json!({
        "strategy": "canary",
        "serve": "on",
        "stages": [{"percentage": 10, "duration": "1h"}, {"percentage": 100}]
    });
    if let Some(salt) = salt {
        rollout["salt"] = json!(salt);
    }
    json!({
        "type": "boolean",
        "bucketing": mode.as_str(),
        "variants": {"on": true, "off": false},
        "default": "off",
        "rollout": rollout,
    })
}

/// The keys a context may carry for `key`: the string, and the number when
/// the key is a number's JSON form (numbers hash as their JSON text).
fn contexts(key: &str) -> Vec<Context> {
    let mut values = vec![json!(key)];
    if let Ok(n) = serde_json::from_str::<serde_json::Number>(key)
        && n.to_string() == key
    {
        values.push(Value::Number(n));
    }
    values
        .into_iter()
        .map(|v| Context::from_json(json!({ "targetingKey": v })).unwrap())
        .collect()
}

/// The string hashed, as docs/flag-format.md §6 gives it per mode.
fn hashed(mode: BucketingMode, salt: &str, key: &str) -> String {
    match mode {
        BucketingMode::Unleash | BucketingMode::Xxh3 => format!("{salt}:{key}"),
        BucketingMode::FlagdV1 | BucketingMode::FlagdV2 => format!("{salt}{key}"),
    }
}

/// Every row of `answers` evaluated through compiled flags: the mismatches.
fn mismatches(mode: BucketingMode, answers: &Answers) -> Vec<String> {
    let mut out = Vec::new();
    // One ruleset per case: two cases may share a flag key.
    let mut split_cases: BTreeMap<String, Vec<&SplitRow>> = BTreeMap::new();
    for row in &answers.splits {
        let case = serde_json::to_string(&(&row.flag, &row.salt, &row.weights)).unwrap();
        split_cases.entry(case).or_default().push(row);
    }
    for rows in split_cases.values() {
        let first = rows[0];
        let mut flags = Map::new();
        let flag = split_flag(mode, first.salt.as_deref(), &first.weights);
        flags.insert(first.flag.clone(), flag);
        let rs = ruleset(flags);
        let total: u64 = first.weights.iter().map(|(_, w)| w).sum();
        for row in rows {
            let salt = row.salt.as_deref().unwrap_or(&row.flag);
            let seed = if mode == BucketingMode::Unleash {
                UNLEASH_VARIANT_SEED
            } else {
                0
            };
            let text = hashed(mode, salt, &row.key);
            if murmur3(text.as_bytes(), b"", seed) != row.hash {
                out.push(format!(
                    "{mode} split hash of {text:?}: Node says {}",
                    row.hash
                ));
            }
            let expected_bucket = match mode {
                BucketingMode::FlagdV2 => ((u64::from(row.hash) * total) >> 32) as u32,
                BucketingMode::FlagdV1 => (row.hash as i32).unsigned_abs(),
                _ => (u64::from(row.hash) % total) as u32,
            };
            for ctx in contexts(&row.key) {
                let ev = rs.evaluate(&row.flag, &ctx, &env(0)).unwrap();
                // flagd finding no variant falls back to its default
                // variant; a split has none, and serves its last variant of
                // positive weight (docs/flag-format.md §6).
                let ok = ev.reason == Reason::Split
                    && ev.split_bucket == Some(expected_bucket)
                    && (ev.variant_name() == row.variant
                        || (row.variant == "(default)"
                            && Some(ev.variant_name())
                                == row.weights.iter().rev().find(|w| w.1 > 0).map(|w| &*w.0)));
                if !ok {
                    out.push(format!(
                        "{mode} split {} salt {:?} {:?} key {:?}: Node serves {}, we serve {} (bucket {:?}, expected {expected_bucket})",
                        row.flag,
                        row.salt,
                        row.weights,
                        row.key,
                        row.variant,
                        ev.variant_name(),
                        ev.split_bucket
                    ));
                }
            }
        }
    }
    let mut rollout_cases: BTreeMap<String, Vec<&RolloutRow>> = BTreeMap::new();
    for row in &answers.rollouts {
        let case = serde_json::to_string(&(&row.flag, &row.salt)).unwrap();
        rollout_cases.entry(case).or_default().push(row);
    }
    for rows in rollout_cases.values() {
        let first = rows[0];
        let mut flags = Map::new();
        flags.insert(
            first.flag.clone(),
            rollout_flag(mode, first.salt.as_deref()),
        );
        let rs = ruleset(flags);
        for row in rows {
            let salt = row.salt.as_deref().unwrap_or(&row.flag);
            let text = hashed(mode, salt, &row.key);
            if murmur3(text.as_bytes(), b"", 0) != row.hash {
                out.push(format!(
                    "{mode} rollout hash of {text:?}: Node says {}",
                    row.hash
                ));
            }
            let at = env(threshold(row.percentage));
            for ctx in contexts(&row.key) {
                let ev = rs.evaluate(&row.flag, &ctx, &at).unwrap();
                let inside = ev.reason == Reason::Rollout;
                let outcome = ev.rollout.unwrap();
                if inside != row.inside
                    || outcome
                        .bucket
                        .is_none_or(|b| (b < outcome.position.threshold) != inside)
                {
                    out.push(format!(
                        "{mode} rollout {} salt {:?} at {}% key {:?}: Node says inside={}, we say {inside} (bucket {:?})",
                        row.flag, row.salt, row.percentage, row.key, row.inside, outcome.bucket
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn committed_vectors_are_big_and_varied_enough() {
    for mode in MODES {
        let v = vectors(mode);
        assert!(
            v.splits.len() >= 150,
            "{mode}: {} split rows",
            v.splits.len()
        );
        assert!(
            v.rollouts.len() >= 200,
            "{mode}: {} rollout rows",
            v.rollouts.len()
        );
        assert!(v.splits.iter().any(|r| r.salt.is_some()), "{mode}");
        assert!(v.rollouts.iter().any(|r| r.salt.is_some()), "{mode}");
        assert!(v.splits.iter().any(|r| r.key.len() > 256), "{mode}");
        assert!(v.splits.iter().any(|r| !r.key.is_ascii()), "{mode}");
        assert!(
            v.splits
                .iter()
                .any(|r| r.key.chars().any(|c| c as u32 > 0xFFFF)),
            "{mode}"
        );
        assert!(v.splits.iter().any(|r| r.weights.len() >= 3), "{mode}");
        assert!(
            v.splits.iter().any(|r| r.weights.iter().any(|w| w.1 == 0)),
            "{mode}"
        );
        assert!(
            v.rollouts.iter().any(|r| r.percentage.fract() != 0.0),
            "{mode}"
        );
        // Both outcomes occur, for splits and rollouts alike.
        let variants: std::collections::HashSet<&str> =
            v.splits.iter().map(|r| &*r.variant).collect();
        assert!(variants.len() >= 6, "{mode}: {variants:?}");
        assert!(v.rollouts.iter().any(|r| r.inside) && v.rollouts.iter().any(|r| !r.inside));
    }
}

#[test]
fn committed_vectors_match_the_evaluator() {
    for mode in MODES {
        let found = mismatches(mode, &vectors(mode));
        assert!(found.is_empty(), "{} mismatches: {found:#?}", found.len());
    }
}

/// Random keys: mostly ASCII, some Latin, CJK and emoji, 1 to 80 characters.
fn random_keys(rng: &mut StdRng, n: usize) -> Vec<String> {
    const ALPHABET: &str =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@+/ !~éüßçЖ日本語🙂🚀";
    let chars: Vec<char> = ALPHABET.chars().collect();
    (0..n)
        .map(|i| {
            if i % 10 == 0 {
                return format!("user-{}", rng.random_range(0..10_000_000u32));
            }
            let len = rng.random_range(1..=80usize);
            (0..len)
                .map(|_| chars[rng.random_range(0..chars.len())])
                .collect()
        })
        .collect()
}

/// The weight sets and percentages the differential test asks about.
fn request(mode: BucketingMode, keys: &[String]) -> Request {
    let w = |pairs: &[(&str, u64)]| -> Vec<(String, u64)> {
        pairs.iter().map(|(n, w)| ((*n).to_owned(), *w)).collect()
    };
    let weight_sets = [
        w(&[("on", 50), ("off", 50)]),
        w(&[("a", 1), ("b", 2), ("c", 3), ("d", 0), ("e", 94)]),
        w(&[("rare", 1), ("common", 999)]),
        w(&[("x", 7), ("y", 13)]),
        w(&[("a", 333), ("b", 333), ("c", 334)]),
        w(&[
            ("a", 1_000_000_000),
            ("b", 1_000_000_000),
            ("c", 147_483_647),
        ]),
    ];
    let mut splits: Vec<SplitCase> = weight_sets
        .iter()
        .enumerate()
        .map(|(i, weights)| SplitCase {
            flag: format!("split-{i}"),
            salt: None,
            weights: weights.clone(),
            keys: keys.to_vec(),
        })
        .collect();
    splits.push(SplitCase {
        flag: "salted".into(),
        salt: Some("experiment-2026-q3".into()),
        weights: weight_sets[4].clone(),
        keys: keys.to_vec(),
    });
    let rollouts = [0.5, 5.0, 10.0, 25.0, 33.333, 50.0, 75.0, 99.999, 100.0]
        .into_iter()
        .enumerate()
        .map(|(i, percentage)| RolloutCase {
            flag: "rollout".into(),
            salt: (i % 3 == 1).then(|| "rollout-salt".into()),
            percentage,
            keys: keys.to_vec(),
        })
        .collect();
    Request {
        mode: mode.as_str(),
        splits,
        rollouts,
    }
}

#[test]
fn node_implementations_agree_on_random_keys() {
    let Some(node) = require("node") else {
        return;
    };
    let dir = root().join("tests/bucketing");
    let installed = ["@openfeature/flagd-core", "unleash-client"]
        .iter()
        .all(|p| dir.join("node_modules").join(p).is_dir());
    let Some(()) = require_that(
        installed,
        "tests/bucketing has no node_modules (run `npm ci` there; scripts/test.sh does)",
    ) else {
        return;
    };
    let mut rng = StdRng::seed_from_u64(0xB0C4_E7ED);
    let keys = random_keys(&mut rng, 1_200);
    for mode in MODES {
        let request = serde_json::to_value(request(mode, &keys)).unwrap();
        let stdout = crate::support::node::answer(&node, &dir, "oracle.mjs", &request);
        let answers: Answers = serde_json::from_slice(&stdout).unwrap();
        assert_eq!(answers.splits.len(), 7 * keys.len(), "{mode}");
        assert_eq!(answers.rollouts.len(), 9 * keys.len(), "{mode}");
        let found = mismatches(mode, &answers);
        assert!(
            found.is_empty(),
            "{mode}: {} of {} decisions differ; the first: {:#?}",
            found.len(),
            answers.splits.len() + answers.rollouts.len(),
            &found[..found.len().min(10)]
        );
    }
}

/// What each mode hashes (docs/flag-format.md §6, Bucketing modes): flagd
/// `flagKey + key` and Unleash `flagKey:key`, for the split and the rollout
/// alike; Unleash reads an empty key as none, xxh3 and flagd hash it.
#[test]
fn modes_hash_the_documented_strings() {
    let mut flags = Map::new();
    for mode in BucketingMode::ALL {
        let mut flag = rollout_flag(mode, None);
        flag["rules"] = json!([{
            "name": "split",
            "when": {"attr": "split", "op": "exists"},
            "serve": {"split": {"on": 1, "off": 3}}
        }]);
        flags.insert(format!("f-{mode}"), flag);
    }
    let rs = ruleset(flags);
    let at = env(threshold(10.0));
    for key in ["user-1", "u-2", "", "🙂"] {
        let plain = Context::from_json(json!({ "targetingKey": key })).unwrap();
        let split = Context::from_json(json!({ "targetingKey": key, "split": true })).unwrap();
        for mode in MODES {
            let flag = format!("f-{mode}");
            let text = hashed(mode, &flag, key);
            let rollout = rs.evaluate(&flag, &plain, &at).unwrap().rollout.unwrap();
            let split = rs.evaluate(&flag, &split, &at);
            if mode == BucketingMode::Unleash && key.is_empty() {
                assert_eq!(rollout.bucket, None, "{mode}");
                assert_eq!(split.unwrap_err().code(), "TARGETING_KEY_MISSING");
                continue;
            }
            let rollout_hash = murmur3(text.as_bytes(), b"", 0);
            let split_seed = if mode == BucketingMode::Unleash {
                UNLEASH_VARIANT_SEED
            } else {
                0
            };
            let split_hash = murmur3(text.as_bytes(), b"", split_seed);
            let (expected_rollout, expected_split) = match mode {
                BucketingMode::FlagdV2 => (
                    ((u64::from(rollout_hash) * 100_000) >> 32) as u32,
                    ((u64::from(split_hash) * 4) >> 32) as u32,
                ),
                BucketingMode::FlagdV1 => {
                    let p = f64::from((rollout_hash as i32).unsigned_abs()) / f64::from(i32::MAX)
                        * 100.0;
                    let b = (0..=100_000u32)
                        .rev()
                        .find(|t| 100.0 * f64::from(*t) / 100_000.0 <= p)
                        .unwrap();
                    (b, (split_hash as i32).unsigned_abs())
                }
                _ => ((rollout_hash % 100 + 1) * 1000 - 1, split_hash % 4),
            };
            assert_eq!(rollout.bucket, Some(expected_rollout), "{mode} {key:?}");
            assert_eq!(
                split.unwrap().split_bucket,
                Some(expected_split),
                "{mode} {key:?}"
            );
        }
        // Ours hashes `<flag>:rollout:key` and `<flag>:key`, the empty key too.
        let xxh3 = rs.evaluate("f-xxh3", &plain, &at).unwrap().rollout.unwrap();
        let expected = hotswap_flags_core::eval::bucket::bucket_for("f-xxh3:rollout", key);
        assert_eq!(xxh3.bucket, Some(expected), "{key:?}");
    }
}
