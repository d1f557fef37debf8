#!/usr/bin/env python3
"""Generate tests/data/api-contract.json from the OFFICIAL Alibaba Cloud Python SDKs.

    python3 scripts/contract/generate.py [--venv DIR] [--out tests/data/api-contract.json] [--check]

What it does:
  1. Creates a scratch venv (a temp dir under /tmp unless --venv is given; a given --venv is
     kept and reused) and pip-installs the PINNED packages below from PyPI.
  2. Re-runs this same file inside the venv (`--introspect`), which reads the SDKs:
     - Tea/Darabonba SDKs (alibabacloud_*): the client's `<op>_with_options` method (parsed
       with `ast`) gives the action, version, HTTP method, and which request field goes
       into `query`/`body` under which wire name, including "shrink" fields serialised as
       one string (style `json`/`simple`); the request/response models give the types
       (annotations), wire names (`to_map()`, parsed with `ast`) and required flags (the
       generated "This parameter is required." comment line: these SDK versions do not call
       validate_required()). Each operation is then CALLED with a fully populated request
       and a stubbed `call_api`, and the flattened query/body keys the SDK really produced
       are compared with the statically derived `wire_params` (any difference aborts).
     - Legacy aliyun-python-sdk-vpc (only for operations the new SDK dropped): the
       `add_query_param`/`add_body_params` calls of each setter give the wire names; no
       types, required flags or response models exist there (type string, required null,
       response null). aliyunsdkcore adds `RegionId` itself from the client's region; this
       is checked by signing a request and recorded with a `note`.
  3. Writes deterministic JSON (sorted keys, 1-space indent, trailing newline), asserts the
     sanity checks listed in main(), prints a summary. Re-running gives a byte-identical file.

--check: generate, then compare with --out instead of writing it (exit 1 on a difference).

Notation in wire_params: `N` stands for any 1-based list index, `K` for any map key.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import types

# --------------------------------------------------------------------------------------
# Pinned packages.

# The SDKs the contract is read from: package -> version. These are the `package` values.
SDK_PACKAGES = {
    "alibabacloud-vpc20160428": "7.2.2",
    "alibabacloud-cbn20170912": "1.4.0",
    "alibabacloud-sts20150401": "1.2.0",
    # Newest on PyPI when this script was written.
    "alibabacloud-expressconnectrouter20230901": "4.1.3",
    # Legacy SDK, ONLY for operations the new Vpc SDK dropped. 3.0.5 is the last release
    # that still has the Nqa requests (3.0.6 .. 3.0.48 have none).
    "aliyun-python-sdk-vpc": "3.0.5",
}

# Runtime libraries whose code the introspection runs (query flattening, request signing):
# pinned too so that a regeneration is reproducible.
SUPPORT_PACKAGES = {
    "alibabacloud-tea-openapi": "0.4.6",
    "darabonba-core": "1.0.9",
    "alibabacloud-tea-util": "0.3.15",
    "alibabacloud-tea": "0.4.3",
    "aliyun-python-sdk-core": "2.16.1",
}

# product code (decom's Product enum / endpoint) -> (Tea package, module, API version)
PRODUCTS = {
    "Vpc": ("alibabacloud-vpc20160428", "alibabacloud_vpc20160428", "2016-04-28"),
    "Cbn": ("alibabacloud-cbn20170912", "alibabacloud_cbn20170912", "2017-09-12"),
    "Sts": ("alibabacloud-sts20150401", "alibabacloud_sts20150401", "2015-04-01"),
    "ExpressConnectRouter": (
        "alibabacloud-expressconnectrouter20230901",
        "alibabacloud_expressconnectrouter20230901",
        "2023-09-01",
    ),
}

# product code -> (legacy package, request package) for operations the Tea SDK lacks.
LEGACY = {
    "Vpc": ("aliyun-python-sdk-vpc", "aliyunsdkvpc.request.v20160428"),
}

# --------------------------------------------------------------------------------------
# The operations to cover, grouped by product. Sources:
#   actions.rs  = src/api/actions.rs ACTIONS (decom calls these today)
#   B §1A C3    = /work/shared/blockers.md, table row C3 (and so on); B §2.x = section 2.x
# Not listed on purpose: ForceDeleteExpressConnectRouter (B §2.2: decom must never call it),
# DeleteTransitRouterVpcAttachment (B §5: cited only for comparison), Create*/Associate*
# operations (not teardown or discovery).

OPERATIONS = {
    "Vpc": [
        # actions.rs: Express Connect circuits
        "DescribePhysicalConnections",
        "CancelPhysicalConnection",
        "TerminatePhysicalConnection",
        "DeletePhysicalConnection",
        # actions.rs: VBRs
        "DescribeVirtualBorderRouters",
        "DescribeVirtualBorderRoutersForPhysicalConnection",
        "TerminateVirtualBorderRouter",
        "DeleteVirtualBorderRouter",
        # actions.rs: router interfaces
        "DescribeRouterInterfaces",
        "DeactivateRouterInterface",
        "DeleteRouterInterface",
        # actions.rs: BGP
        "DescribeBgpGroups",
        "DescribeBgpPeers",
        "DeleteBgpPeer",
        "DeleteBgpGroup",
        # actions.rs: IPsec-VPN
        "DescribeVpnAttachments",
        "DescribeVpnConnection",
        "DescribeVpnConnections",
        "DescribeVpnGateway",
        "DeleteVpnConnection",
        "DeleteVpnAttachment",
        # B §1A C3, §2.1: VBR associated with a secondary circuit
        "UnassociatePhysicalConnectionFromVirtualBorderRouter",
        # B §1A C4, §2.1: hosted connections on a circuit
        "ListVirtualPhysicalConnections",
        # B §1A C6, §2.1: MACsec key (discovered via DescribePhysicalConnections.MacsecKeys)
        "DisassociateMacSecKey",
        # B §1A C7, §2.1: Express Connect QoS policy
        "DescribeExpressConnectTrafficQos",
        "ModifyExpressConnectTrafficQos",
        "DeleteExpressConnectTrafficQos",
        # B §1A C8, §2.1: failover test jobs
        "DescribeFailoverTestJobs",
        "StopFailoverTestJob",
        "DeleteFailoverTestJob",
        # B §1B V2, §2.1: VBR route table custom routes
        "DescribeRouteEntryList",
        "DeleteRouteEntry",
        # B §1B V4, §2.1: BGP networks
        "DescribeBgpNetworks",
        "DeleteBgpNetwork",
        # B §1B V5, §2.1: NQA (legacy metadata only)
        "DescribeNqas",
        "DeleteNqa",
        # B §1B V9, §2.1: VBR failover group
        "DescribeVbrHa",
        "DeleteVbrHa",
        # B §1B V13: grants of the VBR to CEN / ECR (Vpc side)
        "DescribeGrantRulesToCen",
        "RevokeInstanceFromCen",
        "DescribeGrantRulesToEcr",
        # B §1D I3, §2.4: destination routes of a TR-bound IPsec connection
        "DescribeVcoRouteEntries",
        "DeleteVcoRouteEntry",
        # B §1D I4, §2.4: VPN gateway destination / policy-based routes
        "DescribeVpnRouteEntries",
        "DeleteVpnRouteEntry",
        "DescribeVpnPbrRouteEntries",
        "DeleteVpnPbrRouteEntry",
        # B §1D I7, §2.4: customer gateways
        "DescribeCustomerGateways",
        "DeleteCustomerGateway",
        # B §1D I8: what blocks deleting the VPN gateway itself
        "DeleteVpnGateway",
    ],
    "Cbn": [
        # actions.rs: CEN transit router
        "ListTransitRouterVbrAttachments",
        "ListTransitRouterVpnAttachments",
        "ListTransitRouterRouteTableAssociations",
        "ListTransitRouterRouteTablePropagations",
        "ListTransitRouterRouteEntries",
        "ListTransitRouterRouteTables",
        "DissociateTransitRouterAttachmentFromRouteTable",
        "DisableTransitRouterRouteTablePropagation",
        "DeleteTransitRouterRouteEntry",
        "DeleteTransitRouterVbrAttachment",
        "DeleteTransitRouterVpnAttachment",
        # B §1B V7, §2.3: Basic-Edition CEN child instances
        "DescribeCenAttachedChildInstances",
        "DescribeCenAttachedChildInstanceAttribute",
        "DetachCenChildInstance",
        # B §1B V10, §2.3: CEN VBR health check
        "DescribeCenVbrHealthCheck",
        "DisableCenVbrHealthCheck",
        # B §1B V11, §2.3: VBR-table routes pointing at the TR attachment
        "ListCenChildInstanceRouteEntriesToAttachment",
        "DeleteCenChildInstanceRouteEntryToAttachment",
        # B §1B V13, §1C T9, §2.3: grants to transit routers
        "DescribeGrantRulesToResource",
        "RevokeInstanceFromTransitRouter",
        # B §1C T4, §2.3: prefix-list associations
        "ListTransitRouterPrefixListAssociation",
        "DeleteTransitRouterPrefixListAssociation",
        # B §1C T5, §2.3: CEN flow logs
        "DescribeFlowlogs",
        "DeleteFlowlog",
        # B §1C T6: route maps
        "DescribeCenRouteMaps",
        "DeleteCenRouteMap",
    ],
    "Sts": [
        # actions.rs: STS
        "GetCallerIdentity",
        # credentials: RamRoleArn / ChainableRamRoleArn / ram_role_arn
        "AssumeRole",
        # credentials: OIDC / oidc_role_arn / ALIBABA_CLOUD_OIDC_* (an anonymous call)
        "AssumeRoleWithOIDC",
    ],
    "ExpressConnectRouter": [
        # B §1B V8, §2.2: VBR attached to an ECR
        "DescribeExpressConnectRouterChildInstance",
        "DetachExpressConnectRouterChildInstance",
        # B §2.2: the ECR must be ACTIVE for a detach (status read)
        "DescribeExpressConnectRouter",
        # B §1B V13, §2.2: grants of the VBR to an ECR
        "DescribeInstanceGrantedToExpressConnectRouter",
        "RevokeInstanceFromExpressConnectRouter",
    ],
}

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "tests", "data", "api-contract.json")
ACTIONS_RS = os.path.join(REPO, "src", "api", "actions.rs")
REQUIRED_MARK = "This parameter is required."

# ======================================================================================
# Introspection (runs INSIDE the venv)


def _annotation_tree(ann: str, models, resolve_model, path):
    """Turn an annotation string ('List[main_models.X]', 'str', ...) into a type node."""
    ann = ann.strip()
    scalars = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
    if ann in scalars:
        return {"type": scalars[ann]}
    if ann in ("Any", "object", "BinaryIO"):
        return {"type": "any"}
    m = re.fullmatch(r"List\[(.*)\]", ann)
    if m:
        return {"type": "array", "items": _annotation_tree(m.group(1), models, resolve_model, path)}
    m = re.fullmatch(r"Dict\[\s*str\s*,\s*(.*)\]", ann)
    if m:
        inner = m.group(1).strip()
        node = {"type": "map"}
        if inner != "Any":
            node["values"] = _annotation_tree(inner, models, resolve_model, path)
        return node
    if ann == "dict" or ann == "Dict":
        return {"type": "map"}
    m = re.fullmatch(r"main_models\.(\w+)", ann)
    if m:
        return resolve_model(getattr(models, m.group(1)), path)
    raise RuntimeError(f"unknown annotation {ann!r}")


class ModelInfo:
    """Fields of one Tea model: attr -> (wire name, annotation, required)."""

    _cache: dict = {}

    @classmethod
    def of(cls, model):
        if model not in cls._cache:
            cls._cache[model] = cls(model)
        return cls._cache[model]

    def __init__(self, model):
        self.model = model
        sig = inspect.signature(model.__init__)
        self.attrs = [p for p in sig.parameters if p != "self"]
        self.ann = {p: sig.parameters[p].annotation for p in self.attrs}
        self.wire = self._wire_names()
        self.required = self._required()
        missing = [a for a in self.attrs if a not in self.wire]
        if missing:
            raise RuntimeError(f"{model.__name__}: no wire name for {missing}")

    def _wire_names(self):
        """attr -> wire name, from `if self.attr is not None: result['Wire'] ...` in to_map."""
        src = inspect.getsource(self.model.to_map)
        tree = ast.parse(textwrap.dedent(src))
        out = {}
        for node in ast.walk(tree):
            if not isinstance(node, ast.If):
                continue
            t = node.test
            if not (
                isinstance(t, ast.Compare)
                and isinstance(t.left, ast.Attribute)
                and isinstance(t.left.value, ast.Name)
                and t.left.value.id == "self"
                and len(t.ops) == 1
                and isinstance(t.ops[0], ast.IsNot)
            ):
                continue
            attr = t.left.attr
            for sub in ast.walk(node):
                if (
                    isinstance(sub, ast.Subscript)
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id == "result"
                    and isinstance(sub.slice, ast.Constant)
                    and isinstance(sub.slice.value, str)
                ):
                    out.setdefault(attr, sub.slice.value)
                    break
        return out

    def _required(self):
        """attrs whose comment block in __init__ has the generated 'required' line."""
        lines = inspect.getsource(self.model.__init__).splitlines()
        req, comments = set(), []
        for line in lines:
            s = line.strip()
            if s.startswith("#"):
                comments.append(s[1:].strip())
                continue
            m = re.fullmatch(r"self\.(\w+) = (\w+)", s)
            if m:
                if REQUIRED_MARK in comments:
                    req.add(m.group(1))
                comments = []
        return req


class TeaProduct:
    def __init__(self, product, package, module, version):
        import importlib

        self.product, self.package, self.module_name, self.version = product, package, module, version
        self.client_mod = importlib.import_module(module + ".client")
        self.models = importlib.import_module(module + ".models")
        self.methods = self._parse_client()

    # ---- client.py ---------------------------------------------------------------

    def _parse_client(self):
        """action -> description of the sync `<op>_with_options` method."""
        src = inspect.getsource(self.client_mod)
        tree = ast.parse(src)
        out = {}
        for cls in tree.body:
            if not (isinstance(cls, ast.ClassDef) and cls.name == "Client"):
                continue
            for fn in cls.body:
                # `endswith("with_options")`, not "_with_options": the generator glues an
                # acronym-final name to the suffix (`assume_role_with_oidcwith_options`).
                if isinstance(fn, ast.FunctionDef) and fn.name.endswith("with_options"):
                    info = self._parse_method(fn)
                    if info is not None:
                        if info["action"] in out:
                            raise RuntimeError(f"two methods for {info['action']}")
                        out[info["action"]] = info
        return out

    @staticmethod
    def _ann_name(node):
        # main_models.XxxRequest -> XxxRequest
        if isinstance(node, ast.Attribute):
            return node.attr
        if isinstance(node, ast.Constant):
            return node.value.split(".")[-1]
        raise RuntimeError(ast.dump(node))

    def _parse_method(self, fn):
        params = None
        for node in ast.walk(fn):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "Params"
            ):
                params = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
        if params is None or "action" not in params:
            return None
        args = [a for a in fn.args.args if a.arg != "self"]
        req_arg = next((a for a in args if a.arg in ("request", "tmp_req")), None)
        request_model = self._ann_name(req_arg.annotation) if req_arg is not None else None
        response_model = self._ann_name(fn.returns)
        shrink = {}  # shrink attr -> (original attr, wire, style)
        mapping = []  # (location, wire, attr of the (shrink) request)
        whole_to_map = None  # 'query' when the whole request goes through to_map()
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                tgt, val = node.targets[0], node.value
                # request.x_shrink = Utils.array_to_string_with_specified_style(tmp_req.x, 'Wire', 'json')
                if (
                    isinstance(tgt, ast.Attribute)
                    and isinstance(val, ast.Call)
                    and isinstance(val.func, ast.Attribute)
                    and val.func.attr == "array_to_string_with_specified_style"
                ):
                    orig = val.args[0].attr
                    shrink[tgt.attr] = (orig, val.args[1].value, val.args[2].value)
                # query['Wire'] = request.attr   (query | body | body_flat)
                elif (
                    isinstance(tgt, ast.Subscript)
                    and isinstance(tgt.value, ast.Name)
                    and isinstance(tgt.slice, ast.Constant)
                    and isinstance(val, ast.Attribute)
                    and isinstance(val.value, ast.Name)
                    and val.value.id == "request"
                ):
                    loc = {"query": "query", "body": "body", "body_flat": "body"}.get(tgt.value.id)
                    if loc is None:
                        raise RuntimeError(f"{params['action']}: unknown target {tgt.value.id}")
                    mapping.append((loc, tgt.slice.value, val.attr))
                # query = Utils.query(request.to_map())
                elif (
                    isinstance(tgt, ast.Name)
                    and isinstance(val, ast.Call)
                    and isinstance(val.func, ast.Attribute)
                    and val.func.attr == "query"
                    and val.args
                    and isinstance(val.args[0], ast.Call)
                    and isinstance(val.args[0].func, ast.Attribute)
                    and val.args[0].func.attr == "to_map"
                ):
                    whole_to_map = tgt.id
        return {
            "python_method": fn.name,
            "action": params["action"],
            "version": params.get("version"),
            "method": params.get("method"),
            "style": params.get("style"),
            "req_body_type": params.get("req_body_type"),
            "request_model": request_model,
            "response_model": response_model,
            "shrink": shrink,
            "mapping": mapping,
            "whole_to_map": whole_to_map,
        }

    # ---- models ------------------------------------------------------------------

    def model_tree(self, model, path=(), request=False):
        """Type node of a model class, recursively (a model already on `path` is cut)."""
        if model in path:
            return {"type": "object", "recursive": model.__name__}
        path = path + (model,)
        info = ModelInfo.of(model)
        fields = {}
        for attr in info.attrs:
            node = self.type_of(info.ann[attr], path, request)
            if request:
                node["required"] = attr in info.required
            fields[info.wire[attr]] = node
        return {"type": "object", "fields": fields}

    def type_of(self, ann, path=(), request=False):
        return _annotation_tree(
            ann, self.models, lambda m, p: self.model_tree(m, p, request), path
        )

    # ---- one operation -----------------------------------------------------------

    def operation(self, action):
        meth = self.methods[action]
        if meth["version"] != self.version:
            raise RuntimeError(f"{action}: version {meth['version']} != {self.version}")
        req_model = getattr(self.models, meth["request_model"]) if meth["request_model"] else None
        request, wire_params = {}, set()
        if req_model is not None:
            info = ModelInfo.of(req_model)
            if meth["whole_to_map"]:
                entries = [(meth["whole_to_map"], info.wire[a], a) for a in info.attrs]
            else:
                entries = meth["mapping"]
            shrink_model = None
            for loc, wire, attr in entries:
                style = None
                if attr in meth["shrink"]:
                    orig, swire, style = meth["shrink"][attr]
                    if swire != wire:
                        raise RuntimeError(f"{action}: shrink wire {swire} != {wire}")
                    attr = orig
                if attr in info.ann:
                    ann, required = info.ann[attr], attr in info.required
                else:  # only on the shrink model
                    if shrink_model is None:
                        shrink_model = getattr(
                            self.models, meth["request_model"].replace("Request", "ShrinkRequest")
                        )
                    sinfo = ModelInfo.of(shrink_model)
                    ann, required = sinfo.ann[attr], attr in sinfo.required
                node = self.type_of(ann, (), request=True)
                if style is None:
                    style = {"array": "repeatList", "object": "flat", "map": "flat"}.get(
                        node["type"], "simple"
                    )
                node["required"] = required
                node["style"] = style
                node["in"] = loc
                if wire in request and request[wire] != node:
                    raise RuntimeError(f"{action}: {wire} mapped twice, differently")
                request[wire] = node
                if style in ("repeatList", "flat"):
                    wire_params.update(flat_keys(wire, node))
                else:
                    wire_params.add(wire)
        resp_model = getattr(self.models, meth["response_model"])
        rinfo = ModelInfo.of(resp_model)
        if "body" not in rinfo.ann:
            raise RuntimeError(f"{action}: response model has no body")
        response = self.type_of(rinfo.ann["body"])
        observed = self.observe_wire(meth, req_model)
        if observed != wire_params:
            raise RuntimeError(
                f"{action}: static wire params differ from what the SDK sends:\n"
                f"  static only: {sorted(wire_params - observed)}\n"
                f"  sent only:   {sorted(observed - wire_params)}"
            )
        return {
            "product": self.product,
            "version": meth["version"],
            "package": self.package,
            "legacy": False,
            "method": meth["method"],
            "request": request,
            "wire_params": sorted(wire_params),
            "required": sorted(w for w, n in request.items() if n["required"]),
            "response": response,
        }

    # ---- dynamic check: call the SDK with a populated request ----------------------

    def sample(self, ann, path):
        ann = ann.strip()
        if ann == "str":
            return "s"
        if ann == "int":
            return 1
        if ann == "float":
            return 1.5
        if ann == "bool":
            return True
        if ann in ("Any", "object"):
            return "s"
        m = re.fullmatch(r"List\[(.*)\]", ann)
        if m:
            return [self.sample(m.group(1), path)]
        m = re.fullmatch(r"Dict\[\s*str\s*,\s*(.*)\]", ann)
        if m:
            return {"K": self.sample(m.group(1), path)}
        m = re.fullmatch(r"main_models\.(\w+)", ann)
        if m:
            return self.populate(getattr(self.models, m.group(1)), path)
        raise RuntimeError(f"no sample for {ann!r}")

    def populate(self, model, path=()):
        if model in path:
            return None
        info = ModelInfo.of(model)
        kwargs = {a: self.sample(info.ann[a], path + (model,)) for a in info.attrs}
        return model(**kwargs)

    def observe_wire(self, meth, req_model):
        from alibabacloud_tea_openapi import utils_models
        from alibabacloud_tea_openapi.utils import Utils
        from darabonba.runtime import RuntimeOptions

        class Captured(Exception):
            pass

        client = self.client_mod.Client(
            utils_models.Config(
                access_key_id="ak", access_key_secret="sk", region_id="cn-hangzhou", endpoint="127.0.0.1"
            )
        )
        seen = {}

        def fake_call_api(params, req, runtime):
            seen["params"], seen["req"] = params, req
            raise Captured()

        client.call_api = fake_call_api

        # Anonymous operations (AssumeRoleWithOIDC) skip call_api and go to do_rpcrequest.
        def fake_do_rpcrequest(action, version, protocol, method, auth_type, body_type, req, runtime):
            seen["params"], seen["req"] = types.SimpleNamespace(action=action), req
            raise Captured()

        client.do_rpcrequest = fake_do_rpcrequest
        fn = getattr(client, meth["python_method"])
        try:
            if req_model is None:
                fn(RuntimeOptions())
            else:
                fn(self.populate(req_model), RuntimeOptions())
        except Captured:
            pass
        if seen["params"].action != meth["action"]:
            raise RuntimeError(f"{meth['action']}: called {seen['params'].action}")
        keys = set()
        for part in (seen["req"].query, seen["req"].body):
            if part:
                keys.update(Utils.query(part).keys())
        return {normalise_key(k) for k in keys}


def normalise_key(key):
    return ".".join("N" if seg == "1" else seg for seg in key.split("."))


def flat_keys(prefix, node):
    t = node["type"]
    if t == "array":
        return flat_keys(prefix + ".N", node["items"])
    if t == "object":
        if "fields" not in node:  # recursion cut: cannot enumerate
            return [prefix + ".*"]
        out = []
        for wire, sub in node["fields"].items():
            out.extend(flat_keys(prefix + "." + wire, sub))
        return out
    if t == "map":
        return flat_keys(prefix + ".K", node.get("values", {"type": "any"}))
    return [prefix]


def legacy_operation(product, package, req_pkg, action):
    """Operation from aliyun-python-sdk-* (RpcRequest subclasses), or None if absent."""
    import importlib
    import urllib.parse

    try:
        mod = importlib.import_module(f"{req_pkg}.{action}Request")
    except ImportError:
        return None
    cls = getattr(mod, f"{action}Request")
    req = cls()
    request = {}
    for name, fn in sorted(inspect.getmembers(cls, inspect.isfunction)):
        if not name.startswith("set_"):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("add_query_param", "add_body_params")
            ):
                wire = _legacy_key(node.args[0])
                request[wire] = {
                    "type": "string",
                    "required": None,
                    "style": "repeatList" if ".N" in wire else "simple",
                    "in": "query" if node.func.attr == "add_query_param" else "body",
                }
    # Dynamic check: set every scalar param, sign, read the query back.
    for name in request:
        if ".N" not in name:
            getattr(req, "set_" + name)("s")
    url = req.get_url("cn-hangzhou", "ak", "sk")
    sent = set(urllib.parse.parse_qs(urllib.parse.urlparse(url).query).keys())
    sent |= set((req.get_body_params() or {}).keys())
    common = {
        "AccessKeyId", "Action", "Format", "SignatureMethod", "SignatureNonce",
        "SignatureType", "SignatureVersion", "Timestamp", "Version", "Signature",
    }
    expected = {k for k in request if ".N" not in k}
    extra = sent - common - expected
    if extra == {"RegionId"} and "RegionId" not in request:
        request["RegionId"] = {
            "type": "string",
            "required": None,
            "style": "simple",
            "in": "query",
            "note": "no setter: aliyunsdkcore adds RegionId from the client's region",
        }
    elif extra:
        raise RuntimeError(f"{action}: legacy request sent unexpected {sorted(extra)}")
    if not expected <= sent:
        raise RuntimeError(f"{action}: legacy request did not send {sorted(expected - sent)}")
    if (req.get_product(), req.get_action_name()) != (product, action):
        raise RuntimeError(f"{action}: legacy request is {req.get_product()}/{req.get_action_name()}")
    return {
        "product": product,
        "version": req.get_version(),
        "package": package,
        "legacy": True,
        "method": req.get_method(),
        "request": request,
        "wire_params": sorted(request),
        "required": None,
        "response": None,
    }


def _legacy_key(node):
    """'Filter.' + str(depth1 + 1) + '.Key' -> 'Filter.N.Key'."""
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _legacy_key(node.left) + _legacy_key(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
        return "N"
    raise RuntimeError(f"cannot read legacy key {ast.dump(node)}")


def introspect():
    """Runs inside the venv: prints {"operations": ..., "missing": ...} as JSON."""
    operations, missing = {}, {}
    tea = {p: TeaProduct(p, *PRODUCTS[p]) for p in PRODUCTS}
    for product, names in OPERATIONS.items():
        for action in names:
            if action in operations or action in missing:
                raise RuntimeError(f"{action} listed twice")
            t = tea[product]
            if action in t.methods:
                operations[action] = t.operation(action)
                continue
            op = None
            if product in LEGACY:
                op = legacy_operation(product, *LEGACY[product], action)
            if op is not None:
                operations[action] = op
                continue
            others = [p for p, tp in tea.items() if p != product and action in tp.methods]
            why = f"not in {PRODUCTS[product][0]}=={SDK_PACKAGES[PRODUCTS[product][0]]}"
            if product in LEGACY:
                pkg = LEGACY[product][0]
                why += f" nor in {pkg}=={SDK_PACKAGES[pkg]}"
            if others:
                why += f" (but present in {', '.join(PRODUCTS[o][0] for o in others)})"
            missing[action] = why
    json.dump({"operations": operations, "missing": missing}, sys.stdout, sort_keys=True)


# ======================================================================================
# Driver (runs on the host python)


def run(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, **kw)


def actions_rs_names():
    with open(ACTIONS_RS, encoding="utf-8") as f:
        src = f.read()
    return sorted(set(re.findall(r'\ba\(\s*"(\w+)"', src)))


def sanity(contract):
    ops = contract["operations"]
    problems = []
    p = ops.get("ListTransitRouterRouteTablePropagations")
    if not p or "TransitRouterRouteTableId" not in p["required"]:
        problems.append("ListTransitRouterRouteTablePropagations: TransitRouterRouteTableId not required")
    va = ops.get("DescribeVpnAttachments")
    item = None
    if va:
        stack = [va["response"]]
        while stack:
            n = stack.pop()
            f = n.get("fields") or {}
            if "Tag" in f and "Tags" in f:
                item = f
                break
            stack.extend(f.values())
            if "items" in n:
                stack.append(n["items"])
    if item is None or item["Tag"]["type"] != "string":
        problems.append("DescribeVpnAttachments: no item with Tag (string) and Tags")
    for name in actions_rs_names():
        if name not in ops:
            problems.append(f"{name} (src/api/actions.rs) missing from operations")
    listed = {a for names in OPERATIONS.values() for a in names}
    for name in sorted(listed):
        if name not in ops and name not in contract["missing"]:
            problems.append(f"{name} silently dropped")
    for name, op in ops.items():
        want = PRODUCTS[op["product"]][2]
        if op["version"] != want:
            problems.append(f"{name}: version {op['version']} != {want}")
    return problems, item


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--venv", help="venv directory to create/reuse (default: a temp dir, removed)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output JSON (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    ap.add_argument("--introspect", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.introspect:
        introspect()
        return 0

    t0 = time.monotonic()
    venv = args.venv or tempfile.mkdtemp(prefix="decom-contract-venv-")
    py = os.path.join(venv, "bin", "python")
    try:
        if not os.path.exists(py):
            run([sys.executable, "-m", "venv", venv])
        pins = [f"{k}=={v}" for k, v in {**SDK_PACKAGES, **SUPPORT_PACKAGES}.items()]
        run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins])
        freeze = subprocess.run(
            [py, "-m", "pip", "freeze", "--disable-pip-version-check"],
            check=True, capture_output=True, text=True,
        ).stdout
        installed = {}
        for line in freeze.splitlines():
            if "==" in line:
                k, v = line.split("==", 1)
                installed[k.lower().replace("_", "-")] = v
        for k, v in {**SDK_PACKAGES, **SUPPORT_PACKAGES}.items():
            if installed.get(k) != v:
                raise SystemExit(f"{k}: installed {installed.get(k)}, pinned {v}")
        out = run(
            [py, os.path.abspath(__file__), "--introspect"],
            capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"},
        ).stdout
    finally:
        if not args.venv:
            shutil.rmtree(venv, ignore_errors=True)
    data = json.loads(out)
    contract = {
        "format": 1,
        "generated_by": "scripts/contract/generate.py",
        "packages": dict(SDK_PACKAGES),
        "support_packages": dict(SUPPORT_PACKAGES),
        "missing": data["missing"],
        "operations": data["operations"],
    }
    text = json.dumps(contract, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    problems, tag_item = sanity(contract)
    ops = contract["operations"]
    print(f"operations: {len(ops)} ({sum(1 for o in ops.values() if o['legacy'])} legacy)")
    print(f"missing: {json.dumps(contract['missing'], sort_keys=True)}")
    print(
        "ListTransitRouterRouteTablePropagations required:",
        ops.get("ListTransitRouterRouteTablePropagations", {}).get("required"),
    )
    if tag_item:
        print("DescribeVpnAttachments item: Tag", tag_item["Tag"]["type"], "/ Tags", tag_item["Tags"]["type"])
    print(f"actions.rs names checked: {len(actions_rs_names())}")
    print(f"took {time.monotonic() - t0:.1f}s")
    if problems:
        for p in problems:
            print("SANITY FAIL:", p, file=sys.stderr)
        return 1
    if args.check:
        try:
            with open(args.out, encoding="utf-8") as f:
                same = f.read() == text
        except FileNotFoundError:
            same = False
        print(f"{args.out}: {'up to date' if same else 'DIFFERS'}")
        return 0 if same else 1
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {args.out} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
