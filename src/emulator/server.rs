//! The emulator's HTTP front (axum): every product on one address. `GET|POST /` carries API
//! requests (query and form body); `GET /_emulator/audit` returns the audit log as JSON
//! (unsigned: the emulator only listens on loopback by default). A lost-response fault
//! closes the connection mid-answer, after the change was committed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

use super::Emulator;
use crate::api::WireRequest;

/// The axum router over an emulator.
pub fn router(emulator: Emulator) -> Router {
    Router::new()
        .route("/_emulator/audit", get(audit))
        .route("/", any(api))
        .fallback(any(api))
        .with_state(emulator)
}

/// Serve until `shutdown` completes, then finish in-flight requests and return.
pub async fn serve(
    emulator: Emulator,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(emulator))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn audit(State(emulator): State<Emulator>) -> Response {
    (
        [("content-type", "application/json")],
        serde_json::to_string(&emulator.audit()).unwrap_or_else(|_| "[]".into()),
    )
        .into_response()
}

async fn api(
    State(emulator): State<Emulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = wire_request(&method, &uri, &headers, body.to_vec());
    let out = emulator.handle(req).await;
    let status =
        StatusCode::from_u16(out.response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder().status(status);
    for (k, v) in &out.response.headers {
        builder = builder.header(k, v);
    }
    let body = if out.lost {
        Body::new(LostBody)
    } else {
        Body::from(out.response.body)
    };
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The [`WireRequest`] of an HTTP request: the query decoded like a form (`+` is a space),
/// header names lower-cased, the `Host` header as sent.
pub fn wire_request(method: &Method, uri: &Uri, headers: &HeaderMap, body: Vec<u8>) -> WireRequest {
    let query = uri
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let host = headers
        .iter()
        .find(|(k, _)| k == "host")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    WireRequest {
        method: method.as_str().to_ascii_uppercase(),
        scheme: "http".into(),
        host,
        path: uri.path().to_string(),
        query,
        headers,
        body,
    }
}

/// A body that fails at once: hyper aborts the connection, so the client never reads an
/// answer although the change was applied.
struct LostBody;

impl http_body::Body for LostBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "emulated lost response",
        ))))
    }
}
