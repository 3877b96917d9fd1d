"""The composition root: builds settings, database, registry and services once, for API, CLI and tests."""

from __future__ import annotations

from policyhub.http.deps import Container
from policyhub.policy_types.registry import default_registry
from policyhub.services.actor_cache import ActorCache
from policyhub.services.policies import PolicyService
from policyhub.services.resources import ResourceService
from policyhub.services.scopes import ScopeService
from policyhub.settings import Settings
from policyhub.storage.db import Database


def build_container(settings: Settings) -> Container:
    """Everything a request needs, created at start-up (never at import)."""
    db = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        connect_timeout_s=settings.db_connect_timeout_s,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        group_commit=settings.sqlite_group_commit,
    )
    registry = default_registry()
    return Container(
        settings=settings,
        db=db,
        registry=registry,
        policies=PolicyService(registry),
        scopes=ScopeService(),
        resources=ResourceService(),
        actors=ActorCache(settings.auth_cache_ttl_s),
    )
