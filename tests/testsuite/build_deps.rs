//! What the builds depend on. The build needs nothing the README doesn't
//! name (docs/cluster.md, The etcd client): no crate in the dependency
//! graph runs `protoc` or fetches one; CI proves the rest, since it
//! installs no `protoc` and builds. And the core crate, which services
//! embed, pulls in no runtime, HTTP, git, etcd or command-line crate
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

#[test]
fn the_core_crate_pulls_in_no_runtime_http_git_or_cli() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--locked",
            "-p",
            "hotswap-flags-core",
            "-e",
            "normal",
        ])
        .args(["--prefix", "none", "--format", "{p}"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(
        names.contains(&"serde_json"),
        "not the tree expected: {tree}"
    );
    let found: Vec<&&str> = names.iter().filter(|n| NOT_IN_CORE.contains(n)).collect();
    assert!(found.is_empty(), "the core crate depends on {found:?}");
}
