"""Pure translations between JFrog's wire shapes and the core's policy documents and resources.

A JFrog policy is a core policy of type ``jfrog.lifecycle`` at the org's root scope:

- its id is the core UUID;
- its JFrog ``name`` (free text such as "Prod Sec Policy (Warnings First)") is kept in
  ``attributes["jfrog"]["name"]``; the core name is derived from it by :func:`core_name`;
- ``description`` and ``enabled`` are the core fields; ``mode`` also sets the core enforcement
  (block -> enforce, warning -> warn);
- ``mode``, ``action``, ``scope`` and ``rule_ids`` are the spec;
- ``waiver_request_config``, which the policy type does not evaluate, is kept as sent in
  ``attributes["jfrog"]`` and returned as it was stored (a full replace without it removes it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from policyhub.domain import names
from policyhub.domain.canonical import sha256_hex, utc
from policyhub.domain.records import Policy
from policyhub.errors import FieldError, InvalidInput
from policyhub.http.compat.jfrog.schemas import JFrogPolicyIn
from policyhub.http.deps import parse_model, require_json_object
from policyhub.storage.repositories.resources import Resource

TYPE_NAME = "jfrog.lifecycle"
TEMPLATE_KIND = "jfrog.template"
ATTRIBUTES_KEY = "jfrog"
WAIVERS = "waiver_request_config"
ENFORCEMENT = {"block": "enforce", "warning": "warn"}
#: Fields the server owns; a client may echo them back (GET, edit, PUT) and they are ignored.
READ_ONLY = ("id", "created_at", "created_by", "updated_at", "updated_by", "rules")
_SLUG_MAX = 96


def core_name(jfrog_name: str) -> str:
    """A valid, stable core name for a JFrog name: ``jfrog-<slug>-<first 8 hex of its SHA-256>``.

    Equal JFrog names give equal core names, so the core's unique index on live names also guards
    JFrog's unique names; the hash keeps names that slug alike ("A B" and "a-b") apart. A rename
    in JFrog is a rename in the core.
    """
    ascii_text = unicodedata.normalize("NFKD", jfrog_name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:_SLUG_MAX].rstrip("-")
    digest = sha256_hex(jfrog_name)[:8]
    return f"jfrog-{slug}-{digest}" if slug else f"jfrog-{digest}"


def check_body_id(body: Mapping[str, Any], path_id: str | None) -> None:
    """An ``id`` in a body is the server's: absent on create, equal to the path's on replace.

    An empty ``id`` counts as absent: JFrog's Terraform provider sends ``"id": ""`` in every rule body
    (create and update), and the real API accepts it.
    """
    if body.get("id", "") == "":
        return
    if path_id is None:
        raise InvalidInput.field("id", "is assigned by the server; leave it out when creating")
    if body["id"] != path_id:
        raise InvalidInput.field("id", "does not match the id in the path")


def parse_policy(body: object, path_id: str | None) -> JFrogPolicyIn:
    """Validate a policy body's shape (unknown fields, types, enums); semantics are the policy type's."""
    doc = require_json_object(body)
    check_body_id(doc, path_id)
    wire = parse_model(JFrogPolicyIn, {k: v for k, v in doc.items() if k not in READ_ONLY})
    wire.name = names.check_text("name", wire.name, max_len=255)
    if not wire.name.strip():
        raise InvalidInput("name: must not be blank", [FieldError("name", "must not be blank")])
    return wire


def jfrog_name(policy: Policy) -> str:
    """The policy's JFrog name (its core name when it was created outside the JFrog API)."""
    meta = policy.attributes.get(ATTRIBUTES_KEY)
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) and name else policy.name


