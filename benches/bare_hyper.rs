//! The floor for flagd's HTTP numbers (docs/performance.md, "HTTP"): a bare
//! hyper 1.x HTTP/1.1 server on tokio's multi-threaded runtime — the same
//! hyper, hyper-util and tokio flagd is built with, from the same lock
//! file — answering every request with one fixed JSON body, with no
//! routing, middleware, parsing or evaluation. Whatever flagd adds costs
//! the difference; `scripts/http-floor.sh` runs both, interleaved.
//!
//!   cargo build --release --example bare-hyper
//!   target/release/examples/bare-hyper [BODY_FILE]
//!
//! Listens on an ephemeral port of 127.0.0.1 and prints
//! `listening on http://ADDR`. The body is BODY_FILE's bytes (what flagd
//! answers the measured request, so both write as many bytes), else a
//! single-flag evaluation's size of JSON.

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

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let body: Arc<str> = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(path)?.trim_end().into(),
        None => DEFAULT_BODY.into(),
    };
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
