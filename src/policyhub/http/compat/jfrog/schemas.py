"""Wire models of the JFrog Unified Policy API. Request models reject unknown fields (400).

Names carry a ``JFrog`` prefix so they cannot collide with other faces' models in ``/openapi.json``.
Rule and template bodies are validated by the policy type's own models (``RuleInput``,
``TemplateInput``); the subclasses here only give them their wire names.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from policyhub.policy_types.jfrog import RuleInput, TemplateInput

Key = Annotated[str, Field(min_length=1, max_length=255)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class JFrogStage(_In):
    key: Key = Field(description="lifecycle stage key, e.g. qa or production")
    gate: Literal["entry", "exit", "release"]


class JFrogAction(_In):
    type: Literal["certify_to_gate", "use_skill"]
    stage: JFrogStage | None = Field(default=None, description="required for certify_to_gate, absent for use_skill")


class JFrogApplicationLabel(_In):
    key: Key
    value: str = Field(max_length=255)


class JFrogScope(_In):
    type: Literal["project", "application"]
    project_keys: list[Key] | None = Field(default=None, description="exactly one key for project scope")
    application_keys: list[Key] | None = None
    application_labels: list[JFrogApplicationLabel] | None = None


class JFrogPolicyIn(_In):
    """Create and full-replace body. Read-only fields (``id``, ``created_*``, ``updated_*``) may be echoed."""

    name: str = Field(min_length=1, max_length=255, description="unique among the org's lifecycle policies")
    description: str | None = Field(default=None, max_length=2048)
    enabled: bool
    mode: Literal["block", "warning"]
    action: JFrogAction
    scope: JFrogScope
    rule_ids: list[Key] = Field(description="exactly one rule id (one rule per policy)")
    waiver_request_config: JsonValue = Field(default=None, description="stored and returned as sent; not evaluated")


class JFrogRuleSummary(BaseModel):
    id: str
    name: str | None = None
    template_id: str | None = None
    template: JFrogTemplateSummary | None = None


class JFrogPolicyOut(BaseModel):
    id: str
    name: str
    description: str | None = None
    enabled: bool
    mode: Literal["block", "warning"]
    action: JFrogAction
    scope: JFrogScope
    rule_ids: list[str]
    waiver_request_config: JsonValue = Field(default=None, description="as last sent, when set")
    rules: list[JFrogRuleSummary] | None = Field(default=None, description="only with expand=rules")
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str


class _Page(BaseModel):
    offset: int
    limit: int
    page_size: int
    total_count: int


class JFrogPolicyList(_Page):
    items: list[JFrogPolicyOut]


class JFrogRuleIn(RuleInput):
    """Create and full-replace body of a rule (``is_custom`` and read-only fields may be echoed)."""


class JFrogRuleParameterOut(BaseModel):
    name: str
    value: str


class JFrogTemplateSummary(BaseModel):
    id: str
    name: str
    version: str
    category: str
    data_source_type: str
    scanners: list[str]


class JFrogRuleOut(BaseModel):
    id: str
    name: str
    description: str | None = None
    is_custom: bool
    template_id: str
    template_name: str | None = None
    template: JFrogTemplateSummary | None = Field(default=None, description="only with expand=template")
    parameters: list[JFrogRuleParameterOut]
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str


class JFrogRuleList(_Page):
    items: list[JFrogRuleOut]


class JFrogTemplateIn(TemplateInput):
    """Create and full-replace body of a template (read-only fields may be echoed)."""


class JFrogTemplateParameterOut(BaseModel):
    name: str
    type: str


class JFrogTemplateOut(BaseModel):
    id: str
    name: str
    description: str | None = None
    version: str
    category: str
    data_source_type: str
    rego: str
    parameters: list[JFrogTemplateParameterOut]
    scanners: list[str]
    is_custom: bool
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str


class JFrogTemplateList(_Page):
    items: list[JFrogTemplateOut]


class JFrogError(BaseModel):
    code: str = Field(description="BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, ...")
    message: str
    field: str | None = None


class JFrogErrors(BaseModel):
    errors: list[JFrogError]
