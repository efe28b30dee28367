//! `flagd`: serves one environment over HTTP and hot-swaps it on every change.
//!
//! On start it prints `flagd listening on http://ADDR` on stdout (scripts and
//! tests read the port from it when `--listen` asks for port 0); logs go to
//! stderr.

mod config;
mod log;

/// mimalloc rather than the system allocator: a request allocates a few
/// dozen small blocks, and glibc's malloc and free were a fifth of its
/// instructions (docs/performance.md, "Where a request's time goes").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{CommandFactory, ValueEnum};
use hotswap_flags_client::prometheus::Prometheus;
use hotswap_flags_core::bundle::signing::{PublicKey, TrustedKeys};
use hotswap_flags_core::escape::controls;
use hotswap_flags_daemon::cluster::SharedExposures;
use hotswap_flags_daemon::cluster::etcd::{EtcdStore, Migration};
use hotswap_flags_daemon::dashboard;
use hotswap_flags_daemon::feed::{self, Feed};
use hotswap_flags_daemon::live::Live;
use hotswap_flags_daemon::rollout::clock::SystemClock;
use hotswap_flags_daemon::rollout::store::LocalStore;
use hotswap_flags_daemon::rollout::{Controller, RolloutApi};
use hotswap_flags_daemon::server::auth::{Authenticator, KeySource};
use hotswap_flags_daemon::server::events::EventStreams;
use hotswap_flags_daemon::server::guard::ClientRateLimit;
use hotswap_flags_daemon::server::listen::{self, ServeOptions};
use hotswap_flags_daemon::server::tls::CertReloader;
use hotswap_flags_daemon::server::ui::UiConfig;
use hotswap_flags_daemon::server::webhook::WebhookSecret;
use hotswap_flags_daemon::server::{self, AppState, Metrics, ROUTES, Security};
use hotswap_flags_daemon::state_dir::StateDir;
use hotswap_flags_daemon::telemetry::{self, ExportStats};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tracing::{info, warn};

use config::{Args, ClusterSettings, CommandLine, KeyFile, LogFormat, Settings, UiMode};

/// How long one health-check query may take before it counts as no data.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn main() -> ExitCode {
    let command_line = CommandLine::parse();
    let args = &command_line.args;
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
    let check_only = args.check_config;
    let settings = match command_line.resolve() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    if check_only {
        return match print_settings(&settings) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e.into()),
        };
    }
    // Before the runtime: the exporter's blocking client lives outside it.
    let traces = match settings
        .tracing
        .as_ref()
        .map(telemetry::install)
        .transpose()
    {
        Ok(t) => t,
        Err(e) => return fail(&e.into()),
    };
    init_logging(settings.log_format, traces.as_ref());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.workers)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&e.into()),
    };
    let stats = traces.as_ref().map(|t| t.stats.clone());
    let result = runtime.block_on(run(settings, stats));
    drop(runtime);
    if let Some(traces) = &traces {
        traces.shutdown();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// `--check-config`'s answer: the settings a start would use, one
/// `name: value` a line after `flagd: options OK` (docs/flagd.md).
fn print_settings(s: &Settings) -> std::io::Result<()> {
    let auth = match s.auth.as_ref().map(|a| &a.keys) {
        None => "off: every endpoint is open to whoever reaches the address".to_owned(),
        Some(KeyFile::Secret(p)) => format!("HS256 secret {}", p.display()),
        Some(KeyFile::PublicKey(p)) => format!("public key {}", p.display()),
        Some(KeyFile::Jwks(p)) => format!("JWKS {}", p.display()),
    };
    let cluster = match &s.cluster {
        None => "off".to_owned(),
        Some(c) => format!(
            "{} prefix {} replica {}",
            c.config.endpoints.join(","),
            c.config.prefix,
            c.replica.as_deref().unwrap_or("HOSTNAME:PORT")
        ),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "flagd: options OK")?;
    writeln!(out, "env: {}", s.env)?;
    writeln!(out, "source: {}", s.source)?;
    writeln!(out, "poll: {:?}", s.poll)?;
    writeln!(out, "listen: {}", s.listen)?;
    writeln!(out, "state-dir: {}", s.state_dir.display())?;
    writeln!(out, "auth: {auth}")?;
    writeln!(out, "cluster: {cluster}")?;
    let ui = s.ui.to_possible_value().expect("every --ui value is named");
    writeln!(out, "ui: {}", ui.get_name())?;
    let tracing = match &s.tracing {
        None => "off".to_owned(),
        Some(t) => format!(
            "{} {} service {} sampler {}{}",
            t.protocol.as_str(),
            t.endpoint,
            t.service_name,
            t.sampling.describe(),
            if t.context_id {
                " with context ids"
            } else {
                ""
            }
        ),
    };
    writeln!(out, "tracing: {tracing}")?;
    out.flush()
}

fn fail(e: &anyhow::Error) -> ExitCode {
    // What the error quotes (a file, a flag, a peer) prints escaped.
    let text = format!("{e:#}");
    let lines: Vec<_> = text.split('\n').map(controls).collect();
    eprintln!("flagd: error: {}", lines.join("\n"));
    ExitCode::from(2)
}

/// The log on stderr, filtered by `RUST_LOG` (default `info`); with
/// tracing on, also the bridge that exports the rollout controller's
/// `tracing` spans (docs/observability.md), with a filter of its own so
/// that the log reads the same either way.
fn init_logging(format: LogFormat, traces: Option<&telemetry::Installed>) {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let fmt = match format {
        // Every field escaped (log.rs, docs/security.md "Output").
        LogFormat::Text => fmt.fmt_fields(log::EscapedFields).boxed(),
        LogFormat::Json => fmt.json().boxed(),
    };
    let bridge = traces.map(|t| {
        tracing_opentelemetry::layer()
            .with_tracer(t.provider.tracer(telemetry::SCOPE))
            // The code location stays; thread names and busy/idle times
            // say nothing of a rollout decision.
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target("hotswap_flags_daemon::rollout", tracing::Level::DEBUG),
            )
    });
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(bridge)
        .init();
}

