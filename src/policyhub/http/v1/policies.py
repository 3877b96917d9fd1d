"""``/v1/orgs/{org}/policies``: create, list, read, replace/upsert, patch, archive, versions, rollback."""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

import jsonpatch
import yaml
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from starlette.routing import Route

from policyhub.domain.canonical import canonical_json, sha256_hex
from policyhub.domain.policy_document import etag, to_document
from policyhub.domain.records import Actor, Org
from policyhub.domain.selectors import parse_selector
from policyhub.errors import InvalidInput, UnsupportedMediaType
from policyhub.http.deps import (
    Container,
    ContainerDep,
    CurrentActor,
    JsonBody,
    OrgDep,
    caller,
    json_body,
    parse_model,
    query_flag,
    require_json_object,
)
from policyhub.http.media import parse_media_type, require_json
from policyhub.http.openapi import body_schema
from policyhub.http.routing import HotRoute
from policyhub.http.v1 import schemas
from policyhub.http.v1.render import (
    FastJSON,
    decode_token,
    encode_token,
    replay,
    stored_response,
    version_out,
    write_response,
)
from policyhub.services.commands import (
    ArchivePolicy,
    Command,
    CreatePolicy,
    Idempotency,
    JsonPatchPolicy,
    MergePatchPolicy,
    ReplacePolicy,
    RollbackPolicy,
    UnarchivePolicy,
    WriteOptions,
)
from policyhub.services.policies import Preconditions, WriteResult
from policyhub.storage.repositories.idempotency import StoredResponse
from policyhub.storage.repositories.policies import PolicyFilter
from policyhub.storage.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/orgs/{org}/policies", tags=["policies"])

DryRun = Annotated[bool, Query(description="validate and report what would happen; write nothing")]
IfMatch = Annotated[str | None, Header(alias="If-Match")]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match")]
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def media_type(request: Request) -> str:
    return parse_media_type(request.headers.get("content-type"))


