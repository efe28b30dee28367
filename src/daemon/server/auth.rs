//! Who may call what: JWT bearer tokens with a role claim, and API keys for
//! evaluation.
//!
//! Roles are ordered: `viewer` reads (definitions, status, rollouts, audit,
//! experiments), `developer` also triggers refreshes, `admin` also steers
//! rollouts. Evaluation is open unless `--auth-eval` asks for any valid token
//! or an API key (`X-API-Key`, as OFREP allows). Tokens are verified with the
//! one algorithm family the configured key is for, so an HS256 token signed
//! with an RSA public key (the classic confusion attack) or `alg: none` never
//! passes; `exp` and `nbf` are always checked, `iss` and `aud` when set.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};

/// Access levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Read definitions, status, rollouts, audit, experiments.
    Viewer,
    /// Also refresh the ruleset.
    Developer,
    /// Also steer rollouts.
    Admin,
}

impl Role {
    /// Reads a role name.
    pub fn parse(s: &str) -> Option<Role> {
        match s.to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "developer" => Some(Role::Developer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Developer => "developer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The token's `sub`, or `api-key:<name>`.
    pub subject: Arc<str>,
    /// The highest role the token grants; API keys have none.
    pub role: Option<Role>,
}

/// Why credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` (or API key) at all.
    #[error("missing credentials: send `Authorization: Bearer <token>`")]
    Missing,
    /// The token did not verify.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The API key is unknown.
    #[error("invalid API key")]
    InvalidApiKey,
    /// Configuration could not be loaded.
    #[error("{0}")]
    Config(String),
}

/// The key material tokens are checked against.
enum Keys {
    /// A shared HS256 secret.
    Secret(DecodingKey),
    /// One RSA or EC public key and the algorithm it signs with.
    Public(DecodingKey, Algorithm),
    /// A JSON Web Key Set, looked up by `kid`.
    Jwks(JwkSet),
}

/// Verifies bearer tokens and API keys.
pub struct Authenticator {
    keys: Keys,
    issuer: Option<String>,
    audience: Option<String>,
    role_claim: String,
    api_keys: Vec<(String, String)>,
    leeway: u64,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("role_claim", &self.role_claim)
            .field("api_keys", &self.api_keys.len())
            .finish_non_exhaustive()
    }
}

