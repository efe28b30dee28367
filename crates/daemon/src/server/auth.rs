//! Who may call what: JWT bearer tokens with a role claim, and API keys for
//! evaluation.
//!
//! Roles are ordered: `viewer` reads (definitions, status, rollouts, audit,
//! experiments), `developer` also triggers refreshes, `admin` also steers
//! rollouts. Evaluation is open unless `--auth-eval` asks for any valid token
//! or an API key (`X-API-Key`, as OFREP allows).
//!
//! Client credentials — keys of `--client-api-keys-file`, tokens whose role
//! is `client` — are for browsers and mobile apps, where anyone can read
//! them: they evaluate only `clientSide` flags (docs/flagd.md, Client flags
//! and client keys). A browser's event stream cannot send headers, so the
//! bulk answer hands it a ticket for its stream URL. Tokens are verified with the
//! one algorithm family the configured key is for, so an HS256 token signed
//! with an RSA public key (the classic confusion attack) or `alg: none` never
//! passes; `exp` and `nbf` are always checked, `iss` and `aud` when set.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine as _;
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
    /// The token's `sub`, `api-key:<name>` or `client-key:<name>`.
    pub subject: Arc<str>,
    /// The highest role the token grants; API keys have none.
    pub role: Option<Role>,
    /// A client credential: it may evaluate `clientSide` flags only.
    pub client: bool,
    /// What the caller presented.
    pub via: Via,
}

/// The credential an [`Identity`] was proven with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A bearer token (or a stream ticket issued for one), valid until
    /// `expires` (Unix seconds).
    Token {
        /// The token's `exp`.
        expires: i64,
    },
    /// A key of a keys file, by name.
    Key(Arc<str>),
}

/// The role name that marks a token as a client credential.
const CLIENT_ROLE: &str = "client";

/// How long a stream ticket stays valid for a new connection.
const TICKET_LIFETIME_SECS: i64 = 24 * 3600;

/// How long a dashboard session lasts (docs/security.md, The dashboard).
pub const SESSION_LIFETIME_SECS: i64 = 8 * 3600;

/// The MAC domain of dashboard sessions.
const SESSION_DOMAIN: &str = "flagd-ui-session";

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
    /// A stream ticket that is malformed, forged or expired.
    #[error("invalid or expired stream ticket: fetch the bulk evaluation again for a new one")]
    InvalidTicket,
    /// A valid token whose role claim is missing, malformed or names no
    /// role flagd knows: it grants nothing (403, not a full credential).
    #[error("{0}")]
    NoRole(String),
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
    api_keys: Vec<ApiKey>,
    leeway: u64,
    /// Signs the stream tickets of token callers; made at start, so only
    /// this process accepts them.
    ticket_secret: zeroize::Zeroizing<[u8; 32]>,
}

/// A named key of an API keys file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ApiKey {
    name: String,
    key: String,
    /// From `--client-api-keys-file`.
    client: bool,
}

impl ApiKey {
    fn identity(&self) -> Identity {
        let kind = if self.client { "client-key" } else { "api-key" };
        Identity {
            subject: format!("{kind}:{}", self.name).into(),
            role: None,
            client: self.client,
            via: Via::Key(self.name.as_str().into()),
        }
    }

