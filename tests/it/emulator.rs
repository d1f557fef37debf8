//! The emulator through decom's own client over loopback: preconditions and their codes,
//! async transitions, paging, ClientToken, signatures, throttling and faults.

use std::time::Duration;

use decom::api::http::{HttpOptions, HttpTransport};
use decom::api::sign;
use decom::api::{
    ApiRequest, Nonce, Product, SignatureVersion, Transport, build_signed, endpoint::BaseUrl,
};

use crate::support::{Emu, HEADER, client, code, creds, request};

/// One world with a resource for every precondition.
fn world() -> String {
    format!(
        r#"{HEADER}
timings: {{ terminate_physical_connection: 300ms, cancel_physical_connection: 100ms, deactivate_router_interface: 200ms,
           detach_attachment: 300ms, dissociate: 150ms, disable_propagation: 150ms, vpn_gateway_update: 300ms, terminate_vbr: 60s,
           delete_vbr: 100ms, delete_router_interface: 100ms, delete_bgp: 100ms }}
physical_connections:
  - {{ id: pc-enabled, region: cn-shanghai, status: Enabled }}
  - {{ id: pc-bare, region: cn-shanghai, status: Enabled }}
  - {{ id: pc-confirmed, region: cn-shanghai, status: Confirmed }}
  - {{ id: pc-terminated, region: cn-shanghai, status: Terminated }}
  - {{ id: pc-hosted, region: cn-shanghai, status: Enabled }}
  - {{ id: pc-hosted-vp1, region: cn-shanghai, parent_physical_connection: pc-hosted, owner: "9999999999999999" }}
  - {{ id: pc-macsec, region: cn-shanghai, status: Enabled, macsec: true }}
  - {{ id: pc-rejected, region: cn-shanghai, status: Rejected }}
  - {{ id: pc-hz, region: cn-hangzhou, status: Enabled }}
virtual_border_routers:
  - {{ id: vbr-plain, region: cn-shanghai, physical_connection: pc-enabled }}
  - {{ id: vbr-onterm, region: cn-shanghai, physical_connection: pc-terminated, status: terminated }}
  - {{ id: vbr-ri, region: cn-shanghai, physical_connection: pc-enabled }}
  - {{ id: vbr-bgp, region: cn-shanghai, physical_connection: pc-enabled }}
  - {{ id: vbr-foreign, region: cn-shanghai, physical_connection: pc-enabled, owner: "9999999999999999" }}
  - {{ id: vbr-foreign-unconf, region: cn-shanghai, physical_connection: pc-enabled, owner: "9999999999999999", status: unconfirmed }}
  - {{ id: vbr-tr, region: cn-shanghai, physical_connection: pc-enabled }}
  - {{ id: vbr-terminating, region: cn-shanghai, physical_connection: pc-enabled, status: terminating }}
router_interfaces:
  - {{ id: ri-active, region: cn-shanghai, vbr: vbr-ri, status: Active }}
  - {{ id: ri-prepaid, region: cn-shanghai, vbr: vbr-ri, status: Inactive, charge_type: PrePaid }}
  - {{ id: ri-routes, region: cn-shanghai, vbr: vbr-ri, status: Inactive }}
  - {{ id: ri-locked, region: cn-shanghai, vbr: vbr-ri, status: Active, financial_locked: true }}
bgp_groups:
  - id: bgpg-one
    region: cn-shanghai
    vbr: vbr-bgp
    peers: [{{ id: bgp-peer1, peer_ip: 10.0.0.2 }}]
cens:
  - id: cen-1
    transit_routers:
      - {{ id: tr-sh, region: cn-shanghai, route_tables: [vtb-sh] }}
transit_router_attachments:
  - {{ id: tr-attach-vbr, transit_router: tr-sh, vbr: vbr-tr, associations: [vtb-sh], propagations: [vtb-sh] }}
  - {{ id: tr-attach-vpn, transit_router: tr-sh, vpn_connection: vco-tr }}
  - {{ id: tr-attach-routed, transit_router: tr-sh, vpn_connection: vco-tr2 }}
transit_router_route_entries:
  - {{ id: rte-1, route_table: vtb-sh, destination: 10.1.0.0/16, next_hop: tr-attach-routed }}
vbr_route_entries:
  - {{ id: rte-vbr1, vbr: vbr-ri, destination: 10.9.0.0/16, next_hop: ri-routes }}
vpn_gateways:
  - {{ id: vpn-gw, region: cn-shanghai }}
vpn_connections:
  - {{ id: vco-tr, region: cn-shanghai }}
  - {{ id: vco-tr2, region: cn-shanghai }}
  - {{ id: vco-gw1, region: cn-shanghai, vpn_gateway: vpn-gw }}
  - {{ id: vco-gw2, region: cn-shanghai, vpn_gateway: vpn-gw }}
"#
    )
}

