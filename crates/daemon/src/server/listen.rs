//! The accept loop: plain TCP or TLS, HTTP/1.1 and HTTP/2, the peer address
//! for rate limiting, and graceful shutdown (stop accepting, let requests in
//! flight finish).
//!
//! A connection budget keeps idle sockets from exhausting file descriptors
//! (docs/security.md, Limits): a deadline for request headers (a client
//! that trickles bytes is cut off), an idle deadline (a connection with no
//! request in flight — before its first request or between keep-alive
//! requests — is closed), and a cap on open connections; one over the cap
//! is told so with a 503 and closed at once.
//!
//! Idleness is measured by what a connection asks for, not by the bytes it
//! sends. On HTTP/1.1 every byte between requests belongs to the next
//! request, whose headers must arrive within the header deadline, so bytes
//! count. On HTTP/2 a client can send frames forever without asking for
//! anything — PING, SETTINGS — so there only requests count: a request in
//! flight, and the response data flagd sends (an event stream's keep-alive
//! comments included). HTTP/2 control frames are also capped per second
//! ([`ServeOptions::max_control_frames_per_second`]): a connection that
//! floods them (PING, SETTINGS, RST_STREAM as in Rapid Reset, PRIORITY,
//! empty DATA) is closed.

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
use tracing::{debug, warn};

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
    /// HTTP/2 control frames (PING, SETTINGS, RST_STREAM, PRIORITY, empty
    /// DATA) one connection may send in a second; a connection sending more
    /// is closed. 0: no cap.
    pub max_control_frames_per_second: u32,
}

/// What [`ServeOptions::max_control_frames_per_second`] is unless set:
/// far above what a browser or an HTTP/2 client library sends (a handful
/// at the start of a connection, a reset when a page navigates away), far
/// below a flood.
pub const DEFAULT_MAX_CONTROL_FRAMES_PER_SECOND: u32 = 100;

/// The most a request's line and header lines may take together, as sent
/// (docs/flagd.md, Errors): larger gets 431 `HEADERS_TOO_LARGE`. hyper's
/// own HTTP/1.1 buffer is a little larger (its limit moves with how the
/// bytes arrive), so this is what a client meets;
/// [`super::guard::headers_too_large`] enforces it exactly.
pub const MAX_HEADER_BYTES: usize = 400 * 1024;

