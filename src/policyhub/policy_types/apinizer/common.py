"""Shared Apinizer structures: VariableDTO, PolicyConditionDTO and the common policy fields.

Models check shapes and enums; ``problems(path)`` methods check cross-field rules and return
:class:`FieldError` s with exact dotted paths (``spec.policyCondition.conditionRuleList.0.secondValue``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from policyhub.errors import FieldError, InvalidInput
from policyhub.sandbox.regex import PatternBudget, pattern_problem

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MAX_CONDITION_DEPTH = 10
MAX_CONDITION_RULES = 200
#: ``{name}`` placeholders in a ``paramPath``: matching costs the path's length times their number.
MAX_PATH_PLACEHOLDERS = 32

Int32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
PositiveInt32 = Annotated[int, Field(ge=1, le=INT32_MAX)]
Long = Annotated[int, Field(ge=0, le=INT64_MAX)]
Text = Annotated[str, Field(max_length=4096)]
Name = Annotated[str, Field(min_length=1, max_length=1024)]
Script = Annotated[str, Field(min_length=1, max_length=1024 * 1024)]
ScriptLanguage = Literal["GROOVY", "JAVASCRIPT"]
Operator = Literal[
    "LT", "LE", "GT", "GE", "EQ", "NE", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "NOT_CONTAINS",
    "IS_EMPTY", "IS_NOT_EMPTY", "IS_EXISTS", "IS_NOT_EXISTS", "IN", "NOT_IN",
]  # fmt: skip
UNARY_OPERATORS = frozenset({"IS_EMPTY", "IS_NOT_EMPTY", "IS_EXISTS", "IS_NOT_EXISTS"})
STRING_OPERATORS = frozenset({"STARTS_WITH", "ENDS_WITH", "CONTAINS", "NOT_CONTAINS"})
# Per-type pages spell some enum values differently from the enum reference; accept and canonicalise.
_VARIABLE_TYPE_ALIASES = {"CONTEXT": "CONTEXT_VALUES"}
_DATA_TYPE_ALIASES = {"NUMBER": "NUMERIC"}


def _alias(table: dict[str, str]) -> BeforeValidator:
    return BeforeValidator(lambda v: table.get(v, v) if isinstance(v, str) else v)


def _scalar_to_text(value: Any) -> Any:
    """Apinizer's DTO holds ``secondValue`` as a string; Jackson coerces JSON numbers to text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def raise_problems(errors: list[FieldError]) -> None:
    """Raise InvalidInput listing ``errors`` (no-op when empty)."""
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors[:5]), errors)


class ApinizerModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    def problems(self, path: str) -> list[FieldError]:
        """Cross-field errors for this object located at ``path``."""
        return []


class Variable(ApinizerModel):
    """VariableDTO: where a value comes from (header, parameter, body, context value, script)."""

    id: Name | None = None
    projectId: Name | None = None
    name: Name | None = None
    description: Text | None = None
    type: Annotated[
        Literal["HEADER", "PARAMETER", "BODY", "CONTEXT_VALUES", "CUSTOM", "SCRIPT"],
        _alias(_VARIABLE_TYPE_ALIASES),
    ]
    headerName: Name | None = None
    paramType: Literal["QUERY", "PATH", "FORM"] | None = None
    paramName: Name | None = None
    paramPath: Name | None = None
    formName: Name | None = None
    messageContentType: Literal["JSON", "XML", "FORM"] | None = None
    jsonPathValue: Text | None = None
    xpathValue: Text | None = None
    bodyJsonPath: Text | None = None
    bodyXPath: Text | None = None
    contextValue: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")] | None = None
    zoneId: Annotated[str, Field(max_length=64)] | None = None
    initWithScript: bool | None = None
    scriptLanguage: ScriptLanguage | None = None
    scriptBody: Script | None = None

    def problems(self, path: str) -> list[FieldError]:
        errors: list[FieldError] = []

        def need(field: str, why: str) -> None:
            if getattr(self, field) is None:
                errors.append(FieldError(f"{path}.{field}", f"required {why}"))

        if self.type == "HEADER":
            need("headerName", "when type is HEADER")
        elif self.type == "PARAMETER" and self.paramPath is None:
            need("paramName", "when type is PARAMETER")
        elif self.type == "BODY" and self.messageContentType == "JSON" and self.bodyJsonPath is None:
            need("jsonPathValue", "when messageContentType is JSON")
        elif self.type == "BODY" and self.messageContentType == "XML" and self.bodyXPath is None:
            need("xpathValue", "when messageContentType is XML")
        elif self.type == "CONTEXT_VALUES":
            need("contextValue", "when type is CONTEXT_VALUES")
        if self.type == "SCRIPT" or self.initWithScript:
            need("scriptLanguage", "for a script variable")
            need("scriptBody", "for a script variable")
        if self.paramPath is not None and len(re.findall(r"\{[^{}/]+\}", self.paramPath)) > MAX_PATH_PLACEHOLDERS:
            errors.append(FieldError(f"{path}.paramPath", f"more than {MAX_PATH_PLACEHOLDERS} {{name}} placeholders"))
        return errors


