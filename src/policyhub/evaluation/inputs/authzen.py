"""``authzen``: may a subject perform an action on a resource (an OpenID AuthZEN 1.0 evaluation request)?

The input is the AuthZEN Access Evaluation request as the specification defines it (the contract is
``authorization-api-1_0.md``, section "Information Model"): ``subject`` {``type``, ``id``,
``properties``}, ``resource`` {``type``, ``id``, ``properties``}, ``action`` {``name``, ``properties``}
and an optional ``context`` object. Unlike the other points, unknown fields are *ignored*, not refused:
AuthZEN requires receivers to ignore them for forward compatibility. Required fields are enforced (a
missing ``subject.type`` is a 400 naming ``input.subject.type``), and types are strict (a number where a
string is required is a 400, never coerced).

Policies of the generic ``rego`` type and of the declarative ``access_rules`` type decide here. Both can
also say which entities they know (:class:`KnowsEntities`), which is what makes AuthZEN's Search APIs
enumerable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from policyhub.domain.redaction import Fields, kept
from policyhub.evaluation.points import DecisionPoint

#: The three entity kinds a search asks for.
EntityKind = Literal["subject", "resource", "action"]

Ident = Annotated[StrictStr, Field(max_length=1024)]


class _Lenient(BaseModel):
    """AuthZEN: "receivers MUST ignore unknown fields" (the other points' models forbid them)."""

    model_config = ConfigDict(extra="ignore")


class Subject(_Lenient):
    type: Ident = Field(description="the subject's type, e.g. user")
    id: Ident = Field(description="the subject's identifier, scoped to its type")
    properties: dict[str, Any] = Field(default_factory=dict, description="attributes of the subject")


class Resource(_Lenient):
    type: Ident = Field(description="the resource's type, e.g. document")
    id: Ident = Field(description="the resource's identifier, scoped to its type")
    properties: dict[str, Any] = Field(default_factory=dict, description="attributes of the resource")


class Action(_Lenient):
    name: Ident = Field(description="the action's name, e.g. can_read")
    properties: dict[str, Any] = Field(default_factory=dict, description="attributes of the action")


#: An example input (in the OpenAPI document, and sent to the real endpoint by the tests).
EXAMPLE: dict[str, Any] = {
    "subject": {"type": "user", "id": "alice@example.com", "properties": {"department": "Sales"}},
    "resource": {"type": "account", "id": "123"},
    "action": {"name": "can_read", "properties": {"method": "GET"}},
    "context": {"time": "1985-10-26T01:22-07:00"},
}


class AuthzenInput(_Lenient):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [EXAMPLE]})

    subject: Subject
    resource: Resource
    action: Action
    context: dict[str, Any] = Field(default_factory=dict, description="the environment of the request")
    #: ``search``: the evaluation of one candidate of an AuthZEN search. It answers what an evaluation
    #: would, but counts nothing (a rate limit is read as if not yet used): a search only asks.
    mode: Literal["evaluate", "search"] = "evaluate"

    def document(self) -> dict[str, Any]:
        """The request as policies read it (``input`` in Rego; the roots of ``access_rules`` paths)."""
        return {
            "subject": self.subject.model_dump(),
            "resource": self.resource.model_dump(),
            "action": self.action.model_dump(),
            "context": self.context,
        }


@runtime_checkable
class KnowsEntities(Protocol):
    """A compiled policy that can list the entities it knows (its directory, and the literal ids of its
    rules): the candidates of an AuthZEN search."""

    def known_entities(self, kind: EntityKind, entity_type: str | None) -> list[dict[str, Any]]:
        """Known subjects or resources of ``entity_type`` (``{"type", "id", "properties"}``) or actions
        (``{"name", "properties"}``; ``entity_type`` is None)."""
        ...


#: What the decision log keeps in its ``redacted`` mode: every field, each scrubbed of anything token-shaped.
LOG_FIELDS = Fields({name: kept for name in AuthzenInput.model_fields})
MAX_MASKED_DEPTH = 32


def withheld(text: str) -> str:
    """A logged attribute string when no masker was given: none of it (fail closed)."""
    return f"[withheld: {len(text)} characters]"


def _masked(value: Any, mask: Callable[[str], str], depth: int = 0) -> Any:
    if isinstance(value, str):
        return mask(value)
    if depth > MAX_MASKED_DEPTH:
        return "[withheld: nested too deeply]"
    if isinstance(value, dict):
        return {k: _masked(v, mask, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, mask, depth + 1) for v in value]
    return value


@dataclass(frozen=True)
class AuthzenPoint(DecisionPoint):
    #: Masks what the built-in detectors find in the attribute strings (``properties``, ``context``) before
    #: the log keeps them: an MCP gateway sends tool arguments there. The detectors belong to the Flashback
    #: type, above this layer (:func:`policyhub.policy_types.registry.default_points` passes them in).
    mask: Callable[[str], str] = withheld

    def log_input(self, data: Any) -> Any:
        """The input with every string under ``properties`` and ``context`` masked."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name in ("subject", "resource", "action"):
            entity = data.get(name)
            if isinstance(entity, dict) and "properties" in entity:
                out[name] = {**entity, "properties": _masked(entity["properties"], self.mask)}
        if "context" in data:
            out["context"] = _masked(data["context"], self.mask)
        return out


AUTHZEN = AuthzenPoint(
    name="authzen",
    description="An OpenID AuthZEN access evaluation: may the subject perform the action on the resource?",
    input_model=AuthzenInput,
    log_fields=LOG_FIELDS,
)
