"""``/api/v2/policies/{org}``: Kosli's create-or-update (multipart), list and get. No delete: Kosli has none.

``PUT`` upserts by name through ``PolicyService.put`` in one transaction: 201 when the name was new,
200 otherwise. With a ``policy_file`` the YAML becomes the policy's source (a new version when it
differs from the current one, commented with ``payload.comment``); without one only the metadata
changes. Creating a policy needs a file: Kosli documents no default policy, and an empty policy would
silently pass every environment.

Extension: responses carry the core ``ETag``, and ``If-Match`` on ``PUT`` is passed to the core (an
org that sets ``require_if_match`` therefore answers 428 to Kosli clients that do not send it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import JSONResponse, Response

from policyhub.domain.policy_document import etag
from policyhub.errors import FieldError, InvalidInput
from policyhub.http.compat.kosli import schemas
from policyhub.http.compat.kosli.deps import KosliOrg
from policyhub.http.compat.kosli.form import PutForm, read_put_form
from policyhub.http.compat.kosli.lookups import Reads
from policyhub.http.compat.kosli.translate import FILE_FIELD, TYPE_NAME, file_errors, put_document
from policyhub.http.deps import ContainerDep, CurrentActor, parse_model
from policyhub.http.openapi import body_schema, register_model
from policyhub.services.commands import OrgWrite, ReplacePolicy
from policyhub.services.policies import Preconditions

router = APIRouter(prefix="/api/v2/policies", tags=["kosli"], responses=schemas.ERROR_RESPONSES)

PolicyName = Annotated[str, Path(title="Policy Name")]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="PolicyHub extension: the ETag to write against (orgs may require it)"),
]

PUT_BODY = {
    "type": "object",
    "title": "Body_put_policy_policies__org__put",
    "required": ["payload"],
    "properties": {
        "payload": {
            "$ref": register_model(schemas.KosliPolicyPutInput),
            "description": "Policy metadata in JSON format",
        },
        FILE_FIELD: {
            "anyOf": [{"type": "string", "contentMediaType": "application/octet-stream"}, {"type": "null"}],
            "title": "Policy File",
            "description": "The YAML policy file to upload (max size: 10MB)",
        },
    },
}


@router.put(
    "/{org}",
    response_model=schemas.KosliPolicyResponse,
    summary="Create or update policy",
    description="Create or update a Policy in an organization.",
    operation_id="kosli_put_policy",
    openapi_extra=body_schema({"multipart/form-data": PUT_BODY}),
    responses={
        200: {"description": "Update Success", "model": schemas.KosliPolicyResponse},
        201: {"description": "Creation Success", "model": schemas.KosliPolicyResponse},
        413: {"description": "Request Entity Too Large", "model": schemas.KosliErrorResponse},
    },
)
def put_policy(
    c: ContainerDep,
    actor: CurrentActor,
    org: KosliOrg,
    form: Annotated[PutForm, Depends(read_put_form)],
    if_match: IfMatch = None,
) -> Response:
    payload = parse_model(schemas.KosliPolicyPutInput, _object(form.payload))
    source = form.policy_yaml
    pre = Preconditions(if_match=if_match)

    def work(w: OrgWrite) -> tuple[dict[str, Any], bool, str]:
        reads = Reads(c, w.uow, actor, org.slug)
        current = reads.live_policy_or_none(payload.name)
        if current is not None and current.type != TYPE_NAME:
            raise InvalidInput.field(
                "type", f"policy {payload.name!r} is a {current.type!r} policy; its type cannot be changed"
            )
        if current is None and source is None:
            raise InvalidInput.field(FILE_FIELD, "required when creating a policy")
        document = put_document(payload, source, current)
        try:
            result = w.run(ReplacePolicy(payload.name, document), pre)
        except InvalidInput as exc:
            raise file_errors(exc, source) from None
        return reads.response(result.policy).model_dump(mode="json"), result.created, result.etag

    body, created, tag = c.commands.in_org_sync(actor, org, work)
    return JSONResponse(body, status_code=201 if created else 200, headers={"ETag": tag})


@router.get(
    "/{org}",
    response_model=list[schemas.KosliPolicyResponse],
    summary="List policies",
    operation_id="kosli_list_policies",
)
def list_policies(c: ContainerDep, actor: CurrentActor, org: KosliOrg) -> Response:
    """Every live Kosli policy of the org, by name (an empty org gives ``[]``)."""
    with c.db.read() as uow:
        reads = Reads(c, uow, actor, org.slug)
        environments = reads.environments()
        body = [reads.response(p, environments).model_dump(mode="json") for p in reads.policies()]
    return JSONResponse(body)


@router.get(
    "/{org}/{policy_name}",
    response_model=schemas.KosliPolicyResponse,
    summary="Get policy",
    operation_id="kosli_get_policy",
)
def get_policy(c: ContainerDep, actor: CurrentActor, org: KosliOrg, policy_name: PolicyName) -> Response:
    """The policy (the live one, else the most recently archived one of that name)."""
    with c.db.read() as uow:
        reads = Reads(c, uow, actor, org.slug)
        policy = reads.policy(policy_name)
        body = reads.response(policy).model_dump(mode="json")
    return JSONResponse(body, headers={"ETag": etag(policy)})


def _object(payload: object) -> dict[str, object]:
    if not isinstance(payload, dict):
        raise InvalidInput("payload must be a JSON object", [FieldError("payload", "must be a JSON object")])
    return payload
