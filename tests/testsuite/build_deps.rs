//! What the builds depend on. The build needs nothing the README doesn't
//! name (docs/cluster.md, The etcd client): no crate in the dependency
//! graph runs `protoc` or fetches one; CI proves the rest, since it
//! installs no `protoc` and builds. And the core crate, which services
//! embed, pulls in no runtime, HTTP, git, etcd or command-line crate, and
//! only the binaries depend on the command-line and terminal crates
//! (docs/architecture.md, Crates).

/// Crates that run or ship `protoc` in a build script.
const RUN_PROTOC: [&str; 5] = [
    "prost-build",
    "tonic-build",
    "tonic-prost-build",
    "protoc-bin-vendored",
    "protobuf-src",
];

#[test]
fn no_crate_in_the_lock_file_runs_protoc() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock");
    let lock: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
    let packages = lock["package"].as_array().unwrap();
    let names: Vec<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"reqwest"), "not the lock file expected");
    let found: Vec<&&str> = names.iter().filter(|n| RUN_PROTOC.contains(n)).collect();
    assert!(
        found.is_empty(),
        "{found:?} would need `protoc` at build time, which the README does not name"
    );
}

/// What the core crate must never depend on, even indirectly.
const NOT_IN_CORE: [&str; 12] = [
    "tokio",
    "hyper",
    "axum",
    "reqwest",
    "git2",
    "etcd-client",
    "notify",
    "clap",
    "tabled",
    "tracing-subscriber",
    "statrs",
    "tempfile",
];

/// The normal dependencies of `package`, direct and indirect, by name.
fn dependency_tree(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--locked", "-p", package, "-e", "normal"])
        .args(["--prefix", "none", "--format", "{p}"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let names: Vec<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(
        names.iter().any(|n| n == "serde"),
        "not the tree expected: {tree}"
    );
    names
}

#[test]
fn the_core_crate_pulls_in_no_runtime_http_git_or_cli() {
    let names = dependency_tree("hotswap-flags-core");
    let found: Vec<&String> = names
        .iter()
        .filter(|n| NOT_IN_CORE.contains(&n.as_str()))
        .collect();
    assert!(found.is_empty(), "the core crate depends on {found:?}");
}

/// What only the binaries (the `hotswap-flags` package) may depend on:
/// argument parsing, man pages, tables and the log subscriber are the
/// command line's business, not a library's.
const ONLY_IN_BINARIES: [&str; 5] = [
    "clap",
    "clap_complete",
    "clap_mangen",
    "tabled",
    "tracing-subscriber",
];

#[test]
fn only_the_binaries_depend_on_command_line_crates() {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let mut libraries = Vec::new();
    for dir in std::fs::read_dir(crates).unwrap() {
        let manifest = std::fs::read_to_string(dir.unwrap().path().join("Cargo.toml")).unwrap();
        let manifest: toml::Table = manifest.parse().unwrap();
        libraries.push(manifest["package"]["name"].as_str().unwrap().to_owned());
    }
    assert!(
        libraries.len() >= 5,
        "not the workspace expected: {libraries:?}"
    );
    for library in &libraries {
        let names = dependency_tree(library);
        let found: Vec<&String> = names
            .iter()
            .filter(|n| ONLY_IN_BINARIES.contains(&n.as_str()))
            .collect();
        assert!(found.is_empty(), "{library} depends on {found:?}");
    }
    let binaries = dependency_tree("hotswap-flags");
    for name in ["clap", "tabled", "tracing-subscriber"] {
        assert!(binaries.iter().any(|n| n == name), "binaries lack {name}");
    }
}
