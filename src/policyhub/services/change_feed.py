"""The change feed: an org's decision-relevant events after a sequence number, with long polling.

Every committed change to what decisions read (policies, scopes, resources) and to rollout environments
is an event of the org's hash-chained log, with a monotonic ``seq``; the feed pages through them by seq
(keyset). Key, principal, org and document schema events are never in it; ``next_after`` still moves
past them, so a caller never asks for them again.

A caller that is too far behind (more than :data:`MAX_LAG` events), ahead of the head (a restored
database) or behind what the log still holds gets :class:`policyhub.errors.Gone` (410): it must
re-bootstrap from a bundle.

Long polling waits on the event loop, holding neither a connection nor a thread: :class:`ChainWatcher`
wakes waiters at once when this process commits (the database's on-commit hook), and within
``poll_s`` when another replica does (one read of the heads of every org being waited on per interval,
however many callers wait).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from policyhub.domain.records import Actor, Event
from policyhub.errors import Gone, InvalidInput
from policyhub.services.authz import require_rollout_reader
from policyhub.storage.db import Database
from policyhub.storage.repositories.feed import ChangeFeedRepository
from policyhub.storage.unit_of_work import UnitOfWork

log = structlog.get_logger("policyhub.change_feed")

#: Object kinds that change nothing an enforcement point receives.
SKIPPED_KINDS = frozenset({"api_key", "principal", "org", "document_schema"})
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_WAIT_S = 30.0
#: A caller more events behind than this re-bootstraps from a bundle (cheaper than paging the log).
MAX_LAG = 10_000


@dataclass(frozen=True)
class FeedPage:
    changes: list[Event]
    #: Where the next call starts (``after``): past the last change, or the head when nothing more is held.
    next_after: int
    head: int
    more: bool


class FeedGone(Gone):
    """410: re-bootstrap from a bundle; ``head`` is the org's current seq."""

    def __init__(self, detail: str, head: int) -> None:
        super().__init__(detail)
        self.head = head


def read_page(uow: UnitOfWork, org_id: str, after: int, limit: int) -> FeedPage:
    """One page after ``after`` (raises :class:`FeedGone` when the caller must re-bootstrap)."""
    head, _ = uow.orgs.chain_head(org_id)
    rebootstrap = "re-bootstrap from a bundle (GET /v1/orgs/{org}/bundles/{environment})"
    if after > head:
        raise FeedGone(f"after={after} is ahead of the org's head {head} (a restored database?): {rebootstrap}", head)
    if head - after > MAX_LAG:
        raise FeedGone(f"after={after} is {head - after} events behind (more than {MAX_LAG}): {rebootstrap}", head)
    feed = ChangeFeedRepository(uow.conn)
    if after < head:
        first = feed.first_seq(org_id)
        if first is not None and first > after + 1:
            raise FeedGone(f"events after {after} are no longer held (the oldest is {first}): {rebootstrap}", head)
    found = feed.page(org_id, after, head, limit + 1, SKIPPED_KINDS)
    more = len(found) > limit
    found = found[:limit]
    return FeedPage(found, found[-1].seq if more else head, head, more)


def check_params(after: int, limit: int, wait_s: float) -> float:
    """The wait to use (capped at :data:`MAX_WAIT_S`); a bad value is a 400 naming its parameter."""
    if after < 0:
        raise InvalidInput.field("after", "must be 0 or more")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput.field("limit", f"must be between 1 and {MAX_LIMIT}")
    if wait_s < 0 or wait_s != wait_s:
        raise InvalidInput.field("wait", "must be 0 or more seconds")
    return min(wait_s, MAX_WAIT_S)


class ChangeFeed:
    """The feed's use case: who may read it, one page, and the long poll."""

    def __init__(self, db: Database, *, poll_s: float = 0.5) -> None:
        self.db = db
        self.watcher = ChainWatcher(db, poll_s=poll_s)

    async def changes(self, actor: Actor, org_id: str, after: int, limit: int, wait_s: float) -> FeedPage:
        """The changes after ``after``; when there are none yet, wait up to ``wait_s`` for one to commit."""
        require_rollout_reader(actor)
        wait_s = check_params(after, limit, wait_s)
        deadline = time.monotonic() + wait_s
        page = await self.db.read_async(lambda uow: read_page(uow, org_id, after, limit))
        while not page.changes:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self.watcher.wait_past(org_id, page.head, remaining):
                break
            page = await self.db.read_async(lambda uow: read_page(uow, org_id, after, limit))
        return page


def _heads_of(org_ids: list[str]) -> Callable[[UnitOfWork], dict[str, int]]:
    return lambda uow: ChangeFeedRepository(uow.conn).heads(org_ids)


class ChainWatcher:
    """Wakes coroutines waiting for an org's chain to move past a seq (see the module docstring)."""

    def __init__(self, db: Database, *, poll_s: float = 0.5) -> None:
        self.db = db
        self.poll_s = poll_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: dict[str, list[tuple[int, asyncio.Future[None]]]] = {}
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        db.on_commit(self._committed)

    def _committed(self) -> None:
        """The on-commit hook (any thread): look at the heads now rather than at the next interval."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or not self._waiters or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(wake.set)

    async def wait_past(self, org_id: str, seq: int, timeout_s: float) -> bool:
        """Whether the org's chain moved past ``seq`` within ``timeout_s``."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # the first wait, or a new event loop (tests): start afresh
            self._loop, self._waiters, self._wake, self._task = loop, {}, asyncio.Event(), None
        future: asyncio.Future[None] = loop.create_future()
        waiter = (seq, future)
        self._waiters.setdefault(org_id, []).append(waiter)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._watch())
        assert self._wake is not None
        self._wake.set()  # look once now: a commit may have landed since the caller read its page
        try:
            await asyncio.wait_for(future, timeout_s)
            return True
        except TimeoutError:
            return False
        finally:
            waiting = self._waiters.get(org_id, [])
            if waiter in waiting:
                waiting.remove(waiter)
            if not waiting:
                self._waiters.pop(org_id, None)
            if not self._waiters and self._wake is not None:
                self._wake.set()  # the watch ends now rather than after its interval

    async def _watch(self) -> None:
        wake = self._wake
        assert wake is not None
        while self._waiters:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.poll_s)
            wake.clear()
            orgs = list(self._waiters)
            try:
                heads = await self.db.read_async(_heads_of(orgs))
            except Exception:  # the database is down: waiters time out with an empty page, as if nothing came
                log.warning("change feed: cannot read chain heads", exc_info=True)
                continue
            for org_id in orgs:
                head = heads.get(org_id)
                for seq, future in self._waiters.get(org_id, ()):
                    if head is not None and head > seq and not future.done():
                        future.set_result(None)
