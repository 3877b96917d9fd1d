"""The explicit registries: policy types keyed by type name, and the decision points they are evaluated at."""

from __future__ import annotations

from dataclasses import replace

from policyhub.errors import InvalidInput
from policyhub.evaluation.points import PointRegistry
from policyhub.policy_types.base import PolicyType


class PolicyTypeRegistry:
    """Maps type names to plugins. One instance is built at start-up by the composition root."""

    def __init__(self, types: list[PolicyType] | None = None) -> None:
        self._types: dict[str, PolicyType] = {}
        for policy_type in types or []:
            self.register(policy_type)

    def register(self, policy_type: PolicyType) -> None:
        if policy_type.name in self._types:
            raise ValueError(f"policy type {policy_type.name!r} registered twice")
        self._types[policy_type.name] = policy_type

    def get(self, name: str) -> PolicyType:
        """The plugin for ``name``; an unknown name is a 400 naming the supported ones."""
        try:
            return self._types[name]
        except KeyError:
            supported = ", ".join(sorted(self._types))
            raise InvalidInput.field("type", f"unknown policy type {name!r}; supported: {supported}") from None

    def find(self, name: str) -> PolicyType | None:
        return self._types.get(name)

    def names(self) -> list[str]:
        return sorted(self._types)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._types[name] for name in sorted(self._types))


def default_registry() -> PolicyTypeRegistry:
    """Every built-in policy type. Adding a type is one line here plus its own folder."""
    from policyhub.policy_types.access_rules import AccessRulesType
    from policyhub.policy_types.apinizer import apinizer_types
    from policyhub.policy_types.document import DocumentType
    from policyhub.policy_types.flashback import FlashbackAiType
    from policyhub.policy_types.jfrog import JFrogLifecycleType
    from policyhub.policy_types.kosli import KosliEnvironmentType
    from policyhub.policy_types.rego import RegoType
    from policyhub.policy_types.syftspace import syftspace_types

    return PolicyTypeRegistry(
        [
            DocumentType(),
            KosliEnvironmentType(),
            JFrogLifecycleType(),
            *syftspace_types(),
            *apinizer_types(),
            FlashbackAiType(),
            RegoType(),
            AccessRulesType(),
        ]
    )


def default_points() -> PointRegistry:
    """Every built-in decision point (each in its own module under ``evaluation/inputs``), with what the
    types give them: ``ai_content`` and ``authzen`` mask logged content with the Flashback type's detectors."""
    from policyhub.evaluation.inputs.ai_content import AI_CONTENT
    from policyhub.evaluation.inputs.authzen import AUTHZEN
    from policyhub.evaluation.inputs.environment import ENVIRONMENT
    from policyhub.evaluation.inputs.http_request import HTTP_REQUEST
    from policyhub.evaluation.inputs.lifecycle_gate import LIFECYCLE_GATE
    from policyhub.policy_types.flashback.masking import mask_everything

    return PointRegistry(
        [
            HTTP_REQUEST,
            ENVIRONMENT,
            LIFECYCLE_GATE,
            replace(AI_CONTENT, mask=mask_everything),
            replace(AUTHZEN, mask=mask_everything),
        ]
    )
