//! Ed25519 signatures over bundles: keys, the signed message, verification.
//!
//! A bundle is signed over its *identity* — format version, environment,
//! version, source commit and content hash — rather than over its bytes, so
//! re-indenting or re-serializing a bundle does not break its signature,
//! while any change to what it serves does: the content is bound through the
//! content hash, which [`crate::bundle::Bundle::parse`] checks against the
//! content itself. The message is a few lines of text (see
//! [`signed_message`]) so that other tools can verify bundles with nothing
//! but an Ed25519 implementation, e.g. `openssl pkeyutl -verify -rawin`.
//!
//! Keys are PEM files in the standard encodings: the private key PKCS#8
//! (`-----BEGIN PRIVATE KEY-----`, RFC 8410), the public key
//! SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`) — the same files
//! `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` write.

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The only signature algorithm, as written in a bundle's `signature`.
pub const ALGORITHM: &str = "ed25519";

/// The first line of every signed message: names what is signed and its
/// layout version, so a signature over a bundle can never be mistaken for a
/// signature over anything else.
pub const MESSAGE_HEADER: &str = "hotswap-flags-bundle-signature/1";

/// A bundle's signature, as stored in its `signature` member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BundleSignature {
    /// Always [`ALGORITHM`].
    pub algorithm: String,
    /// Which key signed, see [`PublicKey::key_id`]. Not trusted by itself:
    /// it only picks the key to try and makes errors readable.
    pub key_id: String,
    /// The 64-byte Ed25519 signature of [`signed_message`], hex.
    pub value: String,
}

/// A bundle's identity: the fields a signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedFields<'a> {
    /// `formatVersion`: a signature from one format cannot be replayed on another.
    pub format_version: u32,
    /// `env`: a staging bundle cannot pass as production.
    pub env: &'a str,
    /// `version`: pins the ruleset version the bundle claims.
    pub version: &'a str,
    /// `sourceCommit` (absent: empty).
    pub source_commit: Option<&'a str>,
    /// `contentHash`.
    pub content_hash: &'a str,
}

/// The exact bytes that are signed: UTF-8 lines, each ending in `\n`:
///
/// ```text
/// hotswap-flags-bundle-signature/1
/// formatVersion=1
/// env=production
/// version=<version>
/// sourceCommit=<commit, or nothing>
/// contentHash=sha256:<hex>
/// ```
///
/// A field holding a line break cannot be signed (it could forge the next
/// line), so such a bundle never verifies.
pub fn signed_message(fields: &SignedFields<'_>) -> Result<Vec<u8>, SignatureError> {
    let lines = [
        ("env", fields.env),
        ("version", fields.version),
        ("sourceCommit", fields.source_commit.unwrap_or("")),
        ("contentHash", fields.content_hash),
    ];
    if let Some((name, _)) = lines.iter().find(|(_, v)| v.contains(['\n', '\r'])) {
        return Err(SignatureError::Unsignable(name));
    }
    let mut text = format!(
        "{MESSAGE_HEADER}\nformatVersion={}\n",
        fields.format_version
    );
    for (name, value) in lines {
        text.push_str(name);
        text.push('=');
        text.push_str(value);
        text.push('\n');
    }
    Ok(text.into_bytes())
}

/// Why a key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading the file failed.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// Not a PEM Ed25519 key of the expected kind.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The operating system's random source failed.
    #[error("cannot generate a key: no randomness: {0}")]
    Random(String),
    /// Encoding a key as PEM failed.
    #[error("cannot encode the key: {0}")]
    Encode(String),
}

/// An Ed25519 private key. Its bytes are wiped from memory when dropped.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.public().key_id())
    }
}

impl SigningKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// Reads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let text = read_text(path)?;
        if text.contains("-----BEGIN PUBLIC KEY-----") {
            return Err(format_error(
                path,
                "this is a public key; signing needs the private key (the file without .pub)",
            ));
        }
        ed25519_dalek::SigningKey::from_pkcs8_pem(&text)
            .map(SigningKey)
            .map_err(|e| {
                format_error(
                    path,
                    format!("not an Ed25519 private key in PKCS#8 PEM ({e})"),
                )
            })
    }

    /// The private key as PKCS#8 PEM.
    pub fn to_pem(&self) -> Result<zeroize::Zeroizing<String>, KeyError> {
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.to_string()))
    }

    /// Its public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs a bundle identity.
    pub fn sign(&self, fields: &SignedFields<'_>) -> Result<BundleSignature, SignatureError> {
        let message = signed_message(fields)?;
        let signature: Signature = self.0.sign(&message);
        Ok(BundleSignature {
            algorithm: ALGORITHM.to_owned(),
            key_id: self.public().key_id(),
            value: hex::encode(signature.to_bytes()),
        })
    }
}

/// An Ed25519 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

