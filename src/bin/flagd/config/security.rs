//! Who may do what: token verification, API keys and the web origins
//! allowed to call flagd.

use std::path::PathBuf;

use anyhow::bail;

use super::args::Args;

/// Token verification settings.
#[derive(Debug)]
pub struct AuthSettings {
    pub keys: KeyFile,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub role_claim: String,
    pub api_keys_file: Option<PathBuf>,
    pub client_api_keys_file: Option<PathBuf>,
}

/// Which kind of key file verifies tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFile {
    Secret(PathBuf),
    PublicKey(PathBuf),
    Jwks(PathBuf),
}

/// Token verification, when a token key is given; the options that need one
/// are refused without.
pub(super) fn auth_settings(args: &Args) -> anyhow::Result<Option<AuthSettings>> {
    let Some(keys) = token_key(args)? else {
        if args.auth_eval
            || args.api_keys_file.is_some()
            || args.client_api_keys_file.is_some()
            || args.metrics_auth
        {
            bail!(
                "--auth-eval, --metrics-auth, --api-keys-file and --client-api-keys-file need a token key: --auth-jwt-secret-file, --auth-jwt-public-key or --auth-jwks-file"
            )
        }
        return Ok(None);
    };
    Ok(Some(AuthSettings {
        keys,
        issuer: args.auth_issuer.clone(),
        audience: args.auth_audience.clone(),
        role_claim: args
            .auth_role_claim
            .clone()
            .unwrap_or_else(|| "role".to_owned()),
        api_keys_file: args.api_keys_file.clone(),
        client_api_keys_file: args.client_api_keys_file.clone(),
    }))
}

/// The one key file that verifies tokens, if any.
fn token_key(args: &Args) -> anyhow::Result<Option<KeyFile>> {
    let mut keys: Vec<KeyFile> = [
        args.auth_jwt_secret_file.clone().map(KeyFile::Secret),
        args.auth_jwt_public_key.clone().map(KeyFile::PublicKey),
        args.auth_jwks_file.clone().map(KeyFile::Jwks),
    ]
    .into_iter()
    .flatten()
    .collect();
    if keys.len() > 1 {
        bail!("give one of --auth-jwt-secret-file, --auth-jwt-public-key and --auth-jwks-file");
    }
    Ok(keys.pop())
}

/// Browsers send `Origin` as `scheme://host[:port]`; anything else (a
/// trailing slash, a path) would never match, so it is refused with the fix.
pub(super) fn check_origins(
    option: &str,
    origins: &[String],
    wildcard: bool,
) -> anyhow::Result<()> {
    for origin in origins {
        if wildcard && origin == "*" {
            continue;
        }
        let Ok(url) = reqwest::Url::parse(origin) else {
            bail!(
                "{option} {origin}: not an origin; write it as a browser sends it, e.g. https://app.example.com"
            );
        };
        if !matches!(url.scheme(), "http" | "https") {
            bail!("{option} {origin}: a web origin starts with http:// or https://");
        }
        let canonical = url.origin().ascii_serialization();
        if canonical != *origin {
            bail!("{option} {origin}: not an origin; write it as a browser sends it: {canonical}");
        }
    }
    Ok(())
}
