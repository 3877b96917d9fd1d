"""Pure translations between core records and Apinizer's wire shapes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from policyhub.domain.canonical import iso
from policyhub.domain.records import Policy, Scope
from policyhub.http.compat.apinizer import placement
from policyhub.http.compat.apinizer.placement import Slot
from policyhub.policy_types.apinizer import join_apinizer_policy
from policyhub.storage.repositories.resources import Resource

PROJECT_KIND = "apinizer_project"
PROXY_KIND = "api_proxy"
ENVIRONMENT_KIND = "apinizer.environment"
PIPELINE_LISTS = (("REQUEST", "requestPolicyList"), ("RESPONSE", "responsePolicyList"), ("ERROR", "errorPolicyList"))


# -- policies ----------------------------------------------------------------------------------------
def core_body(
    core_name: str, spec: dict[str, Any], placed: dict[str, Any], current: Policy | None = None
) -> dict[str, Any]:
    """The core policy document for an Apinizer policy.

    ``description`` and ``active`` are mirrored into the core's ``description`` and ``enabled``;
    labels, enforcement and other vendors' attributes set through ``/v1`` are kept on update.
    """
    description = spec.get("description")
    active = spec.get("active", True)
    body: dict[str, Any] = {
        "name": core_name,
        "description": description if isinstance(description, str) else "",
        "spec": spec,
        "enabled": active if isinstance(active, bool) else True,
        "attributes": {**(current.attributes if current else {}), "apinizer": placed},
    }
    if current is not None:
        body["labels"] = current.labels
        body["enforcement"] = current.enforcement.value
    return body


def policy_out(policy: Policy) -> dict[str, Any]:
    """A list item: Apinizer's policy object (type, name, then the stored fields)."""
    return join_apinizer_policy(policy.type, policy.spec, name=placement.apinizer_name(policy))


def _lists(policies: Sequence[Policy], scope: str, endpoint: str | None, method: str | None) -> dict[str, Any]:
    return {
        key: [policy_out(p) for p in placement.ordered(policies, Slot(scope, pipeline, endpoint, method))]
        for pipeline, key in PIPELINE_LISTS
    }


def proxy_policies_out(proxy: Scope, policies: Sequence[Policy]) -> dict[str, Any]:
    """One ``resultList`` item of List Policies: the proxy's pipelines, then each endpoint's."""
    attrs = proxy_attrs(proxy)
    endpoints = [
        {"endpoint": e["endpoint"], "httpMethod": e["httpMethod"], "active": e.get("active", True)}
        | _lists(policies, "ENDPOINT", e["endpoint"], e["httpMethod"])
        for e in attrs["endpointList"]
    ]
    return {
        "name": proxy.key,
        "type": attrs["type"],
        "relativePath": attrs["relativePath"],
        "soapToRest": False,
        **_lists(policies, "ALL", None, None),
        "endpointList": endpoints,
    }


# -- projects, proxies, environments -----------------------------------------------------------------
def proxy_attrs(proxy: Scope) -> dict[str, Any]:
    """The proxy scope's ``attributes["apinizer"]`` with defaults for anything missing."""
    raw = proxy.attributes.get("apinizer")
    attrs = raw if isinstance(raw, dict) else {}
    endpoints = attrs.get("endpointList")
    return {
        "description": attrs.get("description", ""),
        "type": attrs.get("type", "REST"),
        "relativePath": attrs.get("relativePath", f"/{proxy.key}"),
        "endpointList": [e for e in endpoints if isinstance(e, dict)] if isinstance(endpoints, list) else [],
    }


def has_endpoint(proxy: Scope, slot: Slot) -> bool:
    return any(
        e.get("endpoint") == slot.endpoint and e.get("httpMethod") == slot.method
        for e in proxy_attrs(proxy)["endpointList"]
    )


def project_out(scope: Scope) -> dict[str, Any]:
    raw = scope.attributes.get("apinizer")
    description = raw.get("description", "") if isinstance(raw, dict) else ""
    return {"id": scope.id, "name": scope.key, "description": description}


def proxy_out(project: str, proxy: Scope) -> dict[str, Any]:
    """A List API Proxies item (``name, description, type, relativePath, soapToRest``) plus PolicyHub's
    ``id``, ``projectName`` and ``endpointList``. PolicyHub has no SOAP/REST transformation: ``soapToRest``
    is false."""
    attrs = proxy_attrs(proxy)
    return {"id": proxy.id, "name": proxy.key, "projectName": project, **attrs, "soapToRest": False}


def proxy_detail(project: str, proxy: Scope) -> dict[str, Any]:
    """Get API Proxy's object (not wrapped in a result list). PolicyHub routes no traffic, so ``routing`` is
    off with no addresses, and it records no gateway deployments, so ``deploymentList`` is empty."""
    attrs = proxy_attrs(proxy)
    return {
        "name": proxy.key,
        "description": attrs["description"],
        "apiType": attrs["type"],
        "categoryList": [],
        "sharingType": "PROJECT",
        "clientRoute": {"relativePathList": [attrs["relativePath"]], "virtualHostList": []},
        "routing": {"routingEnabled": False, "routingAddressList": []},
        "deploymentList": [],
        # PolicyHub additions
        "id": proxy.id,
        "projectName": project,
        "relativePath": attrs["relativePath"],
        "soapToRest": False,
        "endpointList": attrs["endpointList"],
    }


def endpoints_out(proxy: Scope) -> list[dict[str, Any]]:
    """List Endpoints items. Endpoints have no id of their own here: ``id`` is a UUID derived from the proxy
    and (method, path), stable across calls. PolicyHub forwards nothing, so the backend fields repeat the
    endpoint's own path and method."""
    return [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{proxy.id}/{e['httpMethod']} {e['endpoint']}")),
            "endpoint": e["endpoint"],
            "description": "",
            "active": e.get("active", True),
            "httpMethod": e["httpMethod"],
            "backendResourceUrl": e["endpoint"],
            "backendHttpMethod": e["httpMethod"],
        }
        for e in proxy_attrs(proxy)["endpointList"]
    ]


def environment_out(env: Resource) -> dict[str, Any]:
    """The documented environment object (``name, description, type, status, accessUrl, deployed,
    redeployRequired``) plus PolicyHub's ``id``, ``createdAt`` and ``createdBy``. An environment is always
    ``PUBLISHED`` (deployable); PolicyHub tracks no gateway deployments, so the last two are null."""
    data = env.data
    return {
        "name": env.key,
        "description": data.get("description", ""),
        "type": data.get("type"),
        "status": "PUBLISHED",
        "accessUrl": data.get("accessUrl", ""),
        "deployed": None,
        "redeployRequired": None,
        "id": env.id,
        "createdAt": iso(env.created_at),
        "createdBy": env.created_by,
    }


def result_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status": "SUCCESS", "resultList": items, "resultCount": len(items)}


def success_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The envelope the environment pages document (``success`` where other pages have ``status``)."""
    return {"success": True, "resultList": items, "resultCount": len(items)}
