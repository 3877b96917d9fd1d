"""Human views of policies, versions, events and write results (``-o json`` prints the server's JSON)."""

from __future__ import annotations

import json
from typing import Any

import yaml

POLICY_COLUMNS = ["name", "type", "scope", "version", "enforcement", "enabled", "labels", "updated_at"]
#: Archived policies may share a name, so their listing shows ids.
ARCHIVED_COLUMNS = ["name", "id", "type", "scope", "version", "archived_at"]
VERSION_COLUMNS = ["version", "created_at", "created_by_name", "comment", "content_hash"]
EVENT_COLUMNS = ["seq", "at", "type", "actor_name", "data"]


def labels_text(labels: dict[str, str] | None) -> str | None:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) if labels else None


def policy_row(policy: dict[str, Any]) -> dict[str, Any]:
    """One policy as a flat table row."""
    return {**policy, "labels": labels_text(policy.get("labels")), "scope": policy.get("scope") or "(org)"}


def version_row(version: dict[str, Any]) -> dict[str, Any]:
    return {
        **version,
        "comment": version.get("comment") or None,
        "content_hash": str(version.get("content_hash") or "")[:12] or None,
    }


def event_row(event: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(event.get("data") or {}, ensure_ascii=False, separators=(",", ":"))
    return {**event, "data": data if len(data) <= 80 else data[:77] + "..."}


def describe(policy: dict[str, Any], etag: str | None) -> str:
    """A policy as aligned ``KEY: value`` lines followed by its spec as YAML (or its source text)."""
    fields = [
        ("name", policy.get("name")),
        ("id", policy.get("id")),
        ("type", policy.get("type")),
        ("scope", policy.get("scope") or "(org)"),
        ("description", policy.get("description") or None),
        ("enforcement", policy.get("enforcement")),
        ("enabled", policy.get("enabled")),
        ("labels", labels_text(policy.get("labels"))),
        ("version", policy.get("version")),
        ("revision", policy.get("revision")),
        ("etag", etag),
        ("created", f"{policy.get('created_at')} by {policy.get('created_by')}"),
        ("updated", f"{policy.get('updated_at')} by {policy.get('updated_by')}"),
        ("archived", policy.get("archived_at") if policy.get("archived") else None),
    ]
    width = max(len(key) for key, _ in fields) + 2
    lines = [f"{(key.upper() + ':').ljust(width)}{value}" for key, value in fields if value is not None]
    if policy.get("source"):
        lines += ["SOURCE:", _indent(str(policy["source"]))]
    else:
        spec = yaml.safe_dump(policy.get("spec") or {}, sort_keys=False, allow_unicode=True)
        lines += ["SPEC:", _indent(spec)]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.rstrip("\n").splitlines())


def write_summary(done: str, status: int, policy: dict[str, Any], note: str = "", changed: bool | None = None) -> str:
    """``created policy 'x' (version 1)`` / ``updated policy 'x' (version 2, revision 3)`` / ``policy 'x'
    unchanged (version 2, revision 3)`` when the server says the write changed nothing."""
    if status == 201:
        return f"created policy {policy.get('name')!r} (version {policy.get('version')})"
    if changed is False:
        return (
            f"policy {policy.get('name')!r} unchanged "
            f"(version {policy.get('version')}, revision {policy.get('revision')})"
        )
    return (
        f"{done} policy {policy.get('name')!r}{note} "
        f"(version {policy.get('version')}, revision {policy.get('revision')})"
    )


def dry_run_summary(status: int, body: dict[str, Any]) -> str:
    """What a dry run would do, then its diff as one JSON Patch operation per line."""
    diff = body.get("diff") or []
    if status == 201:
        head = f"dry run: would create policy {body.get('name')!r}"
    elif not diff:
        head = f"dry run: no changes to policy {body.get('name')!r}"
    else:
        head = (
            f"dry run: would update policy {body.get('name')!r} "
            f"(to version {body.get('version')}, revision {body.get('revision')})"
        )
    return "\n".join([head, *(f"  {_op_text(op)}" for op in diff)])


def _op_text(op: dict[str, Any]) -> str:
    text = f"{op.get('op')} {op.get('path')}"
    if "from" in op:
        text += f" from {op['from']}"
    if "value" in op:
        value = json.dumps(op["value"], ensure_ascii=False)
        text += f" = {value if len(value) <= 100 else value[:97] + '...'}"
    return text
