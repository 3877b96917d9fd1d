"""Idempotent POSTs: the first response to a key is stored with the write, in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from policyhub.domain.canonical import now
from policyhub.domain.records import Actor
from policyhub.errors import IdempotencyMismatch
from policyhub.services import audit
from policyhub.storage.repositories.idempotency import StoredResponse
from policyhub.storage.unit_of_work import UnitOfWork


def run_once(
    uow: UnitOfWork,
    actor: Actor,
    key: str,
    fingerprint: str,
    produce: Callable[[], StoredResponse],
) -> StoredResponse:
    """Replay the stored response for ``key``, or produce, store and return a new one.

    The same key with a different request (body, path or principal) is a 422. Keys are per org.
    """
    audit.lock_org(uow, actor.org_id)  # serialise with concurrent retries of the same key
    stored = uow.idempotency.get(actor.org_id, key)
    if stored is not None:
        if stored.request_hash != fingerprint or stored.principal_id != actor.principal_id:
            raise IdempotencyMismatch(f"Idempotency-Key {key!r} was already used for a different request")
        return stored
    response = replace(produce(), request_hash=fingerprint, principal_id=actor.principal_id)
    if 200 <= response.status < 300:
        uow.idempotency.put(actor.org_id, key, actor.principal_id, response, now())
    return response
