"""Pure translations between Kosli's wire shapes and PolicyHub's core records.

* A Kosli policy is a core policy of type ``kosli.environment`` whose ``source`` is the uploaded YAML,
  kept verbatim (``versions[].policy_yaml``). Core fields Kosli cannot see (enforcement, enabled,
  labels, attributes) are carried over unchanged by a Kosli ``PUT``.
* Core audit events map onto Kosli's five event types; a rollback is a ``new_version`` and an
  unarchiving a ``metadata_update`` (Kosli has no such types).
* Validation errors about the YAML are reported under ``policy_file`` (syntax) or
  ``policy_file.<path>`` (schema), with the line and column of the offending node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from policyhub.domain.canonical import utc
from policyhub.domain.records import Event, EventType, Policy, Version
from policyhub.errors import FieldError, InvalidInput
from policyhub.evaluation.inputs.attachments import ENVIRONMENT_KIND
from policyhub.http.compat.kosli import schemas
from policyhub.http.compat.kosli.yaml_marks import locate

TYPE_NAME = "kosli.environment"
ENV_KIND = ENVIRONMENT_KIND
FILE_FIELD = "policy_file"

_EVENT_TYPES: dict[str, str] = {
    EventType.CREATION: "creation",
    EventType.METADATA_UPDATE: "metadata_update",
    EventType.NEW_VERSION: "new_version",
    EventType.RENAMING: "renaming",
    EventType.ARCHIVING: "archiving",
    EventType.ROLLBACK: "new_version",
    EventType.UNARCHIVING: "metadata_update",
}


def epoch(value: datetime) -> float:
    """Unix seconds (Kosli's timestamps are numbers)."""
    return utc(value).timestamp()


# -- requests ------------------------------------------------------------------------------------
def put_document(payload: schemas.KosliPolicyPutInput, source: str | None, current: Policy | None) -> dict[str, Any]:
    """The core document for ``PolicyService.put`` from a Kosli PUT.

    Without a file the stored content is kept (a metadata-only change). An empty ``description``
    keeps the stored one, as Kosli's environment PUT documents for its own description.
    """
    doc: dict[str, Any] = {"name": payload.name, "comment": payload.comment}
    if current is None:
        return {**doc, "type": TYPE_NAME, "description": payload.description, "source": source}
    return {
        **doc,
        "description": payload.description or current.description,
        "spec": current.spec,
        "source": source if source is not None else current.source,
        "enforcement": current.enforcement.value,
        "enabled": current.enabled,
        "labels": current.labels,
        "attributes": current.attributes,
    }


def file_errors(exc: InvalidInput, source: str | None) -> InvalidInput:
    """Re-address the core's ``source``/``spec.*`` errors to ``policy_file``, with line and column."""
    if not exc.errors:
        return exc
    errors = [_file_error(err, source) for err in exc.errors]
    return InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors[:5]), errors)


def _file_error(err: FieldError, source: str | None) -> FieldError:
    if err.field == "source":
        return FieldError(FILE_FIELD, err.message)
    if err.field != "spec" and not err.field.startswith("spec."):
        return err
    path = err.field.split(".")[1:]
    field = ".".join([FILE_FIELD, *path])
    where = locate(source, path) if source is not None and path else None
    if where is None:
        return FieldError(field, err.message)
    return FieldError(field, f"line {where[0]}, column {where[1]}: {err.message}")


# -- responses -----------------------------------------------------------------------------------
def policy_response(
    policy: Policy,
    versions: Iterable[Version],
    events: Iterable[Event],
    *,
    names: dict[str, str],
    consuming_envs: list[str],
    render_source: Callable[[dict[str, Any]], str | None],
) -> schemas.KosliPolicyResponse:
    """Kosli's ``PolicyResponse``; ``names`` maps principal ids to display names."""
    return schemas.KosliPolicyResponse(
        name=policy.name,
        description=policy.description,
        created_by=names.get(policy.created_by, policy.created_by),
        created_at=epoch(policy.created_at),
        last_modified_at=epoch(policy.updated_at),
        archived=policy.archived,
        versions=[version_out(v, render_source) for v in versions],
        events=[out for out in (event_out(e) for e in events) if out is not None],
        consuming_envs=[] if policy.archived else sorted(consuming_envs),
    )


def version_out(v: Version, render_source: Callable[[dict[str, Any]], str | None]) -> schemas.KosliVersionedPolicy:
    """A version; one written through ``/v1`` as a JSON spec gets the type's rendering as its YAML."""
    text = v.source if v.source is not None else (render_source(v.spec) or "")
    return schemas.KosliVersionedPolicy(
        version=v.version,
        comment=v.comment,
        timestamp=epoch(v.created_at),
        created_by=v.created_by_name or v.created_by,
        policy_yaml=text,
    )


def event_out(e: Event) -> schemas.KosliPolicyEvent | None:
    kind = _EVENT_TYPES.get(e.type)
    if kind is None:
        return None
    data = dict(e.data)
    if e.type == EventType.CREATION:  # Kosli's example: {"version": 1}; the core's type/scope mean nothing here
        data = {k: v for k, v in data.items() if k in ("version", "content_hash")}
    elif e.type == EventType.UNARCHIVING:
        data = {"changes": {"archived": {"before": True, "after": False}}, **data}
    return schemas.KosliPolicyEvent(type=kind, timestamp=epoch(e.at), user=e.actor_name, data=data)  # type: ignore[arg-type]