class ConditionRule(ApinizerModel):
    """ConditionRuleDTO: a VALUE comparison, or AND / OR / NOT over nested rules."""

    conditionCriteria: Literal["VALUE", "NOT", "AND", "OR"]
    conditionRuleList: list[ConditionRule] | None = Field(default=None, max_length=MAX_CONDITION_RULES)
    firstVariable: Variable | None = None
    variableDataType: Annotated[Literal["STRING", "NUMERIC", "DATE", "BOOLEAN"], _alias(_DATA_TYPE_ALIASES)] | None = (
        None
    )
    dateFormat: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    valueComparisonOperator: Operator | None = None
    secondValueSource: Literal["VALUE", "VARIABLE"] | None = None
    secondValue: Annotated[Text, BeforeValidator(_scalar_to_text)] | None = None
    secondVariable: Variable | None = None

    @model_validator(mode="after")
    def _default_second_source(self) -> ConditionRule:
        binary = self.valueComparisonOperator not in UNARY_OPERATORS | {None}
        if self.conditionCriteria == "VALUE" and binary and self.secondValueSource is None:
            self.secondValueSource = "VARIABLE" if self.secondVariable is not None else "VALUE"
        return self

    def problems(self, path: str, depth: int = 1) -> list[FieldError]:
        if depth > MAX_CONDITION_DEPTH:
            return [FieldError(path, f"conditions may nest at most {MAX_CONDITION_DEPTH} levels")]
        children = self.conditionRuleList or []
        if self.conditionCriteria == "VALUE":
            errors = self._value_problems(path)
            if children:
                errors.append(FieldError(f"{path}.conditionRuleList", "only AND, OR and NOT rules nest rules"))
            return errors
        errors = []
        if self.conditionCriteria == "NOT" and len(children) != 1:
            errors.append(FieldError(f"{path}.conditionRuleList", "NOT takes exactly one nested rule"))
        elif not children:
            errors.append(FieldError(f"{path}.conditionRuleList", f"{self.conditionCriteria} needs at least one rule"))
        for index, child in enumerate(children):
            errors.extend(child.problems(f"{path}.conditionRuleList.{index}", depth + 1))
        return errors

    def _value_problems(self, path: str) -> list[FieldError]:
        errors: list[FieldError] = []
        for field in ("firstVariable", "valueComparisonOperator", "variableDataType"):
            if getattr(self, field) is None:
                errors.append(FieldError(f"{path}.{field}", "required for VALUE rules"))
        if self.firstVariable is not None:
            errors.extend(self.firstVariable.problems(f"{path}.firstVariable"))
        if self.variableDataType == "DATE" and self.dateFormat is None:
            errors.append(FieldError(f"{path}.dateFormat", "required when variableDataType is DATE"))
        op = self.valueComparisonOperator
        if op in STRING_OPERATORS and self.variableDataType not in ("STRING", None):
            errors.append(FieldError(f"{path}.valueComparisonOperator", f"{op} works on STRING values only"))
        if op is None or op in UNARY_OPERATORS:
            return errors
        if self.secondValueSource == "VARIABLE":
            if self.secondVariable is None:
                errors.append(FieldError(f"{path}.secondVariable", "required when secondValueSource is VARIABLE"))
            else:
                errors.extend(self.secondVariable.problems(f"{path}.secondVariable"))
        elif self.secondValue is None:
            errors.append(FieldError(f"{path}.secondValue", "required when secondValueSource is VALUE"))
        elif (
            self.variableDataType == "NUMERIC"
            and op not in ("IN", "NOT_IN")
            and not re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", self.secondValue)
        ):
            errors.append(FieldError(f"{path}.secondValue", "must be a number for NUMERIC comparisons"))
        return errors


class PolicyCondition(ApinizerModel):
    """PolicyConditionDTO: the policy runs only when its rules hold (an empty list always holds)."""

    conditionRuleList: list[ConditionRule] = Field(default_factory=list, max_length=MAX_CONDITION_RULES)

    def problems(self, path: str) -> list[FieldError]:
        errors: list[FieldError] = []
        for index, rule in enumerate(self.conditionRuleList):
            errors.extend(rule.problems(f"{path}.conditionRuleList.{index}"))
        return errors


class PolicySpec(ApinizerModel):
    """The fields every Apinizer policy has (``type`` is the PolicyHub type; ``name`` is the path's)."""

    description: Text | None = None
    active: bool = True
    policyCondition: PolicyCondition | None = None
    errorMessageList: list[dict[str, Any]] = Field(default_factory=list, max_length=100)

    def problems(self, path: str) -> list[FieldError]:
        if self.policyCondition is None:
            return []
        return self.policyCondition.problems(f"{path}.policyCondition")


def variable_problems(variable: Variable | None, path: str) -> list[FieldError]:
    return [] if variable is None else variable.problems(path)


def regex_problem(pattern: str, budget: PatternBudget | None = None) -> str | None:
    """Why ``pattern`` cannot be used: RE2 runs Java's ``matches()`` patterns in linear time, except those
    needing backtracking (backreferences, lookarounds, possessive quantifiers), which are refused; the
    patterns of one policy share a ``budget`` of compiled size."""
    return pattern_problem(pattern) if budget is None else budget.problem(pattern)
