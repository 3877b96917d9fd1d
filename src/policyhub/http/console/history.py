"""A policy's history: its versions, a side-by-side diff of any two, and rollback with confirmation."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from policyhub.app import Container
from policyhub.domain.policy_document import etag
from policyhub.domain.records import Event, Policy, Role, Version
from policyhub.errors import InvalidInput, PreconditionFailed
from policyhub.http.console.pages import container, may, page, router, see_other
from policyhub.http.console.session import ConsoleUser, User, checked_form
from policyhub.http.console.text import side_by_side, to_yaml
from policyhub.services.authz import require_role
from policyhub.services.commands import RollbackPolicy, WriteOptions
from policyhub.services.policies import Preconditions
from policyhub.storage.unit_of_work import UnitOfWork

MAX_VERSIONS_SHOWN = 500
_VERSION_EVENTS = ("creation", "new_version", "rollback")
_METADATA_EVENTS = ("metadata_update", "renaming", "archiving", "unarchiving")


@router.get("/policies/{name}/history")
async def history_page(request: Request, user: User, name: str) -> Response:
    c = container(request)

    def read(uow: UnitOfWork) -> tuple[Policy, list[Version], list[Event]]:
        policy = c.policies.get(uow, user.actor, name)
        first = max(0, policy.version - MAX_VERSIONS_SHOWN)
        _, versions = c.policies.versions(uow, user.actor, policy.id, after=first)
        return policy, versions, c.policies.events(uow, user.actor, policy.id)

    policy, versions, events = await c.db.read_async(read)
    versions.reverse()  # newest first
    return page(
        request,
        user,
        "history.html",
        nav="policies",
        policy=policy,
        versions=versions,
        events=list(reversed(events))[:MAX_VERSIONS_SHOWN],
        truncated=policy.version > MAX_VERSIONS_SHOWN,
        can_edit=not policy.archived and may(lambda: require_role(user.actor, Role.EDITOR, policy.scope_path)),
    )


def _version_number(request: Request, name: str, default: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise InvalidInput.field(name, "choose a version")
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput.field(name, "must be a version number")
    return int(raw)


def metadata_between(events: list[Event], old: int, new: int) -> list[Event]:
    """The policy's metadata events between the events that made versions ``old`` and ``new``."""
    made = {int(e.data["version"]): e.seq for e in events if e.type in _VERSION_EVENTS and "version" in e.data}
    lo, hi = sorted((made.get(old, 0), made.get(new, 0)))
    return [e for e in events if e.type in _METADATA_EVENTS and lo < e.seq <= hi]


@router.get("/policies/{name}/diff")
async def diff_page(request: Request, user: User, name: str) -> Response:
    c = container(request)

    def read(uow: UnitOfWork) -> tuple[Policy, Version, Version, list[Event]]:
        policy = c.policies.get(uow, user.actor, name)
        old_n = _version_number(request, "from", max(1, policy.version - 1))
        new_n = _version_number(request, "to", policy.version)
        _, old = c.policies.version(uow, user.actor, policy.id, old_n)
        _, new = c.policies.version(uow, user.actor, policy.id, new_n)
        return policy, old, new, c.policies.events(uow, user.actor, policy.id)

    policy, old, new, events = await c.db.read_async(read)
    rows = side_by_side(to_yaml(old.spec), to_yaml(new.spec))
    return page(
        request,
        user,
        "diff.html",
        nav="policies",
        policy=policy,
        old=old,
        new=new,
        rows=rows,
        changed=any(r.kind != "equal" for r in rows) or old.source != new.source,
        source_rows=side_by_side(old.source or "", new.source or "") if old.source != new.source else [],
        metadata=metadata_between(events, old.version, new.version),
    )


def _rollback_context(
    c: Container, user: ConsoleUser, name: str, number: int
) -> Callable[[UnitOfWork], tuple[Policy, Version, Version]]:
    """The read a rollback's confirmation shows: the policy, the version restored, the current version."""

    def read(uow: UnitOfWork) -> tuple[Policy, Version, Version]:
        policy, target = c.policies.version(uow, user.actor, name, number)
        _, current = c.policies.version(uow, user.actor, policy.id, policy.version)
        return policy, target, current

    return read


@router.get("/policies/{name}/rollback")
async def rollback_confirm(request: Request, user: User, name: str) -> Response:
    c = container(request)
    number = _version_number(request, "version", None)
    policy, target, current = await c.db.read_async(_rollback_context(c, user, name, number))
    return _confirm_page(request, user, policy, target, current, etag(policy), None)


def _confirm_page(
    request: Request,
    user: ConsoleUser,
    policy: Policy,
    target: Version,
    current: Version,
    tag: str,
    conflict: str | None,
    comment: str = "",
) -> Response:
    return page(
        request,
        user,
        "rollback.html",
        nav="policies",
        status_code=409 if conflict else 200,
        policy=policy,
        target=target,
        current=current,
        etag=tag,
        conflict=conflict,
        comment=comment,
        rows=side_by_side(to_yaml(current.spec), to_yaml(target.spec)),
    )


@router.post("/policies/{name}/rollback")
async def rollback_post(request: Request, user: User, name: str) -> Response:
    c = container(request)
    form = await checked_form(request, user)
    number_raw = str(form.get("version", ""))
    if not number_raw.isdigit():
        raise InvalidInput.field("version", "must be a version number")
    number = int(number_raw)
    comment = str(form.get("comment", ""))
    tag = str(form.get("etag", ""))
    if not tag:
        raise InvalidInput.field("etag", "the page's ETag is missing: reload the page")
    command = RollbackPolicy(name, number, comment or f"rolled back to version {number} in the console")
    try:
        result = await c.commands.execute(
            user.actor, user.org, command, WriteOptions(preconditions=Preconditions(if_match=tag))
        )
    except PreconditionFailed:
        policy, target, current = await c.db.read_async(_rollback_context(c, user, name, number))
        why = (
            f"The policy changed after this page was shown (it is now at version {policy.version}, revision "
            f"{policy.revision}). Nothing was rolled back. Review the difference below and confirm again."
        )
        return _confirm_page(request, user, policy, target, current, etag(policy), why, comment)
    return see_other(f"/console/orgs/{user.org.slug}/policies/{result.policy.name}/history?done=rollback")
