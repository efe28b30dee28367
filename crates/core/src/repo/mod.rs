//! A flags repository: `flags.toml` and one directory of flag files per
//! environment, read through a [`Snapshot`].

mod cache;
pub mod load;
mod loaded;
mod read;
mod recover;
pub mod snapshot;

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::compile::validate_config;
use crate::diagnostic::{Diagnostic, KeyPath, did_you_mean, sort_diagnostics};
use crate::model::{EnvironmentConfig, RepoConfig};
use crate::parse::{Format, from_node, parse_document};
use crate::repo::load::{Checked, EnvFiles, LoadedEnv, ReadCache};
use crate::repo::snapshot::{DirSnapshot, Snapshot, SnapshotError};
use crate::ruleset::{Ruleset, RulesetMeta};

/// The repository configuration file's name.
pub const CONFIG_FILE: &str = "flags.toml";

/// Why a repository or environment could not be used at all.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// Reading files failed.
    #[error(transparent)]
    Source(#[from] SnapshotError),
    /// There is no `flags.toml`.
    #[error("no {CONFIG_FILE} in {0}: is this a flags repository? (`flagctl init` creates one)")]
    MissingConfig(String),
    /// `flags.toml` is invalid.
    #[error("{CONFIG_FILE} is invalid:\n{}", render(.0))]
    InvalidConfig(Vec<Diagnostic>),
    /// No environment of that name.
    #[error("unknown environment `{name}`{}", .hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    UnknownEnv {
        /// The name asked for.
        name: String,
        /// A suggestion or the list of environments.
        hint: Option<String>,
    },
    /// The environment's files have errors.
    #[error("environment `{env}` has errors:\n{}", render(.diagnostics))]
    Invalid {
        /// The environment.
        env: String,
        /// The errors (and warnings).
        diagnostics: Vec<Diagnostic>,
    },
}

fn render(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A repository opened for reading.
#[derive(Debug)]
pub struct Repository {
    snapshot: Box<dyn Snapshot>,
    config: RepoConfig,
    config_warnings: Vec<Diagnostic>,
    /// SHA-256 of `flags.toml` as read, part of every environment's
    /// fingerprint (its metrics templates change what is served).
    config_digest: [u8; 32],
}

impl Repository {
    /// Opens the repository in directory `dir`: reads and checks
    /// `flags.toml`. Flag files are read per environment, later.
    ///
    /// ```
    /// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../flags-example");
    /// let repo = hotswap_flags_core::Repository::open(dir)?;
    /// let names: Vec<&str> = repo.config().environments.iter().map(|e| e.name.as_str()).collect();
    /// assert_eq!(names, ["staging", "production"]);
    /// # Ok::<(), hotswap_flags_core::RepoError>(())
    /// ```
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, RepoError> {
        Repository::from_snapshot(Box::new(DirSnapshot::new(dir.as_ref())))
    }

    /// Opens a repository from any snapshot (a directory, a git tree).
    pub fn from_snapshot(snapshot: Box<dyn Snapshot>) -> Result<Self, RepoError> {
        let bytes = snapshot
            .read(CONFIG_FILE)?
            .ok_or_else(|| RepoError::MissingConfig(snapshot.location()))?;
        let (config, diags) = parse_config(&bytes);
        match config {
            Some(config) if !diags.iter().any(Diagnostic::is_error) => Ok(Repository {
                snapshot,
                config,
                config_warnings: diags,
                config_digest: Sha256::digest(&bytes).into(),
            }),
            _ => Err(RepoError::InvalidConfig(diags)),
        }
    }

    /// The repository configuration.
    pub fn config(&self) -> &RepoConfig {
        &self.config
    }

    /// Warnings about `flags.toml`.
    pub fn config_warnings(&self) -> &[Diagnostic] {
        &self.config_warnings
    }

    /// The files behind this repository.
    pub fn snapshot(&self) -> &dyn Snapshot {
        &*self.snapshot
    }

    /// The environment called `name`.
    pub fn environment(&self, name: &str) -> Result<&EnvironmentConfig, RepoError> {
        self.config.environment(name).ok_or_else(|| {
            let names: Vec<&str> = self
                .config
                .environments
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            RepoError::UnknownEnv {
                name: name.to_owned(),
                hint: did_you_mean(name, names.iter().copied())
                    .or_else(|| Some(format!("environments: {}", names.join(", ")))),
            }
        })
    }

    /// Reads an environment's flag files.
    pub fn load_env(&self, name: &str) -> Result<LoadedEnv, RepoError> {
        Ok(self.read_env(name)?.load(None))
    }

    /// Reads the bytes of an environment's flag files, parsing nothing:
    /// with [`Repository::fingerprint`], enough for flagd to tell that
    /// nothing changed since its last load.
    pub fn read_env(&self, name: &str) -> Result<EnvFiles, RepoError> {
        let env = self.environment(name)?;
        let paths = self.snapshot.list(&env.path)?;
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            if Format::from_path(&path).is_none() {
                continue;
            }
            if let Some(bytes) = self.snapshot.read(&path)? {
                files.push((path, bytes));
            }
        }
        Ok(EnvFiles::new(files))
    }

    /// What [`Checked::fingerprint`] will be for these files: it changes
    /// exactly when `flags.toml` or one of the files does.
    pub fn fingerprint(&self, files: &EnvFiles) -> String {
        let mut fingerprint = Sha256::new();
        fingerprint.update(self.config_digest);
        fingerprint.update(files.content_hash.as_bytes());
        hex::encode(fingerprint.finalize())
    }

    /// The metadata a ruleset of this environment gets: the snapshot's
    /// revision, or the content hash of the files.
    fn meta(&self, env: &str, content_hash: &str) -> RulesetMeta {
        RulesetMeta {
            env: env.to_owned(),
            version: self
                .snapshot
                .revision()
                .unwrap_or_else(|| format!("sha256:{}", &content_hash[..16])),
            source: self.snapshot.describe(),
        }
    }

    /// Takes an environment through the whole pipeline — load, compile,
    /// locate every finding — and returns everything a caller needs. The
    /// one way from files to a ruleset: flagctl and flagd both use it.
    ///
    /// ```no_run
    /// let repo = hotswap_flags_core::Repository::open("flags-example")?;
    /// let checked = repo.check_env("staging")?;
    /// for d in &checked.diagnostics {
    ///     eprintln!("{d}"); // envs/staging/checkout.yaml:12:7: error: …
    /// }
    /// println!("{} flags, valid: {}", checked.loaded.model.flags.len(), !checked.has_errors());
    /// # Ok::<(), hotswap_flags_core::RepoError>(())
    /// ```
    pub fn check_env(&self, name: &str) -> Result<Checked, RepoError> {
        let files = self.read_env(name)?;
        Ok(self.check_files(name, files, None))
    }

    /// [`Repository::check_env`] over files already read (by
    /// [`Repository::read_env`]), reusing the readings of unchanged files
    /// from `cache` (see [`ReadCache`]). The whole environment is compiled
    /// either way.
    pub fn check_files(
        &self,
        name: &str,
        files: EnvFiles,
        cache: Option<&mut ReadCache>,
    ) -> Checked {
        let fingerprint = self.fingerprint(&files);
        let meta = self.meta(name, &files.content_hash);
        let loaded = files.load(cache);
        let mut checked = loaded.check(&self.config.metrics, meta);
        checked.fingerprint = fingerprint;
        checked
    }

    /// Loads an environment ready to evaluate, or fails with its errors.
    pub fn ruleset(&self, name: &str) -> Result<Ruleset, RepoError> {
        let checked = self.check_env(name)?;
        checked.ruleset.ok_or(RepoError::Invalid {
            env: name.to_owned(),
            diagnostics: checked.diagnostics,
        })
    }
}

