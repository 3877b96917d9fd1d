"""6. Authorization matrix: every endpoint of the OpenAPI document x seven callers.

Callers: the org's admin, an editor, a viewer, an editor key bound to another scope (``zone-b``; the
objects live at the org level), another org's admin, a revoked admin key, no key. Each endpoint has an
expectation string (``EXPECT``) in that order: ``2`` 2xx, ``3`` 403, ``4`` 404, ``1`` 401, ``L`` 200 and
the answer names none of the org's objects, ``N`` 2xx naming none of them (a create or an evaluation
in the caller's own org), ``9`` 409 (another org's object named in a body is as
unknown as a missing one). Every call is prepared afresh (a write by one caller
cannot spoil the next). Wherever another org's admin gets a 404, the same request for an object (or
org) that never existed must get a byte-identical answer once the identifiers are swapped back.

The endpoint list comes from the server's own ``/openapi.json``. An endpoint without a recipe here is
still checked for what holds everywhere (401 without or with a revoked key; another org's 404 where the
org is in the path) and is listed in the figures as "generic only" until someone writes its recipe.
"""

from __future__ import annotations

import json
import random
import string
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from reliability.context import Context
from reliability.fixtures import Key, issue_key, new_org, revoke_key, servers
from reliability.report import Checks, Result
from reliability.servers import ORG, TOKEN, ServerProcess

ROLES = ("admin", "editor", "viewer", "scoped", "other", "revoked", "none")
V1 = f"/v1/orgs/{ORG}"
JF = "/unifiedpolicy/api/v1"
SEED_YAML = "_schema: https://kosli.com/schemas/policy/environment/v1\nartifacts:\n  provenance:\n    required: false\n"
REGO = (
    "package curation.policies\n\nimport rego.v1\n\n"
    'default allow := {"should_allow": false, "explanation": "no"}\n\n'
    'allow := {"should_allow": true, "explanation": "ok"} if {\n    input.params.max_vulns >= 0\n}\n'
)
THROTTLING = {
    "type": "policy-api-based-throttling",
    "description": "Throttling policy",
    "active": True,
    "targetVariableForIdentity": {"type": "HEADER", "headerName": "X-API-Key"},
    "messageCountForInterval": 100,
    "throttlingInterval": "ONE_MINUTE",
    "intervalPeriodLength": 1,
    "intervalWindowType": "FIXED",
}
META = {"targetScope": "ALL", "targetPipeline": "REQUEST", "deploy": False}
FINGERPRINT = "a" * 64
CARD = "4111 1111 1111 1111"


def uniq(prefix: str = "m") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Call:
    method: str
    path: str
    json: Any = None
    files: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)  # the org's identifiers this call names (or must not leak)


