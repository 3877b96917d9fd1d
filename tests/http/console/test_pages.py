"""Console pages through the real app: the same roles and scopes as the API, edit with preview and a
conditional save, rollback conditional on the ETag, audit with the chain's verification, decisions and why,
keys, and hostile content rendered inert."""

from __future__ import annotations

import re

import pytest

from policyhub.http.console import policies as policy_pages
from tests.conftest import OrgClient
from tests.http.console.support import Browser, csrf_of

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def _etag(org: OrgClient, name: str) -> str:
    return str(org.get(f"policies/{name}").headers["etag"])


def _edit_form(b: Browser, name: str) -> dict[str, str]:
    html = b.get(f"policies/{name}/edit").text
    etag = re.search(r'name="etag" value="([^"]+)"', html)
    assert etag
    return {"etag": etag.group(1).replace("&#34;", '"'), "enforcement": "enforce", "enabled": "on", "comment": ""}


def test_policy_list_applies_the_apis_filters_and_pages(org: OrgClient, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        org.create_policy(f"svc-{i}", labels={"env": "prod" if i % 2 else "dev"})
    org.create_policy("other", enabled=False)
    b = Browser(org, org.token)
    html = b.get("policies?labels=env%3Dprod").text
    assert "svc-1" in html and "svc-3" in html and "svc-0" not in html and "other" not in html
    html = b.get("policies?enabled=false").text
    assert ">other<" in html and "svc-1" not in html
    html = b.get("policies?name=svc-&type=document").text
    assert html.count('href="/console/orgs/') >= 5
    assert "label" in b.get("policies?labels=%3D%3D").text  # a bad selector is a message, not a 500
    monkeypatch.setattr(policy_pages, "PAGE_SIZE", 2)
    seen: list[str] = []
    url = "policies?name=svc-"
    for _ in range(4):
        page = b.get(url)
        assert page.status_code == 200
        seen += re.findall(r'policies/(svc-\d)"', page.text)
        nxt = re.search(r'href="([^"]+)" rel="next"', page.text)
        if not nxt:
            break
        url = nxt.group(1).replace("&amp;", "&")
    assert seen == [f"svc-{i}" for i in range(5)]


def test_a_viewer_sees_no_edit_controls_and_a_forged_post_is_refused(org: OrgClient) -> None:
    org.create_policy("p", {"n": 1})
    org.put("policies/p", json={"name": "p", "spec": {"n": 2}}, headers={"If-Match": _etag(org, "p")})
    viewer = Browser(org, org.key("viewer"))
    editor = Browser(org, org.key("editor"))
    assert 'href="/console/orgs/' in editor.get("policies/p").text
    assert "/edit" in editor.get("policies/p").text and "roll back" in editor.get("policies/p/history").text
    for path in ("policies/p", "policies/p/history", "policies/p/versions/1"):
        html = viewer.get(path).text
        assert "/edit" not in html and "roll back" not in html.lower() and "rollback?" not in html
    assert "API keys" not in viewer.get("policies").text
    etag = _etag(org, "p")
    forged = {"etag": etag, "spec": "n: 99\n", "enforcement": "enforce", "enabled": "on", "action": "save"}
    assert viewer.post("policies/p/edit", forged).status_code == 403
    assert viewer.post("policies/p/rollback", {"version": "1", "etag": etag}).status_code == 403
    assert viewer.get("keys").status_code == 403
    assert org.get("policies/p").json()["spec"] == {"n": 2}


def test_a_scoped_key_sees_only_its_scope(org: OrgClient) -> None:
    assert org.post("scopes", json={"kind": "team", "key": "pay", "name": "Payments"}).status_code == 201
    assert org.post("scopes", json={"kind": "team", "key": "web", "name": "Web"}).status_code == 201
    org.create_policy("in-pay", scope="pay")
    org.create_policy("in-web", scope="web")
    b = Browser(org, org.key("editor", scope="pay"))
    html = b.get("policies").text
    assert "in-pay" in html and "in-web" not in html
    assert b.get("policies/in-web").status_code == 404
    assert b.get("policies/in-web/history").status_code == 404
    assert "in-web" not in b.get("scopes").text
    assert b.get("audit").status_code == 403  # as GET /v1/orgs/{org}/events: the whole org's log
    assert f'href="{b.base}/audit"' not in html


def test_edit_preview_is_a_dry_run_with_the_diff_and_errors_next_to_fields(org: OrgClient) -> None:
    org.create_policy("p", {"limit": 1, "keep": True})
    b = Browser(org, org.token)
    form = _edit_form(b, "p")
    r = b.post(
        "policies/p/edit", {**form, "spec": "limit: 5\nkeep: true\n", "labels": "team=core", "action": "preview"}
    )
    assert r.status_code == 200
    assert "Preview" in r.text and "create version 2" in r.text
    assert 'class="d-changed"' in r.text and "limit: 5" in r.text and "team=core" in r.text
    assert org.get("policies/p").json()["version"] == 1  # nothing saved
    r = b.post("policies/p/edit", {**form, "spec": "limit: [1\n", "action": "preview"})
    assert r.status_code == 400
    assert re.search(r'data-field="spec">[^<]*invalid YAML at line', r.text)
    r = b.post("policies/p/edit", {**form, "spec": "a: 1\n", "labels": "no equals sign", "action": "preview"})
    assert r.status_code == 400 and 'data-field="labels"' in r.text
    r = b.post("policies/p/edit", {**form, "spec": "a: 1\n", "enforcement": "sometimes", "action": "preview"})
    assert r.status_code == 400 and 'data-field="enforcement"' in r.text


def test_save_is_conditional_on_the_version_the_form_was_opened_on(org: OrgClient) -> None:
    org.create_policy("p", {"n": 1})
    b = Browser(org, org.token)
    form = _edit_form(b, "p")
    org.put("policies/p", json={"name": "p", "spec": {"n": 50}}, headers={"If-Match": _etag(org, "p")})
    r = b.post("policies/p/edit", {**form, "spec": "n: 2\n", "action": "save"})
    assert r.status_code == 409 and "Conflict" in r.text and "Nothing was saved" in r.text
    assert org.get("policies/p").json()["spec"] == {"n": 50}
    form = _edit_form(b, "p")
    r = b.post("policies/p/edit", {**form, "spec": "n: 3\n", "comment": "raise it", "action": "save"})
    assert r.status_code == 303 and r.headers["location"].endswith("/policies/p?saved=3")
    doc = org.get("policies/p").json()
    assert doc["spec"] == {"n": 3} and doc["version"] == 3
    assert org.get("policies/p/versions/3").json()["comment"] == "raise it"


def test_rollback_is_confirmed_and_conditional_and_shows_in_audit_with_the_chain_verified(org: OrgClient) -> None:
    org.create_policy("p", {"n": 1})
    org.put("policies/p", json={"name": "p", "spec": {"n": 2}}, headers={"If-Match": _etag(org, "p")})
    b = Browser(org, org.token)
    confirm = b.get("policies/p/rollback?version=1")
    assert confirm.status_code == 200 and "Roll back to version 1?" in confirm.text
    stale = re.search(r'name="etag" value="([^"]+)"', confirm.text)
    assert stale
    org.put("policies/p", json={"name": "p", "spec": {"n": 3}}, headers={"If-Match": _etag(org, "p")})
    r = b.post("policies/p/rollback", {"version": "1", "etag": stale.group(1).replace("&#34;", '"')})
    assert r.status_code == 409 and "Conflict" in r.text and "Nothing was rolled back" in r.text
    assert org.get("policies/p").json()["spec"] == {"n": 3}
    fresh = re.search(r'name="etag" value="([^"]+)"', r.text)
    assert fresh
    r = b.post("policies/p/rollback", {"version": "1", "etag": fresh.group(1).replace("&#34;", '"'), "comment": "oops"})
    assert r.status_code == 303
    doc = org.get("policies/p").json()
    assert doc["spec"] == {"n": 1} and doc["version"] == 4
    audit = b.get("audit/verify").text
    assert "Chain verified up to event" in audit
    assert re.search(r"ev-rollback.*?/policies/p/versions/4", audit, re.S)
    diff = b.get("policies/p/diff?from=3&to=4").text
    assert 'class="d-changed"' in diff and "n: 3" in diff and "n: 1" in diff


def test_the_diff_shows_metadata_changes_between_versions(org: OrgClient) -> None:
    org.create_policy("p", {"n": 1}, description="first")
    org.patch("policies/p", merge={"description": "second", "labels": {"tier": "gold"}})
    org.patch("policies/p", merge={"spec": {"n": 2}})
    html = Browser(org, org.token).get("policies/p/diff?from=1&to=2").text
    assert "<code>description</code>" in html and "second" in html and "<code>labels</code>" in html
    assert "No metadata" in Browser(org, org.token).get("policies/p/diff?from=2&to=2").text


def test_a_denied_decision_explains_itself_and_links_the_policy_version(org: OrgClient) -> None:
    org.create_policy("block", {"ipList": ["203.0.113.0/24"]}, type="apinizer.policy-black-ip")
    body = {"point": "http_request", "input": {"client_ip": "203.0.113.9", "method": "GET", "path": "/x"}}
    decided = org.post("decisions", json=body).json()
    assert decided["decision"] == "deny"
    org.container.decisions.log.flush()
    b = Browser(org, org.token)
    listing = b.get("decisions?decision=deny").text
    assert f"/decisions/{decided['id']}" in listing
    assert decided["id"] not in b.get("decisions?decision=allow").text
    assert f"/decisions/{decided['id']}" in b.get("decisions?policy=block").text
    missing = b.get("decisions?policy=nope")
    assert missing.status_code == 200 and "no policy &#39;nope&#39;" in missing.text
    page = b.get(f"decisions/{decided['id']}").text
    policy_id = decided["results"][0]["policy_id"]
    assert f"/policies/{policy_id}/versions/1" in page
    assert "client IP 203.0.113.9 is in the blocked IP list" in page
    version = b.get(f"policies/{policy_id}/versions/1").text
    assert "203.0.113.0/24" in version and "block" in version


def test_hostile_content_renders_as_text(org: OrgClient) -> None:
    assert org.post("scopes", json={"kind": "team", "key": "t", "name": HOSTILE}).status_code == 201
    org.create_policy("p", {"note": HOSTILE, HOSTILE: 1}, description=HOSTILE, labels={"team": "x"}, scope="t")
    org.patch("policies/p", merge={"spec": {"note": "calm"}}, params={"comment": HOSTILE})
    b = Browser(org, org.token)
    for path in (
        "policies",
        "policies/p",
        "policies/p/history",
        "policies/p/diff?from=1&to=2",
        "policies/p/edit",
        "policies/p/versions/1",
        "scopes",
        "audit",
    ):
        html = b.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in b.get("policies/p").text
    assert "&lt;script&gt;" in b.get("scopes").text


def test_keys_admin_issues_a_token_shown_once_and_revokes(org: OrgClient) -> None:
    b = Browser(org, org.token)
    r = b.post("keys", {"display_name": HOSTILE, "role": "viewer", "name": "ci"})
    assert r.status_code == 201
    token = re.search(r'id="new-token">([^<]+)<', r.text)
    assert token and token.group(1).startswith("phk_")
    assert "<script>alert" not in r.text
    listing = b.get("keys").text
    assert token.group(1) not in listing  # shown once
    assert org.get("policies", token=token.group(1)).status_code == 200
    key_id = re.findall(r"keys/([0-9a-f-]{36})/revoke", listing)
    assert key_id
    prefix = token.group(1)[:12]
    target = next(k["id"] for k in org.get("keys").json() if k["prefix"] == prefix)
    r = b.post(f"keys/{target}/revoke", {})
    assert r.status_code == 200 and "revoked" in r.text
    assert org.get("policies", token=token.group(1)).status_code == 401
    r = b.post("keys", {"display_name": "x", "role": "superuser"})
    assert r.status_code == 400 and "role" in r.text


def test_pages_send_a_strict_content_security_policy(org: OrgClient) -> None:
    r = Browser(org, org.token).get("policies")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


def test_rollout_shows_each_environment_with_desired_and_applied_revisions(org: OrgClient) -> None:
    assert org.post("scopes", json={"kind": "team", "key": "pay", "name": "Payments"}).status_code == 201
    assert org.put("environments/prod", json={"scopes": ["pay"]}).status_code == 201
    org.create_policy("p", {"n": 1})
    agent = org.key("agent")
    desired = org.get("environments/prod/status").json()["desired"]["revision"]
    assert desired > 1
    for name, revision in (("edge-1", desired), ("edge-2", 1)):
        status = {"environment": "prod", "revision": revision, "address": "10.0.0.7:8181", "last_error": None}
        assert org.post(f"agents/{name}/status", json=status, token=agent).status_code == 204
    html = Browser(org, org.token).get("rollout").text
    assert "prod" in html and "<code>pay</code>" in html and f"<strong>{desired}</strong>" in html
    assert "1/2 in sync" in html and f"drift: {desired - 1} behind" in html and "edge-1" in html
    b = Browser(org)  # an agent key is for bundles and reports: it cannot sign in
    page = b.client.get("/console/sign-in")
    r = b.client.post("/console/sign-in", data={"csrf": csrf_of(page.text), "api_key": agent})
    assert r.status_code == 403 and "cannot sign in" in r.text
    scoped = Browser(org, org.key("viewer", scope="pay"))
    assert "Rollout" not in scoped.get("policies").text and scoped.get("rollout").status_code == 403


def test_a_logged_decision_whose_results_were_cut_still_renders(org: OrgClient) -> None:
    from datetime import UTC, datetime

    from policyhub.storage.repositories.decisions import LoggedDecision

    marker = {"_truncated": True, "bytes": 99_999_999, "sha256": "0" * 64}
    row = LoggedDecision(
        id="01a00000-0000-7000-8000-000000000001",
        org_id=org.org_id,
        at=datetime.now(UTC),
        source="v1",
        point="http_request",
        scope_path=None,
        decision="deny",
        input_hash="h" * 64,
        input=marker,
        results=marker,  # type: ignore[arg-type]  # what an old oversized row reads back as
        obligations=[],
        principal_id=None,
        policy_state=1,
    )
    org.container.db.transact(lambda uow: uow.decisions.insert_many([row]), tracked=False)
    b = Browser(org, org.token)
    assert b.get("decisions").status_code == 200
    assert b.get(f"decisions/{row.id}").status_code == 200


def test_saving_keeps_the_fields_the_form_does_not_edit(org: OrgClient) -> None:
    """The save is a PUT, which resets what it omits: every editable field the form does not show is sent
    as it is."""
    org.post("policies", json={"name": "kept", "type": "document", "spec": {"n": 1}, "attributes": {"owner": "ann"}})
    b = Browser(org, org.token)
    form = _edit_form(b, "kept")
    r = b.post("policies/kept/edit", {**form, "spec": "n: 2\n", "labels": "", "action": "save"})
    assert r.status_code == 303
    doc = org.get("policies/kept").json()
    assert doc["spec"] == {"n": 2} and doc["attributes"] == {"owner": "ann"}
