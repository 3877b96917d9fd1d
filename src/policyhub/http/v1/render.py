"""Rendering domain records as /v1 JSON (plain dicts: the hot path avoids re-validating output)."""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi.responses import JSONResponse, Response

from policyhub.domain.bounded_json import json_bytes
from policyhub.domain.canonical import iso
from policyhub.domain.policy_document import etag, to_document
from policyhub.domain.records import ApiKey, Event, Principal, Scope, Version
from policyhub.errors import InvalidInput
from policyhub.services.policies import WriteResult
from policyhub.storage.repositories.idempotency import StoredResponse


class FastJSON(JSONResponse):
    """Compact UTF-8 JSON (:func:`policyhub.domain.bounded_json.json_bytes`: orjson, the stdlib for huge ints)."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def write_response(result: WriteResult, *, dry_run: bool, location: str | None = None) -> FastJSON:
    """The response of a policy write: 201 when created, the document, its ETag; a diff when dry."""
    body = to_document(result.policy)
    headers = {"ETag": etag(result.policy), "PolicyHub-Changed": "true" if result.changed else "false"}
    if dry_run:
        body = {**body, "dry_run": True, "diff": result.diff}
        headers["PolicyHub-Dry-Run"] = "true"
    if result.created and location:
        headers["Location"] = location
    return FastJSON(body, status_code=201 if result.created else 200, headers=headers)


def version_out(v: Version) -> dict[str, Any]:
    return {
        "version": v.version,
        "comment": v.comment,
        "content_hash": v.content_hash,
        "created_at": iso(v.created_at),
        "created_by": v.created_by,
        "created_by_name": v.created_by_name,
        "spec": v.spec,
        "source": v.source,
    }


def event_out(e: Event) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "type": e.type,
        "object_kind": e.object_kind,
        "object_id": e.object_id,
        "actor_id": e.actor_id,
        "actor_name": e.actor_name,
        "at": iso(e.at),
        "data": e.data,
        "hash": e.hash,
        "prev_hash": e.prev_hash,
    }


def scope_out(s: Scope) -> dict[str, Any]:
    return {
        "id": s.id,
        "kind": s.kind,
        "key": s.key,
        "name": s.name,
        "path": s.path,
        "parent_id": s.parent_id,
        "attributes": s.attributes,
        "created_at": iso(s.created_at),
    }


def principal_out(p: Principal) -> dict[str, Any]:
    return {
        "id": p.id,
        "kind": p.kind,
        "display_name": p.display_name,
        "email": p.email,
        "created_at": iso(p.created_at),
    }


def key_out(k: ApiKey, scope_path: str | None) -> dict[str, Any]:
    return {
        "id": k.id,
        "principal_id": k.principal_id,
        "name": k.name,
        "prefix": k.prefix,
        "role": k.role.value,
        "scope": scope_path,
        "created_at": iso(k.created_at),
        "expires_at": iso(k.expires_at) if k.expires_at else None,
        "revoked_at": iso(k.revoked_at) if k.revoked_at else None,
        "last_used_at": iso(k.last_used_at) if k.last_used_at else None,
    }


def encode_token(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str, shape: type) -> Any:
    """Decode a page token; anything a client tampered with is a 400."""
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        raise InvalidInput.field("page_token", "malformed page token") from None
    if not isinstance(value, shape):
        raise InvalidInput.field("page_token", "malformed page token")
    return value


def stored_response(response: Response) -> StoredResponse:
    """A response as the idempotency store keeps it (the fingerprint is filled in by the service)."""
    headers = {
        k: v
        for k, v in response.headers.items()
        if k.lower() in ("etag", "location", "policyhub-dry-run", "policyhub-changed")
    }
    return StoredResponse(
        request_hash="",
        principal_id="",
        status=response.status_code,
        body=bytes(response.body).decode("utf-8"),
        headers=headers,
    )


def replay(stored: StoredResponse) -> Response:
    return Response(
        stored.body.encode("utf-8"), status_code=stored.status, headers=stored.headers, media_type="application/json"
    )
