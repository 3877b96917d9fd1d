"""Databases the suite runs on: a SQLite file per run, or a throwaway database on the shared PostgreSQL.

The shared server (``POLICYHUB_RELIABILITY_POSTGRES_URL``, default ``postgres@127.0.0.1:5432``) is only
ever touched through ``CREATE DATABASE reliability_<random>`` / ``DROP DATABASE`` of our own databases,
so the ``test`` database the pytest suite uses is never disturbed. :class:`Inspector` reads the tables
directly, to check what the API says against what was stored.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

SHARED_PG_URL = os.environ.get("POLICYHUB_RELIABILITY_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
TABLES = (
    "orgs",
    "scopes",
    "principals",
    "api_keys",
    "policies",
    "policy_versions",
    "events",
    "idempotency_keys",
    "document_schemas",
    "policy_references",
    "resources",
)


@dataclass
class Backend:
    """Hands out fresh, empty databases of one kind and removes them all at the end of the run."""

    name: str
    workdir: Path
    created: list[str] = field(default_factory=list)

    def new_database(self, label: str) -> str:
        if self.name == "sqlite":
            path = self.workdir / f"{label}-{uuid.uuid4().hex[:6]}.db"
            url = f"sqlite:///{path}"
        else:
            db = f"reliability_{label.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
            _admin(SHARED_PG_URL, f'CREATE DATABASE "{db}"')
            url = make_url(SHARED_PG_URL).set(database=db).render_as_string(hide_password=False)
        self.created.append(url)
        return url

    def drop_all(self) -> None:
        for url in self.created:
            if url.startswith("postgresql"):
                drop_pg_database(url)
        self.created.clear()


def pg_unreachable_reason(url: str = SHARED_PG_URL) -> str | None:
    """None when PostgreSQL at ``url`` answers, else why not."""
    try:
        engine = create_engine(
            make_url(url).set(database="postgres"), poolclass=NullPool, connect_args={"connect_timeout": 3}
        )
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    return None


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(url: str, sql: str) -> None:
    engine = create_engine(
        make_url(url).set(database="postgres"),
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


class Inspector:
    """Direct, read-mostly SQL on a database the servers use: the ground truth behind the API."""

    def __init__(self, url: str) -> None:
        self.url = url
        args: dict[str, Any] = {"timeout": 10} if url.startswith("sqlite") else {"connect_timeout": 5}
        self.engine: Engine = create_engine(url, poolclass=NullPool, connect_args=args)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def org_id(self, slug: str) -> str:
        with self.connect() as conn:
            return str(conn.execute(text("SELECT id FROM orgs WHERE slug = :s"), {"s": slug}).scalar_one())

    def counts(self) -> dict[str, int]:
        """Rows per table (the whole database): a fingerprint to show that nothing was written."""
        with self.connect() as conn:
            return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}

    def fingerprint(self) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
        """Row counts plus every org's chain head and every policy's revision: any write changes it."""
        with self.connect() as conn:
            heads = [tuple(r) for r in conn.execute(text("SELECT id, chain_seq, chain_head FROM orgs ORDER BY id"))]
            revs = [tuple(r) for r in conn.execute(text("SELECT id, revision FROM policies ORDER BY id"))]
        return self.counts(), heads + revs

    def consistency_problems(self, org_slug: str) -> list[str]:
        """Every policy's row, versions and events agree: no partial write survived.

        For each policy: versions are exactly 1..version; there is one ``creation`` event and one
        ``new_version``/``rollback`` event per later version; the org's event log is gap-free.
        """
        problems: list[str] = []
        org = self.org_id(org_slug)
        with self.connect() as conn:
            policies = conn.execute(
                text("SELECT id, name, version, revision FROM policies WHERE org_id = :o"), {"o": org}
            ).all()
            versions: dict[str, list[int]] = {}
            for pid, number in conn.execute(
                text("SELECT policy_id, version FROM policy_versions WHERE org_id = :o ORDER BY policy_id, version"),
                {"o": org},
            ):
                versions.setdefault(pid, []).append(int(number))
            events: dict[tuple[str, str], int] = {}
            for oid, etype, n in conn.execute(
                text("SELECT object_id, type, count(*) FROM events WHERE org_id = :o GROUP BY object_id, type"),
                {"o": org},
            ):
                events[(oid, etype)] = int(n)
            seqs = conn.execute(
                text("SELECT count(*), coalesce(max(seq), 0) FROM events WHERE org_id = :o"), {"o": org}
            ).one()
            head = conn.execute(text("SELECT chain_seq FROM orgs WHERE id = :o"), {"o": org}).scalar_one()
        for pid, name, version, revision in policies:
            got = versions.get(pid, [])
            if got != list(range(1, int(version) + 1)):
                problems.append(f"policy {name}: version {version} but versions {got[:5]}..{got[-3:]}")
            if events.get((pid, "creation"), 0) != 1:
                problems.append(f"policy {name}: {events.get((pid, 'creation'), 0)} creation events")
            later = events.get((pid, "new_version"), 0) + events.get((pid, "rollback"), 0)
            if later != int(version) - 1:
                problems.append(f"policy {name}: version {version} but {later} new_version/rollback events")
            if int(revision) < int(version):
                problems.append(f"policy {name}: revision {revision} < version {version}")
        known = {p[0] for p in policies}
        orphans = set(versions) - known
        if orphans:
            problems.append(f"{len(orphans)} versions of policies that do not exist")
        count, top = int(seqs[0]), int(seqs[1])
        if count != top or top != int(head):
            problems.append(f"event log: {count} events, max seq {top}, org chain head {head}")
        return problems

    def dispose(self) -> None:
        self.engine.dispose()
