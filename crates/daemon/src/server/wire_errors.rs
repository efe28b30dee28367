//! JSON bodies for the errors the HTTP layer answers on its own.
//!
//! hyper answers a request it cannot parse — a malformed request line or
//! header (400), a target over its limit (414), headers over its buffer
//! (431) — before any handler runs, with an empty body. docs/flagd.md
//! promises a JSON body for every error, and hyper has no hook for these
//! answers, so the connection's byte stream recognises them on their way out
//! and writes the same status with a body in flagd's error shape.
//!
//! Only hyper writes such a head: every answer of flagd's own handlers that
//! is an error carries a body, so an error head with `content-length: 0`
//! that closes the connection can only be one of hyper's.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::AsyncWrite;

/// A connection's byte stream that gives hyper's bodiless error answers a
/// JSON body.
pub(super) struct JsonWireErrors<I> {
    io: I,
    /// A rewritten answer, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<I> JsonWireErrors<I> {
    pub(super) fn new(io: I) -> Self {
        JsonWireErrors { io, pending: None }
    }
}

impl<I: AsyncWrite + Unpin> JsonWireErrors<I> {
    /// Writes what is left of a rewritten answer.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for JsonWireErrors<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for JsonWireErrors<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        let Some(answer) = with_json_body(data) else {
            return Pin::new(&mut self.io).poll_write(cx, data);
        };
        // The whole head is taken; the rewritten answer goes out now or on
        // the flush hyper makes before it closes the connection.
        self.pending = Some((answer, 0));
        if let Poll::Ready(Err(e)) = self.drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The answer `head` stands for, with a JSON body, when `head` is one of
/// hyper's bodiless error answers; `None` for anything else.
fn with_json_body(head: &[u8]) -> Option<Vec<u8>> {
    // Every write of every answer passes here: a few byte comparisons let
    // all but hyper's error heads through untouched.
    let error_status = head.starts_with(b"HTTP/1.1 4") || head.starts_with(b"HTTP/1.1 5");
    if !error_status || head.len() > 512 || !head.ends_with(b"\r\n\r\n") {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let header_block = text.strip_suffix("\r\n\r\n")?;
    let mut lines = header_block.split("\r\n");
    let status_line = lines.next()?;
    let status = status_line.strip_prefix("HTTP/1.1 ")?;
    let (code, _reason) = status.split_once(' ')?;
    if !matches!(code.as_bytes().first(), Some(b'4' | b'5')) {
        return None;
    }
    let headers: Vec<&str> = lines.collect();
    let has = |wanted: &str| headers.iter().any(|h| h.eq_ignore_ascii_case(wanted));
    if !has("content-length: 0") || !has("connection: close") {
        return None;
    }
    let (error_code, message) = describe(code);
    let body = serde_json::json!({"error": {"code": error_code, "message": message}}).to_string();
    let mut answer = format!("{status_line}\r\ncontent-type: application/json\r\n");
    for header in headers
        .iter()
        .filter(|h| !h.to_ascii_lowercase().starts_with("content-length:"))
    {
        answer.push_str(header);
        answer.push_str("\r\n");
    }
    answer.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    Some(answer.into_bytes())
}

/// flagd's error code and message for a status hyper answers on its own.
fn describe(status: &str) -> (&'static str, &'static str) {
    match status {
        "400" => (
            "BAD_REQUEST",
            "the request line or a header is not valid HTTP/1.1",
        ),
        "414" => ("URI_TOO_LONG", "the request target is too long"),
        "431" => (
            "HEADERS_TOO_LARGE",
            "the request's headers are too large; send fewer or shorter headers",
        ),
        "505" => (
            "HTTP_VERSION_NOT_SUPPORTED",
            "flagd speaks HTTP/1.1 and HTTP/2",
        ),
        _ => ("BAD_REQUEST", "the request could not be read"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPER_431: &str = "HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 14:16:00 GMT\r\n\r\n";

    fn body_of(answer: &[u8]) -> serde_json::Value {
        let text = std::str::from_utf8(answer).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, body.len());
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn a_bodiless_error_of_hyper_gets_a_json_body() {
        let answer = with_json_body(HYPER_431.as_bytes()).unwrap();
        let text = String::from_utf8(answer.clone()).unwrap();
        assert!(text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(text.contains("content-type: application/json\r\n"));
        assert!(text.contains("connection: close\r\n"));
        assert!(text.contains("date: Wed, 02 Dec 2026 14:16:00 GMT\r\n"));
        assert_eq!(body_of(&answer)["error"]["code"], "HEADERS_TOO_LARGE");
    }

    #[test]
    fn answers_of_flagd_itself_pass_unchanged() {
        for head in [
            // A handler's error: it has a body.
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 52\r\nconnection: close\r\n\r\n",
            // Success without a body.
            "HTTP/1.1 204 No Content\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            // An error that keeps the connection open is not hyper's.
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            // Part of a body, or a head split over writes.
            "{\"error\":",
            "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n",
        ] {
            assert_eq!(with_json_body(head.as_bytes()), None, "{head}");
        }
    }

    #[tokio::test]
    async fn the_rewritten_answer_reaches_the_peer_through_partial_writes() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // A pipe of 7 bytes forces the answer out in many pieces.
        let (near, mut far) = tokio::io::duplex(7);
        let writer = tokio::spawn(async move {
            let mut stream = JsonWireErrors::new(near);
            stream.write_all(HYPER_431.as_bytes()).await.unwrap();
            stream.shutdown().await.unwrap();
        });
        let mut received = Vec::new();
        far.read_to_end(&mut received).await.unwrap();
        writer.await.unwrap();
        assert_eq!(received, with_json_body(HYPER_431.as_bytes()).unwrap());
    }
}
