"""The decision log with its filters, and one decision explained: every policy that took part, the version
it was at (linked to that version's content), its effect, reasons and the obligations."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from policyhub.app import Container
from policyhub.errors import InvalidInput, NotFound
from policyhub.http.console.pages import container, decode_cursor, encode_cursor, page, parse_time, router
from policyhub.http.console.session import ConsoleUser, User
from policyhub.http.console.text import to_yaml
from policyhub.storage.repositories.decisions import DecisionFilter, LoggedDecision
from policyhub.storage.unit_of_work import UnitOfWork

PAGE_SIZE = 50
DECISIONS = ("allow", "warn", "deny")


def _filter(c: Container, uow: UnitOfWork, user: ConsoleUser, f: dict[str, str], cursor: str | None) -> DecisionFilter:
    after = None
    if cursor:
        raw = decode_cursor(cursor)
        if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, str) for x in raw)):
            raise InvalidInput.field("page", "malformed page cursor")
        try:
            after = (datetime.fromisoformat(raw[0]), raw[1])
        except ValueError:
            raise InvalidInput.field("page", "malformed page cursor") from None
    if f["decision"] and f["decision"] not in DECISIONS:
        raise InvalidInput.field("decision", f"must be one of {', '.join(DECISIONS)}")
    since = parse_time(f["since"], "since", "a date or time, e.g. 2026-12-05")
    try:
        policy_id = c.policies.get(uow, user.actor, f["policy"]).id if f["policy"] else None
    except NotFound:
        raise InvalidInput.field("policy", f"no policy {f['policy']!r} in this organization") from None
    return DecisionFilter(
        policy_id=policy_id,
        decision=f["decision"] or None,
        point=f["point"] or None,
        source=f["source"] or None,
        since=since,
        after=after,
    )


@router.get("/decisions")
async def decision_list(request: Request, user: User) -> Response:
    c = container(request)
    q = request.query_params
    f = {n: q.get(n, "").strip() for n in ("decision", "point", "source", "policy", "since")}
    errors: dict[str, str] = {}
    rows: list[LoggedDecision] = []
    next_query = None

    def read(uow: UnitOfWork) -> tuple[list[LoggedDecision], tuple[datetime, str] | None]:
        flt = _filter(c, uow, user, f, q.get("page"))
        found: tuple[list[LoggedDecision], tuple[datetime, str] | None] = c.decisions.log_page(
            uow, user.actor, flt, PAGE_SIZE
        )
        return found

    try:
        rows, after = await c.db.read_async(read)
        if after is not None:
            next_query = str(
                request.url.include_query_params(page=encode_cursor([after[0].isoformat(), after[1]])).query
            )
    except InvalidInput as exc:
        errors = {e.field: e.message for e in exc.errors} or {"form": exc.detail}
    return page(
        request,
        user,
        "decisions.html",
        nav="decisions",
        filters=f,
        errors=errors,
        decisions=rows,
        next_query=next_query,
        first_page=not q.get("page"),
        points=sorted(c.decisions.engine.points.names()),
        outcomes=DECISIONS,
    )


@router.get("/decisions/{decision_id}")
async def decision_page(request: Request, user: User, decision_id: str) -> Response:
    c = container(request)
    found: LoggedDecision = await c.db.read_async(lambda uow: c.decisions.logged(uow, user.actor, decision_id))
    results = [r for r in found.results if isinstance(r, dict)] if isinstance(found.results, list) else []
    return page(
        request,
        user,
        "decision.html",
        nav="decisions",
        d=found,
        results=results,
        input_yaml=to_yaml(found.input) if found.input is not None else "",
        obligations=[to_yaml(o) for o in found.obligations] if isinstance(found.obligations, list) else [],
    )
