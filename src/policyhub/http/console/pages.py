"""What every console page shares: the layout's context, permission probes, and page cursors."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from policyhub.app import Container
from policyhub.domain.records import Role
from policyhub.errors import Forbidden, InvalidInput
from policyhub.http.console.session import ConsoleUser
from policyhub.http.console.templating import render
from policyhub.services.authz import require_org_admin, require_role

router = APIRouter(prefix="/console/orgs/{org}", include_in_schema=False)


def page(
    request: Request, user: ConsoleUser, template: str, *, nav: str, status_code: int = 200, **ctx: Any
) -> HTMLResponse:
    """A page inside the console's layout (the user, the org, the session's CSRF token for its forms)."""
    base = f"/console/orgs/{user.org.slug}"
    is_admin = may(lambda: require_org_admin(user.actor))
    org_wide = may(lambda: require_role(user.actor, Role.VIEWER, None))
    return render(
        request,
        template,
        status_code=status_code,
        user=user,
        base=base,
        nav=nav,
        csrf=user.csrf,
        is_admin=is_admin,
        org_wide=org_wide,
        **ctx,
    )


def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


def may(check: Callable[[], object]) -> bool:
    """Whether a service permission check passes (the page hides what the service would refuse)."""
    try:
        check()
    except Forbidden:
        return False
    return True


def see_other(url: str) -> RedirectResponse:
    """After a POST: the browser GETs ``url`` (303)."""
    return RedirectResponse(url, status_code=303)


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(token: str, field: str = "page") -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput.field(field, "malformed page cursor") from None


def parse_time(value: str, field: str, expected: str) -> datetime | None:
    """A form's optional ISO date or time (``expected`` says which, with an example); empty is None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput.field(field, f"must be {expected}") from None


def field_errors(exc: InvalidInput) -> dict[str, list[str]]:
    """A write's field errors by the form field they belong to (``spec.limits.0`` goes next to ``spec``)."""
    found: dict[str, list[str]] = {}
    for err in exc.errors:
        name = err.field.split(".", 1)[0] or "form"
        where = err.field if "." in err.field else ""
        found.setdefault(name, []).append(f"{where}: {err.message}" if where else err.message)
    if not exc.errors:
        found["form"] = [exc.detail]
    return found
