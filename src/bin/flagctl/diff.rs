//! `flagctl diff [BASE [HEAD]] [--env E] [--format table|markdown|json] [--fail-on POLICY,…]`

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use hotswap_flags_core::escape::controls;
use hotswap_flags_core::{RepoError, Repository};
use hotswap_flags_gitops::diff::policy::{DiffVerdict, PolicyReport};
use hotswap_flags_gitops::diff::{
    self, ChangeType, Kind, Policy, PolicyHit, RepoDiff, Side, percent,
};
use hotswap_flags_gitops::repo::snapshot::{DirSnapshot, GitSnapshot, Snapshot};

use crate::output::{self, Cell, Col};
use crate::repo_dir;
use crate::simulate::PopulationArgs;
use crate::{Failure, Outcome};

/// How `diff` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Aligned text for terminals.
    Table,
    /// A pull-request comment.
    Markdown,
    /// One JSON document for scripts.
    Json,
}

/// A policy `--fail-on` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// A flag is removed from an environment.
    RemovedFlag,
    /// A protected environment serves users a new variant (not offVariant) without a rollout.
    UnguardedExposure,
    /// A flag's type changes.
    TypeChange,
    /// A salt, bucketBy or bucketing changes, reshuffling users.
    Reshuffle,
    /// A flag becomes visible to client-side SDKs (clientSide).
    ClientExposure,
}

impl From<FailOn> for Policy {
    fn from(f: FailOn) -> Self {
        match f {
            FailOn::RemovedFlag => Policy::RemovedFlag,
            FailOn::UnguardedExposure => Policy::UnguardedExposure,
            FailOn::TypeChange => Policy::TypeChange,
            FailOn::Reshuffle => Policy::Reshuffle,
            FailOn::ClientExposure => Policy::ClientExposure,
        }
    }
}

/// `flagctl diff`
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The base revision (default: HEAD).
    #[arg(value_name = "BASE")]
    pub base: Option<String>,

    /// The head revision (default: the working tree).
    #[arg(value_name = "HEAD")]
    pub head: Option<String>,

    /// Only this environment.
    #[arg(long, short, value_name = "ENV")]
    pub env: Option<String>,

    /// Output for people (table), pull requests (markdown) or scripts (json).
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,

    /// Exit 1 when the diff hits one of these policies (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "POLICY")]
    pub fail_on: Vec<FailOn>,

    /// The flags repository (default: the nearest directory upwards holding
    /// flags.toml, else the git root, else `.`).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    #[command(flatten)]
    pub population: PopulationArgs,
}

/// Opens one side: a revision through git2, or the working tree.
pub fn open_side(root: &Path, rev: Option<&str>) -> anyhow::Result<Side> {
    let (snapshot, label): (Box<dyn Snapshot>, String) = match rev {
        None => (Box::new(DirSnapshot::new(root)), "working tree".to_owned()),
        Some(rev) => {
            let snap = GitSnapshot::open(root, rev)?;
            let id = snap.commit().to_string();
            (Box::new(snap), format!("{rev} ({})", &id[..7]))
        }
    };
    let repo = match Repository::from_snapshot(snapshot) {
        Ok(r) => Some(r),
        // A revision from before the repository had a flags.toml: nothing yet.
        Err(RepoError::MissingConfig(_)) if rev.is_some() => None,
        Err(e) => return Err(e.into()),
    };
    Ok(Side { label, repo })
}

