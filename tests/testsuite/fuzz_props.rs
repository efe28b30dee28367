//! The fuzz targets of `fuzz/` as property tests, so the regular test suite
//! (and CI, on stable Rust) runs the same harness and the same invariants
//! that libFuzzer runs for hours (see fuzz/README.md):
//!
//! - `flag_files`: bytes as a YAML, JSON or TOML flag file, or as
//!   `flags.toml` → load → compile → evaluate → bundle round trip;
//! - `contexts`: bytes as an evaluation request body → context → every
//!   flag of flags-example (both environments) and of the synthetic ruleset;
//! - `bundle`: bytes as a bundle → parse → compile → evaluate.
//!
//! Where tests/testsuite/properties.rs generates well-formed documents and contexts,
//! these feed bytes: mostly real files mutated the way a fuzzer mutates them
//! (inserted tokens, deletions, splices, truncation), some purely random.
//! Inputs the fuzzers once crashed on are replayed first.
//!
//! `PROPTEST_CASES` raises the case counts for a longer soak.

#[path = "../../fuzz/src/lib.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use crate::support::props::cases;
use proptest::prelude::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Real flag files and configurations, each with its selector byte in front
/// (as the `flag_files` target reads them): flags-example, the invalid
/// corpus, the synthetic ruleset.
static FLAG_FILE_SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mut paths = Vec::new();
    files_under(&root().join("flags-example"), &mut paths);
    files_under(&root().join("tests/data/invalid"), &mut paths);
    paths.push(root().join("fuzz/synthetic.yaml"));
    paths.sort();
    let seeds: Vec<Vec<u8>> = paths
        .iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            let selector = if name == "flags.toml" {
                3
            } else {
                match p.extension()?.to_str()? {
                    "yaml" | "yml" => 0,
                    "json" => 1,
                    "toml" => 2,
                    _ => return None,
                }
            };
            let mut bytes = vec![selector];
            bytes.extend(std::fs::read(p).ok()?);
            Some(bytes)
        })
        .collect();
    assert!(
        seeds.len() > 50,
        "seed files not found under {}",
        root().display()
    );
    seeds
});

static RULESETS: LazyLock<harness::Rulesets> =
    LazyLock::new(|| harness::Rulesets::load(&root().join("flags-example")));

/// Request bodies to mutate.
const CONTEXT_SEEDS: &[&str] = &[
    "{}",
    r#"{"context": {"targetingKey": "user-42", "country": "DE", "email": "ana@example.com"}}"#,
    r#"{"targetingKey": 7, "plan": "enterprise", "version": "2.4.0", "appVersion": "v10.1.0-rc.1"}"#,
    r#"{"userId": "u-1", "tags": ["beta", 3, true], "n": 1e300, "t": "2025-06-01T00:00:00Z"}"#,
    r#"{"context": {"targetingKey": "k", "role": "beta", "a": {"nested": [null, {"x": -0.0}]}}}"#,
    r#"{"targetingKey": "acct-9", "accountId": "acct-1", "userAgent": "Googlebot/2.1", "cartTotal": 120.5}"#,
];

