//! Promotion: copy flag definitions from one environment to the next as a
//! reviewable change.
//!
//! Approval is pull-request review, so a promotion is a branch with one
//! commit, never a write to the working tree ([`branch`]): everything is
//! read from HEAD, the target files are edited as text so that their
//! comments, order and other flags stay exactly as they were, and the
//! result is validated before anything is written.

mod json;
mod text;
mod toml;
mod yaml;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::branch::{self, BranchError, EditError, FileEdit, render};
use crate::diff::{defining_file, segments_used};
use crate::repo::RepoError;
use crate::repo::load::LoadedEnv;
use crate::repo::snapshot::{Snapshot, join};
use hotswap_flags_core::diagnostic::{Diagnostic, did_you_mean};
use hotswap_flags_core::model::Flag;
use hotswap_flags_core::parse::Format;

/// Why a promotion could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    /// Reading the repository or its files, editing a file, git.
    #[error(transparent)]
    Branch(#[from] BranchError),
    /// Source and target are the same.
    #[error("--from and --to are both `{0}`")]
    SameEnv(String),
    /// No flag of that key in the source.
    #[error("no flag `{flag}` in `{env}` at HEAD{hint}")]
    UnknownFlag {
        /// The flag key asked for.
        flag: String,
        /// The source environment.
        env: String,
        /// A suggestion.
        hint: String,
    },
    /// The source environment has errors.
    #[error("environment `{env}` does not validate at HEAD:\n{}", render(.diagnostics))]
    SourceInvalid {
        /// The environment.
        env: String,
        /// Its errors.
        diagnostics: Vec<Diagnostic>,
    },
    /// The target would have errors.
    #[error("promoting would leave `{env}` invalid; nothing was written:\n{}", render(.diagnostics))]
    ResultInvalid {
        /// The target environment.
        env: String,
        /// The errors of the result.
        diagnostics: Vec<Diagnostic>,
    },
}

impl From<RepoError> for PromoteError {
    fn from(e: RepoError) -> Self {
        PromoteError::Branch(e.into())
    }
}

/// What a promotion will do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The commit everything was read from.
    pub head: git2::Oid,
    /// The flags repository's place inside the git repository.
    pub prefix: String,
    /// Source environment.
    pub from: String,
    /// Target environment.
    pub to: String,
    /// Flags whose definitions are written.
    pub promoted: Vec<String>,
    /// Flags already identical in the target.
    pub identical: Vec<String>,
    /// Segments copied because the target lacked them.
    pub segments: Vec<String>,
    /// Segments the flags use that exist in the target with another
    /// definition (kept as they are: membership is per environment).
    pub segments_differing: Vec<String>,
    /// The files written.
    pub edits: Vec<FileEdit>,
}

impl Plan {
    /// True when there is nothing to commit.
    pub fn is_noop(&self) -> bool {
        self.edits.is_empty()
    }
}

/// A definition as found in its source file.
enum SourceDef {
    Yaml(yaml::YamlDef),
    Json(json::JsonDef),
    Toml(toml_edit::Item),
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// The schema modeline editors read, if a YAML file starts with one.
fn modeline(text: &str) -> Option<&str> {
    text.lines()
        .next()
        .filter(|l| l.starts_with("# yaml-language-server:"))
}

/// Reads a file as text, from the edits made so far or the snapshot.
fn current(
    snapshot: &dyn Snapshot,
    edits: &BTreeMap<String, FileEdit>,
    path: &str,
) -> Result<Option<String>, BranchError> {
    if let Some(e) = edits.get(path) {
        return Ok(Some(e.text.clone()));
    }
    match snapshot.read(path)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| BranchError::Edit {
                path: path.to_owned(),
                reason: EditError::Parse("not UTF-8".into()),
            }),
    }
}

