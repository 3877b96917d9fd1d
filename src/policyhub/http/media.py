"""Content-Type checks, one rule for every face (RFC 9110 section 8.3.1: the type and subtype are
case-insensitive; parameters follow a ``;``)."""

from __future__ import annotations

from starlette.requests import Request

from policyhub.errors import UnsupportedMediaType


def parse_media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` value, lower case and without parameters ("" when absent)."""
    return (content_type or "").split(";")[0].strip().lower()


def is_json_media(media: str) -> bool:
    """``application/json`` or any ``+json`` type (merge patch, JSON Patch, problem+json...)."""
    return media == "application/json" or media.endswith("+json")


def check_json_media(content_type: str | None, *, required: bool = True) -> None:
    """415 unless the Content-Type is JSON. ``required=False``: an undeclared body is read as JSON (the
    clients of some vendor dialects send none); one declared as anything else is still a 415."""
    media = parse_media_type(content_type)
    if (media or required) and not is_json_media(media):
        raise UnsupportedMediaType(f"Content-Type must be application/json, not {media or 'missing'!r}")


def require_json(request: Request) -> None:
    """415 unless the request declares a JSON body (``/v1``'s rule: a missing Content-Type is refused)."""
    check_json_media(request.headers.get("content-type"))