impl PublicKey {
    /// Reads a SubjectPublicKeyInfo PEM public key (`-----BEGIN PUBLIC KEY-----`).
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let text = read_text(path)?;
        PublicKey::from_pem(&text).map_err(|message| format_error(path, message))
    }

    /// Parses a SubjectPublicKeyInfo PEM public key; the error is worded
    /// for [`KeyError::Format`], which names the file.
    fn from_pem(text: &str) -> Result<Self, String> {
        if text.contains("PRIVATE KEY-----") {
            return Err(
                "this is a private key; give the public key (`flagctl keygen` writes it to FILE.pub)"
                    .into(),
            );
        }
        ed25519_dalek::VerifyingKey::from_public_key_pem(text)
            .map(PublicKey)
            .map_err(|e| format!("not an Ed25519 public key in PEM ({e})"))
    }

    /// The public key as SubjectPublicKeyInfo PEM. (Encoding 32 bytes in a
    /// fixed structure cannot fail; an empty string would be refused when
    /// read back.)
    pub fn to_pem(&self) -> String {
        self.0.to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }

    /// The first 16 hex digits of SHA-256 over the 32 raw key bytes: short
    /// enough to read, long enough that two keys of one deployment never
    /// share it.
    pub fn key_id(&self) -> String {
        hex::encode(&Sha256::digest(self.0.as_bytes())[..8])
    }

    fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        self.0.verify_strict(message, signature).is_ok()
    }
}

/// The public keys a flagd accepts bundle signatures from (several, so a
/// signing key can be rotated without a window in which bundles are refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKeys(Vec<PublicKey>);

impl TrustedKeys {
    /// Trusts these keys; `None` for an empty list.
    pub fn new(keys: Vec<PublicKey>) -> Option<Self> {
        (!keys.is_empty()).then_some(TrustedKeys(keys))
    }

    /// Reads each file as a public key.
    pub fn read(paths: &[PathBuf]) -> Result<Option<Self>, KeyError> {
        let keys = paths
            .iter()
            .map(|p| PublicKey::read(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedKeys::new(keys))
    }

    /// The trusted keys.
    pub fn keys(&self) -> &[PublicKey] {
        &self.0
    }

    /// Checks `signature` (absent: unsigned) over `fields`.
    pub fn verify(
        &self,
        fields: &SignedFields<'_>,
        signature: Option<&BundleSignature>,
    ) -> Result<(), SignatureError> {
        let signature = signature.ok_or(SignatureError::Unsigned)?;
        if signature.algorithm != ALGORITHM {
            return Err(SignatureError::Malformed(format!(
                "algorithm `{}` (only `{ALGORITHM}` is supported)",
                signature.algorithm
            )));
        }
        let bytes: [u8; 64] = hex::decode(&signature.value)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                SignatureError::Malformed("the value is not 128 hex digits".to_owned())
            })?;
        let sig = Signature::from_bytes(&bytes);
        let key = self
            .0
            .iter()
            .find(|k| k.key_id() == signature.key_id)
            .ok_or_else(|| SignatureError::UnknownKey {
                key_id: signature.key_id.clone(),
                trusted: self.0.iter().map(PublicKey::key_id).collect(),
            })?;
        let message = signed_message(fields)?;
        if key.verify(&message, &sig) {
            Ok(())
        } else {
            Err(SignatureError::BadSignature {
                key_id: signature.key_id.clone(),
            })
        }
    }
}

/// Why a bundle's signature is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No signature, but public keys were given: one is required.
    #[error(
        "the bundle is not signed, and with public keys given (--bundle-public-key, --public-key) only signed bundles are accepted"
    )]
    Unsigned,
    /// Signed by a key that is not trusted.
    #[error("the bundle is signed with key {key_id}, which is not trusted (trusted: {})", .trusted.join(", "))]
    UnknownKey {
        /// The key id the bundle names.
        key_id: String,
        /// The trusted keys' ids.
        trusted: Vec<String>,
    },
    /// The signature does not match the bundle: changed after signing.
    #[error(
        "the signature by key {key_id} does not verify: the bundle was changed after it was signed"
    )]
    BadSignature {
        /// The key id the bundle names.
        key_id: String,
    },
    /// The content does not match the signed content hash.
    #[error(
        "the content does not match its signed hash (header says {expected}, content hashes to {actual}): the bundle was changed after it was signed"
    )]
    ContentMismatch {
        /// The signed hash.
        expected: String,
        /// The content's hash.
        actual: String,
    },
    /// The `signature` member is not usable.
    #[error("the signature is malformed: {0}")]
    Malformed(String),
    /// A signed field holds a line break.
    #[error("the bundle's `{0}` holds a line break, which a signed bundle cannot")]
    Unsignable(&'static str),
}

/// The kind of a refused signature, for metrics and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureFailure {
    /// The bundle is not signed.
    Unsigned,
    /// Signed by a key that is not trusted.
    UnknownKey,
    /// The signature or content does not verify: tampered with, or the
    /// signature is malformed.
    Invalid,
}

impl SignatureFailure {
    /// Every kind, in a fixed order (metrics export all of them).
    pub const ALL: [SignatureFailure; 3] = [
        SignatureFailure::Unsigned,
        SignatureFailure::UnknownKey,
        SignatureFailure::Invalid,
    ];

    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureFailure::Unsigned => "unsigned",
            SignatureFailure::UnknownKey => "unknown_key",
            SignatureFailure::Invalid => "invalid",
        }
    }
}

