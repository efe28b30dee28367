//! `flagd`: serves one environment over HTTP and hot-swaps it on every change.
//!
//! On start it prints `flagd listening on http://ADDR` on stdout (scripts and
//! tests read the port from it when `--listen` asks for port 0); logs go to
//! stderr.

mod config;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{CommandFactory, Parser};
use hotswap_flags::bundle::signing::{PublicKey, TrustedKeys};
use hotswap_flags::daemon::feed::{self, Feed};
use hotswap_flags::daemon::live::Live;
use hotswap_flags::daemon::rollout::clock::SystemClock;
use hotswap_flags::daemon::rollout::{Controller, RolloutApi};
use hotswap_flags::daemon::server::auth::{Authenticator, KeySource};
use hotswap_flags::daemon::server::events::EventStreams;
use hotswap_flags::daemon::server::guard::ClientRateLimit;
use hotswap_flags::daemon::server::listen::{self, ServeOptions};
use hotswap_flags::daemon::server::tls::CertReloader;
use hotswap_flags::daemon::server::webhook::WebhookSecret;
use hotswap_flags::daemon::server::{self, AppState, Metrics, ROUTES, Security};
use hotswap_flags::daemon::state_dir::StateDir;
use hotswap_flags::prometheus::Prometheus;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tracing::{info, warn};

use config::{Args, KeyFile, LogFormat, Settings};

/// How long one health-check query may take before it counts as no data.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(shell) = args.completions {
        clap_complete::generate(shell, &mut Args::command(), "flagd", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    if args.man {
        return match clap_mangen::Man::new(Args::command()).render(&mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e.into()),
        };
    }
    let settings = match args.resolve() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    init_logging(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.workers)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&e.into()),
    };
    match runtime.block_on(run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("flagd: error: {e:#}");
    ExitCode::from(2)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    // Held until flagd exits: no other flagd may share the directory.
    let _state_dir = StateDir::claim(&settings.state_dir, &settings.env)?;
    let live = Arc::new(Live::new(&settings.env));
    // The controller first: it loads stored rollout state and must supply
    // positions before the first ruleset is installed.
    let prometheus = Prometheus::new(CHECK_TIMEOUT)?;
    let controller = Controller::new(
        &settings.env,
        live.clone(),
        &settings.state_dir,
        Arc::new(SystemClock),
        prometheus,
        settings.metrics_url.clone(),
    );
    tokio::spawn(controller.clone().run());
    let rollouts: Arc<dyn RolloutApi> = controller;
    let mut source = Feed::new(&settings.source, &settings.env, &settings.state_dir)
        .map_err(anyhow::Error::msg)?;
    if let Some(keys) = TrustedKeys::read(&settings.bundle_public_keys)? {
        let ids: Vec<String> = keys.keys().iter().map(PublicKey::key_id).collect();
        info!(keys = ?ids, "only bundles signed by these keys are served");
        source
            .require_signatures(Arc::new(keys))
            .map_err(anyhow::Error::msg)?;
    }
    let webhook = settings
        .webhook_secret_file
        .as_deref()
        .map(WebhookSecret::read)
        .transpose()?
        .map(Arc::new);
    let refresh = Arc::new(Notify::new());
    tokio::spawn(feed::run(
        source,
        live.clone(),
        settings.poll,
        settings.state_dir.clone(),
        refresh.clone(),
    ));

    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let security = security(&settings, addr)?;
    let tls = match &settings.tls {
        Some((cert, key)) => {
            let reloader = CertReloader::load(cert, key)?;
            tokio::spawn(reloader.clone().watch());
            Some(listen::tls_acceptor(&reloader)?)
        }
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let state = Arc::new(AppState {
        metrics: Arc::new(Metrics::new(live.clone(), Some(rollouts.clone()), ROUTES)),
        live,
        refresh,
        rollouts: Some(rollouts),
        min_polling_interval_ms: u64::try_from(settings.poll.as_millis())
            .unwrap_or(u64::MAX)
            .min(60_000),
        security,
        limits: settings.limits,
        // A stream's comments must come well within the idle deadline.
        events: EventStreams::new(
            settings.max_event_streams,
            (settings.idle_timeout / 2).min(Duration::from_secs(15)),
        ),
        webhook,
    });
    let defaults = ServeOptions::default();
    let options = ServeOptions {
        header_timeout: settings.header_timeout,
        idle_timeout: settings.idle_timeout,
        max_connections: settings.max_connections.unwrap_or(defaults.max_connections),
        tls,
        ..defaults
    };
    info!(%addr, env = %settings.env, source = %settings.source, "flagd listening");
    println!("flagd listening on {scheme}://{addr}");
    std::io::stdout().flush()?;
    server::serve(listener, state, options, shutdown_signal()).await?;
    info!("flagd stopped");
    Ok(())
}

/// Authentication and rate limiting from the settings; `addr` is where
/// flagd listens (the bound address, not `:0`).
fn security(settings: &Settings, addr: SocketAddr) -> anyhow::Result<Security> {
    let auth = match &settings.auth {
        None => {
            warn!(
                "no --auth-jwt-* key: every endpoint, rollout steering included, is open to anyone who can reach {addr}; a web page in a browser on such a machine is refused steering unless --allowed-origin lists it, but through DNS rebinding it can read flags unless --allowed-host names the hosts flagd answers to"
            );
            None
        }
        Some(a) => {
            let source = match &a.keys {
                KeyFile::Secret(p) => KeySource::SecretFile(p),
                KeyFile::PublicKey(p) => KeySource::PublicKeyFile(p),
                KeyFile::Jwks(p) => KeySource::JwksFile(p),
            };
            Some(Authenticator::new(
                source,
                a.issuer.clone(),
                a.audience.clone(),
                a.role_claim.clone(),
                a.api_keys_file.as_deref(),
                a.client_api_keys_file.as_deref(),
            )?)
        }
    };
    let rate_limit = settings.rate_limit.map(|(rate, burst)| {
        let limit = Arc::new(ClientRateLimit::new(rate, burst));
        let cleaner = limit.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                cleaner.forget_idle();
            }
        });
        limit
    });
    Ok(Security {
        auth,
        auth_eval: settings.auth_eval,
        metrics_auth: settings.metrics_auth,
        rate_limit,
        allowed_origins: settings.allowed_origins.clone(),
        cors_origins: settings.cors_origins.clone(),
        allowed_hosts: settings.allowed_hosts.clone(),
    })
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    info!("shutting down; finishing requests in flight");
}
