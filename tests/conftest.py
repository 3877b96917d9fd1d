"""Shared fixtures: the real app on a real database (SQLite always; PostgreSQL when configured).

Each test gets its own org (and so its own tenant-isolated data) on a database migrated once per
session, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from policyhub.app import build_container
from policyhub.http.app import create_app
from policyhub.http.deps import Container
from policyhub.services.orgs import create_org
from policyhub.settings import Settings
from policyhub.storage.migrate import upgrade

PG_URL = os.environ.get("POLICYHUB_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("POLICYHUB_TEST_REDIS_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_reachable(url: str) -> str | None:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return None


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI:
        if not PG_URL:
            raise pytest.UsageError("CI=true but POLICYHUB_TEST_POSTGRES_URL is not set")
        problem = _pg_reachable(PG_URL)
        if problem:
            raise pytest.UsageError(f"CI=true but PostgreSQL at {PG_URL} is unreachable: {problem}")


def _fresh_pg_database(worker: str) -> str:
    """A new database for this test session (dropped at the end), on the configured server."""
    assert PG_URL
    base = make_url(PG_URL)
    name = f"policyhub_test_{worker}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(url: str) -> None:
    assert PG_URL
    name = make_url(url).database
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def worker_id_safe(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "policyhub.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url(worker_id_safe: str) -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PostgreSQL tests need POLICYHUB_TEST_POSTGRES_URL (CI sets it)")
    problem = _pg_reachable(PG_URL)
    if problem:
        pytest.skip(f"PostgreSQL at POLICYHUB_TEST_POSTGRES_URL unreachable: {problem}")
    url = _fresh_pg_database(worker_id_safe)
    upgrade(url)
    yield url
    _drop_pg_database(url)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Parametrises every API test over both backends."""
    return request.getfixturevalue(f"{request.param}_url")


#: The audit chain's key in tests: the CLI commands tests run (in process or not) read it from the
#: environment, as a server does (on PostgreSQL it refuses to write audit events without one).
TEST_AUDIT_KEY = "test-audit-key-0123456789abcdef0123456789abcdef"
os.environ.setdefault("POLICYHUB_AUDIT_KEY", TEST_AUDIT_KEY)
#: The bundle-signing key in tests (an Ed25519 seed, base64): PostgreSQL generates none.
TEST_BUNDLE_KEY = "dGVzdC1idW5kbGUta2V5LTAxMjM0NTY3ODlhYmNkZWY="
os.environ.setdefault("POLICYHUB_BUNDLE_SIGNING_KEY", TEST_BUNDLE_KEY)


def make_settings(url: str, **overrides: Any) -> Settings:
    """Test settings: decisions re-check the org's state on every call (the freshness bound has its own tests)
    and the decision log keeps every decision (its sampling has its own tests)."""
    defaults = {
        "decision_refresh_s": 0.0,
        "decision_log_sample_allow": 1.0,
        "audit_key": TEST_AUDIT_KEY,
        "bundle_signing_key": TEST_BUNDLE_KEY,
    }
    return Settings(database_url=url, access_log=False, **{**defaults, **overrides})


@pytest.fixture(scope="session")
def container(database_url: str) -> Iterator[Container]:
    c = build_container(make_settings(database_url))
    yield c
    c.db.dispose()


@pytest.fixture(scope="session")
def app_client(container: Container) -> Iterator[TestClient]:
    app = create_app(container=container)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@dataclass
class OrgClient:
    """A test client bound to one org and one key: ``org.post("policies", json=...)``."""

    client: TestClient
    slug: str
    org_id: str
    token: str
    container: Container

    def url(self, path: str) -> str:
        return path if path.startswith("/") else f"/v1/orgs/{self.slug}/{path}"

    def headers(self, extra: dict[str, str] | None = None, token: str | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {token or self.token}"}
        h.update(extra or {})
        return h

    def request(
        self, method: str, path: str, *, token: str | None = None, headers: dict[str, str] | None = None, **kw: Any
    ) -> Any:
        return self.client.request(method, self.url(path), headers=self.headers(headers, token), **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, *, merge: Any = None, ops: Any = None, **kw: Any) -> Any:
        if merge is not None:
            kw["json"] = merge
            kw.setdefault("headers", {})["Content-Type"] = "application/merge-patch+json"
        if ops is not None:
            kw["json"] = ops
            kw.setdefault("headers", {})["Content-Type"] = "application/json-patch+json"
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)

    def key(self, role: str, scope: str | None = None) -> str:
        """Issue a key with ``role`` (at ``scope``) for a new principal; returns the token."""
        p = self.post("principals", json={"kind": "service_account", "display_name": f"{role} bot"})
        assert p.status_code == 201, p.text
        k = self.post("keys", json={"principal_id": p.json()["id"], "role": role, "scope": scope})
        assert k.status_code == 201, k.text
        return str(k.json()["token"])

    def create_policy(self, name: str, spec: dict[str, Any] | None = None, **fields: Any) -> Any:
        body = {"name": name, "type": "document", "spec": spec if spec is not None else {"n": 1}, **fields}
        r = self.post("policies", json=body)
        assert r.status_code == 201, r.text
        return r.json()


def new_org(client: TestClient, container: Container, prefix: str = "org") -> OrgClient:
    slug = f"{prefix}-{uuid.uuid4().hex[:10]}"
    with container.db.write() as uow:
        created = create_org(uow, slug)
    assert created.admin_token
    return OrgClient(client, slug, created.org.id, created.admin_token, container)


@pytest.fixture
def org(app_client: TestClient, container: Container) -> OrgClient:
    """A fresh org with an admin key, on the parametrised backend."""
    return new_org(app_client, container)


@pytest.fixture
def other_org(app_client: TestClient, container: Container) -> OrgClient:
    return new_org(app_client, container, prefix="other")