/// Fragments a fuzzer's dictionary would hold: structure of the three
/// formats and words the flag format gives meaning to.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "'",
    "\n",
    "  ",
    "- ",
    "=",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "<<: ",
    "~",
    "null",
    "true",
    "1e400",
    "1e308",
    ".inf",
    "-1",
    "99999999999999999999",
    "-0",
    "0x1F",
    "18446744073709551616",
    "NaN",
    "\u{0}",
    "\u{FEFF}",
    "é",
    "🚀",
    "\\u0000",
    "\\ud800",
    "flags",
    "segments",
    "type",
    "variants",
    "default",
    "rules",
    "when",
    "serve",
    "split",
    "salt",
    "rollout",
    "stages",
    "percentage",
    "duration",
    "strategy",
    "canary",
    "linear",
    "scheduled",
    "segment",
    "health",
    "checks",
    "attr",
    "op",
    "value",
    "values",
    "matches",
    "semver_gt",
    "before",
    "time",
    "timezone",
    "all",
    "any",
    "not",
    "targetingKey",
    "userId",
    "bucketBy",
    "offVariant",
    "enabled",
    "experiment",
    "PT1H",
    "90m",
    "2025-12-01T00:00:00",
    "America/New_York",
    "[[environments]]",
    "version = 1",
];

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Flip(usize, u8),
    /// Copies `len` bytes from one place to another (duplicated structure).
    Splice(usize, usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let bytes = prop_oneof![
        3 => prop::sample::select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        4 => (any::<usize>(), bytes).prop_map(|(at, b)| Edit::Insert(at, b)),
        2 => (any::<usize>(), 1usize..64).prop_map(|(at, n)| Edit::Delete(at, n)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Flip(at, b)),
        1 => (any::<usize>(), any::<usize>(), 1usize..256)
            .prop_map(|(from, to, n)| Edit::Splice(from, to, n)),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// Applies `edits` to `seed`, leaving byte 0 (the selector) to the edits too
/// only when the seed is empty.
fn apply(seed: &[u8], edits: &[Edit], keep: usize) -> Vec<u8> {
    let mut out = seed.to_vec();
    for e in edits {
        let len = out.len();
        let span = len.saturating_sub(keep).max(1);
        let pos = |at: usize| keep.min(len) + at % span;
        match e {
            Edit::Insert(at, b) => {
                let at = pos(*at).min(len);
                out.splice(at..at, b.iter().copied());
            }
            Edit::Delete(at, n) if len > keep => {
                let at = pos(*at).min(len);
                out.drain(at..(at + n).min(len));
            }
            Edit::Flip(at, b) if len > keep => {
                let at = pos(*at).min(len - 1);
                out[at] = *b;
            }
            Edit::Splice(from, to, n) if len > keep => {
                let from = pos(*from).min(len);
                let chunk: Vec<u8> = out[from..(from + n).min(len)].to_vec();
                let to = pos(*to).min(len);
                out.splice(to..to, chunk);
            }
            Edit::Truncate(at) if len > keep => out.truncate(pos(*at).min(len)),
            _ => {}
        }
    }
    out
}

fn mutated_flag_file() -> impl Strategy<Value = Vec<u8>> {
    let n = FLAG_FILE_SEEDS.len();
    (
        0..n,
        prop::collection::vec(edit(), 0..6),
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(|(i, edits, selector, reselect)| {
            let mut bytes = apply(&FLAG_FILE_SEEDS[i], &edits, 1);
            // Sometimes read a file as another format than it is written in.
            if reselect && let Some(first) = bytes.first_mut() {
                *first = selector;
            }
            bytes
        })
}

fn mutated_context() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(CONTEXT_SEEDS),
        prop::collection::vec(edit(), 0..6),
    )
        .prop_map(|(seed, edits)| apply(seed.as_bytes(), &edits, 0))
}

/// JSON text deeper and odder than a serializer writes: deep nesting,
/// duplicate keys, long numbers, escapes.
fn odd_json() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("-0".to_owned()),
        Just("1e308".to_owned()),
        Just("1e-400".to_owned()),
        Just("123456789012345678901234567890".to_owned()),
        Just("\"\\ud83d\\ude80\"".to_owned()),
        Just("\"\\u0000\"".to_owned()),
        "[a-zA-Z0-9@.\\-]{0,12}".prop_map(|s| format!("{s:?}")),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
    ];
    let key = prop_oneof![
        prop::sample::select(vec![
            "targetingKey",
            "userId",
            "country",
            "email",
            "plan",
            "version",
            "tags",
            "n",
            "a",
            "role",
            "t",
            "context",
        ])
        .prop_map(str::to_owned),
        "[a-z]{1,6}",
    ];
    leaf.prop_recursive(12, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kv| {
                let members: Vec<String> = kv.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
    .prop_map(String::into_bytes)
}

/// The bug class fuzzing found (fuzz/README.md, "Findings"), replayed on
/// every run: split weights whose sum overflowed `u64` on the way to being
/// refused as too large — a panic in a debug build. One input per flag-file
/// format, and a rule's split beside a default's, so that no reader or
/// place can bring it back alone. Weights must be finite to get that far:
/// `.inf` is refused while the file is read.
const FLAG_FILE_REGRESSIONS: &[&[u8]] = &[
    b"\0flags:\n  f:\n    type: boolean\n    variants: {on: true, off: false}\n    default: {split: {on: 1e308, off: 1e308}}\n",
    b"\x01{\"flags\": {\"f\": {\"type\": \"boolean\", \"variants\": {\"on\": true, \"off\": false}, \"default\": {\"split\": {\"on\": 1e13, \"off\": 1e13}}}}}",
    b"\x02[flags.f]\ntype = \"boolean\"\nvariants = { on = true, off = false }\ndefault = { split = { on = 1e300, off = 1e300 } }\n",
    b"\0flags:\n  f:\n    type: boolean\n    variants: {on: true, off: false}\n    default: off\n    rules:\n      - name: r\n        when: {attr: a, op: exists}\n        serve: {split: {on: 9.3e12, off: 9.3e12}}\n",
];

#[test]
fn former_fuzz_crashes_stay_fixed() {
    for input in FLAG_FILE_REGRESSIONS {
        harness::flag_file(input);
    }
}

#[test]
fn every_seed_passes_the_flag_file_harness() {
    for seed in FLAG_FILE_SEEDS.iter() {
        harness::flag_file(seed);
    }
}

#[test]
fn flags_example_bundles_pass_the_bundle_harness() {
    let repo = hotswap_flags_core::Repository::open(root().join("flags-example")).unwrap();
    for env in ["staging", "production"] {
        let ruleset = repo.ruleset(env).unwrap();
        let bytes = hotswap_flags_core::bundle::Bundle::of_ruleset(&ruleset)
            .unwrap()
            .to_bytes();
        harness::bundle(&bytes);
    }
}

proptest! {
    #![proptest_config(cases(1000))]

    #[test]
    fn flag_files_never_panic(bytes in prop_oneof![
        6 => mutated_flag_file(),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]) {
        harness::flag_file(&bytes);
    }

    #[test]
    fn bundles_never_panic(edits in prop::collection::vec(edit(), 0..4), env in any::<bool>()) {
        static SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
            let repo = hotswap_flags_core::Repository::open(root().join("flags-example")).unwrap();
            ["staging", "production"]
                .into_iter()
                .map(|env| {
                    hotswap_flags_core::bundle::Bundle::of_ruleset(&repo.ruleset(env).unwrap())
                        .unwrap()
                        .to_bytes()
                })
                .collect()
        });
        harness::bundle(&apply(&SEEDS[usize::from(env)], &edits, 0));
    }
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn contexts_never_panic(bytes in prop_oneof![
        3 => mutated_context(),
        3 => odd_json(),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]) {
        harness::contexts(&RULESETS, &bytes);
    }
}
