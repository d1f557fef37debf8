#!/usr/bin/env python3
"""Check the OFFICIAL Alibaba Cloud Python SDKs against decom's local emulator.

Optional, offline, run by hand (not part of CI). Needs a venv with:
    alibabacloud_vpc20160428 alibabacloud_cbn20170912 alibabacloud_sts20150401
    aliyun-python-sdk-core aliyun-python-sdk-vpc
and the emulator serving examples/worlds/demo.yaml (see README.md next to this file).

Suites (each one mutates state, so each wants a fresh emulator):
    tea-v3   Tea SDKs (alibabacloud_*), ACS3-HMAC-SHA256 (the SDK default)
    tea-v1   Tea SDKs with signature_algorithm='v2' (RPC HMAC-SHA1)
    legacy   aliyunsdkcore AcsClient + aliyunsdkvpc requests and CommonRequest (HMAC-SHA1)

Ways to point it at an emulator:
    --spawn target/debug/decom    start a fresh emulator per suite, SIGTERM it afterwards
    --banner '{"endpoint": ...}'  the first stdout line of `decom emulator serve` (or a file
                                  holding it via --banner-file); runs the suites you name
    --endpoint/--access-key-id/--access-key-secret

--trace routes every request through a logging forwarder and prints the raw request
(method, path and query, headers, body) and the emulator's answer.

Exit status: 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

ACCOUNT_ID = "1234567890123456"
# A filter value with reserved, percent, plus, slash, tilde and multi-byte characters.
TRICKY = "dc1 primary+*~/é&=%;测"
WORLD_DEFAULT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "worlds", "demo.yaml"
)

# --------------------------------------------------------------------------------------
# Result bookkeeping


class Results:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, bool, str]] = []

    def add(self, suite: str, name: str, ok: bool, detail: str) -> None:
        self.rows.append((suite, name, ok, detail))
        print(f"[{suite}] {'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)

    def failed(self) -> int:
        return sum(1 for r in self.rows if not r[2])


def short(obj, limit: int = 300) -> str:
    s = obj if isinstance(obj, str) else json.dumps(obj, sort_keys=True, default=str)
    return s if len(s) <= limit else s[:limit] + "…"


def err_fields(e: BaseException) -> tuple[str | None, int | None, str]:
    """(code, http status, message) from a Tea or legacy SDK exception."""
    code = getattr(e, "code", None)
    status = getattr(e, "status_code", None)
    msg = getattr(e, "message", None) or str(e)
    if hasattr(e, "get_error_code"):  # aliyunsdkcore ClientException / ServerException
        code = e.get_error_code()
        msg = e.get_error_msg()
        if hasattr(e, "get_http_status"):
            status = e.get_http_status()
    return code, status, msg


# --------------------------------------------------------------------------------------
# Optional logging forwarder (for --trace)


def start_tracer(target_hostport: str) -> tuple[str, http.server.ThreadingHTTPServer]:
    """A forwarder on a free loopback port that prints each request and answer. It keeps the
    client's Host header, so V3 signatures (which sign `host`) still verify upstream."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # silence default access log
            pass

        def _forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            print(f"    >>> {self.command} {self.path}", flush=True)
            for k, v in self.headers.items():
                print(f"    >>> {k}: {v}", flush=True)
            if body:
                print(f"    >>> body: {body.decode('utf-8', 'replace')}", flush=True)
            conn = http.client.HTTPConnection(target_hostport, timeout=30)
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                conn.putheader(k, v)
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            print(f"    <<< {resp.status} {data.decode('utf-8', 'replace')[:600]}", flush=True)
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_GET = do_POST = do_PUT = do_DELETE = _forward

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"127.0.0.1:{srv.server_address[1]}", srv


# --------------------------------------------------------------------------------------
# Emulator process handling (for --spawn)


