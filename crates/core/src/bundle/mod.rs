//! Bundles: one environment in one self-describing file that flagd can pull.
//!
//! A bundle holds the validated, merged definitions (not the files they came
//! from) with a header naming its format version, environment, source commit
//! and a SHA-256 content hash. flagd recompiles it on load (compiling is
//! milliseconds, and recompiling re-validates: a bundle is never trusted
//! blindly). flagd also keeps its last good ruleset as a bundle in its state
//! directory so it can start while its source is unreachable.
//!
//! A bundle may carry an Ed25519 `signature` over its identity (see
//! [`crate::bundle::signing`]); a flagd given public keys accepts only bundles that
//! one of them signed. The signature is an optional member, so unsigned
//! bundles are byte for byte what they were before signing existed.

pub mod signing;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bundle::signing::{
    BundleSignature, SignatureError, SignatureFailure, SignedFields, SigningKey, TrustedKeys,
};
use crate::compile::{Compiled, compile};
use crate::diagnostic::Diagnostic;
use crate::model::{EnvModel, MetricsConfig};
use crate::ruleset::{Ruleset, RulesetMeta};

/// The `format` field of every bundle.
pub const FORMAT: &str = "hotswap-flags-bundle";
/// The bundle format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// A bundle file.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Bundle {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written by this build.
    pub format_version: u32,
    /// The environment's name.
    pub env: String,
    /// The ruleset version it was made from (commit id or content hash).
    pub version: String,
    /// Where it was made from.
    pub source: String,
    /// The git commit, when made from one.
    pub source_commit: Option<String>,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// `sha256:<hex>` of the canonical JSON of `content`.
    pub content_hash: String,
    /// The definitions.
    pub content: BundleContent,
    /// The Ed25519 signature over the identity fields above, if signed.
    pub signature: Option<BundleSignature>,
}

/// What a bundle carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleContent {
    /// Metrics endpoint and query templates from `flags.toml`.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Flags and segments.
    pub model: EnvModel,
}

/// Why a bundle cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Not JSON, or not shaped like a bundle.
    #[error("not a valid bundle: {0}")]
    Malformed(String),
    /// Some other file.
    #[error("not a bundle (format `{0}`, expected `{FORMAT}`)")]
    WrongFormat(String),
    /// Written by a newer build.
    #[error(
        "bundle format version {0} is not supported (this build reads version {FORMAT_VERSION})"
    )]
    UnsupportedVersion(u32),
    /// The content does not match its hash: corrupted or tampered with.
    #[error("content hash mismatch: header says {expected}, content hashes to {actual}")]
    HashMismatch {
        /// The header's hash.
        expected: String,
        /// The content's hash.
        actual: String,
    },
    /// A bundle of another environment than the one asked for.
    #[error("a bundle of environment `{found}`, not `{expected}`")]
    WrongEnv {
        /// The bundle's environment.
        found: String,
        /// The environment asked for.
        expected: String,
    },
    /// The definitions do not validate.
    #[error("bundle does not validate:\n{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
    /// A signature was required and is missing or does not verify.
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

impl BundleError {
    /// The kind of signature failure, when the bundle was refused for its
    /// signature.
    pub fn signature_failure(&self) -> Option<SignatureFailure> {
        match self {
            BundleError::Signature(e) => Some(e.failure()),
            _ => None,
        }
    }
}

/// `sha256:<hex>` of the canonical JSON encoding of `content`.
pub fn content_hash(content: &BundleContent) -> String {
    let canonical = serde_json::to_vec(content).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(&canonical)))
}

impl Bundle {
    /// A bundle of `model`, stamped now.
    pub fn new(
        meta: &RulesetMeta,
        source_commit: Option<String>,
        metrics: MetricsConfig,
        model: EnvModel,
    ) -> Self {
        let content = BundleContent { metrics, model };
        Bundle {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            env: meta.env.clone(),
            version: meta.version.clone(),
            source: meta.source.clone(),
            source_commit,
            created_at: jiff::Timestamp::now().to_string(),
            content_hash: content_hash(&content),
            content,
            signature: None,
        }
    }

