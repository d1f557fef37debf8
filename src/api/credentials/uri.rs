//! Credentials from a URL (SDK `provider/uri.py`): `GET` the URI, which answers HTTP 200
//! with `{"Code": "Success", "AccessKeyId", "AccessKeySecret", "SecurityToken",
//! "Expiration"}`. Step 6 of the chain (`ALIBABA_CLOUD_CREDENTIALS_URI`), the
//! `CredentialsURI` profile mode (`credentials_uri`) and the `credentials_uri` credentials
//! file type. Messages show the URI without its query, which may hold a token.

use std::sync::Arc;

use super::provider::{Fetch, Fetched};
use super::{CredentialSource, CredentialsError};
use crate::api::{BoxFuture, Transport, WireRequest};

/// The URI without its query and fragment, for messages.
pub fn redacted(uri: &str) -> String {
    match reqwest::Url::parse(uri) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "<not a URL>".into(),
    }
}

/// `GET` a credentials URI.
pub struct UriSource {
    transport: Arc<dyn Transport>,
    request: WireRequest,
    shown: String,
    what: String,
}

impl UriSource {
    /// A source for `uri` (http or https).
    pub fn new(
        transport: Arc<dyn Transport>,
        uri: &str,
        what: String,
    ) -> Result<UriSource, CredentialsError> {
        let bad = |detail: String| CredentialsError::Config {
            source_name: what.clone(),
            detail,
        };
        let url = reqwest::Url::parse(uri.trim())
            .map_err(|e| bad(format!("{} is not a URL: {e}", redacted(uri))))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(bad(format!("{} is not http or https", redacted(uri))));
        }
        let host = url.host_str().unwrap_or_default();
        let host = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let request = WireRequest {
            method: "GET".into(),
            scheme: url.scheme().into(),
            host: host.clone(),
            path: url.path().into(),
            query: url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            headers: vec![("host".into(), host)],
            body: Vec::new(),
        };
        Ok(UriSource {
            transport,
            request,
            shown: redacted(uri),
            what,
        })
    }
}

impl Fetch for UriSource {
    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        Box::pin(async move {
            let err = |detail: String| CredentialsError::Fetch {
                source_name: self.what.clone(),
                detail: format!("{}: {detail}", self.shown),
            };
            let resp = self
                .transport
                .send(self.request.clone())
                .await
                .map_err(|e| err(e.to_string()))?;
            if resp.status != 200 {
                return Err(err(format!("HTTP {}", resp.status)));
            }
            super::ecs::parse_answer(
                &resp.body,
                CredentialSource::CredentialsUri {
                    uri: self.shown.clone(),
                },
            )
            .map_err(err)
        })
    }

    fn describe(&self) -> String {
        format!("{} ({})", self.what, self.shown)
    }
}
