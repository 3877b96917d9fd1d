"""``/v1/policy-types``: the registered policy types and the JSON Schema of each one's spec."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from policyhub.http.deps import ContainerDep, CurrentActor
from policyhub.http.v1 import schemas
from policyhub.http.v1.render import FastJSON
from policyhub.policy_types.base import PolicyType

router = APIRouter(prefix="/v1/policy-types", tags=["policy types"])


def _type_out(t: PolicyType) -> dict[str, Any]:
    return {
        "name": t.name,
        "title": t.title,
        "description": t.description,
        "immutable_fields": list(t.immutable_fields),
        "source_media_type": t.source_media_type,
        "decision_point": t.decision_point,
        "spec_schema": t.json_schema(),
    }


@router.get("", response_model=list[schemas.PolicyTypeOut], summary="List policy types")
def list_types(c: ContainerDep, actor: CurrentActor) -> Response:
    return FastJSON([_type_out(t) for t in c.registry])


@router.get("/{name}", response_model=schemas.PolicyTypeOut, summary="One policy type")
def get_type(c: ContainerDep, actor: CurrentActor, name: str) -> Response:
    from policyhub.errors import InvalidInput, NotFound

    try:
        plugin = c.registry.get(name)
    except InvalidInput:
        raise NotFound(f"policy type {name!r} not found") from None
    return FastJSON(_type_out(plugin))
