//! TLS with certificates that reload when their files change — hot swap for
//! certificates too. Each handshake asks the resolver for the current
//! certificate, so a renewed one is used from the next connection on and
//! connections in flight are never cut.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tracing::{info, warn};

/// How often the certificate files are compared with what is loaded.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The current certificate and key, reloaded from PEM files.
#[derive(Debug)]
pub struct CertReloader {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: ArcSwap<CertifiedKey>,
    loaded_from: std::sync::Mutex<Vec<u8>>,
}

/// A certificate or key that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(String);

fn files(cert: &Path, key: &Path) -> Result<(Vec<u8>, Vec<u8>), TlsError> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| TlsError(format!("cannot read {}: {e}", p.display())))
    };
    Ok((read(cert)?, read(key)?))
}

fn certified_key(
    cert_pem: &[u8],
    key_pem: &[u8],
    cert: &Path,
    key: &Path,
) -> Result<CertifiedKey, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError(format!("{}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(TlsError(format!(
            "{}: no certificate in PEM",
            cert.display()
        )));
    }
    let private = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| TlsError(format!("{}: {e}", key.display())))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&private)
        .map_err(|e| TlsError(format!("{}: {e}", key.display())))?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|e| {
        TlsError(format!(
            "{} does not belong to {}: {e}",
            key.display(),
            cert.display()
        ))
    })?;
    Ok(certified)
}

impl CertReloader {
    /// Loads the certificate chain and key (PEM).
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Arc<Self>, TlsError> {
        let (cert, key) = files(cert_path, key_path)?;
        let certified = certified_key(&cert, &key, cert_path, key_path)?;
        Ok(Arc::new(CertReloader {
            cert_path: cert_path.to_owned(),
            key_path: key_path.to_owned(),
            current: ArcSwap::from_pointee(certified),
            loaded_from: std::sync::Mutex::new([cert, key].concat()),
        }))
    }

    /// Reloads if the files changed; a broken new pair is logged and the
    /// current certificate stays.
    pub fn reload_if_changed(&self) {
        let Ok((cert, key)) = files(&self.cert_path, &self.key_path) else {
            return;
        };
        let both = [cert.as_slice(), key.as_slice()].concat();
        let mut loaded = self.loaded_from.lock().unwrap_or_else(|e| e.into_inner());
        if *loaded == both {
            return;
        }
        match certified_key(&cert, &key, &self.cert_path, &self.key_path) {
            Ok(certified) => {
                self.current.store(Arc::new(certified));
                *loaded = both;
                info!(cert = %self.cert_path.display(), "TLS certificate reloaded");
            }
            // A half-written pair (the certificate renewed, the key not yet)
            // is retried on the next check.
            Err(e) => {
                warn!(error = %e, "new TLS certificate not usable yet; keeping the current one")
            }
        }
    }

    /// Checks the files every second, forever.
    pub async fn watch(self: Arc<Self>) {
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            let me = self.clone();
            let _ = tokio::task::spawn_blocking(move || me.reload_if_changed()).await;
        }
    }

    /// A rustls server configuration that always uses the current certificate.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<ServerConfig>, TlsError> {
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsError(e.to_string()))?
                .with_no_client_auth()
                .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for CertReloader {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}
