"""The console in a real browser (Playwright driving Debian's Chromium) against a real ``policyhub serve``.

Flows: sign in; find a policy; edit with preview; save; the new version; a diff of two versions; rollback;
the rollback in the audit view with the chain verified; a denied decision followed to the policy version
that denied it; a viewer sees no edit controls and a forged post is refused; an expired session goes back
to sign-in; hostile names render inert. With ``POLICYHUB_SCREENSHOTS=1`` the main pages are saved as
``docs/console/*.png`` (the README shows them); otherwise nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, update

from policyhub.domain.canonical import now
from policyhub.storage.tables import console_sessions
from tests.conftest import IN_CI
from tests.support.server import ORG, TOKEN, ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("console-browser")]

CHROMIUM = os.environ.get("POLICYHUB_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[3] / "docs" / "console"
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
BASE = f"/console/orgs/{ORG}"


def _need_browser() -> Any:
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a dev dependency
        reason = f"playwright is not installed ({exc})"
    if reason is None and not os.access(CHROMIUM, os.X_OK):
        reason = f"chromium not found at {CHROMIUM} (Debian's chromium package; .ci/run installs it)"
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return sync_playwright


class Site:
    """The running server, an API client of its org, and its database (to age sessions)."""

    def __init__(self, server: ServerProcess, api: httpx.Client, db_url: str) -> None:
        self.server, self.api, self.db_url = server, api, db_url

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"

    def policy(self, name: str, spec: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body = {"name": name, "type": "document", "spec": spec, **fields}
        r = self.api.post("policies", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def put(self, name: str, spec: dict[str, Any], comment: str = "") -> None:
        """A new version with ``spec`` (everything else kept)."""
        got = self.api.get(f"policies/{name}")
        keep = ("name", "description", "enforcement", "enabled", "labels", "attributes")
        body = {**{k: got.json()[k] for k in keep}, "spec": spec, "comment": comment}
        r = self.api.put(f"policies/{name}", json=body, headers={"If-Match": got.headers["etag"]})
        assert r.status_code == 200, r.text

    def key(self, role: str, name: str) -> str:
        p = self.api.post("principals", json={"kind": "user", "display_name": name})
        k = self.api.post("keys", json={"principal_id": p.json()["id"], "role": role, "name": name.lower()})
        assert k.status_code == 201, k.text
        return str(k.json()["token"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    _need_browser()
    path = tmp_path_factory.mktemp("console") / "console.db"
    url = f"sqlite:///{path}"
    server = ServerProcess(url, log_path=path.with_suffix(".log")).start()
    api = server.client()
    try:
        yield Site(server, api, url)
    finally:
        api.close()
        server.stop()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    sync_playwright = _need_browser()
    with sync_playwright() as p:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    pg = context.new_page()
    pg.set_default_timeout(20_000)  # generous: the machine may be busy with other tests
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    context.close()


def shot(page: Any, name: str) -> None:
    """Save a screenshot of the page when POLICYHUB_SCREENSHOTS=1 (so ordinary runs never touch the tree)."""
    if os.environ.get("POLICYHUB_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def sign_in(page: Any, site: Site, token: str = TOKEN) -> None:
    page.goto(site.url("/"))
    assert page.url.endswith("/console/sign-in")
    page.fill("#api_key", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{BASE}/policies")


def test_sign_in_find_edit_preview_save_diff_roll_back_and_audit(site: Site, page: Any) -> None:
    for key, name, parent in (("payments", "Payments", None), ("prod", "Payments production", "payments")):
        body = {"kind": "team" if parent is None else "environment", "key": key, "name": name, "parent": parent}
        assert site.api.post("scopes", json=body).status_code == 201
    site.policy(
        "checkout-rate-limit",
        {"limit": 100, "window": "1m", "key": "client_ip"},
        description="Caps checkout calls per client",
        labels={"team": "payments", "env": "prod"},
        scope="payments/prod",
    )
    site.put("checkout-rate-limit", {"limit": 120, "window": "1m", "key": "client_ip"}, "Black Friday headroom")
    for i, team in enumerate(("search", "identity", "billing", "platform")):
        site.policy(f"{team}-baseline", {"require_mtls": True, "max_body_kb": 256 + i}, labels={"team": team})
    site.policy("legacy-allowlist", {"hosts": ["10.0.0.0/8"]}, enabled=False, enforcement="warn")

    page.goto(site.url("/"))
    shot(page, "sign-in")
    sign_in(page, site)
    shot(page, "policies")
    page.fill("input[name=name]", "checkout")
    page.click("form.filters button[type=submit]")
    assert page.locator("table.grid tbody tr").count() == 1
    page.click("text=checkout-rate-limit")
    page.wait_for_url(f"**{BASE}/policies/checkout-rate-limit")
    assert "payments/prod" in page.inner_text(".meta")
    shot(page, "policy")

    page.click("a.button:has-text('Edit')")
    spec = page.input_value("#spec")
    assert "limit: 120" in spec
    page.fill("#spec", spec.replace("limit: 120", "limit: 150"))
    page.fill("#comment", "Raise the cap after load test")
    page.click("button[value=preview]")
    assert page.locator("section.preview").is_visible()
    assert "limit: 150" in page.inner_text("section.preview tr.d-changed")
    assert site.api.get("policies/checkout-rate-limit").json()["version"] == 2  # a preview writes nothing
    shot(page, "edit-preview")
    page.click("button[value=save]")
    page.wait_for_url("**/policies/checkout-rate-limit?saved=3")
    assert "version 3" in page.inner_text(".notice")

    page.click("nav.tabs >> text=History")
    assert page.locator("td:text-is('Raise the cap after load test')").is_visible()
    shot(page, "history")
    page.check("input[name=from][value='1']")
    page.check("input[name=to][value='3']")
    page.click("text=Compare selected versions")
    page.wait_for_url("**/diff?*")
    changed = page.inner_text("table.diff tr.d-changed")
    assert "limit: 100" in changed and "limit: 150" in changed
    shot(page, "diff")

    page.click("nav.tabs >> text=History")
    page.click("tr:has(a:text-is('v1')) >> text=roll back to this")
    assert "Roll back to version 1?" in page.inner_text("h1")
    page.fill("#comment", "Back to the audited limit")
    shot(page, "rollback")
    page.click("button:has-text('Roll back to version 1')")
    page.wait_for_url("**/history?done=rollback")
    assert "version 4" in page.inner_text(".notice")
    assert site.api.get("policies/checkout-rate-limit").json()["spec"]["limit"] == 100

    page.click("nav.mainnav >> text=Audit")
    page.click("text=Verify the chain")
    assert "Chain verified up to event" in page.inner_text(".verified")
    row = page.locator("table.grid tbody tr").first
    assert "rollback" in row.inner_text() and "version 4" in row.inner_text()
    shot(page, "audit")
    row.locator("text=version 4").click()
    assert "limit: 100" in page.inner_text("pre.code")


def test_a_denied_decision_leads_to_the_policy_version_that_denied_it(site: Site, page: Any) -> None:
    blocked = {"ipList": ["203.0.113.0/24"], "errorMessageList": []}
    site.policy("edge-blocklist", blocked, type="apinizer.policy-black-ip", description="Known abusive ranges")
    for ip in ("198.51.100.7", "203.0.113.9"):
        body = {"point": "http_request", "input": {"client_ip": ip, "method": "POST", "path": "/checkout"}}
        assert site.api.post("decisions", json=body).status_code == 200
    sign_in(page, site)
    page.click("nav.mainnav >> text=Decisions")
    page.select_option("select[name=decision]", "deny")
    page.click("form.filters button[type=submit]")
    shot(page, "decisions")
    page.locator("table.grid tbody tr").first.locator("text=why?").click()
    assert page.inner_text("h1").strip().endswith("deny")
    assert "client IP 203.0.113.9 is in the blocked IP list" in page.inner_text("section.result")
    shot(page, "decision")
    page.click("section.result a.version-link")
    assert "Version 1" in page.inner_text("h1")
    assert "203.0.113.0/24" in page.inner_text("pre.code")
    assert "edge-blocklist" in page.inner_text(".crumbs")
    page.click("nav.mainnav >> text=Scopes")
    assert "checkout-rate-limit" in page.inner_text("li.depth-2")
    shot(page, "scopes")
    page.click("nav.mainnav >> text=API keys")
    shot(page, "keys")
    for env, scopes in (("prod", ["payments/prod"]), ("staging", ["payments"])):
        assert site.api.put(f"environments/{env}", json={"scopes": scopes}).status_code == 201
    desired = site.api.get("environments/prod/status").json()["desired"]["revision"]
    agent = site.key("agent", "Edge agents")
    for name, env, revision in (("edge-fra-1", "prod", desired), ("edge-fra-2", "prod", desired - 3)):
        status = {"environment": env, "revision": revision, "address": "10.0.4.2:8181", "last_error": None}
        r = site.api.post(f"agents/{name}/status", json=status, headers={"Authorization": f"Bearer {agent}"})
        assert r.status_code == 204, r.text
    page.click("nav.mainnav >> text=Rollout")
    assert "drift: 3 behind" in page.inner_text("main")
    shot(page, "rollout")


def test_a_viewer_sees_no_edit_controls_and_a_forged_post_is_refused(site: Site, page: Any) -> None:
    site.policy("viewer-check", {"n": 1})
    site.put("viewer-check", {"n": 2})
    sign_in(page, site, site.key("viewer", "Vera Viewer"))
    page.goto(site.url(f"{BASE}/policies/viewer-check"))
    assert page.locator("a:has-text('Edit')").count() == 0
    page.goto(site.url(f"{BASE}/policies/viewer-check/history"))
    assert page.locator("text=roll back").count() == 0
    etag = site.api.get("policies/viewer-check").headers["etag"]
    status = page.evaluate(
        """async ([url, etag]) => {
            const csrf = document.querySelector('input[name=csrf]').value;
            const body = new URLSearchParams({csrf, etag, spec: 'n: 666', enforcement: 'enforce', action: 'save'});
            const r = await fetch(url, {method: 'POST', body, redirect: 'manual'});
            return r.status;
        }""",
        [site.url(f"{BASE}/policies/viewer-check/edit"), etag],
    )
    assert status == 403
    assert site.api.get("policies/viewer-check").json()["spec"] == {"n": 2}


def test_an_expired_session_goes_back_to_sign_in(site: Site, page: Any) -> None:
    sign_in(page, site, site.key("editor", "Eddie Expired"))
    engine = create_engine(site.db_url)
    with engine.begin() as conn:
        conn.execute(update(console_sessions).values(expires_at=now() - timedelta(seconds=1)))
    engine.dispose()
    page.goto(site.url(f"{BASE}/audit"))
    assert "/console/sign-in?next=" in page.url
    assert "session has ended" in page.inner_text("main")
    page.fill("#api_key", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{BASE}/audit")  # back where the user was going


def test_hostile_names_labels_and_values_render_inert(site: Site, page: Any) -> None:
    assert site.api.post("scopes", json={"kind": "team", "key": "hostile", "name": HOSTILE}).status_code == 201
    site.policy(
        "hostile", {"note": HOSTILE, "html": "<b>bold</b>"}, description=HOSTILE, labels={"x": "y"}, scope="hostile"
    )
    site.put("hostile", {"note": "calm"}, comment=HOSTILE)
    sign_in(page, site)
    for path in (
        "policies?name=hostile",
        "policies/hostile",
        "policies/hostile/history",
        "policies/hostile/diff?from=1&to=2",
        "policies/hostile/edit",
        "scopes",
        "audit",
    ):
        page.goto(site.url(f"{BASE}/{path}"))
        assert page.locator("img").count() == 0, path
    assert page.dialogs == []
    page.goto(site.url(f"{BASE}/policies/hostile"))
    assert HOSTILE in page.inner_text(".meta")
    page.goto(site.url(f"{BASE}/scopes"))
    assert HOSTILE in page.inner_text("main")
    assert page.dialogs == []


def test_api_docs_render_offline(site: Site, page: Any) -> None:
    """/docs and /redoc render with every request to another host refused (as on a machine offline)."""
    outside: list[str] = []

    def only_here(route: Any) -> None:
        if route.request.url.startswith(site.server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    page.goto(site.url("/docs"))
    page.wait_for_selector(".swagger-ui .opblock", timeout=60_000)  # a 1.5 MB bundle and the whole OpenAPI
    assert "PolicyHub" in page.inner_text(".swagger-ui .info")
    assert page.locator(".opblock").count() > 10  # the operations are listed
    page.goto(site.url("/redoc"))
    page.wait_for_selector("text=API docs by Redocly", timeout=60_000)
    assert "/v1/orgs/{org}/policies" in page.inner_text("body")
    assert outside == []