    /// The MAC of a stream ticket: only a holder of the key can mint it.
    fn ticket_mac(&self, expires: i64) -> String {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.key.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(format!("flagd-events\n{}\n{expires}", self.name).as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
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
        client_api_keys_file: Option<&Path>,
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
        let mut api_keys: Vec<ApiKey> = Vec::new();
        let mut files: Vec<&Path> = Vec::new();
        for (file, client) in [(api_keys_file, false), (client_api_keys_file, true)] {
            if let Some(p) = file {
                let text = String::from_utf8_lossy(&read(p)?).into_owned();
                let keys = parse_api_keys(&text)
                    .map_err(|e| AuthError::Config(format!("{}: {e}", p.display())))?;
                for (name, key) in keys {
                    // A second key of one name could never redeem its
                    // stream tickets (the first of the name is found),
                    // and one key under two names would be counted and
                    // audited as either: both are refused.
                    let clash = api_keys.iter().zip(&files).find_map(|(k, f)| {
                        let same_name = k.name == name;
                        (same_name || constant_time_eq(k.key.as_bytes(), key.as_bytes()))
                            .then(|| (same_name, k.name.clone(), *f))
                    });
                    if let Some((same_name, other, f)) = clash {
                        let place = if f == p {
                            p.display().to_string()
                        } else {
                            format!("{} and {}", f.display(), p.display())
                        };
                        return Err(AuthError::Config(if same_name {
                            format!(
                                "{place}: the key name `{name}` is given twice; every key needs a name of its own"
                            )
                        } else {
                            format!(
                                "{place}: `{other}` and `{name}` are the same key; every name needs a key of its own"
                            )
                        }));
                    }
                    api_keys.push(ApiKey { name, key, client });
                    files.push(p);
                }
            }
        }
        let mut ticket_secret = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(ticket_secret.as_mut_slice()).map_err(|e| {
            AuthError::Config(format!("cannot make a secret for stream tickets: {e}"))
        })?;
        Ok(Authenticator {
            keys,
            issuer,
            audience,
            role_claim,
            api_keys,
            leeway: 5,
            ticket_secret,
        })
    }

    /// Whether a client keys file (`--client-api-keys-file`) gave keys.
    pub fn has_client_keys(&self) -> bool {
        self.api_keys.iter().any(|k| k.client)
    }

    /// Verifies the bearer token of a request. `Ok(None)` without one.
    pub fn bearer(&self, headers: &HeaderMap) -> Result<Option<Identity>, AuthError> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Ok(None);
        };
        let token = value.to_str().ok().and_then(bearer_token).ok_or_else(|| {
            AuthError::InvalidToken("expected `Authorization: Bearer <token>`".into())
        })?;
        self.verify(token).map(Some)
    }

    /// Checks an `X-API-Key`. `Ok(None)` without one.
    pub fn api_key(&self, headers: &HeaderMap) -> Result<Option<Identity>, AuthError> {
        let Some(given) = headers.get("x-api-key") else {
            return Ok(None);
        };
        self.key_matching(given.as_bytes())
            .map(|k| Some(k.identity()))
            .ok_or(AuthError::InvalidApiKey)
    }

    /// The key equal to `given`, compared against every key in constant
    /// time, so timing tells nothing.
    fn key_matching(&self, given: &[u8]) -> Option<&ApiKey> {
        let mut found = None;
        for key in &self.api_keys {
            if constant_time_eq(key.key.as_bytes(), given) {
                found = Some(key);
            }
        }
        found
    }

    /// A ticket for the event stream of `caller`, valid for new
    /// connections until `now + 24 h` (for a token, no longer than the
    /// token itself). For a key, `k.NAME.EXPIRES.MAC`: a MAC under the key
    /// itself, so replicas sharing the keys file accept each other's
    /// tickets. For a token, `t.EXPIRES.ROLE.SUBJECT.MAC`: a MAC under a
    /// secret this process made at start, so the token itself never goes
    /// into a URL (or a proxy's log), and only this flagd accepts it.
    pub fn stream_ticket(&self, caller: &Identity, now: i64) -> Option<String> {
        let expires = now + TICKET_LIFETIME_SECS;
        match &caller.via {
            Via::Key(name) => {
                let key = self.api_keys.iter().find(|k| *k.name == **name)?;
                Some(format!("k.{name}.{expires}.{}", key.ticket_mac(expires)))
            }
            Via::Token { expires: until } => {
                let expires = expires.min(*until);
                let role = if caller.client {
                    CLIENT_ROLE
                } else {
                    caller.role?.as_str()
                };
                let subject = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(caller.subject.as_bytes());
                let mac = self.token_ticket_mac(expires, role, &subject);
                Some(format!("t.{expires}.{role}.{subject}.{mac}"))
            }
        }
    }

    /// The MAC of a token caller's stream ticket.
    fn token_ticket_mac(&self, expires: i64, role: &str, subject: &str) -> String {
        self.secret_mac("flagd-events-token", expires, role, subject)
    }

    /// A MAC under this process's ticket secret; `domain` keeps stream
    /// tickets and dashboard sessions apart.
    fn secret_mac(&self, domain: &str, expires: i64, role: &str, subject: &str) -> String {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.ticket_secret.as_slice())
            .expect("HMAC takes keys of any length");
        mac.update(format!("{domain}\n{expires}\n{role}\n{subject}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The dashboard's session for `caller`, a token holder with a role
    /// (docs/security.md, The dashboard): `s.EXPIRES.ROLE.SUBJECT.MAC`, a
    /// MAC under this process's ticket secret in a domain of its own (a
    /// stream ticket is no session, nor the other way round), valid
    /// [`SESSION_LIFETIME_SECS`] at most and never past the token's `exp`.
    /// `None` for keys and client credentials, which never see the
    /// dashboard.
    pub fn session(&self, caller: &Identity, now: i64) -> Option<String> {
        let Via::Token { expires: until } = caller.via else {
            return None;
        };
        if caller.client {
            return None;
        }
        let role = caller.role?.as_str();
        let expires = (now + SESSION_LIFETIME_SECS).min(until);
        let subject =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(caller.subject.as_bytes());
        let mac = self.secret_mac(SESSION_DOMAIN, expires, role, &subject);
        Some(format!("s.{expires}.{role}.{subject}.{mac}"))
    }

    /// The caller a dashboard session stands for.
    pub fn redeem_session(&self, session: &str, now: i64) -> Result<Identity, AuthError> {
        let invalid = || {
            AuthError::InvalidToken("invalid or expired dashboard session: sign in again".into())
        };
        let rest = session.strip_prefix("s.").ok_or_else(invalid)?;
        let mut parts = rest.splitn(4, '.');
        let (Some(expires_text), Some(role), Some(subject), Some(mac)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let expires: i64 = expires_text.parse().map_err(|_| invalid())?;
        let expected = self.secret_mac(SESSION_DOMAIN, expires, role, subject);
        if !constant_time_eq(expected.as_bytes(), mac.as_bytes()) || expires < now {
            return Err(invalid());
        }
        let subject = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(subject)
            .ok()
            .and_then(|s| String::from_utf8(s).ok())
            .ok_or_else(invalid)?;
        Ok(Identity {
            subject: subject.into(),
            role: Some(Role::parse(role).ok_or_else(invalid)?),
            client: false,
            via: Via::Token { expires },
        })
    }

    /// The caller a stream ticket stands for.
    pub fn redeem(&self, ticket: &str, now: i64) -> Result<Identity, AuthError> {
        if let Some(rest) = ticket.strip_prefix("t.") {
            return self.redeem_token_ticket(rest, now);
        }
        let rest = ticket.strip_prefix("k.").ok_or(AuthError::InvalidTicket)?;
        let mut parts = rest.rsplitn(3, '.');
        let (Some(mac), Some(expires), Some(name)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::InvalidTicket);
        };
        let expires: i64 = expires.parse().map_err(|_| AuthError::InvalidTicket)?;
        let key = self
            .api_keys
            .iter()
            .find(|k| k.name == name)
            .filter(|k| constant_time_eq(k.ticket_mac(expires).as_bytes(), mac.as_bytes()))
            .ok_or(AuthError::InvalidTicket)?;
        if expires < now {
            return Err(AuthError::InvalidTicket);
        }
        Ok(key.identity())
    }

    /// `EXPIRES.ROLE.SUBJECT.MAC` of a token caller's ticket.
    fn redeem_token_ticket(&self, ticket: &str, now: i64) -> Result<Identity, AuthError> {
        let mut parts = ticket.splitn(4, '.');
        let (Some(expires_text), Some(role), Some(subject), Some(mac)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::InvalidTicket);
        };
        let expires: i64 = expires_text.parse().map_err(|_| AuthError::InvalidTicket)?;
        let expected = self.token_ticket_mac(expires, role, subject);
        if !constant_time_eq(expected.as_bytes(), mac.as_bytes()) || expires < now {
            return Err(AuthError::InvalidTicket);
        }
        let subject = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(subject)
            .ok()
            .and_then(|s| String::from_utf8(s).ok())
            .ok_or(AuthError::InvalidTicket)?;
        let (role, client) = if role == CLIENT_ROLE {
            (None, true)
        } else {
            (
                Some(Role::parse(role).ok_or(AuthError::InvalidTicket)?),
                false,
            )
        };
        Ok(Identity {
            subject: subject.into(),
            role,
            client,
            via: Via::Token { expires },
        })
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
        let (role, client) = roles_of(&self.role_claim, claims.get(&self.role_claim))?;
        let expires = claims
            .get("exp")
            .and_then(|e| e.as_i64().or_else(|| e.as_f64().map(|f| f as i64)))
            .unwrap_or(0);
        Ok(Identity {
            subject,
            role,
            client,
            via: Via::Token { expires },
        })
    }
}

