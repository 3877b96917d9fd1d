"""What agents report to the hub: their status (what they applied, how they are) and the decisions they
made, which land in the decision log once each, whatever an agent re-sends.

An agent's status report is bookkeeping, an upsert with no audit event (``RolloutRepository.report``);
``revision_at`` moves only when the reported revision does, so commit-to-applied times are measured to
the agent's first report of a revision. Decisions arrive as the agent's spool holds them
(``policyhub.agent.decision_sink``) and are stored with source ``agent:<name>`` and the bundle revision
that decided them (the log's ``policy_state``), skipping ids already logged
(``DecisionRepository.insert_new``). A decision asked in an enforcement protocol (the entry's
``protocol``: ``authzen``, ``envoy_http``, ``nginx``, ``envoy_grpc``, ``envoy_ratelimit``) is stored
with source ``agent:<name>/<protocol>``, unless that exceeds the log's 80 characters (an agent name of
more than 58 characters with ``envoy_ratelimit``): then it is ``agent:<name>``.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from policyhub.domain import names
from policyhub.domain.bounded_json import bounded
from policyhub.domain.canonical import now
from policyhub.domain.ids import is_canonical_uuid
from policyhub.domain.records import Actor, Role
from policyhub.errors import InvalidInput, NotFound
from policyhub.evaluation.outcome import Decision
from policyhub.services.authz import require_agent, require_role, require_rollout_reader
from policyhub.services.decision_log import bounded_results
from policyhub.services.rollout import environment_name
from policyhub.storage.repositories.decisions import LoggedDecision, LoggedPolicy
from policyhub.storage.repositories.rollout import AgentReport
from policyhub.storage.unit_of_work import UnitOfWork

MAX_DECISIONS = 1000
AGENT_SOURCE = "agent:"
MAX_SOURCE_CHARS = 80  # the decision log's source column
PROTOCOL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
DECISIONS = frozenset(d.value for d in Decision)


def agent_name(value: Any, field: str = "agent") -> str:
    if not isinstance(value, str) or not value or len(value) > 64 or not names.KEY_PATTERN.fullmatch(value):
        raise InvalidInput.field(
            field, "must be 1-64 letters, digits, '-', '_', '.', '~', starting with a letter or digit"
        )
    return value


def _decision(value: str, where: str) -> str:
    if value not in DECISIONS:
        raise InvalidInput.field(where, f"must be one of {', '.join(sorted(DECISIONS))}")
    return value


def report(uow: UnitOfWork, actor: Actor, agent: str, body: Any) -> AgentReport:
    """Record an agent's status report (an agent key only)."""
    require_agent(actor)
    agent = agent_name(agent)
    if not isinstance(body, dict):
        raise InvalidInput.field("body", "must be a JSON object")
    environment = environment_name(body.get("environment"))
    known = uow.rollout.environment(actor.org_id, environment)
    # a key bound to a scope reports only on an environment it may read (an unknown one: the whole org's)
    require_rollout_reader(actor, known.scopes if known is not None else None)
    revision = body.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool) or not 0 <= revision < 2**62:
        raise InvalidInput.field("revision", "must be a non-negative integer")
    address = body.get("address")
    if address is not None and (not isinstance(address, str) or len(address) > 300):
        raise InvalidInput.field("address", "must be a string of at most 300 characters, or null")
    error = body.get("last_error")
    if error is not None and not isinstance(error, str):
        raise InvalidInput.field("last_error", "must be a string or null")
    counts = body.get("counts", {})
    if counts is None:
        counts = {}
    if not isinstance(counts, dict) or len(counts) > 50:
        raise InvalidInput.field("counts", "must be an object of at most 50 members")
    stale = body.get("stale_s")
    if stale is not None and (
        not isinstance(stale, int | float) or isinstance(stale, bool) or not math.isfinite(stale) or stale < 0
    ):
        raise InvalidInput.field("stale_s", "must be a non-negative number or null")
    at = now()
    report = AgentReport(
        org_id=actor.org_id,
        name=agent,
        environment=environment,
        revision=revision,
        revision_at=at,
        address=address,
        last_error=None if error is None else error[:2000],
        counts=bounded(counts, 4096),
        stale_s=None if stale is None else float(stale),
        first_seen=at,
        last_seen=at,
    )
    uow.rollout.report(report)
    return report


