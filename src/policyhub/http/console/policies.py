"""Policy pages: the list (the API's filters, keyset pages), one policy, one version."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from policyhub.domain.policy_document import etag
from policyhub.domain.records import Role
from policyhub.domain.selectors import parse_selector
from policyhub.errors import InvalidInput
from policyhub.http.console.pages import container, decode_cursor, encode_cursor, may, page, router
from policyhub.http.console.session import User
from policyhub.http.console.text import to_yaml
from policyhub.services.authz import require_role
from policyhub.storage.repositories.policies import PolicyFilter
from policyhub.storage.unit_of_work import UnitOfWork

PAGE_SIZE = 50
_ARCHIVED = {"false": False, "true": True, "all": None}
_ENABLED = {"": None, "true": True, "false": False}


def _filters(request: Request) -> dict[str, str]:
    q = request.query_params
    names = ("type", "scope", "labels", "enabled", "archived", "name")
    return {n: q.get(n, "").strip() for n in names}


def _policy_filter(f: dict[str, str], cursor: str | None) -> PolicyFilter:
    after = None
    if cursor:
        raw = decode_cursor(cursor)
        if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, str) for x in raw)):
            raise InvalidInput.field("page", "malformed page cursor")
        after = (raw[0], raw[1])
    if f["enabled"] not in _ENABLED:
        raise InvalidInput.field("enabled", "must be empty, true or false")
    if (f["archived"] or "false") not in _ARCHIVED:
        raise InvalidInput.field("archived", "must be false, true or all")
    return PolicyFilter(
        type=f["type"] or None,
        scope_path=f["scope"].strip("/") or None,
        labels=parse_selector(f["labels"]),
        enabled=_ENABLED[f["enabled"]],
        archived=_ARCHIVED[f["archived"] or "false"],
        name_prefix=f["name"] or None,
        after=after,
    )


@router.get("/policies")
async def policy_list(request: Request, user: User) -> Response:
    c = container(request)
    f = _filters(request)
    errors: dict[str, str] = {}
    items: list[Any] = []
    next_cursor = None
    try:
        flt = _policy_filter(f, request.query_params.get("page"))
        found = await c.db.read_async(lambda uow: c.policies.list(uow, user.actor, flt, PAGE_SIZE + 1))
        items = found[:PAGE_SIZE]
        if len(found) > PAGE_SIZE:
            next_cursor = encode_cursor([items[-1].name, items[-1].id])
    except InvalidInput as exc:
        errors = {e.field: e.message for e in exc.errors} or {"form": exc.detail}
    next_query = None
    if next_cursor:
        next_query = str(request.url.include_query_params(page=next_cursor).query)
    types = sorted(c.registry.names())
    return page(
        request,
        user,
        "policies.html",
        nav="policies",
        filters=f,
        errors=errors,
        policies=items,
        next_query=next_query,
        first_page=not request.query_params.get("page"),
        types=types,
        can_create=may(lambda: require_role(user.actor, Role.EDITOR, user.actor.scope_path)),
    )


@router.get("/policies/{name}")
async def policy_page(request: Request, user: User, name: str) -> Response:
    c = container(request)

    def read(uow: UnitOfWork) -> Any:
        return c.policies.get(uow, user.actor, name)

    policy = await c.db.read_async(read)
    return page(
        request,
        user,
        "policy.html",
        nav="policies",
        policy=policy,
        etag=etag(policy),
        spec_yaml=to_yaml(policy.spec),
        attributes_yaml=to_yaml(policy.attributes) if policy.attributes else "",
        can_edit=not policy.archived and may(lambda: require_role(user.actor, Role.EDITOR, policy.scope_path)),
    )


@router.get("/policies/{name}/versions/{number}")
async def version_page(request: Request, user: User, name: str, number: int) -> Response:
    c = container(request)
    policy, version = await c.db.read_async(lambda uow: c.policies.version(uow, user.actor, name, number))
    return page(
        request,
        user,
        "version.html",
        nav="policies",
        policy=policy,
        version=version,
        spec_yaml=to_yaml(version.spec),
        can_edit=not policy.archived
        and version.version != policy.version
        and may(lambda: require_role(user.actor, Role.EDITOR, policy.scope_path)),
    )
