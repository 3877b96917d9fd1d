"""Writes planned outside the lock (``Preparation``): used when the policy stood still, and when it moved,
the ordinary write runs instead, so that no update is lost and the history stays whole."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from policyhub.app import Container, build_container
from policyhub.domain.canonical import now as time_now
from policyhub.domain.records import Actor, Org
from policyhub.services import audit, document_schemas, keys
from policyhub.services.orgs import bootstrap
from policyhub.services.policies import Preconditions, PreparedWrite, WriteResult
from policyhub.storage.db import Database
from policyhub.storage.migrate import upgrade
from policyhub.storage.unit_of_work import Preparation, StalePlan, UnitOfWork
from tests.conftest import make_settings

NONE = Preconditions()
#: The admin key of each test's own org, by container.
_TOKENS: dict[int, str] = {}


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with a fresh org of its own: a new SQLite file, or the worker's PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'prepared.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres_url")
    request.node.token = f"phk_test_{uuid.uuid4().hex}"
    db = Database(url, pool_size=1)
    bootstrap(db, f"acme-{uuid.uuid4().hex[:12]}", request.node.token)
    db.dispose()
    return url


def container(request: pytest.FixtureRequest, url: str) -> Container:
    c = build_container(make_settings(url))
    _TOKENS[id(c)] = request.node.token
    return c


@pytest.fixture
def c(request: pytest.FixtureRequest, url: str) -> Iterator[Container]:
    built = container(request, url)
    yield built
    built.db.dispose()


def caller(c: Container) -> tuple[Actor, Org]:
    with c.db.read() as uow:
        actor, org, _ = keys.authenticate(uow, _TOKENS[id(c)])
    return actor, org


def create(c: Container, name: str, spec: dict[str, Any]) -> WriteResult:
    actor, org = caller(c)
    body = {"name": name, "spec": spec}
    return c.db.transact(lambda uow: c.policies.create(uow, actor, org, body, type_name="document", scope=None))


class Spy:
    """Counts plans, and the planned writes that found their policy moved."""

    def __init__(self) -> None:
        self.plans = 0
        self.stale = 0
        self.lock = threading.Lock()

    def wrap(self, plan: Callable[[UnitOfWork], PreparedWrite | None]) -> Callable[[UnitOfWork], Any]:
        def planned(uow: UnitOfWork) -> Any:
            with self.lock:
                self.plans += 1
            write = plan(uow)
            if write is None:
                return None

            def run(uow: UnitOfWork) -> WriteResult:
                try:
                    return write(uow)
                except StalePlan:
                    with self.lock:
                        self.stale += 1
                    raise

            return run

        return planned


def merge_patch(c: Container, ref: str, patch: dict[str, Any], spy: Spy, target: Any = None) -> WriteResult:
    """A merge patch as the HTTP face sends it: the locked write plus its preparation."""
    actor, org = caller(c)
    plan = spy.wrap(lambda uow: c.policies.prepare_merge_patch(uow, actor, org, ref, patch, NONE))
    return c.db.transact(
        lambda uow: c.policies.merge_patch(uow, actor, org, ref, patch, NONE),
        key=org.id,
        prepare=Preparation(target or (org.id, ref), plan),
    )


def in_one_batch(c: Container, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` concurrently while the group-commit writer is busy, so that they form one batch."""
    release = threading.Event()
    _, org = caller(c)
    busy = threading.Thread(target=lambda: c.db.transact(lambda uow: release.wait(10), key=org.id))
    busy.start()
    writer = c.db._writer(org.id)  # the org's writer (SQLite: the only one)
    assert writer is not None
    time.sleep(0.05)  # the writer has taken the busy job
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while writer._queue.qsize() < len(calls) and time.monotonic() < deadline:
        time.sleep(0.005)
    release.set()
    for t in [busy, *threads]:
        t.join(10)
    return results


