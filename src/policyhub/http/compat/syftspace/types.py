"""``/syftspace/policies/types/``: the Syft Space policy types and their ``{properties, required}`` schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from policyhub.errors import InvalidInput, NotFound
from policyhub.http.compat.syftspace import schemas as s
from policyhub.http.compat.syftspace.tenancy import TenantOrg
from policyhub.policy_types.syftspace import syftspace_type_info, syftspace_type_names, syftspace_type_schema

router = APIRouter(prefix=f"{s.PREFIX}/policies/types", tags=["syftspace: policy types"])


@router.get(
    "/",
    response_model=list[s.SyftSpacePolicyTypeInfoResponse],
    responses=s.ERROR_RESPONSES,
    summary="List policy types",
)
def list_types(org: TenantOrg) -> Response:
    return JSONResponse([syftspace_type_info(name) for name in syftspace_type_names()])


@router.get(
    "/{name}",
    response_model=s.SyftSpacePolicyTypeInfoResponse,
    responses=s.ERROR_RESPONSES,
    summary="Get a policy type",
)
def get_type(org: TenantOrg, name: str) -> Response:
    return JSONResponse(_known(name, syftspace_type_info))


@router.get(
    "/{name}/schema",
    response_model=s.SyftSpacePolicyTypeSchema,
    responses=s.ERROR_RESPONSES,
    summary="A policy type's configuration schema",
)
def get_type_schema(org: TenantOrg, name: str) -> Response:
    return JSONResponse(_known(name, syftspace_type_schema))


def _known(name: str, view: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """``view(name)``; an unknown type is 404 ``Policy type '<name>' not found`` here (400 when creating)."""
    try:
        return view(name)
    except InvalidInput:
        raise NotFound(f"Policy type '{name}' not found") from None
