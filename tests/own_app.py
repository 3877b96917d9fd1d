"""An app of a test module's own, for settings or policy types the shared ``container`` lacks.

The container is built from ``settings`` and, when done, its decision log's writer is closed before
its database is disposed of (the writer flushes through the database).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from policyhub.app import build_container
from policyhub.http.app import create_app
from policyhub.http.deps import Container
from policyhub.policy_types.registry import PolicyTypeRegistry
from policyhub.settings import Settings


@contextmanager
def own_container(settings: Settings, registry: PolicyTypeRegistry | None = None) -> Iterator[Container]:
    container = build_container(settings, registry=registry)
    try:
        yield container
    finally:
        container.decisions.log.close()
        container.db.dispose()


@contextmanager
def own_client(container: Container) -> Iterator[TestClient]:
    """A client of the app on ``container``; server errors come back as 500s, not exceptions."""
    with TestClient(create_app(container=container), raise_server_exceptions=False) as client:
        yield client
