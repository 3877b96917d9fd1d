"""Pydantic model of the Kosli environment policy v1 (``_schema: .../v1``), defaults included."""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from policyhub.evaluation.inputs.environment import BUILTIN_ATTESTATION_TYPES
from policyhub.policy_types.kosli.expressions import ExpressionError, parse_template
from policyhub.sandbox.regex import PatternBudget

_CUSTOM_TYPE = re.compile(r"custom:.*", re.DOTALL)


def _expression_text(value: Any) -> Any:
    """Accept the JSON Schema's ``{"text": ...}`` form as well as a plain string."""
    if isinstance(value, dict) and set(value) == {"text"}:
        return value["text"]
    return value


#: The ``matches()`` patterns of the policy being validated share one compile budget (set around the
#: validation by :meth:`KosliEnvironmentType.normalize`; None: each pattern on its own).
PATTERN_BUDGET: ContextVar[PatternBudget | None] = ContextVar("kosli_pattern_budget", default=None)


def _check_expression(text: str) -> str:
    try:
        parse_template(text, PATTERN_BUDGET.get())
    except ExpressionError as exc:
        raise ValueError(f"invalid expression: {exc}") from None
    return text


Expression = Annotated[
    str,
    BeforeValidator(_expression_text),
    AfterValidator(_check_expression),
    Field(description='An expression such as ${{ flow.name == "prod" }}', max_length=8192),
]


def _check_schema_uri(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be a schema URI such as https://kosli.com/schemas/policy/environment/v1")
    last = parts.path.rsplit("/", 1)[-1]
    if last != "v1":
        if re.fullmatch(r"v\d+", last):
            raise ValueError(f"unsupported policy schema version {last!r}; only v1 is supported")
        raise ValueError("the schema URI must end in /v1")
    return value


def _check_attestation_type(value: str) -> str:
    if value == "pull-request":  # the docs' spelling; the schema's enum (canonical) is pull_request
        return "pull_request"
    if value in BUILTIN_ATTESTATION_TYPES or value in ("decision", "*") or _CUSTOM_TYPE.fullmatch(value):
        return value
    allowed = ", ".join((*BUILTIN_ATTESTATION_TYPES, "decision", "*", "custom:<name>"))
    raise ValueError(f"unknown attestation type {value!r}; expected one of {allowed}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)


class ConditionalRule(_Model):
    """An exception: the requirement is waived when ``if`` is true."""

    if_: Expression | None = Field(default=None, alias="if")


class BooleanRule(_Model):
    required: bool = False
    exceptions: list[ConditionalRule] = Field(default_factory=list, max_length=1000)


class AttestationRule(_Model):
    type: Annotated[str, AfterValidator(_check_attestation_type)]
    name: str = Field(default="*", min_length=1, max_length=1024)
    if_: Expression | None = Field(default=None, alias="if")
    must_be_compliant: bool = True
    for_control: str | None = Field(default=None, min_length=1, max_length=1024)


class Artifacts(_Model):
    provenance: BooleanRule = Field(default_factory=BooleanRule)
    trail_compliance: BooleanRule = Field(default_factory=BooleanRule, alias="trail-compliance")
    attestations: list[AttestationRule] = Field(default_factory=list, max_length=1000)


class EnvironmentPolicy(_Model):
    """The whole policy file."""

    schema_: Annotated[str, AfterValidator(_check_schema_uri)] = Field(alias="_schema", max_length=2048)
    artifacts: Artifacts = Field(default_factory=Artifacts)
