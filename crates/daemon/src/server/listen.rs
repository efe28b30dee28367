//! The accept loop: plain TCP or TLS, HTTP/1.1 and HTTP/2, the peer address
//! for rate limiting, and graceful shutdown (stop accepting, let requests in
//! flight finish).
//!
//! A connection budget keeps idle sockets from exhausting file descriptors
//! (docs/security.md, Limits): a deadline for request headers (a client
//! that trickles bytes is cut off), an idle deadline (a connection that
//! sends nothing — before its first request or between keep-alive requests
//! — is closed), and a cap on open connections; one over the cap is told
//! so with a 503 and closed at once.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tracing::debug;

use super::wire_errors::JsonWireErrors;

/// How connections are served.
#[derive(Clone)]
pub struct ServeOptions {
    /// How long a client may take to send a request's headers (also the
    /// TLS handshake deadline).
    pub header_timeout: Duration,
    /// TLS, when configured.
    pub tls: Option<TlsAcceptor>,
    /// How long shutdown waits for requests in flight.
    pub drain_timeout: Duration,
    /// How long a connection may send nothing while no request of it is
    /// in flight: before its first request, and between keep-alive ones.
    pub idle_timeout: Duration,
    /// Open connections at most; one more is answered 503 and closed.
    pub max_connections: usize,
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("header_timeout", &self.header_timeout)
            .field("tls", &self.tls.is_some())
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_timeout: Duration::from_secs(10),
            tls: None,
            drain_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(10),
            max_connections: default_max_connections(),
        }
    }
}

/// 10,000, or fewer when the process may open fewer files: 128 descriptors
/// stay free for reloads, git, state files and logs.
pub fn default_max_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given, nothing else.
    let files = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
    } else {
        1024
    };
    files.saturating_sub(128).clamp(16, 10_000)
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(options.max_connections));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream, peer));
            continue;
        };
        let router = router.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let options = options.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let idle = options.idle_timeout;
            match &options.tls {
                None => serve_connection(stream, peer, router, builder, watcher, idle).await,
                Some(acceptor) => {
                    match tokio::time::timeout(options.header_timeout, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => {
                            serve_connection(tls, peer, router, builder, watcher, idle).await
                        }
                        Ok(Err(e)) => debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(options.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        debug!("requests still in flight after the drain timeout");
    }
    Ok(())
}

/// Answers a connection over the cap with a 503 and closes it, without
/// reading what it sent.
async fn refuse(mut stream: TcpStream, peer: SocketAddr) {
    const BODY: &str = r#"{"error":{"code":"TOO_MANY_CONNECTIONS","message":"flagd has as many open connections as --max-connections allows; retry shortly"}}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let write = async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    };
    if tokio::time::timeout(Duration::from_secs(1), write)
        .await
        .is_err()
    {
        debug!(%peer, "could not tell a connection over the cap");
    }
}

async fn serve_connection<I>(
    io: I,
    peer: SocketAddr,
    router: Router,
    builder: Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    idle_timeout: Duration,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let requests = activity.clone();
    let service = router.map_request(move |mut request: axum::http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let service = tower::service_fn(move |request| {
        let service = service.clone();
        let in_flight = InFlight::start(requests.clone());
        async move {
            let response = service.oneshot(request).await;
            drop(in_flight);
            response
        }
    });
    let connection = builder
        .serve_connection(
            TokioIo::new(Watched {
                io: JsonWireErrors::new(io),
                activity: activity.clone(),
            }),
            TowerToHyperService::new(service),
        )
        .into_owned();
    let connection = watcher.watch(connection);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = &mut connection => result,
        () = activity.idle_for(idle_timeout) => {
            debug!(%peer, "closing an idle connection");
            return;
        }
    };
    if let Err(e) = result {
        debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// When a connection last moved a byte, and how many of its requests are
/// being answered.
struct Activity {
    opened: Instant,
    last_millis: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Activity {
            opened: Instant::now(),
            last_millis: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.store(now, Ordering::Relaxed);
    }

    /// Completes once the connection has been silent for `limit` with no
    /// request in flight (a slow handler is not idleness).
    async fn idle_for(&self, limit: Duration) {
        loop {
            let last = Duration::from_millis(self.last_millis.load(Ordering::Relaxed));
            let silent = self.opened.elapsed().saturating_sub(last);
            if silent >= limit && self.in_flight.load(Ordering::Relaxed) == 0 {
                return;
            }
            tokio::time::sleep(limit.saturating_sub(silent).max(limit / 4)).await;
        }
    }
}

/// One request being answered, for [`Activity`]; ends when dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's byte stream, recording activity on every read and write.
struct Watched<I> {
    io: I,
    activity: Arc<Activity>,
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// A TLS acceptor over a reloading certificate.
pub fn tls_acceptor(
    reloader: &Arc<super::tls::CertReloader>,
) -> Result<TlsAcceptor, super::tls::TlsError> {
    Ok(TlsAcceptor::from(reloader.server_config()?))
}
