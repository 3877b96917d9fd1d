"""The change feed, ``GET /v1/orgs/{org}/changes``: keyset pages of the org's decision-relevant events,
with long polling (``services.change_feed``). Agent keys may read it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from policyhub.domain.bounded_json import json_bytes
from policyhub.domain.canonical import iso
from policyhub.domain.records import Actor, Event
from policyhub.errors import InvalidInput
from policyhub.http.deps import ContainerDep, RolloutActor
from policyhub.http.problems import problem_body
from policyhub.http.v1.render import FastJSON
from policyhub.http.v1.rollout import RolloutOrg
from policyhub.services.change_feed import DEFAULT_LIMIT, MAX_LAG, MAX_LIMIT, MAX_WAIT_S, ChangeFeed, FeedGone, FeedPage

router = APIRouter(prefix="/v1/orgs/{org}", tags=["rollout"])
#: The ``after`` query parameter of the feed and of its stream.
AfterSeq = Annotated[int, Query(description="the last seq the caller has (0: from the start)")]


class ChangeOut(BaseModel):
    seq: int = Field(description="the event's position in the org's hash-chained log")
    at: str = Field(description="when it committed (RFC 3339)")
    kind: str = Field(description="`policy`, `scope`, `resource` or `environment` (a rollout environment)")
    action: str = Field(description="the event type, e.g. `creation`, `new_version`, `archiving`, `scope_created`")
    subject: str = Field(description="the id of the object that changed")
    object_kind: str = Field(description="the log's object kind (for a resource: its kind, e.g. `kosli.environment`)")
    name: str | None = Field(None, description="the object's name, path or key when the event records it")


class ChangePage(BaseModel):
    changes: list[ChangeOut]
    next_after: int = Field(description="pass as `after` to continue")
    head: int = Field(description="the org's newest seq when the page was read")
    more: bool = Field(description="whether more changes follow at once (ask again without waiting)")


class GoneProblem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    head: int


_KINDS = {"policy": "policy", "scope": "scope", "rollout_environment": "environment"}
_NAME_FIELDS = ("name", "path", "key")


def change_out(event: Event) -> dict[str, Any]:
    name = next((event.data[f] for f in _NAME_FIELDS if isinstance(event.data.get(f), str)), None)
    return {
        "seq": event.seq,
        "at": iso(event.at),
        "kind": _KINDS.get(event.object_kind, "resource"),
        "action": event.type,
        "subject": event.object_id,
        "object_kind": event.object_kind,
        "name": name,
    }


@router.get(
    "/changes",
    response_model=ChangePage,
    summary="The org's change feed (long polling; agent or viewer key)",
    description="Every committed change to what decisions read (policies, scopes, resources) and to rollout "
    "environments, in log order after `after` (keyset pages of `limit`). With `wait`, an empty page waits up to "
    f"that many seconds (capped at {MAX_WAIT_S:g}) and answers as soon as a change commits, on any replica "
    "(within half a second). Key, principal and org events are not in the feed; `next_after` moves past them. "
    f"**410 Gone** (problem+json with `head`): the caller is more than {MAX_LAG} events behind, ahead of the head "
    "(a restored database) or behind what the log holds: re-bootstrap from `GET /v1/orgs/{org}/bundles/{env}`.",
    responses={410: {"model": GoneProblem, "description": "re-bootstrap from a bundle"}},
)
async def changes(
    c: ContainerDep,
    actor: RolloutActor,
    org: RolloutOrg,
    after: AfterSeq = 0,
    limit: Annotated[int, Query(description=f"1..{MAX_LIMIT}")] = DEFAULT_LIMIT,
    wait: Annotated[float, Query(description=f"seconds to wait for a change (0..{MAX_WAIT_S:g}, capped)")] = 0,
) -> Response:
    try:
        page = await c.change_feed.changes(actor, org.id, after, limit, wait)
    except FeedGone as gone:
        return _gone(gone)
    return FastJSON(
        {
            "changes": [change_out(e) for e in page.changes],
            "next_after": page.next_after,
            "head": page.head,
            "more": page.more,
        }
    )


def _gone(gone: FeedGone) -> Response:
    body = {**problem_body(410, gone), "head": gone.head}
    return JSONResponse(body, status_code=410, media_type="application/problem+json")


#: How long one event stream lasts at most; the client reconnects with ``Last-Event-ID``.
MAX_STREAM_S = 300.0
KEEP_ALIVE_S = 15.0


@router.get(
    "/changes/stream",
    response_class=StreamingResponse,
    summary="The change feed as server-sent events (agent or viewer key)",
    description="The same changes as `GET .../changes`, as `text/event-stream`: one `change` event per change "
    "(`id` = its seq, `data` = the change's JSON), a `: keep-alive` comment every 15 s without changes, and a "
    "`gone` event (the 410 problem as `data`) when the caller must re-bootstrap. Resume with `Last-Event-ID` "
    f"(or `after`). A stream lasts `duration` seconds (at most {MAX_STREAM_S:g}), then ends: reconnect. A position "
    "the feed no longer serves before the stream starts is a plain 410.",
    responses={410: {"model": GoneProblem, "description": "re-bootstrap from a bundle"}},
)
async def change_stream(
    c: ContainerDep,
    actor: RolloutActor,
    org: RolloutOrg,
    after: AfterSeq = 0,
    duration: Annotated[float, Query(description=f"seconds the stream lasts (0..{MAX_STREAM_S:g})")] = MAX_STREAM_S,
    last_event_id: Annotated[str | None, Header(description="the last seq received (overrides `after`)")] = None,
) -> Response:
    if last_event_id is not None:
        if not last_event_id.strip().isdigit():
            raise InvalidInput.field("Last-Event-ID", "must be the seq of the last event received")
        after = int(last_event_id)
    if not 0 <= duration <= MAX_STREAM_S:
        raise InvalidInput.field("duration", f"must be between 0 and {MAX_STREAM_S:g} seconds")
    try:  # the first page before the stream starts: a refusal is still an HTTP status
        first = await c.change_feed.changes(actor, org.id, after, MAX_LIMIT, 0)
    except FeedGone as gone:
        return _gone(gone)
    events = _events(c.change_feed, actor, org.id, first, time.monotonic() + duration)
    return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-store"})


async def _events(feed: ChangeFeed, actor: Actor, org_id: str, page: FeedPage, deadline: float) -> AsyncIterator[bytes]:
    while True:
        for event in page.changes:
            yield b"id: %d\nevent: change\ndata: %s\n\n" % (event.seq, json_bytes(change_out(event)))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        if not page.changes:
            yield b": keep-alive\n\n"
        wait = 0 if page.more else min(KEEP_ALIVE_S, remaining)
        try:
            page = await feed.changes(actor, org_id, page.next_after, MAX_LIMIT, wait)
        except FeedGone as gone:
            yield b"event: gone\ndata: %s\n\n" % json_bytes({**problem_body(410, gone), "head": gone.head})
            return