/// Parses and checks `flags.toml`; findings are located in that file.
pub fn parse_config(bytes: &[u8]) -> (Option<RepoConfig>, Vec<Diagnostic>) {
    let located = |d: Diagnostic| d.in_file(CONFIG_FILE);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return (
            None,
            vec![located(Diagnostic::error(
                KeyPath::root(),
                "file is not UTF-8",
            ))],
        );
    };
    let node = match parse_document(text, Format::Toml) {
        Ok(node) => node,
        Err(e) => return (None, vec![located(e.into_diagnostic())]),
    };
    match from_node::<RepoConfig>(&node) {
        Err(e) => (None, vec![located(e.into_diagnostic(&KeyPath::root()))]),
        Ok(config) => {
            let mut diags: Vec<Diagnostic> = validate_config(&config)
                .into_iter()
                .map(|d| {
                    let pos = node.report_position(&d.path);
                    located(d.at(pos))
                })
                .collect();
            sort_diagnostics(&mut diags);
            (Some(config), diags)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn repo_with(config: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join(CONFIG_FILE), config).unwrap();
        for (path, text) in files {
            let p = tmp.path().join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        tmp
    }

    const CONFIG: &str =
        "version = 1\n[[environments]]\nname = \"staging\"\npath = \"envs/staging\"\n";

    #[test]
    fn loads_and_evaluates() {
        let tmp = repo_with(
            CONFIG,
            &[(
                "envs/staging/a.yaml",
                "flags:\n  x: {type: string, variants: {a: A, b: B}, default: b}\n",
            )],
        );
        let repo = Repository::open(tmp.path()).unwrap();
        let rs = repo.ruleset("staging").unwrap();
        assert!(rs.version().starts_with("sha256:"));
        let ev = rs
            .evaluate("x", &crate::Context::new(), &crate::EvalEnv::now())
            .unwrap();
        assert_eq!(ev.value(), "B");
    }

    #[test]
    fn unknown_env_suggests() {
        let tmp = repo_with(CONFIG, &[]);
        let repo = Repository::open(tmp.path()).unwrap();
        let err = repo.load_env("stagng").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown environment `stagng` (did you mean `staging`?)"
        );
    }

    #[test]
    fn bad_config_is_located() {
        let tmp = repo_with(
            "version = 2\n[[environments]]\nname = \"a\"\npath = \"../x\"\n",
            &[],
        );
        let err = Repository::open(tmp.path()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("flags.toml:1:11: error: unsupported version 2"),
            "{text}"
        );
        assert!(
            text.contains("flags.toml:4:8: error: `../x` must be a relative path"),
            "{text}"
        );
    }

    #[test]
    fn missing_config() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Repository::open(tmp.path()).unwrap_err();
        assert!(matches!(err, RepoError::MissingConfig(_)));
        // Messages name the directory as the user wrote it, not `dir:…`.
        assert_eq!(
            err.to_string(),
            format!(
                "no flags.toml in {}: is this a flags repository? (`flagctl init` creates one)",
                tmp.path().display()
            )
        );
        let missing = tmp.path().join("nonexist");
        let err = Repository::open(&missing).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{} does not exist", missing.display())
        );
    }
}
