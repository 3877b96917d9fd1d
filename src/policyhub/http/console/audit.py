"""The org's audit events, newest first, with filters; each event links to the policy version it made;
and the chain verification's result, in plain words."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from policyhub.app import Container
from policyhub.domain.records import Event, EventType, Role
from policyhub.errors import InvalidInput, NotFound
from policyhub.http.console.pages import container, may, page, parse_time, router
from policyhub.http.console.session import ConsoleUser, User
from policyhub.services import audit
from policyhub.services.audit import ChainReport
from policyhub.services.authz import require_org_admin, require_role
from policyhub.storage.repositories.events import EventFilter
from policyhub.storage.unit_of_work import UnitOfWork

PAGE_SIZE = 50
EVENT_TYPES = [t.value for t in EventType] + [
    "scope_created",
    "scope_deleted",
    "principal_created",
    "key_created",
    "key_revoked",
]


#: What the ``since`` and ``until`` filters take.
WHEN = "a date or time, e.g. 2026-12-05 or 2026-12-05T10:00"


def _filter(f: dict[str, str]) -> EventFilter:
    before = None
    if f["before"]:
        if not f["before"].isdigit():
            raise InvalidInput.field("before", "must be an event number")
        before = int(f["before"])
    return EventFilter(
        object_kind=f["kind"] or None,
        types=(f["type"],) if f["type"] else (),
        since=parse_time(f["since"], "since", WHEN),
        until=parse_time(f["until"], "until", WHEN),
        before_seq=before,
        newest_first=True,
    )


def _names(uow: UnitOfWork, c: Container, user: ConsoleUser, found: list[Event]) -> dict[str, str]:
    """The current names of the policies these events are about (the ones the user may see)."""
    names: dict[str, str] = {}
    for object_id in {e.object_id for e in found if e.object_kind == "policy"}:
        try:
            names[object_id] = c.policies.get(uow, user.actor, object_id).name
        except NotFound:
            continue
    return names


async def _audit(request: Request, user: ConsoleUser, report: ChainReport | None) -> Response:
    c = container(request)
    q = request.query_params
    f = {n: q.get(n, "").strip() for n in ("type", "kind", "since", "until", "before")}
    errors: dict[str, str] = {}
    found: list[Event] = []
    names: dict[str, str] = {}
    try:
        flt = _filter(f)

        def read(uow: UnitOfWork) -> tuple[list[Event], dict[str, str]]:
            events = audit.org_events(uow, user.actor, flt, PAGE_SIZE + 1)
            return events, _names(uow, c, user, events[:PAGE_SIZE])

        found, names = await c.db.read_async(read)
    except InvalidInput as exc:
        errors = {e.field: e.message for e in exc.errors} or {"form": exc.detail}
    older = None
    if len(found) > PAGE_SIZE:
        found = found[:PAGE_SIZE]
        older = str(request.url.include_query_params(before=found[-1].seq).query)
    return page(
        request,
        user,
        "audit.html",
        nav="audit",
        filters=f,
        errors=errors,
        events=found,
        names=names,
        older=older,
        event_types=EVENT_TYPES,
        report=report,
        can_verify=may(lambda: require_org_admin(user.actor)),
        version_events=("creation", "new_version", "rollback"),
    )


@router.get("/audit")
async def audit_page(request: Request, user: User) -> Response:
    require_role(user.actor, Role.VIEWER, None)
    return await _audit(request, user, None)


@router.get("/audit/verify")
async def audit_verify(request: Request, user: User) -> Response:
    """The chain verified now (org admins, as ``GET /v1/orgs/{org}/audit/verify``)."""
    c = container(request)
    report = await c.db.read_async(lambda uow: audit.verify(uow, user.actor))
    return await _audit(request, user, report)
