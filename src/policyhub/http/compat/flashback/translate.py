"""Pure translations between Flashback's wire format and PolicyHub's core policy document.

Names: Flashback names are free text ("Updated PII Protection Policy"). The text is kept verbatim in
``attributes["flashback"]["name"]``; the core name is derived from it as an ASCII slug plus an
8-hex-digit suffix (``updated-pii-protection-policy-3f9a1c2b``) so it is valid and unique. A rename
keeps the suffix and re-derives the slug, so ``/v1`` names keep following the Flashback name.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from policyhub.domain.canonical import utc
from policyhub.domain.records import Policy, Principal, Scope
from policyhub.errors import DomainError, FieldError, InvalidInput

TYPE_NAME = "flashback.ai"
ATTRIBUTES_KEY = "flashback"
NAME_MAX = 255
SLUG_MAX = 100
_SUFFIX = re.compile(r"-([0-9a-f]{8})$")



# -- names -----------------------------------------------------------------------------------------
def core_name(flashback_name: str, suffix: str) -> str:
    """The core policy name for a Flashback name: ``<ascii slug, <= 100 chars>-<suffix>``."""
    ascii_text = unicodedata.normalize("NFKD", flashback_name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:SLUG_MAX].rstrip("-")
    return f"{slug or 'policy'}-{suffix}"


def name_suffix(name: str) -> str | None:
    """The suffix of a derived core name (None if the name was set some other way, e.g. via ``/v1``)."""
    found = _SUFFIX.search(name)
    return found.group(1) if found else None


def flashback_name(policy: Policy) -> str:
    """The Flashback name of a policy (its core name if it was created outside this API)."""
    meta = policy.attributes.get(ATTRIBUTES_KEY)
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else policy.name


# -- wire -> core ----------------------------------------------------------------------------------
def create_document(name: str, content: str, risk_type: str, action_type: int, core: str) -> dict[str, Any]:
    """The core document of a new Flashback policy (type and scope are passed to the service apart)."""
    return {
        "name": core,
        "spec": {"content": content, "riskType": risk_type, "actionType": action_type},
        "attributes": {ATTRIBUTES_KEY: {"name": name}},
    }


def update_patch(changes: dict[str, Any], core: str | None) -> dict[str, Any]:
    """An RFC 7396 merge patch of the core document for a Flashback partial update."""
    patch: dict[str, Any] = {}
    spec = {k: changes[k] for k in ("content", "riskType", "actionType") if k in changes}
    if spec:
        patch["spec"] = spec
    if "name" in changes:
        patch["attributes"] = {ATTRIBUTES_KEY: {"name": changes["name"]}}
    if core is not None:
        patch["name"] = core
    return patch


# -- core -> wire ----------------------------------------------------------------------------------
def iso_ms(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z`` (JavaScript's ``Date.toISOString``)."""
    at = utc(value)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def split_name(display_name: str) -> tuple[str, str]:
    """First and last name from a display name: up to the first space, and the rest."""
    first, _, last = display_name.strip().partition(" ")
    return first, last.strip()


def user_ref(principal_id: str, principal: Principal | None) -> dict[str, str]:
    if principal is None:  # a system actor, or a principal this org no longer has
        return {"id": principal_id, "name": principal_id, "lastName": "", "email": ""}
    first, last = split_name(principal.display_name)
    return {"id": principal.id, "name": first, "lastName": last, "email": principal.email or ""}


def named_ref(scope: Scope | None) -> dict[str, str] | None:
    return {"id": scope.id, "name": scope.name} if scope else None


def policy_dto(
    policy: Policy,
    org_id: str,
    principals: dict[str, Principal],
    workspace: Scope | None,
    repo: Scope | None,
) -> dict[str, Any]:
    """A core policy as Flashback's ``FlashbackPolicyDTO``."""
    spec = policy.spec
    return {
        "id": policy.id,
        "orgId": org_id,
        "name": flashback_name(policy),
        "content": spec.get("content"),
        "riskType": spec.get("riskType"),
        "actionType": spec.get("actionType"),
        "createdBy": user_ref(policy.created_by, principals.get(policy.created_by)),
        "createdAt": iso_ms(policy.created_at),
        "lastUpdatedBy": user_ref(policy.updated_by, principals.get(policy.updated_by)),
        "lastUpdatedAt": iso_ms(policy.updated_at),
        "workspaceId": workspace.id if workspace else None,
        "repoId": repo.id if repo else None,
        "workspace": named_ref(workspace),
        "repo": named_ref(repo),
    }


# -- errors ----------------------------------------------------------------------------------------
def wire_field(field: str) -> str:
    """A core field path as the wire field it came from (``spec.riskType`` -> ``riskType``)."""
    if field == f"attributes.{ATTRIBUTES_KEY}.name":
        return "name"
    if field.startswith("spec."):
        return field.removeprefix("spec.")
    return "workspaceId" if field == "scope" else field


def error_message(exc: DomainError) -> str:
    """The ``message`` of an error body: field errors named by their wire fields."""
    if isinstance(exc, InvalidInput) and exc.errors:
        return "; ".join(_field_message(err) for err in exc.errors)
    return exc.detail


def _field_message(err: FieldError) -> str:
    return f"{wire_field(err.field)}: {err.message}"
