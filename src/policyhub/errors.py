"""The domain's exception tree. HTTP faces translate these once, in their own error modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: ``field`` is a dotted path (``spec.limits.0.rate``)."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class DomainError(Exception):
    """Base of every error a client can cause or observe."""

    title = "Error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])


class InvalidInput(DomainError):
    """The content is well-formed but breaks a rule (400)."""

    title = "Invalid input"

    @classmethod
    def field(cls, field: str, message: str) -> InvalidInput:
        return cls(f"{field}: {message}", [FieldError(field, message)])

    @classmethod
    def from_pydantic(cls, exc: Any, prefix: str = "") -> InvalidInput:
        """Turn a Pydantic ``ValidationError`` into field errors with dotted paths under ``prefix``."""
        errors = []
        for err in exc.errors(include_url=False):
            path = ".".join([*([prefix] if prefix else []), *(str(part) for part in err["loc"])])
            errors.append(FieldError(path or prefix or "body", _pydantic_message(err)))
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        return cls(summary or f"{prefix or 'body'} is invalid", errors)


class Unauthenticated(DomainError):
    title = "Unauthenticated"


class Forbidden(DomainError):
    title = "Forbidden"


class NotFound(DomainError):
    title = "Not found"


class Gone(DomainError):
    """What the client asked for is no longer (or not) served from here: start over from another source
    (a change feed position a caller must re-bootstrap from, 410)."""

    title = "Gone"


class Conflict(DomainError):
    title = "Conflict"


class PatchTestFailed(Conflict):
    """A JSON Patch ``test`` operation did not hold (409)."""

    title = "Patch test failed"


class PreconditionFailed(DomainError):
    title = "Precondition failed"

    def __init__(self, detail: str, current_etag: str | None = None) -> None:
        super().__init__(detail)
        self.current_etag = current_etag


class PreconditionRequired(DomainError):
    title = "Precondition required"


class IdempotencyMismatch(DomainError):
    title = "Idempotency key reused"


class PayloadTooLarge(DomainError):
    title = "Payload too large"


class UnsupportedMediaType(DomainError):
    title = "Unsupported media type"


class Unavailable(DomainError):
    """A dependency (the database) cannot be reached; the client may retry."""

    title = "Service unavailable"


def _pydantic_message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "field required"
    return str(err["msg"]).removeprefix("Value error, ")
