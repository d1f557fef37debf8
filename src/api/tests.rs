//! Client behaviour against a scripted transport: signing per attempt, retries, the read
//! capability; and the signature vectors of `tests/data/signature-vectors.json`.

use super::credentials::CredentialSource;
use super::*;

use super::testkit::{Script as Scripted, ok};

fn err(status: u16, code: &str) -> super::testkit::Answer {
    Ok(WireResponse {
        status,
        headers: vec![],
        body: format!(r#"{{"RequestId":"RID-{code}","Code":"{code}","Message":"m"}}"#).into_bytes(),
    })
}

fn config(signature: SignatureVersion) -> ClientConfig {
    ClientConfig {
        endpoints: Endpoints::parse_override("http://127.0.0.1:9").unwrap(),
        credentials: Credentials::new("testid", "testsecret", CredentialSource::Flags).into(),
        signature,
        retry: RetryPolicy::default(),
    }
}

fn secret_for(id: &str) -> Option<String> {
    (id == "testid").then(|| "testsecret".to_string())
}

#[tokio::test(start_paused = true)]
async fn retries_resign_with_new_nonce_and_keep_the_client_token() {
    let t = Scripted::new(vec![
        err(503, "ServiceUnavailable"),
        err(400, "Throttling.User"),
        ok(r#"{"RequestId":"x"}"#),
    ]);
    let client = WriteClient::new(config(SignatureVersion::V3), t.clone());
    let req = ApiRequest::new(Product::Vpc, "DeleteVirtualBorderRouter")
        .region("cn-hangzhou")
        .param("VbrId", "vbr-1")
        .param("ClientToken", "tok-1");
    let start = tokio::time::Instant::now();
    client.call(&req).await.unwrap();
    // 250 ms then 500 ms of backoff, on the paused clock.
    assert_eq!(start.elapsed(), Duration::from_millis(750));
    let seen = t.seen();
    assert_eq!(seen.len(), 3);
    let nonces: std::collections::BTreeSet<_> = seen
        .iter()
        .map(|r| r.header("x-acs-signature-nonce").unwrap().to_string())
        .collect();
    assert_eq!(nonces.len(), 3, "every attempt has its own nonce");
    for r in &seen {
        assert_eq!(r.query_param("ClientToken"), Some("tok-1"));
        let v = sign::verify(r, secret_for).expect("each attempt verifies");
        assert_eq!(v.action, "DeleteVirtualBorderRouter");
    }
    assert_eq!(client.call_counts()["DeleteVirtualBorderRouter"], 3);
}

#[tokio::test(start_paused = true)]
async fn v1_retries_resign_too() {
    let t = Scripted::new(vec![
        Err(TransportError::new("connection reset")),
        ok(r#"{"RequestId":"x"}"#),
    ]);
    let client = WriteClient::new(config(SignatureVersion::V1), t.clone());
    let req = ApiRequest::new(Product::Vpc, "DescribePhysicalConnections").region("cn-hangzhou");
    client.reader().call(&req).await.unwrap();
    let seen = t.seen();
    assert_eq!(seen.len(), 2);
    assert_ne!(
        seen[0].query_param("SignatureNonce"),
        seen[1].query_param("SignatureNonce")
    );
    for r in &seen {
        let v = sign::verify(r, secret_for).unwrap();
        assert_eq!(v.version, SignatureVersion::V1);
        assert_eq!(r.query_param("RegionId"), Some("cn-hangzhou"));
        assert_eq!(r.query_param("Format"), Some("JSON"));
    }
}

#[tokio::test(start_paused = true)]
async fn transient_failure_of_a_tokenless_mutation_is_not_retried() {
    let t = Scripted::new(vec![err(500, "InternalError"), ok("{}")]);
    let client = WriteClient::new(config(SignatureVersion::V3), t.clone());
    let req = ApiRequest::new(Product::Vpc, "DeactivateRouterInterface")
        .region("cn-hangzhou")
        .param("RouterInterfaceId", "ri-1");
    let e = client.call(&req).await.unwrap_err();
    assert_eq!(e.code(), Some("InternalError"));
    assert_eq!(t.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_max_attempts_with_the_last_error() {
    let t = Scripted::new((0..10).map(|_| err(400, "Throttling")).collect());
    let mut c = config(SignatureVersion::V3);
    c.retry.read_timeout = None;
    let client = WriteClient::new(c, t.clone());
    let req = ApiRequest::new(Product::Cbn, "ListTransitRouterVbrAttachments");
    let e = client.reader().call(&req).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Throttled);
    assert_eq!(t.seen().len(), 4);
    assert!(e.to_string().contains("RID-Throttling"));
}

#[tokio::test]
async fn fatal_and_gone_errors_are_returned_at_once() {
    for code in [
        "InvalidVbrId.NotFound",
        "Forbidden.RAM",
        "IdempotentParameterMismatch",
    ] {
        let t = Scripted::new(vec![err(404, code), ok("{}")]);
        let client = WriteClient::new(config(SignatureVersion::V3), t.clone());
        let req = ApiRequest::new(Product::Vpc, "DeleteVirtualBorderRouter")
            .region("r")
            .param("ClientToken", "t");
        let e = client.call(&req).await.unwrap_err();
        assert_eq!(e.code(), Some(code));
        assert_eq!(t.seen().len(), 1, "{code}");
    }
}

#[tokio::test]
async fn read_client_refuses_mutations_before_sending() {
    let t = Scripted::new(vec![ok("{}")]);
    let client = ReadClient::new(config(SignatureVersion::V3), t.clone());
    for action in [
        "DeletePhysicalConnection",
        "TerminatePhysicalConnection",
        "DeactivateRouterInterface",
        "SomeUnknownMutation",
    ] {
        let e = client
            .call(&ApiRequest::new(Product::Vpc, action).region("r"))
            .await
            .unwrap_err();
        assert!(matches!(e, CallError::ReadOnly { .. }), "{action}: {e}");
    }
    assert!(t.seen().is_empty());
}

#[tokio::test]
async fn non_json_success_and_security_token() {
    let t = Scripted::new(vec![ok("<html>oops</html>"), ok(r#"{"RequestId":"a"}"#)]);
    let mut cfg = config(SignatureVersion::V3);
    let mut creds = Credentials::new("testid", "testsecret", CredentialSource::Flags);
    creds.security_token = Some(Secret::new("sts-token"));
    cfg.credentials = creds.into();
    let client = WriteClient::new(cfg, t.clone());
    let req = ApiRequest::new(Product::Sts, "GetCallerIdentity");
    let e = client.reader().call(&req).await.unwrap_err();
    assert!(matches!(e, CallError::Decode { status: 200, .. }), "{e}");
    client.reader().call(&req).await.unwrap();
    let r = &t.seen()[1];
    let v = sign::verify(r, secret_for).unwrap();
    assert_eq!(v.security_token.as_deref(), Some("sts-token"));
    assert!(
        r.header("authorization")
            .unwrap()
            .contains("x-acs-security-token")
    );
}

#[test]
fn retry_delays_double_and_cap() {
    let p = RetryPolicy::default();
    assert_eq!(p.delay(1), Duration::from_millis(250));
    assert_eq!(p.delay(3), Duration::from_secs(1));
    assert_eq!(p.delay(10), Duration::from_secs(8));
    assert_eq!(p.delay(100), Duration::from_secs(8));
}

// ---------------------------------------------------------------------------------------
// Signature vectors from the official SDKs and the documentation.

#[derive(serde::Deserialize)]
struct Vector {
    name: String,
    algorithm: String,
    access_key_id: String,
    access_key_secret: String,
    method: String,
    path: String,
    raw_query: Option<String>,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    body: String,
}

fn vectors() -> Vec<Vector> {
    let v: Vec<Vector> =
        serde_json::from_str(include_str!("../../tests/data/signature-vectors.json")).unwrap();
    assert_eq!(v.len(), 9);
    v
}

/// The request as a server receives it: the raw query decoded (`+` is a space), or the
/// decoded map when the vector has no raw form.
fn received(v: &Vector) -> WireRequest {
    let query = match &v.raw_query {
        Some(raw) => form_urlencoded::parse(raw.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        None => v
            .query
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    WireRequest {
        method: v.method.clone(),
        scheme: "http".into(),
        host: v.headers.get("host").cloned().unwrap_or_default(),
        path: v.path.clone(),
        query,
        headers: v
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        body: v.body.as_bytes().to_vec(),
    }
}

fn is_v3(v: &Vector) -> bool {
    v.algorithm.starts_with("ACS3")
}

#[test]
fn signer_reproduces_all_nine_vectors() {
    for v in vectors() {
        let req = received(&v);
        if is_v3(&v) {
            let auth = sign::parse_v3_authorization(&v.headers["authorization"]).unwrap();
            let mut unsigned = req.clone();
            unsigned
                .headers
                .retain(|(k, _)| auth.signed_headers.contains(k));
            let cr = sign::v3_canonical_request(
                &unsigned.method,
                &unsigned.path,
                &unsigned.query,
                &unsigned.headers,
                &auth.signed_headers,
                &sign::sha256_hex(v.body.as_bytes()),
            );
            let sig = sign::v3_signature(&v.access_key_secret, &sign::v3_string_to_sign(&cr));
            assert_eq!(sig, auth.signature, "{}", v.name);
            // sign_v3 on exactly the signed headers yields the same Authorization header.
            sign::sign_v3(&mut unsigned, &v.access_key_id, &v.access_key_secret);
            if auth.signed_headers.iter().all(|h| {
                h == "host"
                    || h == "accept"
                    || h == "user-agent"
                    || h == "content-type"
                    || h.starts_with("x-acs-")
            }) {
                assert_eq!(
                    unsigned.header("authorization"),
                    Some(v.headers["authorization"].as_str()),
                    "{}",
                    v.name
                );
            }
        } else {
            let params: Vec<(String, String)> = req
                .query
                .iter()
                .filter(|(k, _)| k != "Signature")
                .cloned()
                .collect();
            assert_eq!(
                sign::sign_v1(&v.method, &params, &v.access_key_secret),
                v.query["Signature"],
                "{}",
                v.name
            );
        }
    }
}

fn secret_of(v: &Vector) -> impl Fn(&str) -> Option<String> + '_ {
    move |id| (id == v.access_key_id).then(|| v.access_key_secret.clone())
}

/// Change one byte of a string (the byte at `at`, kept printable and different).
fn flip(s: &str, at: usize) -> String {
    let mut b = s.as_bytes().to_vec();
    let i = at % b.len();
    b[i] = if b[i] == b'a' { b'b' } else { b'a' };
    String::from_utf8(b).unwrap()
}

#[test]
fn verifier_accepts_all_nine_and_rejects_any_one_byte_change() {
    for v in vectors() {
        let req = received(&v);
        let ok = sign::verify(&req, secret_of(&v)).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(ok.access_key_id, v.access_key_id);

        // One byte of the signature.
        let mut bad = req.clone();
        if is_v3(&v) {
            let auth = v.headers["authorization"].clone();
            let pos = auth.len() - 3;
            for (k, val) in bad.headers.iter_mut() {
                if k == "authorization" {
                    *val = flip(&auth, pos);
                }
            }
        } else {
            for (k, val) in bad.query.iter_mut() {
                if k == "Signature" {
                    *val = flip(val, 2);
                }
            }
        }
        assert!(
            matches!(
                sign::verify(&bad, secret_of(&v)),
                Err(sign::VerifyError::Mismatch { .. })
            ),
            "{}: signature",
            v.name
        );

        // One byte of a signed header (V3) / of the host (V1 does not sign headers).
        if is_v3(&v) {
            for target in [
                "x-acs-date",
                "host",
                "x-acs-signature-nonce",
                "x-acs-action",
            ] {
                let mut bad = req.clone();
                for (k, val) in bad.headers.iter_mut() {
                    if k == target {
                        *val = flip(val, 1);
                    }
                }
                assert!(
                    sign::verify(&bad, secret_of(&v)).is_err(),
                    "{}: header {target}",
                    v.name
                );
            }
        }

        // One byte of every parameter, one at a time.
        for i in 0..req.query.len() {
            if req.query[i].0 == "Signature" {
                continue;
            }
            let mut bad = req.clone();
            let val = bad.query[i].1.clone();
            bad.query[i].1 = if val.is_empty() {
                "x".into()
            } else {
                flip(&val, 0)
            };
            assert!(
                sign::verify(&bad, secret_of(&v)).is_err(),
                "{}: param {}",
                v.name,
                req.query[i].0
            );
        }

        // An added parameter and a wrong secret.
        let mut bad = req.clone();
        bad.query.push(("Extra".into(), "1".into()));
        assert!(
            sign::verify(&bad, secret_of(&v)).is_err(),
            "{}: added param",
            v.name
        );
        assert!(matches!(
            sign::verify(&req, |_| Some("wrong".to_string())),
            Err(sign::VerifyError::Mismatch { .. })
        ));
        assert!(matches!(
            sign::verify(&req, |_| None),
            Err(sign::VerifyError::UnknownAccessKey(_))
        ));
    }
}

#[test]
fn client_signed_requests_verify_in_both_versions() {
    let base = endpoint::BaseUrl {
        scheme: "http".into(),
        host: "127.0.0.1:18080".into(),
    };
    let creds = Credentials::new("testid", "testsecret", CredentialSource::Flags);
    let req = ApiRequest::new(Product::Vpc, "DescribeVpcs")
        .region("cn-hangzhou")
        .param("VpcName", "my vpc/测试*~+&=")
        .param("PageSize", "50");
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let wire = build_signed(&req, &base, &creds, version, &Nonce::fresh());
        // What a server decodes from the URL we send.
        let url = reqwest::Url::parse(&wire.url()).unwrap();
        let mut received = wire.clone();
        received.query = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let v = sign::verify(&received, secret_for).unwrap();
        assert_eq!(v.version, version);
        assert!(
            v.params
                .contains(&("VpcName".to_string(), "my vpc/测试*~+&=".to_string()))
        );
    }
}

#[test]
fn reproduces_the_sdk_v3_request_exactly() {
    // Same inputs as vector v3_delete_vpc: our builder + signer gives the SDK's signature
    // once the SDK's extra signed headers are present.
    let v = vectors()
        .into_iter()
        .find(|v| v.name == "v3_delete_vpc")
        .unwrap();
    let base = endpoint::BaseUrl {
        scheme: "http".into(),
        host: "127.0.0.1:18080".into(),
    };
    let creds = Credentials::new("testid", "testsecret", CredentialSource::Flags);
    let req = ApiRequest::new(Product::Vpc, "DeleteVpc")
        .param("RegionId", "cn-hangzhou")
        .param("VpcId", "vpc-bp1abc123def456ghi789");
    let nonce = Nonce {
        nonce: v.headers["x-acs-signature-nonce"].clone(),
        timestamp: v.headers["x-acs-date"].clone(),
    };
    let mut wire = build_signed(&req, &base, &creds, SignatureVersion::V3, &nonce);
    wire.headers
        .retain(|(k, _)| k != "authorization" && k != "user-agent");
    wire.headers
        .push(("user-agent".into(), v.headers["user-agent"].clone()));
    wire.headers
        .push(("x-acs-credentials-provider".into(), "static_ak".into()));
    sign::sign_v3(&mut wire, "testid", "testsecret");
    assert_eq!(
        wire.header("authorization"),
        Some(v.headers["authorization"].as_str())
    );
}

#[tokio::test(start_paused = true)]
async fn reads_retry_throttling_and_transient_errors_until_the_read_deadline() {
    // 30 answers of throttling and trouble in a row (more than a minute of them), then the
    // answer: the read succeeds.
    let mut answers: Vec<_> = (0..30)
        .map(|i| match i % 3 {
            0 => err(400, "Throttling.User"),
            1 => err(503, "ServiceUnavailable"),
            _ => Err(TransportError::new("connection reset")),
        })
        .collect();
    answers.push(ok(r#"{"RequestId":"R"}"#));
    let t = Scripted::new(answers);
    let client = ReadClient::new(config(SignatureVersion::V3), t.clone());
    let start = tokio::time::Instant::now();
    let req = ApiRequest::new(Product::Vpc, "DescribeVirtualBorderRouters").region("cn-shanghai");
    client.call(&req).await.unwrap();
    assert_eq!(t.seen().len(), 31);
    assert!(
        start.elapsed() > Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    assert!(start.elapsed() < DEFAULT_READ_TIMEOUT);
}

#[tokio::test(start_paused = true)]
async fn a_throttled_read_is_paced_and_gives_up_at_its_deadline() {
    let t = Scripted::new((0..10_000).map(|_| err(400, "Throttling.User")).collect());
    let mut c = config(SignatureVersion::V3);
    c.retry.read_timeout = Some(Duration::from_secs(120));
    let client = ReadClient::new(c, t.clone());
    let start = tokio::time::Instant::now();
    let req = ApiRequest::new(Product::Vpc, "DescribeVirtualBorderRouters").region("cn-shanghai");
    let e = client.call(&req).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Throttled);
    let took = start.elapsed();
    assert!(took <= Duration::from_secs(120), "{took:?}");
    assert!(took >= Duration::from_secs(100), "{took:?}");
    // Backoff (≤ 8 s) and the adaptive slow-down: a few dozen attempts, not thousands.
    let n = t.seen().len();
    assert!((10..60).contains(&n), "{n} attempts");
}

#[tokio::test(start_paused = true)]
async fn a_permanently_refused_read_fails_at_once() {
    for (status, code) in [
        (403, "Forbidden.RAM"),
        (404, "InvalidAccessKeyId.NotFound"),
        (400, "SignatureDoesNotMatch"),
        (404, "InvalidVbrId.NotFound"),
    ] {
        let t = Scripted::new(vec![err(status, code), ok("{}")]);
        let client = ReadClient::new(config(SignatureVersion::V3), t.clone());
        let req = ApiRequest::new(Product::Vpc, "DescribeVirtualBorderRouters").region("r");
        let e = client.call(&req).await.unwrap_err();
        assert_eq!(e.code(), Some(code));
        assert_eq!(t.seen().len(), 1, "{code}");
    }
}

#[tokio::test(start_paused = true)]
async fn discovery_survives_a_quota_of_two_calls_a_minute() {
    // An account whose DescribeVirtualBorderRouters quota is 2/min (shared with another
    // tool): discovery of many circuits with many VBRs (region-wide listings of 3 pages
    // each) still completes.
    let (mut pcs, mut vbrs, mut targets) = (String::new(), String::new(), String::new());
    for p in 0..12 {
        pcs.push_str(&format!("  - {{ id: pc-{p:02}, region: cn-shanghai }}\n"));
        targets.push_str(&format!("  - physical_connection: pc-{p:02}\n"));
        for i in 0..10 {
            vbrs.push_str(&format!(
                "  - {{ id: vbr-{p:02}-{i}, region: cn-shanghai, physical_connection: pc-{p:02} }}\n"
            ));
        }
    }
    let (_emu, reader) = emulator_reader(
        &format!(
            "rate_limits: {{ per_minute: {{ DescribeVirtualBorderRouters: 2 }} }}\nphysical_connections:\n{pcs}virtual_border_routers:\n{vbrs}"
        ),
        RetryPolicy::default(),
    );
    let plan = crate::plan::parse(
        "p.yaml",
        &format!("version: 1\nname: t\nregion: cn-shanghai\npolicy: {{ cascade: true }}\ntargets:\n{targets}"),
    )
    .unwrap();
    let inv = crate::discover::discover(&reader, &plan).await.unwrap();
    assert_eq!(
        inv.resources
            .keys()
            .filter(|k| k.0 == crate::model::Kind::VirtualBorderRouter)
            .count(),
        120
    );
    assert!(reader.call_counts()["DescribeVirtualBorderRouters"] > 3);
}
/// An emulator of the one-region world `body` (everything after its account, keys and
/// regions) and a reader against it with `retry`.
fn emulator_reader(body: &str, retry: RetryPolicy) -> (crate::emulator::Emulator, ReadClient) {
    let world = format!(
        "account_id: \"1234567890123456\"\naccess_keys: [{{ id: K, secret: S }}]\nregions: [cn-shanghai]\n{body}"
    );
    let emu = crate::emulator::Emulator::new(
        crate::emulator::world::World::parse("w.yaml", &world).unwrap(),
    );
    let c = ClientConfig {
        endpoints: Endpoints::parse_override("http://127.0.0.1").unwrap(),
        credentials: emu.credentials().into(),
        signature: SignatureVersion::V3,
        retry,
    };
    let reader = ReadClient::new(c, emu.transport());
    (emu, reader)
}

/// An emulator of one VBR, 100 ms a call, with `extra` world lines (rate limits, faults),
/// and a reader against it with `retry`.
fn one_vbr_reader(extra: &str, retry: RetryPolicy) -> (crate::emulator::Emulator, ReadClient) {
    emulator_reader(
        &format!(
            "{extra}timings: {{ latency: 100ms }}\nphysical_connections: [{{ id: pc-1, region: cn-shanghai }}]\nvirtual_border_routers: [{{ id: vbr-1, region: cn-shanghai, physical_connection: pc-1 }}]\n"
        ),
        retry,
    )
}

/// `n` DescribeVirtualBorderRouters reads at once, their answers in order.
async fn vbr_reads_at_once(
    reader: &ReadClient,
    n: usize,
) -> Vec<Result<Vec<crate::api::ops::vpc::VirtualBorderRouter>, CallError>> {
    let filter = crate::api::ops::vpc::VbrFilter::default();
    let calls = (0..n).map(|_| {
        crate::api::ops::vpc::describe_virtual_border_routers(reader, "cn-shanghai", &filter)
    });
    futures_util::future::join_all(calls).await
}

#[tokio::test(start_paused = true)]
async fn reads_queued_for_a_slot_when_throttling_begins_wait_for_the_pacer() {
    // 800 reads of one action at once against a quota of 300/min, 100 ms a call: 32 at a
    // time go on the wire, 300 of them pass. Those still queued for a slot when the first
    // throttling answer comes back are paced instead of being sent only to be throttled
    // too; the throttled ones retry paced. Every read succeeds, within the read deadline.
    let (_emu, reader) = one_vbr_reader(
        "rate_limits: { per_minute: { DescribeVirtualBorderRouters: 300 } }\n",
        RetryPolicy::default(),
    );
    let answers = vbr_reads_at_once(&reader, 800).await;
    assert!(
        answers
            .iter()
            .all(|a| a.as_ref().is_ok_and(|v| v.len() == 1))
    );
    let sent = reader.call_counts()["DescribeVirtualBorderRouters"];
    // 800 + those throttled of the reads on the wire when the quota ran out (at most
    // MAX_IN_FLIGHT_PER_ACTION) and of the slots handed on as their answers came back (one
    // round at most): 816. With 128 at once (the client's whole cap) it was 883.
    assert_eq!(crate::api::MAX_IN_FLIGHT_PER_ACTION, 32);
    assert!(sent <= 800 + 2 * 32, "{sent} attempts for 800 reads");
}

#[tokio::test(start_paused = true)]
async fn a_read_that_failed_once_does_not_wait_behind_every_read_of_its_action() {
    // 300 reads of one action at once against 60/min (0.95/s once throttled: ~250 s of
    // backlog), with 5% of answers 503 and a read deadline of 30 s. A read answered 503 early
    // retries before the first attempts still queued, and a read's 30 s start when it is
    // first sent, not while it waits for its first turn: every read succeeds.
    let (_emu, reader) = one_vbr_reader(
        "rate_limits: { per_minute: { DescribeVirtualBorderRouters: 60 } }\nfaults: { seed: 7, rate: 0.05, kinds: [unavailable], actions: [DescribeVirtualBorderRouters] }\n",
        RetryPolicy {
            read_timeout: Some(Duration::from_secs(30)),
            ..RetryPolicy::default()
        },
    );
    let answers = vbr_reads_at_once(&reader, 300).await;
    let failed: Vec<String> = answers
        .iter()
        .filter_map(|a| a.as_ref().err().map(|e| e.to_string()))
        .collect();
    assert!(
        failed.is_empty(),
        "{} failed, e.g. {:?}",
        failed.len(),
        failed.first()
    );
    assert!(
        reader.call_counts()["DescribeVirtualBorderRouters"] > 300,
        "some answers were 503 and retried"
    );
}

#[tokio::test]
async fn form_body_requests_verify_in_both_versions_and_a_changed_body_does_not() {
    // ExpressConnectRouter parameters travel in a form body: V3 covers it through the signed
    // payload hash (and content-type), V1 signs query and form parameters together.
    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        let t = Scripted::new(vec![ok(r#"{"RequestId":"x","Success":true}"#)]);
        let client = WriteClient::new(config(version), t.clone());
        let req = ApiRequest::new(
            Product::ExpressConnectRouter,
            "DetachExpressConnectRouterChildInstance",
        )
        .param("EcrId", "ecr-1")
        .param("ChildInstanceId", "vbr-1 a+b")
        .param("ChildInstanceType", "VBR");
        client.call(&req).await.unwrap();
        let sent = t.only();
        assert_eq!(
            sent.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert!(
            sent.query.iter().all(|(k, _)| k != "EcrId"),
            "{:?}",
            sent.query
        );
        let v = sign::verify(&sent, secret_for).unwrap_or_else(|e| panic!("{version:?}: {e}"));
        assert_eq!(v.action, "DetachExpressConnectRouterChildInstance");
        assert_eq!(v.api_version, "2023-09-01");
        assert!(
            v.params
                .contains(&("ChildInstanceId".into(), "vbr-1 a+b".into()))
        );
        let mut tampered = sent.clone();
        tampered.body = b"EcrId=ecr-2&ChildInstanceId=vbr-1&ChildInstanceType=VBR".to_vec();
        assert!(sign::verify(&tampered, secret_for).is_err(), "{version:?}");
    }
}
