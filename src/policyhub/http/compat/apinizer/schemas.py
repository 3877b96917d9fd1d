"""Apinizer API Ops wire shapes: the ``{operationMetadata, policy}`` envelope, responses, management bodies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from policyhub.policy_types.apinizer import apinizer_type_names

INT32_MAX = 2**31 - 1
HttpMethod = Literal["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "ALL"]
TargetScope = Literal["ALL", "ENDPOINT"]
Pipeline = Literal["REQUEST", "RESPONSE", "ERROR"]
EndpointPath = Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^/[^\s]*$")]
EnvironmentName = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9\-_.~]*$")]
Text = Annotated[str, Field(max_length=4096)]
TYPE_NAMES: list[JsonValue] = [*apinizer_type_names()]


class Wire(BaseModel):
    """Apinizer rejects unknown fields and coerces nothing."""

    model_config = ConfigDict(extra="forbid", strict=True)


# -- policy operations -------------------------------------------------------------------------------
class OperationMetadata(Wire):
    """Where the policy goes (scope, endpoint, pipeline, 1-based order) and whether to deploy after."""

    targetScope: TargetScope
    targetEndpoint: EndpointPath | None = Field(default=None, description="required when targetScope=ENDPOINT")
    targetEndpointHTTPMethod: HttpMethod | None = Field(default=None, description="required when targetScope=ENDPOINT")
    targetPipeline: Pipeline
    deploy: bool = True
    deployTargetEnvironmentNameList: list[EnvironmentName] = Field(default_factory=list, max_length=100)
    order: int | None = Field(
        default=None,
        description="1-based position; null keeps the position (update) or appends (add); >= list size: the end",
    )

    @field_validator("order")
    @classmethod
    def _order_from_one(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= INT32_MAX:
            raise ValueError(f"Invalid order value ({value}): order starts from 1")
        return value


class ApinizerPolicy(BaseModel):
    """The policy object: ``type`` picks the policy type; every other field is the type's own
    (``description``, ``active``, ``policyCondition``, ``errorMessageList`` and the per-type fields),
    validated by the type's plugin. ``name`` is ignored: the name is the path's."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(json_schema_extra={"enum": TYPE_NAMES})


class PolicyEnvelope(Wire):
    """Body of Add and Update Policy."""

    operationMetadata: OperationMetadata
    policy: ApinizerPolicy


class DeleteEnvelope(Wire):
    """Body of Delete Policy: which list (scope, endpoint, pipeline) to remove the policy from."""

    operationMetadata: OperationMetadata


class DeploymentDetail(BaseModel):
    envName: str
    podName: str
    podIp: str
    success: bool
    responseTime: int


class DeploymentResult(BaseModel):
    success: bool
    responseTime: int
    detailList: list[DeploymentDetail]


class StatusOut(BaseModel):
    status: Literal["SUCCESS", "FAILURE"]
    deploymentResult: DeploymentResult | None = Field(default=None, description="present when deploy is true")


class EndpointPolicies(BaseModel):
    endpoint: str
    httpMethod: HttpMethod
    active: bool
    requestPolicyList: list[ApinizerPolicy]
    responsePolicyList: list[ApinizerPolicy]
    errorPolicyList: list[ApinizerPolicy]


class ProxyPolicies(BaseModel):
    name: str
    type: Literal["REST", "SOAP"]
    relativePath: str
    soapToRest: bool
    requestPolicyList: list[ApinizerPolicy]
    responsePolicyList: list[ApinizerPolicy]
    errorPolicyList: list[ApinizerPolicy]
    endpointList: list[EndpointPolicies]


class PolicyListOut(BaseModel):
    status: Literal["SUCCESS"]
    resultList: list[ProxyPolicies]
    resultCount: int


class ErrorOut(BaseModel):
    error: str
    error_description: str
    validation_errors: list[dict[str, str]] | None = None


# -- management: projects, API proxies, environments ---------------------------------------------------
class ProjectIn(Wire):
    name: str = Field(min_length=1, max_length=128)
    description: Text = ""


class ProjectOut(BaseModel):
    id: str
    name: str
    description: str


class EndpointIn(Wire):
    endpoint: EndpointPath
    httpMethod: HttpMethod
    active: bool = True


class ApiProxyIn(Wire):
    name: str = Field(min_length=1, max_length=128)
    description: Text = ""
    type: Literal["REST", "SOAP"] = "REST"
    relativePath: EndpointPath | None = Field(default=None, description="default: '/' + name")
    endpointList: list[EndpointIn] = Field(default_factory=list, max_length=1000)


class ApiProxyOut(BaseModel):
    id: str
    name: str
    projectName: str
    description: str
    type: Literal["REST", "SOAP"]
    relativePath: str
    endpointList: list[EndpointIn]
    soapToRest: bool = Field(description="always false: PolicyHub has no SOAP/REST transformation")


class ClientRoute(BaseModel):
    relativePathList: list[str]
    virtualHostList: list[str]


class Routing(BaseModel):
    routingEnabled: bool
    routingAddressList: list[dict[str, JsonValue]]


class ApiProxyDetail(BaseModel):
    """Get API Proxy (not wrapped); fields after ``deploymentList`` are PolicyHub's."""

    name: str
    description: str
    apiType: Literal["REST", "SOAP"]
    categoryList: list[str]
    sharingType: Literal["PROJECT", "ORGANIZATION", "PUBLIC"]
    clientRoute: ClientRoute
    routing: Routing = Field(description="PolicyHub routes no traffic: off, no addresses")
    deploymentList: list[dict[str, JsonValue]] = Field(description="PolicyHub records no gateway deployments: []")
    id: str
    projectName: str
    relativePath: str
    soapToRest: bool
    endpointList: list[EndpointIn]


class EndpointOut(BaseModel):
    id: str = Field(description="derived from the proxy, method and path (stable)")
    endpoint: str
    description: str
    active: bool
    httpMethod: HttpMethod
    backendResourceUrl: str = Field(description="the endpoint's own path: PolicyHub forwards nothing")
    backendHttpMethod: HttpMethod


class EndpointList(BaseModel):
    success: bool
    resultList: list[EndpointOut]
    resultCount: int


class EnvironmentIn(Wire):
    name: EnvironmentName
    description: Text = ""
    type: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="shown as the environment's type (the docs show KUBERNETES, DOCKER...)"
    )
    accessUrl: Annotated[str, Field(max_length=2048)] = ""


class EnvironmentOut(BaseModel):
    name: str
    description: str
    type: str | None
    status: Literal["PUBLISHED", "UNPUBLISHED", "REPUBLISH_REQUIRED"]
    accessUrl: str
    deployed: bool | None
    redeployRequired: bool | None
    id: str
    createdAt: str
    createdBy: str


class ProjectList(BaseModel):
    status: Literal["SUCCESS"]
    resultList: list[ProjectOut]
    resultCount: int


class ApiProxyList(BaseModel):
    status: Literal["SUCCESS"]
    resultList: list[ApiProxyOut]
    resultCount: int


class EnvironmentList(BaseModel):
    success: bool
    resultList: list[EnvironmentOut]
    resultCount: int
