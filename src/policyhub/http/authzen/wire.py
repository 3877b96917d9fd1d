"""AuthZEN 1.0 wire shapes and pure translations (the contract: ``authorization-api-1_0.md``).

Requests are read leniently (unknown fields ignored, as the specification requires) and strictly typed
(a number where a string is required is a 400). Field by field:

- evaluation: ``subject``, ``action``, ``resource`` (required) and ``context`` (optional) become the
  ``authzen`` point's input unchanged; anything else in the body is dropped.
- evaluations: the top-level ``subject``, ``action``, ``resource`` and ``context`` are defaults; an item
  that has a key replaces the default whole (no merging inside an entity). No ``evaluations`` (or an
  empty array): a single evaluation. ``options.evaluations_semantic``: ``execute_all`` (default),
  ``deny_on_first_deny``, ``permit_on_first_permit``. An item that is invalid after the defaults (a
  required field missing) is a ``{"decision": false, "context": {"error": {"status": 400, ...}}}`` in its
  place; a body invalid at the top level is a 400.
- search: the searched entity needs only its ``type`` (its ``id`` is ignored); the other entities are
  complete. ``page``: ``limit`` (0 or absent: everything) and ``token`` (from ``next_token``).
- responses: ``decision`` and, when there is something to say, ``context`` with ``decision_id`` (the
  decision log's id), ``reasons`` (``"<policy>: <reason>"``), ``obligations`` (see :func:`obligations`)
  and ``rate_limit`` (the limit, remaining requests and reset of a rate-limited permit).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from policyhub.errors import FieldError, InvalidInput
from policyhub.evaluation.inputs.authzen import Action, EntityKind, Resource, Subject
from policyhub.evaluation.outcome import DecisionResult, Effect
from policyhub.http.deps import parse_model
from policyhub.services.authzen import permitted

ENTITIES = ("subject", "action", "resource")
SEMANTICS = ("execute_all", "deny_on_first_deny", "permit_on_first_permit")
#: Obligation types of the obligations profile (``obligations-profile-1_0.md``); PolicyHub's own
#: obligations travel as ``custom`` ones.
PROFILE_OBLIGATIONS = ("step-up", "notification", "session_termination", "custom")
MAX_EVALUATIONS = 1000
MAX_PAGE = 1000
MAX_REASONS = 10


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Searched(_Lenient):
    """The entity a subject or resource search looks for: its type (an id, if sent, is ignored)."""

    type: Annotated[StrictStr, Field(max_length=1024)]
    properties: dict[str, Any] = Field(default_factory=dict)


class Page(_Lenient):
    token: StrictStr | None = Field(default=None, max_length=512)
    limit: StrictInt | None = Field(default=None, ge=0)


class SubjectSearch(_Lenient):
    subject: Searched
    action: Action
    resource: Resource
    context: dict[str, Any] = Field(default_factory=dict)
    page: Page | None = None


class ResourceSearch(_Lenient):
    subject: Subject
    action: Action
    resource: Searched
    context: dict[str, Any] = Field(default_factory=dict)
    page: Page | None = None


class ActionSearch(_Lenient):
    subject: Subject
    resource: Resource
    context: dict[str, Any] = Field(default_factory=dict)
    page: Page | None = None


class Options(_Lenient):
    evaluations_semantic: Literal["execute_all", "deny_on_first_deny", "permit_on_first_permit"] = "execute_all"


SEARCHES: dict[EntityKind, type[_Lenient]] = {
    "subject": SubjectSearch,
    "resource": ResourceSearch,
    "action": ActionSearch,
}


def evaluation_input(body: dict[str, Any]) -> dict[str, Any]:
    """The point's input from an evaluation request: its four members (the point validates them; anything
    else, including the point's own ``mode``, is dropped here)."""
    return {key: body[key] for key in (*ENTITIES, "context") if key in body}


def wire_error(exc: InvalidInput) -> InvalidInput:
    """The point's validation error with the wire's field names (``subject.type``, not ``input.subject.type``)."""
    errors = [FieldError(e.field.removeprefix("input."), e.message) for e in exc.errors]
    if not errors:
        return exc
    return InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors[:5]), errors)


def batch(body: dict[str, Any]) -> tuple[list[dict[str, Any] | InvalidInput], str] | None:
    """The items of an evaluations request (each an input, or the error that takes its place) and the
    semantic; None when the request is a single evaluation (no ``evaluations``, or an empty array)."""
    items = body.get("evaluations")
    if items is None or items == []:
        return None
    if not isinstance(items, list):
        raise InvalidInput.field("evaluations", "must be an array")
    if len(items) > MAX_EVALUATIONS:
        raise InvalidInput.field("evaluations", f"at most {MAX_EVALUATIONS} evaluations per request")
    options = parse_model(Options, body.get("options") or {}, "options") if "options" in body else Options()
    defaults: dict[str, Any] = {}
    for key in (*ENTITIES, "context"):
        if key in body:
            if not isinstance(body[key], dict):
                raise InvalidInput.field(key, "must be an object")
            defaults[key] = body[key]
    out: list[dict[str, Any] | InvalidInput] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            out.append(InvalidInput.field(f"evaluations.{index}", "must be an object"))
            continue
        out.append(evaluation_input({**defaults, **item}))
    return out, options.evaluations_semantic