async fn run(settings: Settings, trace_stats: Option<Arc<ExportStats>>) -> anyhow::Result<()> {
    // Held until flagd exits: no other flagd may share the directory.
    let _state_dir = StateDir::claim(&settings.state_dir, &settings.env)?;
    let live = Arc::new(Live::new(&settings.env));
    // Bound first: a replica's default name in a cluster is HOST:PORT.
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    // The controller next: it loads stored rollout state and must supply
    // positions before the first ruleset is installed.
    let (rollouts, cluster_store) = start_controller(&settings, addr, &live)?;
    let refresh = Arc::new(Notify::new());
    start_feed(&settings, &live, &refresh)?;
    let webhook = settings
        .webhook_secret_file
        .as_deref()
        .map(WebhookSecret::read)
        .transpose()?
        .map(Arc::new);

    let security = security(&settings, addr)?;
    let options = serve_options(&settings)?;
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let shared_exposures = cluster_store.clone().map(|store| {
        tokio::spawn(store.clone().publish_exposures(live.clone()));
        store as Arc<dyn SharedExposures>
    });
    let state = Arc::new(AppState {
        shared_exposures,
        metrics: Arc::new(metrics(&live, &rollouts, trace_stats)),
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
        ui: UiConfig {
            mode: match settings.ui {
                UiMode::Off => dashboard::Mode::Off,
                UiMode::Read => dashboard::Mode::Read,
                UiMode::Steer => dashboard::Mode::Steer,
            },
            secure_cookies: scheme == "https",
            // Context for the charts only: a short wait, then without.
            prometheus: Prometheus::new(Duration::from_secs(2)).ok(),
            metrics_url: settings.metrics_url.clone(),
            context_cache: Default::default(),
        },
    });
    info!(%addr, env = %settings.env, source = %settings.source, "flagd listening");
    println!("flagd listening on {scheme}://{addr}");
    std::io::stdout().flush()?;
    server::serve(listener, state, options, shutdown_signal()).await?;
    if let Some(store) = cluster_store {
        store.resign().await;
    }
    info!("flagd stopped");
    Ok(())
}

/// flagd's metrics, with the trace exporter's when tracing is on.
fn metrics(
    live: &Arc<Live>,
    rollouts: &Arc<dyn RolloutApi>,
    trace_stats: Option<Arc<ExportStats>>,
) -> Metrics {
    let metrics = Metrics::new(live.clone(), Some(rollouts.clone()), ROUTES);
    match trace_stats {
        Some(stats) => metrics.with_trace_export(stats),
        None => metrics,
    }
}

/// The rollout controller as the server sees it, and in a cluster the
/// store it shares (for exposures, and to resign on the way out).
type Rollouts = (Arc<dyn RolloutApi>, Option<Arc<EtcdStore>>);