@router.post(
    "",
    status_code=201,
    response_model=schemas.PolicyOut,
    summary="Create a policy",
    openapi_extra=body_schema({"application/json": schemas.PolicyCreate}, examples=schemas.POLICY_EXAMPLES),
    responses={409: {"description": "a live policy with this name exists"}},
)
async def create_policy(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    org: OrgDep,
    body: JsonBody,
    dry_run: DryRun = False,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> Response:
    require_json(request)
    doc = dict(require_json_object(body))
    type_name = doc.pop("type", None)
    if not isinstance(type_name, str):
        raise InvalidInput.field("type", "field required (a policy type name)")
    scope = doc.pop("scope", None)
    if scope is not None and not isinstance(scope, str):
        raise InvalidInput.field("scope", "must be a scope path")
    comment = doc.pop("comment", "")
    if not isinstance(comment, str):
        raise InvalidInput.field("comment", "must be a string")
    base = str(request.url.path)

    def respond(uow: UnitOfWork, result: WriteResult) -> StoredResponse:
        return stored_response(write_response(result, dry_run=dry_run, location=f"{base}/{result.policy.id}"))

    once = None
    if idempotency_key is not None:
        once = Idempotency(idempotency_key, sha256_hex(canonical_json(["POST", base, body])))
    command = CreatePolicy(doc, type_name, scope, comment)
    options = WriteOptions(dry_run=dry_run, idempotency=once)
    return replay(await c.commands.execute(actor, org, command, options, respond=respond))


@router.get("", response_model=schemas.PolicyList, summary="List policies")
async def list_policies(
    c: ContainerDep,
    actor: CurrentActor,
    org: OrgDep,
    type: Annotated[str | None, Query(description="policy type")] = None,
    scope: Annotated[str | None, Query(description="scope path; includes its descendants")] = None,
    label_selector: Annotated[str | None, Query(description="e.g. env=prod,tier!=web,team,!legacy")] = None,
    enabled: bool | None = None,
    archived: Annotated[
        Literal["false", "true", "all"], Query(description="false (default): live only; true: archived only; all")
    ] = "false",
    name_prefix: str | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    page_token: str | None = None,
) -> Response:
    settings = c.settings
    size = min(limit or settings.default_page_size, settings.max_page_size)
    after = tuple(decode_token(page_token, list)) if page_token else None
    if after is not None and (len(after) != 2 or not all(isinstance(x, str) for x in after)):
        raise InvalidInput.field("page_token", "malformed page token")
    flt = PolicyFilter(
        type=type,
        scope_path=scope.strip("/") if scope else None,
        labels=parse_selector(label_selector or ""),
        enabled=enabled,
        archived={"false": False, "true": True, "all": None}[archived],
        name_prefix=name_prefix,
        after=after,
    )
    items = await c.db.read_async(lambda uow: c.policies.list(uow, actor, flt, size + 1))
    more = len(items) > size
    items = items[:size]
    token = encode_token([items[-1].name, items[-1].id]) if more else None
    return FastJSON({"items": [to_document(p) for p in items], "next_page_token": token})


@router.get("/{ref}", response_model=schemas.PolicyOut, summary="Get a policy by id or name")
async def get_policy(
    c: ContainerDep, actor: CurrentActor, org: OrgDep, ref: str, if_none_match: IfNoneMatch = None
) -> Response:
    return await _get(c, actor, ref, if_none_match)


async def _get(c: Container, actor: Actor, ref: str, if_none_match: str | None) -> Response:
    """A policy as a GET answers it: 304 when ``If-None-Match`` names its ETag, else the document."""
    policy = await c.db.read_async(lambda uow: c.policies.get(uow, actor, ref))
    tag = etag(policy)
    if if_none_match and tag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    return FastJSON(to_document(policy), headers={"ETag": tag})


@router.put(
    "/{ref}",
    response_model=schemas.PolicyOut,
    summary="Replace a policy, or create it (upsert)",
    description="By name, the body's `name` (if any) must be that name: PUT never renames (PATCH does). A policy "
    "that is archived cannot be written (409: `POST .../unarchive` restores it); a PUT to the name of an "
    "archived policy creates a new policy, since archiving frees the name, unless the body repeats the "
    "archived policy's `id` (409).",
    openapi_extra=body_schema({"application/json": schemas.PolicyReplace}),
    responses={201: {"description": "created", "model": schemas.PolicyOut}, 412: {"description": "stale"}},
)
async def put_policy(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    org: OrgDep,
    ref: str,
    body: JsonBody,
    dry_run: DryRun = False,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    return await _put(request, c, actor, org, ref, body, dry_run, Preconditions(if_match, if_none_match))


async def _put(
    request: Request, c: Container, actor: Actor, org: Org, ref: str, body: object, dry_run: bool, pre: Preconditions
) -> Response:
    require_json(request)
    doc = require_json_object(body)
    result = await _execute(c, actor, org, ReplacePolicy(ref, doc), dry_run, pre)
    base = str(request.url.path).rsplit("/", 1)[0]
    return write_response(result, dry_run=dry_run, location=f"{base}/{result.policy.id}")


@router.patch(
    "/{ref}",
    response_model=schemas.PolicyOut,
    summary="Patch a policy (merge patch or JSON Patch)",
    openapi_extra=body_schema(
        {
            MERGE_PATCH: schemas.MergePatch,
            JSON_PATCH: [schemas.JsonPatchOperation],
            "application/json": schemas.MergePatch,
        }
    ),
)
async def patch_policy(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    org: OrgDep,
    ref: str,
    body: JsonBody,
    dry_run: DryRun = False,
    if_match: IfMatch = None,
    comment: Annotated[str, Query(description="comment for the new version, if the spec changes")] = "",
) -> Response:
    return await _patch(request, c, actor, org, ref, body, dry_run, Preconditions(if_match=if_match), comment)


async def _patch(
    request: Request,
    c: Container,
    actor: Actor,
    org: Org,
    ref: str,
    body: object,
    dry_run: bool,
    pre: Preconditions,
    comment: str,
) -> Response:
    mt = media_type(request)
    command: Command
    if mt in (MERGE_PATCH, "application/json"):
        command = MergePatchPolicy(ref, body, comment)
    elif mt == JSON_PATCH:
        command = JsonPatchPolicy(ref, body, comment)
    else:
        raise UnsupportedMediaType(f"PATCH takes {MERGE_PATCH} or {JSON_PATCH}, not {mt or 'missing'!r}")
    return write_response(await _execute(c, actor, org, command, dry_run, pre), dry_run=dry_run)


async def _execute(
    c: Container, actor: Actor, org: Org, command: Command, dry_run: bool, pre: Preconditions
) -> WriteResult:
    return await c.commands.execute(actor, org, command, WriteOptions(dry_run=dry_run, preconditions=pre))


@router.delete("/{ref}", response_model=schemas.PolicyOut, summary="Archive a policy (history is kept)")
async def archive_policy(
    c: ContainerDep, actor: CurrentActor, org: OrgDep, ref: str, dry_run: DryRun = False, if_match: IfMatch = None
) -> Response:
    return await _archive(c, actor, org, ref, dry_run, Preconditions(if_match=if_match))


async def _archive(c: Container, actor: Actor, org: Org, ref: str, dry_run: bool, pre: Preconditions) -> Response:
    return write_response(await _execute(c, actor, org, ArchivePolicy(ref), dry_run, pre), dry_run=dry_run)


@router.post("/{ref}/unarchive", response_model=schemas.PolicyOut, summary="Restore an archived policy")
async def unarchive_policy(
    c: ContainerDep, actor: CurrentActor, org: OrgDep, ref: str, dry_run: DryRun = False, if_match: IfMatch = None
) -> Response:
    result = await _execute(c, actor, org, UnarchivePolicy(ref), dry_run, Preconditions(if_match=if_match))
    return write_response(result, dry_run=dry_run)


_NEXT_PAGE_HEADERS = {
    "Next-Page-Token": {
        "description": "present when more versions follow: pass it as `page_token` for the next page",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'the next page\'s path and query, `</v1/...>; rel="next"` (RFC 8288)',
        "schema": {"type": "string"},
    },
}


@router.get(
    "/{ref}/versions",
    response_model=list[schemas.VersionOut],
    summary="A policy's versions, oldest first (keyset pages)",
    description="The body is a JSON array of at most `limit` versions (default 50, at most 500). When more "
    "follow, the `Next-Page-Token` header holds the token to pass as `page_token` (as `next_page_token` "
    'does in the other lists) and `Link` the next page\'s URL (`rel="next"`); the last page has neither.',
    responses={200: {"headers": _NEXT_PAGE_HEADERS}},
)
async def list_versions(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    org: OrgDep,
    ref: str,
    limit: Annotated[int | None, Query(ge=1)] = None,
    page_token: str | None = None,
) -> Response:
    size = min(limit or c.settings.default_page_size, c.settings.max_page_size)
    after = decode_token(page_token, int) if page_token else 0
    if isinstance(after, bool) or after < 0:
        raise InvalidInput.field("page_token", "malformed page token")
    _, versions = await c.db.read_async(lambda uow: c.policies.versions(uow, actor, ref, after=after, limit=size + 1))
    headers = {}
    if len(versions) > size:
        versions = versions[:size]
        token = encode_token(versions[-1].version)
        headers["Next-Page-Token"] = token
        nxt = request.url.include_query_params(limit=size, page_token=token)
        headers["Link"] = f'<{nxt.path}?{nxt.query}>; rel="next"'  # relative: never the request's Host
    return FastJSON([version_out(v) for v in versions], headers=headers)


@router.get("/{ref}/versions/{number}", response_model=schemas.VersionOut, summary="One version")
async def get_version(c: ContainerDep, actor: CurrentActor, org: OrgDep, ref: str, number: int) -> Response:
    _, version = await c.db.read_async(lambda uow: c.policies.version(uow, actor, ref, number))
    return FastJSON(version_out(version))


@router.get("/{ref}/diff", response_model=schemas.DiffOut, summary="Diff two versions")
def diff_versions(
    c: ContainerDep,
    actor: CurrentActor,
    org: OrgDep,
    ref: str,
    from_version: Annotated[int, Query(alias="from", ge=1)],
    to_version: Annotated[int | None, Query(alias="to", ge=1, description="default: current version")] = None,
) -> Response:
    with c.db.read() as uow:
        policy, old = c.policies.version(uow, actor, ref, from_version)
        _, new = c.policies.version(uow, actor, ref, to_version or policy.version)
    old_yaml = _canonical_yaml(old.spec)
    new_yaml = _canonical_yaml(new.spec)
    unified = "".join(
        difflib.unified_diff(
            old_yaml.splitlines(keepends=True),
            new_yaml.splitlines(keepends=True),
            fromfile=f"{policy.name}@v{old.version}",
            tofile=f"{policy.name}@v{new.version}",
        )
    )
    return FastJSON(
        {
            "policy_id": policy.id,
            "from_version": old.version,
            "to_version": new.version,
            "json_patch": jsonpatch.make_patch(old.spec, new.spec).patch,
            "unified": unified,
        }
    )


@router.post(
    "/{ref}/rollback",
    response_model=schemas.PolicyOut,
    summary="Restore an old version as a new version",
    openapi_extra=body_schema({"application/json": schemas.RollbackIn}, examples=schemas.ROLLBACK_EXAMPLES),
)
async def rollback_policy(
    request: Request,
    c: ContainerDep,
    actor: CurrentActor,
    org: OrgDep,
    ref: str,
    body: JsonBody,
    dry_run: DryRun = False,
    if_match: IfMatch = None,
) -> Response:
    require_json(request)
    payload = parse_model(schemas.RollbackIn, require_json_object(body))
    command = RollbackPolicy(ref, payload.version, payload.comment)
    result = await _execute(c, actor, org, command, dry_run, Preconditions(if_match=if_match))
    return write_response(result, dry_run=dry_run)


def _canonical_yaml(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=True, allow_unicode=True, default_flow_style=False)


def hot_routes() -> list[Route]:
    """``/v1/orgs/{org}/policies/{ref}`` (read, replace, patch, archive) as one plain Starlette route, for
    the app to match before everything else.

    FastAPI's dependency solving (auth, org, body, query and header parameters as a dependency graph)
    cost about a third of a policy write and most of a read; this route reads the same inputs directly
    and calls the same functions as the FastAPI routes above, which stay for the OpenAPI document and
    never see traffic. Error handling, middleware and the body limit are the app's, as for every route.
    """

    async def item(request: Request) -> Response:
        c, actor = await caller(request.scope, request.path_params["org"])
        org: Org = request.state.org
        ref: str = request.path_params["ref"]
        method = request.method
        if method == "GET":
            return await _get(c, actor, ref, request.headers.get("if-none-match"))
        if method == "DELETE":
            return await _archive(c, actor, org, ref, query_flag(request, "dry_run"), _pre(request))
        body = await json_body(request)
        dry_run = query_flag(request, "dry_run")
        if method == "PUT":
            return await _put(request, c, actor, org, ref, body, dry_run, _pre(request))
        comment = request.query_params.get("comment", "")
        return await _patch(request, c, actor, org, ref, body, dry_run, _pre(request), comment)

    route = HotRoute("/v1/orgs/{org}/policies/{ref}", item, methods=["GET", "PUT", "PATCH", "DELETE"])
    assert route.methods is not None
    route.methods.discard("HEAD")  # as the FastAPI routes: no implicit HEAD
    return [route]


def _pre(request: Request) -> Preconditions:
    return Preconditions(request.headers.get("if-match"), request.headers.get("if-none-match"))
