//! The build needs nothing the README doesn't name (docs/cluster.md, The
//! etcd client): no crate in the dependency graph runs `protoc` or fetches
//! one. CI proves the rest, since it installs no `protoc` and builds.

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