/// Every documented precondition answers its documented code and HTTP status.
#[tokio::test]
async fn preconditions_return_documented_codes() {
    let emu = Emu::start(&world()).await;
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, &'a str);
    let cases: &[Case] = &[
        // Circuits (§1.4, §1.5)
        (
            "DeletePhysicalConnection",
            &[("PhysicalConnectionId", "pc-enabled")],
            400,
            "Forbidden.NotAllowedInState",
        ),
        (
            "TerminatePhysicalConnection",
            &[("PhysicalConnectionId", "pc-enabled")],
            400,
            "Forbidden.VbrAttached",
        ),
        (
            "TerminatePhysicalConnection",
            &[("PhysicalConnectionId", "pc-confirmed")],
            400,
            "Forbidden.NotAllowedInState",
        ),
        (
            "TerminatePhysicalConnection",
            &[("PhysicalConnectionId", "pc-hosted")],
            400,
            "OperationFailed.VpconnAttached",
        ),
        (
            "TerminatePhysicalConnection",
            &[("PhysicalConnectionId", "pc-macsec")],
            400,
            "OperationDenied.MacsecAttached",
        ),
        (
            "DeletePhysicalConnection",
            &[("PhysicalConnectionId", "pc-terminated")],
            400,
            "Forbidden.VBRExists",
        ),
        (
            "CancelPhysicalConnection",
            &[("PhysicalConnectionId", "pc-enabled")],
            400,
            "Forbidden.NotAllowedInState",
        ),
        (
            "DeletePhysicalConnection",
            &[("PhysicalConnectionId", "pc-nope")],
            404,
            "InvalidPhysicalConnectionId.NotFound",
        ),
        (
            "DeletePhysicalConnection",
            &[("PhysicalConnectionId", "pc-hz")],
            404,
            "InvalidPhysicalConnectionId.NotFound",
        ),
        (
            "DeletePhysicalConnection",
            &[],
            400,
            "MissingPhysicalConnectionId",
        ),
        (
            "DeletePhysicalConnection",
            &[
                ("PhysicalConnectionId", "pc-enabled"),
                ("RegionId", "mars-1"),
            ],
            404,
            "InvalidRegionId.NotFound",
        ),
        // VBRs (§2.5)
        (
            "DeleteVirtualBorderRouter",
            &[("VbrId", "vbr-ri")],
            400,
            "InvalidOperation.RouterInterfaceNotDeleted",
        ),
        (
            "DeleteVirtualBorderRouter",
            &[("VbrId", "vbr-bgp")],
            400,
            "DependencyViolation.BgpGroup",
        ),
        (
            "DeleteVirtualBorderRouter",
            &[("VbrId", "vbr-foreign")],
            403,
            "Forbidden.OperationNotAllowedByUser",
        ),
        (
            "DeleteVirtualBorderRouter",
            &[("VbrId", "vbr-tr")],
            400,
            "InvalidStatus.NotAllowed",
        ),
        (
            "DeleteVirtualBorderRouter",
            &[("VbrId", "vbr-terminating")],
            400,
            "InvalidOperation.OperationNotAllowedInState",
        ),
        (
            "DeleteVirtualBorderRouter",
            &[("VbrId", "vbr-nope")],
            404,
            "InvalidVbrId.NotFound",
        ),
        (
            "TerminateVirtualBorderRouter",
            &[("VbrId", "vbr-onterm")],
            400,
            "InvalidOperation.OperationNotAllowedInState",
        ),
        ("DeleteVirtualBorderRouter", &[], 400, "MissingVbrId"),
        // Router interfaces (§3)
        (
            "DeleteRouterInterface",
            &[("RouterInterfaceId", "ri-active")],
            400,
            "InvalidInstance.StatusError",
        ),
        (
            "DeleteRouterInterface",
            &[("RouterInterfaceId", "ri-prepaid")],
            500,
            "InvalidRouterInterfaceChargeType.Malformed",
        ),
        (
            "DeleteRouterInterface",
            &[("RouterInterfaceId", "ri-routes")],
            400,
            "RouterInterfaceReferredByRouteEntry",
        ),
        (
            "DeactivateRouterInterface",
            &[("RouterInterfaceId", "ri-routes")],
            400,
            "IncorrectRIStatus",
        ),
        (
            "DeactivateRouterInterface",
            &[("RouterInterfaceId", "ri-locked")],
            400,
            "Forbidden.FinancialLocked",
        ),
        (
            "DeleteRouterInterface",
            &[("RouterInterfaceId", "ri-nope")],
            404,
            "InvalidRouterInterfaceId.NotFound",
        ),
        // BGP (§3.4)
        (
            "DeleteBgpGroup",
            &[("BgpGroupId", "bgpg-one")],
            400,
            "DependencyViolation.BgpPeer",
        ),
        (
            "DeleteBgpPeer",
            &[("BgpPeerId", "bgp-nope")],
            404,
            "InvalidBgpPeerId.NotFound",
        ),
        // IPsec (§4)
        (
            "DeleteVpnAttachment",
            &[("VpnConnectionId", "vco-tr")],
            400,
            "VpnConnection.Configuring",
        ),
        (
            "DeleteVpnAttachment",
            &[("VpnConnectionId", "vco-gw1")],
            400,
            "OperationDenied.NotVpnAttachment",
        ),
        (
            "DeleteVpnConnection",
            &[("VpnConnectionId", "vco-tr")],
            400,
            "OperationDenied.VpnConnectionAttachedToTransitRouter",
        ),
        (
            "DescribeVpnConnection",
            &[("VpnConnectionId", "vco-nope")],
            404,
            "InvalidVpnConnectionInstanceId.NotFound",
        ),
        (
            "DeleteVpnConnection",
            &[("VpnConnectionId", "vco-nope")],
            404,
            "InvalidVpnConnectionInstanceId.NotFound",
        ),
        (
            "DeleteVpnAttachment",
            &[("VpnConnectionId", "vco-nope")],
            404,
            "InvalidVpnConnectionInstanceId.NotFound",
        ),
        (
            "DescribeVpnConnection",
            &[("VpnConnectionId", "vco-gw1"), ("RegionId", "cn-hangzhou")],
            404,
            "InvalidVpnConnectionInstanceId.NotFound",
        ),
        (
            "DescribeVpnGateway",
            &[("VpnGatewayId", "vpn-nope")],
            404,
            "InvalidVpnGatewayInstanceId.NotFound",
        ),
        (
            "DescribeVpnConnections",
            &[("VpnGatewayId", "vpn-nope")],
            404,
            "InvalidVpnGatewayInstanceId.NotFound",
        ),
        // Transit router (§5)
        (
            "DeleteTransitRouterVbrAttachment",
            &[("TransitRouterAttachmentId", "tr-attach-vbr")],
            400,
            "OperationFailed.RouteTableAssociationExist",
        ),
        (
            "DeleteTransitRouterVpnAttachment",
            &[("TransitRouterAttachmentId", "tr-attach-routed")],
            400,
            "OperationFailed.RouteEntryExist",
        ),
        (
            "DeleteTransitRouterVbrAttachment",
            &[("TransitRouterAttachmentId", "tr-attach-vpn")],
            400,
            "InvalidTransitRouterAttachmentId.NotFound",
        ),
        (
            "DeleteTransitRouterVbrAttachment",
            &[("TransitRouterAttachmentId", "tr-attach-nope")],
            400,
            "InvalidTransitRouterAttachmentId.NotFound",
        ),
        (
            "DeleteTransitRouterVbrAttachment",
            &[
                ("TransitRouterAttachmentId", "tr-attach-vbr"),
                ("DryRun", "true"),
                ("Force", "true"),
            ],
            400,
            "DryRunOperation",
        ),
        (
            "ListTransitRouterRouteTableAssociations",
            &[],
            400,
            "MissingParameter",
        ),
        (
            "ListTransitRouterRouteEntries",
            &[],
            400,
            "MissingTransitRouterRouteTableId",
        ),
        (
            "DescribePhysicalConnections",
            &[("PageSize", "51")],
            400,
            "InvalidPageSize",
        ),
    ];
    for (action, params, status, want) in cases {
        let got = code(&emu.call(action, params).await);
        assert_eq!(
            got,
            Some((*status, want.to_string())),
            "{action} {params:?}"
        );
    }
    assert_eq!(emu.applied(), 0, "no failed precondition changes anything");
    // Failed mutations are still in the audit log, with their code.
    assert!(
        emu.emulator
            .audit()
            .iter()
            .any(|e| e.result == "Forbidden.VbrAttached")
    );
}

