//! `flagctl bundle --env E [--rev REV] -o FILE [--sign-key KEY]` and
//! `flagctl verify-bundle FILE [--public-key KEY]…`

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use hotswap_flags_core::Repository;
use hotswap_flags_core::bundle::Bundle;
use hotswap_flags_core::bundle::signing::{SigningKey, TrustedKeys};
use hotswap_flags_gitops::fsutil::write_atomic;
use hotswap_flags_gitops::repo::snapshot::{DirSnapshot, GitSnapshot, Snapshot};
use serde_json::{Value, json};

use crate::cli::{OutputFormat, RepoArgs};
use crate::output;
use crate::repo_dir;
use crate::{Failure, Outcome};

/// `flagctl bundle`
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The environment to bundle.
    #[arg(long, short, value_name = "ENV")]
    pub env: String,

    /// Bundle a git revision (`HEAD`, a branch, a tag, a commit) instead of
    /// the working tree; the bundle then records the commit.
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,

    /// Where to write the bundle (`-` for stdout).
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,

    /// Sign the bundle with this Ed25519 private key (PKCS#8 PEM, as
    /// `flagctl keygen` writes); flagd with --bundle-public-key then
    /// accepts it.
    #[arg(long, value_name = "KEY")]
    pub sign_key: Option<PathBuf>,

    #[command(flatten)]
    pub repo: RepoArgs,
}

pub fn run(args: &BundleArgs) -> Result<Outcome, Failure> {
    // Read the key first: a bad key path should fail before any work.
    let key = args.sign_key.as_deref().map(SigningKey::read).transpose()?;
    let root = repo_dir::resolve(args.repo.repo.as_deref())?;
    let snapshot: Box<dyn Snapshot> = match &args.rev {
        Some(rev) => Box::new(GitSnapshot::open(&root, rev)?),
        None => Box::new(DirSnapshot::new(&root)),
    };
    let commit = snapshot.revision();
    let repo = Repository::from_snapshot(snapshot)?;
    let checked = repo.check_env(&args.env)?;
    if checked.has_errors() {
        for d in checked.errors() {
            eprintln!("{d}");
        }
        eprintln!(
            "error: environment `{}` does not validate; no bundle written",
            args.env
        );
        return Ok(Outcome::Findings);
    }
    let mut bundle = Bundle::new(
        &checked.meta,
        commit,
        repo.config().metrics.clone(),
        checked.loaded.model,
    );
    if let Some(key) = &key {
        bundle.sign(key)?;
    }
    let bytes = bundle.to_bytes();
    if args.output.as_os_str() == "-" {
        use std::io::Write;
        std::io::stdout().write_all(&bytes)?;
        return Ok(Outcome::Ok);
    }
    write_atomic(&args.output, &bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let file = args.output.display().to_string();
    match args.repo.format {
        OutputFormat::Json => output::print_json(&summary_json(&file, &bundle, None)),
        OutputFormat::Table => println!("{}", summary_table("wrote", &file, &bundle, None)),
    }
    Ok(Outcome::Ok)
}

/// `flagctl verify-bundle`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle file to check.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Require a valid signature by this Ed25519 public key (PEM, as
    /// `flagctl keygen` writes FILE.pub); repeat to accept any of several,
    /// as flagd's --bundle-public-key does.
    #[arg(long, value_name = "KEY")]
    pub public_key: Vec<PathBuf>,

    /// Require the bundle to be of this environment.
    #[arg(long, short, value_name = "ENV")]
    pub env: Option<String>,

    /// Output for people (table) or scripts (json).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Runs the checks flagd runs before serving a bundle — format, content
/// hash, signature (with keys), environment, compilation — so CI can refuse
/// a bundle before publishing it rather than flagd after pulling it.
pub fn verify(args: &VerifyArgs) -> Result<Outcome, Failure> {
    let trusted = TrustedKeys::read(&args.public_key)?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let file = args.file.display().to_string();
    let checked = Bundle::verify(&bytes, trusted.as_ref(), args.env.as_deref(), &file)
        .map(|verified| verified.bundle);
    let verified = trusted.is_some();
    match (checked, args.format) {
        (Ok(bundle), OutputFormat::Json) => {
            output::print_json(&summary_json(&file, &bundle, Some(verified)));
        }
        (Ok(bundle), OutputFormat::Table) => {
            println!(
                "{}",
                summary_table("bundle", &file, &bundle, Some(verified))
            );
        }
        (Err(error), OutputFormat::Json) => {
            let error = error.to_string();
            output::print_json(&json!({ "file": file, "valid": false, "error": error }));
            return Ok(Outcome::Findings);
        }
        (Err(error), OutputFormat::Table) => {
            eprintln!("error: {file}: {error}");
            return Ok(Outcome::Findings);
        }
    }
    Ok(Outcome::Ok)
}

/// A bundle's identity for scripts; `verified` is set by verify-bundle
/// (whether the signature was checked against trusted keys).
fn summary_json(file: &str, bundle: &Bundle, verified: Option<bool>) -> Value {
    let mut out = json!({
        "file": file,
        "env": bundle.env,
        "version": bundle.version,
        "sourceCommit": bundle.source_commit,
        "createdAt": bundle.created_at,
        "contentHash": bundle.content_hash,
        "signedBy": bundle.signature.as_ref().map(|s| &s.key_id),
        "flags": bundle.content.model.flags.len(),
        "segments": bundle.content.model.segments.len(),
    });
    if let Some(verified) = verified {
        out["valid"] = Value::Bool(true);
        out["signatureVerified"] = Value::Bool(verified);
    }
    out
}

/// A bundle's identity for people; the first row names the file as `label`.
fn summary_table(label: &str, file: &str, bundle: &Bundle, verified: Option<bool>) -> String {
    let signed = match (&bundle.signature, verified) {
        (None, _) => "no".to_owned(),
        (Some(s), Some(true)) => format!("by key {} (verified)", s.key_id),
        (Some(s), Some(false)) => format!("by key {} (not checked: no --public-key)", s.key_id),
        (Some(s), None) => format!("by key {}", s.key_id),
    };
    let model = &bundle.content.model;
    output::fields([
        (label, file.to_owned()),
        ("env", bundle.env.clone()),
        ("version", bundle.version.clone()),
        (
            "commit",
            bundle
                .source_commit
                .clone()
                .unwrap_or_else(|| "– (working tree)".into()),
        ),
        ("content", bundle.content_hash.clone()),
        ("signed", signed),
        (
            "defines",
            format!(
                "{} flags, {} segments",
                model.flags.len(),
                model.segments.len()
            ),
        ),
    ])
}
