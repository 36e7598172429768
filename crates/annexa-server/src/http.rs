//! The HTTP connections of `annexa serve`: how long a client may take, how many clients may
//! be connected, and how requests too large to handle are answered.
//!
//! A server on the open network meets clients that connect and send nothing, or send a
//! byte a minute; without limits each holds a file descriptor until the process has none
//! left, and then nothing works, the scheduler's jobs included. So:
//!
//! - the request head (line and headers) must arrive within `header_read_timeout`, and an
//!   idle keep-alive connection is closed after the same time without a new request;
//! - a request body must arrive within `body_read_timeout` (408 otherwise);
//! - at most `max_connections` are served at once; past that a new connection is answered
//!   503 with `Retry-After` and closed, so the server keeps its descriptors;
//! - a request line longer than `max_uri_bytes` is 414, headers larger than
//!   `max_header_bytes` are 431, a body larger than the SCIM `maxPayloadSize` is 413.
//!
//! Every such answer carries the SCIM error schema (RFC 7644 §3.12), also the ones the HTTP
//! parser itself gives when a head exceeds what it buffers ([`ParseErrorBodies`]).

use crate::scim::ScimError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The limits on each connection and request.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// For the request head to arrive, and for an idle connection to send its next request.
    pub header_read_timeout: Duration,
    /// For the request body to arrive, once the head has.
    pub body_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Of the request target (path and query).
    pub max_uri_bytes: usize,
    /// Of all header names and values together.
    pub max_header_bytes: usize,
    /// Proxies whose `X-Forwarded-For` names the client (behind a load balancer every
    /// connection is the proxy's).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 16 * 1024,
            trusted_proxies: Vec::new(),
        }
    }
}

impl HttpLimits {
    /// What the HTTP parser buffers of a request head: room for the largest head the
    /// checks below answer themselves, so that only far larger ones reach the parser's own
    /// answer (which [`ParseErrorBodies`] still gives a SCIM body).
    pub fn max_head_buffer(&self) -> usize {
        (self.max_uri_bytes + self.max_header_bytes).max(8192) * 2
    }
}

/// Middleware on every request: the request target and headers within their limits.
pub async fn check_head(limits: axum::extract::State<HttpLimits>, request: Request, next: Next) -> Response {
    let target = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > limits.max_uri_bytes {
        let detail = format!(
            "the request target is {target} bytes; at most {} are read (send long filters with POST …/.search)",
            limits.max_uri_bytes
        );
        return closing(ScimError::new(414, None, detail).into_response());
    }
    let headers: usize = request.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if headers > limits.max_header_bytes {
        let detail = format!("the request headers are {headers} bytes; at most {} are read", limits.max_header_bytes);
        return closing(ScimError::new(431, None, detail).into_response());
    }
    next.run(request).await
}

/// Middleware on requests that passed authentication: reads the whole body, within the
/// size limit and `body_read_timeout`, so that a slow client cannot hold a request open.
pub async fn read_body(limits: axum::extract::State<(HttpLimits, u64)>, request: Request, next: Next) -> Response {
    let (http, max) = &*limits;
    let (parts, body) = request.into_parts();
    let limited = http_body_util::Limited::new(body, *max as usize);
    let bytes = match tokio::time::timeout(http.body_read_timeout, http_body_util::BodyExt::collect(limited)).await {
        Err(_) => {
            let detail = format!("the request body did not arrive within {} s", http.body_read_timeout.as_secs());
            return closing(ScimError::new(408, None, detail).into_response());
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return closing(payload_too_large(parts.uri.path(), *max));
        }
        Ok(Err(e)) => return closing(ScimError::bad("invalidSyntax", format!("the request body cannot be read: {e}")).into_response()),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn payload_too_large(path: &str, max: u64) -> Response {
    if path.ends_with("/Bulk") {
        // A Bulk request's 413 has its own wording (RFC 7644 §3.7.4).
        let e = annexa_scim::bulk::payload_too_large(max);
        let mut r = (axum::http::StatusCode::PAYLOAD_TOO_LARGE, serde_json::to_vec(&e.response).unwrap_or_default()).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::scim::CONTENT_TYPE));
        return r;
    }
    ScimError::new(413, None, format!("the request body is larger than maxPayloadSize ({max} bytes)")).into_response()
}

