"""Audit events: per org and per policy, filterable and paginated."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from policyhub.domain.records import Actor, Event
from policyhub.http.deps import ContainerDep, CurrentActor, OrgDep
from policyhub.http.v1 import schemas
from policyhub.http.v1.render import FastJSON, decode_token, encode_token, event_out
from policyhub.services import audit
from policyhub.storage.repositories.events import EventFilter
from policyhub.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/orgs/{org}", tags=["events"])

Types = Annotated[list[str] | None, Query(alias="type", description="event type(s); repeat or comma-separate")]


def _filter(
    types: list[str] | None,
    since: datetime | None,
    until: datetime | None,
    page_token: str | None,
    object_id: str | None = None,
    object_kind: str | None = None,
) -> EventFilter:
    flat = tuple(t.strip() for group in (types or []) for t in group.split(",") if t.strip())
    after = decode_token(page_token, int) if page_token else None
    return EventFilter(
        object_id=object_id, object_kind=object_kind, types=flat, since=since, until=until, after_seq=after
    )


async def _page(c: ContainerDep, actor: Actor, flt: EventFilter, limit: int | None, ref: str | None = None) -> Response:
    """One page of the org's events, or of one policy's (``ref``) when the actor may see that policy."""
    size = min(limit or c.settings.default_page_size, c.settings.max_page_size)

    def read(uow: UnitOfWork) -> list[Event]:
        if ref is None:
            return audit.org_events(uow, actor, flt, size + 1)
        return c.policies.event_page(uow, actor, ref, flt, size + 1)

    found = await c.db.read_async(read)
    more = len(found) > size
    found = found[:size]
    token = encode_token(found[-1].seq) if more else None
    return FastJSON({"items": [event_out(e) for e in found], "next_page_token": token})


@router.get("/events", response_model=schemas.EventList, summary="The org's audit events")
async def org_events(
    c: ContainerDep,
    actor: CurrentActor,
    org: OrgDep,
    types: Types = None,
    since: datetime | None = None,
    until: datetime | None = None,
    object_kind: str | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    page_token: str | None = None,
) -> Response:
    return await _page(c, actor, _filter(types, since, until, page_token, object_kind=object_kind), limit)


@router.get(
    "/policies/{ref}/events", response_model=schemas.EventList, tags=["policies"], summary="A policy's audit events"
)
async def policy_events(
    c: ContainerDep,
    actor: CurrentActor,
    org: OrgDep,
    ref: str,
    types: Types = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    page_token: str | None = None,
) -> Response:
    return await _page(c, actor, _filter(types, since, until, page_token), limit, ref=ref)
