"""Detectors of personal data: email, phone, national ids (US SSN, UK NINO, Canadian SIN), cards, IBANs."""

from __future__ import annotations

import re

from policyhub.policy_types.flashback import checks
from policyhub.policy_types.flashback.scanning import Detector, Pattern, rx, span

PII = "pii"

#: File extensions that follow ``@`` in asset names (``logo@2x.png``); none is a real top-level domain.
_ASSET_TLDS = frozenset(
    ("png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "css", "js", "mjs", "ts", "tsx", "jsx", "map", "json")
)


def _email(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    if m.group(2).lower() in _ASSET_TLDS:
        return None
    rest = m.string[m.end() : m.end() + 2]
    if rest[:1] == ":" and rest[1:2] not in ("", " ", "\n", "\t"):  # git@github.com:owner/repo (an SSH remote)
        return None
    return span(m)


def _phone_intl(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    text = m.group(0)
    digits = sum(c.isdigit() for c in text)
    separated = any(c in " .-()" for c in text)
    return span(m) if 8 <= digits <= 15 and (separated or digits >= 10) else None


def _ssn(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    return span(m) if checks.ssn_valid(m.group(1), m.group(3), m.group(4)) else None


def _ssn_labeled(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    d = m.group(1)
    return span(m, 1) if checks.ssn_valid(d[:3], d[3:5], d[5:]) else None


def _card(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    text = m.group(0)
    if "-" in text and " " in text:  # one kind of separator, as cards are written
        return None
    brand = checks.card_brand(text.replace(" ", "").replace("-", ""))
    return span(m, 0, brand) if brand else None


def _iban(m: re.Match[str]) -> tuple[int, int, str | None] | None:
    """Read exactly the country's IBAN length after the prefix (single spaces allowed between characters)."""
    text, country = m.string, m.group(0)[:2]
    length = checks.IBAN_LENGTHS.get(country)
    if length is None:
        return None
    chars, pos, size = [m.group(0)], m.end(), len(text)
    needed = length - 4
    while needed:
        if pos < size and text[pos] == " ":
            pos += 1
        if pos >= size or not ("A" <= text[pos] <= "Z" or "0" <= text[pos] <= "9"):
            break
        chars.append(text[pos])
        pos += 1
        needed -= 1
    end = pos
    if needed or (end < size and text[end].isalnum()):  # too short, or it runs on: not this country's IBAN
        return None
    return (m.start(), end, country) if checks.iban_valid("".join(chars)) else None


PII_DETECTORS = (
    Detector(
        "email",
        PII,
        "email addresses (not asset names like logo@2x.png, not SSH remotes like git@host:repo)",
        (
            Pattern(
                rx(
                    r"(?<![\w.%+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@"
                    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24})(?![\w-])"
                ),
                _email,
                hints=("@",),
            ),
        ),
    ),
    Detector(
        "phone",
        PII,
        "phone numbers: international (+ and 8-15 digits) or North American (415-555-2671, (415) 555-2671)",
        (
            Pattern(
                rx(r"(?<![\w+])\+[1-9]\d{0,2}(?:[ .-]?\(?\d{1,5}\)?){1,6}(?!\w)"),
                _phone_intl,
                hints=("+",),
                min_digits=8,
            ),
            Pattern(
                rx(r"(?<![\w+-])(?:1[ .-])?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w-])"),
                min_digits=10,
            ),
        ),
    ),
    Detector(
        "us_ssn",
        PII,
        "US Social Security numbers (123-45-6789, or 9 digits after 'SSN'); never-issued ranges excluded",
        (
            Pattern(rx(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])"), _ssn, min_digits=9),
            Pattern(
                rx(r"\b(?i:ssn|social\s+security(?:\s+(?:number|no))?)\b[\s:#=.-]{0,4}(?:is\s+)?(\d{9})(?!\d)"),
                _ssn_labeled,
                anchors=("ssn", "social"),
                min_digits=9,
            ),
        ),
    ),
    Detector(
        "uk_nino",
        PII,
        "UK National Insurance numbers (AB 12 34 56 C); unallocated prefixes (and HMRC's QQ examples) excluded",
        (
            Pattern(
                rx(r"(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"),
                lambda m: span(m) if checks.nino_valid(m.group(1)) else None,
                min_digits=6,
            ),
        ),
    ),
    Detector(
        "ca_sin",
        PII,
        "Canadian Social Insurance numbers (130 692 544) with a valid Luhn digit",
        (
            Pattern(
                rx(r"(?<![\w-])\d{3}([- ])\d{3}\1\d{3}(?![\w-])"),
                lambda m: span(m) if checks.sin_valid(m.group(0).replace(" ", "").replace("-", "")) else None,
                min_digits=9,
            ),
        ),
    ),
    Detector(
        "payment_card",
        PII,
        "payment card numbers: 12-19 digits with a known issuer prefix and a valid Luhn check digit",
        (Pattern(rx(r"(?<![\w-])\d(?:[ -]?\d){11,18}(?![\w-])"), _card, min_digits=12),),
    ),
    Detector(
        "iban",
        PII,
        "IBANs of the registered length for their country with a valid mod-97 check",
        (Pattern(rx(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?= ?[A-Z0-9])"), _iban, min_digits=8),),
    ),
)
