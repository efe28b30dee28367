//! `simulate` and `diff` over a million users (the target: under 2 s
//! each on the 2-core development machine). Both run on `flags-example`.
//!
//! Run: `cargo bench --bench gitops`. Figures: docs/performance.md.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use hotswap_flags_core::Repository;
use hotswap_flags_gitops::diff::{self, Side};
use hotswap_flags_gitops::population::Population;
use hotswap_flags_gitops::simulate::simulate;
use jiff::Timestamp;

const USERS: usize = 1_000_000;

fn example() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/flags-example"))
}

/// A copy of flags-example with three production flags changed.
fn changed_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let copy = |rel: &str, edit: &dyn Fn(String) -> String| {
        let from = example().join(rel);
        let to = tmp.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, edit(std::fs::read_to_string(from).unwrap())).unwrap();
    };
    copy("flags.toml", &|s| s);
    for env in ["staging", "production"] {
        for entry in std::fs::read_dir(example().join("envs").join(env)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let rel = format!("envs/{env}/{name}");
            copy(&rel, &|s| {
                if env != "production" {
                    return s;
                }
                s.replace(
                    "{ percentage: 10, duration: PT1H }",
                    "{ percentage: 20, duration: PT1H }",
                )
                .replace(
                    "split: { control: 34, gallery: 33, video: 33 }",
                    "split: { control: 50, gallery: 25, video: 25 }",
                )
                .replace(
                    "default: off                  # served",
                    "default: on                  # served",
                )
            });
        }
    }
    tmp
}

fn benches(c: &mut Criterion) {
    let now = Timestamp::now();
    let population = Population::synthetic(USERS).unwrap();
    let ruleset = Repository::open(example())
        .unwrap()
        .ruleset("production")
        .unwrap();
    let mut group = c.benchmark_group("gitops");
    group.sample_size(10);
    group.bench_function("simulate: canary flag, 4 stages, 1M users", |b| {
        b.iter(|| simulate(&ruleset, "new-checkout-flow", &population, None, now).unwrap())
    });
    group.bench_function("simulate: 3-way split, 1M users", |b| {
        b.iter(|| simulate(&ruleset, "product-page-layout", &population, None, now).unwrap())
    });
    let head_dir = changed_copy();
    group.bench_function("diff: flags-example, 2 environments, 1M users", |b| {
        b.iter(|| {
            // Reading and compiling both sides is part of a diff.
            let base = Side {
                label: "base".into(),
                repo: Some(Repository::open(example()).unwrap()),
            };
            let head = Side {
                label: "head".into(),
                repo: Some(Repository::open(head_dir.path()).unwrap()),
            };
            let opts = diff::Options {
                env: None,
                population: &population,
                now,
            };
            let d = diff::diff(&base, &head, &opts).unwrap();
            assert_eq!(d.change_count(), 2);
            d
        })
    });
    group.finish();
}

criterion_group!(gitops, benches);
criterion_main!(gitops);
