"""Built-in, deterministic detectors of personal data and secrets in AI prompts and responses.

Each detector is one or more regular expressions (compiled once, at import) plus a check that rejects
look-alikes: card numbers must pass Luhn and carry a known issuer prefix, IBANs the mod-97 check, SSNs
the issuing rules, JWTs a decodable header, secret-named assignments must not be placeholders. A cheap
substring hint skips a pattern's scan entirely when the text cannot contain it.

Positions are Unicode code-point offsets into the text (``start`` inclusive, ``end`` exclusive).
Reported values are always masked (:func:`mask`): the original text is never echoed back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from policyhub.policy_types.flashback import checks

PII = "pii"
SECRET = "secret"


@dataclass(frozen=True)
class Finding:
    """One instance found: which detector, where, and an optional kind (``visa``, ``DE``, ``github_pat``)."""

    detector: str
    start: int
    end: int
    kind: str | None = None


#: A check sees the regex match and returns None (not a real instance) or (start, end, kind).
Check = Callable[[re.Match[str]], tuple[int, int, str | None] | None]


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    check: Check | None = None
    hints: tuple[str, ...] = ()  # the text must contain one of these for the regex to be worth running
    group: int = 0  # the group whose span is reported (the secret, not its label)


@dataclass(frozen=True)
class Detector:
    name: str
    category: str
    description: str
    patterns: tuple[Pattern, ...]

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        for pattern in self.patterns:
            if pattern.hints and not any(hint in text for hint in pattern.hints):
                continue
            for match in pattern.regex.finditer(text):
                if pattern.check is None:
                    start, end = match.span(pattern.group)
                    found.append(Finding(self.name, start, end))
                    continue
                hit = pattern.check(match)
                if hit is not None:
                    found.append(Finding(self.name, *hit))
        return found


def _span(match: re.Match[str], group: int = 0, kind: str | None = None) -> tuple[int, int, str | None]:
    return match.start(group), match.end(group), kind


def _when(test: Callable[[str], bool], group: int = 0, kind: str | None = None) -> Check:
    """A check that accepts the match when ``test(group text)`` holds."""
    return lambda m: _span(m, group, kind) if test(m.group(group)) else None


# -- PII -------------------------------------------------------------------------------------------
#: File extensions that follow ``@`` in asset names (``logo@2x.png``); none is a real top-level domain.
_ASSET_TLDS = frozenset("png jpg jpeg gif svg webp ico bmp css js mjs ts tsx jsx map json lock".split())


def _email(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    if m.group(2).lower() in _ASSET_TLDS:
        return None
    rest = m.string[m.end() : m.end() + 2]
    if rest[:1] == ":" and rest[1:2] not in ("", " ", "\n", "\t"):  # git@github.com:owner/repo (SSH remote)
        return None
    return _span(m)


def _phone_intl(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    text = m.group(0)
    digits = sum(c.isdigit() for c in text)
    separated = any(c in " .-()" for c in text)
    return _span(m) if 8 <= digits <= 15 and (separated or digits >= 10) else None


def _ssn(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    return _span(m) if checks.ssn_valid(m.group(1), m.group(3), m.group(4)) else None


def _ssn_labeled(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    d = m.group(1)
    return _span(m, 1) if checks.ssn_valid(d[:3], d[3:5], d[5:]) else None


def _card(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    text = m.group(0)
    if "-" in text and " " in text:
        return None
    brand = checks.card_brand(text.replace(" ", "").replace("-", ""))
    return _span(m, 0, brand) if brand else None


def _iban(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    """Read exactly the country's IBAN length (single spaces allowed between characters) after the prefix."""
    text, country = m.string, m.group(0)[:2]
    length = checks.IBAN_LENGTHS.get(country)
    if length is None:
        return None
    chars, pos, end = [m.group(0)], m.end(), m.end()
    needed = length - 4
    while needed and pos < len(text):
        char = text[pos]
        if char == " " and pos + 1 < len(text) and text[pos + 1] != " " and pos != end - 1:
            pos += 1
            continue
        if not ("A" <= char <= "Z" or "0" <= char <= "9"):
            break
        chars.append(char)
        needed -= 1
        pos += 1
        end = pos
    if needed or (end < len(text) and text[end].isalnum()):
        return None
    return (m.start(), end, country) if checks.iban_valid("".join(chars)) else None


