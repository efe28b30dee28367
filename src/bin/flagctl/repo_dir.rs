//! Finding the repository when `--repo` is not given, and an environment's
//! ruleset in it.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use hotswap_flags_core::{Repository, Ruleset};
use hotswap_flags_gitops::repo::CONFIG_FILE;

use crate::Failure;

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

/// Environment `env` of the repository compiled, for the commands that
/// evaluate it; one that does not validate is a finding (exit 1) listing
/// its errors, since nothing can be evaluated against it.
pub fn ruleset(explicit: Option<&Path>, env: &str) -> Result<Ruleset, Failure> {
    let checked = Repository::open(resolve(explicit)?)?.check_env(env)?;
    match checked.ruleset {
        Some(ruleset) => Ok(ruleset),
        None => {
            let mut errors: String = checked
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{d}\n"))
                .collect();
            errors.push_str(&format!(
                "error: environment `{env}` does not validate; fix the errors above"
            ));
            Err(Failure::Findings(errors))
        }
    }
}
