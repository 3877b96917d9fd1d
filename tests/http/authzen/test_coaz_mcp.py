"""An MCP gateway following the COAZ MCP binding (coaz-mcp-binding-1_0.md) asks PolicyHub whether a tool
call may run, and the ``ai_content`` detectors apply to the tool's arguments.

The gateway here is the binding's PEP, reduced to what the example needs: it selects the tool's declared
``x-authzen-mapping`` (else the default ``tools/call`` mapping), resolves literals and ``$`` expressions
against ``params`` and the token's claims (simple field paths and ``.?`` optional selection stand in for
CEL), anchors ``subject.id`` to ``token.sub``, calls the Access Evaluation API, and answers a deny as the
JSON-RPC error ``-32001`` (message from the decision's reasons).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import OrgClient

pytestmark = pytest.mark.xdist_group("authzen")

TOKEN = {"sub": "alice@example.com", "client_id": "https://agents.example.com/helper", "aud": "https://mcp.example.com"}

#: The MCP server's tools/list: crm_note declares a mapping that passes its arguments to the PDP.
TOOLS = {
    "crm_note": {
        "x-authzen-mapping": {
            "evaluation": {
                "subject": {"type": "identity", "id": "$token.sub"},
                "action": {"name": "tools/call"},
                "resource": {"type": "tool", "id": "$params.name", "properties": {"arguments": "$params.arguments"}},
                "context": {"agent": "$token.?client_id"},
            }
        }
    },
    "drop_tables": {},  # no declared mapping: the default tools/call mapping
}
DEFAULT_TOOLS_CALL = {
    "evaluation": {
        "subject": {"type": "identity", "id": "$token.sub"},
        "context": {"agent": "$token.?client_id"},
        "action": {"name": "tools/call"},
        "resource": {"type": "tool", "id": "$params.name"},
    }
}

#: The policy: tool arguments carrying personal data or secrets are refused (a deny overrides); identities
#: may call the crm_* tools; nothing else is allowed.
RULES = {
    "rules": [
        {
            "id": "no-pii-or-secrets-in-tool-arguments",
            "effect": "deny",
            "action": {"name": "tools/call"},
            "when": [{"path": "resource.properties.arguments", "detects": ["pii", "secrets"]}],
            "reason": "the tool arguments carry personal data or a secret",
        },
        {
            "id": "crm-tools",
            "subject": {"type": "identity"},
            "action": {"name": "tools/call"},
            "resource": {"type": "tool", "id": "crm_*"},
        },
    ]
}

_ABSENT = object()


def resolve(template: Any, variables: dict[str, Any]) -> Any:
    """Literals verbatim; ``$a.b`` a field path into the variables (``.?`` optional: absent if missing)."""
    if isinstance(template, dict):
        out = {k: resolve(v, variables) for k, v in template.items()}
        return {k: v for k, v in out.items() if v is not _ABSENT}
    if not isinstance(template, str) or not template.startswith("$"):
        return template
    if template.startswith("$$"):
        return template[1:]
    value: Any = variables
    for part in template[1:].split("."):
        optional = part.startswith("?")
        if not isinstance(value, dict) or part.lstrip("?") not in value:
            if optional:
                return _ABSENT
            raise LookupError(f"COAZ mapping error: expression {template!r} failed")
        value = value[part.lstrip("?")]
    return value


def gateway(org: OrgClient, message: dict[str, Any]) -> dict[str, Any]:
    """The PEP: a JSON-RPC tools/call in, the forwarded result or a JSON-RPC error out."""
    params = message["params"]
    mapping = TOOLS.get(params["name"], {}).get("x-authzen-mapping", DEFAULT_TOOLS_CALL)
    request = resolve(mapping["evaluation"], {"params": params, "token": TOKEN})
    if request["subject"]["id"] != TOKEN["sub"]:  # the subject is anchored to the token
        return {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32602, "message": "COAZ mapping error"}}
    r = org.client.post(f"/orgs/{org.slug}/access/v1/evaluation", json=request, headers=org.headers())
    if r.status_code != 200:
        return {
            "jsonrpc": "2.0",
            "id": message["id"],
            "error": {"code": -32603, "message": "Authorization service unavailable"},
        }
    answer = r.json()
    if not answer["decision"]:
        reasons = answer.get("context", {}).get("reasons") or ["denied"]
        error = {"code": -32001, "message": f"Access denied: {reasons[0]}", "data": answer.get("context", {})}
        return {"jsonrpc": "2.0", "id": message["id"], "error": error}
    return {"jsonrpc": "2.0", "id": message["id"], "result": {"content": [{"type": "text", "text": "ran"}]}}


def call(tool: str, arguments: dict[str, Any], request_id: int = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


def test_an_mcp_gateway_asks_whether_a_tool_call_may_run(org: OrgClient) -> None:
    assert org.post("policies", json={"name": "mcp-tools", "type": "access_rules", "spec": RULES}).status_code == 201

    ran = gateway(org, call("crm_note", {"customer": "cust-12345", "note": "renewal next week"}))
    assert ran["result"]["content"][0]["text"] == "ran"

    leaked = gateway(org, call("crm_note", {"customer": "cust-12345", "note": "mail ann.smith@acme-corp.com"}, 2))
    assert leaked["id"] == 2 and leaked["error"]["code"] == -32001
    assert "personal data or a secret" in leaked["error"]["message"]
    secret = gateway(org, call("crm_note", {"customer": "cust-1", "extra": {"key": "AKIAZ7QK3M5N2P4R6T8V"}}, 3))
    assert secret["error"]["code"] == -32001

    # a tool without a declared mapping: the default mapping (no arguments); only crm_* tools are allowed
    assert gateway(org, call("drop_tables", {"all": True}, 4))["error"]["code"] == -32001

    # the decision log has the denial, with the e-mail address masked
    decision_id = leaked["error"]["data"]["decision_id"]
    org.container.decisions.log.flush()  # the record was queued before the answer was sent
    logged = org.get(f"decisions/{decision_id}")
    assert logged.status_code == 200, logged.text
    kept = logged.json()["input"]["resource"]["properties"]["arguments"]
    assert kept["customer"] == "cust-12345" and "ann.smith@acme-corp.com" not in kept["note"]
    assert logged.json()["decision"] == "deny" and logged.json()["source"] == "authzen"