def policy_document(wire: JFrogPolicyIn, current: Policy | None) -> dict[str, Any]:
    """The core document for a JFrog body; core-only metadata (labels, other attributes) is kept."""
    attributes = dict(current.attributes) if current else {}
    meta = attributes.get(ATTRIBUTES_KEY)
    jfrog = {k: v for k, v in (meta if isinstance(meta, dict) else {}).items() if k != WAIVERS}
    attributes[ATTRIBUTES_KEY] = {**jfrog, "name": wire.name}
    if wire.waiver_request_config is not None:
        attributes[ATTRIBUTES_KEY][WAIVERS] = wire.waiver_request_config
    return {
        "name": core_name(wire.name),
        "description": wire.description or "",
        "enabled": wire.enabled,
        "enforcement": ENFORCEMENT[wire.mode],
        "spec": {
            "mode": wire.mode,
            "action": wire.action.model_dump(exclude_none=True),
            "scope": wire.scope.model_dump(exclude_none=True),
            "rule_ids": list(wire.rule_ids),
        },
        "labels": dict(current.labels) if current else {},
        "attributes": attributes,
    }


def timestamp(value: datetime) -> str:
    """ISO-8601 in UTC to the second, as in JFrog's samples (``2025-10-09T10:30:00Z``)."""
    return utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _audit(obj: Policy | Resource, people: Mapping[str, str]) -> dict[str, str]:
    return {
        "created_at": timestamp(obj.created_at),
        "created_by": people.get(obj.created_by, obj.created_by),
        "updated_at": timestamp(obj.updated_at),
        "updated_by": people.get(obj.updated_by, obj.updated_by),
    }


def policy_out(
    policy: Policy, people: Mapping[str, str], rules: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The JFrog view of a policy; ``rules`` (id -> :func:`rule_summary`) adds ``rules`` (``expand=rules``)."""
    spec = policy.spec
    rule_ids = [str(r) for r in spec.get("rule_ids", [])]
    out: dict[str, Any] = {"id": policy.id, "name": jfrog_name(policy)}
    if policy.description:
        out["description"] = policy.description
    out |= {
        "enabled": policy.enabled,
        "mode": spec.get("mode"),
        "action": spec.get("action"),
        "scope": spec.get("scope"),
        "rule_ids": rule_ids,
    }
    meta = policy.attributes.get(ATTRIBUTES_KEY)
    if isinstance(meta, dict) and meta.get(WAIVERS) is not None:
        out[WAIVERS] = meta[WAIVERS]
    if rules is not None:
        out["rules"] = [rules.get(rid, {"id": rid, "name": None}) for rid in rule_ids]
    return out | _audit(policy, people)


def rule_summary(rule: Resource, template: Resource | None) -> dict[str, Any]:
    """A rule as ``expand=rules`` shows it on a policy: its id, name, template id and template."""
    out: dict[str, Any] = {"id": rule.id, "name": rule.key, "template_id": rule.data.get("template_id")}
    if template is not None:
        out["template"] = template_summary(template)
    return out


def template_summary(template: Resource) -> dict[str, Any]:
    data = template.data
    return {
        "id": template.id,
        "name": template.key,
        "version": data.get("version"),
        "category": data.get("category"),
        "data_source_type": data.get("data_source_type"),
        "scanners": data.get("scanners", []),
    }


def rule_out(
    rule: Resource, people: Mapping[str, str], template: Resource | None, *, expand: bool = False
) -> dict[str, Any]:
    """The JFrog view of a rule; every rule made through the API is custom (user-defined)."""
    data = rule.data
    out: dict[str, Any] = {"id": rule.id, "name": rule.key}
    if data.get("description"):
        out["description"] = data["description"]
    out |= {
        "is_custom": True,
        "template_id": data.get("template_id"),
        "template_name": template.key if template else None,
        "parameters": data.get("parameters", []),
    }
    if expand and template is not None:
        out["template"] = template_summary(template)
    return out | _audit(rule, people)


def template_out(template: Resource, people: Mapping[str, str]) -> dict[str, Any]:
    """The JFrog view of a template."""
    data = template.data
    out: dict[str, Any] = {"id": template.id, "name": template.key}
    if data.get("description"):
        out["description"] = data["description"]
    out |= {
        "version": data.get("version"),
        "category": data.get("category"),
        "data_source_type": data.get("data_source_type"),
        "rego": data.get("rego"),
        "parameters": data.get("parameters", []),
        "scanners": data.get("scanners", []),
        "is_custom": True,
    }
    return out | _audit(template, people)
