"""SQLite group commit: jobs batched into one transaction stay isolated from each other's failures."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from policyhub.domain.canonical import now
from policyhub.storage.db import Database
from policyhub.storage.migrate import upgrade
from policyhub.storage.unit_of_work import UnitOfWork


class Boom(Exception):
    pass


@pytest.fixture
def db(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    database = Database(url, group_commit=True)
    yield database  # type: ignore[misc]
    database.dispose()


def _insert_org(uow: UnitOfWork, slug: str) -> str:
    uow.orgs.insert(org_id=str(uuid.uuid4()), slug=slug, name=slug, settings={}, at=now())
    return slug


def test_failed_and_dry_run_jobs_roll_back_alone(db: Database) -> None:
    outcomes: dict[str, str] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(40)

    def job(i: int) -> None:
        slug = f"org-{i}"
        kind = ("ok", "fail", "dry")[i % 3]

        def work(uow: UnitOfWork) -> str:
            _insert_org(uow, slug)
            if kind == "fail":
                raise Boom(slug)
            return slug

        barrier.wait()
        try:
            db.transact(work, rollback=kind == "dry")
            result = kind
        except Boom:
            result = "raised"
        with lock:
            outcomes[slug] = result

    threads = [threading.Thread(target=job, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with db.read() as uow:
        stored = {o.slug for o in uow.orgs.list()}
    assert stored == {slug for slug, result in outcomes.items() if result == "ok"}
    assert sum(r == "raised" for r in outcomes.values()) == len([i for i in range(40) if i % 3 == 1])


def test_integrity_conflicts_are_retried_then_reported(db: Database) -> None:
    db.transact(lambda uow: _insert_org(uow, "taken"))
    calls = []

    def work(uow: UnitOfWork) -> None:
        calls.append(1)
        _insert_org(uow, "taken")

    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.transact(work)
    assert len(calls) == 3
    with db.read() as uow:
        assert [o.slug for o in uow.orgs.list()] == ["taken"]


@pytest.mark.parametrize("group_commit", [True, False])
def test_untracked_writes_do_not_count_as_commits(tmp_path: Path, group_commit: bool) -> None:
    """Caches re-check the database after this process commits; the decision log's writes must not make
    them (``tracked=False``: no on-commit hook), a change of state must, and so must a batch that mixes both."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    upgrade(url)
    db = Database(url, group_commit=group_commit)
    try:
        commits: list[None] = []
        db.on_commit(lambda: commits.append(None))
        db.transact(lambda uow: _insert_org(uow, "quiet"), tracked=False)
        assert len(commits) == 0
        db.transact(lambda uow: _insert_org(uow, "loud"))
        assert len(commits) == 1
        db.transact(lambda uow: _insert_org(uow, "dry"), rollback=True)
        assert len(commits) == 1  # a dry run commits nothing
    finally:
        db.dispose()


def test_postgres_batches_only_writes_of_one_key_and_isolates_failures(postgres_url: str) -> None:
    """On PostgreSQL, writes that name a key (their org) share transactions only with writes of the same
    key; a failing or dry-run write is rolled back alone; every acknowledged write is stored."""
    from sqlalchemy import text

    upgrade(postgres_url)
    db = Database(postgres_url, group_commit=True)
    txids: dict[int, set[str]] = {}
    outcomes: dict[str, str] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(48)
    run = uuid.uuid4().hex[:8]

    def job(i: int) -> None:
        key = f"k{i % 3}"
        slug = f"pg-{run}-{i}"

        def work(uow: UnitOfWork) -> None:
            txid = uow.conn.execute(text("SELECT txid_current()")).scalar_one()
            with lock:
                txids.setdefault(txid, set()).add(key)
            _insert_org(uow, slug)
            if i % 5 == 1:
                raise Boom()

        barrier.wait()
        try:
            db.transact(work, key=key, rollback=i % 7 == 3)
            outcome = "ok" if i % 7 != 3 else "dry"
        except Boom:
            outcome = "raised"
        with lock:
            outcomes[slug] = outcome

    try:
        threads = [threading.Thread(target=job, args=(i,)) for i in range(48)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(outcomes) == 48
        assert all(len(keys) == 1 for keys in txids.values()), txids
        assert len(txids) < 48, "concurrent writes of one key should share transactions"
        with db.read() as uow:
            stored = {o.slug for o in uow.orgs.list() if o.slug.startswith(f"pg-{run}-")}
        assert stored == {slug for slug, result in outcomes.items() if result == "ok"}
    finally:
        db.dispose()


def test_postgres_connection_lost_mid_batch_fails_the_batch_as_unavailable(postgres_url: str) -> None:
    """A write whose connection dies (the database crashed) fails its whole batch with a 503-class error,
    never an internal one; the next batch runs on a fresh connection."""
    from sqlalchemy import create_engine, text

    from policyhub.errors import Unavailable

    upgrade(postgres_url)
    db = Database(postgres_url, group_commit=True)
    admin = create_engine(postgres_url)
    barrier = threading.Barrier(12)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def job(i: int) -> None:
        def work(uow: UnitOfWork) -> None:
            if i == 0:
                pid = uow.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
                with admin.connect() as c:
                    c.execute(text(f"SELECT pg_terminate_backend({pid})"))
                    c.commit()
            uow.orgs.lock_chain(str(uuid.uuid4())) if i == 0 else uow.conn.execute(text("SELECT 1"))

        barrier.wait()
        try:
            db.transact(work, key="same")
        except BaseException as exc:  # the test records what each caller saw
            with lock:
                errors.append(exc)

    try:
        threads = [threading.Thread(target=job, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors, "the write whose connection died must fail"
        assert all(isinstance(e, Unavailable) for e in errors), [type(e).__name__ for e in errors]
        assert db.transact(lambda uow: uow.conn.execute(text("SELECT 42")).scalar_one(), key="same") == 42
    finally:
        admin.dispose()
        db.dispose()