def search_request(kind: EntityKind, body: dict[str, Any]) -> tuple[dict[str, Any], Page]:
    """The validated search (the entities and context, as the service takes them) and its page."""
    model = parse_model(SEARCHES[kind], body)
    request = model.model_dump(exclude={"page"})
    return request, getattr(model, "page", None) or Page()


def _fingerprint(kind: str, request: dict[str, Any]) -> str:
    canonical = orjson.dumps([kind, request], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()[:16]


def page_of(kind: EntityKind, request: dict[str, Any], page: Page, results: list[dict[str, Any]]) -> dict[str, Any]:
    """One page of a search's results: ``{"page": {next_token, count, total}, "results": [...]}``.

    The token is opaque to the client: the offset and size of the next page and a fingerprint of the
    request, whose entities and context must be the same on every page (another request with it is a
    400). A follow-up request may leave ``limit`` out: the token keeps the first page's."""
    offset, size = 0, min(page.limit or MAX_PAGE, MAX_PAGE)
    fingerprint = _fingerprint(kind, request)
    if page.token:
        try:
            held = orjson.loads(base64.urlsafe_b64decode(page.token.encode() + b"=" * (-len(page.token) % 4)))
            offset, given, kept = int(held["o"]), str(held["f"]), int(held["n"])
        except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
            raise InvalidInput.field("page.token", "is not a token this PDP issued") from None
        if given != fingerprint or offset < 0:
            raise InvalidInput.field(
                "page.token", "belongs to another request (every field but the token must stay the same)"
            )
        size = min(page.limit or kept or MAX_PAGE, MAX_PAGE)
    chunk = results[offset : offset + size]
    following = offset + len(chunk)
    token = ""
    if following < len(results):
        held = {"o": following, "f": fingerprint, "n": size}
        token = base64.urlsafe_b64encode(orjson.dumps(held)).decode().rstrip("=")
    return {"page": {"next_token": token, "count": len(chunk), "total": len(results)}, "results": chunk}


def obligations(result: DecisionResult, decision: bool, supported: Any) -> list[dict[str, Any]]:
    """The decision's obligations as the obligations profile shapes them: ``{"id", "type", "properties"}``.

    A policy's profile obligation (``step-up``, ``notification``, ``session_termination``, ``custom``)
    passes as written. PolicyHub's ``rate_limit`` is not a registered type: on a deny it is a ``custom``
    obligation ``{"vendor": "policyhub", "action": "rate_limit", "retry_after_s", ...}`` (answer 429 and
    retry after); on a permit it is not an obligation at all (a PEP that does not know it would have to
    deny) but ``context.rate_limit``. Other PolicyHub obligations are ``custom`` with their ``type`` as
    ``action``. When the request's ``context.supported_obligations`` (the profile's negotiation) leaves out
    ``custom``, PolicyHub's own are left out on a deny too (the PEP denies anyway)."""
    out: list[dict[str, Any]] = []
    own_ok = not isinstance(supported, list) or "custom" in supported
    for item in result.obligations:
        kind = item.get("type")
        if kind in PROFILE_OBLIGATIONS and isinstance(item.get("properties"), dict):
            out.append(
                {"id": str(item.get("id") or f"obl-{len(out) + 1}"), "type": kind, "properties": item["properties"]}
            )
        elif (kind != "rate_limit" or not decision) and own_ok:
            properties = {k: v for k, v in item.items() if k != "type"}
            out.append(
                {
                    "id": f"obl-{len(out) + 1}",
                    "type": "custom",
                    "properties": {"vendor": "policyhub", "action": kind, **properties},
                }
            )
    return out


def decision(result: DecisionResult, request: dict[str, Any]) -> dict[str, Any]:
    """The AuthZEN decision for an engine answer (see :func:`policyhub.services.authzen.permitted`)."""
    allowed = permitted(result)
    context: dict[str, Any] = {}
    if result.id:
        context["decision_id"] = result.id
    wanted = (Effect.ALLOW, Effect.WARN, Effect.AUDIT) if allowed else (Effect.DENY,)
    reasons = [f"{r.name}: {reason}" for r in result.results if r.effect in wanted for reason in r.reasons]
    if not result.results:
        reasons = ["no authzen policy applies here (closed by default)"]
    if reasons:
        context["reasons"] = reasons[:MAX_REASONS]
    listed = obligations(result, allowed, (request.get("context") or {}).get("supported_obligations"))
    if listed:
        context["obligations"] = listed
    limits = [o for o in result.obligations if o.get("type") == "rate_limit"]
    if limits:
        context["rate_limit"] = {
            k: v for k, v in min(limits, key=lambda o: o.get("remaining", 0)).items() if k != "type"
        }
    return {"decision": allowed, "context": context} if context else {"decision": allowed}


def answer(result: DecisionResult | InvalidInput, item: dict[str, Any] | InvalidInput) -> dict[str, Any]:
    """One item of an Access Evaluations response: its decision, or its error as a closed decision."""
    if isinstance(result, InvalidInput):
        return item_error(wire_error(result), 400)
    return decision(result, item if isinstance(item, dict) else {})


def item_error(exc: InvalidInput | Exception, status: int) -> dict[str, Any]:
    """An evaluation that could not be made, in its place in the answer (closed: ``false``)."""
    message = getattr(exc, "detail", None) or str(exc)
    return {"decision": False, "context": {"error": {"status": status, "message": message}}}