/// Works out the edits that promote `flags` from `from` to `to`, reading
/// everything at HEAD of the git repository holding `root`, and validates
/// the result. Nothing is written.
pub fn plan(root: &Path, flags: &[String], from: &str, to: &str) -> Result<Plan, PromoteError> {
    if from == to {
        return Err(PromoteError::SameEnv(from.to_owned()));
    }
    let branch::Head {
        commit: head,
        prefix,
        repo,
    } = branch::head(root)?;
    let from_cfg = repo.environment(from)?.clone();
    let to_cfg = repo.environment(to)?.clone();

    let checked = repo.check_env(from)?;
    if checked.has_errors() {
        return Err(PromoteError::SourceInvalid {
            env: from.to_owned(),
            diagnostics: checked.diagnostics,
        });
    }
    let source = checked.loaded;
    let target = repo.load_env(to)?;

    let mut plan = Plan {
        head,
        prefix,
        from: from.to_owned(),
        to: to.to_owned(),
        promoted: Vec::new(),
        identical: Vec::new(),
        segments: Vec::new(),
        segments_differing: Vec::new(),
        edits: Vec::new(),
    };
    let wanted = select(&mut plan, flags, &source, &target)?;

    let snapshot = repo.snapshot();
    let mut edits: BTreeMap<String, FileEdit> = BTreeMap::new();
    for (section, key) in &wanted {
        write_definition(
            snapshot,
            &source,
            &target,
            (&from_cfg.path, &to_cfg.path),
            section,
            key,
            &mut edits,
        )?;
    }
    plan.edits = edits.into_values().collect();
    if plan.edits.is_empty() {
        return Ok(plan);
    }

    let checked = branch::with_edits(root, head, &plan.edits)?.check_env(to)?;
    if checked.has_errors() {
        return Err(PromoteError::ResultInvalid {
            env: to.to_owned(),
            diagnostics: checked.diagnostics,
        });
    }
    Ok(plan)
}

/// Sorts `flags` into the plan's promoted and identical ones, and the
/// segments they use into those copied and those differing; returns the
/// definitions to write, as (section, key), in that order.
fn select(
    plan: &mut Plan,
    flags: &[String],
    source: &LoadedEnv,
    target: &LoadedEnv,
) -> Result<Vec<(&'static str, String)>, PromoteError> {
    let mut wanted = Vec::new();
    for flag in flags {
        let Some(def) = source.model.flags.get(flag) else {
            return Err(PromoteError::UnknownFlag {
                flag: flag.clone(),
                env: plan.from.clone(),
                hint: did_you_mean(flag, source.model.flags.keys().map(String::as_str))
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default(),
            });
        };
        if plan.promoted.contains(flag) || plan.identical.contains(flag) {
            continue;
        }
        if target.model.flags.get(flag) == Some(def) {
            plan.identical.push(flag.clone());
        } else {
            plan.promoted.push(flag.clone());
            wanted.push(("flags", flag.clone()));
        }
        select_segments(plan, def, source, target, &mut wanted);
    }
    Ok(wanted)
}

