"""5. Hostile input corpus: crafted requests across the core and the seed APIs, sent byte-exactly.

Keys (missing, empty, malformed, revoked), another org's ids / names / tenant headers / idempotency
keys / ETags, stale, weak and malformed ETags, server-owned and unknown fields, bodies over the size
limit (also chunked), deep JSON, huge integers, NaN, duplicate keys, YAML alias bombs, Python tags,
several documents, invalid UTF-8, NUL, lone surrogates, zero-width and bidi characters, NFD names,
path traversal, wrong content types, unsupported methods. Pass: every request gets its documented 4xx
with a readable message, no 5xx, the database's fingerprint is unchanged, and the server's memory
stays bounded over repeated passes.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import httpx

from reliability import decisions
from reliability.context import Context
from reliability.databases import Inspector
from reliability.fixtures import issue_key, new_org, revoke_key, servers
from reliability.rawhttp import RawResponse, message_of, multipart, send
from reliability.report import Checks, Result
from reliability.servers import ORG, TOKEN, ServerProcess

LIMIT = 10 * 1024 * 1024  # POLICYHUB_MAX_BODY_BYTES default
MEMORY_BOUND = 96 * 1024 * 1024
V1 = f"/v1/orgs/{ORG}"
SEED_YAML = (
    b"_schema: https://kosli.com/schemas/policy/environment/v1\nartifacts:\n  provenance:\n    required: false\n"
)


@dataclass
class Stage:
    """What the corpus refers to: org A (acme) and its objects, org B and its objects, spent keys."""

    a_org_id: str
    policy_id: str
    stale_etag: str
    current_etag: str
    revoked: str
    b_slug: str
    b_token: str
    b_org_id: str
    b_policy_id: str
    b_etag: str
    decisions: bool = False


@dataclass
class Case:
    name: str
    method: str
    target: str
    expect: set[int]
    headers: list[tuple[str, str | bytes]]
    body: bytes | None = None
    chunked: bool = False


def _auth(token: str | None = TOKEN) -> list[tuple[str, str | bytes]]:
    return [("Authorization", f"Bearer {token}")] if token else []


JSON_CT: tuple[str, str] = ("Content-Type", "application/json")
MERGE_CT: tuple[str, str] = ("Content-Type", "application/merge-patch+json")


def _j(value: Any) -> bytes:
    return json.dumps(value).encode()


def _create(name: str, **extra: Any) -> bytes:
    return _j({"name": name, "type": "document", "spec": {"n": 1}, **extra})


def _kosli(
    yaml: bytes, name: str = "hostile-k", payload: bytes | None = None
) -> tuple[list[tuple[str, str | bytes]], bytes]:
    payload = payload if payload is not None else _j({"name": name, "type": "env", "description": "d"})
    ct, body = multipart({"payload": (None, payload), "policy_file": ("policy.yml", yaml)})
    return [*_auth(), ("Content-Type", ct)], body


def _deep(depth: int) -> bytes:
    return b'{"name":"deep","type":"document","spec":{"x":' + b"[" * depth + b"]" * depth + b"}}"


def corpus(s: Stage) -> list[Case]:
    big = b'{"name":"big","type":"document","spec":{"pad":"' + b"x" * (LIMIT + 1024) + b'"}}'
    p1 = f"{V1}/policies/p1"
    c: list[Case] = []

    def add(
        name: str,
        method: str,
        target: str,
        expect: set[int] | int,
        headers: list[tuple[str, str | bytes]] | None = None,
        body: bytes | None = None,
        chunked: bool = False,
    ) -> None:
        codes = {expect} if isinstance(expect, int) else expect
        c.append(Case(name, method, target, codes, _auth() if headers is None else headers, body, chunked))

    # -- keys ---------------------------------------------------------------------------------------
    add("no Authorization header", "GET", f"{V1}/policies", 401, [])
    add("empty Authorization header", "GET", f"{V1}/policies", 401, [("Authorization", "")])
    add("Bearer with no token", "GET", f"{V1}/policies", 401, [("Authorization", "Bearer ")])
    add("unknown key", "GET", f"{V1}/policies", 401, _auth("phk_" + "A" * 43))
    add("revoked key", "GET", f"{V1}/policies", 401, _auth(s.revoked))
    add("revoked key writing", "POST", f"{V1}/policies", 401, [*_auth(s.revoked), JSON_CT], _create("rk"))
    add("Basic not base64", "GET", f"{V1}/policies", 401, [("Authorization", "Basic !!!not-base64")])
    add(
        "Basic without password",
        "GET",
        f"{V1}/policies",
        401,
        [("Authorization", "Basic " + base64.b64encode(b"user:").decode())],
    )
    add("unsupported scheme", "GET", f"{V1}/policies", 401, [("Authorization", f"Token {TOKEN}")])
    add("8 KB key", "GET", f"{V1}/policies", 401, _auth("phk_" + "x" * 8192))
    add("non-ASCII key bytes", "GET", f"{V1}/policies", 401, [("Authorization", b"Bearer phk_caf\xc3\xa9\xff")])
    add("kosli: no key", "GET", f"/api/v2/policies/{ORG}", 401, [])
    add("jfrog: revoked key", "GET", "/unifiedpolicy/api/v1/policies", 401, _auth(s.revoked))
    add("syftspace: malformed Basic", "GET", "/syftspace/policies/", 401, [("Authorization", "Basic %%%")])
    add("apinizer: no key", "GET", "/apiops/projects/", 401, [])
    add("flashback: unsupported scheme", "GET", "/policy?orgId=" + ORG, 401, [("Authorization", "Digest x")])
    # -- another org's ids, names, tenant headers, idempotency keys, ETags ------------------------
    add("other org by slug in path", "GET", f"/v1/orgs/{s.b_slug}/policies", 404)
    add("other org by id in path", "GET", f"/v1/orgs/{s.b_org_id}/events", 404)
    add("other org's policy id", "GET", f"{V1}/policies/{s.b_policy_id}", 404)
    add("other org's policy name", "GET", f"{V1}/policies/b-secret", 404)
    add("archive other org's policy", "DELETE", f"{V1}/policies/{s.b_policy_id}", 404)
    add(
        "patch other org's policy",
        "PATCH",
        f"{V1}/policies/{s.b_policy_id}",
        404,
        [*_auth(), MERGE_CT],
        _j({"description": "x"}),
    )
    add("syftspace: other tenant id", "GET", "/syftspace/policies/", 404, [*_auth(), ("X-Tenant-ID", s.b_slug)])
    add("syftspace: other tenant name", "GET", "/syftspace/policies/", 404, [*_auth(), ("X-Tenant-Name", s.b_org_id)])
    add("jfrog: other org's policy id", "GET", f"/unifiedpolicy/api/v1/policies/{s.b_policy_id}", 404)
    add("kosli: other org's slug", "GET", f"/api/v2/policies/{s.b_slug}/b-secret", 404)
    add("flashback: other org's policy id", "GET", f"/policy/{s.b_policy_id}", 404)
    add("flashback: other orgId", "GET", f"/policy?orgId={s.b_org_id}", 404)
    add(
        "other org's idempotency key, invalid body",
        "POST",
        f"{V1}/policies",
        400,
        [*_auth(), JSON_CT, ("Idempotency-Key", "idem-b-1")],
        _j({"name": "replay"}),
    )
    add(
        "own idempotency key, different body",
        "POST",
        f"{V1}/policies",
        422,
        [*_auth(), JSON_CT, ("Idempotency-Key", "idem-a-1")],
        _create("different"),
    )
    add("other org's ETag", "PATCH", p1, 412, [*_auth(), MERGE_CT, ("If-Match", s.b_etag)], _j({"description": "x"}))
    # -- ETags ----------------------------------------------------------------------------------
    add("stale ETag", "PATCH", p1, 412, [*_auth(), MERGE_CT, ("If-Match", s.stale_etag)], _j({"description": "x"}))
    add(
        "weak ETag",
        "PATCH",
        p1,
        412,
        [*_auth(), MERGE_CT, ("If-Match", "W/" + s.current_etag)],
        _j({"description": "x"}),
    )
    add("unquoted ETag", "PATCH", p1, 400, [*_auth(), MERGE_CT, ("If-Match", "abc")], _j({"description": "x"}))
    add("empty If-Match", "PATCH", p1, 400, [*_auth(), MERGE_CT, ("If-Match", "")], _j({"description": "x"}))
    add(
        "ETag list with junk",
        "PUT",
        p1,
        400,
        [*_auth(), JSON_CT, ("If-Match", f"{s.current_etag} junk")],
        _j({"spec": {"n": 2}}),
    )
    add(
        "If-None-Match * on existing",
        "PUT",
        p1,
        412,
        [*_auth(), JSON_CT, ("If-None-Match", "*")],
        _j({"type": "document", "spec": {"n": 2}}),
    )
    add("archive with stale ETag", "DELETE", p1, 412, [*_auth(), ("If-Match", s.stale_etag)])
    # -- server-owned and unknown fields ---------------------------------------------------------
    add("create with id", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], _create("own-id", id=s.policy_id))
    add("create with revision", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], _create("own-rev", revision=7))
    add(
        "create with created_at",
        "POST",
        f"{V1}/policies",
        400,
        [*_auth(), JSON_CT],
        _create("own-at", created_at="2020-01-01T00:00:00Z"),
    )
    add("create with unknown field", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], _create("unk", colour="red"))
    add("merge patch sets version", "PATCH", p1, 400, [*_auth(), MERGE_CT], _j({"version": 99}))
    add(
        "json patch sets revision",
        "PATCH",
        p1,
        400,
        [*_auth(), ("Content-Type", "application/json-patch+json")],
        _j([{"op": "replace", "path": "/revision", "value": 9}]),
    )
    add("replace sets archived", "PUT", p1, 400, [*_auth(), JSON_CT], _j({"spec": {"n": 1}, "archived": True}))
    add(
        "jfrog: unknown field",
        "POST",
        "/unifiedpolicy/api/v1/policies",
        {400, 422},
        [*_auth(), JSON_CT],
        _j({"name": "x", "bogus_field": 1}),
    )
    add(  # Syft Space ignores unknown fields (as its own pydantic models do), but not a known one's wrong type
        "syftspace: unknown field with a known field of the wrong type",
        "POST",
        "/syftspace/endpoints/",
        422,
        [*_auth(), JSON_CT],
        _j({"name": "e", "slug": "e", "owner": "me", "published": {"yes": 1}}),
    )
    # -- sizes -----------------------------------------------------------------------------------
    add("body over the limit", "POST", f"{V1}/policies", 413, [*_auth(), JSON_CT], big)
    add("chunked body over the limit", "POST", f"{V1}/policies", 413, [*_auth(), JSON_CT], big, chunked=True)
    add("jfrog: body over the limit", "POST", "/unifiedpolicy/api/v1/policies", 413, [*_auth(), JSON_CT], big)
    add(
        "syftspace: chunked over the limit", "POST", "/syftspace/policies/", 413, [*_auth(), JSON_CT], big, chunked=True
    )
    kosli_headers, kosli_big = _kosli(b"a: " + b"x" * (LIMIT + 10))
    add("kosli: policy_file over 10 MB", "PUT", f"/api/v2/policies/{ORG}", 413, kosli_headers, kosli_big)
    add("flashback: chunked over the limit", "POST", "/policy", 413, [*_auth(), JSON_CT], big, chunked=True)
    # -- JSON --------------------------------------------------------------------------------------
    add("JSON nested 100 deep", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], _deep(100))
    add("JSON nested 100,000 deep", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], _deep(100_000))
    add("NaN", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], b'{"name":"n","type":"document","spec":{"x":NaN}}')
    add(
        "Infinity",
        "POST",
        f"{V1}/policies",
        400,
        [*_auth(), JSON_CT],
        b'{"name":"n","type":"document","spec":{"x":-Infinity}}',
    )
    add(
        "1e400",
        "POST",
        f"{V1}/policies",
        400,
        [*_auth(), JSON_CT],
        b'{"name":"n","type":"document","spec":{"x":1e400}}',
    )
    add(
        "integer 2^64",
        "POST",
        f"{V1}/policies",
        400,
        [*_auth(), JSON_CT],
        b'{"name":"n","type":"document","spec":{"x":18446744073709551616}}',
    )
    add(
        "integer of 5,000 digits",
        "POST",
        f"{V1}/policies",
        400,
        [*_auth(), JSON_CT],
        b'{"name":"n","type":"document","spec":{"x":' + b"9" * 5000 + b"}}",
    )
    add(
        "duplicate keys",
        "POST",
        f"{V1}/policies",
        400,
        [*_auth(), JSON_CT],
        b'{"name":"a","name":"b","type":"document","spec":{}}',
    )
    add("malformed JSON", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], b'{"name": "x",')
    add("empty body", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], b"")
    add("top-level array", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], b"[1, 2]")
    add(
        "invalid UTF-8", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], b'{"name": "\xff\xfe", "type": "document"}'
    )
    add(
        "lone surrogate in name",
        "POST",
        f"{V1}/policies",
        400,
        [*_auth(), JSON_CT],
        b'{"name":"a\\ud800b","type":"document","spec":{}}',
    )
    add("NUL in name", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], _create("a\u0000b"))
    add(
        "NUL in spec",
        "POST",
        f"{V1}/policies",
        400,
        [*_auth(), JSON_CT],
        _j({"name": "nul-spec", "type": "document", "spec": {"k": "a\u0000b"}}),
    )
    add("zero-width space in name", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], _create("pay\u200bments"))
    add(
        "bidi override in description",
        "POST",
        f"{V1}/policies",
        400,
        [*_auth(), JSON_CT],
        _create("bidi", description="safe \u202etxt.exe"),
    )
    add("NFD twin name", "POST", f"{V1}/policies", 400, [*_auth(), JSON_CT], _create("cafe\u0301"))
    add("NFD twin scope key", "POST", f"{V1}/scopes", 400, [*_auth(), JSON_CT], _j({"kind": "team", "key": "e\u0301"}))
    add(
        "zero-width in principal name",
        "POST",
        f"{V1}/principals",
        400,
        [*_auth(), JSON_CT],
        _j({"kind": "user", "display_name": "ad\u200dmin"}),
    )
    add("jfrog: malformed JSON", "POST", "/unifiedpolicy/api/v1/rules", 400, [*_auth(), JSON_CT], b"{")
    add("syftspace: NaN", "POST", "/syftspace/endpoints/", 422, [*_auth(), JSON_CT], b'{"name": NaN}')
    add("flashback: deep JSON", "POST", "/policy", 400, [*_auth(), JSON_CT], _deep(200))
    add(
        "apinizer: duplicate keys", "POST", "/apiops/projects/", 400, [*_auth(), JSON_CT], b'{"name": "a", "name": "b"}'
    )
    add(
        "kosli: env with lone surrogate",
        "PUT",
        f"/api/v2/environments/{ORG}",
        400,
        [*_auth(), JSON_CT],
        b'{"name":"e1","type":"K8S","description":"\\udfff"}',
    )
    # -- YAML (Kosli policy files) ---------------------------------------------------------------
    bomb = b'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n".encode()
        for i in range(8)
    )
    for label, yaml in (
        ("YAML alias bomb", bomb),
        ("YAML python tag", b"_schema: !!python/object/apply:os.system ['true']\n"),
        ("YAML several documents", SEED_YAML + b"---\n" + SEED_YAML),
        ("YAML invalid UTF-8", SEED_YAML + b"x: \xff\xfe\n"),
        ("YAML NUL", SEED_YAML + b"x: a\x00b\n"),
        ("YAML nested 200 deep", b"a: " + b"[" * 200 + b"]" * 200 + b"\n"),
        ("YAML duplicate keys", SEED_YAML + b"artifacts: {}\n"),
    ):
        h, b = _kosli(yaml)
        add(f"kosli: {label}", "PUT", f"/api/v2/policies/{ORG}", 400, h, b)
    h, b = _kosli(SEED_YAML, payload=b"{not json")
    add("kosli: payload not JSON", "PUT", f"/api/v2/policies/{ORG}", 400, h, b)
    ct, b = multipart({"payload": (None, _j({"name": "k", "type": "env"})), "polcy_file": ("p.yml", SEED_YAML)})
    add("kosli: misspelt form part", "PUT", f"/api/v2/policies/{ORG}", 400, [*_auth(), ("Content-Type", ct)], b)
    # -- paths -----------------------------------------------------------------------------------
    add("dot segments to /etc/passwd", "GET", f"{V1}/scopes/../../../../etc/passwd", {400, 404})
    add("encoded slashes", "GET", f"{V1}/policies/..%2F..%2Fetc%2Fpasswd", 400)
    add("encoded dot segments", "GET", f"{V1}/policies/%2e%2e/%2e%2e/openapi.json", {400, 404})
    add("encoded NUL in path", "GET", f"{V1}/policies/p1%00.json", 400)
    add("dot segments at the root", "GET", "/../../etc/passwd", {400, 404})
    add("kosli: encoded slash in name", "GET", f"/api/v2/policies/{ORG}/..%2f..%2fx", 400)
    add("flashback: traversal in id", "GET", "/policy/..%2F..%2Fv1", 400)
    add("backslash traversal", "GET", f"{V1}/policies/..\\..\\windows", 404)
    # -- content types ---------------------------------------------------------------------------
    add("text/plain create", "POST", f"{V1}/policies", 415, [*_auth(), ("Content-Type", "text/plain")], _create("ct1"))
    add("no content type", "POST", f"{V1}/policies", 415, _auth(), _create("ct2"))
    add("XML patch", "PATCH", p1, 415, [*_auth(), ("Content-Type", "application/xml")], b"<spec/>")
    add(
        "form-encoded replace",
        "PUT",
        p1,
        415,
        [*_auth(), ("Content-Type", "application/x-www-form-urlencoded")],
        b"spec=1",
    )
    add(
        "jfrog: text/plain",
        "POST",
        "/unifiedpolicy/api/v1/rules",
        415,
        [*_auth(), ("Content-Type", "text/plain")],
        _j({"name": "r"}),
    )
    add(
        "syftspace: text/plain",
        "POST",
        "/syftspace/endpoints/",
        422,
        [*_auth(), ("Content-Type", "text/plain")],
        _j({"name": "e", "slug": "ct-e"}),
    )
    add(
        "apinizer: text/plain",
        "POST",
        "/apiops/projects/",
        415,
        [*_auth(), ("Content-Type", "text/plain")],
        _j({"name": "ct-project"}),
    )
    add(
        "flashback: text/plain",
        "POST",
        "/policy",
        415,
        [*_auth(), ("Content-Type", "text/plain")],
        _j({"name": "N", "content": "C.", "riskType": "LOW", "actionType": 1}),
    )
    add(
        "kosli: JSON instead of multipart",
        "PUT",
        f"/api/v2/policies/{ORG}",
        {400, 415},
        [*_auth(), JSON_CT],
        _j({"payload": {"name": "k", "type": "env"}}),
    )
    # -- the decision API (a hot path of its own: the same rules must hold there) ------------------
    if s.decisions:
        d = f"{V1}/decisions"
        ask = _j({"point": "http_request", "input": {"path": "/x"}})
        add("decision: no key", "POST", d, 401, [JSON_CT], ask)
        add("decision: revoked key", "POST", d, 401, [*_auth(s.revoked), JSON_CT], ask)
        add("decision: other org in path", "POST", f"/v1/orgs/{s.b_slug}/decisions", 404, [*_auth(), JSON_CT], ask)
        add("decision: NaN", "POST", d, 400, [*_auth(), JSON_CT], b'{"point":"http_request","input":{"x":NaN}}')
        add(
            "decision: duplicate keys",
            "POST",
            d,
            400,
            [*_auth(), JSON_CT],
            b'{"point":"http_request","point":"environment","input":{}}',
        )
        add(
            "decision: nested 100 deep",
            "POST",
            d,
            400,
            [*_auth(), JSON_CT],
            b'{"point":"http_request","input":{"body":' + b"[" * 100 + b"]" * 100 + b"}}",
        )
        add("decision: unknown point", "POST", d, 400, [*_auth(), JSON_CT], _j({"point": "teleport", "input": {}}))
        add(
            "decision: unknown field",
            "POST",
            d,
            400,
            [*_auth(), JSON_CT],
            _j({"point": "http_request", "input": {}, "verdict": "allow"}),
        )
        add(
            "decision: NUL in input",
            "POST",
            d,
            400,
            [*_auth(), JSON_CT],
            _j({"point": "http_request", "input": {"path": "/a\u0000"}}),
        )
        add("decision: text/plain", "POST", d, 415, [*_auth(), ("Content-Type", "text/plain")], ask)
        add("decision: body over the limit", "POST", d, 413, [*_auth(), JSON_CT], big, chunked=True)
        add(
            "decision: other org's scope id",
            "POST",
            d,
            {400, 404},
            [*_auth(), JSON_CT],
            _j({"point": "http_request", "scope": s.b_org_id, "input": {}}),
        )
    # -- methods ---------------------------------------------------------------------------------
    add("TRACE", "TRACE", f"{V1}/policies", 405)
    add("PUT on a collection", "PUT", f"{V1}/policies", 405, [*_auth(), JSON_CT], _j({}))
    add("DELETE /healthz", "DELETE", "/healthz", 405, [])
    add("kosli: PATCH a policy", "PATCH", f"/api/v2/policies/{ORG}", 405)
    add(
        "jfrog: POST on an item",
        "POST",
        f"/unifiedpolicy/api/v1/policies/{s.policy_id}",
        405,
        [*_auth(), JSON_CT],
        _j({}),
    )
    add("flashback: PATCH", "PATCH", f"/policy/{s.policy_id}", 405, [*_auth(), JSON_CT], _j({}))
    return c


def _stage(server: ServerProcess, url: str) -> Stage:
    with server.client() as a:
        a.post("/scopes", json={"kind": "team", "key": "team-a"}).raise_for_status()
        first = a.post("/policies", json={"name": "p1", "type": "document", "spec": {"n": 1}})
        first.raise_for_status()
        stale = first.headers["etag"]
        bumped = a.patch("/policies/p1", json={"spec": {"n": 2}}, headers=dict([MERGE_CT]))
        bumped.raise_for_status()
        a.post(
            "/policies",
            json={"name": "p-idem", "type": "document", "spec": {}},
            headers={"Idempotency-Key": "idem-a-1"},
        ).raise_for_status()
        a_org_id = a.get(f"{server.url}{V1}").json()["id"]
    key = issue_key(server, "viewer")
    revoke_key(server, key.id)
    b_slug, b_token = new_org(url, "other")
    with server.client(b_token, b_slug) as b:
        created = b.post(
            "/policies",
            json={"name": "b-secret", "type": "document", "spec": {"s": 1}},
            headers={"Idempotency-Key": "idem-b-1"},
        )
        created.raise_for_status()
        b_org_id = b.get(f"{server.url}/v1/orgs/{b_slug}").json()["id"]
    return Stage(
        a_org_id,
        first.json()["id"],
        stale,
        bumped.headers["etag"],
        key.token,
        b_slug,
        b_token,
        b_org_id,
        created.json()["id"],
        created.headers["etag"],
        decisions.available(server),
    )


def _judge(case: Case, r: RawResponse) -> str | None:
    if r.status >= 500:
        return f"{case.name}: {r.status} (server error) {r.body[:200]!r}"
    if r.status not in case.expect:
        return f"{case.name}: expected {sorted(case.expect)}, got {r.status} {r.body[:200]!r}"
    if not message_of(r.json()):
        return f"{case.name}: {r.status} without a readable message: {r.body[:200]!r}"
    return None


def run(ctx: Context) -> list[Result]:
    checks = Checks()
    url = ctx.backend.new_database("hostile")
    passes = ctx.pick(1, 3)
    inspector = Inspector(url)
    try:
        with servers(ctx, url, 1, label="hostile") as (server,):
            stage = _stage(server, url)
            cases = corpus(stage)
            httpx.get(f"{server.url}/readyz", timeout=10)
            before = inspector.fingerprint()
            rss = [server.rss_bytes()]
            fivexx = failed_cases = 0
            for n in range(passes):
                for case in cases:
                    try:
                        r = send(server.port, case.method, case.target, case.headers, case.body, chunked=case.chunked)
                    except OSError as exc:
                        checks.expect(False, f"{case.name}: no answer ({exc!r})")
                        continue
                    fivexx += r.status >= 500
                    problem = _judge(case, r)
                    if problem and n == 0:
                        checks.problems.append(problem)
                        failed_cases += 1
                rss.append(server.rss_bytes())
            after = inspector.fingerprint()
            checks.expect(server.alive(), "the server died")
    finally:
        inspector.dispose()
    checks.expect(before == after, f"rows changed: {before[0]} -> {after[0]}")
    growth = rss[-1] - rss[0]
    per_pass = rss[-1] - rss[1] if len(rss) > 2 else 0
    checks.expect(growth < MEMORY_BOUND, f"server memory grew {growth / 2**20:.0f} MiB over {passes} passes")
    checks.expect(per_pass < MEMORY_BOUND // 3, f"server memory keeps growing: {per_pass / 2**20:.0f} MiB after pass 1")
    ok = len(cases) - failed_cases
    figures = (
        f"cases={len(cases)} x {passes} passes; documented 4xx with message={max(ok, 0)}/{len(cases)}; "
        f"5xx={fivexx}; rows changed={'0' if before == after else 'SOME'}; "
        f"server RSS {rss[0] / 2**20:.0f} -> {rss[-1] / 2**20:.0f} MiB (growth {growth / 2**20:+.0f} MiB)"
    )
    return [checks.result("5", "hostile input corpus", ctx.backend.name, figures)]
