//! `flagctl keygen -o FILE`: an Ed25519 key pair for signing bundles.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use hotswap_flags_core::bundle::signing::SigningKey;
use hotswap_flags_gitops::fsutil::create_new;
use serde_json::json;

use crate::cli::OutputFormat;
use crate::output;
use crate::{Failure, Outcome, fail};

/// `flagctl keygen`
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key (PKCS#8 PEM, mode 0600); the public
    /// key goes to the same path with `.pub` appended. Existing files are
    /// never replaced.
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,

    /// Output for people (table) or scripts (json).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// `FILE.pub` beside `FILE`.
fn public_path(private: &Path) -> PathBuf {
    let mut name = private.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

pub fn run(args: &KeygenArgs) -> Result<Outcome, Failure> {
    let private = &args.output;
    let public = public_path(private);
    // Check both first so that a refusal leaves nothing half-written.
    for path in [private, &public] {
        if path.symlink_metadata().is_ok() {
            fail!(
                "{} already exists; keygen never replaces a key (remove it first, or choose another -o)",
                path.display()
            );
        }
    }
    let key = SigningKey::generate()?;
    let public_key = key.public();
    create_new(private, key.to_pem()?.as_bytes(), 0o600)
        .with_context(|| format!("cannot write {}", private.display()))?;
    if let Err(e) = create_new(&public, public_key.to_pem().as_bytes(), 0o644) {
        // Without its public half the private key is of no use to anyone:
        // do not leave it behind.
        let _ = std::fs::remove_file(private);
        return Err(anyhow::Error::new(e)
            .context(format!("cannot write {}", public.display()))
            .into());
    }
    let key_id = public_key.key_id();
    match args.format {
        OutputFormat::Json => output::print_json(&json!({
            "privateKey": private.display().to_string(),
            "publicKey": public.display().to_string(),
            "keyId": key_id,
            "algorithm": "ed25519",
        })),
        OutputFormat::Table => {
            println!(
                "{}",
                output::fields([
                    (
                        "private key",
                        format!("{} (keep secret: CI signs with it)", private.display())
                    ),
                    (
                        "public key",
                        format!("{} (flagd --bundle-public-key)", public.display())
                    ),
                    ("key id", key_id),
                ])
            );
            println!(
                "\nnext: flagctl bundle --env ENV -o BUNDLE --sign-key {}",
                private.display()
            );
        }
    }
    Ok(Outcome::Ok)
}
