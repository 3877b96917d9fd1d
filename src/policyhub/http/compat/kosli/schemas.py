"""Kosli's wire models (``/api/v2``): what clients send and receive, as the Kosli OpenAPI document names them.

Request models reject unknown keys (Kosli's ``additionalProperties: false``) and are strict about
types. Response models mirror the component schemas of ``PUT /policies/{org}`` (``PolicyResponse``,
``VersionedPolicy``, ``PolicyEvent``, the error models). Environment shapes follow the Kosli
catalog's ``CreateEnvironmentPutInput``/``UpdateEnvironmentPatchInput``; the environment response is
ours (Kosli documents no model for it). Names carry a ``Kosli`` prefix so that they never collide
with another dialect's models in ``/openapi.json``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Kosli's name rule for policies (``PolicyPutInput.name``).
POLICY_NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9\-_\.~]*$"
#: Kosli's name rule for environments (``CreateEnvironmentPutInput.name``).
ENV_NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9\.\-_]*$"
ENV_TYPES = ("K8S", "ECS", "S3", "lambda", "server", "docker", "azure-apps", "cloud-run", "logical")
EnvType = Literal["K8S", "ECS", "S3", "lambda", "server", "docker", "azure-apps", "cloud-run", "logical"]
EVENT_TYPES = ("creation", "metadata_update", "new_version", "renaming", "archiving")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# -- policies ------------------------------------------------------------------------------------
class KosliPolicyPutInput(_Input):
    """The ``payload`` form field of ``PUT /policies/{org}``: the policy's metadata as JSON."""

    name: str = Field(pattern=POLICY_NAME_PATTERN, max_length=128, examples=["production-policy"])
    description: str = Field(default="", examples=["some description"])
    type: Literal["env"] = "env"
    comment: str = Field(default="", examples=["describe what you changed"])


class KosliVersionedPolicy(BaseModel):
    """One immutable version: the YAML exactly as uploaded."""

    model_config = ConfigDict(extra="forbid")

    version: int
    comment: str = ""
    timestamp: float = Field(description="unix seconds")
    created_by: str
    policy_yaml: str


class KosliPolicyEvent(BaseModel):
    """One audit event of the policy."""

    type: Literal["creation", "metadata_update", "new_version", "renaming", "archiving"]
    timestamp: float = Field(description="unix seconds")
    user: str
    data: dict[str, Any] = Field(default_factory=dict)


class KosliPolicyResponse(BaseModel):
    """A policy as ``GET``/``PUT /policies/{org}...`` return it (Kosli's ``PolicyResponse``)."""

    name: str
    description: str
    created_by: str
    created_at: float | None = Field(default=None, description="unix seconds")
    last_modified_at: float | None = Field(default=None, description="unix seconds")
    archived: bool = False
    versions: list[KosliVersionedPolicy] = Field(default_factory=list, description="oldest first")
    events: list[KosliPolicyEvent] = Field(default_factory=list)
    consuming_envs: list[str] = Field(default_factory=list, description="environments the policy is attached to")


# -- errors --------------------------------------------------------------------------------------
class KosliErrorResponse(BaseModel):
    """Every error under ``/api/v2``: a message, and for validation errors the message per field."""

    message: str = Field(description="Error message")
    errors: dict[str, str] | None = Field(default=None, description="Validation errors by field")


# -- environments --------------------------------------------------------------------------------
class KosliEnvironmentPutInput(_Input):
    """``PUT /environments/{org}``: create an environment, or update it (``null`` keeps a value)."""

    name: str = Field(pattern=ENV_NAME_PATTERN, max_length=128)
    type: EnvType
    description: str = Field(max_length=4096)
    include_scaling: bool | None = None
    require_provenance: bool | None = None
    included_environments: list[str] | None = Field(default=None, description="logical environments only")
    policies: list[str] | None = Field(default=None, description="replaces the attached policies; null keeps them")


class KosliEnvironmentPatchInput(_Input):
    """``PATCH /environments/{org}/{env_name}``: only the fields present change."""

    description: str | None = Field(default=None, max_length=4096)
    include_scaling: bool | None = None
    included_environments: list[str] | None = None
    policies: list[str] | None = None


class KosliAttachPoliciesInput(_Input):
    """``POST``/``DELETE /environments/{org}/{env_name}/policies`` (Kosli's ``AttachPoliciesPutInput``)."""

    policy_names: list[str] = Field(description="List of policy names to attach/detach", max_length=1000)


#: Tag keys and values (``PATCH /tags/{org}/environment/{env}``): bounded like other short strings.
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 1024
TAGS_MAX = 100


class KosliTagsPatchInput(_Input):
    """``PATCH /tags/{org}/{resource_type}/{resource_id}`` (the CLI's and Terraform's ``TagResourcePayload``)."""

    set_tags: dict[str, str] | None = Field(default=None, description="tags to add or update: key -> value")
    remove_tags: list[str] | None = Field(default=None, description="keys of tags to remove")


class KosliEnvironmentResponse(BaseModel):
    """An environment as the Kosli CLI and Terraform provider read it (``kosli get environment`` reads
    ``tags`` as an object, ``state`` and ``last_reported_at`` as nullable). There are no snapshots here,
    so ``state`` and ``last_reported_at`` are always ``null``."""

    org: str
    name: str
    type: str
    description: str
    include_scaling: bool
    require_provenance: bool
    included_environments: list[str]
    policies: list[str]
    tags: dict[str, str] = Field(default_factory=dict, description="{} when none")
    state: bool | None = Field(default=None, description="compliance of the latest snapshot; no snapshots here")
    last_reported_at: float | None = Field(default=None, description="unix seconds; no snapshots here")
    archived: bool = False
    created_by: str
    created_at: float
    last_modified_at: float


class KosliEnvironmentPage(BaseModel):
    """The environment list when ``page`` or ``per_page`` is given (the CLI's ``paginatedEnvsResponse``)."""

    page: int
    per_page: int
    total_pages: int
    total_count: int
    environments: list[KosliEnvironmentResponse]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": KosliErrorResponse, "description": "Validation Error"},
    401: {"model": KosliErrorResponse, "description": "Missing or invalid API key"},
    403: {"model": KosliErrorResponse, "description": "The key's role does not allow this"},
    404: {"model": KosliErrorResponse, "description": "No such organization, policy or environment"},
}
