//! The floor for flagd's HTTP numbers (docs/performance.md, "HTTP"): a bare
//! hyper 1.x HTTP/1.1 server on tokio's multi-threaded runtime — the same
//! hyper, hyper-util and tokio flagd is built with, from the same lock
//! file — answering every request with one fixed JSON body, with no
//! routing, middleware, parsing or evaluation. Whatever flagd adds costs
//! the difference; `scripts/http-floor.sh` runs both, interleaved.
//!
//!   cargo build --release --example bare-hyper
//!   target/release/examples/bare-hyper [BODY_FILE [WORKERS]]
//!
//! Listens on an ephemeral port of 127.0.0.1 and prints
//! `listening on http://ADDR`. The body is BODY_FILE's bytes (what flagd
//! answers the measured request, so both write as many bytes), else a
//! single-flag evaluation's size of JSON. WORKERS request threads (default:
//! the CPUs minus one, at least one — flagd's default `--workers`, so the
//! two are compared on the same threads).

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const DEFAULT_BODY: &str = r#"{"flag":"new-checkout-flow","enabled":true,"value":false,"variant":"off","reason":"DEFAULT","version":"sha256:0000000000000000000000000000000000000000000000000000000000000000"}"#;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let body: Arc<str> = match args.next() {
        Some(path) => std::fs::read_to_string(path)?.trim_end().into(),
        None => DEFAULT_BODY.into(),
    };
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = match args.next() {
        Some(n) => n.parse().map_err(std::io::Error::other)?,
        None => cpus.saturating_sub(1).max(1),
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?
        .block_on(serve(body))
}

async fn serve(body: Arc<str>) -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_: Request<Incoming>| {
                let mut response = Response::new(body.to_string());
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
