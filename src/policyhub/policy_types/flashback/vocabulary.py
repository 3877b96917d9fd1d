"""Which detectors a Flashback policy's natural-language content activates.

The content is lower-cased and every run of non-alphanumerics becomes one space (``E-mail`` →
``e mail``, ``API-keys`` → ``api keys``). Each term below is a set of phrases (synonyms); a phrase
matches on word boundaries, its last word also in the plural (``credit cards``, ``email addresses``).
Longer phrases win over the shorter ones inside them, so ``email addresses`` selects the email detector
and does not also count as ``addresses``. A policy activates the union of its terms' detectors.

Some terms name sensitive data no deterministic detector can find (postal addresses, names, dates of
birth...). They are reported as ``uncovered``: a policy with detectors and uncovered terms asks the judge
(when one is configured) about prompts the detectors pass; a policy with no detector at all is judged
entirely by the judge. The vocabulary selects *what to look for*: a policy is read as a prohibition
("do not share...", "block..."), as Flashback policies are written; negations are not parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from policyhub.policy_types.flashback.detectors import ALL_PII, ALL_SECRETS, DETECTORS

NATIONAL_IDS = ("us_ssn", "uk_nino", "ca_sin")
CLOUD_KEYS = ("aws_access_key", "aws_secret_key", "gcp_key", "azure_key")
TOKENS = ("github_token", "slack_token", "stripe_key", "llm_api_key", "jwt", "bearer_token", "generic_secret")
API_KEYS = (*CLOUD_KEYS, *TOKENS)


@dataclass(frozen=True)
class Term:
    label: str
    phrases: tuple[str, ...]
    detectors: tuple[str, ...]  # empty: sensitive, but only a judge can tell


def _t(label: str, phrases: str, detectors: tuple[str, ...] = ()) -> Term:
    return Term(label, tuple(p.strip() for p in phrases.split("|")), detectors)


VOCABULARY: tuple[Term, ...] = (
    # personal data
    _t(
        "personal data",
        "pii|personally identifiable information|personal identifiable information|personal data|"
        "personal information|personal details|sensitive personal data",
        ALL_PII,
    ),
    _t("email address", "email|e mail|email address|e mail address|mail address", ("email",)),
    _t(
        "phone number",
        "phone|phone number|telephone|telephone number|mobile number|cell number|cellphone|contact number",
        ("phone",),
    ),
    _t("US social security number", "ssn|social security number|social security", ("us_ssn",)),
    _t("UK national insurance number", "national insurance number|nino|ni number", ("uk_nino",)),
    _t("Canadian social insurance number", "social insurance number", ("ca_sin",)),
    _t(
        "national id",
        "national id|national identification number|national identity number|national identifier|"
        "government id|government issued id|id number|identity number",
        NATIONAL_IDS,
    ),
    _t(
        "payment card",
        "credit card|debit card|card number|payment card|card details|cc number|credit card number",
        ("payment_card",),
    ),
    _t(
        "bank account",
        "iban|bank account|account number|bank details|banking details|bank account number",
        ("iban",),
    ),
    _t(
        "financial data",
        "financial data|financial information|payment information|payment details|payment data",
        ("payment_card", "iban"),
    ),
    # secrets
    _t("secret", "secret|credential|sensitive credential|authentication secret", ALL_SECRETS),
    _t(
        "API key",
        "api key|apikey|api token|api secret|access key|access token|developer key|service key",
        API_KEYS,
    ),
    _t(
        "token",
        "token|auth token|authentication token|bearer token|session token|oauth token",
        TOKENS,
    ),
    _t("JSON web token", "jwt|json web token", ("jwt",)),
    _t("password", "password|passwd|passphrase", ("generic_secret",)),
    _t(
        "private key",
        "private key|ssh key|pem|rsa key|signing key|pgp key|certificate key",
        ("private_key",),
    ),
    _t("cloud key", "cloud key|cloud credential|cloud secret|cloud access key", CLOUD_KEYS),
    _t(
        "AWS key",
        "aws key|aws access key|aws secret|aws secret key|aws credential|amazon key|iam key",
        ("aws_access_key", "aws_secret_key"),
    ),
    _t(
        "Google Cloud key",
        "gcp key|google api key|google cloud key|gcp credential|google cloud credential|service account key",
        ("gcp_key", "private_key"),
    ),
    _t(
        "Azure key",
        "azure key|azure secret|azure credential|storage account key|connection string",
        ("azure_key",),
    ),
    _t("GitHub token", "github token|github pat|personal access token|github key", ("github_token",)),
    _t("Slack token", "slack token|slack webhook|slack key", ("slack_token",)),
    _t("Stripe key", "stripe key|stripe secret", ("stripe_key",)),
    _t(
        "AI provider key",
        "openai key|openai api key|anthropic key|hugging face token|llm key|model provider key",
        ("llm_api_key",),
    ),
    # sensitive, but beyond deterministic detection
    _t("postal address", "address|home address|postal address|street address|mailing address"),
    _t("IP address", "ip address"),
    _t("name", "name|full name|first name|last name|customer name|person name"),
    _t("date of birth", "date of birth|dates of birth|birth date|birthday|dob"),
    _t("passport number", "passport|passport number"),
    _t("driver's licence", "driver license|driver licence|drivers license|drivers licence|driving licence"),
    _t("health information", "medical|health|health information|phi|diagnosis|medical record"),
    _t("biometric data", "biometric|biometric data"),
    _t("location", "location|geolocation|gps coordinate"),
)


def _phrase_regex(phrase: str) -> str:
    plural = "(?:es)?" if phrase.endswith(("s", "x", "ch", "sh")) else "s?"
    return r"\b" + " ".join(re.escape(w) for w in phrase.split(" ")) + plural + r"\b"


def _build() -> tuple[re.Pattern[str], dict[str, Term]]:
    entries = [(phrase, index) for index, term in enumerate(VOCABULARY) for phrase in term.phrases]
    entries.sort(key=lambda e: -len(e[0]))  # longest first: alternation takes the first that matches
    groups: dict[str, Term] = {}
    parts = []
    for number, (phrase, index) in enumerate(entries):
        name = f"p{number}"
        groups[name] = VOCABULARY[index]
        parts.append(f"(?P<{name}>{_phrase_regex(phrase)})")
    return re.compile("|".join(parts)), groups


_TERMS, _GROUPS = _build()
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Selection:
    """What a policy's content selects: detectors (in the built-in order), the terms that selected
    them, and the sensitive terms no detector covers."""

    detectors: tuple[str, ...]
    terms: tuple[tuple[str, str, tuple[str, ...]], ...]  # (phrase as found, label, detectors)
    uncovered: tuple[str, ...]

    @property
    def mode(self) -> str:
        """``detectors`` alone, ``detectors+judge`` (uncovered terms too) or ``judge`` (no detector)."""
        if not self.detectors:
            return "judge"
        return "detectors+judge" if self.uncovered else "detectors"

    def describe(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "detectors": list(self.detectors),
            "terms": [{"term": found, "label": label, "detectors": list(dets)} for found, label, dets in self.terms],
            "uncovered": list(self.uncovered),
        }


def select(content: str) -> Selection:
    normalized = _NON_ALNUM.sub(" ", content.lower())
    chosen: set[str] = set()
    terms: list[tuple[str, str, tuple[str, ...]]] = []
    uncovered: list[str] = []
    seen: set[tuple[str, str]] = set()
    for match in _TERMS.finditer(normalized):
        term = _GROUPS[match.lastgroup or ""]
        found = match.group(0)
        if (found, term.label) in seen:
            continue
        seen.add((found, term.label))
        terms.append((found, term.label, term.detectors))
        chosen.update(term.detectors)
        if not term.detectors and term.label not in uncovered:
            uncovered.append(term.label)
    detectors = tuple(name for name in DETECTORS if name in chosen)
    return Selection(detectors, tuple(terms), tuple(uncovered))