_DETECTORS_PII = (
    Detector(
        "email",
        PII,
        "email addresses (not asset names like logo@2x.png, not SSH remotes like git@host:repo)",
        (
            Pattern(
                re.compile(
                    r"(?<![\w.%+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@"
                    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24})(?![\w-])"
                ),
                _email,
                ("@",),
            ),
        ),
    ),
    Detector(
        "phone",
        PII,
        "phone numbers: international (+ and 8-15 digits) or North American with separators",
        (
            Pattern(re.compile(r"(?<![\w+])\+[1-9]\d{0,2}(?:[ .-]?\(?\d{1,5}\)?){1,6}(?!\w)"), _phone_intl, ("+",)),
            Pattern(
                re.compile(
                    r"(?<![\w+-])(?:1[ .-])?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w-])"
                )
            ),
        ),
    ),
    Detector(
        "us_ssn",
        PII,
        "US Social Security numbers (123-45-6789, or 9 digits after 'SSN'); never-issued ranges excluded",
        (
            Pattern(re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])"), _ssn),
            Pattern(
                re.compile(
                    r"(?i:\b(?:ssn|social\s+security(?:\s+(?:number|no))?)\b)[\s:#=.-]{0,4}(?:is\s+)?(\d{9})(?!\d)"
                ),
                _ssn_labeled,
            ),
        ),
    ),
    Detector(
        "uk_nino",
        PII,
        "UK National Insurance numbers (QQ 12 34 56 C); unallocated prefixes excluded",
        (
            Pattern(
                re.compile(
                    r"(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"
                ),
                lambda m: _span(m) if checks.nino_valid(m.group(1)) else None,
            ),
        ),
    ),
    Detector(
        "ca_sin",
        PII,
        "Canadian Social Insurance numbers (123-456-782) with a valid Luhn digit",
        (
            Pattern(
                re.compile(r"(?<![\w-])\d{3}([- ])\d{3}\1\d{3}(?![\w-])"),
                lambda m: _span(m) if checks.sin_valid(re.sub(r"\D", "", m.group(0))) else None,
            ),
        ),
    ),
    Detector(
        "payment_card",
        PII,
        "payment card numbers: 12-19 digits with a known issuer prefix and a valid Luhn check digit",
        (Pattern(re.compile(r"(?<![\w-])(?:\d[ -]?){11,18}\d(?![\w-])"), _card),),
    ),
    Detector(
        "iban",
        PII,
        "IBANs of the registered length for their country with a valid mod-97 check",
        (Pattern(re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?= ?[A-Z0-9])"), _iban),),
    ),
)

# -- secrets ---------------------------------------------------------------------------------------
_AWS_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA")


def _secret(min_entropy: float, group: int = 1, kind: str | None = None) -> Check:
    return _when(lambda v: checks.looks_secret(v, min_entropy=min_entropy), group, kind)