def history(c: Container, name: str) -> tuple[WriteResult | Any, list[int], list[str]]:
    actor, _ = caller(c)
    with c.db.read() as uow:
        policy = c.policies.get(uow, actor, name)
        versions = [v.version for v in uow.policies.versions(actor.org_id, policy.id)]
        events = [e.type for e in c.policies.events(uow, actor, name)]
        assert audit.verify_org(uow, actor.org_id).ok
    return policy, versions, events


def test_an_uncontended_patch_is_written_as_planned(c: Container) -> None:
    create(c, "p", {"a": 0})
    spy = Spy()
    result = merge_patch(c, "p", {"spec": {"a": 1}}, spy)
    assert (spy.plans, spy.stale) == (1, 0)
    assert result.policy.spec == {"a": 1} and result.new_version and result.policy.revision == 2
    policy, versions, events = history(c, "p")
    assert policy.spec == {"a": 1} and versions == [1, 2] and events == ["creation", "new_version"]


def test_a_plan_whose_policy_moved_gives_way_to_the_locked_write(c: Container) -> None:
    created = create(c, "p", {"base": 0})
    spy = Spy()
    # By name and by id: two targets, so both are planned on the same read; the second finds it moved.
    results = in_one_batch(
        c,
        [
            lambda: merge_patch(c, "p", {"spec": {"a": 1}}, spy),
            lambda: merge_patch(c, created.policy.id, {"spec": {"b": 2}}, spy),
        ],
    )
    assert (spy.plans, spy.stale) == (2, 1)
    assert sorted(r.policy.revision for r in results) == [2, 3]
    policy, versions, events = history(c, "p")
    assert policy.spec == {"base": 0, "a": 1, "b": 2}, "no update is lost"
    assert versions == [1, 2, 3] and events == ["creation", "new_version", "new_version"]


def test_of_one_batchs_writes_to_one_target_only_the_first_is_planned(c: Container) -> None:
    create(c, "p", {})
    spy = Spy()
    results = in_one_batch(c, [lambda i=i: merge_patch(c, "p", {"spec": {f"k{i}": i}}, spy) for i in range(5)])
    assert (spy.plans, spy.stale) == (1, 0)
    assert sorted(r.policy.version for r in results) == [2, 3, 4, 5, 6]
    policy, versions, _ = history(c, "p")
    assert policy.spec == {f"k{i}": i for i in range(5)} and versions == [1, 2, 3, 4, 5, 6]


def test_two_processes_writing_the_same_policies_lose_nothing(request: pytest.FixtureRequest, url: str) -> None:
    """Two containers on one database stand for two ``serve`` workers (or replicas): each plans while the
    other writes, so plans go stale across them, and every write must still land once, in order."""
    a, b = container(request, url), container(request, url)
    try:
        for name in ("x", "y"):
            create(a, name, {})
        spy = Spy()
        errors: list[BaseException] = []

        def writer(c: Container, tag: str, n: int) -> None:
            try:
                for i in range(n):
                    merge_patch(c, ("x", "y")[i % 2], {"spec": {f"{tag}{i}": i}}, spy)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=writer, args=(container, f"{container_tag}{t}-", 30))
            for container, container_tag in ((a, "a"), (b, "b"))
            for t in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        for name, parity in (("x", 0), ("y", 1)):
            policy, versions, events = history(a, name)
            expected = {f"{c}{t}-{i}": i for c in "ab" for t in range(4) for i in range(30) if i % 2 == parity}
            assert policy.spec == expected, "no update is lost"
            assert versions == list(range(1, len(expected) + 2))
            assert events == ["creation"] + ["new_version"] * len(expected)
            assert policy.revision == len(expected) + 1
        assert spy.plans > 0
    finally:
        a.db.dispose()
        b.db.dispose()


