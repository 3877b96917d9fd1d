"""The plugin interface every policy type implements.

A type turns client input (a JSON spec, or source text such as YAML) into a normalised spec, or
raises :class:`~policyhub.errors.InvalidInput` whose ``errors`` name each bad field by its path
(``spec.artifacts.provenance.required``). Types never touch the database directly: what they need to
know about other objects (a referenced rule, an org-supplied JSON Schema) they ask ``ValidationContext``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ValidationError

from policyhub.errors import InvalidInput

if TYPE_CHECKING:
    from policyhub.domain.records import Policy
    from policyhub.evaluation.compiled import CompiledPolicy, Resources


class ValidationContext(Protocol):
    """What a type may ask about the world while validating a spec (read-only)."""

    org_id: str

    def document_schema(self, name: str) -> dict[str, Any] | None:
        """The org-supplied JSON Schema called ``name``, or None."""
        ...

    def reference_exists(self, kind: str, ref_id: str) -> bool:
        """Whether the org has the referenced object (e.g. kind ``jfrog.rule``)."""
        ...


@dataclass(frozen=True)
class NormalizedSpec:
    """A validated spec, plus its verbatim source text where the type has one (e.g. YAML)."""

    spec: dict[str, Any]
    source: str | None = None
    references: tuple[tuple[str, str], ...] = field(default=())


class PolicyType(ABC):
    """A policy type: name, JSON Schema, normalisation and the spec fields that may never change."""

    name: ClassVar[str]
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: Dotted paths inside ``spec`` that must not change once the policy exists.
    immutable_fields: ClassVar[tuple[str, ...]] = ()
    #: Media type of the type's source text (``application/yaml``), if it has one.
    source_media_type: ClassVar[str | None] = None
    #: Whether specs of this type can refer to other objects (kept in ``policy_references``).
    may_reference: ClassVar[bool] = False
    #: The decision point whose requests this type evaluates (None: the type takes no part in decisions).
    decision_point: ClassVar[str | None] = None

    @abstractmethod
    def json_schema(self) -> dict[str, Any]:
        """JSON Schema of the spec, served by ``GET /v1/policy-types``."""

    @abstractmethod
    def normalize(self, spec: Any, ctx: ValidationContext) -> NormalizedSpec:
        """Validate ``spec`` and return it normalised (defaults filled, canonical forms)."""

    def references(self, spec: dict[str, Any]) -> tuple[tuple[str, str], ...] | None:
        """The (kind, id) references a stored spec makes, if the type can tell cheaply (None: unknown).

        Lets a write skip rewriting the reference rows when they cannot have changed.
        """
        return None if self.may_reference else ()

    def parse_source(self, source: str, ctx: ValidationContext) -> NormalizedSpec:
        """Validate source text (e.g. YAML) and return the spec it denotes, keeping the text."""
        raise InvalidInput.field("source", f"policy type {self.name!r} has no source format")

    def render_source(self, spec: dict[str, Any]) -> str | None:
        """Source text for a spec written without one (None when the type has no source format)."""
        return None

    def compile(self, policy: Policy, resources: Resources) -> CompiledPolicy:
        """The policy's evaluator, built once per version (parsed expressions, compiled regexes, Rego).

        Only called for types with a ``decision_point``; raising marks the stored policy as broken,
        which makes every decision it takes part in deny with the error as the reason.
        """
        raise NotImplementedError(f"policy type {self.name!r} has no evaluator")


class ModelPolicyType(PolicyType):
    """A type whose spec is a Pydantic model (``extra="forbid"`` so unknown keys are rejected).

    Subclasses set ``spec_model`` and may override :meth:`check` for rules a model cannot state.
    """

    spec_model: ClassVar[type[BaseModel]]

    def json_schema(self) -> dict[str, Any]:
        return self.spec_model.model_json_schema()

    def normalize(self, spec: Any, ctx: ValidationContext) -> NormalizedSpec:
        if not isinstance(spec, dict):
            raise InvalidInput.field("spec", "must be a JSON object")
        try:
            model = self.spec_model.model_validate(spec)
        except ValidationError as exc:
            raise spec_errors(exc) from None
        normalized = model.model_dump(mode="json", by_alias=True, exclude_none=True)
        refs = tuple(self.check(model, ctx))
        return NormalizedSpec(spec=normalized, references=refs)

    def check(self, model: Any, ctx: ValidationContext) -> Iterable[tuple[str, str]]:
        """Extra semantic checks; return the (kind, id) references the spec makes."""
        return ()


def spec_errors(exc: ValidationError, prefix: str = "spec") -> InvalidInput:
    """Turn a Pydantic ``ValidationError`` into ``InvalidInput`` with dotted field paths."""
    return InvalidInput.from_pydantic(exc, prefix)