    /// The fields a signature covers.
    pub fn signed_fields(&self) -> SignedFields<'_> {
        SignedFields {
            format_version: self.format_version,
            env: &self.env,
            version: &self.version,
            source_commit: self.source_commit.as_deref(),
            content_hash: &self.content_hash,
        }
    }

    /// Signs the bundle with `key` (replacing any earlier signature).
    pub fn sign(&mut self, key: &SigningKey) -> Result<(), BundleError> {
        self.signature = Some(key.sign(&self.signed_fields())?);
        Ok(())
    }

    /// The bundle of a ruleset in service (flagd's last-good copy). Fails
    /// only if the definitions the ruleset keeps as JSON do not read back.
    pub fn of_ruleset(ruleset: &Ruleset) -> Result<Self, serde_json::Error> {
        let meta = ruleset.meta();
        let commit = is_commit_id(&meta.version).then(|| meta.version.clone());
        Ok(Bundle::new(
            meta,
            commit,
            ruleset.metrics().clone(),
            ruleset.model()?,
        ))
    }

    /// Pretty JSON, ending in a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Reads and checks a bundle: format, version and content hash. A
    /// signature, if any, is not checked (see [`Bundle::parse_trusted`]).
    pub fn parse(bytes: &[u8]) -> Result<Bundle, BundleError> {
        Bundle::parse_trusted(bytes, None)
    }

    /// Reads and checks a bundle like [`Bundle::parse`] and, with `trusted`
    /// keys, also requires a valid signature by one of them. The signature
    /// covers the content hash, and the content must match that hash, so
    /// any change to what the bundle serves is refused as a signature
    /// failure.
    pub fn parse_trusted(
        bytes: &[u8],
        trusted: Option<&TrustedKeys>,
    ) -> Result<Bundle, BundleError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| BundleError::Malformed(e.to_string()))?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => {}
            Some(other) => return Err(BundleError::WrongFormat(other.to_owned())),
            None => return Err(BundleError::WrongFormat("none".into())),
        }
        if let Some(v) = value.get("formatVersion").and_then(|v| v.as_u64())
            && v != u64::from(FORMAT_VERSION)
        {
            return Err(BundleError::UnsupportedVersion(
                u32::try_from(v).unwrap_or(u32::MAX),
            ));
        }
        let bundle: Bundle =
            serde_json::from_value(value).map_err(|e| BundleError::Malformed(e.to_string()))?;
        if let Some(keys) = trusted {
            keys.verify(&bundle.signed_fields(), bundle.signature.as_ref())?;
        }
        let actual = content_hash(&bundle.content);
        if actual != bundle.content_hash {
            let expected = bundle.content_hash;
            return Err(match trusted {
                Some(_) => SignatureError::ContentMismatch { expected, actual }.into(),
                None => BundleError::HashMismatch { expected, actual },
            });
        }
        Ok(bundle)
    }

    /// Every check flagd runs before it serves a bundle, in order: format,
    /// version and content hash; with `trusted` keys, a valid signature by
    /// one of them; with `env`, that environment (serving staging's flags
    /// in production is worse than serving nothing new); and compiling,
    /// which re-validates (a bundle is never trusted blindly). flagd's
    /// bundle feed, its stored last-good copy and `flagctl verify-bundle`
    /// all call this, so what CI accepts is what flagd serves. `source`
    /// names where the bytes came from, for the ruleset's metadata.
    pub fn verify(
        bytes: &[u8],
        trusted: Option<&TrustedKeys>,
        env: Option<&str>,
        source: &str,
    ) -> Result<Verified, BundleError> {
        let bundle = Bundle::parse_trusted(bytes, trusted)?;
        if let Some(env) = env {
            bundle.check_env(env)?;
        }
        let ruleset = bundle.compile(source)?;
        Ok(Verified { bundle, ruleset })
    }

    fn check_env(&self, env: &str) -> Result<(), BundleError> {
        if self.env == env {
            Ok(())
        } else {
            Err(BundleError::WrongEnv {
                found: self.env.clone(),
                expected: env.to_owned(),
            })
        }
    }

    /// Compiles the bundle; `source` describes where it was read from.
    pub fn compile(&self, source: &str) -> Result<Ruleset, BundleError> {
        let meta = RulesetMeta {
            env: self.env.clone(),
            version: self.version.clone(),
            source: source.to_owned(),
        };
        let Compiled {
            ruleset,
            diagnostics,
        } = compile(&self.content.model, &self.content.metrics, meta);
        ruleset.ok_or_else(|| {
            BundleError::Invalid(
                diagnostics
                    .into_iter()
                    .filter(Diagnostic::is_error)
                    .collect(),
            )
        })
    }
}

/// A bundle that passed [`Bundle::verify`], and what it compiled to.
#[derive(Debug)]
pub struct Verified {
    /// The bundle as read (flagd stores it as its last good copy, so the
    /// signature can be checked again on an offline start).
    pub bundle: Bundle,
    /// What it serves.
    pub ruleset: Ruleset,
}

