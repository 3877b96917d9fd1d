"""Request dependencies: the app's services, the authenticated actor, the org in the path."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, TypeVar

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.types import Scope

# The container is the composition root's (faces import it from here too).
from policyhub.app import Container as Container
from policyhub.domain.canonical import now
from policyhub.domain.records import Actor, Org
from policyhub.errors import InvalidInput, NotFound, Unauthenticated, Unavailable
from policyhub.http.json_body import parse_json
from policyhub.http.media import check_json_media
from policyhub.services import keys
from policyhub.services.authz import refuse_agent
from policyhub.settings import Settings


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def header(scope: Scope, name: bytes) -> str | None:
    """A request header (``name`` in lower case) read straight from the ASGI scope, as ``Headers.get``
    reads it (the first occurrence): for the hottest routes, which build no ``Request`` object."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def bearer_token(header: str | None) -> str:
    """The API key from an ``Authorization`` header: Bearer, or HTTP Basic with the key as the password."""
    if not header:
        raise Unauthenticated("missing credentials: send 'Authorization: Bearer <api key>'")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return value
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("malformed Basic credentials") from None
        _, sep, password = decoded.partition(":")
        if sep and password:
            return password
        raise Unauthenticated("Basic credentials must carry the API key as the password")
    raise Unauthenticated("unsupported Authorization scheme; use Bearer or Basic")


async def authenticate(request: Request, container: ContainerDep) -> Actor:
    """Resolve the request's key to an actor (401 when missing, unknown, revoked or expired)."""
    return await authenticated(request.scope, container)


async def authenticated(scope: Scope, container: Container, *, agent_ok: bool = False) -> Actor:
    """:func:`authenticate` on the ASGI scope; the actor and its org go to the request state.

    Async on purpose: a cached key costs no thread hop; only a cache miss goes to the database. An
    ``agent`` key is refused (403) unless ``agent_ok``: the rollout routes an agent uses say so.
    """
    actor, org = await key_actor(container, bearer_token(header(scope, b"authorization")))
    state = scope.setdefault("state", {})  # what ``request.state`` reads
    state["actor"] = actor
    state["org"] = org
    if not agent_ok:
        refuse_agent(actor)
    return actor


async def key_actor(container: Container, token: str) -> tuple[Actor, Org]:
    """The actor and org of an API key, however the face received it (401 when unknown, revoked or expired)."""
    if len(token) > 512 or not token.isprintable():
        raise Unauthenticated("invalid API key")
    token_hash = keys.hash_token(token)
    cached = container.actors.get(token_hash)
    if cached is not None:
        return cached
    return await container.actors.fetch(token_hash, lambda: run_in_threadpool(_lookup_key, container, token))


def _lookup_key(container: Container, token: str) -> tuple[Actor, Org]:
    with container.db.read() as uow:
        actor, org, touch_due = keys.authenticate(uow, token, container.settings.key_touch_interval_s)
    if touch_due and actor.key_id:
        try:
            with container.db.write() as uow:
                uow.keys.touch(actor.key_id, now())
        except Unavailable:
            pass  # ``last_used_at`` is bookkeeping: a database that cannot be written must not fail a read
    return actor, org


CurrentActor = Annotated[Actor, Depends(authenticate)]


async def authenticate_rollout(request: Request, container: ContainerDep) -> Actor:
    """:func:`authenticate` for the routes an ``agent`` key may use too (bundles, the change feed, agent
    reports); the service still checks what the key may do there (``services.authz``)."""
    return await authenticated(request.scope, container, agent_ok=True)


#: The actor of a rollout route: any key, agent keys included.
RolloutActor = Annotated[Actor, Depends(authenticate_rollout)]


async def resolve_org(request: Request, actor: CurrentActor, org: Annotated[str, Path()]) -> Org:
    """The org named in the path; any org but the key's own is indistinguishable from none (404)."""
    return key_org(request, org)


def key_org(request: Request, named: str | None) -> Org:
    """The authenticated key's org, provided ``named`` (a slug or id, if given) names it; else 404."""
    return _named_org(request.scope["state"]["org"], named)


def _named_org(found: Org, named: str | None) -> Org:
    if named is not None and named not in (found.slug, found.id):
        raise NotFound(f"org {named!r} not found")
    return found


OrgDep = Annotated[Org, Depends(resolve_org)]


async def caller(scope: Scope, org: str) -> tuple[Container, Actor]:
    """The container and the authenticated actor of a request to ``/v1/orgs/{org}/...`` (its ASGI
    scope), without the dependency graph: for the hottest endpoints (decisions, policy items), where
    FastAPI's dependency solving would cost more than the work itself. Same checks as ``CurrentActor``
    + ``OrgDep``."""
    container: Container = scope["app"].state.container
    actor = await authenticated(scope, container)
    _named_org(scope["state"]["org"], org)
    return container, actor


async def json_body(request: Request) -> object:
    """The request body as JSON, checked by the shared strict parser.

    A body declared as anything but JSON is a 415 before it is parsed, so the client learns that the
    media type is wrong rather than that its XML or form data is malformed JSON. (Whether an undeclared
    body is acceptable is each face's rule: ``/v1`` refuses it, some vendor dialects do not.)
    """
    check_json_media(request.headers.get("content-type"), required=False)
    settings: Settings = request.app.state.container.settings
    return parse_json(await request.body(), max_depth=settings.max_json_depth)


JsonBody = Annotated[object, Depends(json_body)]


def require_json_object(body: object, field: str = "body") -> dict[str, object]:
    if not isinstance(body, dict):
        raise InvalidInput.field(field, "must be a JSON object")
    return body


_FLAG: TypeAdapter[bool] = TypeAdapter(bool)


def query_flag(request: Request, name: str) -> bool:
    """A boolean query parameter (absent: False), parsed and reported exactly as a FastAPI ``bool``
    parameter would be: for routes that read their parameters without the dependency graph."""
    raw = request.query_params.get(name)
    if raw is None:
        return False
    try:
        return _FLAG.validate_python(raw)
    except ValidationError as exc:
        errors = [{**err, "loc": ("query", name)} for err in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], body: object, prefix: str = "") -> M:
    """Validate a parsed JSON body against a model; problems are 400s naming each field."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput.from_pydantic(exc, prefix) from None
