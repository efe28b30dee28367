//! flagd's state directory: the git clone, the last good ruleset, rollout
//! state and the audit log of one flagd serving one environment.
//!
//! Both halves of that sentence are enforced, because breaking either is
//! silent and dangerous. Two flagds sharing a directory overwrite each
//! other's rollout state; a directory reused under another `--env` would
//! resume staging's canary at its staging stage in production (rollout state
//! is keyed by flag, and a promoted flag has the same spec) and could serve
//! staging's last good ruleset offline. So the directory is locked while a
//! flagd runs, and it records the environment it belongs to.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use hotswap_flags_gitops::fsutil::write_atomic;

/// The lock file, held (flock) while a flagd runs.
pub const LOCK_FILE: &str = "lock";
/// The file naming the environment the directory belongs to.
pub const ENV_FILE: &str = "env";

/// Why a state directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateDirError {
    /// Creating, reading or writing failed.
    #[error("state directory {}: {error}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// Another process holds the lock.
    #[error(
        "the state directory {} is in use by another flagd; give each flagd its own --state-dir",
        path.display()
    )]
    InUse {
        /// The directory.
        path: PathBuf,
    },
    /// The directory belongs to another environment.
    #[error(
        "the state directory {} holds the state of environment `{found}`, not `{expected}`; give each environment its own --state-dir",
        path.display()
    )]
    OtherEnv {
        /// The directory.
        path: PathBuf,
        /// The environment it belongs to.
        found: String,
        /// The environment asked for.
        expected: String,
    },
}

/// A state directory claimed by this process for one environment; the
/// claim lasts as long as the value.
#[derive(Debug)]
pub struct StateDir {
    path: PathBuf,
    _lock: File,
}

impl StateDir {
    /// Creates (if need be), locks and claims `path` for environment `env`.
    /// A directory without an environment record (new, or written by an
    /// older flagd) is claimed for `env`.
    pub fn claim(path: &Path, env: &str) -> Result<StateDir, StateDirError> {
        let io_err = |p: &Path| {
            let p = p.to_owned();
            move |error| StateDirError::Io { path: p, error }
        };
        std::fs::create_dir_all(path).map_err(io_err(path))?;
        let lock_path = path.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StateDirError::InUse {
                    path: path.to_owned(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        let env_path = path.join(ENV_FILE);
        match std::fs::read_to_string(&env_path) {
            Ok(text) if text.trim() == env => {}
            Ok(text) => {
                return Err(StateDirError::OtherEnv {
                    path: path.to_owned(),
                    found: text.trim().to_owned(),
                    expected: env.to_owned(),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                write_atomic(&env_path, format!("{env}\n").as_bytes())
                    .map_err(io_err(&env_path))?;
            }
            Err(e) => return Err(io_err(&env_path)(e)),
        }
        Ok(StateDir {
            path: path.to_owned(),
            _lock: lock,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_at_a_time_for_one_environment() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        let claim = StateDir::claim(&dir, "production").unwrap();
        assert_eq!(claim.path(), dir);
        assert_eq!(
            std::fs::read_to_string(dir.join(ENV_FILE)).unwrap(),
            "production\n"
        );
        // Held: a second claim (another open file, as another process
        // would have) is refused.
        let e = StateDir::claim(&dir, "production").unwrap_err();
        assert!(matches!(e, StateDirError::InUse { .. }), "{e}");
        drop(claim);

        // Released: the same environment may claim it again, another not.
        drop(StateDir::claim(&dir, "production").unwrap());
        let e = StateDir::claim(&dir, "staging").unwrap_err();
        assert!(
            e.to_string()
                .contains("holds the state of environment `production`, not `staging`"),
            "{e}"
        );
    }
}
