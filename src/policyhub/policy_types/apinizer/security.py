"""Apinizer authentication and message-security policies (Appendix A field tables)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from policyhub.errors import FieldError
from policyhub.policy_types.apinizer.common import Int32, Long, Name, PolicySpec, Variable, variable_problems

TimeUnit = Literal["MILLI_SECONDS", "SECONDS", "MINUTES", "HOURS", "DAYS", "WEEKS", "MONTHS", "YEARS"]


def _need(spec: object, path: str, fields: tuple[str, ...], why: str) -> list[FieldError]:
    return [FieldError(f"{path}.{f}", f"required {why}") for f in fields if getattr(spec, f) is None]


class _UserHeader(PolicySpec):
    clearAuth: bool = False
    addUserToHeader: bool = False
    userHeaderName: Name | None = None

    def problems(self, path: str) -> list[FieldError]:
        errors = super().problems(path)
        if self.addUserToHeader:
            errors += _need(self, path, ("userHeaderName",), "when addUserToHeader is true")
        return errors


class BasicAuthPolicy(_UserHeader):
    """policy-auth-basic: HTTP Basic authentication against Apinizer's identity store."""

    usernameVar: Variable

    def problems(self, path: str) -> list[FieldError]:
        return super().problems(path) + self.usernameVar.problems(f"{path}.usernameVar")


class DigestAuthPolicy(_UserHeader):
    """policy-auth-digest: digest authentication."""

    usernameVar: Variable
    passwordVar: Variable
    nonceVar: Variable | None = None
    createdVar: Variable | None = None

    def problems(self, path: str) -> list[FieldError]:
        errors = super().problems(path)
        for field in ("usernameVar", "passwordVar", "nonceVar", "createdVar"):
            errors += variable_problems(getattr(self, field), f"{path}.{field}")
        return errors


class ClearTextAuthPolicy(_UserHeader):
    """policy-auth-clear-text: username (and password) read from the message in clear text."""

    usernameVar: Variable
    passwordVar: Variable | None = None
    checkPassword: bool = True

    def problems(self, path: str) -> list[FieldError]:
        errors = super().problems(path) + self.usernameVar.problems(f"{path}.usernameVar")
        if self.checkPassword:
            errors += _need(self, path, ("passwordVar",), "when checkPassword is true")
        return errors + variable_problems(self.passwordVar, f"{path}.passwordVar")


class MtlsAuthPolicy(PolicySpec):
    """policy-auth-mtls: mutual TLS client-certificate authentication."""

    validateCertificate: bool = True
    validateACLForIssuer: bool = True


class _TokenIssuer(PolicySpec):
    tokenNeverExpires: bool = True
    tokenExpiresInAmount: Long | None = None
    tokenExpiresInUnit: TimeUnit | None = None
    refreshTokenAllowed: bool = False
    refreshTokenCount: Int32 | None = None
    refreshTokenExpiresInAmount: Long | None = None
    refreshTokenExpiresInUnit: TimeUnit | None = None
    allowUrlParameters: bool = False
    managedFromThisPolicy: bool = True
    grantType: Literal["PASSWORD", "CLIENT_CREDENTIALS"] = "PASSWORD"

    def problems(self, path: str) -> list[FieldError]:
        errors = super().problems(path)
        if not self.tokenNeverExpires:
            fields = ("tokenExpiresInAmount", "tokenExpiresInUnit")
            errors += _need(self, path, fields, "when tokenNeverExpires is false")
        return errors


class JwtAuthPolicy(_TokenIssuer):
    """policy-auth-jwt: issue and validate JWTs."""

    jwtSignatureAlgorithm: Annotated[str, Field(min_length=1, max_length=32)]


class OAuth2AuthPolicy(_TokenIssuer):
    """policy-auth-oauth2: issue and validate OAuth2 tokens."""

    deletePrevious: bool = False


class SamlValidationPolicy(PolicySpec):
    """policy-saml-validation: validate a SAML assertion's signature."""

    keyStoreName: Name
    allowUnknownSigner: bool = False
    clearSaml: bool = False
    clearSamlPath: Name | None = None

    def problems(self, path: str) -> list[FieldError]:
        errors = super().problems(path)
        if self.clearSaml:
            errors += _need(self, path, ("clearSamlPath",), "when clearSaml is true")
        return errors


class WsSecurityTimestampPolicy(PolicySpec):
    """policy-ws-security-timestamp: add a WS-Security timestamp."""

    mustUnderstand: bool = True
    timeToLive: Int32


class WsSecurityUsernamePolicy(PolicySpec):
    """policy-ws-security-username: add a WS-Security UsernameToken."""

    mustUnderstand: bool = True
    username: Name
    password: Name
    passwordType: Literal["PasswordText", "PasswordDigest"]
    nonce: bool = False
    created: bool = False


class WsSecurityDecryptPolicy(PolicySpec):
    """policy-ws-security-decrypt: decrypt WS-Security encrypted parts."""

    allowCaseInsensitiveId: bool = False
    decKeyStoreName: Name


class WsSecuritySignValidationPolicy(PolicySpec):
    """policy-ws-security-sign-validation: verify WS-Security signatures."""

    enableEnhancedSignatureValidation: bool = False
    enableSignatureRemovalForDereferencing: bool = False
    allowCaseInsensitiveId: bool = False
    verKeyStoreName: Name
    removeSignature: bool = False
