//! `flagctl import flagd` of 1,000 flags (the target: under 1 s):
//! translation, and translation plus the write, which renders the YAML
//! and checks the environment with it before writing.
//!
//! Run: `cargo bench --bench import`. Figures: docs/performance.md.

use criterion::{Criterion, criterion_group, criterion_main};
use hotswap_flags_gitops::import::{self, flagd};
use serde_json::{Value, json};

/// A flagd document of `n` flags, a quarter each: an `if` over `==`,
/// `in` and `ends_with`; a `fractional` by e-mail; `sem_ver` and `<`
/// around a `fractional`; a `$ref`.
fn document(n: usize) -> String {
    let mut flags = serde_json::Map::new();
    for i in 0..n {
        let targeting = match i % 4 {
            0 => json!({"if": [
                {"and": [{"==": [{"var": "country"}, "DE"]}, {"in": [{"var": "plan"}, ["pro", "enterprise"]]}]}, "on",
                {"ends_with": [{"var": "email"}, "@example.com"]}, "on",
                "off"]}),
            1 => {
                json!({"fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "email"}]}, ["on", 10], ["off", 90]]})
            }
            2 => json!({"if": [
                {"sem_ver": [{"var": "version"}, ">=", "2.1.0"]}, {"fractional": [["on", 50], ["off", 50]]},
                {"<": [{"var": "age"}, 18]}, "off",
                null]}),
            _ => json!({"if": [{"$ref": "staff"}, "on", "off"]}),
        };
        flags.insert(
            format!("flag-{i:04}"),
            json!({"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off", "targeting": targeting}),
        );
    }
    let doc = json!({"flags": Value::Object(flags), "$evaluators": {"staff": {"ends_with": [{"var": "email"}, "@example.com"]}}});
    serde_json::to_string_pretty(&doc).unwrap()
}

fn benches(c: &mut Criterion) {
    let text = document(1_000);
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("flags.toml"),
        "version = 1\n[[environments]]\nname = \"staging\"\npath = \"envs/staging\"\n",
    )
    .unwrap();
    let mut group = c.benchmark_group("import flagd, 1000 flags");
    group.sample_size(10);
    group.bench_function("translate", |b| {
        b.iter(|| flagd::translate("flags.json", &text, flagd::Fractional::V2).unwrap());
    });
    group.bench_function("translate and write", |b| {
        b.iter(|| {
            let t = flagd::translate("flags.json", &text, flagd::Fractional::V2).unwrap();
            assert!(t.untranslatable.is_empty());
            import::write(repo.path(), "staging", "flagd", &[t]).unwrap()
        });
    });
    group.finish();
}

criterion_group!(import_benches, benches);
criterion_main!(import_benches);
