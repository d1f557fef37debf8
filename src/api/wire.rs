//! The HTTP-level request and response values that cross the [`Transport`](super::Transport)
//! seam: what the signer produces, what the HTTPS transport sends, and what the emulator
//! receives and verifies.

use super::sign::percent_encode;

/// One HTTP request as it goes on the wire, with the query already decoded into pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest {
    /// `GET` or `POST` (upper case); the first component of both string-to-sign formats.
    pub method: String,
    /// `http` or `https`; plain `http` is only ever used towards loopback addresses.
    pub scheme: String,
    /// The `Host` header exactly as sent: host name plus `:port` when the port is not the
    /// scheme's default. V3 signs it, so it must match what the server sees.
    pub host: String,
    /// Request path; `/` for every RPC API.
    pub path: String,
    /// Decoded query pairs in the order they are sent.
    pub query: Vec<(String, String)>,
    /// Headers with lower-case names, in the order they are sent.
    pub headers: Vec<(String, String)>,
    /// Request body (empty for decom's own requests; the emulator accepts form bodies).
    pub body: Vec<u8>,
}

impl WireRequest {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter with this exact (case-sensitive) name.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parameters carried in an `application/x-www-form-urlencoded` body, if it has one.
    pub fn form_params(&self) -> Vec<(String, String)> {
        let is_form = self
            .header("content-type")
            .map(|ct| {
                ct.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            })
            .unwrap_or(false);
        if !is_form || self.body.is_empty() {
            return Vec::new();
        }
        form_urlencoded::parse(&self.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// Query and form parameters together: what V1 signs and what an operation reads.
    pub fn all_params(&self) -> Vec<(String, String)> {
        let mut all = self.query.clone();
        all.extend(self.form_params());
        all
    }

    /// The query string as sent: each name and value RFC 3986-encoded, joined by `&`.
    pub fn encoded_query(&self) -> String {
        self.query
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The full URL this request goes to.
    pub fn url(&self) -> String {
        let q = self.encoded_query();
        if q.is_empty() {
            format!("{}://{}{}", self.scheme, self.host, self.path)
        } else {
            format!("{}://{}{}?{}", self.scheme, self.host, self.path, q)
        }
    }
}

/// One HTTP response: status, headers (lower-case names) and the raw body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireResponse {
    /// HTTP status code.
    pub status: u16,
    /// Headers with lower-case names.
    pub headers: Vec<(String, String)>,
    /// Raw body bytes (JSON for every RPC API decom calls).
    pub body: Vec<u8>,
}

impl WireResponse {
    /// A JSON response with the given status.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        WireResponse {
            status,
            headers: vec![(
                "content-type".to_string(),
                "application/json;charset=utf-8".to_string(),
            )],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }
}
