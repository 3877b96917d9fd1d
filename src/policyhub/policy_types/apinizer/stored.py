"""Apinizer policy types PolicyHub stores and versions but never evaluates (they act inside a gateway).

Each type's top-level fields are those of its "Add Policy" table in Apinizer's Management API
documentation (``apinizer/management-api-docs``, ``02-api-reference/05-policies/policies/<type>.md``),
declared below in one line per field: ``name:kind`` then ``!`` (required) and ``=default`` (filled in when
absent, as Apinizer does). Kinds: ``str``, ``bool``, ``int`` (0..2^63-1), ``strs`` (a list of strings),
``list`` (a list of JSON values), ``obj`` (a JSON object), or ``A|B|C`` (one of these strings).

Scalars are checked strictly and unknown top-level fields are refused, as for the evaluated types;
nested structures (variables, definition lists, conditions) are kept as given (bounded by the request
size and JSON depth limits), because nothing in PolicyHub reads them. A ``null`` field is the same as an
absent one. Two documented types cannot be added: Apinizer creates the protocol transformation policies
itself when SOAP/REST transformation is enabled on a proxy (:data:`NOT_ADDABLE`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, JsonValue, create_model

from policyhub.policy_types.apinizer.common import PolicySpec

LONG_MAX = 2**63 - 1
STR_MAX = 64 * 1024
LIST_MAX = 1000

_KINDS: dict[str, Any] = {
    "str": Annotated[str, Field(max_length=STR_MAX)],
    "bool": bool,
    "int": Annotated[int, Field(ge=0, le=LONG_MAX)],
    "strs": Annotated[list[Annotated[str, Field(max_length=STR_MAX)]], Field(max_length=LIST_MAX)],
    "list": Annotated[list[JsonValue], Field(max_length=LIST_MAX)],
    "obj": dict[str, JsonValue],
}
_KEY_ID = (
    "BINARY_SECURITY_TOKEN|ISSUER_NAME_AND_SERIAL_NUMBER|X509_CERTIFICATE|SUBJECT_KEY_IDENTIFIER|"
    "THUMBPRINT_SHA1_IDENTIFIER|EMBEDDED_KEY_INFO|EMBED_SECURITY_TOKEN_REFERENCE|CUSTOM_KEY_INFO"
)
_TIME_UNIT = "MILLI_SECONDS|SECONDS|MINUTES|HOURS|DAYS|WEEKS|MONTHS|YEARS"
_WS_SIGN = f"""
    mustUnderstand:bool=true  sigPartList:list=[]  sigCustomKeyIdentifier:str  sigCustomKeyIdentifierValueType:str
    sigKeyIdType:{_KEY_ID}  sigUseSingleCert:bool=false  sigWsiBSPCompliant:bool=false
"""
_WS_ENCRYPT = f"""
    encPartList:list=[]  encEmbeddedKeyName:str  encKeyIdType:{_KEY_ID}
    encSymEncAlgorithm:AES_128_CBC|AES_192_CBC|AES_256_CBC  encKeyEncAlgorithm:RSA|OAEP