pub fn run(args: &DiffArgs) -> Result<Outcome, Failure> {
    let root = repo_dir::resolve(args.repo.as_deref())?;
    let base = open_side(&root, Some(args.base.as_deref().unwrap_or("HEAD")))?;
    let head = open_side(&root, args.head.as_deref())?;
    let population = args.population.population()?;
    let opts = diff::Options {
        env: args.env.as_deref(),
        population: &population,
        now: args.population.now()?,
    };
    let result = diff::diff(&base, &head, &opts)?;
    let policies: Vec<Policy> = args.fail_on.iter().copied().map(Policy::from).collect();
    let hits = diff::policy::check(&result, &policies);
    match args.format {
        DiffFormat::Markdown => print!("{}", diff::markdown::render(&result, &hits)),
        DiffFormat::Json => output::print_json(&DiffVerdict {
            diff: &result,
            policies: PolicyReport {
                checked: &policies,
                hits: &hits,
            },
        }),
        DiffFormat::Table => print_table(&result, &hits),
    }
    Ok(if result.has_invalid() || !hits.is_empty() {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

fn print_table(d: &RepoDiff, hits: &[PolicyHit]) {
    print!("{}", render_table(d, hits, output::width()));
}

/// The diff for a terminal of `width` columns: each environment's changes
/// as a table, its lines and the notes wrapped to fit (README, "Output").
pub fn render_table(d: &RepoDiff, hits: &[PolicyHit], width: usize) -> String {
    let mut out = String::new();
    let line = |out: &mut String, text: &str| {
        out.push_str(&output::paragraph(width, text, 2));
        out.push('\n');
    };
    line(&mut out, &format!("diff {} → {}", d.base, d.head));
    for e in &d.environments {
        let protected = if e.protected { " (protected)" } else { "" };
        for inv in &e.invalid {
            out.push('\n');
            line(
                &mut out,
                &format!(
                    "{}{protected}: the {} side ({}) does not validate:",
                    e.env, inv.side, inv.revision
                ),
            );
            for err in &inv.errors {
                // A finding is one line and its hint (Diagnostic's Display
                // escapes what it quotes), kept whole for editors.
                for l in err.split('\n') {
                    out.push_str("  ");
                    out.push_str(&controls(l));
                    out.push('\n');
                }
            }
        }
        if e.is_invalid() {
            continue;
        }
        if e.changes.is_empty() && e.moved.is_empty() {
            out.push('\n');
            line(&mut out, &format!("{}{protected}: no changes", e.env));
            continue;
        }
        out.push('\n');
        line(
            &mut out,
            &format!(
                "{}{protected}: {} change{}, {} of users served differently",
                e.env,
                e.changes.len(),
                if e.changes.len() == 1 { "" } else { "s" },
                e.affected_share.map_or_else(|| "–".to_owned(), percent)
            ),
        );
        if !e.changes.is_empty() {
            let header = ["kind", "key", "change", "affected", "what"]
                .map(String::from)
                .to_vec();
            let header: Vec<Cell> = header.into_iter().map(Cell::from).collect();
            let rows = e.changes.iter().map(|c| {
                let what = match c.change {
                    // One field a line, each escaped on its own.
                    ChangeType::Modified => {
                        Cell::Lines(c.fields.iter().map(|f| f.text.to_string()).collect())
                    }
                    ChangeType::Added | ChangeType::Removed if c.kind == Kind::Flag => {
                        let verb = if c.change == ChangeType::Added {
                            "serves"
                        } else {
                            "served"
                        };
                        Cell::from(format!("{verb} {}", diff::markdown::exposure(&c.exposure)))
                    }
                    _ => Cell::from(""),
                };
                vec![
                    c.kind.as_str().into(),
                    c.key.clone().into(),
                    c.change.as_str().into(),
                    c.affected_share
                        .map_or_else(|| "–".to_owned(), percent)
                        .into(),
                    what,
                ]
            });
            let cols = [Col::Id, Col::Id, Col::Id, Col::Id, Col::Text];
            out.push_str(&output::table_in(
                width,
                &cols,
                std::iter::once(header).chain(rows),
            ));
            out.push('\n');
        }
        for m in &e.moved {
            let kind = m.kind.as_str();
            let moved = format!("moved: {kind} `{}` {} → {}", m.key, m.from, m.to);
            line(&mut out, &moved);
        }
    }
    out.push('\n');
    let note = diff::markdown::method_note(d).to_string().replace('`', "");
    line(&mut out, &note);
    for h in hits {
        let hit = format!("✗ policy {} ({}): {}", h.policy, h.env, h.message);
        line(&mut out, &hit);
    }
    out
}
