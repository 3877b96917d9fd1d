"""The two version probes the JFrog Unified Policy Terraform provider makes before anything else.

The provider's ``Configure`` reads ``GET /artifactory/api/system/version`` (field ``version``) and
``GET /xray/api/v1/system/version`` (field ``xray_version``) and refuses to start unless they are at
least the versions that ship Unified Policy (its ``MinArtifactoryVersion`` and ``MinXrayVersion``).
PolicyHub answers with exactly those versions, so the provider can be pointed at PolicyHub. Like the
real products, the probes need a valid key (the provider sends its access token).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from policyhub.http.compat.jfrog.requests import ERRORS, json_response
from policyhub.http.deps import CurrentActor

ARTIFACTORY_PREFIX = "/artifactory/api"
XRAY_PREFIX = "/xray/api"
#: The first versions with Unified Policy (terraform-provider-unifiedpolicy, provider/provider.go).
ARTIFACTORY_VERSION = "7.125.0"
XRAY_VERSION = "3.130.5"
REVISION = "policyhub"

router = APIRouter(tags=["jfrog: system"])


class ArtifactoryVersion(BaseModel):
    version: str
    revision: str
    addons: list[str]


class XrayVersion(BaseModel):
    xray_version: str
    xray_revision: str


@router.get(
    f"{ARTIFACTORY_PREFIX}/system/version",
    response_model=ArtifactoryVersion,
    summary="Artifactory version (the Unified Policy provider's start-up check)",
    responses=ERRORS,
)
def artifactory_version(actor: CurrentActor) -> Response:
    del actor  # a valid key is required, as in Artifactory
    return json_response({"version": ARTIFACTORY_VERSION, "revision": REVISION, "addons": []})


@router.get(
    f"{XRAY_PREFIX}/v1/system/version",
    response_model=XrayVersion,
    summary="Xray version (the Unified Policy provider's start-up check)",
    responses=ERRORS,
)
def xray_version(actor: CurrentActor) -> Response:
    del actor
    return json_response({"xray_version": XRAY_VERSION, "xray_revision": REVISION})