/// The rollout controller, started: over the state directory, or over the
/// cluster's etcd.
fn start_controller(
    settings: &Settings,
    addr: SocketAddr,
    live: &Arc<Live>,
) -> anyhow::Result<Rollouts> {
    let prometheus = Prometheus::new(CHECK_TIMEOUT)?;
    let (controller, cluster_store) = match &settings.cluster {
        None => {
            let controller = Controller::new(
                &settings.env,
                live.clone(),
                &settings.state_dir,
                Arc::new(SystemClock),
                prometheus,
                settings.metrics_url.clone(),
            );
            (controller, None)
        }
        Some(cluster) => {
            let (controller, store) =
                cluster_controller(settings, cluster, addr, live.clone(), prometheus)?;
            (controller, Some(store))
        }
    };
    tokio::spawn(controller.clone().run());
    Ok((controller, cluster_store))
}

/// The feed of the source, started: it installs every good ruleset into
/// `live`, and checks again when `refresh` is notified (a webhook).
fn start_feed(settings: &Settings, live: &Arc<Live>, refresh: &Arc<Notify>) -> anyhow::Result<()> {
    let mut source = Feed::new(&settings.source, &settings.env, &settings.state_dir)
        .map_err(anyhow::Error::msg)?;
    if let Some(keys) = TrustedKeys::read(&settings.bundle_public_keys)? {
        let ids: Vec<String> = keys.keys().iter().map(PublicKey::key_id).collect();
        info!(keys = ?ids, "only bundles signed by these keys are served");
        source
            .require_signatures(Arc::new(keys))
            .map_err(anyhow::Error::msg)?;
    }
    tokio::spawn(feed::run(
        source,
        live.clone(),
        settings.poll,
        settings.state_dir.clone(),
        refresh.clone(),
    ));
    Ok(())
}

/// The listener's budgets, and TLS with its certificate watched for
/// renewal.
fn serve_options(settings: &Settings) -> anyhow::Result<ServeOptions> {
    let tls = match &settings.tls {
        Some((cert, key)) => {
            let reloader = CertReloader::load(cert, key)?;
            tokio::spawn(reloader.clone().watch());
            Some(listen::tls_acceptor(&reloader)?)
        }
        None => None,
    };
    let defaults = ServeOptions::default();
    Ok(ServeOptions {
        header_timeout: settings.header_timeout,
        idle_timeout: settings.idle_timeout,
        max_connections: settings.max_connections.unwrap_or(defaults.max_connections),
        tls,
        ..defaults
    })
}

/// A controller whose state lives in the cluster's etcd (docs/cluster.md):
/// it starts with no records and is fed the cluster's; the state
/// directory's records are offered for migration.
fn cluster_controller(
    settings: &Settings,
    cluster: &ClusterSettings,
    addr: SocketAddr,
    live: Arc<Live>,
    prometheus: Prometheus,
) -> anyhow::Result<(Arc<Controller<Prometheus>>, Arc<EtcdStore>)> {
    let mut config = cluster.config.clone();
    config.user = cluster.credentials()?;
    config.replica = cluster
        .replica
        .clone()
        .unwrap_or_else(|| format!("{}:{}", hostname(), addr.port()));
    let local = LocalStore::new(&settings.state_dir, &settings.env);
    let migration = Migration {
        records: local.load().into_values().collect(),
        audit: local
            .audit_log()
            .read(None, usize::MAX)
            .context("reading the state directory's audit log")?,
    };
    let store = Arc::new(EtcdStore::new(&config, &settings.state_dir)?);
    info!(replica = %config.replica, endpoints = ?config.endpoints, prefix = %config.prefix, "cluster mode: rollout state in etcd");
    // What this replica last knew: served until etcd is read, and written
    // back if etcd lost it (docs/cluster.md, Failures).
    let cached = store.cached_records(&settings.env);
    let controller = Controller::with_store(
        &settings.env,
        live,
        store.clone(),
        cached,
        Arc::new(SystemClock),
        prometheus,
        settings.metrics_url.clone(),
    );
    store.start(controller.clone(), migration);
    Ok((controller, store))
}

/// This machine's host name (a pod's name in Kubernetes).
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at
    // most that many bytes.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(name) if ok && !name.is_empty() => name.to_owned(),
        _ => "flagd".to_owned(),
    }
}

/// Authentication and rate limiting from the settings; `addr` is where
/// flagd listens (the bound address, not `:0`).
fn security(settings: &Settings, addr: SocketAddr) -> anyhow::Result<Security> {
    if settings.ui == UiMode::Steer && settings.allowed_origins.is_empty() {
        warn!(
            "--ui steer without --allowed-origin: the dashboard shows steering controls, but the steering API refuses every web page, flagd's own included; list flagd's own origin (http(s)://HOST:PORT as browsers reach it) with --allowed-origin (docs/dashboard.md, Steering)"
        );
    }
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
