//! `flagctl validate [--env E] [PATHS…]`

use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;
use hotswap_flags_core::diagnostic::sort_diagnostics;
use hotswap_flags_core::model::MetricsConfig;
use hotswap_flags_core::ruleset::RulesetMeta;
use hotswap_flags_core::{Diagnostic, LoadedEnv, RepoError, Repository};
use hotswap_flags_gitops::lifecycle::expiry::expired;
use hotswap_flags_gitops::repo::load::load_files;
use serde_json::json;

use crate::cli::{OutputFormat, ValidateArgs};
use crate::output::{self, Col};
use crate::repo_dir;
use crate::{Failure, Outcome};

/// What one checked environment (or loose set of files) amounts to.
pub struct EnvSummary {
    pub name: String,
    pub flags: usize,
    pub segments: usize,
    /// Files that did not parse: their flags are in no count, so the
    /// summary says how many (README, "flagctl").
    pub unreadable: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// Every environment checked, and every finding.
#[derive(Default)]
pub struct Report {
    pub envs: Vec<EnvSummary>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Adds an environment's findings, keeping only those `keep` accepts.
    fn add(
        &mut self,
        name: &str,
        counts: (usize, usize, usize),
        diags: Vec<Diagnostic>,
        keep: impl Fn(&Diagnostic) -> bool,
    ) {
        let diags: Vec<Diagnostic> = diags.into_iter().filter(|d| keep(d)).collect();
        let (flags, segments, unreadable) = counts;
        self.envs.push(EnvSummary {
            name: name.to_owned(),
            flags,
            segments,
            unreadable,
            errors: diags.iter().filter(|d| d.is_error()).count(),
            warnings: diags.iter().filter(|d| !d.is_error()).count(),
        });
        self.diagnostics.extend(diags);
    }
}

pub fn run(args: &ValidateArgs) -> Result<Outcome, Failure> {
    let root = repo_dir::resolve(args.repo.repo.as_deref())?;
    let mut report = Report::default();
    if args.paths.is_empty() {
        check_repo(&root, args.env.as_deref(), &mut report)?;
    } else {
        check_paths(&root, &args.paths, args.env.as_deref(), &mut report)?;
    }
    let shown_root = display_root(&root, args.repo.repo.is_some());
    for d in &mut report.diagnostics {
        if let Some(file) = &d.file {
            d.file = Some(shown_root.join(file).display().to_string());
        }
    }
    let failed = print(&report, args.repo.format, args.strict);
    Ok(if failed {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

/// Opens the repository; an invalid `flags.toml` is a finding, not a crash.
fn open(root: &Path, report: &mut Report) -> anyhow::Result<Option<Repository>> {
    match Repository::open(root) {
        Ok(repo) => {
            report
                .diagnostics
                .extend(repo.config_warnings().iter().cloned());
            Ok(Some(repo))
        }
        Err(RepoError::InvalidConfig(diags)) => {
            report.add("flags.toml", (0, 0, 0), diags, |_| true);
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn check_repo(root: &Path, only: Option<&str>, report: &mut Report) -> anyhow::Result<()> {
    let Some(repo) = open(root, report)? else {
        return Ok(());
    };
    let envs: Vec<String> = match only {
        Some(name) => vec![repo.environment(name)?.name.clone()],
        None => repo
            .config()
            .environments
            .iter()
            .map(|e| e.name.clone())
            .collect(),
    };
    for env in envs {
        check_env(&repo, &env, report, |_| true)?;
    }
    Ok(())
}

fn check_env(
    repo: &Repository,
    env: &str,
    report: &mut Report,
    keep: impl Fn(&Diagnostic) -> bool,
) -> anyhow::Result<()> {
    let checked = repo.check_env(env)?;
    let diagnostics = with_expired(checked.diagnostics, &checked.loaded);
    report.add(env, counts(&checked.loaded), diagnostics, keep);
    Ok(())
}

/// The findings plus a warning for each flag past its `expires` date
/// (today in UTC), in file order.
fn with_expired(mut diagnostics: Vec<Diagnostic>, loaded: &LoadedEnv) -> Vec<Diagnostic> {
    let today = hotswap_flags_gitops::lifecycle::utc_date(jiff::Timestamp::now());
    diagnostics.extend(expired(loaded, today));
    sort_diagnostics(&mut diagnostics);
    diagnostics
}

/// Flags, segments, and files that did not parse (holding flags no count
/// includes).
fn counts(loaded: &LoadedEnv) -> (usize, usize, usize) {
    let unreadable = loaded.files.iter().filter(|f| f.node.is_none()).count();
    (
        loaded.model.flags.len(),
        loaded.model.segments.len(),
        unreadable,
    )
}

/// Checks given files: those inside an environment with the rest of it (flag
/// files merge), the others on their own.
fn check_paths(
    root: &Path,
    paths: &[PathBuf],
    only: Option<&str>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let repo = if root.join(hotswap_flags_gitops::repo::CONFIG_FILE).is_file() {
        open(root, report)?
    } else {
        None
    };
    let root_abs =
        std::fs::canonicalize(root).with_context(|| format!("cannot open {}", root.display()))?;
    let mut by_env: Vec<(String, Vec<String>)> = Vec::new();
    let mut loose: Vec<PathBuf> = Vec::new();
    for path in paths {
        let abs = std::fs::canonicalize(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let rel = abs
            .strip_prefix(&root_abs)
            .ok()
            .map(|p| p.to_string_lossy().replace('\\', "/"));
        let envs: Vec<String> = match (&repo, &rel) {
            (Some(repo), Some(rel)) => repo
                .config()
                .environments
                .iter()
                .filter(|e| only.is_none_or(|o| o == e.name))
                .filter(|e| overlaps(rel, e.path.trim_end_matches('/')))
                .map(|e| e.name.clone())
                .collect(),
            _ => Vec::new(),
        };
        match rel {
            Some(rel) if !envs.is_empty() => {
                for env in envs {
                    match by_env.iter_mut().find(|(e, _)| *e == env) {
                        Some((_, prefixes)) => prefixes.push(rel.clone()),
                        None => by_env.push((env, vec![rel.clone()])),
                    }
                }
            }
            _ => loose.push(path.clone()),
        }
    }
    if let Some(repo) = &repo {
        for (env, prefixes) in by_env {
            check_env(repo, &env, report, |d| {
                d.file
                    .as_ref()
                    .is_none_or(|f| prefixes.iter().any(|p| overlaps(f, p)))
            })?;
        }
    }
    if !loose.is_empty() {
        check_loose(&loose, repo.as_ref().map(|r| &r.config().metrics), report)?;
    }
    Ok(())
}

/// Whether one repository-relative path contains the other (`""` is the root).
fn overlaps(a: &str, b: &str) -> bool {
    a.is_empty()
        || b.is_empty()
        || a == b
        || a.starts_with(&format!("{b}/"))
        || b.starts_with(&format!("{a}/"))
}

/// Files outside any environment form one ad-hoc environment.
fn check_loose(
    paths: &[PathBuf],
    metrics: Option<&MetricsConfig>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for path in paths {
        let listed = if path.is_dir() {
            let snap = hotswap_flags_gitops::repo::snapshot::DirSnapshot::new(path);
            snap_files(&snap)?
                .into_iter()
                .map(|p| path.join(p))
                .collect()
        } else {
            vec![path.clone()]
        };
        for file in listed {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            files.push((file.display().to_string(), bytes));
        }
    }
    let loaded = load_files(files);
    let meta = RulesetMeta {
        env: "(files)".into(),
        version: loaded.content_hash.clone(),
        source: "files".into(),
    };
    let checked = loaded.check(metrics.unwrap_or(&MetricsConfig::default()), meta);
    let diagnostics = with_expired(checked.diagnostics, &checked.loaded);
    report.add("(files)", counts(&checked.loaded), diagnostics, |_| true);
    Ok(())
}

fn snap_files(
    snap: &hotswap_flags_gitops::repo::snapshot::DirSnapshot,
) -> anyhow::Result<Vec<String>> {
    use hotswap_flags_gitops::repo::snapshot::Snapshot;
    Ok(snap.list("")?)
}

/// How to show the repository root in front of repository-relative paths,
/// so that the printed `file:line:col` opens from the current directory.
fn display_root(root: &Path, explicit: bool) -> PathBuf {
    if explicit {
        return root.to_path_buf();
    }
    let (Ok(cwd), Ok(root_abs)) = (std::env::current_dir(), std::fs::canonicalize(root)) else {
        return root.to_path_buf();
    };
    let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
    match cwd.strip_prefix(&root_abs) {
        Ok(below) => below
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .map(|_| "..")
            .collect(),
        Err(_) => root_abs,
    }
}

/// Prints the report; returns whether the run failed: errors, or with
/// `strict` warnings too.
fn print(report: &Report, format: OutputFormat, strict: bool) -> bool {
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = report.diagnostics.len() - errors;
    let failed = errors > 0 || (strict && warnings > 0);
    match format {
        OutputFormat::Json => output::print_json(&json!({
            "ok": !failed,
            "strict": strict,
            "errors": errors,
            "warnings": warnings,
            "environments": report.envs.iter().map(|e| json!({
                "env": e.name,
                "flags": e.flags,
                "segments": e.segments,
                "unreadableFiles": e.unreadable,
                "errors": e.errors,
                "warnings": e.warnings,
            })).collect::<Vec<_>>(),
            "diagnostics": report.diagnostics,
        })),
        OutputFormat::Table => print!("{}", render_table(report, strict, output::width())),
    }
    failed
}

/// The report for a terminal of `width` columns: each finding as its lines
/// (kept whole for editors; Diagnostic's Display escapes what it quotes),
/// then a table of the environments that fits.
pub fn render_table(report: &Report, strict: bool, width: usize) -> String {
    let errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = report.diagnostics.len() - errors;
    let failed = errors > 0 || (strict && warnings > 0);
    let mut out = String::new();
    for d in &report.diagnostics {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    if !report.diagnostics.is_empty() {
        out.push('\n');
    }
    let header = vec!["environment", "flags", "segments", "errors", "warnings"]
        .into_iter()
        .map(String::from)
        .collect();
    let rows = std::iter::once(header).chain(report.envs.iter().map(|e| {
        vec![
            e.name.clone(),
            match e.unreadable {
                0 => e.flags.to_string(),
                1 => format!("{} + 1 unreadable file", e.flags),
                n => format!("{} + {n} unreadable files", e.flags),
            },
            e.segments.to_string(),
            e.errors.to_string(),
            e.warnings.to_string(),
        ]
    }));
    let cols = [Col::Id, Col::Text, Col::Id, Col::Id, Col::Id];
    out.push_str(&output::table_in(width, &cols, rows));
    out.push('\n');
    let mark = if failed { "✗" } else { "✓" };
    let strict_note = if strict && warnings > 0 {
        " (--strict: warnings are findings)"
    } else {
        ""
    };
    out.push_str(&format!(
        "{mark} {} error{}, {} warning{}{strict_note}\n",
        errors,
        plural(errors),
        warnings,
        plural(warnings)
    ));
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