_DETECTORS_SECRET = (
    Detector(
        "aws_access_key",
        SECRET,
        "AWS access key ids (AKIA..., ASIA...); AWS's documented EXAMPLE keys excluded",
        (
            Pattern(
                re.compile(rf"(?<![A-Za-z0-9])(?:{'|'.join(_AWS_PREFIXES)})[A-Z0-9]{{16}}(?![A-Za-z0-9])"),
                _when(lambda v: not checks.aws_example(v)),
                _AWS_PREFIXES,
            ),
        ),
    ),
    Detector(
        "aws_secret_key",
        SECRET,
        "AWS secret access keys assigned to an aws_secret_access_key-like name",
        (
            Pattern(
                re.compile(
                    r"(?i:aws[_ -]?secret(?:[_ -]?access)?[_ -]?key|secret[_ -]?access[_ -]?key)[\"']?\s*[:=]\s*[\"']?"
                    r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
                ),
                _when(lambda v: not checks.aws_example(v) and checks.looks_secret(v, min_entropy=3.5), 1),
                group=1,
            ),
        ),
    ),
    Detector(
        "gcp_key",
        SECRET,
        "Google Cloud API keys (AIza...) and service-account private key ids",
        (
            Pattern(re.compile(r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])"), hints=("AIza",)),
            Pattern(re.compile(r"\"private_key_id\"\s*:\s*\"([0-9a-f]{40})\""), hints=("private_key_id",), group=1),
        ),
    ),
    Detector(
        "azure_key",
        SECRET,
        "Azure storage account keys, Service Bus/Event Hubs shared access keys, Entra ID client secrets",
        (
            Pattern(re.compile(r"AccountKey=([A-Za-z0-9+/]{86}==)"), hints=("AccountKey=",), group=1),
            Pattern(re.compile(r"SharedAccessKey=([A-Za-z0-9+/]{43}=)"), hints=("SharedAccessKey=",), group=1),
            Pattern(
                re.compile(r"(?<![\w~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![\w~.-])"),
                _secret(3.0, 0),
                ("Q~",),
            ),
        ),
    ),
    Detector(
        "private_key",
        SECRET,
        "PEM/OpenSSH/PGP private key blocks (-----BEGIN ... PRIVATE KEY-----), even without their END line",
        (
            Pattern(
                re.compile(
                    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----"
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
                re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])"),
                _secret(3.0, 0),
                ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
            ),
            Pattern(
                re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{80,255}(?![A-Za-z0-9_])"),
                _secret(3.0, 0),
                ("github_pat_",),
            ),
        ),
    ),
    Detector(
        "slack_token",
        SECRET,
        "Slack tokens (xoxb-, xoxp-, xapp-...) and incoming-webhook URLs",
        (
            Pattern(
                re.compile(r"(?<![A-Za-z0-9-])xox[abposre]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])"),
                _secret(3.0, 0),
                ("xox",),
            ),
            Pattern(re.compile(r"(?<![A-Za-z0-9-])xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{32,}"), hints=("xapp-",)),
            Pattern(
                re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}"),
                hints=("hooks.slack.com",),
            ),
        ),
    ),
    Detector(
        "stripe_key",
        SECRET,
        "Stripe secret and restricted keys (sk_live_, rk_live_, sk_test_...) and webhook secrets (whsec_)",
        (
            Pattern(
                re.compile(r"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,247}(?![A-Za-z0-9_])"),
                hints=("_live_", "_test_"),
            ),
            Pattern(re.compile(r"(?<![A-Za-z0-9_])whsec_[A-Za-z0-9+/=]{32,}"), hints=("whsec_",)),
        ),
    ),
    Detector(
        "llm_api_key",
        SECRET,
        "AI provider keys: OpenAI (sk-, sk-proj-), Anthropic (sk-ant-), Hugging Face (hf_)",
        (
            Pattern(
                re.compile(
                    r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d\d-)?[A-Za-z0-9_-]{32,250}"
                    r"(?![A-Za-z0-9_-])"
                ),
                _secret(3.5, 0),
                ("sk-",),
            ),
            Pattern(re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{34,}(?![A-Za-z0-9_])"), _secret(3.5, 0), ("hf_",)),
        ),
    ),
    Detector(
        "jwt",
        SECRET,
        "JSON Web Tokens (three base64url segments whose header decodes to a JSON object with 'alg')",
        (
            Pattern(
                re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}(?![\w-])"),
                _when(checks.jwt_header_valid),
                ("eyJ",),
            ),
        ),
    ),
    Detector(
        "bearer_token",
        SECRET,
        "credentials after 'Bearer' (Authorization headers); placeholders like <token> or ${TOKEN} excluded",
        (
            Pattern(
                re.compile(r"(?i:\bbearer)\s+([A-Za-z0-9._~+/-]{20,}=*)(?![A-Za-z0-9._~+/=-])"),
                _secret(3.0),
                group=1,
            ),
        ),
    ),
    Detector(
        "generic_secret",
        SECRET,
        "values assigned to password/secret/api_key/token names (password=..., \"api_key\": \"...\"), "
        "placeholders and environment lookups excluded",
        (
            Pattern(
                re.compile(
                    r"(?i:\b(?:password|passwd|pwd|passphrase|secret|client[_-]?secret|api[_-]?key|apikey|"
                    r"access[_-]?token|auth[_-]?token|refresh[_-]?token|private[_-]?token)\b)"
                    r"[\"']?\s*(?::=|=>|:|=)\s*[\"'`]?([^\s\"'`,;()\[\]{}<>]{8,256})"
                ),
                _secret(2.5),
                group=1,
            ),
        ),
    ),
)

#: Every built-in detector, most specific first (on overlapping findings the earlier detector is kept).
DETECTORS: dict[str, Detector] = {d.name: d for d in (*_DETECTORS_PII, *_DETECTORS_SECRET)}
PRIORITY: dict[str, int] = {name: index for index, name in enumerate(DETECTORS)}
ALL_PII: tuple[str, ...] = tuple(d.name for d in _DETECTORS_PII)
ALL_SECRETS: tuple[str, ...] = tuple(d.name for d in _DETECTORS_SECRET)


def find_all(text: str, names: tuple[str, ...] | None = None) -> list[Finding]:
    """Every finding of the named detectors (all by default), overlaps resolved (see :func:`resolve`)."""
    found: list[Finding] = []
    for name in names if names is not None else tuple(DETECTORS):
        found.extend(DETECTORS[name].find(text))
    return resolve(found)


def resolve(found: list[Finding]) -> list[Finding]:
    """Sorted by position; of overlapping findings the first, longest, most specific one is kept."""
    ordered = sorted(found, key=lambda f: (f.start, f.start - f.end, PRIORITY[f.detector]))
    kept: list[Finding] = []
    for finding in ordered:
        if not kept or finding.start >= kept[-1].end:
            kept.append(finding)
    return kept