/// The connection is closed after this answer: the rest of the request was not read.
fn closing(mut r: Response) -> Response {
    r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// The answer to a connection past `max_connections`, written straight to the socket.
pub fn busy_response() -> Vec<u8> {
    raw_response(503, "Service Unavailable", "the server has as many connections as it serves at once; retry shortly", &["retry-after: 1"])
}

/// A whole HTTP/1.1 response with a SCIM error body, closing the connection.
fn raw_response(status: u16, reason: &str, detail: &str, extra: &[&str]) -> Vec<u8> {
    let body = serde_json::to_vec(&annexa_scim::discovery::error(status, None, detail)).unwrap_or_default();
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        crate::scim::CONTENT_TYPE,
        body.len()
    );
    for h in extra {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend(body);
    out
}

/// A connection whose HTTP parser's own error answers get a SCIM body. The parser (hyper)
/// answers a head it cannot read, or one beyond its buffer, with an empty 400, 414 or 431
/// and closes the connection; this wrapper sees that answer go out and sends the same
/// status with a SCIM error body instead. The application's own answers always have a
/// body, so an empty 400/414/431 can only be the parser's.
///
/// It also closes gently after an error answer. A client refused for a large request is
/// often still sending it; closing a socket with unread data makes the system reset the
/// connection, and the client may never read the answer. So when the connection ends after
/// an error answer, the socket is handed to a task that shuts down the sending side and
/// reads and discards what still arrives (at most 2 s and 8 MiB) before closing.
pub struct ParseErrorBodies<S: AsyncRead + AsyncWrite + Unpin + Send + 'static = TcpStream> {
    inner: Option<S>,
    /// A replacement being written, and how much of it is out.
    replacing: Option<(Vec<u8>, usize)>,
    /// An answer of status 400 or more went out.
    answered_error: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> ParseErrorBodies<S> {
    pub fn new(inner: S) -> Self {
        ParseErrorBodies { inner: Some(inner), replacing: None, answered_error: false }
    }

    fn stream(&mut self) -> io::Result<&mut S> {
        self.inner.as_mut().ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

/// At most this many connections are closed gently at once; past that they just close.
static LINGERING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(64);

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Drop for ParseErrorBodies<S> {
    fn drop(&mut self) {
        let Some(stream) = self.inner.take() else { return };
        if !self.answered_error {
            return;
        }
        let (Ok(handle), Ok(permit)) = (tokio::runtime::Handle::try_current(), LINGERING.try_acquire()) else { return };
        handle.spawn(async move {
            let _permit = permit;
            let mut stream = stream;
            let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
            let drain = async {
                let mut buf = vec![0u8; 16 * 1024];
                let mut read = 0usize;
                while read < 8 << 20 {
                    match tokio::io::AsyncReadExt::read(&mut stream, &mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => read += n,
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
        });
    }
}

/// The SCIM answer standing in for a bodiless parser error in `head`, if it is one.
fn replacement_for(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head.get(..head.len().min(512))?).ok()?;
    let status: u16 = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let empty = text.to_ascii_lowercase().contains("\r\ncontent-length: 0\r\n");
    let (reason, detail) = match status {
        400 => ("Bad Request", "the request is not HTTP/1.1 this server can read"),
        414 => ("URI Too Long", "the request target is too long; send long filters with POST …/.search"),
        431 => ("Request Header Fields Too Large", "the request line and headers are too large"),
        _ => return None,
    };
    empty.then(|| raw_response(status, reason, detail, &[]))
}

/// Whether `buf` begins an answer of status 400 or more.
fn is_error_answer(buf: &[u8]) -> bool {
    buf.starts_with(b"HTTP/1.1 4") || buf.starts_with(b"HTTP/1.1 5")
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncRead for ParseErrorBodies<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().stream()?).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncWrite for ParseErrorBodies<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none() {
            this.answered_error |= is_error_answer(buf);
            match replacement_for(buf) {
                Some(r) => this.replacing = Some((r, 0)),
                None => return Pin::new(this.stream()?).poll_write(cx, buf),
            }
        }
        // The parser is told its whole answer went out once the replacement has.
        let Some(stream) = this.inner.as_mut() else { return Poll::Ready(Err(io::ErrorKind::NotConnected.into())) };
        while let Some((bytes, done)) = this.replacing.as_mut().filter(|(b, d)| d < &b.len()) {
            let n = ready!(Pin::new(&mut *stream).poll_write(cx, &bytes[*done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().stream()?).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().stream()?).poll_shutdown(cx)
    }

    // Not vectored: the parser then hands each answer over as one buffer, head first.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// Middleware of every request: its id (the caller's `X-Request-Id` when it is a short
/// plain token, else a new one), in a log span around the request and echoed in the answer,
/// so one request can be followed from a client's report to the server's log line.
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    if let Ok(v) = HeaderValue::from_str(&id) {
        request.headers_mut().insert("x-request-id", v);
    }
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %path);
    let started = std::time::Instant::now();
    let mut response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    let status = response.status().as_u16();
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, ms = started.elapsed().as_millis() as u64, "answered");
        } else {
            tracing::debug!(status, ms = started.elapsed().as_millis() as u64, "answered");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

fn new_request_id() -> String {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_err() {
        b = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0).to_le_bytes();
    }
    annexa_core::to_hex(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bodiless_parser_errors_are_replaced() {
        let r = replacement_for(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n").expect("replaced");
        let text = String::from_utf8(r).expect("utf-8");
        assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
        assert!(text.contains("application/scim+json") && text.contains("\"status\":\"431\""), "{text}");
        assert!(replacement_for(b"HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\n\r\n").is_some());
        for kept in [
            &b"HTTP/1.1 431 X\r\ncontent-length: 90\r\n\r\n{}"[..],
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"{\"Resources\": []}",
            b"",
        ] {
            assert!(replacement_for(kept).is_none(), "{}", String::from_utf8_lossy(kept));
        }
        assert!(is_error_answer(b"HTTP/1.1 413 Payload Too Large\r\n") && !is_error_answer(b"HTTP/1.1 200 OK\r\n"));
    }

    #[test]
    fn the_busy_answer_is_a_whole_scim_response() {
        let text = String::from_utf8(busy_response()).expect("utf-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 503 ") && head.contains("retry-after: 1") && head.contains("connection: close"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert_eq!(serde_json::from_str::<serde_json::Value>(body).expect("json")["status"], "503");
    }
}

/// The address a connection came from, put on each of its requests by [`crate::serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// The client a request is from: the connection's address, or, when that is a trusted
/// proxy, the last address it appended to `X-Forwarded-For` (the only one it vouches for).
pub fn client_ip(state: &crate::AppState, connection: Option<ClientAddr>, headers: &axum::http::HeaderMap) -> Option<std::net::IpAddr> {
    let ClientAddr(peer) = connection?;
    if !state.config.http.trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    forwarded.rsplit(',').map(str::trim).find(|s| !s.is_empty()).and_then(|s| s.parse().ok()).or(Some(peer))
}

/// A service that puts the connection's address on every request it passes on.
#[derive(Clone)]
pub struct WithClient<S> {
    pub inner: S,
    pub client: ClientAddr,
}

impl<S, B> tower_service::Service<axum::http::Request<B>> for WithClient<S>
where
    S: tower_service::Service<axum::http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: axum::http::Request<B>) -> Self::Future {
        request.extensions_mut().insert(self.client);
        self.inner.call(request)
    }
}

/// Middleware on every answer of a server reached over https: browsers are told to come
/// back only over https (a year, as is usual).
pub async fn strict_transport(https: axum::extract::State<bool>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if https.0 {
        response.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}
