"""AuthZEN's rules over the decision service: when an engine answer is a permit, and how a search is answered.

**Permit.** The engine allows when no policy denies (with no policy at all it allows). An AuthZEN PDP is
closed by default, so a decision at point ``authzen`` is a permit only when the engine does not deny
*and* at least one policy applied (a ``rego`` or ``access_rules`` policy that did not abstain): an org or
scope with no ``authzen`` policy answers ``false`` to everything.

**Search.** A search is answered by evaluating candidates, each an ordinary decision (``mode:
search``: it counts no rate limit, and it is in the decision log like any other). The candidates are the
entities the policies at the scope know (:class:`~policyhub.evaluation.inputs.authzen.KnowsEntities`:
each policy's ``spec.entities`` and, for ``access_rules``, the literal ids and action names of its
rules), so a search is exactly as enumerable as the policies make it; the searched entity's ``id`` in
the request is ignored. At most :data:`MAX_CANDIDATES` candidates are evaluated, within
:data:`SEARCH_BUDGET_S` seconds (beyond it the search is a 503: its answer would be incomplete).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio

from policyhub.domain.records import Actor
from policyhub.engine.engine import DecisionRequest
from policyhub.errors import InvalidInput, Unavailable
from policyhub.evaluation.inputs.authzen import AUTHZEN, EntityKind, KnowsEntities
from policyhub.evaluation.outcome import Decision, DecisionResult, Effect
from policyhub.services.decisions import DecisionService

POINT = AUTHZEN.name
SOURCE = "authzen"
MAX_CANDIDATES = 1000
SEARCH_BUDGET_S = 10.0
_APPLIED = frozenset({Effect.ALLOW, Effect.WARN, Effect.AUDIT})


def permitted(result: DecisionResult) -> bool:
    """Whether an engine answer is an AuthZEN permit (see the module's docstring)."""
    return result.decision is not Decision.DENY and any(r.effect in _APPLIED for r in result.results)


async def evaluate(
    decisions: DecisionService, actor: Actor, scope: str | None, request: dict[str, Any]
) -> DecisionResult:
    """One AuthZEN evaluation (``subject``, ``resource``, ``action``, ``context``) as a decision."""
    return await decisions.decide_async(actor, DecisionRequest(POINT, request, scope), source=SOURCE)


async def evaluate_many(
    decisions: DecisionService,
    actor: Actor,
    scope: str | None,
    items: list[dict[str, Any] | InvalidInput],
    semantic: str = "execute_all",
) -> list[DecisionResult | InvalidInput]:
    """AuthZEN's Access Evaluations: each item in order (an item already known to be invalid, or invalid
    for the point, keeps its error in its place), stopping after the first deny (``deny_on_first_deny``)
    or the first permit (``permit_on_first_permit``); ``execute_all`` evaluates them all. A scope that does
    not exist, or that the key may not ask at, fails the whole request (it is the same for every item)."""
    out: list[DecisionResult | InvalidInput] = []
    for item in items:
        answer: DecisionResult | InvalidInput
        if isinstance(item, InvalidInput):
            answer = item
        else:
            try:
                answer = await evaluate(decisions, actor, scope, item)
            except InvalidInput as exc:
                answer = exc
        out.append(answer)
        allowed = not isinstance(answer, InvalidInput) and permitted(answer)
        if (semantic == "deny_on_first_deny" and not allowed) or (semantic == "permit_on_first_permit" and allowed):
            break
        await asyncio.sleep(0)  # let other requests in between the items of a large batch
    return out


def _key(kind: EntityKind, entity: dict[str, Any]) -> tuple[str, ...]:
    return (entity["name"],) if kind == "action" else (entity["type"], entity["id"])


async def candidates(
    decisions: DecisionService, actor: Actor, scope: str | None, kind: EntityKind, probe: dict[str, Any]
) -> list[dict[str, Any]]:
    """The known entities of ``kind`` (of the searched type) of the policies at ``scope``, sorted, each once
    (its properties from the first policy that lists it). ``probe`` is a valid evaluation request: the
    scope and the caller's right to ask there are checked as for an evaluation."""
    prepared = await anyio.to_thread.run_sync(decisions.prepare, actor, DecisionRequest(POINT, probe, scope))
    entity_type = None if kind == "action" else probe[kind]["type"]
    found: dict[tuple[str, ...], dict[str, Any]] = {}
    for entry in prepared.entries:
        if isinstance(entry.compiled, KnowsEntities):
            for entity in entry.compiled.known_entities(kind, entity_type):
                found.setdefault(_key(kind, entity), entity)
    return [found[k] for k in sorted(found)][:MAX_CANDIDATES]


async def search(
    decisions: DecisionService, actor: Actor, scope: str | None, kind: EntityKind, request: dict[str, Any]
) -> list[dict[str, Any]]:
    """The permitted entities of ``kind`` for ``request`` (its other two entities and its context), in
    a stable order: ``{"type", "id"}`` for subjects and resources, ``{"name"}`` for actions."""
    asked = request.get(kind) or {}
    probe = {**request, kind: {**asked, "id": ""} if kind != "action" else {"name": ""}}
    results: list[dict[str, Any]] = []
    until = time.monotonic() + SEARCH_BUDGET_S
    for candidate in await candidates(decisions, actor, scope, kind, probe):
        if time.monotonic() > until:
            raise Unavailable(f"the search did not finish within {SEARCH_BUDGET_S:g} s; narrow it")
        properties = {**candidate.get("properties", {}), **(asked.get("properties") or {})}
        if kind == "action":
            entity: dict[str, Any] = {"name": candidate["name"], "properties": properties}
        else:
            entity = {"type": candidate["type"], "id": candidate["id"], "properties": properties}
        item = {**request, kind: entity, "mode": "search"}
        result = await decisions.decide_async(actor, DecisionRequest(POINT, item, scope), source=SOURCE)
        if permitted(result):
            results.append(
                {"name": entity["name"]} if kind == "action" else {"type": entity["type"], "id": entity["id"]}
            )
        await asyncio.sleep(0)  # let other requests in between the candidates of a large search
    return results
