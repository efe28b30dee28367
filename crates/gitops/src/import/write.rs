//! Puts translations into an environment's directory: one YAML flag file
//! per input, written only after the environment has been checked with
//! them, so that bad output or a clash with the flags already there writes
//! nothing.

use std::collections::HashSet;
use std::path::Path;

use hotswap_flags_core::repo::load::EnvFiles;
use hotswap_flags_core::{Diagnostic, RepoError, Repository};

use super::yaml::render_flag_file;
use super::{Translation, WrittenFile};
use crate::fsutil;

/// The words every imported file's first line starts with: the writer
/// replaces a file only if it carries them, never one written by hand.
pub const ORIGIN_MARK: &str = "Imported by `flagctl import";

/// Why nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The repository or environment cannot be read.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The file to write exists and was not written by an import.
    #[error(
        "{path} exists and was not written by `flagctl import`: move it, or rename the input file"
    )]
    Foreign {
        /// Relative to the repository root.
        path: String,
    },
    /// Two inputs have the same file stem.
    #[error("two inputs would both be written to {path}: rename one of them")]
    SameFile {
        /// Relative to the repository root.
        path: String,
    },
    /// The environment would not validate with the imported files (a flag
    /// key already defined in another file, say).
    #[error("environment `{env}` would not validate with the imported flags, so nothing was written:\n{}", render(.errors))]
    Invalid {
        /// The environment.
        env: String,
        /// The errors the import would add.
        errors: Vec<Diagnostic>,
    },
    /// Reading or writing a file failed.
    #[error("cannot write {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

fn render(diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| format!("{d}\n")).collect::<String>()
}

/// Writes each translation as `<env dir>/<stem>.yaml`, with a header naming
/// `tool` and the input. Files whose bytes would not change are left
/// alone; every other file is replaced atomically.
pub fn write(
    repo_dir: &Path,
    env: &str,
    tool: &str,
    translations: &[Translation],
) -> Result<Vec<WrittenFile>, WriteError> {
    let repo = Repository::open(repo_dir)?;
    let dir = env_dir(&repo.environment(env)?.path);
    let mut planned: Vec<(String, Vec<u8>, usize)> = Vec::new();
    let mut seen = HashSet::new();
    for t in translations {
        let path = if dir.is_empty() {
            format!("{}.yaml", t.stem)
        } else {
            format!("{dir}/{}.yaml", t.stem)
        };
        if !seen.insert(path.clone()) {
            return Err(WriteError::SameFile { path });
        }
        let text = render_flag_file(&header(tool, &t.source), &t.flags, &t.segments);
        planned.push((path, text.into_bytes(), t.flags.len()));
    }
    let before = repo.read_env(env)?;
    for (path, _, _) in &planned {
        if let Some((_, bytes)) = before.files.iter().find(|(p, _)| p == path)
            && !String::from_utf8_lossy(bytes)
                .lines()
                .next()
                .is_some_and(|l| l.contains(ORIGIN_MARK))
        {
            return Err(WriteError::Foreign { path: path.clone() });
        }
        if repo_dir.join(path).exists() && !before.files.iter().any(|(p, _)| p == path) {
            return Err(WriteError::Foreign { path: path.clone() });
        }
    }
    check(&repo, env, &before, &planned)?;
    let mut written = Vec::with_capacity(planned.len());
    for (path, bytes, flags) in planned {
        let unchanged = before
            .files
            .iter()
            .any(|(p, old)| *p == path && *old == bytes);
        if !unchanged {
            fsutil::write_atomic(&repo_dir.join(&path), &bytes).map_err(|error| {
                WriteError::Io {
                    path: path.clone(),
                    error,
                }
            })?;
        }
        written.push(WrittenFile {
            path,
            flags,
            changed: !unchanged,
        });
    }
    Ok(written)
}

/// The environment's errors with the planned files in place, less those it
/// had already: any left means the import must not be written.
fn check(
    repo: &Repository,
    env: &str,
    before: &EnvFiles,
    planned: &[(String, Vec<u8>, usize)],
) -> Result<(), WriteError> {
    let old: HashSet<String> = repo
        .check_files(env, EnvFiles::new(before.files.clone()), None)
        .errors()
        .map(ToString::to_string)
        .collect();
    let mut files = before.files.clone();
    for (path, bytes, _) in planned {
        match files.iter_mut().find(|(p, _)| p == path) {
            Some(slot) => slot.1.clone_from(bytes),
            None => files.push((path.clone(), bytes.clone())),
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let checked = repo.check_files(env, EnvFiles::new(files), None);
    let errors: Vec<Diagnostic> = checked
        .errors()
        .filter(|d| !old.contains(&d.to_string()))
        .cloned()
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(WriteError::Invalid {
            env: env.to_owned(),
            errors,
        })
    }
}

/// The environment's directory as snapshot paths spell it: no `./`, no
/// trailing `/`.
fn env_dir(path: &str) -> String {
    let mut p = path.trim_end_matches('/');
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    if p == "." {
        String::new()
    } else {
        p.to_owned()
    }
}

/// The header comment: where the file came from, and what re-running does.
fn header(tool: &str, source: &str) -> String {
    let name = Path::new(source)
        .file_name()
        .map_or_else(|| source.to_owned(), |n| n.to_string_lossy().into_owned());
    format!(
        "{ORIGIN_MARK} {tool}` from {name}.\nRe-running the import rewrites this file: change the {tool} source, or stop importing and edit it here."
    )
}