/// HTTP/2's header list limit (`SETTINGS_MAX_HEADER_LIST_SIZE`, each field
/// counted with 32 bytes more, as HTTP/2 counts): an HTTP/2 connection
/// holds up to 200 requests at once, so its requests get less than an
/// HTTP/1.1 connection's one.
pub const H2_MAX_HEADER_LIST_BYTES: u32 = 16 * 1024;

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("header_timeout", &self.header_timeout)
            .field("tls", &self.tls.is_some())
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .field(
                "max_control_frames_per_second",
                &self.max_control_frames_per_second,
            )
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
            max_control_frames_per_second: DEFAULT_MAX_CONTROL_FRAMES_PER_SECOND,
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
        .max_buf_size(MAX_HEADER_BYTES + 8 * 1024)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(H2_MAX_HEADER_LIST_BYTES)
        // Streams a client opens and resets before flagd accepts them
        // (Rapid Reset), and streams flagd had to reset for the client's
        // errors: past these the connection is closed.
        .max_pending_accept_reset_streams(20)
        .max_local_error_reset_streams(256);
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
            let limits = ConnectionLimits {
                idle: options.idle_timeout,
                control_frames: options.max_control_frames_per_second,
            };
            match &options.tls {
                None => serve_connection(stream, peer, router, builder, watcher, limits).await,
                Some(acceptor) => {
                    match tokio::time::timeout(options.header_timeout, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => {
                            serve_connection(tls, peer, router, builder, watcher, limits).await
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

/// What one connection may do: go without a request so long, send so
/// many HTTP/2 control frames a second.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    idle: Duration,
    control_frames: u32,
}

async fn serve_connection<I>(
    io: I,
    peer: SocketAddr,
    router: Router,
    builder: Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    limits: ConnectionLimits,
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
                protocol: Protocol::Sniffing(0),
                control_frames: limits.control_frames,
            }),
            TowerToHyperService::new(service),
        )
        .into_owned();
    let connection = watcher.watch(connection);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = &mut connection => result,
        () = activity.idle_for(limits.idle) => {
            debug!(%peer, "closing an idle connection");
            return;
        }
    };
    if let Err(e) = result {
        if activity.flooded.load(Ordering::Relaxed) {
            warn!(
                %peer,
                limit = limits.control_frames,
                "closed an HTTP/2 connection that sent more control frames a second than allowed"
            );
        } else {
            debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}

/// When a connection last did something that counts against idleness
/// (see the module's docs), and how many of its requests are being
/// answered.
struct Activity {
    opened: Instant,
    last_millis: AtomicU64,
    in_flight: AtomicUsize,
    /// Closed for a flood of HTTP/2 control frames.
    flooded: std::sync::atomic::AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Activity {
            opened: Instant::now(),
            last_millis: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            flooded: std::sync::atomic::AtomicBool::new(false),
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

/// What a connection speaks, as far as idleness is concerned.
#[derive(Debug)]
enum Protocol {
    /// Not known yet: this many bytes of the HTTP/2 preface were read.
    /// Nothing counts as activity meanwhile (a client trickling the
    /// preface is idle); an HTTP/1.1 request differs from it by its second
    /// byte at the latest.
    Sniffing(usize),
    /// Every byte read or written counts.
    Http1,
    /// Only requests and response data count; control frames are capped.
    Http2(Box<H2Watch>),
}

/// The client preface of HTTP/2 (RFC 9113, 3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The frames of an HTTP/2 connection, as they pass.
#[derive(Debug)]
struct H2Watch {
    incoming: FrameScanner,
    outgoing: FrameScanner,
    /// The current one-second window and the control frames counted in it.
    window: Instant,
    control_frames: u32,
}

impl H2Watch {
    fn new() -> Self {
        H2Watch {
            incoming: FrameScanner::default(),
            outgoing: FrameScanner::default(),
            window: Instant::now(),
            control_frames: 0,
        }
    }

    /// Counts the control frames among `bytes` read from the client;
    /// `false` once more than `limit` arrived within one second.
    fn read(&mut self, bytes: &[u8], limit: u32) -> bool {
        let mut count = 0;
        self.incoming.feed(bytes, |frame| {
            count += u32::from(frame.is_control());
        });
        if count == 0 || limit == 0 {
            return true;
        }
        if self.window.elapsed() >= Duration::from_secs(1) {
            self.window = Instant::now();
            self.control_frames = 0;
        }
        self.control_frames = self.control_frames.saturating_add(count);
        self.control_frames <= limit
    }

    /// Whether `bytes` written to the client carry response data.
    fn wrote_data(&mut self, bytes: &[u8]) -> bool {
        let mut data = false;
        self.outgoing.feed(bytes, |frame| {
            data |= frame.kind == FRAME_DATA && frame.length > 0;
        });
        data
    }
}

const FRAME_DATA: u8 = 0x0;
const FRAME_HEADERS: u8 = 0x1;
const FRAME_PRIORITY: u8 = 0x2;
const FRAME_RST_STREAM: u8 = 0x3;
const FRAME_SETTINGS: u8 = 0x4;
const FRAME_PING: u8 = 0x6;
const FLAG_ACK: u8 = 0x1;
const FLAG_END_STREAM: u8 = 0x1;

/// The head of one HTTP/2 frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameHead {
    length: u32,
    kind: u8,
    flags: u8,
}

impl FrameHead {
    /// A frame that asks nothing of the application but costs the server
    /// work: what floods are made of (PING and SETTINGS floods, Rapid
    /// Reset's RST_STREAM, PRIORITY, empty DATA or HEADERS frames that
    /// do not end their stream).
    fn is_control(self) -> bool {
        match self.kind {
            FRAME_PING | FRAME_SETTINGS => self.flags & FLAG_ACK == 0,
            FRAME_RST_STREAM | FRAME_PRIORITY => true,
            FRAME_DATA | FRAME_HEADERS => self.length == 0 && self.flags & FLAG_END_STREAM == 0,
            _ => false,
        }
    }
}

/// Finds frame heads in an HTTP/2 byte stream cut anywhere.
#[derive(Debug, Default)]
struct FrameScanner {
    head: [u8; 9],
    have: usize,
    /// Payload bytes of the current frame still to pass.
    skip: usize,
}

impl FrameScanner {
    fn feed(&mut self, mut bytes: &[u8], mut on_frame: impl FnMut(FrameHead)) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                self.skip -= n;
                bytes = &bytes[n..];
                continue;
            }
            let n = (9 - self.have).min(bytes.len());
            self.head[self.have..self.have + n].copy_from_slice(&bytes[..n]);
            self.have += n;
            bytes = &bytes[n..];
            if self.have == 9 {
                self.have = 0;
                let h = &self.head;
                let frame = FrameHead {
                    length: u32::from_be_bytes([0, h[0], h[1], h[2]]),
                    kind: h[3],
                    flags: h[4],
                };
                self.skip = frame.length as usize;
                on_frame(frame);
            }
        }
    }
}

/// A connection's byte stream, recording activity (see [`Protocol`]).
struct Watched<I> {
    io: I,
    activity: Arc<Activity>,
    protocol: Protocol,
    /// [`ServeOptions::max_control_frames_per_second`].
    control_frames: u32,
}