class Spawned:
    def __init__(self, binary: str, world: str) -> None:
        self.proc = subprocess.Popen(
            [binary, "emulator", "serve", "--world", world, "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read()
            raise SystemExit(f"emulator did not print its banner: {err}")
        self.banner = json.loads(line)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9


# --------------------------------------------------------------------------------------
# Helpers shared by suites


def audit(endpoint_url: str) -> list[dict]:
    with urllib.request.urlopen(endpoint_url.rstrip("/") + "/_emulator/audit", timeout=10) as r:
        return json.loads(r.read())


def expect_ok(res: Results, suite: str, name: str, fn, check=None):
    """Run fn(); PASS if it returns and check(body) (if given) is truthy."""
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001 - we report whatever the SDK raised
        code, status, msg = err_fields(e)
        res.add(suite, name, False, f"raised {type(e).__name__} code={code} status={status} {short(msg)}")
        return None
    try:
        verdict = check(out) if check else (True, "")
    except Exception as e:  # noqa: BLE001
        verdict = (False, f"check raised {type(e).__name__}: {e}")
    ok, why = verdict if isinstance(verdict, tuple) else (bool(verdict), "")
    res.add(suite, name, ok, why)
    return out


def expect_err(res: Results, suite: str, name: str, fn, code: str | tuple[str, ...], status: int | None):
    codes = (code,) if isinstance(code, str) else code
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001
        got_code, got_status, msg = err_fields(e)
        ok = got_code in codes and (status is None or got_status == status)
        res.add(
            suite,
            name,
            ok,
            f"{type(e).__name__} code={got_code} status={got_status} message={short(msg, 160)}",
        )
        return
    res.add(suite, name, False, f"expected {'/'.join(codes)}, but the call succeeded: {short(str(out))}")


def check_audit(res: Results, suite: str, endpoint_url: str, expected: list[tuple[str, str, str]]):
    """expected: (action, key param value, result) in order, among the audit entries."""
    try:
        entries = audit(endpoint_url)
    except Exception as e:  # noqa: BLE001
        res.add(suite, "audit log", False, f"GET /_emulator/audit failed: {e}")
        return
    got = [(e["action"], e["result"], e["params"]) for e in entries]
    missing = []
    for action, value, result in expected:
        if not any(a == action and r == result and value in p.values() for a, r, p in got):
            missing.append(f"{action}({value})={result}")
    summary = ", ".join(f"{a}={r}" for a, r, _ in got)
    res.add(
        suite,
        "audit log",
        not missing,
        f"{len(entries)} entries [{summary}]" + (f"; missing {missing}" if missing else ""),
    )


# --------------------------------------------------------------------------------------
# Tea SDK suite (V3 or V1)


def run_tea(res: Results, suite: str, sdk_endpoint: str, endpoint_url: str, ak: str, secret: str, v1: bool):
    from alibabacloud_cbn20170912 import models as cbn_models
    from alibabacloud_cbn20170912.client import Client as CbnClient
    from alibabacloud_sts20150401.client import Client as StsClient
    from alibabacloud_tea_openapi.models import Config
    from alibabacloud_vpc20160428 import models as vm
    from alibabacloud_vpc20160428.client import Client as VpcClient

    def config(secret_: str = secret, region: str = "cn-shanghai") -> Config:
        kw = dict(
            access_key_id=ak,
            access_key_secret=secret_,
            endpoint=sdk_endpoint,
            protocol="http",
            region_id=region,
        )
        if v1:
            kw["signature_algorithm"] = "v2"
        return Config(**kw)

    vpc = VpcClient(config())
    cbn = CbnClient(config())
    sts = StsClient(config())

    # --- Vpc reads
    def pcs_check(r):
        ids = sorted(p.physical_connection_id for p in r.body.physical_connection_set.physical_connection_type)
        return r.body.total_count == 4 and "pc-uf6dc1primary0001" in ids, f"HTTP {r.status_code} TotalCount={r.body.total_count} {ids}"

    expect_ok(res, suite, "Vpc DescribePhysicalConnections(cn-shanghai, PageSize=50)",
              lambda: vpc.describe_physical_connections(
                  vm.DescribePhysicalConnectionsRequest(region_id="cn-shanghai", page_size=50)),
              pcs_check)

    def vbrs_check(r):
        items = r.body.virtual_border_router_for_physical_connection_set.virtual_border_router_for_physical_connection_type
        ids = sorted(v.vbr_id for v in items)
        return len(ids) == 3, f"TotalCount={r.body.total_count} {ids}"

    expect_ok(res, suite, "Vpc DescribeVirtualBorderRoutersForPhysicalConnection(pc-uf6dc1primary0001)",
              lambda: vpc.describe_virtual_border_routers_for_physical_connection(
                  vm.DescribeVirtualBorderRoutersForPhysicalConnectionRequest(
                      region_id="cn-shanghai", physical_connection_id="pc-uf6dc1primary0001", page_size=50)),
              vbrs_check)

    def ris_check(r):
        items = r.body.router_interface_set.router_interface_type
        ids = [(i.router_interface_id, i.status) for i in items]
        return ids == [("ri-uf6dc1vbr2000001", "Active")], f"TotalCount={r.body.total_count} {ids}"

    expect_ok(res, suite, "Vpc DescribeRouterInterfaces(Filter RouterId=vbr-uf6dc1bgp000002)",
              lambda: vpc.describe_router_interfaces(
                  vm.DescribeRouterInterfacesRequest(
                      region_id="cn-shanghai", page_size=50,
                      filter=[vm.DescribeRouterInterfacesRequestFilter(key="RouterId", value=["vbr-uf6dc1bgp000002"])])),
              ris_check)

    def vpn_att_check(r):
        ids = sorted(a.instance_id for a in r.body.vpn_attachments)
        return len(ids) == 3, f"TotalCount={r.body.total_count} {ids}"

    expect_ok(res, suite, "Vpc DescribeVpnAttachments(ap-southeast-2)",
              lambda: vpc.describe_vpn_attachments(vm.DescribeVpnAttachmentsRequest(region_id="ap-southeast-2")),
              vpn_att_check)

    expect_ok(res, suite, "Vpc DescribeVpnGateway(vpn-uf6hangzhou00001, cn-hangzhou)",
              lambda: vpc.describe_vpn_gateway(
                  vm.DescribeVpnGatewayRequest(region_id="cn-hangzhou", vpn_gateway_id="vpn-uf6hangzhou00001")),
              lambda r: (r.body.status == "active", f"Status={r.body.status} Name={r.body.name}"))

    def bgpg_check(r):
        ids = [g.bgp_group_id for g in r.body.bgp_groups.bgp_group]
        return ids == ["bgpg-uf6dc1000000001"], f"TotalCount={r.body.total_count} {ids}"

    expect_ok(res, suite, "Vpc DescribeBgpGroups(RouterId=vbr-uf6dc1bgp000002)",
              lambda: vpc.describe_bgp_groups(
                  vm.DescribeBgpGroupsRequest(region_id="cn-shanghai", router_id="vbr-uf6dc1bgp000002")),
              bgpg_check)

    def bgpp_check(r):
        ids = sorted(p.bgp_peer_id for p in r.body.bgp_peers.bgp_peer)
        return len(ids) == 2, f"TotalCount={r.body.total_count} {ids}"

    expect_ok(res, suite, "Vpc DescribeBgpPeers(BgpGroupId=bgpg-uf6dc1000000001)",
              lambda: vpc.describe_bgp_peers(
                  vm.DescribeBgpPeersRequest(region_id="cn-shanghai", bgp_group_id="bgpg-uf6dc1000000001")),
              bgpp_check)

    # --- Wire-format corners: reserved and non-ASCII characters in a signed query value, the
    # parameters in a form body instead of the query, and GET instead of POST.
    expect_ok(res, suite, f"Vpc DescribePhysicalConnections(Filter Name={TRICKY!r})",
              lambda: vpc.describe_physical_connections(
                  vm.DescribePhysicalConnectionsRequest(
                      region_id="cn-shanghai", page_size=50,
                      filter=[vm.DescribePhysicalConnectionsRequestFilter(key="Name", value=[TRICKY])])),
              lambda r: (r.status_code == 200 and r.body.total_count == 0, f"HTTP {r.status_code} TotalCount={r.body.total_count}"))

    def generic(method: str, where: str):
        from alibabacloud_tea_openapi import utils_models as um
        from darabonba.runtime import RuntimeOptions
        params = um.Params(action="DescribeBgpPeers", version="2016-04-28", protocol="HTTP", pathname="/",
                           method=method, auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
        args = {"RegionId": "cn-shanghai", "BgpGroupId": "bgpg-uf6dc1000000001", "Description": TRICKY}
        req = um.OpenApiRequest(body=args) if where == "body" else um.OpenApiRequest(query=args)
        return vpc.call_api(params, req, RuntimeOptions())

    peers2 = lambda r: (r["statusCode"] == 200 and r["body"].get("TotalCount") == 2, f"HTTP {r['statusCode']} TotalCount={r['body'].get('TotalCount')}")
    expect_ok(res, suite, "Vpc DescribeBgpPeers via call_api, POST with a form body", lambda: generic("POST", "body"), peers2)
    expect_ok(res, suite, "Vpc DescribeBgpPeers via call_api, GET", lambda: generic("GET", "query"), peers2)

    # --- Vpc mutations
    rid = lambda r: (r.status_code == 200 and bool(r.body.request_id), f"HTTP {r.status_code} RequestId={r.body.request_id}")

    expect_ok(res, suite, "Vpc DeletePhysicalConnection(pc-uf6dc1old0000003, Terminated)",
              lambda: vpc.delete_physical_connection(
                  vm.DeletePhysicalConnectionRequest(region_id="cn-shanghai", physical_connection_id="pc-uf6dc1old0000003")),
              rid)
    expect_ok(res, suite, "Vpc CancelPhysicalConnection(pc-uf6dc1backup00002, Confirmed)",
              lambda: vpc.cancel_physical_connection(
                  vm.CancelPhysicalConnectionRequest(region_id="cn-shanghai", physical_connection_id="pc-uf6dc1backup00002")),
              rid)
    expect_err(res, suite, "Vpc TerminatePhysicalConnection(pc-uf6dc1primary0001, has VBRs)",
               lambda: vpc.terminate_physical_connection(
                   vm.TerminatePhysicalConnectionRequest(region_id="cn-shanghai", physical_connection_id="pc-uf6dc1primary0001")),
               "Forbidden.VbrAttached", 400)
    expect_ok(res, suite, "Vpc DeleteVpnConnection(vco-uf6hzoffice00001)",
              lambda: vpc.delete_vpn_connection(
                  vm.DeleteVpnConnectionRequest(region_id="cn-hangzhou", vpn_connection_id="vco-uf6hzoffice00001")),
              rid)
    expect_err(res, suite, "Vpc DeleteVpnConnection(vco-uf6hzoffice00002) while the gateway updates",
               lambda: vpc.delete_vpn_connection(
                   vm.DeleteVpnConnectionRequest(region_id="cn-hangzhou", vpn_connection_id="vco-uf6hzoffice00002")),
               "VpnGateway.Configuring", 400)

    def after_check(r):
        st = {p.physical_connection_id: p.status for p in r.body.physical_connection_set.physical_connection_type}
        ok = "pc-uf6dc1old0000003" not in st and st.get("pc-uf6dc1primary0001") == "Enabled"
        return ok, f"{st}"

    expect_ok(res, suite, "Vpc DescribePhysicalConnections after the mutations",
              lambda: vpc.describe_physical_connections(
                  vm.DescribePhysicalConnectionsRequest(region_id="cn-shanghai", page_size=50)),
              after_check)

    bad = VpcClient(config(secret_="not-the-secret"))
    expect_err(res, suite, "Vpc DescribePhysicalConnections with a wrong secret",
               lambda: bad.describe_physical_connections(
                   vm.DescribePhysicalConnectionsRequest(region_id="cn-shanghai", page_size=50)),
               "SignatureDoesNotMatch", 400)

    # --- Cbn
    def tr_vpn_check(r):
        ids = sorted(a.transit_router_attachment_id for a in r.body.transit_router_attachments)
        return len(ids) == 3, f"TotalCount={r.body.total_count} {ids}"

    expect_ok(res, suite, "Cbn ListTransitRouterVpnAttachments(tr-p0wsydney00000001)",
              lambda: cbn.list_transit_router_vpn_attachments(
                  cbn_models.ListTransitRouterVpnAttachmentsRequest(
                      region_id="ap-southeast-2", transit_router_id="tr-p0wsydney00000001")),
              tr_vpn_check)

    def assoc_check(r):
        got = [(a.transit_router_route_table_id, a.status) for a in r.body.transit_router_associations]
        return got == [("vtb-uf6shanghai00001", "Active")], f"TotalCount={r.body.total_count} {got}"

    expect_ok(res, suite, "Cbn ListTransitRouterRouteTableAssociations(tr-attach-uf6dc1vbr00001)",
              lambda: cbn.list_transit_router_route_table_associations(
                  cbn_models.ListTransitRouterRouteTableAssociationsRequest(
                      transit_router_attachment_id="tr-attach-uf6dc1vbr00001")),
              assoc_check)
    expect_ok(res, suite, "Cbn DissociateTransitRouterAttachmentFromRouteTable(tr-attach-uf6dc1vbr00001, vtb-uf6shanghai00001)",
              lambda: cbn.dissociate_transit_router_attachment_from_route_table(
                  cbn_models.DissociateTransitRouterAttachmentFromRouteTableRequest(
                      transit_router_attachment_id="tr-attach-uf6dc1vbr00001",
                      transit_router_route_table_id="vtb-uf6shanghai00001")),
              rid)

    def assoc_after(r):
        got = [(a.transit_router_route_table_id, a.status) for a in r.body.transit_router_associations]
        return got in ([("vtb-uf6shanghai00001", "Dissociating")], []), f"{got}"

    expect_ok(res, suite, "Cbn ListTransitRouterRouteTableAssociations after Dissociate",
              lambda: cbn.list_transit_router_route_table_associations(
                  cbn_models.ListTransitRouterRouteTableAssociationsRequest(
                      transit_router_attachment_id="tr-attach-uf6dc1vbr00001")),
              assoc_after)

    # --- STS
    expect_ok(res, suite, "Sts GetCallerIdentity",
              lambda: sts.get_caller_identity(),
              lambda r: (r.body.account_id == ACCOUNT_ID, f"AccountId={r.body.account_id} Arn={r.body.arn}"))

    check_audit(res, suite, endpoint_url, [
        ("DeletePhysicalConnection", "pc-uf6dc1old0000003", "ok"),
        ("CancelPhysicalConnection", "pc-uf6dc1backup00002", "ok"),
        ("TerminatePhysicalConnection", "pc-uf6dc1primary0001", "Forbidden.VbrAttached"),
        ("DeleteVpnConnection", "vco-uf6hzoffice00001", "ok"),
        ("DeleteVpnConnection", "vco-uf6hzoffice00002", "VpnGateway.Configuring"),
        ("DissociateTransitRouterAttachmentFromRouteTable", "tr-attach-uf6dc1vbr00001", "ok"),
    ])


# --------------------------------------------------------------------------------------
# Legacy SDK suite (aliyunsdkcore, always HMAC-SHA1)


def run_legacy(res: Results, suite: str, sdk_endpoint: str, endpoint_url: str, ak: str, secret: str):
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest
    from aliyunsdkvpc.request.v20160428.DeleteBgpPeerRequest import DeleteBgpPeerRequest
    from aliyunsdkvpc.request.v20160428.DeleteVpnConnectionRequest import DeleteVpnConnectionRequest
    from aliyunsdkvpc.request.v20160428.DescribePhysicalConnectionsRequest import DescribePhysicalConnectionsRequest
    from aliyunsdkvpc.request.v20160428.DescribeVirtualBorderRoutersRequest import DescribeVirtualBorderRoutersRequest
    from aliyunsdkvpc.request.v20160428.TerminatePhysicalConnectionRequest import TerminatePhysicalConnectionRequest

    def client(secret_: str = secret, region: str = "cn-shanghai") -> AcsClient:
        return AcsClient(ak, secret_, region, auto_retry=False, max_retry_time=0)

    def prep(req):
        req.set_endpoint(sdk_endpoint)
        req.set_protocol_type("http")
        req.set_accept_format("json")
        return req

    def call(c, req):
        return json.loads(c.do_action_with_exception(prep(req)))

    sh = client()
    hz = client(region="cn-hangzhou")

    def vbrs():
        r = DescribeVirtualBorderRoutersRequest()
        r.set_PageSize(50)
        return call(sh, r)

    def vbrs_check(b):
        ids = sorted(v["VbrId"] for v in b["VirtualBorderRouterSet"]["VirtualBorderRouterType"])
        return b["TotalCount"] == 3 and "vbr-uf6dc1tr0000001" in ids, f"TotalCount={b['TotalCount']} {ids}"

    expect_ok(res, suite, "Vpc DescribeVirtualBorderRouters(cn-shanghai)", vbrs, vbrs_check)

    def pcs():
        r = DescribePhysicalConnectionsRequest()
        r.set_PageSize(50)
        r.set_Filters([{"Key": "Status", "Value": ["Enabled"]}])
        return call(sh, r)

    def pcs_check(b):
        ids = sorted(p["PhysicalConnectionId"] for p in b["PhysicalConnectionSet"]["PhysicalConnectionType"])
        return ids == ["pc-uf6dc1primary0001", "pc-uf6prodcore00004"], f"TotalCount={b['TotalCount']} {ids}"

    expect_ok(res, suite, "Vpc DescribePhysicalConnections(Filter Status=Enabled)", pcs, pcs_check)

    def del_vco():
        r = DeleteVpnConnectionRequest()
        r.set_VpnConnectionId("vco-uf6hzoffice00002")
        return call(hz, r)

    expect_ok(res, suite, "Vpc DeleteVpnConnection(vco-uf6hzoffice00002)", del_vco,
              lambda b: (bool(b.get("RequestId")), f"{short(b)}"))

    def del_peer():
        r = DeleteBgpPeerRequest()
        r.set_BgpPeerId("bgp-uf6dc1peer00002")
        return call(sh, r)

    expect_ok(res, suite, "Vpc DeleteBgpPeer(bgp-uf6dc1peer00002)", del_peer,
              lambda b: (bool(b.get("RequestId")), f"{short(b)}"))

    def terminate():
        r = TerminatePhysicalConnectionRequest()
        r.set_PhysicalConnectionId("pc-uf6dc1primary0001")
        return call(sh, r)

    expect_err(res, suite, "Vpc TerminatePhysicalConnection(pc-uf6dc1primary0001, has VBRs)", terminate,
               "Forbidden.VbrAttached", 400)

    def caller():
        r = CommonRequest(domain=sdk_endpoint, version="2015-04-01", action_name="GetCallerIdentity")
        r.set_method("POST")
        r.set_protocol_type("http")
        r.set_accept_format("json")
        return json.loads(sh.do_action_with_exception(r))

    expect_ok(res, suite, "Sts GetCallerIdentity (CommonRequest)", caller,
              lambda b: (b.get("AccountId") == ACCOUNT_ID, f"AccountId={b.get('AccountId')}"))

    def cbn_list():
        r = CommonRequest(domain=sdk_endpoint, version="2017-09-12", action_name="ListTransitRouterVpnAttachments")
        r.set_method("POST")
        r.set_protocol_type("http")
        r.set_accept_format("json")
        r.add_query_param("TransitRouterId", "tr-p0wsydney00000001")
        r.add_query_param("RegionId", "ap-southeast-2")
        return json.loads(sh.do_action_with_exception(r))

    expect_ok(res, suite, "Cbn ListTransitRouterVpnAttachments (CommonRequest)", cbn_list,
              lambda b: (b.get("TotalCount") == 3, f"TotalCount={b.get('TotalCount')}"))

    def pcs_get():
        r = DescribePhysicalConnectionsRequest()
        r.set_method("GET")
        r.set_Filters([{"Key": "Name", "Value": [TRICKY]}])
        return call(sh, r)

    expect_ok(res, suite, f"Vpc DescribePhysicalConnections GET (Filter Name={TRICKY!r})", pcs_get,
              lambda b: (b["TotalCount"] == 0, f"TotalCount={b['TotalCount']}"))

    def peers_form():
        r = CommonRequest(domain=sdk_endpoint, version="2016-04-28", action_name="DescribeBgpPeers")
        r.set_method("POST")
        r.set_protocol_type("http")
        r.set_accept_format("json")
        r.add_query_param("RegionId", "cn-shanghai")
        r.add_body_params("BgpGroupId", "bgpg-uf6dc1000000001")
        r.add_body_params("Description", TRICKY)
        return json.loads(sh.do_action_with_exception(r))

    expect_ok(res, suite, "Vpc DescribeBgpPeers (CommonRequest, form body) after DeleteBgpPeer", peers_form,
              lambda b: (b["TotalCount"] == 1, f"TotalCount={b['TotalCount']} "
                         f"{[p['BgpPeerId'] for p in b['BgpPeers']['BgpPeer']]}"))

    # The server answers SignatureDoesNotMatch; aliyunsdkcore rewrites that to
    # InvalidAccessKeySecret when the server's string-to-sign (quoted in the message) equals
    # its own, so InvalidAccessKeySecret also proves the emulator canonicalised identically.
    bad = client(secret_="not-the-secret")
    expect_err(res, suite, "Vpc DescribeVirtualBorderRouters with a wrong secret",
               lambda: call(bad, DescribeVirtualBorderRoutersRequest()),
               ("SignatureDoesNotMatch", "InvalidAccessKeySecret"), 400)

    check_audit(res, suite, endpoint_url, [
        ("DeleteVpnConnection", "vco-uf6hzoffice00002", "ok"),
        ("DeleteBgpPeer", "bgp-uf6dc1peer00002", "ok"),
        ("TerminatePhysicalConnection", "pc-uf6dc1primary0001", "Forbidden.VbrAttached"),
    ])


# --------------------------------------------------------------------------------------


def run_suite(res: Results, suite: str, banner: dict, trace: bool) -> None:
    endpoint_url = banner["endpoint"]
    hostport = urllib.parse.urlsplit(endpoint_url).netloc
    sdk_endpoint, tracer = hostport, None
    if trace:
        sdk_endpoint, tracer = start_tracer(hostport)
        print(f"[{suite}] tracing through {sdk_endpoint} -> {hostport}", flush=True)
    ak, secret = banner["access_key_id"], banner["access_key_secret"]
    try:
        if suite == "tea-v3":
            run_tea(res, suite, sdk_endpoint, endpoint_url, ak, secret, v1=False)
        elif suite == "tea-v1":
            run_tea(res, suite, sdk_endpoint, endpoint_url, ak, secret, v1=True)
        elif suite == "legacy":
            run_legacy(res, suite, sdk_endpoint, endpoint_url, ak, secret)
        else:
            raise SystemExit(f"unknown suite {suite}")
    finally:
        if tracer:
            tracer.shutdown()


def versions() -> str:
    try:
        from importlib.metadata import version
    except ImportError:  # pragma: no cover
        return ""
    names = [
        "alibabacloud_vpc20160428", "alibabacloud_cbn20170912", "alibabacloud_sts20150401",
        "alibabacloud_tea_openapi", "alibabacloud_tea_util", "alibabacloud_tea", "darabonba_core",
        "aliyun-python-sdk-core", "aliyun-python-sdk-vpc",
    ]
    out = []
    for n in names:
        try:
            out.append(f"{n}=={version(n)}")
        except Exception:  # noqa: BLE001
            out.append(f"{n}=(not installed)")
    return " ".join(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--spawn", metavar="DECOM_BINARY", help="start a fresh emulator per suite")
    src.add_argument("--banner", help="the emulator's banner JSON line")
    src.add_argument("--banner-file", help="a file whose first line is the banner JSON")
    src.add_argument("--endpoint", help="e.g. http://127.0.0.1:PORT (with the two key options)")
    p.add_argument("--access-key-id", default="LTAI5tDemoAccessKey01")
    p.add_argument("--access-key-secret", default="demo-secret-do-not-use-in-production")
    p.add_argument("--world", default=WORLD_DEFAULT, help="world file for --spawn (default: demo.yaml)")
    p.add_argument("--suite", action="append", choices=["tea-v3", "tea-v1", "legacy"],
                   help="suites to run (repeatable; default: all three with --spawn, tea-v3 otherwise)")
    p.add_argument("--trace", action="store_true", help="print every raw request and answer")
    a = p.parse_args()

    print(f"versions: {versions()}", flush=True)
    res = Results()
    if a.spawn:
        for suite in a.suite or ["tea-v3", "tea-v1", "legacy"]:
            emu = Spawned(a.spawn, a.world)
            print(f"[{suite}] emulator at {emu.banner['endpoint']} (pid {emu.proc.pid})", flush=True)
            try:
                run_suite(res, suite, emu.banner, a.trace)
            finally:
                rc = emu.stop()
                res.add(suite, "emulator exits 0 on SIGTERM", rc == 0, f"exit status {rc}")
    else:
        if a.banner:
            banner = json.loads(a.banner)
        elif a.banner_file:
            with open(a.banner_file) as f:
                banner = json.loads(f.readline())
        else:
            banner = {"endpoint": a.endpoint, "access_key_id": a.access_key_id,
                      "access_key_secret": a.access_key_secret}
        suites = a.suite or ["tea-v3"]
        if len(suites) > 1:
            print("note: suites mutate state; later suites may see earlier suites' changes", flush=True)
        for suite in suites:
            run_suite(res, suite, banner, a.trace)

    n, bad = len(res.rows), res.failed()
    print(f"\n{n - bad}/{n} checks passed", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
