"""The change feed, ``GET /v1/orgs/{org}/changes``: keyset pages of the org's decision-relevant events,
with long polling (``services.change_feed``). Agent keys may read it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from policyhub.domain.canonical import iso
from policyhub.domain.records import Event
from policyhub.http.deps import ContainerDep, RolloutActor
from policyhub.http.problems import problem_body
from policyhub.http.v1.render import FastJSON
from policyhub.http.v1.rollout import RolloutOrg
from policyhub.services.change_feed import DEFAULT_LIMIT, MAX_LAG, MAX_LIMIT, MAX_WAIT_S, FeedGone

router = APIRouter(prefix="/v1/orgs/{org}", tags=["rollout"])


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
    request: Request,
    c: ContainerDep,
    actor: RolloutActor,
    org: RolloutOrg,
    after: Annotated[int, Query(description="the last seq the caller has (0: from the start)")] = 0,
    limit: Annotated[int, Query(description=f"1..{MAX_LIMIT}")] = DEFAULT_LIMIT,
    wait: Annotated[float, Query(description=f"seconds to wait for a change (0..{MAX_WAIT_S:g}, capped)")] = 0,
) -> Response:
    try:
        page = await c.change_feed.changes(actor, org.id, after, limit, wait)
    except FeedGone as gone:
        body = {**problem_body(410, gone), "head": gone.head}
        return JSONResponse(body, status_code=410, media_type="application/problem+json")
    return FastJSON(
        {
            "changes": [change_out(e) for e in page.changes],
            "next_after": page.next_after,
            "head": page.head,
            "more": page.more,
        }
    )