impl<I> Watched<I> {
    /// Takes note of `bytes` read; `false` when the connection must close.
    fn read(&mut self, mut bytes: &[u8]) -> bool {
        if let Protocol::Sniffing(matched) = &mut self.protocol {
            let n = (H2_PREFACE.len() - *matched).min(bytes.len());
            if bytes[..n] != H2_PREFACE[*matched..*matched + n] {
                self.protocol = Protocol::Http1;
            } else {
                *matched += n;
                bytes = &bytes[n..];
                if *matched < H2_PREFACE.len() {
                    return true;
                }
                self.protocol = Protocol::Http2(Box::new(H2Watch::new()));
            }
        }
        match &mut self.protocol {
            Protocol::Sniffing(_) => true,
            Protocol::Http1 => {
                self.activity.touch();
                true
            }
            Protocol::Http2(h2) => {
                let within = h2.read(bytes, self.control_frames);
                if !within {
                    self.activity.flooded.store(true, Ordering::Relaxed);
                }
                within
            }
        }
    }

    /// Takes note of `bytes` written.
    fn wrote(&mut self, bytes: &[u8]) {
        let counts = match &mut self.protocol {
            Protocol::Http2(h2) => h2.wrote_data(bytes),
            Protocol::Http1 | Protocol::Sniffing(_) => true,
        };
        if counts {
            self.activity.touch();
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before && !self.read(&buf.filled()[before..]) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "too many HTTP/2 control frames a second",
            )));
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
        if let Poll::Ready(Ok(n)) = polled
            && n > 0
        {
            self.wrote(&data[..n]);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
        let mut out = vec![len[1], len[2], len[3], kind, flags, 0, 0, 0, 0];
        out.extend_from_slice(payload);
        out
    }

    /// Frames are found however the stream is cut.
    #[test]
    fn frame_heads_are_found_across_reads() {
        let mut stream = Vec::new();
        stream.extend(frame(FRAME_SETTINGS, 0, &[0; 6]));
        stream.extend(frame(FRAME_PING, 0, &[7; 8]));
        stream.extend(frame(FRAME_DATA, 0, &[1; 300]));
        stream.extend(frame(FRAME_PING, FLAG_ACK, &[7; 8]));
        for cut in [1, 2, 5, 9, 10, 64, stream.len()] {
            let mut scanner = FrameScanner::default();
            let mut kinds = Vec::new();
            for chunk in stream.chunks(cut) {
                scanner.feed(chunk, |f| kinds.push((f.kind, f.length, f.is_control())));
            }
            assert_eq!(
                kinds,
                [
                    (FRAME_SETTINGS, 6, true),
                    (FRAME_PING, 8, true),
                    (FRAME_DATA, 300, false),
                    (FRAME_PING, 8, false)
                ],
                "cut every {cut} bytes"
            );
        }
    }

    /// A fresh connection's stream, a little after it opened (activity
    /// is recorded in milliseconds since then).
    fn watched() -> Watched<()> {
        let w = Watched {
            io: (),
            activity: Arc::new(Activity::new()),
            protocol: Protocol::Sniffing(0),
            control_frames: 10,
        };
        std::thread::sleep(Duration::from_millis(2));
        w
    }

    fn touched(w: &Watched<()>) -> bool {
        w.activity.last_millis.load(Ordering::Relaxed) > 0
    }

    #[test]
    fn http1_bytes_count_http2_frames_do_not() {
        let mut w = watched();
        assert!(w.read(b"POST /api HTTP/1.1\r\n"));
        assert!(matches!(w.protocol, Protocol::Http1));
        assert!(touched(&w));

        let mut w = watched();
        // The preface, a byte at a time: not activity.
        for b in H2_PREFACE {
            assert!(w.read(&[*b]));
        }
        assert!(matches!(w.protocol, Protocol::Http2(_)));
        assert!(w.read(&frame(FRAME_PING, 0, &[0; 8])));
        w.wrote(&frame(FRAME_PING, FLAG_ACK, &[0; 8]));
        w.wrote(&frame(FRAME_SETTINGS, 0, &[]));
        assert!(!touched(&w), "pings and settings are not activity");
        // Response data is.
        w.wrote(&frame(FRAME_DATA, 0, b"{}"));
        assert!(touched(&w));
    }

    #[test]
    fn a_flood_of_control_frames_closes_the_connection() {
        let mut w = watched();
        assert!(w.read(H2_PREFACE));
        let pings: Vec<u8> = (0..10)
            .flat_map(|_| frame(FRAME_PING, 0, &[0; 8]))
            .collect();
        assert!(w.read(&pings), "ten a second are allowed");
        // Data frames that carry something do not count.
        assert!(w.read(&frame(FRAME_DATA, 0, b"x")));
        assert!(
            !w.read(&frame(FRAME_RST_STREAM, 0, &[0; 4])),
            "the eleventh"
        );
        assert!(w.activity.flooded.load(Ordering::Relaxed));
    }
}
