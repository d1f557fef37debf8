//! Test support for the API layer: a transport that answers from a script and records
//! every request, and clients built on it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::api::credentials::CredentialSource;
use crate::api::{
    BoxFuture, ClientConfig, Credentials, Endpoints, ReadClient, RetryPolicy, SignatureVersion,
    Transport, TransportError, WireRequest, WireResponse, WriteClient,
};

/// One scripted answer.
pub type Answer = Result<WireResponse, TransportError>;

/// A transport that pops scripted answers and records what it was sent.
pub struct Script {
    answers: Mutex<VecDeque<Answer>>,
    seen: Mutex<Vec<WireRequest>>,
}

impl Script {
    /// A script answering `answers` in order, then "script exhausted".
    pub fn new(answers: Vec<Answer>) -> Arc<Self> {
        Arc::new(Script {
            answers: Mutex::new(answers.into()),
            seen: Mutex::new(Vec::new()),
        })
    }

    /// Every request sent so far.
    pub fn seen(&self) -> Vec<WireRequest> {
        self.seen.lock().unwrap().clone()
    }

    /// The one request sent so far (panics unless exactly one was sent).
    pub fn only(&self) -> WireRequest {
        let seen = self.seen();
        assert_eq!(seen.len(), 1, "expected exactly one request");
        seen.into_iter().next().unwrap()
    }

    /// A read client on this script (no client-side retries).
    pub fn reader(self: &Arc<Self>) -> ReadClient {
        ReadClient::new(config(), self.clone())
    }

    /// A write client on this script (no client-side retries).
    pub fn writer(self: &Arc<Self>) -> WriteClient {
        WriteClient::new(config(), self.clone())
    }
}

impl Transport for Script {
    fn send(&self, req: WireRequest) -> BoxFuture<'_, Result<WireResponse, TransportError>> {
        self.seen.lock().unwrap().push(req);
        let next = self
            .answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Err(TransportError::new("script exhausted")));
        Box::pin(async move { next })
    }
}

fn config() -> ClientConfig {
    ClientConfig {
        endpoints: Endpoints::parse_override("http://127.0.0.1:9").unwrap(),
        credentials: Credentials::new("testid", "testsecret", CredentialSource::Flags).into(),
        signature: SignatureVersion::V3,
        retry: RetryPolicy::none(),
    }
}

/// A 200 answer with this body.
pub fn ok(body: &str) -> Answer {
    Ok(WireResponse {
        status: 200,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    })
}

/// The action a (V3-signed) request names.
pub fn action(req: &WireRequest) -> &str {
    req.header("x-acs-action")
        .or_else(|| req.query_param("Action"))
        .unwrap_or_default()
}

/// The API parameters of a request: the query without the V1 common parameters.
pub fn api_params(req: &WireRequest) -> Vec<(String, String)> {
    const COMMON: &[&str] = &[
        "Action",
        "Version",
        "Format",
        "AccessKeyId",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "Timestamp",
        "Signature",
        "SecurityToken",
    ];
    let mut params: Vec<(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| !COMMON.contains(&k.as_str()))
        .cloned()
        .collect();
    params.sort();
    params
}
