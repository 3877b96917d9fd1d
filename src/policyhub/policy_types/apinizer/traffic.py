"""Apinizer traffic and access policies: throttling, quota, IP lists, message size, script."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from policyhub.errors import FieldError
from policyhub.policy_types.apinizer.common import (
    ApinizerModel,
    Long,
    PolicySpec,
    PositiveInt32,
    Script,
    ScriptLanguage,
    Variable,
    regex_problem,
    variable_problems,
)
from policyhub.sandbox.regex import PatternBudget

ThrottlingInterval = Literal["ONE_SECOND", "ONE_MINUTE", "ONE_HOUR", "ONE_DAY"]
QuotaInterval = Literal["ONE_HOUR", "ONE_DAY", "ONE_MONTH"]


def _canonical_ip(value: str) -> str:
    """An IPv4/IPv6 address or CIDR range, in canonical (compressed) form."""
    try:
        if "/" in value:
            return str(ipaddress.ip_network(value, strict=True))
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        if "host bits set" in str(exc):
            network = ipaddress.ip_network(value, strict=False)
            raise ValueError(f"{value!r} has host bits set; did you mean {network}?") from None
        raise ValueError(f"{value!r} is not an IP address or CIDR range") from None


IpEntry = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_canonical_ip)]


class _Detail(ApinizerModel):
    """A per-identity override: ``targetValue`` (literal or regex) gets its own limit."""

    targetValue: Annotated[str, Field(min_length=1, max_length=1024)]
    regexExpression: bool = False
    messageCountForInterval: PositiveInt32
    intervalPeriodLength: PositiveInt32 = 1

    def problems(self, path: str, budget: PatternBudget | None = None) -> list[FieldError]:
        problem = regex_problem(self.targetValue, budget) if self.regexExpression else None
        return [FieldError(f"{path}.targetValue", problem)] if problem else []


class ThrottlingDetail(_Detail):
    quotaInterval: ThrottlingInterval


class QuotaDetail(_Detail):
    quotaInterval: QuotaInterval


class _RateLimit(PolicySpec):
    targetVariableForIdentity: Variable
    messageCountForInterval: PositiveInt32
    intervalPeriodLength: PositiveInt32 = 1
    intervalWindowType: Literal["FIXED", "SLIDING"] = "FIXED"
    cacheConnectionTimeoutInSeconds: PositiveInt32 = 3
    showRateLimitStatisticsInResponseHeader: bool = False

    def problems(self, path: str) -> list[FieldError]:
        errors = super().problems(path)
        errors += self.targetVariableForIdentity.problems(f"{path}.targetVariableForIdentity")
        budget = PatternBudget()  # the detailList's patterns together; the first entry over it is named
        for index, detail in enumerate(getattr(self, "detailList", [])):
            errors += detail.problems(f"{path}.detailList.{index}", budget)
            if budget.left < 0:
                break
        return errors


class ThrottlingPolicy(_RateLimit):
    """policy-api-based-throttling: N messages per interval per identity."""

    throttlingInterval: ThrottlingInterval
    cacheErrorHandlingType: Literal["FAIL", "ALLOW"] = "FAIL"
    detailList: list[ThrottlingDetail] = Field(default_factory=list, max_length=1000)


class QuotaPolicy(_RateLimit):
    """policy-api-based-quota: N messages per hour/day/month per identity."""

    quotaInterval: QuotaInterval
    cacheErrorHandlingType: Literal["FAIL", "CONTINUE"] = "FAIL"
    detailList: list[QuotaDetail] = Field(default_factory=list, max_length=1000)


class IpListPolicy(PolicySpec):
    """policy-white-ip / policy-black-ip: IPs and CIDR ranges; the client IP comes from the variable."""

    targetVariableForIP: Variable | None = None
    ipList: list[IpEntry] = Field(min_length=1, max_length=10000)

    def problems(self, path: str) -> list[FieldError]:
        return super().problems(path) + variable_problems(self.targetVariableForIP, f"{path}.targetVariableForIP")


class MaxMessageSizePolicy(PolicySpec):
    """policy-max-message-size: reject bodies larger than ``maxMessageSize`` bytes."""

    maxMessageSize: Annotated[Long, Field(ge=1)]


class MinMessageSizePolicy(PolicySpec):
    """policy-min-message-size: reject bodies smaller than ``minMessageSize`` bytes."""

    minMessageSize: Long


class ScriptPolicy(PolicySpec):
    """policy-script: run a Groovy or JavaScript script in the pipeline."""

    executionType: Literal["SYNC", "ASYNC"] | None = None
    scriptLanguage: ScriptLanguage
    scriptBody: Script