/// A full hexadecimal git commit id (SHA-1 or SHA-256).
fn is_commit_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Bundle {
        let ruleset = crate::testing::compile_yaml_as(
            "flags:\n  x: {type: string, variants: {a: A, b: B}, default: b}\n",
            "staging",
            "0123456789abcdef0123456789abcdef01234567",
        );
        Bundle::of_ruleset(&ruleset).unwrap()
    }

    #[test]
    fn round_trips_and_compiles() {
        let b = sample();
        assert_eq!(
            b.source_commit.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        let back = Bundle::parse(&b.to_bytes()).unwrap();
        assert_eq!(back, b);
        let rs = back.compile("bundle:test").unwrap();
        assert_eq!(rs.version(), "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(rs.meta().source, "bundle:test");
    }

    #[test]
    fn tampering_is_detected() {
        let text = String::from_utf8(sample().to_bytes()).unwrap();
        let tampered = text.replace("\"B\"", "\"EVIL\"");
        assert!(matches!(
            Bundle::parse(tampered.as_bytes()),
            Err(BundleError::HashMismatch { .. })
        ));
        assert!(matches!(
            Bundle::parse(b"{\"format\": \"zip\"}"),
            Err(BundleError::WrongFormat(_))
        ));
        assert!(matches!(
            Bundle::parse(b"not json"),
            Err(BundleError::Malformed(_))
        ));
        let newer = text.replace("\"formatVersion\": 1", "\"formatVersion\": 9");
        assert!(matches!(
            Bundle::parse(newer.as_bytes()),
            Err(BundleError::UnsupportedVersion(9))
        ));
    }

    #[test]
    fn signatures_cover_the_identity_and_through_it_the_content() {
        let key = SigningKey::generate().unwrap();
        let trusted = TrustedKeys::new(vec![key.public()]).unwrap();
        let failure = |bytes: &[u8]| {
            Bundle::parse_trusted(bytes, Some(&trusted))
                .unwrap_err()
                .signature_failure()
        };
        let unsigned = sample();
        assert_eq!(
            failure(&unsigned.to_bytes()),
            Some(SignatureFailure::Unsigned)
        );

        let mut signed = sample();
        signed.sign(&key).unwrap();
        let bytes = signed.to_bytes();
        assert_eq!(
            Bundle::parse_trusted(&bytes, Some(&trusted)).unwrap(),
            signed
        );
        // Without keys a signed bundle reads like any other.
        assert_eq!(Bundle::parse(&bytes).unwrap(), signed);
        // Layout does not matter: the signature is over fields, not bytes.
        let compact = serde_json::to_vec(&signed).unwrap();
        Bundle::parse_trusted(&compact, Some(&trusted)).unwrap();
        // Unsigned fields (where and when it was made) may change.
        let mut relabelled = signed.clone();
        relabelled.source = "elsewhere".into();
        relabelled.created_at = "2030-01-01T00:00:00Z".into();
        Bundle::parse_trusted(&relabelled.to_bytes(), Some(&trusted)).unwrap();

        // Content changed, hash left alone: refused as a signature failure.
        let text = String::from_utf8(bytes.clone()).unwrap();
        let tampered = text.replace("\"B\"", "\"EVIL\"");
        assert!(matches!(
            Bundle::parse_trusted(tampered.as_bytes(), Some(&trusted)),
            Err(BundleError::Signature(
                SignatureError::ContentMismatch { .. }
            ))
        ));
        // Content and hash changed together: the signature no longer fits.
        let mut rehashed: Bundle = serde_json::from_str(&tampered).unwrap();
        rehashed.content_hash = content_hash(&rehashed.content);
        assert_eq!(
            failure(&rehashed.to_bytes()),
            Some(SignatureFailure::Invalid)
        );
        // Another environment or version under the same signature: refused.
        let mut moved = signed.clone();
        moved.env = "production".into();
        assert_eq!(failure(&moved.to_bytes()), Some(SignatureFailure::Invalid));
        // Re-signed by a key flagd does not trust.
        let mut foreign = signed.clone();
        foreign.sign(&SigningKey::generate().unwrap()).unwrap();
        assert_eq!(
            failure(&foreign.to_bytes()),
            Some(SignatureFailure::UnknownKey)
        );
    }

    #[test]
    fn invalid_content_is_refused_on_compile() {
        let mut b = sample();
        b.content.model.flags["x"].default = crate::model::Serve::Variant("zzz".into());
        b.content_hash = content_hash(&b.content);
        let b = Bundle::parse(&b.to_bytes()).unwrap();
        assert!(
            matches!(b.compile("t"), Err(BundleError::Invalid(d)) if d[0].message.contains("unknown variant `zzz`"))
        );
    }
}