async fn status_of_pc(emu: &Emu, id: &str) -> Option<String> {
    let v = emu
        .call(
            "DescribePhysicalConnections",
            &[
                ("Filter.1.Key", "PhysicalConnectionId"),
                ("Filter.1.Value.1", id),
            ],
        )
        .await
        .unwrap();
    v["PhysicalConnectionSet"]["PhysicalConnectionType"]
        .as_array()
        .unwrap()
        .first()
        .map(|p| p["Status"].as_str().unwrap().to_string())
}

/// The documented teardown order for a circuit, each async transition observed.
#[tokio::test]
async fn circuit_teardown_in_documented_order() {
    let emu = Emu::start(&world()).await;
    // Clear the VBRs on pc-enabled: RI deactivate → Inactive → delete; BGP peer, group; TR
    // attachment dissociate/disable → delete → Detaching → gone; foreign unconfirmed VBR.
    emu.call(
        "DeactivateRouterInterface",
        &[("RouterInterfaceId", "ri-active")],
    )
    .await
    .unwrap();
    let ris = emu
        .call(
            "DescribeRouterInterfaces",
            &[
                ("Filter.1.Key", "RouterInterfaceId"),
                ("Filter.1.Value.1", "ri-active"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        ris["RouterInterfaceSet"]["RouterInterfaceType"][0]["Status"],
        "Deactivating"
    );
    assert_eq!(
        code(
            &emu.call(
                "DeleteRouterInterface",
                &[("RouterInterfaceId", "ri-active")]
            )
            .await
        )
        .unwrap()
        .1,
        "InvalidInstance.StatusError"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    let ris = emu
        .call(
            "DescribeRouterInterfaces",
            &[("Filter.1.Key", "RouterId"), ("Filter.1.Value.1", "vbr-ri")],
        )
        .await
        .unwrap();
    let statuses: Vec<&str> = ris["RouterInterfaceSet"]["RouterInterfaceType"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"Inactive"));
    emu.call(
        "DeleteRouterInterface",
        &[("RouterInterfaceId", "ri-active")],
    )
    .await
    .unwrap();

    emu.call("DeleteBgpPeer", &[("BgpPeerId", "bgp-peer1")])
        .await
        .unwrap();
    // Deletes are asynchronous: the peer is `Deleting` and still blocks its group.
    assert_eq!(
        code(
            &emu.call("DeleteBgpGroup", &[("BgpGroupId", "bgpg-one")])
                .await
        )
        .unwrap()
        .1,
        "DependencyViolation.BgpPeer"
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    emu.call("DeleteBgpGroup", &[("BgpGroupId", "bgpg-one")])
        .await
        .unwrap();
    assert_eq!(
        code(
            &emu.call("DeleteVirtualBorderRouter", &[("VbrId", "vbr-bgp")])
                .await
        )
        .unwrap()
        .1,
        "DependencyViolation.BgpGroup"
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    emu.call("DeleteVirtualBorderRouter", &[("VbrId", "vbr-bgp")])
        .await
        .unwrap();

    emu.call(
        "DissociateTransitRouterAttachmentFromRouteTable",
        &[
            ("TransitRouterAttachmentId", "tr-attach-vbr"),
            ("TransitRouterRouteTableId", "vtb-sh"),
        ],
    )
    .await
    .unwrap();
    emu.call(
        "DisableTransitRouterRouteTablePropagation",
        &[
            ("TransitRouterAttachmentId", "tr-attach-vbr"),
            ("TransitRouterRouteTableId", "vtb-sh"),
        ],
    )
    .await
    .unwrap();
    let a = emu
        .call(
            "ListTransitRouterRouteTableAssociations",
            &[("TransitRouterAttachmentId", "tr-attach-vbr")],
        )
        .await
        .unwrap();
    assert_eq!(a["TransitRouterAssociations"][0]["Status"], "Dissociating");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let a = emu
        .call(
            "ListTransitRouterRouteTableAssociations",
            &[("TransitRouterAttachmentId", "tr-attach-vbr")],
        )
        .await
        .unwrap();
    assert_eq!(a["TransitRouterAssociations"].as_array().unwrap().len(), 0);
    let p = emu
        .call(
            "ListTransitRouterRouteTablePropagations",
            &[("TransitRouterRouteTableId", "vtb-sh")],
        )
        .await
        .unwrap();
    assert_eq!(p["TransitRouterPropagations"].as_array().unwrap().len(), 0);
    emu.call(
        "DeleteTransitRouterVbrAttachment",
        &[("TransitRouterAttachmentId", "tr-attach-vbr")],
    )
    .await
    .unwrap();
    let l = emu
        .call(
            "ListTransitRouterVbrAttachments",
            &[("TransitRouterAttachmentId", "tr-attach-vbr")],
        )
        .await
        .unwrap();
    assert_eq!(l["TransitRouterAttachments"][0]["Status"], "Detaching");
    assert_eq!(
        code(
            &emu.call(
                "DeleteTransitRouterVbrAttachment",
                &[("TransitRouterAttachmentId", "tr-attach-vbr")]
            )
            .await
        )
        .unwrap()
        .1,
        "IncorrectStatus.Status"
    );
    assert_eq!(
        code(
            &emu.call("DeleteVirtualBorderRouter", &[("VbrId", "vbr-tr")])
                .await
        )
        .unwrap()
        .1,
        "InvalidStatus.NotAllowed"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    let l = emu
        .call(
            "ListTransitRouterVbrAttachments",
            &[("TransitRouterAttachmentId", "tr-attach-vbr")],
        )
        .await
        .unwrap();
    assert_eq!(l["TransitRouterAttachments"].as_array().unwrap().len(), 0);
    emu.call("DeleteVirtualBorderRouter", &[("VbrId", "vbr-tr")])
        .await
        .unwrap();

    for v in ["vbr-plain", "vbr-foreign-unconf"] {
        emu.call("DeleteVirtualBorderRouter", &[("VbrId", v)])
            .await
            .unwrap();
    }
    // RIs that the test world cannot delete keep vbr-ri; the foreign active VBR and the
    // terminating one stay: termination is refused while any VBR is on the circuit.
    assert_eq!(
        code(
            &emu.call(
                "TerminatePhysicalConnection",
                &[("PhysicalConnectionId", "pc-enabled")]
            )
            .await
        )
        .unwrap()
        .1,
        "Forbidden.VbrAttached"
    );

    // pc-bare: Enabled → Terminating → Terminated → deleted.
    emu.call(
        "TerminatePhysicalConnection",
        &[("PhysicalConnectionId", "pc-bare")],
    )
    .await
    .unwrap();
    assert_eq!(
        status_of_pc(&emu, "pc-bare").await.as_deref(),
        Some("Terminating")
    );
    assert_eq!(
        code(
            &emu.call(
                "DeletePhysicalConnection",
                &[("PhysicalConnectionId", "pc-bare")]
            )
            .await
        )
        .unwrap()
        .1,
        "Forbidden.NotAllowedInState"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        status_of_pc(&emu, "pc-bare").await.as_deref(),
        Some("Terminated")
    );
    emu.call(
        "DeletePhysicalConnection",
        &[("PhysicalConnectionId", "pc-bare")],
    )
    .await
    .unwrap();
    assert_eq!(status_of_pc(&emu, "pc-bare").await, None);

    // pc-confirmed: Cancel → Canceled → deleted.
    emu.call(
        "CancelPhysicalConnection",
        &[("PhysicalConnectionId", "pc-confirmed")],
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        status_of_pc(&emu, "pc-confirmed").await.as_deref(),
        Some("Canceled")
    );
    emu.call(
        "DeletePhysicalConnection",
        &[("PhysicalConnectionId", "pc-confirmed")],
    )
    .await
    .unwrap();
    emu.call(
        "DeletePhysicalConnection",
        &[("PhysicalConnectionId", "pc-rejected")],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn ipsec_teardown_and_gateway_serialisation() {
    let emu = Emu::start(&world()).await;
    emu.call("DeleteVpnConnection", &[("VpnConnectionId", "vco-gw1")])
        .await
        .unwrap();
    let gw = emu
        .call("DescribeVpnGateway", &[("VpnGatewayId", "vpn-gw")])
        .await
        .unwrap();
    assert_eq!(gw["Status"], "updating");
    assert_eq!(
        code(
            &emu.call("DeleteVpnConnection", &[("VpnConnectionId", "vco-gw2")])
                .await
        )
        .unwrap()
        .1,
        "VpnGateway.Configuring"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        emu.call("DescribeVpnGateway", &[("VpnGatewayId", "vpn-gw")])
            .await
            .unwrap()["Status"],
        "active"
    );
    emu.call("DeleteVpnConnection", &[("VpnConnectionId", "vco-gw2")])
        .await
        .unwrap();
    assert_eq!(
        code(
            &emu.call("DescribeVpnConnection", &[("VpnConnectionId", "vco-gw1")])
                .await
        )
        .unwrap()
        .1,
        "InvalidVpnConnectionInstanceId.NotFound"
    );

    // TR-bound: detach from the TR first, then DeleteVpnAttachment with its body status.
    let att = emu.call("DescribeVpnAttachments", &[]).await.unwrap();
    let ids: Vec<&str> = att["VpnAttachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["InstanceId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["vco-tr", "vco-tr2"]);
    assert_eq!(att["VpnAttachments"][0]["AttachType"], "CEN");
    assert_eq!(att["VpnAttachments"][0]["TransitRouterId"], "tr-sh");
    emu.call(
        "DeleteTransitRouterVpnAttachment",
        &[("TransitRouterAttachmentId", "tr-attach-vpn")],
    )
    .await
    .unwrap();
    assert_eq!(
        code(
            &emu.call("DeleteVpnAttachment", &[("VpnConnectionId", "vco-tr")])
                .await
        )
        .unwrap()
        .1,
        "VpnConnection.Configuring"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    let done = emu
        .call("DeleteVpnAttachment", &[("VpnConnectionId", "vco-tr")])
        .await
        .unwrap();
    assert_eq!(done["Success"], true);
    assert_eq!(done["Code"], "200");
    // Force=true takes the route entry with it.
    emu.call(
        "DeleteTransitRouterVpnAttachment",
        &[
            ("TransitRouterAttachmentId", "tr-attach-routed"),
            ("Force", "true"),
        ],
    )
    .await
    .unwrap();
    let routes = emu
        .call(
            "ListTransitRouterRouteEntries",
            &[("TransitRouterRouteTableId", "vtb-sh")],
        )
        .await
        .unwrap();
    // Only the route tr-attach-vbr propagates into the table is left.
    assert!(
        routes["TransitRouterRouteEntries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["TransitRouterRouteEntryNextHopId"] != "tr-attach-routed"),
        "{routes:#}"
    );
}

#[tokio::test]
async fn page_number_and_token_paging() {
    let mut w = format!("{HEADER}physical_connections:\n");
    for i in 0..120 {
        w.push_str(&format!("  - {{ id: pc-{i:04}, region: cn-shanghai }}\n"));
    }
    w.push_str("cens:\n  - id: cen-1\n    transit_routers:\n      - { id: tr-1, region: cn-shanghai }\ntransit_router_attachments:\n");
    w.push_str("  - { id: tr-attach-none, transit_router: tr-1, vpn_connection: vco-x }\n");
    let mut vbrs = String::from("virtual_border_routers:\n");
    for i in 0..45 {
        w.push_str(&format!(
            "  - {{ id: tr-attach-{i:03}, transit_router: tr-1, vbr: vbr-{i:03} }}\n"
        ));
        vbrs.push_str(&format!(
            "  - {{ id: vbr-{i:03}, region: cn-shanghai, physical_connection: pc-0000 }}\n"
        ));
    }
    w.push_str(&vbrs);
    w.push_str("vpn_connections:\n  - { id: vco-x, region: cn-shanghai }\n");
    let emu = Emu::start(&w).await;
    let mut seen = 0;
    for page in 1..=3 {
        let v = emu
            .call(
                "DescribePhysicalConnections",
                &[("PageSize", "50"), ("PageNumber", &page.to_string())],
            )
            .await
            .unwrap();
        assert_eq!(v["TotalCount"], 120);
        assert_eq!(v["PageNumber"], page);
        seen += v["PhysicalConnectionSet"]["PhysicalConnectionType"]
            .as_array()
            .unwrap()
            .len();
    }
    assert_eq!(seen, 120);
    let empty = emu
        .call(
            "DescribePhysicalConnections",
            &[("PageSize", "50"), ("PageNumber", "9")],
        )
        .await
        .unwrap();
    assert_eq!(
        empty["PhysicalConnectionSet"]["PhysicalConnectionType"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Filters: OR within a key.
    let two = emu
        .call(
            "DescribePhysicalConnections",
            &[
                ("Filter.1.Key", "PhysicalConnectionId"),
                ("Filter.1.Value.1", "pc-0001"),
                ("Filter.1.Value.2", "pc-0002"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(two["TotalCount"], 2);

    // Token paging: 45 VBR attachments at 20 per page.
    let mut token = String::new();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let mut params = vec![("TransitRouterId", "tr-1")];
        if !token.is_empty() {
            params.push(("NextToken", token.as_str()));
        }
        let v = emu
            .call("ListTransitRouterVbrAttachments", &params)
            .await
            .unwrap();
        for a in v["TransitRouterAttachments"].as_array().unwrap() {
            assert_eq!(a["ResourceType"], "VBR");
            ids.push(a["TransitRouterAttachmentId"].as_str().unwrap().to_string());
        }
        token = v["NextToken"].as_str().unwrap().to_string();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(ids.len(), 45);
    // The documented pitfall: no scope → 200 with no data.
    let none = emu
        .call("ListTransitRouterVbrAttachments", &[])
        .await
        .unwrap();
    assert_eq!(
        none["TransitRouterAttachments"].as_array().unwrap().len(),
        0
    );
}

#[tokio::test]
async fn client_token_replay_and_mismatch() {
    let emu = Emu::start(&world()).await;
    let p = [
        ("PhysicalConnectionId", "pc-bare"),
        ("ClientToken", "tok-1"),
    ];
    let first = emu.call("TerminatePhysicalConnection", &p).await.unwrap();
    let again = emu.call("TerminatePhysicalConnection", &p).await.unwrap();
    assert_eq!(
        first["RequestId"], again["RequestId"],
        "the first result is returned"
    );
    assert_eq!(emu.applied(), 1);
    let audit = emu.emulator.audit();
    assert!(audit[1].replay && !audit[1].applied);
    let other = emu
        .call(
            "TerminatePhysicalConnection",
            &[
                ("PhysicalConnectionId", "pc-macsec"),
                ("ClientToken", "tok-1"),
            ],
        )
        .await;
    assert_eq!(
        code(&other),
        Some((400, "IdempotentParameterMismatch".into()))
    );
    // Without a token a repeat is a new request (and fails: the circuit is Terminating now).
    assert_eq!(
        code(
            &emu.call(
                "TerminatePhysicalConnection",
                &[("PhysicalConnectionId", "pc-bare")]
            )
            .await
        )
        .unwrap()
        .1,
        "Forbidden.NotAllowedInState"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_token_sent_at_once_is_one_change() {
    // Copies of one request (one ClientToken) at the same moment, as two runs of one plan
    // send them: one change, the others replays of its answer — never a second change
    // (CancelPhysicalConnection leaves the circuit Confirmed until it is Canceled, so a copy
    // that missed the first's token would be applied again). Rounds on fresh emulators make
    // the race likely enough to be seen.
    for round in 0..20 {
        let emu = Emu::start(&world()).await;
        let p = [
            ("PhysicalConnectionId", "pc-confirmed"),
            ("ClientToken", "tok-race"),
        ];
        let calls = (0..32).map(|_| emu.call("CancelPhysicalConnection", &p));
        let answers = futures_util::future::join_all(calls).await;
        let ids: std::collections::BTreeSet<String> = answers
            .iter()
            .map(|a| a.as_ref().expect("a replay, not an error")["RequestId"].to_string())
            .collect();
        assert_eq!(
            ids.len(),
            1,
            "round {round}: every copy gets the first answer"
        );
        assert_eq!(emu.applied(), 1, "round {round}");
    }
}

/// Send a hand-built signed request.
async fn send_raw(
    endpoint: &str,
    req: &ApiRequest,
    id: &str,
    secret: &str,
    version: SignatureVersion,
    nonce: &Nonce,
) -> (u16, serde_json::Value) {
    let host = endpoint.trim_start_matches("http://").to_string();
    let wire = build_signed(
        req,
        &BaseUrl {
            scheme: "http".into(),
            host,
        },
        &creds(id, secret),
        version,
        nonce,
    );
    let t = HttpTransport::new(HttpOptions::default()).unwrap();
    let resp = t.send(wire).await.unwrap();
    (resp.status, serde_json::from_slice(&resp.body).unwrap())
}

#[tokio::test]
async fn signature_timestamp_and_nonce_failures() {
    let emu = Emu::start(&world()).await;
    let req = request("DescribePhysicalConnections", &[]);
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let (status, body) = send_raw(
            &emu.endpoint,
            &req,
            "TESTKEY",
            "wrong",
            version,
            &Nonce::fresh(),
        )
        .await;
        assert_eq!(
            (status, body["Code"].as_str().unwrap()),
            (400, "SignatureDoesNotMatch"),
            "{version}"
        );
        assert!(
            body["Message"]
                .as_str()
                .unwrap()
                .contains("server string to sign is:")
        );
        for key in ["RequestId", "HostId", "Recommend"] {
            assert!(body[key].is_string(), "{key}");
        }
        let (status, body) =
            send_raw(&emu.endpoint, &req, "NOKEY", "x", version, &Nonce::fresh()).await;
        assert_eq!(
            (status, body["Code"].as_str().unwrap()),
            (404, "InvalidAccessKeyId.NotFound")
        );
        let old = Nonce {
            nonce: uuid::Uuid::new_v4().to_string(),
            timestamp: "2020-01-01T00:00:00Z".into(),
        };
        let (status, body) =
            send_raw(&emu.endpoint, &req, "TESTKEY", "test-secret", version, &old).await;
        assert_eq!(
            (status, body["Code"].as_str().unwrap()),
            (400, "InvalidTimeStamp.Expired")
        );
        let n = Nonce::fresh();
        let (status, _) =
            send_raw(&emu.endpoint, &req, "TESTKEY", "test-secret", version, &n).await;
        assert_eq!(status, 200);
        let (status, body) =
            send_raw(&emu.endpoint, &req, "TESTKEY", "test-secret", version, &n).await;
        assert_eq!(
            (status, body["Code"].as_str().unwrap()),
            (400, "SignatureNonceUsed")
        );
    }
    // Unknown action and version.
    let (status, body) = send_raw(
        &emu.endpoint,
        &ApiRequest::new(Product::Vpc, "DescribeUnicorns"),
        "TESTKEY",
        "test-secret",
        SignatureVersion::V3,
        &Nonce::fresh(),
    )
    .await;
    assert_eq!(
        (status, body["Code"].as_str().unwrap()),
        (404, "InvalidAction.NotFound")
    );
    // A GET with a tampered query is refused too.
    let mut wire = build_signed(
        &req,
        &BaseUrl {
            scheme: "http".into(),
            host: emu.endpoint.trim_start_matches("http://").into(),
        },
        &creds("TESTKEY", "test-secret"),
        SignatureVersion::V1,
        &Nonce::fresh(),
    );
    wire.method = "GET".into();
    let resp = HttpTransport::new(HttpOptions::default())
        .unwrap()
        .send(wire)
        .await
        .unwrap();
    assert_eq!(resp.status, 400, "the method is signed");
    assert!(sign::EMPTY_SHA256.len() == 64);
}

#[tokio::test]
async fn throttling_per_region_and_action() {
    let w =
        format!("{HEADER}rate_limits: {{ per_minute: {{ DescribePhysicalConnections: 3 }} }}\n");
    let emu = Emu::start(&w).await;
    for _ in 0..3 {
        emu.call("DescribePhysicalConnections", &[]).await.unwrap();
    }
    let r = emu.call("DescribePhysicalConnections", &[]).await;
    assert_eq!(code(&r), Some((400, "Throttling.User".into())));
    // Another region has its own bucket; another action too.
    emu.call(
        "DescribePhysicalConnections",
        &[("RegionId", "cn-hangzhou")],
    )
    .await
    .unwrap();
    emu.call("DescribeVirtualBorderRouters", &[]).await.unwrap();
}

fn fault_world(kind: &str) -> String {
    format!(
        "{HEADER}faults: {{ seed: 7, rate: 1.0, kinds: [{kind}], latency: 300ms }}\nphysical_connections:\n  - {{ id: pc-1, region: cn-shanghai, status: Confirmed }}\n"
    )
}

#[tokio::test]
async fn each_fault_kind() {
    for (kind, want) in [
        ("unavailable", (503, "ServiceUnavailable")),
        ("internal_error", (500, "InternalError")),
        ("throttling", (400, "Throttling.User")),
    ] {
        let emu = Emu::start(&fault_world(kind)).await;
        let r = emu
            .call(
                "CancelPhysicalConnection",
                &[("PhysicalConnectionId", "pc-1")],
            )
            .await;
        assert_eq!(code(&r), Some((want.0, want.1.to_string())), "{kind}");
        assert_eq!(emu.applied(), 0, "{kind}: nothing applied");
    }
    let emu = Emu::start(&fault_world("latency")).await;
    let start = std::time::Instant::now();
    emu.call("DescribePhysicalConnections", &[]).await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(300));

    let emu = Emu::start(&fault_world("lost_response")).await;
    let r = emu
        .call(
            "CancelPhysicalConnection",
            &[("PhysicalConnectionId", "pc-1"), ("ClientToken", "t-lost")],
        )
        .await;
    assert!(
        matches!(r, Err(decom::api::CallError::Transport { .. })),
        "{r:?}"
    );
    assert_eq!(emu.applied(), 1, "applied although the answer was lost");
    assert!(emu.emulator.audit()[0].response_lost);
}

#[tokio::test]
async fn v1_and_v3_clients_both_work_and_sts_answers() {
    let emu = Emu::start(&world()).await;
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let c = client(&emu.endpoint, emu.emulator.credentials(), version);
        let v = c
            .reader()
            .call(&request(
                "DescribeVirtualBorderRoutersForPhysicalConnection",
                &[("PhysicalConnectionId", "pc-enabled")],
            ))
            .await
            .unwrap();
        let set = v["VirtualBorderRouterForPhysicalConnectionSet"]["VirtualBorderRouterForPhysicalConnectionType"].as_array().unwrap();
        assert_eq!(set.len(), 7, "{version}: other accounts' VBRs included");
        assert!(set.iter().any(|v| v["VbrOwnerUid"] == 9999999999999999u64));
        let id = c
            .reader()
            .call(&ApiRequest::new(Product::Sts, "GetCallerIdentity"))
            .await
            .unwrap();
        assert_eq!(id["AccountId"], "1234567890123456");
    }
    // Cross-account VBRs only with IncludeCrossAccountVbr=true.
    let own = emu
        .call("DescribeVirtualBorderRouters", &[("PageSize", "50")])
        .await
        .unwrap();
    let all = emu
        .call(
            "DescribeVirtualBorderRouters",
            &[("PageSize", "50"), ("IncludeCrossAccountVbr", "true")],
        )
        .await
        .unwrap();
    assert_eq!(
        own["TotalCount"].as_u64().unwrap() + 2,
        all["TotalCount"].as_u64().unwrap()
    );
}

/// A resource seeded in a transitional state settles after its kind's timing, exactly like
/// the same state reached through a call.
#[tokio::test]
async fn seeded_transitional_states_advance_like_called_ones() {
    let w = format!(
        r#"{HEADER}
timings: {{ terminate_physical_connection: 1s, terminate_vbr: 1s, deactivate_router_interface: 1s,
           detach_attachment: 1s, vpn_gateway_update: 1s }}
physical_connections:
  - {{ id: pc-1, region: cn-shanghai, status: Terminating }}
  - {{ id: pc-2, region: cn-shanghai, status: Allocating }}
virtual_border_routers:
  - {{ id: vbr-term, region: cn-shanghai, physical_connection: pc-1, status: terminating }}
  - {{ id: vbr-rec, region: cn-shanghai, physical_connection: pc-1, status: recovering }}
  - {{ id: vbr-del, region: cn-shanghai, physical_connection: pc-1, status: deleting }}
router_interfaces:
  - {{ id: ri-deact, region: cn-shanghai, vbr: vbr-term, status: Deactivating }}
  - {{ id: ri-act, region: cn-shanghai, vbr: vbr-term, status: Activating }}
cens:
  - {{ id: cen-1, transit_routers: [{{ id: tr-1, region: cn-shanghai, route_tables: [vtb-1] }}] }}
transit_router_attachments:
  - {{ id: tr-attach-det, transit_router: tr-1, vbr: vbr-rec, status: Detaching }}
  - {{ id: tr-attach-att, transit_router: tr-1, vbr: vbr-term, status: Attaching }}
vpn_gateways:
  - {{ id: vpn-1, region: cn-shanghai, status: updating }}
vpn_connections:
  - {{ id: vco-1, region: cn-shanghai, vpn_gateway: vpn-1 }}
"#
    );
    let emu = Emu::start(&w).await;
    let vbr_statuses = |v: serde_json::Value| -> Vec<(String, String)> {
        v["VirtualBorderRouterSet"]["VirtualBorderRouterType"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["VbrId"].as_str().unwrap().to_string(),
                    v["Status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let ri_status = async |id: &str| {
        emu.call(
            "DescribeRouterInterfaces",
            &[
                ("Filter.1.Key", "RouterInterfaceId"),
                ("Filter.1.Value.1", id),
            ],
        )
        .await
        .unwrap()["RouterInterfaceSet"]["RouterInterfaceType"][0]["Status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let attachments = async || {
        emu.call(
            "ListTransitRouterVbrAttachments",
            &[("TransitRouterId", "tr-1")],
        )
        .await
        .unwrap()["TransitRouterAttachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["TransitRouterAttachmentId"].as_str().unwrap().to_string(),
                    a["Status"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let gateway = async || {
        emu.call("DescribeVpnGateway", &[("VpnGatewayId", "vpn-1")])
            .await
            .unwrap()["Status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());

    // Before the timings: as seeded, and the transitional states refuse like called ones.
    assert_eq!(
        status_of_pc(&emu, "pc-1").await.as_deref(),
        Some("Terminating")
    );
    assert_eq!(
        vbr_statuses(emu.call("DescribeVirtualBorderRouters", &[]).await.unwrap()),
        [
            pair("vbr-del", "deleting"),
            pair("vbr-rec", "recovering"),
            pair("vbr-term", "terminating")
        ]
    );
    assert_eq!(ri_status("ri-deact").await, "Deactivating");
    assert_eq!(ri_status("ri-act").await, "Activating");
    assert_eq!(
        attachments().await,
        [
            pair("tr-attach-att", "Attaching"),
            pair("tr-attach-det", "Detaching")
        ]
    );
    assert_eq!(gateway().await, "updating");
    assert_eq!(
        code(
            &emu.call("DeleteVpnConnection", &[("VpnConnectionId", "vco-1")])
                .await
        )
        .unwrap()
        .1,
        "VpnGateway.Configuring"
    );

    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        status_of_pc(&emu, "pc-1").await.as_deref(),
        Some("Terminated")
    );
    assert_eq!(
        status_of_pc(&emu, "pc-2").await.as_deref(),
        Some("Allocating"),
        "stable states stay"
    );
    assert_eq!(
        vbr_statuses(emu.call("DescribeVirtualBorderRouters", &[]).await.unwrap()),
        [pair("vbr-rec", "active"), pair("vbr-term", "terminated")]
    );
    assert_eq!(ri_status("ri-deact").await, "Inactive");
    assert_eq!(ri_status("ri-act").await, "Active");
    assert_eq!(attachments().await, [pair("tr-attach-att", "Attached")]);
    assert_eq!(gateway().await, "active");
    // Settled states accept what they refused: the gateway takes the delete now.
    emu.call("DeleteVpnConnection", &[("VpnConnectionId", "vco-1")])
        .await
        .unwrap();
    emu.call(
        "DeleteRouterInterface",
        &[("RouterInterfaceId", "ri-deact")],
    )
    .await
    .unwrap();
}

/// Route-table links can be seeded with a status; listings show it and the transitional
/// ones settle after `dissociate` / `disable_propagation`.
#[tokio::test]
async fn seeded_link_statuses_are_listed_and_settle() {
    let w = format!(
        r#"{HEADER}
timings: {{ dissociate: 1s, disable_propagation: 1s }}
cens:
  - {{ id: cen-1, transit_routers: [{{ id: tr-1, region: cn-shanghai, route_tables: [vtb-1, vtb-2, vtb-3] }}] }}
virtual_border_routers:
  - {{ id: vbr-1, region: cn-shanghai, physical_connection: pc-1 }}
physical_connections:
  - {{ id: pc-1, region: cn-shanghai }}
transit_router_attachments:
  - id: tr-attach-1
    transit_router: tr-1
    vbr: vbr-1
    associations: [vtb-1, {{ route_table: vtb-2, status: Dissociating }}, {{ route_table: vtb-3, status: Associating }}]
    propagations: [{{ route_table: vtb-1, status: Disabling }}, {{ route_table: vtb-2, status: Enabling }}, {{ route_table: vtb-3 }}]
"#
    );
    let emu = Emu::start(&w).await;
    let list = async |action: &str, key: &str| {
        let mut out = Vec::new();
        for vtb in ["vtb-1", "vtb-2", "vtb-3"] {
            let v = emu
                .call(
                    action,
                    &[
                        ("TransitRouterRouteTableId", vtb),
                        ("TransitRouterAttachmentId", "tr-attach-1"),
                    ],
                )
                .await
                .unwrap();
            for l in v[key].as_array().unwrap() {
                out.push(format!("{vtb} {}", l["Status"].as_str().unwrap()));
            }
        }
        out
    };
    let assoc = "ListTransitRouterRouteTableAssociations";
    let props = "ListTransitRouterRouteTablePropagations";
    assert_eq!(
        list(assoc, "TransitRouterAssociations").await,
        ["vtb-1 Active", "vtb-2 Dissociating", "vtb-3 Associating"]
    );
    assert_eq!(
        list(props, "TransitRouterPropagations").await,
        ["vtb-1 Disabling", "vtb-2 Enabling", "vtb-3 Active"]
    );
    // A transitional link refuses like one reached through a call.
    assert_eq!(
        code(
            &emu.call(
                "DissociateTransitRouterAttachmentFromRouteTable",
                &[
                    ("TransitRouterAttachmentId", "tr-attach-1"),
                    ("TransitRouterRouteTableId", "vtb-3"),
                ],
            )
            .await
        ),
        Some((400, "IncorrectStatus.Status".into()))
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        list(assoc, "TransitRouterAssociations").await,
        ["vtb-1 Active", "vtb-3 Active"]
    );
    assert_eq!(
        list(props, "TransitRouterPropagations").await,
        ["vtb-2 Active", "vtb-3 Active"]
    );
}

/// ListTransitRouterVbrAttachments' statuses include `Detached`: a world may seed it, the
/// listing shows it, and such an attachment can be deleted.
#[tokio::test]
async fn detached_vbr_attachment_is_listed_and_deletable() {
    let w = format!(
        r#"{HEADER}
timings: {{ detach_attachment: 200ms }}
physical_connections: [{{ id: pc-1, region: cn-shanghai }}]
virtual_border_routers: [{{ id: vbr-1, region: cn-shanghai, physical_connection: pc-1 }}]
cens:
  - {{ id: cen-1, transit_routers: [{{ id: tr-1, region: cn-shanghai, route_tables: [vtb-1] }}] }}
transit_router_attachments:
  - {{ id: tr-attach-1, transit_router: tr-1, vbr: vbr-1, status: detached }}
"#
    );
    let emu = Emu::start(&w).await;
    let list = async || {
        emu.call(
            "ListTransitRouterVbrAttachments",
            &[("TransitRouterId", "tr-1")],
        )
        .await
        .unwrap()["TransitRouterAttachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["Status"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(list().await, ["Detached"]);
    // Still an attachment of the VBR: the VBR cannot go yet.
    assert_eq!(
        code(
            &emu.call("DeleteVirtualBorderRouter", &[("VbrId", "vbr-1")])
                .await
        )
        .unwrap()
        .1,
        "InvalidStatus.NotAllowed"
    );
    emu.call(
        "DeleteTransitRouterVbrAttachment",
        &[("TransitRouterAttachmentId", "tr-attach-1")],
    )
    .await
    .unwrap();
    assert_eq!(list().await, ["Detaching"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(list().await.is_empty());
    emu.call("DeleteVirtualBorderRouter", &[("VbrId", "vbr-1")])
        .await
        .unwrap();
    // A VPN attachment's statuses do not include Detached.
    let bad = format!(
        "{HEADER}cens: [{{ id: cen-1, transit_routers: [{{ id: tr-1, region: cn-shanghai }}] }}]\nvpn_connections: [{{ id: vco-1, region: cn-shanghai }}]\ntransit_router_attachments: [{{ id: tr-attach-1, transit_router: tr-1, vpn_connection: vco-1, status: Detached }}]\n"
    );
    let err = decom::emulator::world::World::parse("w.yaml", &bad).unwrap_err();
    assert!(
        err.to_string()
            .contains("status \"Detached\" is not one of Attaching, Attached, Detaching"),
        "{err}"
    );
}

/// A request without a required parameter is refused like the API gateway does it: 400
/// `Missing<Name>`, "<Name> is mandatory for this action.", before any rule of the action.
#[tokio::test]
async fn missing_required_parameters_answer_like_the_gateway() {
    let emu = Emu::start(&world()).await;
    let raw = async |product: Product, action: &str, params: &[(&str, &str)]| {
        let mut req = ApiRequest::new(product, action);
        for (k, v) in params {
            req = req.param(*k, *v);
        }
        match emu.client.call(&req).await {
            Err(decom::api::CallError::Api(e)) => (e.http_status, e.code, e.message),
            other => panic!("{action}: {other:?}"),
        }
    };
    let missing = |name: &str| {
        (
            400,
            format!("Missing{name}"),
            format!("{name} is mandatory for this action."),
        )
    };
    assert_eq!(
        raw(Product::Vpc, "DescribePhysicalConnections", &[]).await,
        missing("RegionId")
    );
    assert_eq!(
        raw(
            Product::Vpc,
            "DeleteVpnConnection",
            &[("RegionId", "cn-shanghai")]
        )
        .await,
        missing("VpnConnectionId")
    );
    // The region is checked for presence before the id is (both missing: RegionId first).
    assert_eq!(
        raw(Product::Vpc, "TerminatePhysicalConnection", &[]).await,
        missing("RegionId")
    );
    assert_eq!(
        raw(
            Product::Cbn,
            "DissociateTransitRouterAttachmentFromRouteTable",
            &[("TransitRouterAttachmentId", "tr-attach-vbr")]
        )
        .await,
        missing("TransitRouterRouteTableId")
    );
    assert_eq!(
        raw(Product::Cbn, "DeleteTransitRouterVbrAttachment", &[]).await,
        missing("TransitRouterAttachmentId")
    );
    assert_eq!(
        raw(Product::Cbn, "ListTransitRouterRouteEntries", &[]).await,
        missing("TransitRouterRouteTableId")
    );
    // An empty value counts as missing.
    assert_eq!(
        raw(
            Product::Vpc,
            "DeleteVirtualBorderRouter",
            &[("RegionId", "cn-shanghai"), ("VbrId", "")]
        )
        .await,
        missing("VbrId")
    );
    // Refused mutations change nothing (and are audited with their code).
    assert_eq!(emu.applied(), 0);
    assert!(
        emu.emulator
            .audit()
            .iter()
            .any(|e| e.result == "MissingVpnConnectionId")
    );

    // Parameters the SDKs do not require: a route entry by table and destination, route
    // tables by id.
    emu.call(
        "DeleteTransitRouterRouteEntry",
        &[
            ("TransitRouterRouteTableId", "vtb-sh"),
            ("TransitRouterRouteEntryDestinationCidrBlock", "10.1.0.0/16"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        code(
            &emu.call(
                "DeleteTransitRouterRouteEntry",
                &[("TransitRouterRouteEntryId", "rte-1")]
            )
            .await
        ),
        // The first delete named the same route: it is `Deleting` (asynchronous).
        Some((400, "IncorrectStatus.Status".into()))
    );
    assert_eq!(
        code(&emu.call("DeleteTransitRouterRouteEntry", &[]).await),
        Some((400, "MissingParameter".into()))
    );
    let tables = emu
        .call(
            "ListTransitRouterRouteTables",
            &[("TransitRouterRouteTableIds.1", "vtb-sh")],
        )
        .await
        .unwrap();
    assert_eq!(
        tables["TransitRouterRouteTables"][0]["TransitRouterRouteTableId"],
        "vtb-sh"
    );
    assert_eq!(
        code(&emu.call("ListTransitRouterRouteTables", &[]).await),
        Some((400, "MissingParameter".into()))
    );
}

/// ListTransitRouterRouteTablePropagations requires TransitRouterRouteTableId (the official
/// SDKs' metadata, blockers.md §3.1): the attachment alone is refused.
#[tokio::test]
async fn propagations_require_the_route_table() {
    let emu = Emu::start(&world()).await;
    assert_eq!(
        code(
            &emu.call(
                "ListTransitRouterRouteTablePropagations",
                &[("TransitRouterAttachmentId", "tr-attach-vbr")]
            )
            .await
        ),
        Some((400, "MissingTransitRouterRouteTableId".into()))
    );
    let p = emu
        .call(
            "ListTransitRouterRouteTablePropagations",
            &[
                ("TransitRouterRouteTableId", "vtb-sh"),
                ("TransitRouterAttachmentId", "tr-attach-vbr"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(p["TransitRouterPropagations"][0]["Status"], "Active");
    // Associations keep accepting either filter.
    emu.call(
        "ListTransitRouterRouteTableAssociations",
        &[("TransitRouterAttachmentId", "tr-attach-vbr")],
    )
    .await
    .unwrap();
}
