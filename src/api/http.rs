//! The HTTPS transport: reqwest with rustls (ring), connect and read timeouts, no proxy
//! magic, no redirects (an RPC endpoint never redirects; following one would re-send a
//! signed request somewhere else).

use std::time::Duration;

use super::wire::{WireRequest, WireResponse};
use super::{BoxFuture, Transport, TransportError};

/// Timeouts of the HTTPS transport.
#[derive(Debug, Clone, Copy)]
pub struct HttpOptions {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout (send + wait + read).
    pub request_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Signed requests over HTTP(S) with reqwest + rustls.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    /// Build the transport. Installs the ring crypto provider for rustls once per process.
    pub fn new(options: HttpOptions) -> Result<Self, TransportError> {
        // Ignore the error: it only says a provider is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(super::USER_AGENT)
            .build()
            .map_err(|e| TransportError(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpTransport { client })
    }
}

/// Describe a reqwest error without its URL (the query holds the V1 signature).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "response body interrupted"
    } else if e.is_request() {
        "request failed"
    } else {
        "HTTP error"
    };
    let mut detail = String::new();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        detail = s.to_string();
        src = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

impl Transport for HttpTransport {
    fn send(&self, req: WireRequest) -> BoxFuture<'_, Result<WireResponse, TransportError>> {
        Box::pin(async move {
            let method = reqwest::Method::from_bytes(req.method.as_bytes())
                .map_err(|_| TransportError(format!("bad method {}", req.method)))?;
            let mut builder = self.client.request(method, req.url());
            for (k, v) in &req.headers {
                // reqwest derives Host from the URL, identical to the signed value.
                if k != "host" {
                    builder = builder.header(k, v);
                }
            }
            if !req.body.is_empty() {
                builder = builder.body(req.body.clone());
            }
            let resp = builder
                .send()
                .await
                .map_err(|e| TransportError(describe(&e)))?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = resp
                .bytes()
                .await
                .map_err(|e| TransportError(describe(&e)))?
                .to_vec();
            Ok(WireResponse {
                status,
                headers,
                body,
            })
        })
    }
}
