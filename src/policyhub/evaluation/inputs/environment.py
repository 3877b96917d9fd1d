"""``environment``: is what runs in an environment compliant with its policies (Kosli)?

The input is an environment snapshot as Kosli knows it: each running artifact (name, SHA-256
fingerprint) with the trails it was reported in. A trail belongs to a flow (name, tags), says whether
the artifact is compliant in it, and carries the attestations made there (name, type, compliance).
An artifact with no trails has no provenance.

Selection: the policies attached to ``input.environment`` (the Kosli dialect's environments, see
:mod:`policyhub.evaluation.inputs.attachments`), in attachment order, that apply at the requested scope
(org level, the scope's ancestors and the scope itself, as for every selection: an attachment never
reaches a policy of another part of the org); an unknown environment is a 404.
Without an environment, the default selection by scope applies (the org level and the scope's
ancestors), which is what lets a request name policies regardless of attachment, like Kosli's
``assert artifact --policy``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from policyhub.domain.redaction import Fields, kept
from policyhub.errors import NotFound
from policyhub.evaluation.inputs.attachments import ENVIRONMENT_KIND, attached_policy_ids
from policyhub.evaluation.points import DecisionPoint
from policyhub.evaluation.snapshot import applies_at

if TYPE_CHECKING:
    from policyhub.evaluation.snapshot import Entry, OrgSnapshot

FINGERPRINT_PATTERN = r"^[a-f0-9]{64}$"
#: Kosli's own attestation types (a policy's rules name them too: :mod:`policyhub.policy_types.kosli.spec`).
BUILTIN_ATTESTATION_TYPES = ("generic", "junit", "snyk", "pull_request", "jira", "sonar")


def _attestation_type(value: str) -> str:
    """A concrete attestation type: built-in, ``decision`` or ``custom:<name>`` (``pull-request`` is accepted)."""
    if value == "pull-request":
        return "pull_request"
    if value in BUILTIN_ATTESTATION_TYPES or value == "decision" or (value.startswith("custom:") and len(value) > 7):
        return value
    allowed = ", ".join((*BUILTIN_ATTESTATION_TYPES, "decision", "custom:<name>"))
    raise ValueError(f"unknown attestation type {value!r}; expected one of {allowed}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EnvironmentFlow(_Strict):
    """The flow a trail belongs to: what ``flow.name`` and ``flow.tags.<key>`` read in expressions."""

    name: str = Field(min_length=1, max_length=256)
    tags: dict[str, str | int | float | bool] = Field(default_factory=dict, max_length=256)


class EnvironmentAttestation(_Strict):
    """One attestation in a trail, made for the artifact or for the trail."""

    name: str = Field(min_length=1, max_length=1024)
    type: Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_attestation_type)]
    compliant: bool
    for_control: str | None = Field(default=None, min_length=1, max_length=1024, description="decision attestations")


class EnvironmentTrail(_Strict):
    """One trail the artifact was reported in."""

    flow: EnvironmentFlow
    name: str | None = Field(default=None, max_length=1024, description="the trail's name")
    compliant: bool | None = Field(default=None, description="is the artifact compliant in this trail (null: unknown)")
    attestations: list[EnvironmentAttestation] = Field(default_factory=list, max_length=1000)


class EnvironmentArtifact(_Strict):
    """One artifact running in the environment."""

    name: str | None = Field(default=None, max_length=1024, description="what artifact.name reads")
    fingerprint: str = Field(pattern=FINGERPRINT_PATTERN, description="SHA-256, 64 lower-case hex digits")
    trails: list[EnvironmentTrail] = Field(default_factory=list, max_length=100, description="none: no provenance")


#: An example input (in the OpenAPI document, and sent to the real endpoint by the tests). It names no
#: ``environment``, so the policies at the requested scope are selected; naming one selects the policies
#: attached to it (an environment created through the Kosli API, ``PUT /api/v2/environments/{org}``).
EXAMPLE: dict[str, Any] = {
    "artifacts": [
        {
            "name": "payments-api:1.4.2",
            "fingerprint": "8f0c3bd7a4b9e4c15d2f6a1e9b3c7d5e2f4a6b8c0d1e3f5a7b9c2d4e6f8a0b1c",
            "trails": [
                {
                    "flow": {"name": "payments-ci", "tags": {"team": "payments"}},
                    "name": "main-1234",
                    "compliant": True,
                    "attestations": [{"name": "unit-tests", "type": "junit", "compliant": True}],
                }
            ],
        }
    ]
}


class EnvironmentInput(_Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})  # merged with _Strict's

    environment: str | None = Field(
        default=None, min_length=1, max_length=256, description="select the policies attached to this environment"
    )
    artifacts: list[EnvironmentArtifact] = Field(default_factory=list, max_length=10000)


@dataclass(frozen=True)
class EnvironmentPoint(DecisionPoint):
    """Selects by attachment when the input names an environment, else by scope."""

    def off_loop(self, data: Any) -> bool:
        """Kosli rules run over every artifact, trail and attestation: a large snapshot takes milliseconds
        to seconds to parse and to evaluate (up to the deadline), and compliance checks are rare next to
        gateway decisions."""
        return True

    def select(self, snapshot: OrgSnapshot, scope_path: str | None, parsed: BaseModel) -> Sequence[Entry]:
        name = getattr(parsed, "environment", None)
        if name is None:
            return snapshot.at_scope(self.name, scope_path)
        attached = attachments(snapshot, self.name).get(name)
        if attached is None:
            raise NotFound(f"environment {name!r} not found")
        return [entry for entry in attached if applies_at(entry.policy.scope_path, scope_path)]


Index = Mapping[str, tuple["Entry", ...]]
_INDEXES: weakref.WeakKeyDictionary[OrgSnapshot, dict[str, Index]] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def attachments(snapshot: OrgSnapshot, point: str) -> Index:
    """Environment name -> the snapshot's policies of ``point`` attached to it, built once per snapshot.

    The snapshot holds enabled, live policies only, so a disabled or archived policy's attachment
    selects nothing (and comes back when the policy does).
    """
    held = _INDEXES.get(snapshot)
    found = held.get(point) if held is not None else None
    if found is not None:
        return found
    index: dict[str, tuple[Entry, ...]] = {}
    for env in snapshot.resources(ENVIRONMENT_KIND):
        entries = (snapshot.entry(i) for i in attached_policy_ids(env.data))
        index[env.key] = tuple(e for e in entries if e is not None and e.point == point)
    with _INDEXES_LOCK:
        return _INDEXES.setdefault(snapshot, {}).setdefault(point, index)


#: What the decision log keeps in its ``redacted`` mode: every field, each scrubbed of anything
#: token-shaped (fingerprints, of a SHA-256's length, are kept).
LOG_FIELDS = Fields({name: kept for name in EnvironmentInput.model_fields})

ENVIRONMENT = EnvironmentPoint(
    name="environment",
    description="An environment's running artifacts: are they compliant with the policies attached to it?",
    input_model=EnvironmentInput,
    log_fields=LOG_FIELDS,
)
