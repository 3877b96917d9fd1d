"""Detectors of secrets: cloud keys (AWS, GCP, Azure), private keys, tokens (GitHub, Slack, Stripe, AI
providers, JWT, bearer) and values assigned to secret-named keys."""

from __future__ import annotations

import re

from policyhub.policy_types.flashback import checks
from policyhub.policy_types.flashback.scanning import Check, Detector, Pattern, rx, span, when

SECRET = "secret"
_AWS_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA")
_SECRET_NAMES = (
    r"password|passwd|pwd|passphrase|secret|client[_-]?secret|api[_-]?key|apikey|"
    r"access[_-]?token|auth[_-]?token|refresh[_-]?token|private[_-]?token"
)
_SECRET_ANCHORS = ("password", "passwd", "pwd", "passphrase", "secret", "client", "api", "access", "auth", "refresh")


def _secret(min_entropy: float, group: int = 1) -> Check:
    return when(lambda v: checks.looks_secret(v, min_entropy=min_entropy), group)


def _assigned_secret(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    """``password = X`` or, in prose, ``the password is X`` (then X must mix in a digit or a symbol, so that
    'the password is required' is not a secret)."""
    value = m.group(2)
    if not checks.looks_secret(value, min_entropy=2.5) or (m.group(1) and value.isalpha()):
        return None
    return span(m, 2)


SECRET_DETECTORS = (
    Detector(
        "aws_access_key",
        SECRET,
        "AWS access key ids (AKIA..., ASIA...); AWS's documented EXAMPLE keys excluded",
        (
            Pattern(
                rx(rf"(?:{'|'.join(_AWS_PREFIXES)})(?<![A-Za-z0-9].{{4}})[A-Z0-9]{{16}}(?![A-Za-z0-9])"),
                when(lambda v: not checks.aws_example(v)),
            ),
        ),
    ),
    Detector(
        "aws_secret_key",
        SECRET,
        "AWS secret access keys assigned to an aws_secret_access_key-like name",
        (
            Pattern(
                rx(
                    r"\b(?i:aws[_ -]?secret(?:[_ -]?access)?[_ -]?key|secret[_ -]?access[_ -]?key)"
                    r"[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
                ),
                when(lambda v: not checks.aws_example(v) and checks.looks_secret(v, min_entropy=3.5), 1),
                anchors=("aws", "secret"),
                group=1,
            ),
        ),
    ),
    Detector(
        "gcp_key",
        SECRET,
        "Google Cloud API keys (AIza...) and service-account private key ids",
        (
            Pattern(rx(r"AIza(?<![\w-]AIza)[0-9A-Za-z_-]{35}(?![\w-])")),
            Pattern(rx(r"\"private_key_id\"\s*:\s*\"([0-9a-f]{40})\""), hints=("private_key_id",), group=1),
        ),
    ),
    Detector(
        "azure_key",
        SECRET,
        "Azure storage account keys, Service Bus/Event Hubs shared access keys, Entra ID client secrets",
        (
            Pattern(rx(r"AccountKey=([A-Za-z0-9+/]{86}==)"), hints=("AccountKey=",), group=1),
            Pattern(rx(r"SharedAccessKey=([A-Za-z0-9+/]{43}=)"), hints=("SharedAccessKey=",), group=1),
            Pattern(
                rx(r"(?<![\w~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![\w~.-])"),
                _secret(3.0, 0),
                hints=("Q~",),
            ),
        ),
    ),
    Detector(
        "private_key",
        SECRET,
        "PEM/OpenSSH/PGP private key blocks (-----BEGIN ... PRIVATE KEY-----), even without their END line",
        (
            Pattern(
                rx(
                    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY((?: BLOCK)?)-----"
                    r"(?:[\s\S]{0,200000}?-----END \1PRIVATE KEY\2-----|(?:\s*[A-Za-z0-9+/=]{16,})*)"
                ),
                hints=("PRIVATE KEY",),
            ),
        ),
    ),
    Detector(
        "github_token",
        SECRET,
        "GitHub tokens: ghp_/gho_/ghu_/ghs_/ghr_ and fine-grained github_pat_",
        (
            Pattern(
                rx(r"gh[pousr]_(?<![A-Za-z0-9_]gh._)[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])"),
                _secret(3.0, 0),
            ),
            Pattern(
                rx(r"github_pat_(?<![A-Za-z0-9_].{11})[A-Za-z0-9_]{80,255}(?![A-Za-z0-9_])"),
                _secret(3.0, 0),
            ),
        ),
    ),
    Detector(
        "slack_token",
        SECRET,
        "Slack tokens (xoxb-, xoxp-, xapp-...) and incoming-webhook URLs",
        (
            Pattern(
                rx(r"xox[abposre]-(?<![A-Za-z0-9-].{5})[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])"),
                _secret(3.0, 0),
            ),
            Pattern(rx(r"xapp-(?<![A-Za-z0-9-].{5})\d-[A-Z0-9]+-\d+-[a-z0-9]{32,}")),
            Pattern(
                rx(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}"),
            ),
        ),
    ),
    Detector(
        "stripe_key",
        SECRET,
        "Stripe secret and restricted keys (sk_live_, rk_live_, sk_test_...) and webhook secrets (whsec_)",
        (
            Pattern(
                rx(r"(?<![A-Za-z0-9_])[sr]k_(?:live|test)_[A-Za-z0-9]{20,247}(?![A-Za-z0-9_])"),
                hints=("k_live_", "k_test_"),
            ),
            Pattern(rx(r"(?<![A-Za-z0-9_])whsec_[A-Za-z0-9+/=]{32,}"), hints=("whsec_",)),
        ),
    ),
    Detector(
        "llm_api_key",
        SECRET,
        "AI provider keys: OpenAI (sk-, sk-proj-), Anthropic (sk-ant-), Hugging Face (hf_)",
        (
            Pattern(
                rx(
                    r"sk-(?<![A-Za-z0-9_-]sk-)(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d\d-)?[A-Za-z0-9_-]{32,250}"
                    r"(?![A-Za-z0-9_-])"
                ),
                _secret(3.5, 0),
            ),
            Pattern(rx(r"hf_(?<![A-Za-z0-9_]hf_)[A-Za-z0-9]{34,}(?![A-Za-z0-9_])"), _secret(3.5, 0)),
        ),
    ),
    Detector(
        "jwt",
        SECRET,
        "JSON Web Tokens (three base64url segments whose header decodes to a JSON object with 'alg')",
        (
            Pattern(
                rx(r"eyJ(?<![\w-]eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}(?![\w-])"),
                when(checks.jwt_header_valid),
            ),
        ),
    ),
    Detector(
        "bearer_token",
        SECRET,
        "credentials after 'Bearer' (Authorization headers); placeholders like <token> or ${TOKEN} excluded",
        (
            Pattern(
                rx(r"\b(?i:bearer)\s+([A-Za-z0-9._~+/-]{20,}=*)(?![A-Za-z0-9._~+/=-])"),
                _secret(3.0),
                anchors=("bearer",),
                group=1,
            ),
        ),
    ),
    Detector(
        "generic_secret",
        SECRET,
        'values assigned to password/secret/api_key/token names (password=..., "api_key": "...", '
        "'the password is ...'); placeholders and environment lookups excluded",
        (
            Pattern(
                rx(
                    rf"\b(?i:{_SECRET_NAMES})(?:\b[\"']?\s*(?::=|=>|:|=)|(\s+(?i:is|was)\b)\s*:?)\s*[\"'`]?"
                    rf"([^\s\"'`,;()\[\]{{}}<>]{{8,256}})"
                ),
                _assigned_secret,
                anchors=_SECRET_ANCHORS,
            ),
        ),
    ),
)
