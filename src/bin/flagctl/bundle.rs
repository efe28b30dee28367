//! `flagctl bundle --env E [--rev REV] -o FILE [--sign-key KEY]`

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use hotswap_flags::Repository;
use hotswap_flags::bundle::Bundle;
use hotswap_flags::fsutil::write_atomic;
use hotswap_flags::signing::SigningKey;
use hotswap_flags::source::{DirSnapshot, GitSnapshot, Snapshot};
use serde_json::json;

use crate::Outcome;
use crate::cli::{OutputFormat, RepoArgs};
use crate::output;
use crate::repo_dir;

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

pub fn run(args: &BundleArgs) -> anyhow::Result<Outcome> {
    // Read the key first: a bad key path should fail before any work.
    let key = args.sign_key.as_deref().map(SigningKey::read).transpose()?;
    let root = repo_dir::resolve(args.repo.repo.as_deref())?;
    let snapshot: Box<dyn Snapshot> = match &args.rev {
        Some(rev) => Box::new(GitSnapshot::open(&root, rev)?),
        None => Box::new(DirSnapshot::new(&root)),
    };
    let commit = snapshot.revision();
    let repo = Repository::from_snapshot(snapshot)?;
    let loaded = repo.load_env(&args.env)?;
    let meta = repo.meta(&args.env, &loaded);
    let checked = loaded.check(&repo.config().metrics, meta.clone());
    if checked.has_errors() {
        for d in checked.diagnostics.iter().filter(|d| d.is_error()) {
            eprintln!("{d}");
        }
        eprintln!(
            "error: environment `{}` does not validate; no bundle written",
            args.env
        );
        return Ok(Outcome::Findings);
    }
    let mut bundle = Bundle::new(&meta, commit, repo.config().metrics.clone(), loaded.model);
    if let Some(key) = &key {
        bundle.sign(key)?;
    }
    let signed_by = bundle.signature.as_ref().map(|s| s.key_id.clone());
    let bytes = bundle.to_bytes();
    if args.output.as_os_str() == "-" {
        use std::io::Write;
        std::io::stdout().write_all(&bytes)?;
        return Ok(Outcome::Ok);
    }
    write_atomic(&args.output, &bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let flags = bundle.content.model.flags.len();
    let segments = bundle.content.model.segments.len();
    match args.repo.format {
        OutputFormat::Json => output::print_json(&json!({
            "file": args.output.display().to_string(),
            "env": bundle.env,
            "version": bundle.version,
            "sourceCommit": bundle.source_commit,
            "contentHash": bundle.content_hash,
            "signedBy": signed_by,
            "flags": flags,
            "segments": segments,
        })),
        OutputFormat::Table => println!(
            "{}",
            output::fields([
                ("wrote", args.output.display().to_string()),
                ("env", bundle.env.clone()),
                ("version", bundle.version.clone()),
                (
                    "commit",
                    bundle
                        .source_commit
                        .clone()
                        .unwrap_or_else(|| "– (working tree)".into())
                ),
                ("content", bundle.content_hash.clone()),
                (
                    "signed",
                    signed_by.map_or_else(|| "no".to_owned(), |k| format!("by key {k}"))
                ),
                ("defines", format!("{flags} flags, {segments} segments")),
            ])
        ),
    }
    Ok(Outcome::Ok)
}