def ship_decisions(uow: UnitOfWork, actor: Actor, agent: str, body: Any) -> tuple[int, int]:
    """Log an agent's decisions, each once by id; returns ``(accepted, duplicates)``."""
    require_agent(actor)
    agent = agent_name(agent)
    entries = body.get("decisions") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise InvalidInput.field("decisions", "must be an array")
    if len(entries) > MAX_DECISIONS:
        raise InvalidInput.field("decisions", f"at most {MAX_DECISIONS} decisions per batch")
    logged = [_logged(actor, agent, entry, f"decisions[{i}]") for i, entry in enumerate(entries)]
    accepted = uow.decisions.insert_new(logged)
    return accepted, len(logged) - accepted


def _logged(actor: Actor, agent: str, entry: Any, where: str) -> LoggedDecision:
    if not isinstance(entry, dict):
        raise InvalidInput.field(where, "must be an object")

    def text(name: str, max_len: int, *, optional: bool = False) -> Any:
        value = entry.get(name)
        if value is None and optional:
            return None
        if not isinstance(value, str) or len(value) > max_len:
            raise InvalidInput.field(f"{where}.{name}", f"must be a string of at most {max_len} characters")
        return value

    decision_id = text("id", 36)
    if not is_canonical_uuid(decision_id):
        raise InvalidInput.field(f"{where}.id", "must be a UUID in canonical form")
    try:
        at = datetime.fromisoformat(text("at", 40))
    except ValueError:
        raise InvalidInput.field(f"{where}.at", "must be an RFC 3339 timestamp") from None
    if at.tzinfo is None:
        raise InvalidInput.field(f"{where}.at", "must carry a time zone")
    revision = entry.get("bundle_revision", entry.get("policy_state", 0))
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
        raise InvalidInput.field(f"{where}.bundle_revision", "must be a non-negative integer")
    results = entry.get("results", [])
    obligations = entry.get("obligations", [])
    policies = entry.get("policies", [])
    for name, value in (("results", results), ("obligations", obligations), ("policies", policies)):
        if not isinstance(value, list):
            raise InvalidInput.field(f"{where}.{name}", "must be an array")
    protocol = entry.get("protocol")
    if protocol is not None and not (isinstance(protocol, str) and PROTOCOL.fullmatch(protocol)):
        raise InvalidInput.field(f"{where}.protocol", "must be a protocol name such as 'authzen', or null")
    source = AGENT_SOURCE + agent
    if protocol is not None and len(source) + 1 + len(protocol) <= MAX_SOURCE_CHARS:
        source = f"{source}/{protocol}"
    return LoggedDecision(
        id=decision_id,
        org_id=actor.org_id,
        at=at,
        source=source,
        point=text("point", 32),
        scope_path=text("scope", 1024, optional=True),
        decision=_decision(text("decision", 8), f"{where}.decision"),
        input_hash=text("input_hash", 64),
        input=None if entry.get("input") is None else bounded(entry["input"], 16 * 1024),
        results=bounded_results([r for r in results if isinstance(r, dict)], 16 * 1024),
        obligations=bounded(obligations, 16 * 1024),
        principal_id=actor.principal_id,
        policy_state=revision,
        policies=tuple(_policy(p, f"{where}.policies[{i}]") for i, p in enumerate(policies)),
    )


def _policy(item: Any, where: str) -> LoggedPolicy:
    if not isinstance(item, dict):
        raise InvalidInput.field(where, "must be an object")
    policy_id, kind, version, effect = (item.get(k) for k in ("policy_id", "type", "version", "effect"))
    if not (isinstance(policy_id, str) and len(policy_id) <= 36):
        raise InvalidInput.field(f"{where}.policy_id", "must be a policy id")
    if not (isinstance(kind, str) and len(kind) <= 64):
        raise InvalidInput.field(f"{where}.type", "must be a string of at most 64 characters")
    if not (isinstance(version, int) and not isinstance(version, bool)):
        raise InvalidInput.field(f"{where}.version", "must be an integer")
    if not (isinstance(effect, str) and len(effect) <= 16):
        raise InvalidInput.field(f"{where}.effect", "must be a string of at most 16 characters")
    return LoggedPolicy(policy_id, kind, version, effect)


def forget(uow: UnitOfWork, actor: Actor, agent: str) -> None:
    """Forget a decommissioned agent's reports (editor of the whole org); it reappears if it reports again."""
    require_role(actor, Role.EDITOR, None)
    if not uow.rollout.forget_agent(actor.org_id, agent_name(agent)):
        raise NotFound(f"agent {agent!r} not found")
