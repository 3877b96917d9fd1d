"""A real nginx (``auth_request``) in front of a small backend, with a real ``policyhub serve`` as its auth
service, configured by the shipped ``examples/nginx/policyhub-auth.conf`` (only ports, org, key and the
htpasswd path replaced). In CI a missing nginx fails; elsewhere the module skips saying why."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IN_CI
from tests.support.server import TOKEN, ServerProcess, free_port

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nginx")]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nginx" / "policyhub-auth.conf"
FRESHNESS_S = 0.25  # POLICYHUB_DECISION_REFRESH_S's default: the staleness bound of a replica's policies
USERS = {"ann": "ann-pw", "bob": "bob-pw"}


def _need_nginx() -> None:
    if not os.access(NGINX, os.X_OK):
        reason = f"nginx not found at {NGINX} (Debian's nginx-light has auth_request; .ci/run installs it)"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)


class Backend(http.server.BaseHTTPRequestHandler):
    """The upstream: answers every request with 200 ``backend <method> <path>``."""

    def _answer(self) -> None:
        body = f"backend {self.command} {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return None


@dataclass
class Stack:
    nginx: str  # base URL of nginx
    policyhub: ServerProcess
    api: httpx.Client  # PolicyHub's /v1/orgs/acme

    def get(self, path: str, user: str = "ann", **kw: Any) -> httpx.Response:
        return httpx.get(f"{self.nginx}{path}", auth=(user, USERS[user]), timeout=10, **kw)


def nginx_config(tmp: Path, listen: int, policyhub: int, backend: int) -> Path:
    example = EXAMPLE.read_text()
    replaced = (
        example.replace("127.0.0.1:8181", f"127.0.0.1:{policyhub}")
        .replace("127.0.0.1:8080", f"127.0.0.1:{backend}")
        .replace("listen 127.0.0.1:8000", f"listen 127.0.0.1:{listen}")
        .replace("phk_REPLACE_WITH_A_VIEWER_KEY", TOKEN)
        .replace("/etc/nginx/policyhub.htpasswd", str(tmp / "htpasswd"))
    )
    assert f"server 127.0.0.1:{policyhub};" in replaced and f"server 127.0.0.1:{backend};" in replaced
    (tmp / "policyhub-auth.conf").write_text(replaced)
    (tmp / "htpasswd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in USERS.items()))
    user = "user root root;\n" if os.geteuid() == 0 else ""  # root: keep the workers able to read tmp files
    main = f"""{user}worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/policyhub-auth.conf;
}}
"""
    conf = tmp / "nginx.conf"
    conf.write_text(main)
    return conf


def wait_http(url: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout_s}s")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    _need_nginx()
    tmp = tmp_path_factory.mktemp("nginx")
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    server = ServerProcess(f"sqlite:///{tmp / 'policyhub.db'}", log_path=tmp / "policyhub.log").start()
    listen = free_port()
    conf = nginx_config(tmp, listen, server.port, backend.server_address[1])
    proc = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "nginx.stderr", "wb"),  # noqa: SIM115 (the child holds its own descriptor)
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{listen}/")
        with server.client() as api:
            yield Stack(f"http://127.0.0.1:{listen}", server, api)
    finally:
        proc.terminate()
        proc.wait(10)
        server.stop()
        backend.shutdown()


def add_policy(stack: Stack, name: str, type_name: str, spec: dict[str, Any]) -> None:
    r = stack.api.post("policies", json={"name": name, "type": type_name, "spec": spec})
    assert r.status_code == 201, r.text


def logged_denials(stack: Stack, timeout_s: float = 5.0) -> list[dict[str, Any]]:
    """nginx's denials in the decision log (written in the background: polled)."""
    deadline = time.monotonic() + timeout_s
    while True:
        items: list[dict[str, Any]] = stack.api.get("decisions", params={"source": "nginx", "decision": "deny"}).json()[
            "items"
        ]
        if items or time.monotonic() > deadline:
            return items
        time.sleep(0.1)


def remove_policy(stack: Stack, name: str) -> None:
    assert stack.api.delete(f"policies/{name}").status_code == 200


def test_a_per_user_rate_limit_lets_five_through_and_answers_the_sixth_with_429(stack: Stack) -> None:
    add_policy(stack, "per-user", "syftspace.rate_limit", {"limit": "5/m"})
    try:
        time.sleep(FRESHNESS_S)
        answers = [stack.get(f"/orders?n={i}") for i in range(5)]
        answers.append(httpx.post(f"{stack.nginx}/orders", auth=("ann", USERS["ann"]), content=b"{}", timeout=10))
        assert [r.status_code for r in answers] == [200] * 5 + [429], [r.text for r in answers]
        assert answers[0].text == "backend GET /orders?n=0"  # the upstream answered the allowed ones
        assert [r.headers.get("ratelimit-remaining") for r in answers] == ["4", "3", "2", "1", "0", "0"]
        sixth = answers[5]
        assert 1 <= int(sixth.headers["retry-after"]) <= 61 and sixth.json()["status"] == 429
        assert "backend" not in sixth.text
        assert stack.get("/orders", user="bob").status_code == 200  # another user still passes
        denied = logged_denials(stack)
        assert [(d["input"]["user"], d["input"]["method"], d["input"]["path"]) for d in denied] == [
            ("ann", "POST", "/orders")
        ]
    finally:
        remove_policy(stack, "per-user")


def test_an_ip_deny_list_blocks_at_nginx_and_a_policy_change_applies_to_the_next_request(stack: Stack) -> None:
    assert stack.get("/a").status_code == 200
    add_policy(stack, "deny-local", "apinizer.policy-black-ip", {"ipList": ["127.0.0.0/8"]})
    changed = time.monotonic()
    # a client's own X-Forwarded-For does not hide its address: nginx appends the one it saw
    first = stack.get("/a", headers={"X-Forwarded-For": "198.51.100.7"})
    blocked_after = time.monotonic() - changed
    assert first.status_code == 403 and first.json() == {"decision": "deny", "status": 403}
    assert blocked_after < FRESHNESS_S + 2  # the next request, within the freshness bound (and the call itself)
    remove_policy(stack, "deny-local")
    deadline = time.monotonic() + FRESHNESS_S + 2
    while stack.get("/a").status_code != 200:
        assert time.monotonic() < deadline, "the removal did not apply within the freshness bound"
        time.sleep(0.05)


def test_nginx_fails_closed_when_policyhub_is_down(stack: Stack) -> None:
    """The module's last test: PolicyHub is killed (a crash) and stays down."""
    stack.policyhub.kill9()
    r = stack.get("/a")
    assert r.status_code in (500, 502, 503), r.text
    assert "backend" not in r.text