/// The token of an `Authorization` header's value: the scheme `Bearer` in
/// any case (RFC 9110 makes schemes case-insensitive), a space, the token.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// What the role claim `name` of a verified token grants: its highest
/// role, or a client credential. Fails closed: a claim that is missing,
/// is not a role name or a list of role names, or names no role flagd
/// knows grants nothing — never a full credential by default.
fn roles_of(name: &str, claim: Option<&Value>) -> Result<(Option<Role>, bool), AuthError> {
    let shown = |v: &Value| {
        let mut text = v.to_string();
        if text.len() > 64 {
            let cut = (0..=61)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            text.truncate(cut);
            text.push('…');
        }
        text
    };
    let names: Vec<&str> = match claim {
        None => {
            return Err(AuthError::NoRole(format!(
                "the token has no `{name}` claim, so it grants no role"
            )));
        }
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect()
        }
        Some(other) => {
            return Err(AuthError::NoRole(format!(
                "the token's `{name}` claim must be a role name or a list of role names, not {}",
                shown(other)
            )));
        }
    };
    let role = names.iter().filter_map(|n| Role::parse(n)).max();
    // `client` alone makes a client credential; next to a real role it
    // is ignored, so a token is never both.
    let client = role.is_none() && names.iter().any(|n| n.eq_ignore_ascii_case(CLIENT_ROLE));
    if role.is_none() && !client {
        return Err(AuthError::NoRole(format!(
            "the token's `{name}` claim, {}, names no role flagd knows (viewer, developer, admin, client)",
            shown(claim.unwrap_or(&Value::Null))
        )));
    }
    Ok((role, client))
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
    fn the_bearer_scheme_is_case_insensitive() {
        for header in ["Bearer abc", "bearer abc", "BEARER abc", "bEaReR  abc "] {
            assert_eq!(bearer_token(header), Some("abc"), "{header}");
        }
        for header in ["Basic abc", "Bearer", "Bearer ", "Bearerabc", "Token abc"] {
            assert_eq!(bearer_token(header), None, "{header}");
        }
    }

    /// Every shape of role claim that is not a known role name, or a list
    /// of names with one, grants nothing.
    #[test]
    fn roles_fail_closed() {
        use serde_json::json;
        let granted = |claim: Option<Value>| roles_of("role", claim.as_ref());
        assert_eq!(
            granted(Some(json!("viewer"))),
            Ok((Some(Role::Viewer), false))
        );
        assert_eq!(
            granted(Some(json!("Admin"))),
            Ok((Some(Role::Admin), false))
        );
        assert_eq!(
            granted(Some(json!(["guest", "developer", "viewer"]))),
            Ok((Some(Role::Developer), false))
        );
        assert_eq!(granted(Some(json!("client"))), Ok((None, true)));
        assert_eq!(
            granted(Some(json!(["client", "admin"]))),
            Ok((Some(Role::Admin), false))
        );
        for claim in [
            None,
            Some(json!("guest")),
            Some(json!("client ")),
            Some(json!(" admin")),
            Some(json!("viewer,admin")),
            Some(json!("")),
            Some(json!([])),
            Some(json!(["guest"])),
            Some(json!([["admin"]])),
            Some(json!(["admin", 1])),
            Some(json!({"role": "admin"})),
            Some(json!(3)),
            Some(json!(true)),
            Some(Value::Null),
        ] {
            let shown = format!("{claim:?}");
            assert!(
                matches!(granted(claim), Err(AuthError::NoRole(_))),
                "{shown} granted something"
            );
        }
    }

    #[test]
    fn dashboard_sessions_are_no_stream_tickets() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "0123456789abcdef0123456789abcdef").unwrap();
        let auth = Authenticator::new(
            KeySource::SecretFile(&secret),
            None,
            None,
            "role".into(),
            None,
            None,
        )
        .unwrap();
        let viewer = Identity {
            subject: "ana@example.com".into(),
            role: Some(Role::Viewer),
            client: false,
            via: Via::Token { expires: 5_000_000 },
        };
        let session = auth.session(&viewer, 1_000).unwrap();
        let back = auth.redeem_session(&session, 1_000).unwrap();
        assert_eq!(
            (&*back.subject, back.role),
            ("ana@example.com", Some(Role::Viewer))
        );
        // Expiring with the session, or with the token when it ends first.
        assert!(session.starts_with(&format!("s.{}.", 1_000 + SESSION_LIFETIME_SECS)));
        assert!(
            auth.redeem_session(&session, 1_001 + SESSION_LIFETIME_SECS)
                .is_err()
        );
        let short = Identity {
            via: Via::Token { expires: 2_000 },
            ..viewer.clone()
        };
        assert!(auth.session(&short, 1_000).unwrap().starts_with("s.2000."));
        // A role raised in the text breaks the MAC; a stream ticket is no session.
        assert!(
            auth.redeem_session(&session.replace(".viewer.", ".admin."), 1_000)
                .is_err()
        );
        let ticket = auth.stream_ticket(&viewer, 1_000).unwrap();
        assert!(
            auth.redeem_session(&format!("s.{}", &ticket[2..]), 1_000)
                .is_err()
        );
        assert!(auth.redeem(&format!("t.{}", &session[2..]), 1_000).is_err());
        // Client credentials get none.
        let client = Identity {
            client: true,
            role: None,
            ..viewer
        };
        assert!(auth.session(&client, 1_000).is_none());
    }

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
