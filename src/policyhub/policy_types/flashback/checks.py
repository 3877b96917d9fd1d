"""The deterministic checks behind the detectors: checksums, issuing rules and placeholder tests.

Each check takes the candidate text a detector's pattern found and says whether it is a real instance
(a card number with a valid Luhn digit, an IBAN whose mod-97 remainder is 1, an SSN in an issued range),
so that look-alikes (order numbers, example keys) are not reported.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter

# -- payment cards ---------------------------------------------------------------------------------
#: (brand, issuer-prefix pattern, allowed lengths), most specific first.
CARD_BRANDS: tuple[tuple[str, re.Pattern[str], frozenset[int]], ...] = tuple(
    (brand, re.compile(prefix), frozenset(lengths))
    for brand, prefix, lengths in (
        ("amex", r"3[47]", (15,)),
        ("diners", r"3(?:0[0-5]|[689])", range(14, 20)),
        ("jcb", r"35(?:2[89]|[3-8]\d)", range(16, 20)),
        ("visa", r"4", (13, 16, 19)),
        ("mastercard", r"5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)", (16,)),
        ("discover", r"6011|65|64[4-9]|622(?:12[6-9]|1[3-9]\d|[2-8]\d\d|9[01]\d|92[0-5])", range(16, 20)),
        ("unionpay", r"62", range(16, 20)),
        ("maestro", r"5[06-9]|6\d", range(12, 20)),
    )
)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by card numbers and Canadian SINs."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """The card network of a Luhn-valid number with a known issuer prefix and length, else None."""
    if len(set(digits)) == 1 or not luhn_valid(digits):  # 0000 0000 0000 0000 passes Luhn
        return None
    for brand, prefix, lengths in CARD_BRANDS:
        if len(digits) in lengths and prefix.match(digits):
            return brand
    return None


# -- IBAN ------------------------------------------------------------------------------------------
#: IBAN length per country (the SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def iban_valid(compact: str) -> bool:
    """ISO 13616: the registered length for the country and ``mod 97 == 1`` over the rearranged number."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


# -- national ids ----------------------------------------------------------------------------------
#: SSNs published in advertising or by the SSA itself as examples (never valid for a person).
PUBLIC_SSNS = frozenset({"078051120", "219099999"})


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """US SSN issuing rules: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return area + group + serial not in PUBLIC_SSNS


#: NINO prefixes HMRC never allocates.
NINO_INVALID_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def nino_valid(prefix: str) -> bool:
    return prefix not in NINO_INVALID_PREFIXES


def sin_valid(digits: str) -> bool:
    """Canadian SIN: Luhn-valid, and 0 and 8 are never the first digit."""
    return digits[0] not in "08" and luhn_valid(digits)


# -- tokens ----------------------------------------------------------------------------------------
def jwt_header_valid(token: str) -> bool:
    """A JWT's first segment decodes (base64url) to a JSON object naming its ``alg``."""
    head = token.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


_PLACEHOLDER = re.compile(
    r"^(?:[<{\[$%(].*|.*[>}\]]|"
    r".*(?:example|sample|dummy|placeholder|changeme|redacted|your[_-]|xxxx|\*\*\*|\.\.\.|"
    r"environ|getenv|process\.env|config\.|settings\.|secrets\.).*)$",
    re.IGNORECASE,
)


def entropy_bits(value: str) -> float:
    """Shannon entropy per character."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def looks_secret(value: str, *, min_entropy: float = 3.0) -> bool:
    """Whether a value assigned to a secret-named key looks like a real secret, not a placeholder
    (``<token>``, ``${API_KEY}``, ``your_api_key``, ``xxxx``) or a repeated pattern."""
    if _PLACEHOLDER.match(value):
        return False
    return entropy_bits(value) >= min_entropy


def aws_example(value: str) -> bool:
    """AWS documents its example credentials with an ``EXAMPLE`` marker (``AKIAIOSFODNN7EXAMPLE``)."""
    return "EXAMPLE" in value
