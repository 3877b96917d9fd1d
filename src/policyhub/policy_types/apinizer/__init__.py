"""``apinizer.<type>``: Apinizer API-proxy policies (``apinizer.policy-api-based-throttling``, ...).

The spec is Apinizer's ``policy`` object without ``type`` (that is the PolicyHub type) and without
``name`` (Apinizer ignores it; the name is the path's). Use :func:`split_apinizer_policy` to turn an
Apinizer ``policy`` body into ``(type name, spec)`` and :func:`join_apinizer_policy` for the reverse.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from policyhub.errors import InvalidInput
from policyhub.policy_types.apinizer import content, security, stored, traffic
from policyhub.policy_types.apinizer.common import PolicySpec, raise_problems
from policyhub.policy_types.base import ModelPolicyType, ValidationContext

if TYPE_CHECKING:
    from policyhub.domain.records import Policy
    from policyhub.evaluation.compiled import CompiledPolicy, Resources

APINIZER_PREFIX = "apinizer."
#: The types that take part in ``http_request`` decisions (:mod:`.evaluate`). The others transform or
#: authenticate messages inside the gateway and have no evaluator: they never make a decision deny.
EVALUATED_TYPES = frozenset(
    {"policy-api-based-throttling", "policy-api-based-quota", "policy-white-ip", "policy-black-ip"}
)

#: Apinizer type → (spec model, title).
APINIZER_TYPES: dict[str, tuple[type[PolicySpec], str]] = {
    "policy-api-based-throttling": (traffic.ThrottlingPolicy, "API based throttling"),
    "policy-api-based-quota": (traffic.QuotaPolicy, "API based quota"),
    "policy-white-ip": (traffic.IpListPolicy, "Allowed IP list"),
    "policy-black-ip": (traffic.IpListPolicy, "Blocked IP list"),
    "policy-max-message-size": (traffic.MaxMessageSizePolicy, "Maximum message size"),
    "policy-min-message-size": (traffic.MinMessageSizePolicy, "Minimum message size"),
    "policy-script": (traffic.ScriptPolicy, "Script"),
    "policy-auth-basic": (security.BasicAuthPolicy, "Basic authentication"),
    "policy-auth-digest": (security.DigestAuthPolicy, "Digest authentication"),
    "policy-auth-clear-text": (security.ClearTextAuthPolicy, "Clear-text authentication"),
    "policy-auth-mtls": (security.MtlsAuthPolicy, "Mutual TLS authentication"),
    "policy-auth-jwt": (security.JwtAuthPolicy, "JWT authentication"),
    "policy-auth-oauth2": (security.OAuth2AuthPolicy, "OAuth2 authentication"),
    "policy-saml-validation": (security.SamlValidationPolicy, "SAML validation"),
    "policy-ws-security-timestamp": (security.WsSecurityTimestampPolicy, "WS-Security timestamp"),
    "policy-ws-security-username": (security.WsSecurityUsernamePolicy, "WS-Security username token"),
    "policy-ws-security-decrypt": (security.WsSecurityDecryptPolicy, "WS-Security decrypt"),
    "policy-ws-security-sign-validation": (
        security.WsSecuritySignValidationPolicy,
        "WS-Security signature validation",
    ),
    "policy-json-transformation": (content.JsonTransformationPolicy, "JSON transformation"),
    "policy-xml-transformation": (content.XmlTransformationPolicy, "XML transformation"),
    "policy-json-schema-validation": (content.JsonSchemaValidationPolicy, "JSON schema validation"),
    "policy-xml-schema-validation": (content.XmlSchemaValidationPolicy, "XML schema validation"),
    "policy-content-filter": (content.ContentFilterPolicy, "Content filter"),
    "policy-time-restriction": (content.TimeRestrictionPolicy, "Time restriction"),
    **stored.STORED_TYPES,  # the other documented types: stored and versioned, never evaluated
}


class ApinizerType(ModelPolicyType):
    """Base of the generated ``apinizer.*`` types; ``apinizer_type`` is Apinizer's own type name."""

    apinizer_type: ClassVar[str] = ""

    def check(self, model: Any, ctx: ValidationContext) -> Iterable[tuple[str, str]]:
        raise_problems(model.problems("spec"))
        return ()

    def compile(self, policy: Policy, resources: Resources) -> CompiledPolicy:
        from policyhub.policy_types.apinizer.evaluate import compile_apinizer

        spec = self.spec_model.model_validate(policy.spec)
        assert isinstance(spec, PolicySpec)
        return compile_apinizer(self.apinizer_type, spec, policy)


def _make_type(apinizer_type: str, spec_model: type[PolicySpec], title: str) -> type[ApinizerType]:
    doc = (spec_model.__doc__ or "").strip().split(": ", 1)[-1]
    attrs = {
        "name": APINIZER_PREFIX + apinizer_type,
        "apinizer_type": apinizer_type,
        "title": f"Apinizer {title}",
        "description": f"Apinizer {apinizer_type} policy: {doc}",
        "spec_model": spec_model,
        "decision_point": "http_request" if apinizer_type in EVALUATED_TYPES else None,
        "__doc__": f"``{APINIZER_PREFIX}{apinizer_type}``",
    }
    class_name = "Apinizer" + "".join(p.title() for p in apinizer_type.split("-")[1:]) + "Type"
    return type(class_name, (ApinizerType,), attrs)


_TYPE_CLASSES = {name: _make_type(name, model, title) for name, (model, title) in APINIZER_TYPES.items()}


def apinizer_types() -> list[ApinizerType]:
    """One instance of each supported Apinizer policy type, for the registry."""
    return [cls() for cls in _TYPE_CLASSES.values()]


def apinizer_type_names() -> list[str]:
    """Apinizer's own type names (``policy-api-based-throttling``, ...), sorted."""
    return sorted(APINIZER_TYPES)


def require_apinizer_type(name: Any) -> str:
    """The PolicyHub type name for an Apinizer ``policy.type``; unknown → InvalidInput on ``policy.type``."""
    if isinstance(name, str) and name in APINIZER_TYPES:
        return APINIZER_PREFIX + name
    if name is None:
        raise InvalidInput.field("policy.type", "field required")
    if isinstance(name, str) and name in stored.NOT_ADDABLE:
        raise InvalidInput.field("policy.type", stored.NOT_ADDABLE[name])
    supported = ", ".join(apinizer_type_names())
    raise InvalidInput.field("policy.type", f"unsupported policy type {name!r}; supported: {supported}")


def split_apinizer_policy(policy: Any) -> tuple[str, dict[str, Any]]:
    """Apinizer ``policy`` body → (PolicyHub type name, spec). Drops ``type`` and the ignored ``name``."""
    if not isinstance(policy, dict):
        raise InvalidInput.field("policy", "must be a JSON object")
    type_name = require_apinizer_type(policy.get("type"))
    return type_name, {k: v for k, v in policy.items() if k not in ("type", "name")}


def join_apinizer_policy(type_name: str, spec: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """Stored spec → Apinizer ``policy`` object (``type`` first, then ``name`` when given)."""
    head: dict[str, Any] = {"type": type_name.removeprefix(APINIZER_PREFIX)}
    if name is not None:
        head["name"] = name
    return {**head, **spec}