def test_writes_that_only_the_lock_can_decide_are_not_prepared(c: Container) -> None:
    actor, org = caller(c)
    create(c, "p", {"a": 0})
    c.db.transact(lambda uow: document_schemas.put(uow, actor, "shape", {"type": "object"}))
    create(c, "typed", {"$schema": "shape", "n": 1})
    with c.db.read() as uow:
        plans = {
            "patch": c.policies.prepare_merge_patch(uow, actor, org, "p", {"spec": {"a": 1}}, NONE),
            "json patch": c.policies.prepare_json_patch(
                uow, actor, org, "p", [{"op": "replace", "path": "/spec/a", "value": 2}], NONE
            ),
            "replace": c.policies.prepare_put(uow, actor, org, "p", {"spec": {"a": 3}}, NONE),
            "rename": c.policies.prepare_merge_patch(uow, actor, org, "p", {"name": "q"}, NONE),
            "upsert creates": c.policies.prepare_put(uow, actor, org, "new", {"type": "document", "spec": {}}, NONE),
            "validated against a schema": c.policies.prepare_merge_patch(
                uow, actor, org, "typed", {"spec": {"n": 2}}, NONE
            ),
        }
    assert {k for k, v in plans.items() if v is not None} == {"patch", "json patch", "replace"}


def test_a_plan_that_fails_leaves_the_answer_to_the_locked_write(c: Container) -> None:
    create(c, "p", {"a": 0})
    actor, org = caller(c)

    def broken_plan(uow: UnitOfWork) -> None:
        raise RuntimeError("planning failed")

    result = c.db.transact(
        lambda uow: c.policies.merge_patch(uow, actor, org, "p", {"spec": {"a": 1}}, NONE),
        key=org.id,
        prepare=Preparation("p", broken_plan),
    )
    assert result.policy.spec == {"a": 1} and result.policy.version == 2


class Boom(Exception):
    pass


def test_a_planned_write_that_fails_part_way_reruns_its_batch_from_the_start(c: Container) -> None:
    """Planned writes run without a savepoint: one that fails after writing must leave no trace, and the
    batch's other jobs still land exactly once."""
    actor, org = caller(c)
    for name in ("p", "q"):
        create(c, name, {})

    def torn(uow: UnitOfWork) -> None:
        uow.orgs.insert(org_id="torn-org", slug="torn", name="torn", settings={}, at=time_now())
        raise Boom("the database failed part-way")

    def with_torn_plan() -> Any:
        return c.db.transact(
            lambda uow: c.policies.merge_patch(uow, actor, org, "q", {"spec": {"q": 1}}, NONE),
            key=org.id,
            prepare=Preparation("q", lambda uow: torn),
        )

    spy = Spy()
    results = in_one_batch(c, [lambda: merge_patch(c, "p", {"spec": {"p": 1}}, spy), with_torn_plan])
    assert [r.policy.spec for r in results] == [{"p": 1}, {"q": 1}]
    with c.db.read() as uow:
        assert uow.orgs.by_slug("torn") is None
    for name in ("p", "q"):
        _, versions, events = history(c, name)
        assert versions == [1, 2] and events == ["creation", "new_version"]


def test_a_job_rolled_back_to_its_savepoint_leaves_the_audit_chain_to_the_next(c: Container) -> None:
    """The jobs of a batch share what was read under the lock (the chain head); a job that fails after
    recording its event must not leave the next job linking to that vanished event."""
    actor, org = caller(c)
    for name in ("p", "q", "r"):
        create(c, name, {})

    def patch(name: str, fail: bool) -> Callable[[], Any]:
        def work(uow: UnitOfWork) -> WriteResult:
            result = c.policies.merge_patch(uow, actor, org, name, {"spec": {name: 1}}, NONE)
            if fail:
                raise Boom(name)
            return result

        def call() -> Any:
            try:
                return c.db.transact(work, key=org.id)
            except Boom as exc:
                return exc

        return call

    results = in_one_batch(c, [patch("p", False), patch("q", True), patch("r", False)])
    assert isinstance(results[1], Boom)
    assert [results[0].policy.version, results[2].policy.version] == [2, 2]
    history(c, "r")  # verifies the org's audit chain
    assert history(c, "q")[1] == [1]
