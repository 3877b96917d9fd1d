"""Envoy's gRPC ext_authz ``Check`` and rate limit service ``ShouldRateLimit`` through a real gRPC
listener and real stubs from Envoy's protos, on the real app's services and database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from envoy.service.ratelimit.v3 import rls_pb2
from google.rpc import code_pb2

from policyhub.http.extauthz.ratelimit import descriptor_input, split_domain
from tests.conftest import OrgClient
from tests.protocols.grpc_support import check_request, header_map, listener, rate_limit_request, stubs
from tests.protocols.test_extauthz_http import logged, policy
from tests.support.server import AUDIT_KEY, ORG, TOKEN, ServerProcess, free_port

OVER = rls_pb2.RateLimitResponse.OVER_LIMIT
OK = rls_pb2.RateLimitResponse.OK


@pytest.fixture
def grpc_stubs(org: OrgClient) -> Iterator[tuple[Any, Any]]:
    with listener(org.container) as port, stubs(port) as pair:
        yield pair


def meta(org: OrgClient, how: str = "key") -> list[tuple[str, str]]:
    return [("x-policyhub-key", org.token)] if how == "key" else [("authorization", f"Bearer {org.token}")]


# -- the descriptor mapping (pure) ---------------------------------------------------------------------
def test_descriptors_merge_into_one_input() -> None:
    data = descriptor_input(
        [[("remote_address", "10.0.0.1"), ("X-Api-Key", "k1")], [("path", "/a?x=1"), ("user", "u")]]
    )
    assert data == {
        "client_ip": "10.0.0.1",
        "headers": {"x-api-key": "k1"},
        "variables": {"X-Api-Key": "k1"},
        "path": "/a",
        "query": {"x": "1"},
        "user": "u",
    }
    assert split_domain("acme/shop/api") == ("acme", "shop/api") and split_domain("acme") == ("acme", None)
    with pytest.raises(ValueError, match="at most 64"):
        descriptor_input([[("k", "v")] * 65])


# -- Check ---------------------------------------------------------------------------------------------
def test_check_allows_then_throttles_with_429_headers_and_body(org: OrgClient, grpc_stubs: tuple[Any, Any]) -> None:
    auth, _ = grpc_stubs
    policy(org, "per-user", "syftspace.rate_limit", {"limit": "2/m"})
    request = check_request("POST", "/api/users?page=2", {"x-forwarded-user": "ann@x.org"})
    first = auth.Check(request, metadata=meta(org))
    assert first.status.code == code_pb2.OK
    added = header_map(first.ok_response.response_headers_to_add)
    assert (added["ratelimit-limit"], added["ratelimit-remaining"]) == ("2", "1")
    assert auth.Check(request, metadata=meta(org, "bearer")).status.code == code_pb2.OK
    third = auth.Check(request, metadata=meta(org))
    assert third.status.code == code_pb2.PERMISSION_DENIED
    assert third.denied_response.status.code == 429
    headers = header_map(third.denied_response.headers)
    assert int(headers["retry-after"]) >= 1 and headers["ratelimit-remaining"] == "0"
    assert json.loads(third.denied_response.body)["policies"] == ["per-user"]
    other = check_request("POST", "/api/users", {"x-forwarded-user": "bob@x.org"})
    assert auth.Check(other, metadata=meta(org)).status.code == code_pb2.OK
    (entry,) = logged(org, source="envoy_grpc", decision="deny")
    assert (entry["input"]["method"], entry["input"]["path"], entry["input"]["client_ip"]) == (
        "POST",
        "/api/users",
        "203.0.113.9",
    )


def test_check_ip_deny_is_a_403_from_the_source_address(org: OrgClient, grpc_stubs: tuple[Any, Any]) -> None:
    auth, _ = grpc_stubs
    policy(org, "blocked", "apinizer.policy-black-ip", {"ipList": ["192.0.2.0/24"]})
    denied = auth.Check(check_request(source_ip="192.0.2.5"), metadata=meta(org))
    assert (denied.status.code, denied.denied_response.status.code) == (code_pb2.PERMISSION_DENIED, 403)
    # a client's own X-Forwarded-For does not move the address Envoy saw
    spoofed = check_request(headers={"x-forwarded-for": "10.0.0.1"}, source_ip="192.0.2.5")
    assert auth.Check(spoofed, metadata=meta(org)).denied_response.status.code == 403
    assert auth.Check(check_request(source_ip="198.51.100.1"), metadata=meta(org)).status.code == code_pb2.OK


def test_check_scope_from_the_routes_context_extensions(org: OrgClient, grpc_stubs: tuple[Any, Any]) -> None:
    auth, _ = grpc_stubs
    assert org.post("scopes", json={"kind": "project", "key": "shop"}).status_code == 201
    policy(org, "no-bots", "syftspace.access", {"denied_users": ["bot@*"]}, scope="shop")
    bot = {"x-forwarded-user": "bot@x"}
    scoped = auth.Check(check_request(headers=bot, context_extensions={"policyhub_scope": "shop"}), metadata=meta(org))
    assert scoped.denied_response.status.code == 403
    assert auth.Check(check_request(headers=bot), metadata=meta(org)).status.code == code_pb2.OK
    with pytest.raises(grpc.RpcError) as missing:
        auth.Check(check_request(context_extensions={"policyhub_scope": "nowhere"}), metadata=meta(org))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("metadata", [[], [("x-policyhub-key", "phk_nope")], [("authorization", "Basic abc")]])
def test_check_without_a_valid_key_is_unauthenticated(
    grpc_stubs: tuple[Any, Any], metadata: list[tuple[str, str]]
) -> None:
    auth, _ = grpc_stubs
    with pytest.raises(grpc.RpcError) as refused:
        auth.Check(check_request(), metadata=metadata)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_an_agent_key_is_refused(org: OrgClient, grpc_stubs: tuple[Any, Any]) -> None:
    auth, rls = grpc_stubs
    metadata = [("x-policyhub-key", org.key("agent"))]
    for call in (
        lambda: auth.Check(check_request(), metadata=metadata),
        lambda: rls.ShouldRateLimit(rate_limit_request(org.slug, [("user", "a")]), metadata=metadata),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            call()
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


# -- ShouldRateLimit -----------------------------------------------------------------------------------
def test_should_rate_limit_counts_by_the_policys_identity(org: OrgClient, grpc_stubs: tuple[Any, Any]) -> None:
    _, rls = grpc_stubs
    policy(org, "per-user", "syftspace.rate_limit", {"limit": "2/m"})
    call = rate_limit_request(org.slug, [("user", "ann@x.org")], [("remote_address", "10.0.0.1")])
    first = rls.ShouldRateLimit(call, metadata=meta(org))
    assert first.overall_code == OK and len(first.statuses) == 2
    status = first.statuses[0]
    assert (status.current_limit.requests_per_unit, status.limit_remaining) == (2, 1)
    assert status.current_limit.unit == rls_pb2.RateLimitResponse.RateLimit.MINUTE
    assert rls.ShouldRateLimit(call, metadata=meta(org)).overall_code == OK
    third = rls.ShouldRateLimit(call, metadata=meta(org))
    assert third.overall_code == OVER and [s.code for s in third.statuses] == [OVER, OVER]
    assert 0 < third.statuses[0].duration_until_reset.seconds <= 61
    assert {h.key.lower() for h in third.response_headers_to_add} >= {"retry-after", "ratelimit-remaining"}
    other = rate_limit_request(org.slug, [("user", "bob@x.org")])
    assert rls.ShouldRateLimit(other, metadata=meta(org)).overall_code == OK
    (entry,) = logged(org, source="envoy_ratelimit", decision="deny")
    assert entry["input"]["user"] == "ann@x.org"


def test_should_rate_limit_domain_names_org_and_scope(
    org: OrgClient, other_org: OrgClient, grpc_stubs: tuple[Any, Any]
) -> None:
    _, rls = grpc_stubs
    assert org.post("scopes", json={"kind": "project", "key": "shop"}).status_code == 201
    policy(org, "blocked", "apinizer.policy-black-ip", {"ipList": ["192.0.2.0/24"]}, scope="shop")
    blocked = [("remote_address", "192.0.2.1")]
    assert rls.ShouldRateLimit(rate_limit_request(f"{org.slug}/shop", blocked), metadata=meta(org)).overall_code == OVER
    assert rls.ShouldRateLimit(rate_limit_request(org.slug, blocked), metadata=meta(org)).overall_code == OK
    with pytest.raises(grpc.RpcError) as theirs:
        rls.ShouldRateLimit(rate_limit_request(other_org.slug, blocked), metadata=meta(org))
    assert theirs.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as bad:
        rls.ShouldRateLimit(rate_limit_request(org.slug, [("k", "v")] * 65), metadata=meta(org))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT


# -- through `policyhub serve --grpc-port` ---------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.xdist_group("grpc-serve")
def test_serve_grpc_port_answers_check_and_rate_limit_in_the_served_process(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite:///{tmp_path / 'policyhub.db'}", log_path=tmp_path / "serve.log")
    grpc_port = free_port()
    env = {
        **os.environ,
        "POLICYHUB_DATABASE_URL": server.database_url,
        "POLICYHUB_BOOTSTRAP_ORG": ORG,
        "POLICYHUB_BOOTSTRAP_TOKEN": TOKEN,
        "POLICYHUB_AUDIT_KEY": AUDIT_KEY,
        "POLICYHUB_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "policyhub.cli.main", "serve", "--port", str(server.port)]
    with open(tmp_path / "serve.log", "wb") as log:
        server.proc = subprocess.Popen(
            [*command, "--grpc-port", str(grpc_port)], env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:
        server.wait_ready(30)
        with server.client() as api:
            r = api.post("policies", json={"name": "rl", "type": "syftspace.rate_limit", "spec": {"limit": "1/m"}})
            assert r.status_code == 201, r.text
        metadata = [("x-policyhub-key", TOKEN)]
        with stubs(grpc_port) as (auth, rls):
            request = check_request("GET", "/x", {"x-forwarded-user": "ann"})
            assert auth.Check(request, metadata=metadata, timeout=10).status.code == code_pb2.OK
            assert auth.Check(request, metadata=metadata, timeout=10).denied_response.status.code == 429
            call = rate_limit_request(ORG, [("user", "bob")])
            assert rls.ShouldRateLimit(call, metadata=metadata, timeout=10).overall_code == OK
            assert rls.ShouldRateLimit(call, metadata=metadata, timeout=10).overall_code == OVER
        assert "Envoy gRPC services" in server.log_text()
    finally:
        server.stop()


def test_serve_refuses_a_taken_grpc_port_before_doing_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYHUB_")}
        result = subprocess.run(
            [sys.executable, "-m", "policyhub.cli.main", "serve", "--port", str(free_port()), "--grpc-port", str(port)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2, result.stderr
    assert f"gRPC port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--grpc-port" in result.stderr and list(tmp_path.iterdir()) == []