/// The segments `def` uses: copied where the target lacks them, noted
/// where the target defines them otherwise (membership is per
/// environment, so those are kept as they are).
fn select_segments(
    plan: &mut Plan,
    def: &Flag,
    source: &LoadedEnv,
    target: &LoadedEnv,
    wanted: &mut Vec<(&'static str, String)>,
) {
    for seg in segments_used(&source.model, def) {
        match target.model.segments.get(&seg) {
            None if !plan.segments.contains(&seg) => {
                plan.segments.push(seg.clone());
                wanted.push(("segments", seg));
            }
            Some(t)
                if Some(t) != source.model.segments.get(&seg)
                    && !plan.segments_differing.contains(&seg) =>
            {
                plan.segments_differing.push(seg);
            }
            _ => {}
        }
    }
}

/// Writes one definition into the target: the file already holding it,
/// else the file mirroring the source file's name.
fn write_definition(
    snapshot: &dyn Snapshot,
    source: &LoadedEnv,
    target: &LoadedEnv,
    (from_path, to_path): (&str, &str),
    section: &str,
    key: &str,
    edits: &mut BTreeMap<String, FileEdit>,
) -> Result<(), BranchError> {
    let src_path = defining_file(source, section, key).ok_or_else(|| BranchError::Edit {
        path: from_path.to_owned(),
        reason: EditError::Missing,
    })?;
    let dst_path = match defining_file(target, section, key) {
        Some(p) => p,
        None => {
            let base = format!("{}/", from_path.trim_end_matches('/'));
            let rel = src_path.strip_prefix(&base).unwrap_or(&src_path);
            join(to_path.trim_end_matches('/'), rel)
        }
    };
    let edit_err = |path: &str| {
        let path = path.to_owned();
        move |reason: EditError| BranchError::Edit { path, reason }
    };
    let src_text = current(snapshot, &BTreeMap::new(), &src_path)?.unwrap_or_default();
    let value = source
        .files
        .iter()
        .find(|f| f.path == src_path)
        .and_then(|f| f.node.as_ref())
        .and_then(|n| n.get(section))
        .and_then(|s| s.get(key))
        .map(|n| strip_nulls(n.to_json()))
        .unwrap_or(Value::Null);
    let src_def = match Format::from_path(&src_path) {
        Some(Format::Yaml) => {
            SourceDef::Yaml(yaml::extract(&src_text, section, key).map_err(edit_err(&src_path))?)
        }
        Some(Format::Json) => {
            SourceDef::Json(json::extract(&src_text, section, key).map_err(edit_err(&src_path))?)
        }
        _ => SourceDef::Toml(toml::extract(&src_text, section, key).map_err(edit_err(&src_path))?),
    };
    let existing = current(snapshot, edits, &dst_path)?;
    let created = edits
        .get(&dst_path)
        .map_or(existing.is_none(), |e| e.created);
    let text = match Format::from_path(&dst_path) {
        Some(Format::Yaml) => {
            let def = match &src_def {
                SourceDef::Yaml(d) => d.clone(),
                _ => yaml::emit(key, &value),
            };
            let mut out = yaml::upsert(existing.as_deref(), section, key, &def)
                .map_err(edit_err(&dst_path))?;
            if existing.is_none()
                && let Some(line) = modeline(&src_text)
            {
                out = format!("{line}\n{out}");
            }
            out
        }
        Some(Format::Json) => {
            let def = match &src_def {
                SourceDef::Json(d) => d.clone(),
                _ => json::emit(&value),
            };
            json::upsert(existing.as_deref(), section, key, &def).map_err(edit_err(&dst_path))?
        }
        _ => {
            let item = match &src_def {
                SourceDef::Toml(i) => i.clone(),
                _ => toml::emit(&value),
            };
            toml::upsert(existing.as_deref(), section, key, &item).map_err(edit_err(&dst_path))?
        }
    };
    edits.insert(
        dst_path.clone(),
        FileEdit {
            path: dst_path,
            created,
            text,
        },
    );
    Ok(())
}

/// `text` (the file at `path`) without the definition `section.key`, by
/// the file's format: the text editors promotions use, so that a removal
/// keeps the file's comments and layout as a promotion does.
pub fn remove_definition(
    text: &str,
    path: &str,
    section: &str,
    key: &str,
) -> Result<String, EditError> {
    match Format::from_path(path) {
        Some(Format::Yaml) => yaml::remove(text, section, key),
        Some(Format::Json) => json::remove(text, section, key),
        _ => toml::remove(text, section, key),
    }
}

/// The branch a promotion goes to by default: `promote/<to>/<first flag>`.
pub fn default_branch(plan: &Plan) -> String {
    let first = plan.promoted.first().map_or("flags", String::as_str);
    format!("promote/{}/{first}", plan.to)
}

/// The commit message (also the pull request's title, on its first line).
pub fn title(plan: &Plan) -> String {
    match plan.promoted.as_slice() {
        [one] => format!("Promote {one} to {}", plan.to),
        many => format!(
            "Promote {} flags to {}: {}",
            many.len(),
            plan.to,
            many.join(", ")
        ),
    }
}

/// Commits the plan on a new branch; returns the commit id.
pub fn commit(root: &Path, plan: &Plan, branch: &str) -> Result<git2::Oid, PromoteError> {
    let mut message = format!("{}\n\nFrom {} at {}.\n", title(plan), plan.from, plan.head);
    if !plan.segments.is_empty() {
        message.push_str(&format!("Segments copied: {}.\n", plan.segments.join(", ")));
    }
    message.push_str("\nCreated by flagctl promote.\n");
    Ok(branch::commit(
        root,
        plan.head,
        &plan.prefix,
        &plan.edits,
        branch,
        &message,
    )?)
}
