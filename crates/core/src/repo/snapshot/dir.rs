//! A repository directory on disk.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::{Snapshot, SnapshotError, join};

/// Files read straight from a directory. Symlinks are followed while they
/// stay inside the directory (Kubernetes ConfigMap mounts are made of
/// them); one that leads outside is refused (docs/security.md, Threats).
#[derive(Debug, Clone)]
pub struct DirSnapshot {
    root: PathBuf,
}

impl DirSnapshot {
    /// A snapshot rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirSnapshot { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn io(&self, path: &Path, error: std::io::Error) -> SnapshotError {
        SnapshotError::Io {
            path: path.display().to_string(),
            error,
        }
    }

    /// Refuses `full` (shown as `shown`) when it resolves outside the root.
    /// A path that does not resolve (missing, dangling) is left to the read.
    fn inside(&self, full: &Path, shown: &str) -> Result<(), SnapshotError> {
        let (Ok(root), Ok(target)) = (fs::canonicalize(&self.root), fs::canonicalize(full)) else {
            return Ok(());
        };
        if target.starts_with(&root) {
            Ok(())
        } else {
            Err(SnapshotError::OutsideRepository(shown.to_owned()))
        }
    }

    /// After a failed read: a missing or non-directory root is the real
    /// problem and is said so, rather than "no such file" for a file in it.
    fn check_root(&self) -> Result<(), SnapshotError> {
        let shown = || self.root.display().to_string();
        match fs::metadata(&self.root) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(SnapshotError::NotADirectory(shown())),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(SnapshotError::NotFound(shown())),
            Err(e) => Err(self.io(&self.root, e)),
        }
    }
}

impl Snapshot for DirSnapshot {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SnapshotError> {
        let full = self.root.join(path);
        self.inside(&full, path)?;
        match fs::read(&full) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) => {
                self.check_root()?;
                match e.kind() {
                    ErrorKind::NotFound => Ok(None),
                    _ => Err(self.io(&full, e)),
                }
            }
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, SnapshotError> {
        let mut out = Vec::new();
        let mut pending = vec![dir.trim_end_matches('/').to_owned()];
        while let Some(rel) = pending.pop() {
            let full = self.root.join(&rel);
            self.inside(&full, &rel)?;
            let entries = match fs::read_dir(&full) {
                Ok(e) => e,
                Err(e) => {
                    self.check_root()?;
                    match e.kind() {
                        ErrorKind::NotFound => continue,
                        _ => return Err(self.io(&full, e)),
                    }
                }
            };
            for entry in entries {
                let entry = entry.map_err(|e| self.io(&full, e))?;
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if name.starts_with('.') {
                    continue;
                }
                let child = join(&rel, name);
                self.inside(&entry.path(), &child)?;
                // `metadata` follows symlinks; a dangling link is skipped.
                match fs::metadata(entry.path()) {
                    Ok(m) if m.is_dir() => pending.push(child),
                    Ok(m) if m.is_file() => out.push(child),
                    _ => {}
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn describe(&self) -> String {
        format!("dir:{}", self.root.display())
    }

    fn location(&self) -> String {
        self.root.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_recursively_and_skips_hidden() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("envs/a/sub")).unwrap();
        fs::create_dir_all(root.join("envs/a/.hidden")).unwrap();
        fs::write(root.join("envs/a/x.yaml"), "").unwrap();
        fs::write(root.join("envs/a/sub/y.json"), "").unwrap();
        fs::write(root.join("envs/a/.x.yaml.swp"), "").unwrap();
        fs::write(root.join("envs/a/.hidden/z.yaml"), "").unwrap();
        let snap = DirSnapshot::new(root);
        assert_eq!(
            snap.list("envs/a").unwrap(),
            ["envs/a/sub/y.json", "envs/a/x.yaml"]
        );
        assert_eq!(snap.list("envs/missing").unwrap(), Vec::<String>::new());
        assert_eq!(snap.read("envs/a/x.yaml").unwrap(), Some(vec![]));
        assert_eq!(snap.read("nope").unwrap(), None);
        assert_eq!(snap.location(), root.display().to_string());
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_repository_are_refused_and_links_inside_followed() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.yaml"), "password: hunter2\n").unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("envs/a/..data")).unwrap();
        fs::write(root.join("envs/a/..data/x.yaml"), "flags: {}\n").unwrap();
        // A ConfigMap-style link inside the repository is followed.
        symlink(
            root.join("envs/a/..data/x.yaml"),
            root.join("envs/a/x.yaml"),
        )
        .unwrap();
        let snap = DirSnapshot::new(root);
        assert_eq!(snap.list("envs/a").unwrap(), ["envs/a/x.yaml"]);
        assert_eq!(
            snap.read("envs/a/x.yaml").unwrap(),
            Some(b"flags: {}\n".to_vec())
        );
        // A file link and a directory link out of it are refused by name.
        symlink(
            outside.path().join("secret.yaml"),
            root.join("envs/a/leak.yaml"),
        )
        .unwrap();
        symlink(outside.path(), root.join("envs/b")).unwrap();
        let message = snap.list("envs/a").unwrap_err().to_string();
        assert_eq!(
            message,
            "envs/a/leak.yaml is a symbolic link leading outside the repository; refusing to follow it"
        );
        assert!(snap.read("envs/a/leak.yaml").is_err());
        assert!(
            snap.list("envs/b")
                .unwrap_err()
                .to_string()
                .starts_with("envs/b is a symbolic link")
        );
        assert!(!message.contains("hunter2"));
    }

    #[test]
    fn a_missing_or_file_root_is_said_plainly() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("nonexist");
        let snap = DirSnapshot::new(&missing);
        let expected = format!("{} does not exist", missing.display());
        assert_eq!(snap.read("flags.toml").unwrap_err().to_string(), expected);
        assert_eq!(snap.list("envs/a").unwrap_err().to_string(), expected);
        let file = tmp.path().join("f.json");
        fs::write(&file, "{}").unwrap();
        let snap = DirSnapshot::new(&file);
        assert_eq!(
            snap.read("flags.toml").unwrap_err().to_string(),
            format!("{} is not a directory", file.display())
        );
    }
}
