"""Editing a policy in the browser: "preview" runs the write as a dry run (diff and field errors next to the
fields); "save" runs it for real, conditional on the version the form was rendered with (If-Match)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from policyhub.domain.policy_document import etag, to_document
from policyhub.domain.policy_fields import EDITABLE
from policyhub.domain.records import Policy
from policyhub.errors import InvalidInput, PreconditionFailed
from policyhub.http.console.pages import container, field_errors, page, router, see_other
from policyhub.http.console.session import ConsoleUser, User, checked_form
from policyhub.http.console.text import DiffRow, labels_text, parse_labels, parse_spec, side_by_side, to_yaml
from policyhub.services.commands import ReplacePolicy, WriteOptions
from policyhub.services.policies import Preconditions, WriteResult

ENFORCEMENTS = ("enforce", "warn", "audit")
_SHOWN_FIELDS = ("description", "enforcement", "enabled", "labels")


@dataclass
class EditForm:
    """What the form shows: the values as typed, and the problems found with them, by field."""

    description: str
    enforcement: str
    enabled: bool
    labels: str
    spec: str
    source: str | None
    comment: str
    etag: str
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, policy: Policy) -> EditForm:
        return cls(
            description=policy.description,
            enforcement=policy.enforcement.value,
            enabled=policy.enabled,
            labels=labels_text(policy.labels),
            spec=to_yaml(policy.spec),
            source=policy.source,
            comment="",
            etag=etag(policy),
        )

    @classmethod
    def posted(cls, form: FormData, policy: Policy) -> EditForm:
        def text(name: str) -> str:
            value = form.get(name, "")
            return value.replace("\r\n", "\n") if isinstance(value, str) else ""

        return cls(
            description=text("description"),
            enforcement=text("enforcement"),
            enabled=form.get("enabled") == "on",
            labels=text("labels"),
            spec=text("spec"),
            source=text("source") if policy.source is not None else None,
            comment=text("comment"),
            etag=text("etag"),
        )

    def document(self, policy: Policy) -> dict[str, Any] | None:
        """The PUT body the form stands for (None when a field could not be read; see ``errors``)."""
        # A PUT resets what it omits: start from every editable field as it is (the declaration's list,
        # so a field added later is kept), then put in what the form edits.
        current = to_document(policy)
        doc: dict[str, Any] = {f.key: current[f.key] for f in EDITABLE if f.key is not None and f.key in current}
        doc.pop("spec", None)
        doc.pop("source", None)
        doc.update(
            description=self.description, enforcement=self.enforcement, enabled=self.enabled, comment=self.comment
        )
        for name, parse in (("labels", parse_labels), ("spec", parse_spec)):
            if name == "spec" and self.source is not None:
                continue  # a policy written as source: the spec is derived from it
            try:
                doc[name] = parse(getattr(self, name), name)
            except InvalidInput as exc:
                for key, messages in field_errors(exc).items():
                    self.errors.setdefault(key, []).extend(messages)
        if self.source is not None:
            doc["source"] = self.source
        return None if self.errors else doc


async def _current(request: Request, user: ConsoleUser, name: str) -> Policy:
    c = container(request)
    policy: Policy = await c.db.read_async(lambda uow: c.policies.get(uow, user.actor, name, include_archived=False))
    return policy


def _edit_page(
    request: Request,
    user: ConsoleUser,
    policy: Policy,
    form: EditForm,
    *,
    status_code: int = 200,
    preview: WriteResult | None = None,
    conflict: str | None = None,
) -> Response:
    rows: list[DiffRow] = []
    changes: list[tuple[str, Any, Any]] = []
    if preview is not None and preview.before is not None:
        before, after = preview.before, preview.policy
        rows = side_by_side(to_yaml(before.spec), to_yaml(after.spec))
        for name in _SHOWN_FIELDS:
            old, new = getattr(before, name), getattr(after, name)
            if old != new:
                changes.append((name, old, new))
    return page(
        request,
        user,
        "edit.html",
        nav="policies",
        status_code=status_code,
        policy=policy,
        form=form,
        enforcements=ENFORCEMENTS,
        preview=preview,
        rows=rows,
        spec_changed=any(r.kind != "equal" for r in rows),
        changes=changes,
        conflict=conflict,
    )


@router.get("/policies/{name}/edit")
async def edit_page(request: Request, user: User, name: str) -> Response:
    policy = await _current(request, user, name)
    return _edit_page(request, user, policy, EditForm.of(policy))


@router.post("/policies/{name}/edit")
async def edit_post(request: Request, user: User, name: str) -> Response:
    c = container(request)
    posted = await checked_form(request, user)
    policy = await _current(request, user, name)
    form = EditForm.posted(posted, policy)
    dry_run = posted.get("action") != "save"
    doc = form.document(policy)
    if doc is None:
        return _edit_page(request, user, policy, form, status_code=400)
    if not form.etag:
        form.errors["form"] = ["the form lost the version it was opened on: open it again"]
        return _edit_page(request, user, policy, form, status_code=400)
    options = WriteOptions(dry_run=dry_run, preconditions=Preconditions(if_match=form.etag))
    try:
        result = await c.commands.execute(user.actor, user.org, ReplacePolicy(policy.id, doc), options)
    except InvalidInput as exc:
        form.errors = field_errors(exc)
        return _edit_page(request, user, policy, form, status_code=400)
    except PreconditionFailed:
        why = (
            f"This policy changed after the form was opened (it is now at version {policy.version}, revision "
            f"{policy.revision}). Nothing was saved. Open the form again to edit the current version; your text "
            "is kept below to copy from."
        )
        return _edit_page(request, user, policy, form, status_code=409, conflict=why)
    if dry_run:
        return _edit_page(request, user, policy, form, preview=result)
    return see_other(f"/console/orgs/{user.org.slug}/policies/{result.policy.name}?saved={result.policy.version}")
