"""Pure translation between Syft Space's wire objects and PolicyHub's core records.

Mapping:
- a Syft Space policy is a core policy of type ``syftspace.<policy_type>``; its ``id`` is the core UUID and
  its ``configuration`` the core ``spec`` (normalised by the type plugin, defaults filled);
- the free-text Syft Space ``name`` lives in ``attributes["syftspace"]["name"]``; the core name is derived
  from it (:func:`core_name`);
- an endpoint is a core scope of kind ``endpoint`` and ``endpoint_id`` is that scope's UUID.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from policyhub.domain.canonical import iso
from policyhub.domain.ids import canonical_uuid
from policyhub.domain.records import Policy, Scope
from policyhub.errors import DomainError, InvalidInput
from policyhub.policy_types.syftspace import SYFTSPACE_PREFIX, merge_configuration, syftspace_error_prefix

ENDPOINT_KIND = "endpoint"
VENDOR_KEY = "syftspace"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_MAX = 100


def core_name(endpoint_id: str | None, name: str) -> str:
    """The core name for a Syft Space ``name`` on an endpoint: ``<ascii slug of name>-<12 hex>``.

    The hex is a SHA-256 of (endpoint id, exact name), so the mapping is deterministic and injective in
    practice: the same name on the same endpoint always gives the same core name. The core's rule "one live
    policy per name in the org" therefore enforces Syft Space's ``UniqueConstraint(endpoint_id, name)``,
    while the same name on two endpoints (or two names with the same slug) never collide. The slug only
    makes the name readable in ``/v1``; e.g. ``"Rate limit 200/min"`` -> ``rate-limit-200-min-3f9c0a1b2c4d``.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")[:SLUG_MAX].rstrip("-") or "policy"
    digest = hashlib.sha256(f"{endpoint_id or ''}\n{name}".encode()).hexdigest()[:12]
    return f"{slug}-{digest}"


def is_uuid(value: str) -> bool:
    """Any spelling of a UUID (Syft Space's clients may send upper case or no hyphens, as FastAPI reads them)."""
    return canonical_uuid(value) is not None


def is_syftspace(policy: Policy) -> bool:
    return policy.type.startswith(SYFTSPACE_PREFIX)


def vendor_type(policy: Policy) -> str:
    """``syftspace.rate_limit`` -> ``rate_limit``."""
    return policy.type.removeprefix(SYFTSPACE_PREFIX)


def display_name(policy: Policy) -> str:
    """The Syft Space name; a policy written through ``/v1`` without one shows its core name."""
    vendor = policy.attributes.get(VENDOR_KEY)
    name = vendor.get("name") if isinstance(vendor, dict) else None
    return name if isinstance(name, str) else policy.name


def vendor_attributes(policy: Policy | None, name: str) -> dict[str, Any]:
    """``attributes["syftspace"]`` carrying ``name``, keeping anything else stored there."""
    existing = policy.attributes.get(VENDOR_KEY) if policy else None
    return {**(existing if isinstance(existing, dict) else {}), "name": name}


def update_operations(
    current: Policy, *, name: str | None, configuration: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """A Syft Space PATCH as JSON Patch operations on the core document.

    ``configuration`` is shallow-merged into the stored one (the plugin's ``merge_configuration``) and the
    result replaces ``spec`` whole, so the service re-validates all of it; a JSON Patch ``replace`` (rather
    than a merge patch) keeps ``null`` values as values, as Syft Space's ``{**existing, **patch}`` does.
    A new ``name`` renames the core policy (:func:`core_name`) and is kept in ``attributes["syftspace"]``.
    """
    ops: list[dict[str, Any]] = []
    if configuration is not None:
        ops.append({"op": "replace", "path": "/spec", "value": merge_configuration(current.spec, configuration)})
    if name is not None:
        ops.append({"op": "replace", "path": "/name", "value": core_name(current.scope_id, name)})
        ops.append({"op": "add", "path": f"/attributes/{VENDOR_KEY}", "value": vendor_attributes(current, name)})
    return ops


def _policy_head(policy: Policy) -> dict[str, Any]:
    """What every Syft Space view of a policy starts with: its id, its Syft Space name and type."""
    return {"id": policy.id, "name": display_name(policy), "policy_type": vendor_type(policy)}


def policy_response(policy: Policy) -> dict[str, Any]:
    """Syft Space's ``PolicyResponse``."""
    return {
        **_policy_head(policy),
        "configuration": policy.spec,
        "endpoint_id": policy.scope_id,
        "created_at": iso(policy.created_at),
        "updated_at": iso(policy.updated_at),
    }


def list_item(policy: Policy) -> dict[str, Any]:
    """Syft Space's ``PolicyListItem``: no configuration, no ``updated_at``."""
    return {
        **_policy_head(policy),
        "endpoint_id": policy.scope_id,
        "created_at": iso(policy.created_at),
    }


#: Syft Space's endpoint fields kept in ``attributes["syftspace"]``, with the defaults its models fill in.
ENDPOINT_FIELDS: dict[str, Any] = {
    "description": "",
    "summary": "",
    "response_type": "both",
    "published": False,
    "tags": "",
    "model_id": None,
    "dataset_id": None,
}


def endpoint_attributes(fields: dict[str, Any]) -> dict[str, Any]:
    """``attributes`` for a new endpoint scope: the Syft Space fields that differ from their defaults."""
    kept = {k: v for k, v in fields.items() if k in ENDPOINT_FIELDS and v != ENDPOINT_FIELDS[k]}
    return {VENDOR_KEY: kept} if kept else {}


def endpoint_response(scope: Scope) -> dict[str, Any]:
    """Syft Space's ``EndpointCreateResponse`` (``updated_at`` is ``created_at``: scopes are not updated)."""
    vendor = scope.attributes.get(VENDOR_KEY)
    stored = vendor if isinstance(vendor, dict) else {}
    fields = {k: _kept(stored.get(k), default) for k, default in ENDPOINT_FIELDS.items()}
    return {
        "id": scope.id,
        "name": scope.name,
        "slug": scope.key,
        **{k: fields[k] for k in ("description", "summary", "response_type", "published", "tags")},
        "created_at": iso(scope.created_at),
        "updated_at": iso(scope.created_at),
        "model_id": fields["model_id"],
        "dataset_id": fields["dataset_id"],
    }


def _kept(value: Any, default: Any) -> Any:
    """A stored endpoint field, or its default when absent or of another type (ids are strings)."""
    wanted = str if default is None else type(default)
    return value if isinstance(value, wanted) else default


def attached_policy(policy: Policy) -> dict[str, Any]:
    """Syft Space's ``AttachedPolicy`` (in an endpoint's detail); no type served here takes a wallet."""
    return {**_policy_head(policy), "configuration": policy.spec, "wallet_id": None}


def config_error(exc: InvalidInput, policy_type: str) -> DomainError:
    """A spec error from the type plugin as Syft Space words it: ``Invalid rate limit config: limit: ...``.

    Errors about other fields (not the spec) are returned unchanged.
    """
    if not exc.errors or not all(e.field == "spec" or e.field.startswith("spec.") for e in exc.errors):
        return exc
    parts = [f"{e.field.removeprefix('spec').lstrip('.') or 'configuration'}: {e.message}" for e in exc.errors]
    return InvalidInput(syftspace_error_prefix(policy_type) + "; ".join(parts), exc.errors)
