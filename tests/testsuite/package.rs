//! The published crate (`cargo install hotswap-flags`, docs/gitops.md):
//! its file list holds what the build and the binaries need and nothing
//! else, and its `rust-version` is not below what a dependency needs.
//! Building and installing the `.crate` itself takes minutes, so `.ci/run`
//! does that once, after the tests.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cargo(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `cargo package --list`: the files the `.crate` would hold.
fn packaged() -> Vec<String> {
    // --allow-dirty: the list is Cargo.toml's `include`, whatever the
    // working tree's state; uncommitted files are listed if included.
    cargo(&[
        "package",
        "-p",
        "hotswap-flags",
        "--list",
        "--allow-dirty",
        "--offline",
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

#[test]
fn the_crate_holds_the_sources_schemas_and_licences_and_nothing_else() {
    let files = packaged();
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "src/bin/flagctl/main.rs",
        "src/bin/flagd/main.rs",
        "schemas/flagfile.schema.json",
        "schemas/flags-toml.schema.json",
    ] {
        assert!(files.iter().any(|f| f == needed), "{needed} not packaged");
    }
    // Every Rust source of the library and the binaries.
    let mut sources = Vec::new();
    collect_rs(&root().join("src"), &mut sources);
    for source in &sources {
        assert!(files.contains(source), "{source} not packaged");
    }
    let extra: Vec<&String> = files
        .iter()
        .filter(|f| {
            !(f.starts_with("src/")
                || f.starts_with("schemas/")
                || f.starts_with("LICENSE-")
                || [
                    "Cargo.toml",
                    "Cargo.toml.orig",
                    "Cargo.lock",
                    "README.md",
                    ".cargo_vcs_info.json",
                ]
                .contains(&f.as_str()))
        })
        .collect();
    assert!(
        extra.is_empty(),
        "packaged beyond what is needed: {extra:?}"
    );
}

/// A file the sources embed (`include_str!`, `include_bytes!`) must be in
/// the crate, or `cargo install` fails where `cargo build` in a clone works.
#[test]
fn every_file_the_sources_embed_is_packaged() {
    let files = packaged();
    let mut sources = Vec::new();
    collect_rs(&root().join("src"), &mut sources);
    for source in sources {
        let text = std::fs::read_to_string(root().join(&source)).unwrap();
        for macro_name in ["include_str!(\"", "include_bytes!(\""] {
            for (at, _) in text.match_indices(macro_name) {
                let rest = &text[at + macro_name.len()..];
                let relative = &rest[..rest.find('"').unwrap()];
                let path = Path::new(&source).parent().unwrap().join(relative);
                let path = normalize(&path);
                assert!(
                    files.contains(&path),
                    "{source} embeds {relative} ({path}), which is not packaged"
                );
            }
        }
    }
}

/// `rust-version` in Cargo.toml is at least every normal or build
/// dependency's: an older Rust would fail inside a dependency instead of
/// saying which Rust is needed.
///
/// The graph is this machine's platform's (`--filter-platform`): the other
/// platforms' dependencies (Windows consoles) were never downloaded, and
/// `--offline` cannot read their manifests.
#[test]
fn rust_version_is_not_below_a_dependencys() {
    let rustc = Command::new("rustc").arg("-vV").output().unwrap();
    let rustc = String::from_utf8(rustc.stdout).unwrap();
    let host = rustc
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host");
    let meta: serde_json::Value = serde_json::from_str(&cargo(&[
        "metadata",
        "--format-version",
        "1",
        "--locked",
        "--offline",
        "--filter-platform",
        host,
    ]))
    .unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let ours = packages
        .iter()
        .find(|p| p["name"] == "hotswap-flags")
        .unwrap();
    let ours_id = ours["id"].as_str().unwrap();
    let declared = version(ours["rust_version"].as_str().expect("rust-version is set"));

    // Walk the resolve graph from our package along normal and build edges
    // only: dev-dependencies are not built by `cargo install`.
    let nodes = meta["resolve"]["nodes"].as_array().unwrap();
    let node = |id: &str| nodes.iter().find(|n| n["id"] == id).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec![ours_id.to_owned()];
    while let Some(id) = todo.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        for dep in node(&id)["deps"].as_array().unwrap() {
            let kinds = dep["dep_kinds"].as_array().unwrap();
            if kinds.iter().any(|k| k["kind"] != "dev") {
                todo.push(dep["pkg"].as_str().unwrap().to_owned());
            }
        }
    }
    let too_new: Vec<String> = packages
        .iter()
        .filter(|p| seen.contains(p["id"].as_str().unwrap()))
        .filter_map(|p| {
            let needs = p["rust_version"].as_str()?;
            (version(needs) > declared)
                .then(|| format!("{} {} needs {needs}", p["name"], p["version"]))
        })
        .collect();
    assert!(
        too_new.is_empty(),
        "Cargo.toml's rust-version {} is below: {too_new:?}",
        ours["rust_version"]
    );
}

fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().unwrap());
    (
        parts.next().unwrap(),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// The `.rs` files below `dir`, relative to the clone's root, `/`-separated.
fn collect_rs(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(normalize(path.strip_prefix(root()).unwrap_or(&path)));
        }
    }
}

/// `a/b/../c` as `a/c`, with `/` separators.
fn normalize(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::CurDir => {}
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/")
}
