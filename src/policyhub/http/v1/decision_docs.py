"""The decision request as the OpenAPI document describes it: one body shape per decision point.

``DecisionIn`` (in :mod:`policyhub.http.v1.decisions`) takes ``input`` as any object, because the point
parses it (:meth:`DecisionPoint.parse`) and the hot route reads bodies without a model. A reader of the
API needs more: for each point, what ``input`` holds. The models here exist for the document only; they
never validate a request. Each is built from the point's own input model and ``DecisionIn``'s other
fields, so the document follows both: a new point, or a new field, appears without an edit here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model

from policyhub.evaluation.points import DecisionPoint, PointRegistry
from policyhub.policy_types.registry import default_points
from policyhub.services.decisions import MAX_BATCH

_STRICT = ConfigDict(extra="forbid")

#: Where each example request asks at: scopes a newcomer creates first (see the scopes' examples).
EXAMPLE_SCOPES = {"http_request": "payments/api", "environment": "payments"}


def input_examples(point: DecisionPoint) -> list[dict[str, Any]]:
    """The examples a point's input model declares (``json_schema_extra``); every point declares one."""
    extra = point.input_model.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    return [e for e in examples if isinstance(e, dict)] if isinstance(examples, list) else []


def example_requests(points: PointRegistry) -> dict[str, dict[str, Any]]:
    """One example decision request per point, by point name (OpenAPI ``examples``)."""
    out: dict[str, dict[str, Any]] = {}
    for name in points.names():
        point = points.get(name)
        body: dict[str, Any] = {"point": name}
        if name in EXAMPLE_SCOPES:
            body["scope"] = EXAMPLE_SCOPES[name]
        for example in input_examples(point)[:1]:
            out[name] = {"summary": point.description, "value": {**body, "input": example}}
    return out


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _request_model(point: DecisionPoint, common: dict[str, Any]) -> type[BaseModel]:
    """``{point: "<name>", input: <the point's input model>, ...DecisionIn's other fields}``."""
    fields: dict[str, Any] = {
        "point": (Literal[point.name], Field(description=point.description)),
        "input": (point.input_model, Field(description=f"what the {point.name} point asks about")),
        **common,
    }
    model: type[BaseModel] = create_model(f"{_camel(point.name)}DecisionIn", __config__=_STRICT, **fields)
    return model


def build(
    common_fields: dict[str, Any], points: PointRegistry | None = None
) -> tuple[type[BaseModel], type[BaseModel]]:
    """The documented single-decision body (a ``oneOf`` discriminated by ``point``) and batch body.

    ``common_fields``: DecisionIn's fields other than ``point`` and ``input``, as ``(annotation, FieldInfo)``.
    """
    points = points or default_points()
    variants = tuple(_request_model(points.get(name), common_fields) for name in points.names())
    one_of = Annotated[Union[variants], Field(discriminator="point")]  # type: ignore[valid-type]  # noqa: UP007

    class DecisionRequestIn(RootModel[one_of]):
        """A decision request: the shape of `input` depends on `point` (one shape per decision point)."""

    batch: type[BaseModel] = create_model(
        "DecisionBatchIn",
        __config__=_STRICT,
        requests=(list[one_of], Field(min_length=1, max_length=MAX_BATCH)),
    )
    return DecisionRequestIn, batch
