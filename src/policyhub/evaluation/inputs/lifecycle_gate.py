"""``lifecycle_gate``: may an application version pass a stage's gate (JFrog)?

The input names the gate (``stage``, ``gate``), the application version asking to pass it (its
project, application key, labels and version: what a policy's scope is matched against) and the
evidence gathered for it (what a template's Rego reads as ``input.data``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr

from policyhub.domain.redaction import Fields, kept
from policyhub.evaluation.points import DecisionPoint

Key = Annotated[str, Field(min_length=1, max_length=255)]


class ApplicationLabel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Key
    value: str = Field(max_length=255)


def _labels(value: Any) -> Any:
    """Labels as JFrog sends them (``[{"key", "value"}]``) or as a plain object (``{"env": "prod"}``)."""
    if isinstance(value, dict):
        return [{"key": k, "value": v} for k, v in value.items()]
    return value


_LabelList = Annotated[list[ApplicationLabel], Field(max_length=1000)]


class ApplicationVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Key = Field(description="the application key")
    version: str | None = Field(default=None, min_length=1, max_length=255)
    project: Key | None = Field(default=None, description="the key of the project the application belongs to")
    labels: Annotated[
        list[ApplicationLabel],
        BeforeValidator(_labels, json_schema_input_type=_LabelList | dict[str, str]),
    ] = Field(default_factory=list, max_length=1000, description='[{"key": "env", "value": "prod"}] or {"env": "prod"}')

    _label_pairs: frozenset[tuple[str, str]] = PrivateAttr(default=frozenset())

    def model_post_init(self, context: Any) -> None:
        self._label_pairs = frozenset((label.key, label.value) for label in self.labels)

    @property
    def label_pairs(self) -> frozenset[tuple[str, str]]:
        """The labels as (key, value) pairs, computed once (scope matching reads them per policy)."""
        return self._label_pairs


#: An example input (in the OpenAPI document, and sent to the real endpoint by the tests).
EXAMPLE: dict[str, Any] = {
    "stage": "production",
    "gate": "entry",
    "application": {"key": "payments-api", "version": "1.4.2", "project": "payments", "labels": {"tier": "1"}},
    "evidence": {"tests": {"passed": 412, "failed": 0}, "scan": {"critical": 0}},
}


class LifecycleGateInput(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    stage: Key = Field(description="the lifecycle stage key, e.g. qa or production")
    gate: Literal["entry", "exit", "release"]
    application: ApplicationVersion
    evidence: dict[str, Any] = Field(
        default_factory=dict, description="the evidence gathered for the version; templates read it as input.data"
    )


#: What the decision log keeps in its ``redacted`` mode: every field, each scrubbed of anything
#: token-shaped (commit SHAs, of a digest's length, are kept); evidence members with secret-looking
#: names are redacted by the log itself.
LOG_FIELDS = Fields({name: kept for name in LifecycleGateInput.model_fields})

LIFECYCLE_GATE = DecisionPoint(
    name="lifecycle_gate",
    description="An application version at a stage gate: may it pass?",
    input_model=LifecycleGateInput,
    log_fields=LOG_FIELDS,
)