/// Where the verification keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource<'a> {
    /// `--auth-jwt-secret-file`: HS256.
    SecretFile(&'a Path),
    /// `--auth-jwt-public-key`: RS256 (RSA) or ES256 (P-256), PEM.
    PublicKeyFile(&'a Path),
    /// `--auth-jwks-file`: a JWKS document.
    JwksFile(&'a Path),
}

fn read(path: &Path) -> Result<Vec<u8>, AuthError> {
    std::fs::read(path)
        .map_err(|e| AuthError::Config(format!("cannot read {}: {e}", path.display())))
}

impl Authenticator {
    /// Loads keys (and optional API keys); `issuer`/`audience` are required
    /// in tokens when given.
    pub fn new(
        source: KeySource<'_>,
        issuer: Option<String>,
        audience: Option<String>,
        role_claim: String,
        api_keys_file: Option<&Path>,
    ) -> Result<Self, AuthError> {
        let keys = match source {
            KeySource::SecretFile(p) => {
                let secret = read(p)?;
                let secret = trim_line_end(&secret);
                if secret.len() < 32 {
                    return Err(AuthError::Config(format!(
                        "{}: an HS256 secret needs at least 32 bytes",
                        p.display()
                    )));
                }
                Keys::Secret(DecodingKey::from_secret(secret))
            }
            KeySource::PublicKeyFile(p) => {
                let pem = read(p)?;
                if let Ok(k) = DecodingKey::from_rsa_pem(&pem) {
                    Keys::Public(k, Algorithm::RS256)
                } else if let Ok(k) = DecodingKey::from_ec_pem(&pem) {
                    Keys::Public(k, Algorithm::ES256)
                } else {
                    return Err(AuthError::Config(format!(
                        "{}: not an RSA or EC (P-256) public key in PEM",
                        p.display()
                    )));
                }
            }
            KeySource::JwksFile(p) => {
                let jwks: JwkSet = serde_json::from_slice(&read(p)?).map_err(|e| {
                    AuthError::Config(format!("{}: not a JWKS document: {e}", p.display()))
                })?;
                Keys::Jwks(jwks)
            }
        };
        let api_keys = match api_keys_file {
            Some(p) => parse_api_keys(&String::from_utf8_lossy(&read(p)?))?,
            None => Vec::new(),
        };
        Ok(Authenticator {
            keys,
            issuer,
            audience,
            role_claim,
            api_keys,
            leeway: 5,
        })
    }

    /// Verifies the bearer token of a request. `Ok(None)` without one.
    pub fn bearer(&self, headers: &HeaderMap) -> Result<Option<Identity>, AuthError> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Ok(None);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| {
                AuthError::InvalidToken("expected `Authorization: Bearer <token>`".into())
            })?;
        self.verify(token).map(Some)
    }

    /// Checks an `X-API-Key`. `Ok(None)` without one.
    pub fn api_key(&self, headers: &HeaderMap) -> Result<Option<Identity>, AuthError> {
        let Some(given) = headers.get("x-api-key") else {
            return Ok(None);
        };
        let given = given.as_bytes();
        // Compare against every key in constant time, so timing tells nothing.
        let mut found = None;
        for (name, key) in &self.api_keys {
            if constant_time_eq(key.as_bytes(), given) {
                found = Some(name);
            }
        }
        found
            .map(|name| {
                Some(Identity {
                    subject: format!("api-key:{name}").into(),
                    role: None,
                })
            })
            .ok_or(AuthError::InvalidApiKey)
    }

    /// Verifies one token.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let invalid = |e: jsonwebtoken::errors::Error| AuthError::InvalidToken(e.to_string());
        let header = decode_header(token).map_err(invalid)?;
        let (key, algorithm) = match &self.keys {
            Keys::Secret(k) => (k.clone(), Algorithm::HS256),
            Keys::Public(k, alg) => (k.clone(), *alg),
            Keys::Jwks(set) => {
                let kid = header.kid.as_deref().ok_or_else(|| {
                    AuthError::InvalidToken("the token has no `kid` to find its key".into())
                })?;
                let jwk = set.find(kid).ok_or_else(|| {
                    AuthError::InvalidToken(format!("no key `{kid}` in the JWKS"))
                })?;
                let alg = match &jwk.algorithm {
                    jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                    _ => {
                        return Err(AuthError::InvalidToken(format!(
                            "key `{kid}` is neither RSA nor EC"
                        )));
                    }
                };
                (DecodingKey::from_jwk(jwk).map_err(invalid)?, alg)
            }
        };
        if header.alg != algorithm {
            return Err(AuthError::InvalidToken(format!(
                "algorithm {:?} is not accepted (this key verifies {algorithm:?})",
                header.alg
            )));
        }
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &self.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let claims = decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(invalid)?
            .claims;
        let subject: Arc<str> = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(|| AuthError::InvalidToken("`sub` must be a string".into()))?
            .into();
        let role = match claims.get(&self.role_claim) {
            Some(Value::String(s)) => Role::parse(s),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .filter_map(Role::parse)
                .max(),
            _ => None,
        };
        Ok(Identity { subject, role })
    }
}

fn trim_line_end(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

/// `name = key` per line; `#` starts a comment.
fn parse_api_keys(text: &str) -> Result<Vec<(String, String)>, AuthError> {
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (name, key) = line
            .split_once('=')
            .map(|(a, b)| (a.trim(), b.trim()))
            .filter(|(a, b)| !a.is_empty() && b.len() >= 16)
            .ok_or_else(|| {
                AuthError::Config(format!(
                    "API keys file, line {}: write `name = key` (keys of at least 16 characters)",
                    n + 1
                ))
            })?;
        keys.push((name.to_owned(), key.to_owned()));
    }
    Ok(keys)
}

/// Equality whose running time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Developer && Role::Developer < Role::Admin);
        assert_eq!(Role::parse("Admin"), Some(Role::Admin));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn api_keys_file() {
        let keys = parse_api_keys(
            "# clients\ncheckout = 0123456789abcdef\n\nsearch=fedcba9876543210 # team search\n",
        )
        .unwrap();
        assert_eq!(
            keys,
            [
                ("checkout".into(), "0123456789abcdef".into()),
                ("search".into(), "fedcba9876543210".into())
            ]
        );
        assert!(parse_api_keys("short = abc").is_err());
        assert!(parse_api_keys("no-equals-sign").is_err());
        assert!(
            constant_time_eq(b"abc", b"abc")
                && !constant_time_eq(b"abc", b"abd")
                && !constant_time_eq(b"ab", b"abc")
        );
    }
}
