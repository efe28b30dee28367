//! The layers docs/architecture.md draws are the layers the code has
//! (docs/architecture.md, Layers): its table lists each library crate's
//! top-level modules lowest first, and crates lowest first. A module may
//! import from modules listed before it in its crate, a crate may depend on
//! crates listed before it; every module and crate must be in the table.
//! Unit tests (`mod tests` under `#[cfg(test)]`) may import anything.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One row of the table: a crate and its modules, lowest first.
struct Layer {
    krate: String,
    modules: Vec<String>,
}

/// The rows of the "Layers" table, lowest crate first.
fn table() -> Vec<Layer> {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let section = doc
        .split("\n## Layers\n")
        .nth(1)
        .expect("docs/architecture.md has a Layers section");
    let section = section.split("\n## ").next().unwrap();
    let layers: Vec<Layer> = section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            Layer {
                krate: cells[0].trim_matches('`').to_owned(),
                modules: cells[1]
                    .split(',')
                    .map(|m| m.trim().trim_matches('`').to_owned())
                    .collect(),
            }
        })
        .collect();
    assert!(layers.len() >= 5, "not the table expected: {section}");
    layers
}

/// The workspace's library crates by name, with their directories.
fn library_crates() -> Vec<(String, PathBuf)> {
    let mut crates = Vec::new();
    for dir in std::fs::read_dir(root().join("crates")).unwrap() {
        let dir = dir.unwrap().path();
        crates.push((package_name(&dir), dir));
    }
    crates.sort();
    crates
}

fn manifest(dir: &Path) -> toml::Table {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap()
}

fn package_name(dir: &Path) -> String {
    manifest(dir)["package"]["name"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The modules `lib.rs` declares (`mod x;`, `pub mod x;`).
fn declared_modules(src: &Path) -> BTreeSet<String> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|line| {
            let line = line.trim().strip_prefix("pub ").unwrap_or(line.trim());
            line.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_owned)
        })
        .collect()
}

/// A module's source files: `m.rs`, or everything under `m/`.
fn module_files(src: &Path, module: &str) -> Vec<PathBuf> {
    let file = src.join(format!("{module}.rs"));
    if file.exists() {
        return vec![file];
    }
    let mut files = Vec::new();
    collect_rs(&src.join(module), &mut files);
    assert!(
        !files.is_empty(),
        "no sources for module {module} in {src:?}"
    );
    files
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a source file below `src` (`rollout/state.rs` is
/// `[rollout, state]`, `rollout/mod.rs` is `[rollout]`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut path: Vec<String> = relative
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    if path.last().is_some_and(|last| last == "mod") {
        path.pop();
    }
    path
}

/// The top-level modules a file's code names through `crate::` or through
/// enough `super::` to reach the crate root. Comments and the trailing
/// `#[cfg(test)] mod tests` are left out.
fn top_level_references(text: &str, path: &[String]) -> BTreeSet<String> {
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut found = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (at, _) in line.match_indices("crate::") {
            if line[..at].ends_with('$') {
                continue;
            }
            names_after(&line[at + "crate::".len()..], &mut found);
        }
        let mut rest = line;
        while let Some(at) = rest.find("super::") {
            let before = &rest[..at];
            let mut tail = &rest[at..];
            let mut ups = 0;
            while let Some(t) = tail.strip_prefix("super::") {
                ups += 1;
                tail = t;
            }
            let is_start =
                !before.ends_with("::") && !before.ends_with(|c: char| c.is_alphanumeric());
            if is_start && ups == path.len() {
                names_after(tail, &mut found);
            }
            rest = tail;
        }
    }
    found
}

/// The first segment of a path (`live::Live` → `live`), or of each item of
/// a group (`{live::Live, rollout}` → `live`, `rollout`).
fn names_after(tail: &str, found: &mut BTreeSet<String>) {
    if let Some(group) = tail.strip_prefix('{') {
        let mut depth = 0;
        let mut item = String::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    names_after(item.trim(), found);
                    item.clear();
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        names_after(item.trim(), found);
        return;
    }
    let name: String = tail
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if !name.is_empty() {
        found.insert(name);
    }
}

#[test]
fn the_table_lists_every_library_crate_and_module() {
    let layers = table();
    let crates = library_crates();
    let in_table: BTreeSet<&str> = layers.iter().map(|l| l.krate.as_str()).collect();
    let in_workspace: BTreeSet<&str> = crates.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(in_table, in_workspace, "crates in the table vs crates/");
    for (name, dir) in &crates {
        let layer = layers.iter().find(|l| &l.krate == name).unwrap();
        let listed: BTreeSet<String> = layer.modules.iter().cloned().collect();
        assert_eq!(
            listed,
            declared_modules(&dir.join("src")),
            "{name}: the table's modules vs lib.rs"
        );
    }
}

#[test]
fn no_module_imports_from_a_module_listed_above_it() {
    let layers = table();
    let mut violations = Vec::new();
    for (name, dir) in library_crates() {
        let Some(layer) = layers.iter().find(|l| l.krate == name) else {
            continue;
        };
        let src = dir.join("src");
        for (rank, module) in layer.modules.iter().enumerate() {
            let above = &layer.modules[rank + 1..];
            for file in module_files(&src, module) {
                let text = std::fs::read_to_string(&file).unwrap();
                let names = top_level_references(&text, &module_path(&src, &file));
                for upward in names.iter().filter(|n| above.contains(n)) {
                    violations.push(format!(
                        "{}: `{module}` imports `{upward}`, listed above it",
                        file.strip_prefix(root()).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn no_crate_depends_on_a_crate_listed_above_it() {
    let layers = table();
    for (rank, layer) in layers.iter().enumerate() {
        let below: Vec<&str> = layers[..rank].iter().map(|l| l.krate.as_str()).collect();
        let (_, dir) = library_crates()
            .into_iter()
            .find(|(n, _)| *n == layer.krate)
            .unwrap();
        let manifest = manifest(&dir);
        let deps = manifest["dependencies"].as_table().unwrap();
        for dep in deps.keys().filter(|d| d.starts_with("hotswap-flags")) {
            assert!(
                below.contains(&dep.as_str()),
                "{} depends on {dep}, which the table does not list below it",
                layer.krate
            );
        }
    }
}

#[test]
fn references_resolve_through_crate_and_super() {
    let path = ["rollout".to_owned(), "state".to_owned()];
    let text = "use crate::{live::Live, rollout};\nuse super::super::feed::Work;\n\
                use super::machine::Steer;\n// use crate::server;\n\
                #[cfg(test)]\nmod tests {\n    use crate::cluster;\n}\n";
    let names: Vec<String> = top_level_references(text, &path).into_iter().collect();
    assert_eq!(names, ["feed", "live", "rollout"]);
}
