//! Shared harness: start the emulator on loopback, build clients, call actions.

use std::sync::Arc;

use decom::api::credentials::{CredentialSource, Credentials};
use decom::api::http::{HttpOptions, HttpTransport};
use decom::api::{
    ApiRequest, CallError, ClientConfig, Endpoints, Product, RetryPolicy, SignatureVersion,
    WriteClient,
};
use decom::emulator::Emulator;
use decom::emulator::world::World;
use serde_json::Value;

/// A running emulator on 127.0.0.1 and a client for it.
pub struct Emu {
    pub emulator: Emulator,
    pub endpoint: String,
    pub client: WriteClient,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The keys, account and regions every test world starts with.
pub const HEADER: &str = "account_id: \"1234567890123456\"\naccess_keys:\n  - { id: TESTKEY, secret: test-secret }\nregions: [cn-shanghai, cn-hangzhou]\n";

impl Emu {
    /// Serve `world` (YAML) on a free loopback port.
    pub async fn start(world: &str) -> Emu {
        let world = World::parse("test-world.yaml", world).unwrap_or_else(|e| panic!("{e}"));
        let emulator = Emulator::new(world);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = emulator.clone();
        tokio::spawn(async move {
            let _ = decom::emulator::server::serve(served, listener, async {
                let _ = rx.await;
            })
            .await;
        });
        let client = client(&endpoint, emulator.credentials(), SignatureVersion::V3);
        Emu {
            emulator,
            endpoint,
            client,
            _stop: tx,
        }
    }

    /// Call `action` with `params`; Vpc actions get `RegionId=cn-shanghai` unless given.
    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> Result<Value, CallError> {
        self.client.call(&request(action, params)).await
    }

    /// Number of applied (state-changing) mutations in the audit log.
    pub fn applied(&self) -> usize {
        self.emulator.audit().iter().filter(|e| e.applied).count()
    }
}

/// A client without retries (tests want to see every answer).
pub fn client(
    endpoint: &str,
    credentials: Credentials,
    signature: SignatureVersion,
) -> WriteClient {
    let config = ClientConfig {
        endpoints: Endpoints::parse_override(endpoint).unwrap(),
        credentials: credentials.into(),
        signature,
        retry: RetryPolicy::none(),
    };
    WriteClient::new(
        config,
        Arc::new(HttpTransport::new(HttpOptions::default()).unwrap()),
    )
}

/// Test credentials.
pub fn creds(id: &str, secret: &str) -> Credentials {
    Credentials::new(id, secret, CredentialSource::Flags)
}

/// The request for `action` with its product inferred.
pub fn request(action: &str, params: &[(&str, &str)]) -> ApiRequest {
    let product = decom::api::actions::lookup(action)
        .map(|a| a.product)
        .unwrap_or(Product::Vpc);
    let mut req = ApiRequest::new(product, action);
    for (k, v) in params {
        req = req.param(*k, *v);
    }
    if product == Product::Vpc && req.get("RegionId").is_none() {
        req = req.param("RegionId", "cn-shanghai");
    }
    req
}

/// (HTTP status, Code) of an API error.
pub fn code(r: &Result<Value, CallError>) -> Option<(u16, String)> {
    match r {
        Err(CallError::Api(e)) => Some((e.http_status, e.code.clone())),
        _ => None,
    }
}
