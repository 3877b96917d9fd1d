"""SQLite group reads: the reads that wait are served together, each with its own result or error, and
each sees every write acknowledged before it was asked for."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from policyhub.domain.canonical import now
from policyhub.errors import NotFound
from policyhub.storage.db import Database
from policyhub.storage.migrate import upgrade
from policyhub.storage.unit_of_work import UnitOfWork


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'r.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres_url")
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture
def tag() -> str:
    """A prefix for this test's org slugs (the PostgreSQL database is shared by the worker's tests)."""
    return uuid.uuid4().hex[:8]


def _org_insert(slug: str) -> Any:
    return lambda uow: uow.orgs.insert(org_id=str(uuid.uuid4()), slug=slug, name=slug, settings={}, at=now())


def _insert_org(db: Database, slug: str) -> None:
    db.transact(_org_insert(slug))


def _slug_or_404(slug: str) -> Any:
    def work(uow: UnitOfWork) -> str:
        org = uow.orgs.by_slug(slug)
        if org is None:
            raise NotFound(f"no org {slug}")
        return org.slug

    return work


def _behind_a_busy_reader(db: Database, works: list[Any]) -> list[Any]:
    """Each of ``works`` read while the reader thread is busy, so that they queue up and form one batch;
    their results, or their errors, in order."""
    gate = threading.Event()

    async def main() -> list[Any]:
        blocker = asyncio.ensure_future(db.read_async(lambda uow: gate.wait(5)))
        await asyncio.sleep(0.05)  # the reader thread has taken the blocker
        gathered = asyncio.gather(*(db.read_async(w) for w in works), return_exceptions=True)
        await asyncio.sleep(0.05)
        gate.set()
        await blocker
        return await gathered

    return asyncio.run(main())


def test_waiting_reads_share_one_transaction_and_fail_alone(
    db: Database, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(10):
        _insert_org(db, f"{tag}o{i}")
    transactions = 0
    real_read = Database.read

    @contextmanager
    def counting_read(self: Database) -> Iterator[UnitOfWork]:
        nonlocal transactions
        transactions += 1
        with real_read(self) as uow:
            yield uow

    monkeypatch.setattr(Database, "read", counting_read)
    results = _behind_a_busy_reader(db, [_slug_or_404(f"{tag}o{i}" if i != 3 else "missing") for i in range(10)])
    assert isinstance(results[3], NotFound)
    assert [r for i, r in enumerate(results) if i != 3] == [f"{tag}o{i}" for i in range(10) if i != 3]
    assert transactions == 2, "the blocker's transaction, then one for the ten reads that waited"


def test_a_read_sees_every_write_acknowledged_before_it(db: Database, tag: str) -> None:
    async def main() -> list[str]:
        seen = []
        for i in range(30):
            await db.transact_async(_org_insert(f"{tag}w{i}"))
            seen.append(await db.read_async(_slug_or_404(f"{tag}w{i}")))
        return seen

    assert asyncio.run(main()) == [f"{tag}w{i}" for i in range(30)]


def test_reads_from_many_tasks_each_get_their_own_answer(db: Database, tag: str) -> None:
    for i in range(20):
        _insert_org(db, f"{tag}m{i}")

    async def main() -> list[Any]:
        return await asyncio.gather(*(db.read_async(_slug_or_404(f"{tag}m{i % 20}")) for i in range(400)))

    assert asyncio.run(main()) == [f"{tag}m{i % 20}" for i in range(400)]


def test_a_read_the_database_refuses_leaves_the_others_of_its_batch_whole(db: Database, tag: str) -> None:
    """PostgreSQL aborts a transaction on any failed statement: the reads after it in the batch get a new one."""
    for i in range(4):
        _insert_org(db, f"{tag}e{i}")

    def refused(uow: UnitOfWork) -> Any:
        return uow.conn.execute(text("SELEC 1"))  # a syntax error, from the database itself

    results = _behind_a_busy_reader(
        db, [_slug_or_404(f"{tag}e0"), refused, _slug_or_404(f"{tag}e1"), _slug_or_404(f"{tag}e2")]
    )
    assert isinstance(results[1], Exception)
    assert [results[0], *results[2:]] == [f"{tag}e0", f"{tag}e1", f"{tag}e2"]
