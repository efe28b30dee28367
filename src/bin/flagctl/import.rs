//! `flagctl import flagd FILE… --env E [--fractional v1|v2]` and
//! `flagctl import unleash FILE --env E`: another
//! tool's flags as flag files of an environment, with a report of what
//! could not be translated exactly (docs/migrating.md).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use hotswap_flags_gitops::import::{self, ImportReport, Translation, flagd, unleash};

use crate::cli::{OutputFormat, RepoArgs};
use crate::output;
use crate::repo_dir;
use crate::{Failure, Outcome};

/// `flagctl import`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tool to import from.
    #[command(subcommand)]
    pub tool: ImportTool,
}

/// The tools `flagctl import` reads.
#[derive(Debug, Subcommand)]
pub enum ImportTool {
    /// flagd flag definitions (JSON files with `flags`, `$evaluators`, `metadata`).
    Flagd(FlagdArgs),
    /// Unleash features: an export (`features-batch/export`), a client-API
    /// features document (`/api/client/features`) or delta-API events.
    Unleash(UnleashArgs),
}

/// `flagctl import unleash`
#[derive(Debug, Args)]
pub struct UnleashArgs {
    /// The Unleash document; it becomes `<env dir>/<file stem>.yaml`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The environment to write the flags into.
    #[arg(long, value_name = "ENV")]
    pub env: String,

    #[command(flatten)]
    pub repo: RepoArgs,
}

/// `flagctl import flagd`
#[derive(Debug, Args)]
pub struct FlagdArgs {
    /// flagd flag definition files; each becomes `<env dir>/<file stem>.yaml`.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// The environment to write the flags into.
    #[arg(long, value_name = "ENV")]
    pub env: String,

    /// Which of flagd's `fractional` algorithms the flags bucket with.
    #[arg(long, value_enum, default_value_t = FractionalArg::V2)]
    pub fractional: FractionalArg,

    #[command(flatten)]
    pub repo: RepoArgs,
}

/// `--fractional`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FractionalArg {
    /// flagd's legacy `fractional` (`bucketing: flagd-v1`).
    V1,
    /// flagd's current `fractional` (`bucketing: flagd-v2`).
    V2,
}

pub fn run(args: &ImportArgs) -> Result<Outcome, Failure> {
    match &args.tool {
        ImportTool::Flagd(a) => run_flagd(a),
        ImportTool::Unleash(a) => run_unleash(a),
    }
}

fn run_unleash(args: &UnleashArgs) -> Result<Outcome, Failure> {
    let name = args.file.display().to_string();
    let text = std::fs::read(&args.file).with_context(|| format!("cannot read {name}"))?;
    let text = String::from_utf8(text).map_err(|_| anyhow::anyhow!("{name}: not UTF-8 text"))?;
    let translation = unleash::translate(&name, &text)?;
    finish("unleash", &args.env, &args.repo, &[translation])
}

fn run_flagd(args: &FlagdArgs) -> Result<Outcome, Failure> {
    let fractional = match args.fractional {
        FractionalArg::V1 => flagd::Fractional::V1,
        FractionalArg::V2 => flagd::Fractional::V2,
    };
    let mut translations = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let name = path.display().to_string();
        let text = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
        let text =
            String::from_utf8(text).map_err(|_| anyhow::anyhow!("{name}: not UTF-8 text"))?;
        translations.push(flagd::translate(&name, &text, fractional)?);
    }
    finish("flagd", &args.env, &args.repo, &translations)
}

/// Writes the translations and prints the report; shared by every tool.
pub fn finish(
    tool: &str,
    env: &str,
    repo: &RepoArgs,
    translations: &[Translation],
) -> Result<Outcome, Failure> {
    let root = repo_dir::resolve(repo.repo.as_deref())?;
    let files = import::write(&root, env, tool, translations)?;
    let report = ImportReport::new(tool, env, translations, files);
    match repo.format {
        OutputFormat::Json => output::print_json(&report),
        OutputFormat::Table => print!("{}", report.render_text()),
    }
    Ok(if report.complete {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}
