"""Console sign-in: an API key exchanged for a server-side session; cookie flags, expiry, sign-out, revocation,
and the CSRF and Origin checks on every form (real app, real database, both backends)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select, update

from policyhub.domain.canonical import now
from policyhub.storage.tables import console_sessions
from tests.conftest import OrgClient
from tests.http.console.support import Browser, csrf_of


def _cookie(response: object, name: str) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    found = [h for h in headers if h.startswith(f"{name}=")]
    assert found, headers
    return str(found[0])


def _sessions(org: OrgClient) -> list[object]:
    with org.container.db.read() as uow:
        return list(uow.conn.execute(select(console_sessions).where(console_sessions.c.org_id == org.org_id)))


def test_root_and_console_lead_to_sign_in_without_a_session(org: OrgClient) -> None:
    b = Browser(org)
    r = b.client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/console"
    r = b.client.get("/console", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in"
    r = b.get("policies?type=document")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/console/sign-in?next=%2Fconsole%2Forgs%2F")


def test_sign_in_sets_a_strict_http_only_cookie_whose_token_is_stored_only_hashed(org: OrgClient) -> None:
    b = Browser(org)
    r = b.sign_in(org.token)
    cookie = _cookie(r, "policyhub_session")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http here
    token = cookie.split(";")[0].split("=", 1)[1]
    rows = _sessions(org)
    assert len(rows) == 1
    row = rows[0]
    assert row.id == hashlib.sha256(token.encode()).hexdigest() and token not in str(tuple(row))  # type: ignore[attr-defined]
    assert org.token not in str(tuple(row))  # type: ignore[arg-type]
    assert b.client.get("/console", follow_redirects=False).headers["location"] == f"{b.base}/policies"


def test_the_cookie_is_secure_under_tls(org: OrgClient) -> None:
    b = Browser(org, base_url="https://testserver")
    assert "Secure" in _cookie(b.sign_in(org.token), "policyhub_session")


def test_a_wrong_key_is_refused_and_opens_no_session(org: OrgClient) -> None:
    b = Browser(org)
    page = b.client.get("/console/sign-in")
    r = b.client.post("/console/sign-in", data={"csrf": csrf_of(page.text), "api_key": "phk_nope"})
    assert r.status_code == 401 and "not valid" in r.text
    assert _sessions(org) == []


def test_sign_in_needs_its_form_token_and_this_sites_origin(org: OrgClient) -> None:
    b = Browser(org)
    r = b.client.post("/console/sign-in", data={"csrf": "forged", "api_key": org.token}, follow_redirects=False)
    assert r.status_code == 400  # no sign-in cookie: the form did not come from our page
    page = b.client.get("/console/sign-in")
    r = b.client.post(
        "/console/sign-in",
        data={"csrf": csrf_of(page.text), "api_key": org.token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert _sessions(org) == []


def test_sign_in_never_redirects_off_the_console(org: OrgClient) -> None:
    b = Browser(org)
    page = b.client.get("/console/sign-in?next=//evil.example/x")
    assert "evil.example" not in page.text
    r = b.client.post(
        "/console/sign-in",
        data={"csrf": csrf_of(page.text), "api_key": org.token, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == f"{b.base}/policies"


def test_sign_out_deletes_the_session(org: OrgClient) -> None:
    b = Browser(org, org.token)
    stolen = dict(b.client.cookies)
    r = b.client.post("/console/sign-out", data={"csrf": b.csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in"
    assert _sessions(org) == []
    replay = Browser(org)
    replay.client.cookies.update(stolen)
    assert replay.get("policies").status_code == 303  # the old cookie signs nobody in


def test_sign_out_needs_the_csrf_token(org: OrgClient) -> None:
    b = Browser(org, org.token)
    r = b.client.post("/console/sign-out", data={"csrf": "wrong"}, follow_redirects=False)
    assert r.status_code == 403
    assert len(_sessions(org)) == 1


def _age(org: OrgClient, **fields: object) -> None:
    with org.container.db.write() as uow:
        uow.conn.execute(update(console_sessions).where(console_sessions.c.org_id == org.org_id).values(**fields))


def test_an_idle_session_ends(org: OrgClient) -> None:
    b = Browser(org, org.token)
    idle = org.container.settings.console_session_idle_s
    _age(org, last_seen_at=now() - timedelta(seconds=idle - 120))
    assert b.get("policies").status_code == 200  # within the idle time; the visit renews it
    _age(org, last_seen_at=now() - timedelta(seconds=idle + 1))
    r = b.get("policies")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/sign-in")


def test_a_session_ends_at_its_absolute_expiry_however_active(org: OrgClient) -> None:
    b = Browser(org, org.token)
    _age(org, expires_at=now() - timedelta(seconds=1), last_seen_at=now())
    assert b.get("policies").status_code == 303


def test_a_revoked_key_ends_its_sessions(org: OrgClient) -> None:
    token = org.key("editor")
    b = Browser(org, token)
    assert b.get("policies").status_code == 200
    key_id = next(k["id"] for k in org.get("keys").json() if token.startswith(k["prefix"]))
    assert org.delete(f"keys/{key_id}").status_code == 200
    r = b.get("policies")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/sign-in")
    assert len(_sessions(org)) == 0


def test_another_orgs_console_is_a_404(org: OrgClient, other_org: OrgClient) -> None:
    b = Browser(org, org.token)
    assert b.get(f"/console/orgs/{other_org.slug}/policies").status_code == 404
    other_org.create_policy("theirs")
    assert b.get("policies/theirs").status_code == 404


def test_every_post_needs_the_sessions_csrf_token_and_origin(org: OrgClient) -> None:
    org.create_policy("p", {"n": 1})
    b = Browser(org, org.token)
    etag = org.get("policies/p").headers["etag"]
    form = {"etag": etag, "spec": "n: 2\n", "enforcement": "enforce", "enabled": "on", "action": "save"}
    assert b.post("policies/p/edit", form, csrf=False).status_code == 403
    assert b.post("policies/p/edit", {**form, "csrf": "not-the-token"}, csrf=False).status_code == 403
    r = b.post("policies/p/edit", form, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    assert org.get("policies/p").json()["spec"] == {"n": 1}
    other = Browser(org, org.token)  # another session's token is not this one's
    assert b.post("policies/p/edit", {**form, "csrf": other.csrf}, csrf=False).status_code == 403
    assert b.post("policies/p/edit", form, headers={"Origin": "http://testserver"}).status_code == 303
    assert org.get("policies/p").json()["spec"] == {"n": 2}


def test_signing_in_again_ends_the_browsers_previous_session(org: OrgClient) -> None:
    b = Browser(org, org.token)
    old = dict(b.client.cookies)
    b.sign_in(org.token)
    assert len(_sessions(org)) == 1
    replay = Browser(org)
    replay.client.cookies.update(old)
    assert replay.get("policies").status_code == 303


def test_secure_cookies_behind_a_trusted_tls_proxy_only(database_url: str, org: OrgClient) -> None:
    from fastapi.testclient import TestClient

    from policyhub.app import build_container
    from policyhub.http.app import create_app
    from tests.conftest import make_settings

    for trusted in (False, True):
        c = build_container(make_settings(database_url, trust_forwarded_proto=trusted))
        try:
            client = TestClient(create_app(container=c))
            page = client.get("/console/sign-in")
            r = client.post(
                "/console/sign-in",
                data={"csrf": csrf_of(page.text), "api_key": org.token},
                headers={"X-Forwarded-Proto": "https"},
                follow_redirects=False,
            )
            assert r.status_code == 303
            assert ("Secure" in _cookie(r, "policyhub_session")) is trusted
        finally:
            c.db.dispose()


def test_only_admins_manage_keys(org: OrgClient) -> None:
    editor = Browser(org, org.key("editor"))
    assert editor.get("keys").status_code == 403
    assert editor.post("keys", {"display_name": "x", "role": "admin"}).status_code == 403
    key_id = org.get("keys").json()[0]["id"]
    assert editor.post(f"keys/{key_id}/revoke", {}).status_code == 403
    assert org.get("keys").json()[0]["revoked_at"] is None
