"""API keys (org admins): the list, issue (the token is shown once, on the answer to the form), revoke."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from policyhub.errors import Conflict, InvalidInput
from policyhub.http.console.pages import container, page, parse_time, router
from policyhub.http.console.session import ConsoleUser, User, checked_form
from policyhub.services import keys
from policyhub.services.authz import require_org_admin
from policyhub.services.keys import IssuedKey
from policyhub.storage.unit_of_work import UnitOfWork

ROLES = ("viewer", "editor", "admin")


async def _keys_page(
    request: Request,
    user: ConsoleUser,
    *,
    status_code: int = 200,
    issued: IssuedKey | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    c = container(request)

    def read(uow: UnitOfWork) -> tuple[list[Any], dict[str, Any], list[Any]]:
        found = keys.list_keys(uow, user.actor)
        principals = keys.list_principals(uow, user.actor)
        return found, {p.id: p for p in principals}, [s.path for s in c.scopes.list(uow, user.actor)]

    found, principals, scopes = await c.db.read_async(read)
    found.sort(key=lambda pair: (pair[0].revoked_at is not None, pair[0].created_at), reverse=False)
    return page(
        request,
        user,
        "keys.html",
        nav="keys",
        status_code=status_code,
        keys=found,
        principals=principals,
        scopes=scopes,
        roles=ROLES,
        issued=issued,
        errors=errors or {},
        message=message,
        form=form or {},
    )


@router.get("/keys")
async def keys_page(request: Request, user: User) -> Response:
    require_org_admin(user.actor)
    return await _keys_page(request, user)


@router.post("/keys")
async def keys_create(request: Request, user: User) -> Response:
    c = container(request)
    posted = await checked_form(request, user)
    form = {
        n: str(posted.get(n, "")).strip() for n in ("display_name", "principal_id", "role", "scope", "name", "expires")
    }

    def issue(uow: UnitOfWork) -> IssuedKey:
        principal_id = form["principal_id"]
        if not principal_id:
            principal = keys.create_principal(uow, user.actor, kind="user", display_name=form["display_name"])
            principal_id = principal.id
        expires = parse_time(form["expires"], "expires", "a date, e.g. 2027-01-31")
        return keys.issue_key(
            uow,
            user.actor,
            principal_id=principal_id,
            role=form["role"],
            scope=form["scope"] or None,
            name=form["name"],
            expires_at=expires,
        )

    try:
        issued = await c.db.transact_async(issue)
    except InvalidInput as exc:
        errors = {e.field: e.message for e in exc.errors} or {"form": exc.detail}
        return await _keys_page(request, user, status_code=400, errors=errors, form=form)
    return await _keys_page(request, user, status_code=201, issued=issued)


@router.post("/keys/{key_id}/revoke")
async def keys_revoke(request: Request, user: User, key_id: str) -> Response:
    c = container(request)
    await checked_form(request, user)
    try:
        key, _ = await c.db.transact_async(lambda uow: keys.revoke_key(uow, user.actor, key_id))
    except Conflict as exc:
        return await _keys_page(request, user, status_code=409, message=exc.detail)
    c.actors.clear()  # the revoked key must stop working here at once (as DELETE /v1/.../keys/{id} does)
    return await _keys_page(request, user, message=f"Key {key.prefix}… revoked; its console sessions ended.")
