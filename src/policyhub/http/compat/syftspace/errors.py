"""Syft Space's error face: FastAPI's ``{"detail": "<message>"}``, and 422 ``{"detail": [...]}`` for schema errors.

The core turns FastAPI's own request validation into a 400, so this dialect validates its requests itself
(path ids, bodies) and raises :class:`RequestSchemaError`, which renders as FastAPI would render it.
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, TypeAdapter, ValidationError

from policyhub.errors import DomainError, InvalidInput
from policyhub.http.json_body import parse_json
from policyhub.http.media import is_json_media, parse_media_type
from policyhub.http.problems import standard_headers

M = TypeVar("M", bound=BaseModel)
_UUID = TypeAdapter(UUID)


class RequestSchemaError(InvalidInput):
    """The request does not match its schema (422); ``items`` are FastAPI's ``{type, loc, msg, input}``."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(item["msg"]) for item in items) or "invalid request")
        self.items = items


def render_error(status: int, exc: DomainError, request: Request) -> Response:
    """Every error under ``/syftspace``, whoever raised it (auth, routing, services, this dialect)."""
    body: dict[str, object] = {"detail": exc.detail}
    if isinstance(exc, RequestSchemaError):
        status, body = 422, {"detail": exc.items}
    retry = getattr(request.app.state, "retry_after_s", 2)
    return JSONResponse(body, status_code=status, headers=standard_headers(status, exc, retry))


def schema_items(exc: ValidationError, *prefix: str) -> list[dict[str, Any]]:
    """Pydantic errors in FastAPI's shape, with ``loc`` under ``prefix`` (``"body"``, ``"path"``, ...)."""
    items = []
    for err in exc.errors(include_url=False):
        item: dict[str, Any] = {
            "type": err["type"],
            "loc": [*prefix, *err["loc"]],
            "msg": err["msg"],
            "input": _plain(err.get("input")),
        }
        if err.get("ctx"):
            item["ctx"] = {key: _plain(value) for key, value in err["ctx"].items()}
        items.append(item)
    return items


def parse_wire(model: type[M], body: object) -> M:
    """Validate a parsed JSON body against a wire model; failures are a 422."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise RequestSchemaError(schema_items(exc, "body")) from None


def parse_uuid(value: str, *loc: str) -> str:
    """A UUID in a path or query parameter, in canonical form; anything else is FastAPI's ``uuid_parsing`` 422."""
    try:
        return str(_UUID.validate_python(value))
    except ValidationError as exc:
        raise RequestSchemaError(schema_items(exc, *loc)) from None


async def read_body(request: Request) -> object:
    """The JSON body, through the shared strict parser; anything unparsable is a 422 as in FastAPI."""
    media = parse_media_type(request.headers.get("content-type"))
    raw = await request.body()
    if media and not is_json_media(media):
        msg = "Input should be a valid dictionary or object to extract fields from"
        raise RequestSchemaError([{"type": "model_attributes_type", "loc": ["body"], "msg": msg, "input": None}])
    if not raw.strip():
        raise RequestSchemaError([{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}])
    settings = request.app.state.container.settings
    try:
        return parse_json(raw, max_depth=settings.max_json_depth)
    except InvalidInput as exc:
        item = {"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error", "input": {}}
        reason = exc.errors[0].message if exc.errors else exc.detail
        raise RequestSchemaError([{**item, "ctx": {"error": reason}}]) from None


def _plain(value: Any) -> Any:
    """JSON-safe: pydantic puts exceptions and other objects into ``input`` and ``ctx``."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)
