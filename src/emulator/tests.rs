//! The emulator never panics: arbitrary raw HTTP requests, and arbitrary *correctly signed*
//! requests for every action with arbitrary parameters, always get a well-formed answer.

use proptest::prelude::*;

use super::*;
use crate::api::endpoint::BaseUrl;
use crate::api::{ApiRequest, Nonce, SignatureVersion, build_signed};

const WORLD: &str = r#"
account_id: "1234567890123456"
access_keys: [{ id: K, secret: S }]
regions: [cn-shanghai]
rate_limits: { enabled: false }
timings: { terminate_physical_connection: 0ms, detach_attachment: 0ms, dissociate: 0ms, disable_propagation: 0ms, vpn_gateway_update: 0ms, deactivate_router_interface: 0ms, cancel_physical_connection: 0ms }
physical_connections:
  - { id: pc-a, region: cn-shanghai }
  - { id: pc-b, region: cn-shanghai, status: Confirmed }
virtual_border_routers:
  - { id: vbr-a, region: cn-shanghai, physical_connection: pc-a }
router_interfaces:
  - { id: ri-a, region: cn-shanghai, vbr: vbr-a }
bgp_groups:
  - { id: bgpg-a, region: cn-shanghai, vbr: vbr-a, peers: [{ id: bgp-a }] }
cens:
  - { id: cen-a, transit_routers: [{ id: tr-a, region: cn-shanghai, route_tables: [vtb-a] }] }
transit_router_attachments:
  - { id: tr-attach-a, transit_router: tr-a, vbr: vbr-a, associations: [vtb-a], propagations: [vtb-a] }
  - { id: tr-attach-b, transit_router: tr-a, vpn_connection: vco-a }
transit_router_route_entries:
  - { id: rte-a, route_table: vtb-a, destination: 10.0.0.0/8, next_hop: tr-attach-b }
vpn_gateways: [{ id: vpn-a, region: cn-shanghai }]
vpn_connections:
  - { id: vco-a, region: cn-shanghai }
  - { id: vco-b, region: cn-shanghai, vpn_gateway: vpn-a }
"#;

fn emulator() -> Emulator {
    Emulator::new(World::parse("t.yaml", WORLD).expect("test world"))
}

fn well_formed(out: &Outcome) -> Result<(), TestCaseError> {
    let body: Value = serde_json::from_slice(&out.response.body)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(body.get("RequestId").is_some());
    if out.response.status != 200 {
        prop_assert!((400..600).contains(&out.response.status));
        prop_assert!(body["Code"].is_string() && body["Message"].is_string());
    }
    Ok(())
}

/// Parameter names every handler reads, and the ids of the world, so that generated
/// requests reach deep into the handlers.
const KEYS: &[&str] = &[
    "RegionId",
    "PhysicalConnectionId",
    "VbrId",
    "RouterInterfaceId",
    "BgpGroupId",
    "BgpPeerId",
    "VpnConnectionId",
    "VpnGatewayId",
    "TransitRouterId",
    "TransitRouterAttachmentId",
    "TransitRouterRouteTableId",
    "TransitRouterRouteEntryId",
    "CenId",
    "PageNumber",
    "PageSize",
    "MaxResults",
    "NextToken",
    "Filter.1.Key",
    "Filter.1.Value.1",
    "Filter.7.Value.9",
    "Filter.x",
    "ClientToken",
    "Force",
    "DryRun",
    "IncludeCrossAccountVbr",
    "RouterId",
];
const VALUES: &[&str] = &[
    "cn-shanghai",
    "mars",
    "pc-a",
    "pc-b",
    "vbr-a",
    "ri-a",
    "bgpg-a",
    "bgp-a",
    "vco-a",
    "vco-b",
    "vpn-a",
    "tr-a",
    "tr-attach-a",
    "tr-attach-b",
    "vtb-a",
    "rte-a",
    "cen-a",
    "0",
    "1",
    "50",
    "51",
    "-3",
    "99999999999999999999",
    "true",
    "nt-1",
    "nt-x",
    "",
    "VbrId",
    "Status",
    "Enabled",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(VALUES).prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_raw_requests_get_an_error_answer(
        method in proptest::sample::select(vec!["GET", "POST", "PUT", "DELETE", "get"]),
        raw_query in any::<String>(),
        headers in proptest::collection::vec((any::<String>(), any::<String>()), 0..6),
        auth in proptest::option::of(any::<String>()),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        form in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let emu = emulator();
        let mut req = WireRequest {
            method: method.to_string(),
            scheme: "http".into(),
            host: "127.0.0.1:1".into(),
            path: "/".into(),
            query: form_urlencoded::parse(raw_query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect(),
            headers: headers.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect(),
            body,
        };
        if form {
            req.headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
        }
        if let Some(a) = auth {
            req.headers.push(("authorization".into(), format!("ACS3-HMAC-SHA256 {a}")));
        }
        let out = rt.block_on(emu.handle(req));
        prop_assert_ne!(out.response.status, 200);
        well_formed(&out)?;
    }

    #[test]
    fn arbitrary_signed_requests_for_every_action_never_panic(
        calls in proptest::collection::vec(
            (proptest::sample::select(crate::api::actions::ACTIONS),
             proptest::collection::vec((proptest::sample::select(KEYS), value()), 0..8),
             any::<bool>()),
            1..12),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let emu = emulator();
        let creds = emu.credentials();
        let base = BaseUrl { scheme: "http".into(), host: "127.0.0.1:1".into() };
        for (info, params, v1) in calls {
            let mut req = ApiRequest::new(info.product, info.name);
            for (k, v) in params {
                req = req.param(k, v);
            }
            let version = if v1 { SignatureVersion::V1 } else { SignatureVersion::V3 };
            let wire = build_signed(&req, &base, &creds, version, &Nonce::fresh());
            let out = rt.block_on(emu.handle(wire));
            well_formed(&out)?;
            // 403: a VBR of another account; AssumeRole with the root key (documented refusal).
            prop_assert!(out.response.status != 403 || info.name == "DeleteVirtualBorderRouter" || info.name == "AssumeRole");
            // Signature failures would mean the generated request was not what we signed.
            let body: Value = serde_json::from_slice(&out.response.body).unwrap();
            prop_assert_ne!(body["Code"].as_str(), Some("SignatureDoesNotMatch"), "{:?}", body);
        }
    }
}

#[test]
fn world_loader_never_panics_on_mutated_input() {
    // Every prefix of the test world and every single-byte deletion: an Ok or a located error.
    for cut in 0..WORLD.len() {
        if WORLD.is_char_boundary(cut) {
            let _ = World::parse("t.yaml", &WORLD[..cut]);
            let mut s = WORLD.to_string();
            s.remove(cut.min(s.len().saturating_sub(1)));
            let _ = World::parse("t.yaml", &s);
        }
    }
}