impl SignatureError {
    /// The kind of failure.
    pub fn failure(&self) -> SignatureFailure {
        match self {
            SignatureError::Unsigned => SignatureFailure::Unsigned,
            SignatureError::UnknownKey { .. } => SignatureFailure::UnknownKey,
            SignatureError::BadSignature { .. }
            | SignatureError::ContentMismatch { .. }
            | SignatureError::Malformed(_)
            | SignatureError::Unsignable(_) => SignatureFailure::Invalid,
        }
    }
}

fn read_text(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|error| KeyError::Read {
        path: path.to_owned(),
        error,
    })
}

fn format_error(path: &Path, message: impl Into<String>) -> KeyError {
    KeyError::Format {
        path: path.to_owned(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(content_hash: &str) -> SignedFields<'_> {
        SignedFields {
            format_version: 1,
            env: "production",
            version: "abc",
            source_commit: None,
            content_hash,
        }
    }

    #[test]
    fn the_signed_message_is_documented_text() {
        let message = signed_message(&SignedFields {
            source_commit: Some("0123"),
            ..fields("sha256:ff")
        })
        .unwrap();
        assert_eq!(
            String::from_utf8(message).unwrap(),
            "hotswap-flags-bundle-signature/1\nformatVersion=1\nenv=production\nversion=abc\nsourceCommit=0123\ncontentHash=sha256:ff\n"
        );
        let forged = SignedFields {
            env: "production\ncontentHash=sha256:00",
            ..fields("sha256:ff")
        };
        assert_eq!(
            signed_message(&forged),
            Err(SignatureError::Unsignable("env"))
        );
    }

    #[test]
    fn sign_verify_and_every_refusal() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        assert_ne!(key.public().key_id(), other.public().key_id());
        let trusted = TrustedKeys::new(vec![other.public(), key.public()]).unwrap();
        let sig = key.sign(&fields("sha256:aa")).unwrap();
        assert_eq!(sig.algorithm, "ed25519");
        assert_eq!(sig.value.len(), 128);
        trusted.verify(&fields("sha256:aa"), Some(&sig)).unwrap();

        let refused = |f: SignedFields<'_>, s: Option<&BundleSignature>| {
            trusted.verify(&f, s).unwrap_err().failure()
        };
        assert_eq!(
            refused(fields("sha256:aa"), None),
            SignatureFailure::Unsigned
        );
        assert_eq!(
            refused(fields("sha256:bb"), Some(&sig)),
            SignatureFailure::Invalid
        );
        let stranger = SigningKey::generate().unwrap();
        let foreign = stranger.sign(&fields("sha256:aa")).unwrap();
        assert_eq!(
            refused(fields("sha256:aa"), Some(&foreign)),
            SignatureFailure::UnknownKey
        );
        // A forged key id does not help: the named key must have signed.
        let forged = BundleSignature {
            key_id: key.public().key_id(),
            ..foreign
        };
        assert_eq!(
            refused(fields("sha256:aa"), Some(&forged)),
            SignatureFailure::Invalid
        );
        let short = BundleSignature {
            value: "abcd".into(),
            ..sig.clone()
        };
        assert_eq!(
            refused(fields("sha256:aa"), Some(&short)),
            SignatureFailure::Invalid
        );
        let rsa = BundleSignature {
            algorithm: "rsa".into(),
            ..sig
        };
        assert!(matches!(
            trusted.verify(&fields("sha256:aa"), Some(&rsa)),
            Err(SignatureError::Malformed(m)) if m.contains("rsa")
        ));
    }

    #[test]
    fn keys_round_trip_through_pem_files() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate().unwrap();
        let private = dir.path().join("k");
        let public = dir.path().join("k.pub");
        std::fs::write(&private, key.to_pem().unwrap().as_bytes()).unwrap();
        std::fs::write(&public, key.public().to_pem()).unwrap();
        assert!(
            key.to_pem()
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        assert!(
            key.public()
                .to_pem()
                .starts_with("-----BEGIN PUBLIC KEY-----\n")
        );
        let back = SigningKey::read(&private).unwrap();
        assert_eq!(back.public(), key.public());
        assert_eq!(PublicKey::read(&public).unwrap(), key.public());
        // Swapped files get a clear message, not a parse error.
        let e = PublicKey::read(&private).unwrap_err().to_string();
        assert!(e.contains("this is a private key"), "{e}");
        let e = SigningKey::read(&public).unwrap_err().to_string();
        assert!(e.contains("this is a public key"), "{e}");
        std::fs::write(&public, "hello").unwrap();
        assert!(
            PublicKey::read(&public)
                .unwrap_err()
                .to_string()
                .contains("not an Ed25519 public key")
        );
        assert!(matches!(
            PublicKey::read(&dir.path().join("missing")),
            Err(KeyError::Read { .. })
        ));
        assert_eq!(TrustedKeys::read(&[]).unwrap(), None);
    }
}