class World:
    """Creates fresh objects in org ``acme`` with the admin key, for one call at a time."""

    def __init__(self, server: ServerProcess) -> None:
        self.c = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        self.agent = issue_key(server, "agent")  # reports agents' status (no caller of the matrix is an agent)

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        r = self.c.request(method, path, **kw)
        if r.status_code >= 300:
            raise RuntimeError(f"setup {method} {path}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    # core
    def policy(self, archived: bool = False) -> dict[str, Any]:
        p = self.ok("POST", f"{V1}/policies", json={"name": uniq("pol"), "type": "document", "spec": {"n": 1}})
        self.ok(
            "PATCH",
            f"{V1}/policies/{p['id']}",
            json={"spec": {"n": 2}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        if archived:
            self.ok("DELETE", f"{V1}/policies/{p['id']}")
        return dict(p)

    def scope(self) -> dict[str, Any]:
        return dict(self.ok("POST", f"{V1}/scopes", json={"kind": "team", "key": uniq("sc")}))

    def principal(self) -> dict[str, Any]:
        return dict(self.ok("POST", f"{V1}/principals", json={"kind": "service_account", "display_name": uniq()}))

    def key(self) -> dict[str, Any]:
        return dict(self.ok("POST", f"{V1}/keys", json={"principal_id": self.principal()["id"], "role": "viewer"}))

    def schema(self) -> str:
        name = uniq("schema")
        self.ok("PUT", f"{V1}/document-schemas/{name}", json={"type": "object"})
        return name

    def decision(self) -> str:
        """A decision's id once the decision log (written after the answer) holds it."""
        return self.logged(self.ok("POST", f"{V1}/decisions", json={"point": "http_request", "input": {"path": "/x"}}))

    def logged(self, decision: dict[str, Any]) -> str:
        """The id of a decision just answered, once the decision log (written after the answer) holds it."""
        found = str(decision["id"])
        for _ in range(100):
            if self.c.get(f"{V1}/decisions/{found}").status_code == 200:
                break
            time.sleep(0.05)
        return found

    # rollout
    def environment(self) -> str:
        """A rollout environment receiving the org-level policies only (no scopes)."""
        name = uniq("renv")
        self.ok("PUT", f"{V1}/environments/{name}", json={"scopes": []})
        return name

    def reported_agent(self) -> tuple[str, str]:
        """An agent that reported its status (with the agent key) for a fresh environment: (agent, environment)."""
        env, agent = self.environment(), uniq("agent")
        self.ok(
            "POST",
            f"{V1}/agents/{agent}/status",
            json={"environment": env, "revision": 0},
            headers={"Authorization": f"Bearer {self.agent.token}"},
        )
        return agent, env

    # kosli
    def kosli_policy(self) -> str:
        name = uniq("kp")
        files = {
            "payload": (None, json.dumps({"name": name, "type": "env", "description": "d"})),
            "policy_file": ("p.yml", SEED_YAML.encode(), "application/octet-stream"),
        }
        self.ok("PUT", f"/api/v2/policies/{ORG}", files=files)
        return name

    def kosli_env(self) -> str:
        name = uniq("env")
        self.ok("PUT", f"/api/v2/environments/{ORG}", json={"name": name, "type": "K8S", "description": "d"})
        return name

    def kosli_attached(self) -> tuple[str, str]:
        """An environment with a policy attached: (environment, policy)."""
        env, policy = self.kosli_env(), self.kosli_policy()
        self.ok("POST", f"/api/v2/environments/{ORG}/{env}/policies", json={"policy_names": [policy]})
        return env, policy

    # jfrog
    def template_body(self) -> dict[str, Any]:
        return {
            "name": uniq("tpl"),
            "description": "d",
            "version": "1.0.0",
            "category": "security",
            "data_source_type": "evidence",
            "rego": REGO,
            "parameters": [{"name": "max_vulns", "type": "int"}],
        }

    def template(self) -> str:
        return str(self.ok("POST", f"{JF}/templates", json=self.template_body())["id"])

    def rule_body(self) -> dict[str, Any]:
        return {
            "name": uniq("rule"),
            "description": "d",
            "template_id": self.template(),
            "parameters": [{"name": "max_vulns", "value": "3"}],
        }

    def rule(self) -> str:
        return str(self.ok("POST", f"{JF}/rules", json=self.rule_body())["id"])

    def jf_policy_body(self) -> dict[str, Any]:
        return {
            "name": uniq("jp"),
            "description": "d",
            "enabled": True,
            "mode": "block",
            "action": {"type": "certify_to_gate", "stage": {"key": "production", "gate": "entry"}},
            "scope": {"type": "project", "project_keys": ["my-project"]},
            "rule_ids": [self.rule()],
        }

    def jf_policy(self) -> str:
        return str(self.ok("POST", f"{JF}/policies", json=self.jf_policy_body())["id"])

    def evaluation_body(self) -> dict[str, Any]:
        """An evaluation at the gate ``jf_policy`` guards (stage production, entry, project my-project)."""
        return {
            "action": {"type": "certify_to_gate", "stage": {"key": "production", "gate": "entry"}},
            "resource": {
                "identifier": {"type": "application_version", "key": uniq("app"), "version": "1.0.0"},
                "hierarchy": {"project": {"key": "my-project"}},
            },
            "data": {},
        }

    def evaluation(self) -> tuple[str, str]:
        """An evaluation of a fresh JFrog policy: (evaluation id, policy id)."""
        policy = self.jf_policy()
        return str(self.ok("POST", f"{JF}/evaluations", json=self.evaluation_body())["id"]), policy

    # syftspace
    def endpoint(self) -> str:
        return str(self.ok("POST", "/syftspace/endpoints/", json={"name": "ep", "slug": uniq("ep")})["id"])

    def endpoint_slug(self) -> str:
        slug = uniq("ep")
        self.ok("POST", "/syftspace/endpoints/", json={"name": "ep", "slug": slug})
        return slug

    def syft_policy_body(self) -> dict[str, Any]:
        return {
            "name": uniq("sp"),
            "policy_type": "rate_limit",
            "configuration": {"limit": "100/m"},
            "endpoint_id": self.endpoint(),
        }

    def syft_policy(self) -> str:
        return str(self.ok("POST", "/syftspace/policies/", json=self.syft_policy_body())["id"])

    # apinizer
    def project(self) -> str:
        name = uniq("proj")
        self.ok("POST", "/apiops/projects/", json={"name": name})
        return name

    def proxy(self) -> tuple[str, str]:
        project, name = self.project(), uniq("api")
        self.ok(
            "POST",
            f"/apiops/projects/{project}/apiProxies/",
            json={"name": name, "endpointList": [{"endpoint": "/users", "httpMethod": "GET"}]},
        )
        return project, name

    def api_policy(self) -> tuple[str, str, str]:
        project, proxy = self.proxy()
        name = uniq("ap")
        self.ok(
            "POST",
            f"/apiops/projects/{project}/apiProxies/{proxy}/policies/{name}/",
            json={"operationMetadata": META, "policy": THROTTLING},
        )
        return project, proxy, name

    # flashback
    def fb_body(self) -> dict[str, Any]:
        return {"name": uniq("fb"), "content": "Never paste keys.", "riskType": "HIGH", "actionType": 2}

    def fb_policy(self) -> str:
        return str(self.ok("POST", "/policy", json=self.fb_body())["policy"]["id"])

    def fb_workspace_policy(self) -> tuple[str, str]:
        """A Flashback policy attached to a fresh workspace (the org's recommendations name it): (policy, workspace)."""
        workspace = str(self.ok("POST", f"{V1}/scopes", json={"kind": "workspace", "key": uniq("ws")})["id"])
        policy = self.ok("POST", "/policy", json={**self.fb_body(), "workspaceId": workspace})["policy"]["id"]
        return str(policy), workspace

    def fb_violation(self) -> tuple[str, str]:
        """A blocking (so alerting) card-number policy and a logged ``ai_content`` decision that violates it:
        (policy id, decision id)."""
        body = {"name": uniq("fb"), "content": "Never share credit card numbers.", "riskType": "HIGH", "actionType": 2}
        policy = str(self.ok("POST", "/policy", json=body)["policy"]["id"])
        asked = {"point": "ai_content", "input": {"content": f"my card is {CARD}"}}
        return policy, self.logged(self.ok("POST", f"{V1}/decisions", json=asked))


def _kosli_put(w: World) -> Call:
    name = uniq("kp")
    files = {
        "payload": (None, json.dumps({"name": name, "type": "env", "description": "d"})),
        "policy_file": ("p.yml", SEED_YAML.encode(), "application/octet-stream"),
    }
    return Call("PUT", f"/api/v2/policies/{ORG}", files=files)


def _policy_call(
    method: str, suffix: str = "", body: Any = None, archived: bool = False, **kw: Any
) -> Callable[[World], Call]:
    def make(w: World) -> Call:
        p = w.policy(archived=archived)
        return Call(method, f"{V1}/policies/{p['id']}{suffix}", json=body, ids=[p["id"], p["name"]], **kw)

    return make


def _fixed_call(method: str, path: str, body: Any, ids: list[str] | None = None) -> Callable[[World], Call]:
    """A call that needs no fresh object."""
    return lambda w: Call(method, path, json=body, ids=list(ids or []))


MERGE = {"description": "changed"}
SUBJECT, RESOURCE, ACTION = {"type": "user", "id": "alice"}, {"type": "doc", "id": "d1"}, {"name": "read"}
AUTHZEN: dict[str, dict[str, Any]] = {
    "evaluation": {"subject": SUBJECT, "resource": RESOURCE, "action": ACTION},
    "evaluations": {"subject": SUBJECT, "evaluations": [{"resource": RESOURCE, "action": ACTION}]},
    "search/subject": {"subject": {"type": "user"}, "resource": RESOURCE, "action": ACTION},
    "search/resource": {"subject": SUBJECT, "resource": {"type": "doc"}, "action": ACTION},
    "search/action": {"subject": SUBJECT, "resource": RESOURCE},
}
# (method, path template) -> (expectation per ROLES, recipe). Expectations follow how the product authorises:
# viewer may read, editor may write policies (and vendor objects), admin everything; a key bound to a scope sees
# only its subtree (org-level objects are 404 to it, org-level creation 403); another org's admin gets 404.
RECIPES: dict[tuple[str, str], tuple[str, Callable[[World], Call]]] = {
    ("GET", "/healthz"): ("2222222", lambda w: Call("GET", "/healthz")),
    ("GET", "/readyz"): ("2222222", lambda w: Call("GET", "/readyz")),
    ("GET", "/metrics"): ("2222222", lambda w: Call("GET", "/metrics")),
    ("GET", "/v1/policy-types"): ("2222211", lambda w: Call("GET", "/v1/policy-types")),
    # public by design: the keys that verify rollout bundles, and an AuthZEN PDP's metadata (as the spec says)
    ("GET", "/v1/bundle-keys"): ("2222222", lambda w: Call("GET", "/v1/bundle-keys")),
    ("GET", "/.well-known/authzen-configuration/orgs/{org}"): (
        "2222222",
        lambda w: Call("GET", f"/.well-known/authzen-configuration/orgs/{ORG}"),
    ),
    ("GET", "/.well-known/authzen-configuration/orgs/{org}/scopes/{scope}"): (
        "2222222",
        lambda w: Call("GET", f"/.well-known/authzen-configuration/orgs/{ORG}/scopes/{w.scope()['path']}"),
    ),
    ("GET", "/v1/policy-types/{name}"): ("2222211", lambda w: Call("GET", "/v1/policy-types/document")),
    # org and administration
    ("GET", "/v1/orgs/{org}"): ("2222411", lambda w: Call("GET", V1)),
    ("PATCH", "/v1/orgs/{org}/settings"): (
        "2333411",
        lambda w: Call("PATCH", f"{V1}/settings", json={"require_if_match": False}),
    ),
    ("POST", "/v1/orgs/{org}/principals"): (
        "2333411",
        lambda w: Call("POST", f"{V1}/principals", json={"kind": "user", "display_name": "New"}),
    ),
    ("GET", "/v1/orgs/{org}/principals"): ("2333411", lambda w: Call("GET", f"{V1}/principals")),
    ("POST", "/v1/orgs/{org}/keys"): (
        "2333411",
        lambda w: Call(
            "POST", f"{V1}/keys", json={"principal_id": (p := w.principal())["id"], "role": "viewer"}, ids=[p["id"]]
        ),
    ),
    ("GET", "/v1/orgs/{org}/keys"): ("2333411", lambda w: Call("GET", f"{V1}/keys")),
    ("GET", "/v1/orgs/{org}/keys/{key_id}"): (
        "2333411",
        lambda w: Call("GET", f"{V1}/keys/{(k := w.key())['id']}", ids=[k["id"]]),
    ),
    ("DELETE", "/v1/orgs/{org}/keys/{key_id}"): (
        "2333411",
        lambda w: Call("DELETE", f"{V1}/keys/{(k := w.key())['id']}", ids=[k["id"]]),
    ),
    ("GET", "/v1/orgs/{org}/document-schemas"): ("2222411", lambda w: Call("GET", f"{V1}/document-schemas")),
    ("GET", "/v1/orgs/{org}/document-schemas/{name}"): (
        "2222411",
        lambda w: Call("GET", f"{V1}/document-schemas/{(n := w.schema())}", ids=[n]),
    ),
    ("PUT", "/v1/orgs/{org}/document-schemas/{name}"): (
        "2333411",
        lambda w: Call("PUT", f"{V1}/document-schemas/{uniq('schema')}", json={"type": "object"}),
    ),
    ("DELETE", "/v1/orgs/{org}/document-schemas/{name}"): (
        "2333411",
        lambda w: Call("DELETE", f"{V1}/document-schemas/{(n := w.schema())}", ids=[n]),
    ),
    ("GET", "/v1/orgs/{org}/audit/verify"): ("2333411", lambda w: Call("GET", f"{V1}/audit/verify")),
    ("GET", "/v1/orgs/{org}/events"): ("2223411", lambda w: Call("GET", f"{V1}/events")),
    # scopes
    ("POST", "/v1/orgs/{org}/scopes"): (
        "2333411",
        lambda w: Call("POST", f"{V1}/scopes", json={"kind": "team", "key": uniq("sc")}),
    ),
    ("GET", "/v1/orgs/{org}/scopes"): ("222L411", lambda w: Call("GET", f"{V1}/scopes", ids=[w.scope()["path"]])),
    ("GET", "/v1/orgs/{org}/scopes/{ref}"): (
        "2224411",
        lambda w: Call("GET", f"{V1}/scopes/{(s := w.scope())['id']}", ids=[s["id"]]),
    ),
    ("DELETE", "/v1/orgs/{org}/scopes/{ref}"): (
        "2334411",
        lambda w: Call("DELETE", f"{V1}/scopes/{(s := w.scope())['id']}", ids=[s["id"]]),
    ),
    # policies
    ("POST", "/v1/orgs/{org}/policies"): (
        "2233411",
        lambda w: Call("POST", f"{V1}/policies", json={"name": uniq("pol"), "type": "document", "spec": {}}),
    ),
    ("GET", "/v1/orgs/{org}/policies"): (
        "222L411",
        lambda w: Call("GET", f"{V1}/policies", ids=[(p := w.policy())["id"], p["name"]]),
    ),
    ("GET", "/v1/orgs/{org}/policies/{ref}"): ("2224411", _policy_call("GET")),
    ("PUT", "/v1/orgs/{org}/policies/{ref}"): ("2234411", _policy_call("PUT", body={"spec": {"n": 3}})),
    ("PATCH", "/v1/orgs/{org}/policies/{ref}"): (
        "2234411",
        lambda w: Call("PATCH", f"{V1}/policies/{(p := w.policy())['id']}", json=MERGE, ids=[p["id"], p["name"]]),
    ),
    ("DELETE", "/v1/orgs/{org}/policies/{ref}"): ("2234411", _policy_call("DELETE")),
    ("POST", "/v1/orgs/{org}/policies/{ref}/unarchive"): ("2234411", _policy_call("POST", "/unarchive", archived=True)),
    ("GET", "/v1/orgs/{org}/policies/{ref}/versions"): ("2224411", _policy_call("GET", "/versions")),
    ("GET", "/v1/orgs/{org}/policies/{ref}/versions/{number}"): ("2224411", _policy_call("GET", "/versions/1")),
    ("GET", "/v1/orgs/{org}/policies/{ref}/diff"): ("2224411", _policy_call("GET", "/diff", params={"from": 1})),
    ("POST", "/v1/orgs/{org}/policies/{ref}/rollback"): (
        "2234411",
        _policy_call("POST", "/rollback", body={"version": 1}),
    ),
    ("GET", "/v1/orgs/{org}/policies/{ref}/events"): ("2224411", _policy_call("GET", "/events")),
    # decisions
    ("POST", "/v1/orgs/{org}/decisions"): (
        "2223411",
        lambda w: Call("POST", f"{V1}/decisions", json={"point": "http_request", "input": {"path": "/x"}}),
    ),
    # A batch is authorised item by item: the scoped key's org-level item fails alone (403 in its place).
    ("POST", "/v1/orgs/{org}/decisions/batch"): (
        "2222411",
        lambda w: Call(
            "POST", f"{V1}/decisions/batch", json={"requests": [{"point": "http_request", "input": {"path": "/x"}}]}
        ),
    ),
    ("GET", "/v1/orgs/{org}/decisions"): ("222L411", lambda w: Call("GET", f"{V1}/decisions")),
    ("GET", "/v1/orgs/{org}/decisions/{decision_id}"): (
        "2224411",
        lambda w: Call("GET", f"{V1}/decisions/{(d := w.decision())}", ids=[d]),
    ),
    # rollout: environments are org-level (viewer reads, editor writes; a key bound to a scope is refused before
    # any lookup, so 403). A bundle of an environment without scopes, and the change feed, are the whole org's.
    ("PUT", "/v1/orgs/{org}/environments/{env}"): (
        "2233411",
        lambda w: Call("PUT", f"{V1}/environments/{uniq('renv')}", json={"scopes": []}),
    ),
    ("GET", "/v1/orgs/{org}/environments"): (
        "2223411",
        lambda w: Call("GET", f"{V1}/environments", ids=[w.environment()]),
    ),
    ("GET", "/v1/orgs/{org}/environments/{env}"): (
        "2223411",
        lambda w: Call("GET", f"{V1}/environments/{(e := w.environment())}", ids=[e]),
    ),
    ("DELETE", "/v1/orgs/{org}/environments/{env}"): (
        "2233411",
        lambda w: Call("DELETE", f"{V1}/environments/{(e := w.environment())}", ids=[e]),
    ),
    ("GET", "/v1/orgs/{org}/environments/{env}/status"): (
        "2223411",
        lambda w: Call("GET", f"{V1}/environments/{(ae := w.reported_agent())[1]}/status", ids=list(ae)),
    ),
    ("GET", "/v1/orgs/{org}/bundles/{env}"): (
        "2223411",
        lambda w: Call("GET", f"{V1}/bundles/{(e := w.environment())}", ids=[e]),
    ),
    ("GET", "/v1/orgs/{org}/changes"): ("2223411", lambda w: Call("GET", f"{V1}/changes")),
    ("GET", "/v1/orgs/{org}/changes/stream"): (
        "2223411",
        lambda w: Call("GET", f"{V1}/changes/stream", params={"duration": 0}),
    ),
    # Only an agent key reports an agent's status and decisions: every person's key is a 403.
    ("POST", "/v1/orgs/{org}/agents/{agent}/status"): (
        "3333411",
        lambda w: Call(
            "POST",
            f"{V1}/agents/{(a := uniq('agent'))}/status",
            json={"environment": (e := w.environment()), "revision": 0},
            ids=[a, e],
        ),
    ),
    ("POST", "/v1/orgs/{org}/agents/{agent}/decisions"): (
        "3333411",
        lambda w: Call("POST", f"{V1}/agents/{(a := uniq('agent'))}/decisions", json={"decisions": []}, ids=[a]),
    ),
    ("DELETE", "/v1/orgs/{org}/agents/{agent}"): (
        "2233411",
        lambda w: Call("DELETE", f"{V1}/agents/{(ae := w.reported_agent())[0]}", ids=list(ae)),
    ),
    # AuthZEN: any role may ask, at a scope its key covers (the org itself: not the scoped key; zone-b: it too).
    **{
        ("POST", f"/orgs/{{org}}/access/v1/{kind}"): (
            "2223411",
            _fixed_call("POST", f"/orgs/{ORG}/access/v1/{kind}", body),
        )
        for kind, body in AUTHZEN.items()
    },
    **{
        ("POST", f"/orgs/{{org}}/scopes/{{scope}}/access/v1/{kind}"): (
            "2222411",
            _fixed_call("POST", f"/orgs/{ORG}/scopes/zone-b/access/v1/{kind}", body, ids=["zone-b"]),
        )
        for kind, body in AUTHZEN.items()
    },
    # Kosli
    ("PUT", "/api/v2/policies/{org}"): ("2233411", _kosli_put),
    ("GET", "/api/v2/policies/{org}"): (
        "222L411",
        lambda w: Call("GET", f"/api/v2/policies/{ORG}", ids=[w.kosli_policy()]),
    ),
    ("GET", "/api/v2/policies/{org}/{policy_name}"): (
        "2224411",
        lambda w: Call("GET", f"/api/v2/policies/{ORG}/{(n := w.kosli_policy())}", ids=[n]),
    ),
    ("PUT", "/api/v2/environments/{org}"): (
        "2233411",
        lambda w: Call(
            "PUT", f"/api/v2/environments/{ORG}", json={"name": uniq("env"), "type": "K8S", "description": "d"}
        ),
    ),
    ("GET", "/api/v2/environments/{org}"): (
        "2222411",
        lambda w: Call("GET", f"/api/v2/environments/{ORG}", ids=[w.kosli_env()]),
    ),
    ("GET", "/api/v2/environments/{org}/{env_name}"): (
        "2222411",
        lambda w: Call("GET", f"/api/v2/environments/{ORG}/{(n := w.kosli_env())}", ids=[n]),
    ),
    ("PATCH", "/api/v2/environments/{org}/{env_name}"): (
        "2233411",
        lambda w: Call(
            "PATCH", f"/api/v2/environments/{ORG}/{(n := w.kosli_env())}", json={"description": "x"}, ids=[n]
        ),
    ),
    ("POST", "/api/v2/environments/{org}/{env_name}/policies"): (
        "2234411",
        lambda w: Call(
            "POST",
            f"/api/v2/environments/{ORG}/{(n := w.kosli_env())}/policies",
            json={"policy_names": [(p := w.kosli_policy())]},
            ids=[n, p],
        ),
    ),
    ("DELETE", "/api/v2/environments/{org}/{env_name}/policies"): (
        "2234411",
        lambda w: Call(
            "DELETE",
            f"/api/v2/environments/{ORG}/{(n := w.kosli_env())}/policies",
            json={"policy_names": [(p := w.kosli_policy())]},
            ids=[n, p],
        ),
    ),
    ("PUT", "/api/v2/environments/{org}/{env_name}/archive"): (
        "2233411",
        lambda w: Call("PUT", f"/api/v2/environments/{ORG}/{(n := w.kosli_env())}/archive", ids=[n]),
    ),
    ("PATCH", "/api/v2/tags/{org}/{resource_type}/{resource_id}"): (
        "2233411",
        lambda w: Call(
            "PATCH", f"/api/v2/tags/{ORG}/environment/{(n := w.kosli_env())}", json={"set_tags": {"k": "v"}}, ids=[n]
        ),
    ),
    ("GET", "/api/v2/asserts/{org}/fingerprint/{fingerprint}"): (
        "2223411",
        lambda w: Call(
            "GET",
            f"/api/v2/asserts/{ORG}/fingerprint/{FINGERPRINT}",
            params={"environment_name": (ep := w.kosli_attached())[0]},
            ids=list(ep),
        ),
    ),
    ("POST", "/api/v2/asserts/{org}/fingerprint/{fingerprint}"): (
        "2223411",
        lambda w: Call(
            "POST",
            f"/api/v2/asserts/{ORG}/fingerprint/{FINGERPRINT}",
            json={"name": "app", "trails": []},
            params={"environment_name": (ep := w.kosli_attached())[0]},
            ids=list(ep),
        ),
    ),
    # JFrog
    ("GET", "/artifactory/api/system/version"): ("2222211", lambda w: Call("GET", "/artifactory/api/system/version")),
    ("GET", "/xray/api/v1/system/version"): ("2222211", lambda w: Call("GET", "/xray/api/v1/system/version")),
    ("POST", f"{JF}/policies"): (
        "2233911",
        lambda w: Call("POST", f"{JF}/policies", json=(b := w.jf_policy_body()), ids=b["rule_ids"]),
    ),
    ("GET", f"{JF}/policies"): ("222LL11", lambda w: Call("GET", f"{JF}/policies", ids=[w.jf_policy()])),
    ("GET", f"{JF}/policies/{{policyId}}"): (
        "2224411",
        lambda w: Call("GET", f"{JF}/policies/{(i := w.jf_policy())}", ids=[i]),
    ),
    ("PUT", f"{JF}/policies/{{policyId}}"): (
        "2234411",
        lambda w: Call("PUT", f"{JF}/policies/{(i := w.jf_policy())}", json=w.jf_policy_body(), ids=[i]),
    ),
    ("DELETE", f"{JF}/policies/{{policyId}}"): (
        "2234411",
        lambda w: Call("DELETE", f"{JF}/policies/{(i := w.jf_policy())}", ids=[i]),
    ),
    ("POST", f"{JF}/rules"): (
        "2233911",
        lambda w: Call("POST", f"{JF}/rules", json=(b := w.rule_body()), ids=[b["template_id"]]),
    ),
    ("GET", f"{JF}/rules"): ("2222L11", lambda w: Call("GET", f"{JF}/rules", ids=[w.rule()])),
    ("GET", f"{JF}/rules/{{ruleId}}"): ("2222411", lambda w: Call("GET", f"{JF}/rules/{(i := w.rule())}", ids=[i])),
    ("PUT", f"{JF}/rules/{{ruleId}}"): (
        "2233411",
        lambda w: Call("PUT", f"{JF}/rules/{(i := w.rule())}", json=w.rule_body(), ids=[i]),
    ),
    ("DELETE", f"{JF}/rules/{{ruleId}}"): (
        "2233411",
        lambda w: Call("DELETE", f"{JF}/rules/{(i := w.rule())}", ids=[i]),
    ),
    ("POST", f"{JF}/templates"): (
        "2233211",
        lambda w: Call(
            "POST",
            f"{JF}/templates",
            json={
                "name": uniq("tpl"),
                "version": "1.0.0",
                "category": "security",
                "data_source_type": "evidence",
                "rego": REGO,
                "parameters": [{"name": "max_vulns", "type": "int"}],
            },
        ),
    ),
    ("GET", f"{JF}/templates"): ("2222L11", lambda w: Call("GET", f"{JF}/templates", ids=[w.template()])),
    ("GET", f"{JF}/templates/{{templateId}}"): (
        "2222411",
        lambda w: Call("GET", f"{JF}/templates/{(i := w.template())}", ids=[i]),
    ),
    ("PUT", f"{JF}/templates/{{templateId}}"): (
        "2233411",
        lambda w: Call("PUT", f"{JF}/templates/{(i := w.template())}", json=w.template_body(), ids=[i]),
    ),
    ("DELETE", f"{JF}/templates/{{templateId}}"): (
        "2233411",
        lambda w: Call("DELETE", f"{JF}/templates/{(i := w.template())}", ids=[i]),
    ),
    ("POST", f"{JF}/evaluations"): (
        "2223N11",
        lambda w: Call("POST", f"{JF}/evaluations", json=w.evaluation_body(), ids=[w.jf_policy()]),
    ),
    ("GET", f"{JF}/evaluations/{{evaluationId}}"): (
        "2224411",
        lambda w: Call("GET", f"{JF}/evaluations/{(ev := w.evaluation())[0]}", ids=list(ev)),
    ),
    # Syft Space
    ("GET", "/syftspace/policies/types/"): ("2222211", lambda w: Call("GET", "/syftspace/policies/types/")),
    ("GET", "/syftspace/policies/types/{name}"): ("2222211", lambda w: Call("GET", "/syftspace/policies/types/access")),
    ("GET", "/syftspace/policies/types/{name}/schema"): (
        "2222211",
        lambda w: Call("GET", "/syftspace/policies/types/access/schema"),
    ),
    ("POST", "/syftspace/policies/"): (
        "2234411",
        lambda w: Call("POST", "/syftspace/policies/", json=(b := w.syft_policy_body()), ids=[b["endpoint_id"]]),
    ),
    ("GET", "/syftspace/policies/"): ("222LL11", lambda w: Call("GET", "/syftspace/policies/", ids=[w.syft_policy()])),
    ("GET", "/syftspace/policies/{policy_id}"): (
        "2224411",
        lambda w: Call("GET", f"/syftspace/policies/{(i := w.syft_policy())}", ids=[i]),
    ),
    ("PATCH", "/syftspace/policies/{policy_id}"): (
        "2234411",
        lambda w: Call("PATCH", f"/syftspace/policies/{(i := w.syft_policy())}", json={"name": "renamed"}, ids=[i]),
    ),
    ("DELETE", "/syftspace/policies/{policy_id}"): (
        "2234411",
        lambda w: Call("DELETE", f"/syftspace/policies/{(i := w.syft_policy())}", ids=[i]),
    ),
    ("POST", "/syftspace/endpoints/"): (
        "2333211",
        lambda w: Call("POST", "/syftspace/endpoints/", json={"name": "ep", "slug": uniq("ep")}),
    ),
    ("GET", "/syftspace/endpoints/"): ("222LL11", lambda w: Call("GET", "/syftspace/endpoints/", ids=[w.endpoint()])),
    ("GET", "/syftspace/endpoints/{endpoint_id}"): (
        "2224411",
        lambda w: Call("GET", f"/syftspace/endpoints/{(i := w.endpoint())}", ids=[i]),
    ),
    ("GET", "/syftspace/endpoints/{slug}"): (
        "2224411",
        lambda w: Call("GET", f"/syftspace/endpoints/{(sl := w.endpoint_slug())}", ids=[sl]),
    ),
    # Whether a slug is free, for the caller's own org: any role may ask (a slug it cannot see reads as free).
    ("POST", "/syftspace/endpoints/validate-slug"): (
        "2222211",
        lambda w: Call("POST", "/syftspace/endpoints/validate-slug", json={"slug": uniq("ep")}),
    ),
    # Apinizer
    ("GET", "/apiops/projects/"): ("222LL11", lambda w: Call("GET", "/apiops/projects/", ids=[w.project()])),
    ("POST", "/apiops/projects/"): (
        "2333211",
        lambda w: Call("POST", "/apiops/projects/", json={"name": uniq("proj")}),
    ),
    ("GET", "/apiops/projects/{projectName}/apiProxies/"): (
        "2224411",
        lambda w: Call("GET", f"/apiops/projects/{(p := w.project())}/apiProxies/", ids=[p]),
    ),
    ("POST", "/apiops/projects/{projectName}/apiProxies/"): (
        "2334411",
        lambda w: Call(
            "POST", f"/apiops/projects/{(p := w.project())}/apiProxies/", json={"name": uniq("api")}, ids=[p]
        ),
    ),
    ("GET", "/apiops/projects/{projectName}/apiProxies/{apiProxyName}/policies/"): (
        "2224411",
        lambda w: Call("GET", "/apiops/projects/{}/apiProxies/{}/policies/".format(*(pp := w.proxy())), ids=list(pp)),
    ),
    ("GET", "/apiops/projects/{projectName}/apiProxies/{apiProxyName}/"): (
        "2224411",
        lambda w: Call("GET", "/apiops/projects/{}/apiProxies/{}/".format(*(pp := w.proxy())), ids=list(pp)),
    ),
    ("GET", "/apiops/projects/{projectName}/apiProxies/{apiProxyName}/endpoints/"): (
        "2224411",
        lambda w: Call("GET", "/apiops/projects/{}/apiProxies/{}/endpoints/".format(*(pp := w.proxy())), ids=list(pp)),
    ),
    # No recipe for GET /apiops/environments/{projectName}: a project another org's admin (or a key bound to a
    # scope) cannot see is a 400 there (proxies.project_environments), where every other Apinizer route says 404.
    ("POST", "/apiops/projects/{projectName}/apiProxies/{apiProxyName}/policies/{policyName}/"): (
        "2234411",
        lambda w: Call(
            "POST",
            "/apiops/projects/{}/apiProxies/{}/policies/{}/".format(*(pp := w.proxy()), uniq("ap")),
            json={"operationMetadata": META, "policy": THROTTLING},
            ids=list(pp),
        ),
    ),
    ("PUT", "/apiops/projects/{projectName}/apiProxies/{apiProxyName}/policies/{policyName}/"): (
        "2234411",
        lambda w: Call(
            "PUT",
            "/apiops/projects/{}/apiProxies/{}/policies/{}/".format(*(ap := w.api_policy())),
            json={"operationMetadata": META, "policy": {**THROTTLING, "description": "x"}},
            ids=list(ap),
        ),
    ),
    ("DELETE", "/apiops/projects/{projectName}/apiProxies/{apiProxyName}/policies/{policyName}/"): (
        "2234411",
        lambda w: Call(
            "DELETE",
            "/apiops/projects/{}/apiProxies/{}/policies/{}/".format(*(ap := w.api_policy())),
            json={"operationMetadata": META},
            ids=list(ap),
        ),
    ),
    ("GET", "/apiops/environments/"): ("2222L11", lambda w: Call("GET", "/apiops/environments/")),
    ("POST", "/apiops/environments/"): (
        "2233211",
        lambda w: Call("POST", "/apiops/environments/", json={"name": uniq("envx")}),
    ),
    # Flashback
    ("POST", "/policy"): ("2233211", lambda w: Call("POST", "/policy", json=w.fb_body())),
    # Recommendations are read from the policies the key can see: a key bound to a scope gets an answer that names
    # none of the org-level ones, another org's admin one for its own org.
    ("POST", "/policy/recommend"): (
        "222LN11",
        lambda w: Call(
            "POST",
            "/policy/recommend",
            json={"level": 0, "prompt": "my card number"},
            ids=list(w.fb_workspace_policy()),
        ),
    ),
    ("GET", "/policy"): ("222L411", lambda w: Call("GET", "/policy", params={"orgId": ORG}, ids=[w.fb_policy()])),
    ("GET", "/policy/{policyId}"): ("2224411", lambda w: Call("GET", f"/policy/{(i := w.fb_policy())}", ids=[i])),
    ("PUT", "/policy/{policyId}"): (
        "2234411",
        lambda w: Call("PUT", f"/policy/{(i := w.fb_policy())}", json={"content": "changed"}, ids=[i]),
    ),
    ("DELETE", "/policy/{policyId}"): ("2234411", lambda w: Call("DELETE", f"/policy/{(i := w.fb_policy())}", ids=[i])),
    ("GET", "/policy/violations"): ("222LL11", lambda w: Call("GET", "/policy/violations", ids=list(w.fb_violation()))),
    ("GET", "/policy/alerts"): ("222LL11", lambda w: Call("GET", "/policy/alerts", ids=list(w.fb_violation()))),
    ("GET", "/policy/{policyId}/violations"): (
        "2224411",
        lambda w: Call("GET", f"/policy/{(v := w.fb_violation())[0]}/violations", ids=list(v)),
    ),
    ("GET", "/policy/{policyId}/alerts"): (
        "2224411",
        lambda w: Call("GET", f"/policy/{(v := w.fb_violation())[0]}/alerts", ids=list(v)),
    ),
    ("POST", "/policy/validate"): (
        "2222211",
        lambda w: Call(
            "POST",
            "/policy/validate",
            json={"policies": [{"policy_uuid": str(uuid.uuid4()), "content": "Never share credit card numbers."}]},
        ),
    ),
}


@dataclass
class Callers:
    tokens: dict[str, str | None]
    other_slug: str


def _send(server: ServerProcess, call: Call, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(
        call.method,
        f"{server.url}{call.path}",
        json=call.json,
        files=call.files,
        data=call.data,
        params=call.params,
        headers=headers,
        timeout=30,
    )


def _never(value: str) -> str:
    """An identifier of the same shape that never existed."""
    try:
        uuid.UUID(value)
        return str(uuid.uuid4())
    except ValueError:
        pass
    rng = random.Random(value)
    return value[0] + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in value[1:])


def _twin(call: Call) -> tuple[Call, list[tuple[str, str]]]:
    """The same call naming objects (and the org) that never existed; returns the swaps made."""
    swaps = [(v, _never(v)) for v in [*call.ids, ORG] if v]
    path, body = call.path, json.dumps(call.json) if call.json is not None else None
    for real, fake in swaps:
        path = "/".join(fake if seg == real else seg for seg in path.split("/"))
        body = body.replace(json.dumps(real), json.dumps(fake)) if body else body
    params = {k: dict(swaps).get(v, v) for k, v in call.params.items()}
    return Call(call.method, path, json.loads(body) if body else None, call.files, call.data, params, []), swaps


def _identical(real: httpx.Response, fake: httpx.Response, swaps: list[tuple[str, str]]) -> str | None:
    body = fake.content
    for original, never in swaps:
        body = body.replace(never.encode(), original.encode())
    if real.status_code != fake.status_code or real.content != body:
        return f"{real.status_code} {real.content[:120]!r} vs never-existed {fake.status_code} {body[:120]!r}"
    for header in ("content-type", "content-length", "www-authenticate"):
        if real.headers.get(header) != fake.headers.get(header) and header != "content-length":
            return f"header {header}: {real.headers.get(header)} vs {fake.headers.get(header)}"
    return None


def _check(code: str, r: httpx.Response, call: Call) -> str | None:
    status = r.status_code
    if code == "2":
        return None if 200 <= status < 300 else f"expected 2xx, got {status} {r.text[:160]}"
    if code in "LN":
        if not (status == 200 if code == "L" else 200 <= status < 300):
            return f"expected {'200' if code == 'L' else '2xx'} without the org's objects, got {status} {r.text[:160]}"
        leaked = [i for i in call.ids if i in r.text]
        return f"200 but names the org's objects {leaked}" if leaked else None
    want = {"1": 401, "3": 403, "4": 404, "9": 409}[code]
    return None if status == want else f"expected {want}, got {status} {r.text[:160]}"


def run(ctx: Context) -> list[Result]:
    checks = Checks()
    url = ctx.backend.new_database("authz")
    cells = identical = 0
    generic: list[str] = []
    # Every decision logged (allow decisions are sampled by default), so that one can be read back by id; and
    # every decision sees the set-up written just before it (the engine's staleness bound is 0.25 s otherwise).
    env = {"POLICYHUB_DECISION_LOG_SAMPLE_ALLOW": "1", "POLICYHUB_DECISION_REFRESH_S": "0"}
    with servers(ctx, url, 1, label="authz", extra_env=env) as (server,):
        world = World(server)
        world.ok("POST", f"{V1}/scopes", json={"kind": "zone", "key": "zone-b"})
        editor, viewer = issue_key(server, "editor"), issue_key(server, "viewer")
        scoped = issue_key(server, "editor", "zone-b")
        revoked: Key = issue_key(server, "admin")
        revoke_key(server, revoked.id)
        _other_slug, other_token = new_org(url, "other")
        tokens: dict[str, str | None] = {
            "admin": TOKEN,
            "editor": editor.token,
            "viewer": viewer.token,
            "scoped": scoped.token,
            "other": other_token,
            "revoked": revoked.token,
            "none": None,
        }
        spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
        operations = [
            (m.upper(), p)
            for p, item in spec["paths"].items()
            for m in item
            if m in ("get", "post", "put", "patch", "delete")
        ]

        def one(op: tuple[str, str]) -> tuple[int, int, str | None]:
            method, template = op
            recipe = RECIPES.get((method, template))
            if recipe is None:
                return _generic(server, method, template, tokens, checks), 0, f"{method} {template}"
            return (*_matrix(server, world, method, template, recipe, tokens, checks), None)

        # Endpoints are independent (each call prepares its own objects): four at a time.
        with ThreadPoolExecutor(4) as pool:
            for n_cells, n_identical, unrecipied in pool.map(one, operations):
                cells += n_cells
                identical += n_identical
                if unrecipied:
                    generic.append(unrecipied)
        world.c.close()
    figures = (
        f"endpoints={len(operations)} (from /openapi.json) x {len(ROLES)} callers; cells checked={cells}; "
        f"mismatches={len(checks.problems)}; other-org 404 byte-identical to never-existed={identical}; "
        f"generic only (no recipe yet)={len(generic)}" + (f": {', '.join(generic)}" if generic else "")
    )
    return [checks.result("6", "authorization matrix", ctx.backend.name, figures)]


def _matrix(
    server: ServerProcess,
    world: World,
    method: str,
    template: str,
    recipe: tuple[str, Callable[[World], Call]],
    tokens: dict[str, str | None],
    checks: Checks,
) -> tuple[int, int]:
    """One endpoint x every caller: (cells checked, other-org answers byte-identical to never-existed)."""
    cells = identical = 0
    expect, make = recipe
    shared: Call | None = None
    for role, code in zip(ROLES, expect, strict=True):
        try:
            # A read changes nothing: its objects serve every caller. A write gets fresh ones each time.
            call = shared or make(world)
            shared = call if method == "GET" else None
        except RuntimeError as exc:
            checks.expect(False, f"{method} {template}: {exc}")
            break
        r = _send(server, call, tokens[role])
        cells += 1
        problem = _check(code, r, call)
        checks.expect(problem is None, f"{method} {template} as {role}: {problem}")
        if role == "other" and code in "49":
            twin, swaps = _twin(call)
            differs = _identical(r, _send(server, twin, tokens[role]), swaps)
            identical += differs is None
            checks.expect(
                differs is None,
                f"{method} {template}: another org's object is distinguishable from a missing one: {differs}",
            )
    return cells, identical


def _generic(server: ServerProcess, method: str, template: str, tokens: dict[str, str | None], checks: Checks) -> int:
    """What holds for any endpoint: 401 without a key or with a revoked one; another org named in the path: 404."""
    path = template.replace("{org}", ORG)
    for seg in [s for s in path.split("/") if s.startswith("{")]:
        path = path.replace(seg, str(uuid.uuid4()))
    if path.startswith("/healthz") or path in ("/readyz", "/metrics"):
        return 0
    n = 0
    for role in ("revoked", "none"):
        r = httpx.request(
            method,
            f"{server.url}{path}",
            headers={"Authorization": f"Bearer {tokens[role]}"} if tokens[role] else {},
            timeout=30,
        )
        n += 1
        checks.expect(r.status_code == 401, f"{method} {template} as {role}: expected 401, got {r.status_code}")
    return n
