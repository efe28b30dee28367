//! flagd's options: command line first, then `--config flagd.toml`, then
//! defaults. The config file uses the long option names as keys.

mod args;
mod cluster;
mod security;
mod settings;
#[cfg(test)]
mod tests;

use std::path::Path;

use anyhow::Context as _;

pub use args::{Args, LogFormat};
pub use cluster::ClusterSettings;
pub use security::KeyFile;
pub use settings::Settings;

impl Args {
    /// Merges the config file (if any) under the command line and applies defaults.
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => Args::default(),
        };
        Settings::from_args(self.over(file))
    }

    /// The command line over the config file, option by option. Sources are
    /// the exception: one given on the command line replaces the file's
    /// source as a whole (with its `ref` and `git-path`), so the two never
    /// combine into something neither says.
    fn over(self, file: Args) -> Args {
        let cli_source = self.repo.is_some() || self.git_url.is_some() || self.bundle.is_some();
        let source = if cli_source { &self } else { &file };
        let (repo, git_url, bundle) = (
            source.repo.clone(),
            source.git_url.clone(),
            source.bundle.clone(),
        );
        Args {
            repo,
            git_url,
            bundle,
            reference: self.reference.or(file.reference),
            git_path: self.git_path.or(file.git_path),
            env: self.env.or(file.env),
            poll: self.poll.or(file.poll),
            listen: self.listen.or(file.listen),
            state_dir: self.state_dir.or(file.state_dir),
            metrics_url: self.metrics_url.or(file.metrics_url),
            workers: self.workers.or(file.workers),
            log_format: self.log_format.or(file.log_format),
            auth_jwt_secret_file: self.auth_jwt_secret_file.or(file.auth_jwt_secret_file),
            auth_jwt_public_key: self.auth_jwt_public_key.or(file.auth_jwt_public_key),
            auth_jwks_file: self.auth_jwks_file.or(file.auth_jwks_file),
            auth_issuer: self.auth_issuer.or(file.auth_issuer),
            auth_audience: self.auth_audience.or(file.auth_audience),
            auth_role_claim: self.auth_role_claim.or(file.auth_role_claim),
            auth_eval: self.auth_eval || file.auth_eval,
            api_keys_file: self.api_keys_file.or(file.api_keys_file),
            client_api_keys_file: self.client_api_keys_file.or(file.client_api_keys_file),
            metrics_auth: self.metrics_auth || file.metrics_auth,
            tls_cert: self.tls_cert.or(file.tls_cert),
            tls_key: self.tls_key.or(file.tls_key),
            bundle_public_key: or_file(self.bundle_public_key, file.bundle_public_key),
            allowed_origin: or_file(self.allowed_origin, file.allowed_origin),
            cors_origin: or_file(self.cors_origin, file.cors_origin),
            allowed_host: or_file(self.allowed_host, file.allowed_host),
            webhook_secret_file: self.webhook_secret_file.or(file.webhook_secret_file),
            rate_limit: self.rate_limit.or(file.rate_limit),
            rate_burst: self.rate_burst.or(file.rate_burst),
            max_body_bytes: self.max_body_bytes.or(file.max_body_bytes),
            header_timeout: self.header_timeout.or(file.header_timeout),
            idle_timeout: self.idle_timeout.or(file.idle_timeout),
            max_connections: self.max_connections.or(file.max_connections),
            max_event_streams: self.max_event_streams.or(file.max_event_streams),
            request_timeout: self.request_timeout.or(file.request_timeout),
            max_bulk_flags: self.max_bulk_flags.or(file.max_bulk_flags),
            max_context_attributes: self.max_context_attributes.or(file.max_context_attributes),
            max_context_depth: self.max_context_depth.or(file.max_context_depth),
            cluster: self.cluster.or(file.cluster),
            cluster_prefix: self.cluster_prefix.or(file.cluster_prefix),
            cluster_replica: self.cluster_replica.or(file.cluster_replica),
            cluster_lease_ttl: self.cluster_lease_ttl.or(file.cluster_lease_ttl),
            cluster_ca: self.cluster_ca.or(file.cluster_ca),
            cluster_cert: self.cluster_cert.or(file.cluster_cert),
            cluster_key: self.cluster_key.or(file.cluster_key),
            cluster_user: self.cluster_user.or(file.cluster_user),
            cluster_password_file: self.cluster_password_file.or(file.cluster_password_file),
            config: self.config,
            check_config: self.check_config,
            completions: self.completions,
            man: self.man,
        }
    }
}

/// A repeatable option: given on the command line, it replaces the file's
/// list rather than adding to it.
fn or_file<T>(cli: Vec<T>, file: Vec<T>) -> Vec<T> {
    if cli.is_empty() { file } else { cli }
}

fn read_file(path: &Path) -> anyhow::Result<Args> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        // `file:line:col: message`, like every other file error of ours.
        let at = e.span().map_or(0, |span| span.start);
        let before = text.get(..at).unwrap_or(&text);
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        anyhow::anyhow!("{}:{line}:{col}: {}", path.display(), e.message())
    })
}
