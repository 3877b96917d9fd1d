"""``rego``: a generic Rego policy (a module plus an optional data document), decided at point ``authzen``.

The module declares a package and an ``allow`` rule (a boolean: the decision); it may also define
``reasons`` (strings, a set or an array: why), ``obligations`` (objects: what the enforcement point must
do, passed on as AuthZEN obligations) and ``applicable`` (a boolean; false: the policy abstains). The
Rego input is the AuthZEN request: ``input.subject``, ``input.resource``, ``input.action``,
``input.context``; ``spec.data`` is available as ``data`` (beside the package's own rules).

The same bounds as the JFrog templates (:mod:`policyhub.policy_types.jfrog.rego`): size caps before
parsing, the parse and each evaluation in a sandbox worker process with a CPU-time and memory budget
(``POLICYHUB_REGO_*``), and only JFrog's allow-list of built-ins (no ``http.send``, no ``opa.runtime``,
no time, randomness, network, environment or file I/O). Checked when written: a syntax error is a 400
naming ``spec.module`` with the engine's line and column.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from policyhub.errors import FieldError, InvalidInput, Unavailable
from policyhub.evaluation.compiled import CompiledPolicy, Evaluation
from policyhub.evaluation.inputs.authzen import AuthzenInput, EntityKind
from policyhub.evaluation.limits import DeadlineExceeded
from policyhub.evaluation.outcome import Outcome
from policyhub.policy_types.access_rules.directory import Directory, known
from policyhub.policy_types.base import ModelPolicyType, ValidationContext
from policyhub.policy_types.jfrog.rego import disallowed_rego_calls
from policyhub.sandbox.rego import (
    RegoBudgetExceeded,
    RegoDeadline,
    RegoError,
    RegoInfo,
    RegoInvalid,
    RegoModule,
    RegoUnavailable,
    sandbox,
)

if TYPE_CHECKING:
    from policyhub.domain.records import Policy
    from policyhub.evaluation.compiled import Resources

MODULE_NAME = "policy.rego"
ENTRY_RULE = "allow"
MAX_REASONS = 20
MAX_OBLIGATIONS = 20
_PACKAGE = re.compile(r"^\s*package\s+[A-Za-z_][\w.]*", re.MULTILINE)
_STRIP = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`|#[^\n]*')


class RegoSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    module: StrictStr = Field(min_length=1, description="the Rego module (v1, or v0 if it only reads as v0)")
    data: dict[str, Any] | None = Field(default=None, description="a data document the module reads as data")
    entities: Directory | None = Field(default=None, description="the entities an AuthZEN search may return")


def _module(spec: dict[str, Any]) -> RegoModule:
    return sandbox().module({MODULE_NAME: spec["module"]}, spec.get("data"), probe=(ENTRY_RULE,))


def module_problems(source: str, data: dict[str, Any] | None) -> list[FieldError]:
    """What is wrong with a module (and its data), as field errors; empty when it may be stored.
    Raises Unavailable (503) when no sandbox worker could take the parse."""
    try:
        module = sandbox().module({MODULE_NAME: source}, probe=(ENTRY_RULE,))
    except RegoInvalid as exc:
        return [FieldError("spec.module", str(exc))]
    if data is not None:
        try:
            orjson.dumps(data)
        except (TypeError, orjson.JSONEncodeError) as exc:
            return [FieldError("spec.data", f"is not plain JSON the Rego engine can read: {exc}")]
        try:
            sandbox().module({MODULE_NAME: source}, data)
        except RegoInvalid as exc:
            return [FieldError("spec.data", str(exc))]
    if not _PACKAGE.search(_STRIP.sub(" ", source)):
        return [FieldError("spec.module", "must declare a package (e.g. 'package authz')")]
    try:
        info = sandbox().check(module)
    except RegoBudgetExceeded as exc:
        return [FieldError("spec.module", f"could not be parsed within its budget: {exc}")]
    except RegoUnavailable as exc:
        raise Unavailable(str(exc)) from None
    except RegoError as exc:
        return [FieldError("spec.module", f"is not valid Rego: {exc}")]
    problems: list[FieldError] = []
    if _entry(info) is None:
        problems.append(FieldError("spec.module", f"must define an {ENTRY_RULE!r} rule (the decision, a boolean)"))
    bad = disallowed_rego_calls(source)
    if bad:
        problems.append(
            FieldError(
                "spec.module",
                "uses functions that are not allowed: " + ", ".join(bad) + " (network, environment, time, "
                "random and other non-deterministic built-ins are not allowed)",
            )
        )
    return problems


def _entry(info: RegoInfo) -> str | None:
    package = info.packages[0] if info.packages else "data"
    return package if f"{package}.{ENTRY_RULE}" in info.rules else None


class RegoType(ModelPolicyType):
    """A Rego module deciding AuthZEN requests (``allow``, optional ``reasons`` and ``obligations``)."""

    name = "rego"
    title = "Rego policy"
    description = (
        "A Rego module (and optional data document) evaluated on the AuthZEN request at point authzen: "
        "allow is the decision; reasons and obligations are optional."
    )
    spec_model = RegoSpec
    decision_point = "authzen"

    def check(self, model: Any, ctx: ValidationContext) -> Iterable[tuple[str, str]]:
        spec: RegoSpec = model
        errors = module_problems(spec.module, spec.data)
        if errors:
            raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
        return ()

    def compile(self, policy: Policy, resources: Resources) -> CompiledPolicy:
        return CompiledRegoPolicy(policy)


def entry_query(package: str) -> str:
    """The query that reads the package's decision. Sets become arrays in Rego itself (regorus cannot hand
    a set of objects to Python), in their sorted order; each part is optional but ``allow``."""
    parts = {
        "allow": f'object.get({package}, "allow", null)',
        "applicable": f'object.get({package}, "applicable", null)',
        "reasons": f'[x | x := object.get({package}, "reasons", [])[_]]',
        "obligations": f'[x | x := object.get({package}, "obligations", [])[_]]',
    }
    return "__policyhub := {" + ", ".join(f'"{k}": {v}' for k, v in parts.items()) + "}"


class CompiledRegoPolicy(CompiledPolicy):
    """The module, loaded into the sandbox workers on first use; evaluates ``data.<package>`` whole."""

    uses = frozenset({"sandbox"})

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.spec = policy.spec
        self.module = _module(policy.spec)  # the size caps: a module they refuse does not compile
        self._query: str | None = None
        with contextlib.suppress(RegoBudgetExceeded, RegoUnavailable):  # overload: tried again when evaluated
            self._entry_query(None, None)

    def _entry_query(self, tenant: str | None, deadline: float | None) -> str:
        if self._query is None:
            package = _entry(sandbox().check(self.module, tenant=tenant, deadline=deadline))
            if package is None:
                raise RegoError(f"the module defines no {ENTRY_RULE!r} rule")
            self._query = entry_query(package)
        return self._query

    def known_entities(self, kind: EntityKind, entity_type: str | None) -> list[dict[str, Any]]:
        return known(self.spec, kind, entity_type)

    def evaluate(self, evaluation: Evaluation) -> Outcome:
        asked = cast(AuthzenInput, evaluation.input)
        tenant = evaluation.snapshot.org_id
        deadline = evaluation.deadline if evaluation.deadline != math.inf else None
        try:
            query = self._entry_query(tenant, deadline)
            defined, value = sandbox().evaluate(
                self.module, asked.document(), query=query, tenant=tenant, deadline=deadline
            )
        except RegoDeadline as exc:
            raise DeadlineExceeded(str(exc)) from None
        return read_document(value if defined else None)


def read_document(value: Any) -> Outcome:
    """The outcome from the package's document (the query's binding); raises RegoError if unusable."""
    try:
        document = value["result"][0]["bindings"]["__policyhub"]
    except (TypeError, KeyError, IndexError):
        raise RegoError("the module's package is undefined for this input") from None
    if not isinstance(document, dict):
        raise RegoError("the module's package did not evaluate to an object")
    if document.get("applicable") is False:
        return Outcome.not_applicable("the module says it does not apply")
    allow = document.get(ENTRY_RULE)
    if not isinstance(allow, bool):
        found = "undefined" if allow is None else type(allow).__name__
        raise RegoError(f"{ENTRY_RULE} must be a boolean, got {found} (give it a default)")
    reasons = document.get("reasons") or []
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise RegoError("reasons must be a set or an array of strings")
    obligations = document.get("obligations") or []
    if not isinstance(obligations, list) or not all(isinstance(o, dict) for o in obligations):
        raise RegoError("obligations must be a set or an array of objects")
    reasons = reasons[:MAX_REASONS]
    outcome = (
        Outcome.passed(*(reasons or ["allowed by the Rego module"]))
        if allow
        else Outcome.violated(*(reasons or ["denied by the Rego module"]))
    )
    outcome.obligations = list(obligations[:MAX_OBLIGATIONS])
    return outcome
