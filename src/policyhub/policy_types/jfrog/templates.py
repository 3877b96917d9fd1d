"""JFrog Unified Policy templates (Rego + typed parameters) and rules (template + parameter values).

These are not policy types: the JFrog API layer calls :func:`validate_template` and
:func:`validate_rule` on request bodies. Field paths in errors are relative to the body
(``parameters.0.name``, ``rego``). Server-owned fields (``id``, ``is_custom``, ``created_*``,
``updated_*``, ``template_name``) are dropped before validation, so a GET-modify-PUT round trip works.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from policyhub.errors import FieldError, InvalidInput
from policyhub.policy_types.jfrog.rego import rego_problems

SERVER_FIELDS = ("id", "is_custom", "created_at", "created_by", "updated_at", "updated_by", "template_name")
ParameterType = Literal["string", "bool", "int", "float", "object"]
Scanner = Literal["secrets", "sca", "exposures", "contextual_analysis", "malicious_package"]
_PARAM_NAME = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"


def _unique_scanners(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("scanners must not repeat")
    return values


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TemplateParameter(_Model):
    name: str = Field(min_length=1, max_length=100, pattern=_PARAM_NAME)
    type: ParameterType


class TemplateInput(_Model):
    """The writable fields of a template (create and full-replace update)."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=2048)
    version: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    category: Literal["security", "legal", "operational", "quality", "audit", "workflow"]
    data_source_type: Literal["evidence", "noop"]
    rego: str = Field(min_length=1, max_length=65536)
    parameters: list[TemplateParameter] = Field(default_factory=list, max_length=20)
    scanners: Annotated[list[Scanner], AfterValidator(_unique_scanners)] = Field(default_factory=list, max_length=10)


class RuleParameter(_Model):
    name: str = Field(min_length=1, max_length=100)
    value: str = Field(max_length=65536, description="always a string; parsed per the template's type")


class RuleInput(_Model):
    """The writable fields of a rule (create and full-replace update)."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=2048)
    template_id: str = Field(min_length=1, max_length=255)
    parameters: list[RuleParameter] = Field(max_length=20)


def validate_template(body: Any, *, tenant: str | None = None) -> dict[str, Any]:
    """Validate a template body; return its normalised writable fields or raise InvalidInput.

    The Rego is parsed in a sandbox worker (up to its parse budget: call this outside any transaction);
    ``tenant`` (the org) shares the workers fairly with other orgs."""
    model = _parse(TemplateInput, body)
    errors = [FieldError("rego", problem) for problem in rego_problems(model.rego, tenant=tenant)]
    seen: set[str] = set()
    for index, parameter in enumerate(model.parameters):
        if parameter.name in seen:
            errors.append(FieldError(f"parameters.{index}.name", f"duplicate parameter {parameter.name!r}"))
        seen.add(parameter.name)
    _raise(errors)
    return model.model_dump(mode="json", exclude_none=True)


def validate_rego(source: Any, field: str = "rego", *, tenant: str | None = None) -> str:
    """Check Rego source text on its own (package declared, only allowed built-ins)."""
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput.field(field, "must be non-empty Rego source text")
    _raise([FieldError(field, problem) for problem in rego_problems(source, tenant=tenant)])
    return source


def validate_rule(body: Any, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate a rule body; with the referenced ``template`` (a stored template dict), also check
    that the parameters are exactly the template's and that each value parses as its declared type.

    The caller checks that ``template_id`` exists (reference kind ``jfrog.template``).
    """
    model = _parse(RuleInput, body)
    if template is not None:
        _raise(check_rule_parameters(model.model_dump()["parameters"], template.get("parameters") or []))
    return model.model_dump(mode="json", exclude_none=True)


def check_rule_parameters(values: list[dict[str, Any]], declared: list[dict[str, Any]]) -> list[FieldError]:
    """Errors for rule parameter ``values`` ([{name, value}]) against ``declared`` ([{name, type}])."""
    items = declared if isinstance(declared, list) else []
    types = {str(p.get("name")): str(p.get("type")) for p in items if isinstance(p, dict)}
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, item in enumerate(values):
        name, value = item["name"], item["value"]
        if name in seen:
            errors.append(FieldError(f"parameters.{index}.name", f"duplicate parameter {name!r}"))
        elif name not in types:
            known = ", ".join(sorted(types)) or "none"
            errors.append(
                FieldError(f"parameters.{index}.name", f"the template has no parameter {name!r} (declared: {known})")
            )
        elif (problem := _value_problem(value, types[name])) is not None:
            errors.append(FieldError(f"parameters.{index}.value", problem))
        seen.add(name)
    for name in types:
        if name not in seen:
            errors.append(FieldError("parameters", f"missing a value for template parameter {name!r}"))
    return errors


def _value_problem(value: str, declared_type: str) -> str | None:
    if declared_type == "bool" and value not in ("true", "false"):
        return "must be 'true' or 'false' (bool parameter)"
    if declared_type == "int" and not re.fullmatch(r"-?\d{1,19}", value):
        return "must be an integer (int parameter)"
    if declared_type == "float":
        try:
            if not math.isfinite(float(value)) or len(value) > 64:
                raise ValueError
        except ValueError:
            return "must be a finite number (float parameter)"
    if declared_type == "object":
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            parsed = None
        if not isinstance(parsed, dict):
            return "must be a JSON object (object parameter)"
    return None


_Parsed = TypeVar("_Parsed", bound=_Model)


def _parse(model: type[_Parsed], body: Any) -> _Parsed:
    if not isinstance(body, dict):
        raise InvalidInput.field("body", "must be a JSON object")
    data = {k: v for k, v in body.items() if k not in SERVER_FIELDS}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(p) for p in err["loc"]) or "body", _message(err))
            for err in exc.errors(include_url=False)
        ]
        _raise(errors)
        raise  # unreachable: errors is never empty here


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "field required"
    return str(err["msg"]).removeprefix("Value error, ")


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors[:5]), errors)
