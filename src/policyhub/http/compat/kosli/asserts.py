"""``/api/v2/asserts/{org}/fingerprint/{fingerprint}``: Kosli's deployment gate, over the decision engine.

Kosli's documented route is ``GET`` with ``environment_name`` (every policy attached to that
environment) or repeated ``policy_name`` (those policies, attached or not), mutually exclusive, and an
optional ``flow_name`` narrowing the artifact's trails. Kosli answers from the trails and attestations
it stores; PolicyHub stores none, so:

* ``POST`` (PolicyHub extension) takes the same path and query with the evidence as a JSON body,
  ``{"name", "trails": [{"flow": {"name", "tags"}, "name", "compliant", "attestations": [...]}]}``;
* ``GET`` asserts the fingerprint with no evidence, as an artifact reported without provenance: a
  policy that requires provenance, trail compliance or an attestation is violated.

Neither ``environment_name`` nor ``policy_name`` (Kosli's flow-template mode) is a 400: PolicyHub
has no flow templates. Every assertion is one ``environment`` decision through ``DecisionService``
(source ``kosli``), recorded in the decision log before the answer; non-compliance is in the body
(200), as in Kosli. Unknown environments and policies are 404s in Kosli's words.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from policyhub.domain.records import Actor, Org
from policyhub.engine.engine import DecisionRequest
from policyhub.errors import FieldError, InvalidInput, NotFound
from policyhub.evaluation.inputs.environment import FINGERPRINT_PATTERN
from policyhub.http.compat.kosli import schemas
from policyhub.http.compat.kosli.assert_shapes import KosliAssertArtifactResponse, KosliAssertEvidence, assert_response
from policyhub.http.compat.kosli.deps import JsonObject, KosliOrg
from policyhub.http.compat.kosli.lookups import Reads
from policyhub.http.deps import Container, ContainerDep, CurrentActor, parse_model
from policyhub.http.openapi import body_schema
from policyhub.http.urls import public_url

router = APIRouter(prefix="/api/v2/asserts", tags=["kosli"], responses=schemas.ERROR_RESPONSES)

_FINGERPRINT = re.compile(FINGERPRINT_PATTERN)
Fingerprint = Annotated[str, Path(title="Fingerprint")]
FlowName = Annotated[str | None, Query(description="Filter by flow name")]
EnvironmentName = Annotated[str | None, Query(description="assert against every policy attached to this environment")]
PolicyNames = Annotated[list[str], Query(alias="policy_name", description="assert against these policies")]


@router.get(
    "/{org}/fingerprint/{fingerprint}",
    response_model=KosliAssertArtifactResponse,
    summary="Assert artifact",
    operation_id="kosli_assert_artifact",
)
def assert_artifact(
    c: ContainerDep,
    actor: CurrentActor,
    org: KosliOrg,
    fingerprint: Fingerprint,
    flow_name: FlowName = None,
    environment_name: EnvironmentName = None,
    policy_name: PolicyNames = [],  # noqa: B006 - FastAPI copies query defaults
) -> Response:
    evidence = KosliAssertEvidence()
    return _assert(c, actor, org, fingerprint, evidence, flow_name, environment_name, policy_name)


@router.post(
    "/{org}/fingerprint/{fingerprint}",
    response_model=KosliAssertArtifactResponse,
    summary="Assert artifact with its evidence (PolicyHub extension)",
    operation_id="kosli_assert_artifact_with_evidence",
    openapi_extra=body_schema({"application/json": KosliAssertEvidence}),
)
def assert_artifact_with_evidence(
    c: ContainerDep,
    actor: CurrentActor,
    org: KosliOrg,
    fingerprint: Fingerprint,
    body: JsonObject,
    flow_name: FlowName = None,
    environment_name: EnvironmentName = None,
    policy_name: PolicyNames = [],  # noqa: B006 - FastAPI copies query defaults
) -> Response:
    evidence = parse_model(KosliAssertEvidence, body)
    return _assert(c, actor, org, fingerprint, evidence, flow_name, environment_name, policy_name)


def _assert(
    c: Container,
    actor: Actor,
    org: Org,
    fingerprint: str,
    evidence: KosliAssertEvidence,
    flow_name: str | None,
    environment_name: str | None,
    policy_names: list[str],
) -> Response:
    _check_query(fingerprint, environment_name, policy_names)
    trails = evidence.trails
    if flow_name is not None:
        trails = [t for t in trails if t.flow.name == flow_name]
        if not trails:
            raise NotFound(
                f"Artifact with fingerprint '{fingerprint}' does not exist in flow '{flow_name}' "
                f"belonging to organization '{org.slug}'"
            )
    with c.db.read() as uow:  # Kosli's own 404s; the engine re-checks against its snapshot
        reads = Reads(c, uow, actor, org.slug)
        if environment_name is not None:
            reads.live_environment(environment_name)
        for name in dict.fromkeys(policy_names):
            reads.policy(name, include_archived=False)
    artifact: dict[str, Any] = {
        "name": evidence.name,
        "fingerprint": fingerprint,
        "trails": [t.model_dump(mode="json") for t in trails],
    }
    asked = DecisionRequest(
        point="environment",
        input={"environment": environment_name, "artifacts": [artifact]},
        policies=tuple(dict.fromkeys(policy_names)) or None,
    )
    result = c.decisions.decide(actor, asked, source="kosli", record=True)
    html_url = public_url(c.settings, f"/v1/orgs/{org.slug}/decisions/{result.id}")
    body = assert_response(
        result, fingerprint=fingerprint, trails=trails, environment=environment_name, html_url=html_url
    )
    return JSONResponse(body)


def _check_query(fingerprint: str, environment_name: str | None, policy_names: list[str]) -> None:
    if not _FINGERPRINT.fullmatch(fingerprint):
        raise InvalidInput.field("fingerprint", "must be a SHA-256 fingerprint: 64 lower-case hex digits")
    if environment_name is not None and policy_names:
        message = "environment_name and policy_name are mutually exclusive"
        raise InvalidInput(message, [FieldError("environment_name", message), FieldError("policy_name", message)])
    if environment_name is None and not policy_names:
        raise InvalidInput.field(
            "environment_name",
            "name an environment (environment_name) or policies (policy_name): "
            "PolicyHub has no flow templates to assert against",
        )
    if environment_name == "" or any(not n for n in policy_names):
        field = "environment_name" if environment_name == "" else "policy_name"
        raise InvalidInput.field(field, "must not be empty")
