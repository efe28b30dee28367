//! Finding the repository when `--repo` is not given.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use hotswap_flags::repo::CONFIG_FILE;

/// `--repo`, else the nearest directory upwards with `flags.toml`, else the
/// git root, else the current directory.
pub fn resolve(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let found = cwd
        .ancestors()
        .find(|d| d.join(CONFIG_FILE).is_file())
        .or_else(|| cwd.ancestors().find(|d| d.join(".git").exists()))
        .unwrap_or(&cwd);
    Ok(found.to_path_buf())
}
