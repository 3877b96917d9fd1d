"""The agent: bootstrap from a signed bundle, follow the change feed, decide, report, ship the log.

Three threads, each a loop that sleeps on the agent's stop event (never a busy loop):

- the **follower** fetches the environment's bundle (``If-None-Match``: a 304 only confirms the applied
  one current at the hub's revision), verifies it (:mod:`policyhub.agent.trust`), builds the org's
  snapshot through the engine's own compile path, persists the signed bundle (atomically) and swaps it
  in; then it long-polls the change feed from the revision its state is known current at, and fetches
  the bundle again when something changed. A 410 from the feed means bootstrap again. Any failure keeps
  the last good state, is recorded as ``last_error`` and is retried after a jittered, growing delay
  (``max_backoff_s`` at most);
- the **reporter** posts the agent's status to the hub every ``status_interval_s`` and right after each
  apply;
- the **shipper** sends the spooled decision log to the hub in batches and deletes what was acknowledged
  (:mod:`policyhub.agent.shipping`).

Fail-static: at start-up the bundle persisted in the state directory is verified again and served from
at once, so an agent restarted while the hub is down still decides; with no verified bundle at all it
answers 503 (:class:`policyhub.agent.source.NoState`), never ``allow``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from policyhub.agent.backoff import Backoff
from policyhub.agent.config import AgentSettings
from policyhub.agent.decision_sink import SpooledDecisionLog
from policyhub.agent.hub_client import FeedGone, HubClient, HubError, HubUnavailable
from policyhub.agent.shipping import Shipper
from policyhub.agent.source import Applied, BundleSource
from policyhub.agent.spool import DecisionSpool
from policyhub.agent.state import StateDir
from policyhub.agent.trust import BundleRefused, Trust
from policyhub.app import build_judge, decision_limits, log_policy, rego_limits
from policyhub.domain.bundles import Bundle
from policyhub.domain.canonical import canonical_json
from policyhub.domain.records import Actor, Role
from policyhub.engine.cache import CompiledCache
from policyhub.engine.engine import DecisionEngine
from policyhub.engine.ratelimit import build_limiter
from policyhub.policy_types.registry import default_points, default_registry
from policyhub.sandbox import rego
from policyhub.services.decisions import DecisionService
from policyhub.settings import Settings

log = logging.getLogger(__name__)


class Agent:
    """One agent process's state and loops (the listener in :mod:`policyhub.http.agent` calls it)."""

    def __init__(self, config: AgentSettings, token: str, settings: Settings | None = None) -> None:
        self.config = config
        self.settings = settings or Settings()
        self.state = StateDir(config.state_dir)
        self._lock_fd = _lock_state_dir(config.state_dir)
        self.client = HubClient(config.hub, config.org, token)
        self.source = BundleSource()
        self.engine = self._engine()
        self.spool = DecisionSpool(self.state.spool_dir, fsync=config.spool_fsync, max_bytes=config.spool_max_bytes)
        self.shipper = Shipper(self.spool, self.client, config.name)
        spooled = SpooledDecisionLog(
            self.spool, log_policy(self.settings), points=self.engine.points, agent=config.name
        )
        self.decisions = DecisionService(self.engine, spooled)
        self.source_label = f"agent:{config.name}"
        self.trust = Trust(self.state, config.environment, config.public_key)
        self.etag: str | None = None
        #: The revision the hub last confirmed the applied bundle current at (a 304's PolicyHub-Revision).
        self.confirmed_revision = 0
        #: Where the next long poll of the change feed starts: the applied revision, or past it when the
        #: feed said nothing relevant happened since.
        self.feed_after = 0
        #: The latest failure (a refusal, the hub unreachable, ...); None once a bundle applies or the hub
        #: answers again. A refusal stays in ``refusal`` until a good bundle applies: a later "hub down"
        #: must not hide that the state on offer was refused.
        self.hub_error: str | None = None
        self.refusal: str | None = None
        self.counts: dict[str, int] = {"applied": 0, "refused": 0, "not_modified": 0, "shipped": 0, "rebootstraps": 0}
        self.applied_at: float | None = None  # wall clock of the last apply
        self._connected = False  # the last call to the hub succeeded
        self._last_ok: float | None = None  # wall-clock time the state was last known current
        self._resources_digest: str | None = None
        self._stop = threading.Event()
        self._report_now = threading.Event()
        self._threads: list[threading.Thread] = []
        self._apply_lock = threading.Lock()

    def _engine(self) -> DecisionEngine:
        s = self.settings
        rego.configure(rego_limits(s))
        return DecisionEngine(
            None,
            default_registry(),
            default_points(),
            build_limiter(self.config.redis_url, keys_per_org=s.ratelimit_keys_per_org),
            source=self.source,
            judge=build_judge(s),
            refresh_s=3600.0,  # the snapshot changes only when the agent applies a bundle (it invalidates)
            limits=decision_limits(s),
            judge_per_org=s.judge_concurrency_per_org,
            judge_threads=s.judge_threads,
        )

    # -- identity ---------------------------------------------------------------------------------

    @property
    def applied(self) -> Applied | None:
        return self.source.applied

    @property
    def org_id(self) -> str | None:
        applied = self.applied
        return applied.bundle.org if applied else None

    def serves_org(self, org: str) -> bool:
        """The org in a decision path: the configured one (slug or id) or the bundle's org id."""
        return org == self.config.org or (self.org_id is not None and org == self.org_id)

    def actor(self) -> Actor:
        """Who asks at the agent's listener: the enforcement point next to it, which may ask anywhere."""
        return Actor(self.org_id or "", self.source_label, self.source_label, Role.VIEWER)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Load the pinned key and the persisted bundle (verified again), then start the loops."""
        self._load_persisted()
        for name, target in (("follower", self._follow), ("reporter", self._report), ("shipper", self._ship)):
            thread = threading.Thread(target=target, name=f"agent-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._report_now.set()
        for thread in self._threads:
            thread.join(timeout=5)
        with contextlib.suppress(HubError):
            self._ship_once()  # what is spooled now, if the hub answers
        self.client.close()
        self.spool.close()
        rego.shutdown()
        os.close(self._lock_fd)

    def _load_persisted(self) -> None:
        try:
            self.trust.load_pinned()
        except ValueError as exc:
            self._error(str(exc))
        try:
            persisted = self.trust.load_persisted()
        except BundleRefused as exc:
            self._refused(f"the persisted bundle is refused: {exc}")
            return
        if persisted is None:
            return
        self._last_ok = persisted.confirmed_at
        self._swap_in(persisted.bundle, persisted.revision)
        self.etag = persisted.etag
        log.info("serving the persisted bundle at revision %d", persisted.revision)

    # -- applying bundles -------------------------------------------------------------------------

    def sync_bundle(self, *, rebootstrap: bool = False) -> None:
        """Fetch the environment's bundle and apply it; a 304 only confirms the applied one current at the
        hub's revision (nothing is rebuilt)."""
        if not self.trust.keys:
            pinned = self.trust.pin(self.client.bundle_keys())
            if not pinned:
                raise HubUnavailable("the hub publishes no usable bundle key yet")
            log.info("pinned the hub's bundle keys %s", ", ".join(pinned))
        fetch = self.client.bundle(self.config.environment, self.etag if self.applied else None)
        self._contact_ok()
        with self._apply_lock:
            if fetch.envelope is None:
                self.counts["not_modified"] += 1
                if fetch.revision is not None and fetch.revision > self.confirmed_revision:
                    self.confirmed_revision = fetch.revision
                    self._report_now.set()
                return
            try:
                bundle = self.trust.verify(fetch.envelope, self.applied, rebootstrap=rebootstrap)
            except BundleRefused as exc:
                self._refused(f"bundle refused: {exc}")
                raise
            revision = max(bundle.revision, fetch.revision or 0)
            self.trust.persist(fetch.envelope, fetch.etag, revision)
            self._swap_in(bundle, revision, fresh=rebootstrap)
            self.etag = fetch.etag
            self.counts["applied"] += 1
            self.hub_error = self.refusal = None
            self._report_now.set()

    def _swap_in(self, bundle: Bundle, revision: int, *, fresh: bool = False) -> None:
        """Build the snapshot before swapping it in (so a bad policy or a slow compile shows here, and no
        decision waits for it).

        The compiled cache is keyed by policy revision; it starts afresh when the resources changed
        (compiled policies may read them) and after a re-bootstrap (``fresh``: a restored hub may number
        new content with revisions the agent has compiled before)."""
        digest = canonical_json([r.id + r.updated_at.isoformat() for r in bundle.resources])
        if fresh or digest != self._resources_digest:
            self.engine.cache = CompiledCache()
            self._resources_digest = digest
        applied = Applied(bundle, revision)
        self.source.prebuild(bundle.org, applied)  # decisions go on with the old snapshot meanwhile
        self.source.apply(applied)
        self.engine.invalidate(bundle.org)
        self.engine.refresh(bundle.org)  # the prebuilt snapshot: no wait for decisions
        self.applied_at = time.time()

    # -- loops ------------------------------------------------------------------------------------

    def _follow(self) -> None:
        backoff = Backoff(cap=self.config.max_backoff_s)
        need_bundle, rebootstrap = True, self.applied is None
        while not self._stop.is_set():
            try:
                if need_bundle:
                    self.sync_bundle(rebootstrap=rebootstrap)
                    need_bundle = rebootstrap = False
                self._poll_once()
                backoff.reset()
            except FeedGone as exc:
                self.counts["rebootstraps"] += 1
                self._error(str(exc))
                need_bundle = rebootstrap = True
                self.feed_after = self.confirmed_revision = 0
                self._stop.wait(backoff.next())
            except BundleRefused:
                # Keep the last good state and go on following the feed (its next change, or a 410 after
                # a restore, brings another bundle); with no state at all, keep asking for one.
                need_bundle = self.applied is None
                self._stop.wait(backoff.next())
            except (HubError, OSError) as exc:
                if isinstance(exc, HubError):
                    self._contact_failed(str(exc))
                need_bundle = True
                self._stop.wait(backoff.next())
            except Exception as exc:  # never let the follower die: report and retry
                log.exception("agent follower")
                self._error(f"{type(exc).__name__}: {exc}")
                need_bundle = True
                self._stop.wait(backoff.next())

    def _poll_once(self) -> None:
        """One long poll of the feed from where the agent's state is known current. A page with changes
        means fetch the bundle again (a 304 if none concerns this environment); a page with none moves
        the cursor past the events the feed skips (keys, other orgs' business), with no fetch."""
        applied = self.applied
        after = max(self.feed_after, self.confirmed_revision, applied.revision if applied else 0)
        started = time.monotonic()
        try:
            page = self.client.changes(after, self.config.poll_wait_s)
        except HubUnavailable:
            if self._connected:  # the feed was open until now, so the state was current until now
                self._last_ok = time.time()
            raise
        self._contact_ok()
        next_after = page.get("next_after")
        next_after = next_after if isinstance(next_after, int) else after
        if page.get("changes"):
            self.sync_bundle()
            self.feed_after = self.known_revision()
            if self.feed_after < next_after:
                self._stop.wait(0.2)  # the bundle lags the feed (a replica behind): ask again shortly
        else:
            self.feed_after = max(after, next_after)
            if self.feed_after == after and time.monotonic() - started < 0.05:
                self._stop.wait(0.2)  # an empty answer that did not wait: never spin on it

    def _report(self) -> None:
        while not self._stop.is_set():
            self._report_now.wait(self.config.status_interval_s)
            self._report_now.clear()
            if self._stop.is_set():
                return
            with contextlib.suppress(HubError):
                self.client.report_status(self.config.name, self.status_report())

    def _ship(self) -> None:
        backoff = Backoff(cap=self.config.max_backoff_s)
        while not self._stop.wait(self.config.ship_interval_s):
            try:
                self._ship_once()
                backoff.reset()
            except HubError as exc:
                log.info("decision log not shipped: %s", exc)
                self._stop.wait(backoff.next())

    def _ship_once(self) -> None:
        shipped, rejected, error = self.shipper.ship_once()
        self.counts["shipped"] += shipped
        if rejected:
            self.counts["rejected"] = self.counts.get("rejected", 0) + rejected
            self._error(f"the hub refused {rejected} decision log entries (kept in spool/rejected.jsonl): {error}")

    # -- status -----------------------------------------------------------------------------------

    def _contact_ok(self) -> None:
        if self.refusal is None:
            self.hub_error = None  # the hub answers again
        self._connected = True
        self._last_ok = time.time()

    def _contact_failed(self, message: str) -> None:
        self._connected = False
        self._error(message)

    def _error(self, message: str) -> None:
        if message != self.hub_error:
            log.warning("agent: %s", message)
        self.hub_error = message

    @property
    def last_error(self) -> str | None:
        """What status reports: a standing refusal first, else the latest failure."""
        return self.refusal or self.hub_error

    def _refused(self, message: str) -> None:
        self.counts["refused"] += 1
        self.refusal = message
        self._error(message)
        self._report_now.set()

    def stale_s(self) -> float | None:
        """Seconds the agent has not known its state to be current: 0 while it follows the hub; since the
        last successful call when the hub cannot be reached; None before any contact."""
        if self._connected:
            return 0.0
        if self._last_ok is None:
            return None
        return round(max(0.0, time.time() - self._last_ok), 3)

    def _counts(self) -> dict[str, int]:
        return {**self.counts, "spooled": self.spool.pending, "spool_dropped": self.spool.dropped}

    def known_revision(self) -> int:
        """The org revision the agent's state is known current at: the applied bundle's (moved on by 304s),
        or later when the feed has reported only changes that concern no decision since."""
        applied = self.applied
        return max(applied.revision if applied else 0, self.confirmed_revision, self.feed_after)

    def status(self) -> dict[str, Any]:
        """What ``GET /status`` shows (and, as :meth:`status_report`, what the hub is told)."""
        applied = self.applied
        return {
            "agent": self.config.name,
            "org": self.config.org,
            "environment": self.config.environment,
            "ready": applied is not None,
            "revision": self.known_revision() if applied else None,
            "bundle_revision": applied.bundle.revision if applied else None,
            "policies": len(applied.bundle.policies) if applied else 0,
            "applied_at": self.applied_at,
            "stale_s": self.stale_s(),
            "last_error": self.last_error,
            "hub_error": self.hub_error,
            "connected": self._connected,
            "counts": self._counts(),
            "address": self.config.address,
        }

    def status_report(self) -> dict[str, Any]:
        """The contract's ``POST .../agents/{agent}/status`` body."""
        applied = self.applied
        return {
            "environment": self.config.environment,
            "revision": self.known_revision() if applied else 0,
            "address": self.config.address,
            "last_error": self.last_error,
            "counts": self._counts(),
            "stale_s": self.stale_s(),
        }


def _lock_state_dir(path: Path) -> int:
    """Hold an exclusive lock on the state directory for the process's life: two agents sharing one
    would ship each other's spool and overwrite each other's bundle."""
    fd = os.open(path / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise RuntimeError(f"another agent is using the state directory {path}") from None
    return fd
