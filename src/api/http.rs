//! The HTTPS transport: reqwest with rustls (ring), connect and read timeouts, no
//! redirects (an RPC endpoint never redirects; following one would re-send a signed request
//! somewhere else).
//!
//! Trust: the built-in webpki roots, plus every certificate of `SSL_CERT_FILE`, of the files
//! in `SSL_CERT_DIR` (`:`-separated directories) and of `--ca-bundle` / `DECOM_CA_BUNDLE`
//! (PEM bundles), for endpoints behind a TLS-intercepting proxy or a private CA. Proxies come
//! from `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` and `NO_PROXY` (reqwest's environment
//! proxies). A refused certificate or a failed TLS handshake is permanent: the call fails
//! at once with a readable reason instead of being retried.

use std::time::Duration;

use super::wire::{WireRequest, WireResponse};
use super::{BoxFuture, Transport, TransportError};

/// Timeouts of the HTTPS transport.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout (send + wait + read).
    pub request_timeout: Duration,
    /// A PEM bundle of extra CA certificates to trust (`--ca-bundle`).
    pub ca_bundle: Option<std::path::PathBuf>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            ca_bundle: None,
        }
    }
}

/// The extra roots: `ca_bundle`, `SSL_CERT_FILE`, and the files of `SSL_CERT_DIR`. A bundle
/// named explicitly (the option or `SSL_CERT_FILE`) must be readable and hold at least one
/// certificate; unreadable files in a certificate directory are skipped.
fn extra_roots(
    ca_bundle: Option<&std::path::Path>,
) -> Result<Vec<reqwest::Certificate>, TransportError> {
    let mut files: Vec<(std::path::PathBuf, bool)> = Vec::new();
    if let Some(p) = ca_bundle {
        files.push((p.to_path_buf(), true));
    }
    if let Some(p) = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty()) {
        files.push((p.into(), true));
    }
    if let Some(dirs) = std::env::var_os("SSL_CERT_DIR") {
        for dir in std::env::split_paths(&dirs) {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                paths.sort();
                files.extend(
                    paths
                        .into_iter()
                        .filter(|p| p.is_file())
                        .map(|p| (p, false)),
                );
            }
        }
    }
    let mut roots = Vec::new();
    for (path, required) in files {
        let certs = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|pem| reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| e.to_string()));
        match certs {
            Ok(c) if !c.is_empty() => roots.extend(c),
            Ok(_) if required => {
                return Err(TransportError::permanent(format!(
                    "{}: no PEM certificate in it",
                    path.display()
                )));
            }
            Err(e) if required => {
                return Err(TransportError::permanent(format!(
                    "cannot read the CA bundle {}: {e}",
                    path.display()
                )));
            }
            _ => {}
        }
    }
    Ok(roots)
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
        let mut builder = reqwest::Client::builder();
        for cert in extra_roots(options.ca_bundle.as_deref())? {
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(super::USER_AGENT)
            .build()
            .map_err(|e| TransportError::new(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpTransport { client })
    }
}

/// A readable reason for a TLS failure, when the error chain holds one.
fn tls_reason(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use rustls::{CertificateError, Error as Tls};
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        // io::Error hides its payload from source(), and an io::Error may wrap another
        // (hyper-rustls around tokio-rustls): unwrap them all.
        let mut candidates = vec![err];
        let mut at = err;
        while let Some(inner) = at
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            let inner = inner as &(dyn std::error::Error + 'static);
            candidates.push(inner);
            at = inner;
        }
        for candidate in candidates {
            if let Some(tls) = candidate.downcast_ref::<Tls>() {
                return Some(match tls {
                    Tls::InvalidCertificate(c) => {
                        let why = match c {
                            CertificateError::UnknownIssuer => "it is not signed by a trusted authority (behind a TLS-intercepting proxy or a private CA, add its CA with --ca-bundle or SSL_CERT_FILE)".to_string(),
                            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "it has expired".to_string(),
                            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => "it is not valid yet".to_string(),
                            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => "it is not valid for this host name".to_string(),
                            CertificateError::Revoked => "it is revoked".to_string(),
                            CertificateError::BadSignature => "its signature is invalid".to_string(),
                            CertificateError::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => {
                                "the server presented a CA certificate as its own".to_string()
                            }
                            other => format!("{other:?}").replace("Other(OtherError(", "").replace("))", ""),
                        };
                        format!("the server's TLS certificate was refused: {why}")
                    }
                    other => format!("the TLS handshake failed: {other}"),
                });
            }
        }
        cur = err.source();
    }
    None
}

/// Describe a reqwest error without its URL (the query holds the V1 signature).
fn describe(e: &reqwest::Error) -> TransportError {
    if let Some(reason) = tls_reason(e) {
        return TransportError::permanent(reason);
    }
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
    TransportError::new(if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    })
}

impl Transport for HttpTransport {
    fn send(&self, req: WireRequest) -> BoxFuture<'_, Result<WireResponse, TransportError>> {
        Box::pin(async move {
            let method = reqwest::Method::from_bytes(req.method.as_bytes())
                .map_err(|_| TransportError::new(format!("bad method {}", req.method)))?;
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
            let resp = builder.send().await.map_err(|e| describe(&e))?;
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
            let body = resp.bytes().await.map_err(|e| describe(&e))?.to_vec();
            Ok(WireResponse {
                status,
                headers,
                body,
            })
        })
    }
}