"""
_VARIABLE_TARGET = "BODY|AUTHORIZATION_HEADER|CHOOSE_FROM_VARIABLE"

#: Apinizer type -> (title, its top-level fields).
FIELDS: dict[str, tuple[str, str]] = {
    "policy-oidc": (
        "OpenID Connect authentication",
        """issuer:str!  authorizationEndpoint:str!  tokenEndpoint:str!  userInfoEndpoint:str  jwksEndpoint:str
        clientId:str!  clientSecret:str  redirectUri:str!
        flowType:AUTHORIZATION_CODE|IMPLICIT|HYBRID|OAUTH2_AUTHORIZATION_CODE=AUTHORIZATION_CODE
        enablePKCE:bool=true  scopes:strs!  additionalAuthParams:obj={}
        authenticationMode:EXTERNAL_ONLY|INTERNAL_ONLY|HYBRID=EXTERNAL_ONLY  requireBothInHybrid:bool=false
        validateIdToken:bool=true  validateAccessToken:bool=false  validateJwtLocally:bool=true
        validateJwtSignature:bool=false  expectedJwtAuthSigningAlgs:strs  callUserInfoEndpoint:bool=true
        tokenCacheTimeoutSeconds:int=3600  jwkCacheTimeoutSeconds:int=3600  usernameClaimPath:str=sub
        emailClaimPath:str=email  displayNameClaimPath:str=name  roleMappings:list=[]
        sessionCookieName:str=OIDC_SESSION  sessionTimeoutMinutes:int=60  enableStateValidation:bool=true
        enableNonceValidation:bool=true  introspectionEndpoint:str  validateIssuer:bool=true  expectedIssuer:str
        validateAudience:bool=false  expectedAudience:strs=[]  sessionCookieSecure:bool=true
        allowInsecureConnections:bool=false  connectionTimeoutSeconds:int=30  readTimeoutSeconds:int=30
        maxClockSkewSeconds:int=300  errorRedirectUrl:str  errorMessageTemplate:str  includeErrorDetails:bool=false
        customHeaders:obj={}  userAgent:str=Apinizer-OIDC-Client/1.0  enableDebugLogging:bool=false
        customClaimMappings:obj={}  disableUserinfoHeader:bool=false  userinfoHeaderName:str=UserInfo""",
    ),
    "policy-api-authentication": (
        "API authentication (credentials to the backend)",
        """authType:BASIC|BASE64|DIGEST|API  sendType:HEADER|PARAM|BODY_MESSAGE|BODY_INJECTION
        messageContentType:XML|JSON|ALL_BODY=XML  usernameFieldName:str  passwordFieldName:str  createdFieldName:str
        nonceFieldName:str  bodyMessage:str  bodyMessageInjectionPath:str  usernameInjectionPath:str
        passwordInjectionPath:str  createdInjectionPath:str  nonceInjectionPath:str  authApiName:str
        apiAuthCondExpressionList:list=[]""",
    ),
    "policy-ws-security-encrypt": (
        "WS-Security encryption",
        "mustUnderstand:bool=true  encKeyStoreName:str!" + _WS_ENCRYPT,
    ),
    "policy-ws-security-sign": (
        "WS-Security signature",
        _WS_SIGN + "  sigSigAlgorithm:str!  sigC14n:str!  sigDigAlgorithm:str!  sigKeyStoreName:str!",
    ),
    "policy-ws-security-from-target": (
        "WS-Security from the backend (decrypt and verify its answer)",
        """decExists:bool=false  verExists:bool=false  decKeyStoreName:str  verKeyStoreName:str
        allowCaseInsensitiveId:bool=false""",
    ),
    "policy-ws-security-to-target": (
        "WS-Security to the backend (timestamp, username token, encryption, signature)",
        _WS_SIGN
        + _WS_ENCRYPT
        + """tsTimeToLive:int  unUsername:str  unPassword:str  unPasswordDecrypted:bool=false  unNonce:bool=false
        unCreated:bool=false  unPasswordType:PasswordText|PasswordDigest  encKeyStoreName:str  sigSigAlgorithm:str
        sigC14n:str  sigDigAlgorithm:str  sigKeyStoreName:str  wsSecurityEntryOrderList:strs!""",
    ),
    "policy-jose-validation": (
        "JOSE (JWT/JWS/JWE) validation",
        f"""joseTarget:{_VARIABLE_TARGET}=BODY  joseTargetVariable:obj  clientSourcePart:HEADER|CLAIMS|VARIABLE=CLAIMS
        clientSourceVariable:obj  clientFieldname:str=iss  acceptedAudienceList:strs=[]  exactMatchClaimMap:obj={{}}
        requiredClaimList:strs=[]  prohibitedClaimList:strs=[]  validateExpirationTime:bool=true
        validateSign:bool=true  validateByIssuer:bool=true  validateACLforIssuer:bool=true
        jwkIdForValidationAndSign:str  decrypt:bool=true  decryptByIssuer:bool=true
        jwkIdForDecryptionAndEncryption:str  stripAndDecode:NONE|ALL|PARTIAL=NONE  jwtClaimsToDecode:str
        decodedClaimsTargetForDataManipulation:str=BODY  decodedClaimsTargetVariableForDataManipulation:obj""",
    ),
    "policy-jose-implementation": (
        "JOSE (JWT/JWS/JWE) creation",
        f"""joseTarget:{_VARIABLE_TARGET}|EMPTY=BODY  joseTargetVariable:obj  jwtClaimsClaim:str
        escapeJsonString:bool=false  addIssueTime:bool=true  addJWTID:bool=true  addIssuer:bool=true  issuer:str
        addAudience:bool=true  audienceList:strs=[]  addSubject:bool=true  subject:str  addTypeToHeader:bool=true
        typeValue:str  addExpirationTime:bool=true  expirationTimeValue:int  expirationTimeUnit:{_TIME_UNIT}
        additionalClaimMap:obj={{}}  sign:bool=true  signByIssuer:bool=true  jwkIdForValidationAndSign:str
        encrypt:bool=true  encryptByIssuer:bool=true  jwkIdForDecryptionAndEncryption:str  encryptionMethod:str
        encodedClaimsTargetForDataManipulation:str=BODY  decodedClaimsTargetVariableForDataManipulation:obj""",
    ),
    "policy-digital-sign": ("Digital signature", "policyDigitalSignDefList:list!"),
    "policy-digital-sign-verification": (
        "Digital signature verification",
        "policyDigitalSignVerificationDefList:list!",
    ),
    "policy-encryption": ("Encryption", "policyEncryptionDefList:list!"),
    "policy-decryption": ("Decryption", "policyDecryptionDefList:list!"),
    "policy-client-ban": (
        "Client ban (after repeated failures)",
        """clientIdentityVariableList:list=[]  thresholdWindowInSeconds:int=10  thresholdCountPerWindow:int=1
        thresholdCalculationType:str=COUNT  banTimeInSeconds:int=10  enableRetryAfterHeader:bool=false
        ignoreWhenKeyIsEmpty:bool=false  assertionCondition:obj!  condition:obj""",
    ),
    "policy-redaction": ("Redaction", "redactionDefList:list!"),
    "policy-api-call": (
        "API call (a call out during the flow)",
        """callType:str!  httpMethod:str!  url:str!  timeout:int  certificateName:str  certificateEnabled:bool=false
        clearBodyBeforeCall:bool=false  useMessageTemplateBeforeCall:bool=true  enumTestConsoleRequestBodyType:str=XML
        bodyContentBeforeCall:str  urlEncodedList:list=[]  dataManipulationListBeforeCall:list=[]
        removeAllHeadersBeforeCall:bool=true  headersToBeDeletedBeforeCallList:list=[]
        headersToBeAddedBeforeCallList:list=[]  removeAllParametersBeforeCall:bool=true
        parametersToBeDeletedBeforeCallList:list=[]  parametersToBeAddedBeforeCallList:list=[]  enableCache:bool=false
        cacheBy:obj  capacity:int  ttl:int  cacheNullResponses:bool=true  cacheStorageType:str=DISTRIBUTED
        afterCallBodyOperationType:str  useMessageTemplateAfterCall:bool=true
        messageTemplateContentTypeAfterCall:str=XML  bodyContentAfterCall:str  dataManipulationListAfterCall:list=[]
        removeAllHeadersAfterCall:bool=false  headersToBeDeletedAfterCallList:list=[]
        headersToBeAddedAfterCallList:list=[]  removeAllParametersAfterCall:bool=false
        parametersToBeDeletedAfterCallList:list=[]  parametersToBeAddedAfterCallList:list=[]
        prepareMessage:bool=false  modifyMessage:bool=false  newBodyContentSourceType:str""",
    ),
    "policy-business-rule": ("Business rule (ordered actions on the message)", "actionList:list!"),
    "policy-group": ("Policy group (under development at Apinizer)", "condition:obj"),
}

#: Documented types Apinizer does not let a client add, with the reason given for each.
NOT_ADDABLE: dict[str, str] = {
    name: f"{name} cannot be added through the Management API; Apinizer adds it to an API proxy "
    "when SOAP/REST transformation is enabled"
    for name in ("policy-request-protocol-transformation", "policy-response-protocol-transformation")
}


def _default(kind: str, text: str) -> Any:
    if kind == "bool":
        return text == "true"
    if kind == "int":
        return int(text)
    if text in ("[]", "{}"):
        return [] if text == "[]" else {}
    return text


def _field(spec: str) -> tuple[str, tuple[Any, Any]]:
    """``name:kind[!][=default]`` -> (name, (annotation, default)); an optional field also takes null."""
    name, _, rest = spec.partition(":")
    kind, _, default_text = rest.partition("=")
    required = kind.endswith("!")
    kind = kind.rstrip("!")
    annotation = Literal[tuple(kind.split("|"))] if kind not in _KINDS else _KINDS[kind]
    if required:
        return name, (annotation, ...)
    default = _default(kind, default_text) if default_text else None
    if isinstance(default, list | dict):
        return name, (annotation | None, Field(default_factory=type(default)))
    return name, (annotation | None, default)


def _model(type_name: str, title: str, fields: str) -> type[PolicySpec]:
    parsed = dict(_field(spec) for spec in fields.split())
    model: type[PolicySpec] = create_model(  # type: ignore[call-overload]
        "Stored" + "".join(p.title() for p in type_name.split("-")[1:]) + "Policy",
        __base__=PolicySpec,
        __doc__=f"Apinizer {title}: stored and versioned; not evaluated in decisions.",
        **parsed,
    )
    assert issubclass(model, PolicySpec)
    return model


#: Apinizer type -> (spec model, title), for :data:`policyhub.policy_types.apinizer.APINIZER_TYPES`.
STORED_TYPES: dict[str, tuple[type[PolicySpec], str]] = {
    name: (_model(name, title, fields), title) for name, (title, fields) in FIELDS.items()
}
