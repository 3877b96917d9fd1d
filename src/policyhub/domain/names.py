"""Rules for names and keys that clients choose."""

from __future__ import annotations

import re
import unicodedata

from policyhub.errors import InvalidInput

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_.~]*$")
NAME_MAX = 128
KEY_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_.~]*$")
LABEL_KEY_PATTERN = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")

# Control, format (zero-width, bidi), surrogate and private-use code points.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def check_text(field: str, value: str, *, max_len: int, allow_newlines: bool = False) -> str:
    """NFC-normalise free text and refuse invisible or control characters in it."""
    value = unicodedata.normalize("NFC", value)
    if len(value) > max_len:
        raise InvalidInput.field(field, f"must be at most {max_len} characters")
    for ch in value:
        if allow_newlines and ch in "\n\r\t":
            continue
        if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES:
            raise InvalidInput.field(field, f"contains a forbidden character U+{ord(ch):04X}")
    return value


def policy_name(value: str, field: str = "name") -> str:
    """Validate a policy name: NFC-normalised, then 1-128 chars of ``^[a-zA-Z0-9][a-zA-Z0-9-_.~]*$``."""
    value = check_text(field, value, max_len=NAME_MAX)
    if not value:
        raise InvalidInput.field(field, "must not be empty")
    if not NAME_PATTERN.fullmatch(value):
        raise InvalidInput.field(
            field, "must start with a letter or digit and contain only letters, digits, '-', '_', '.', '~'"
        )
    return value


def scope_key(value: str, field: str = "key") -> str:
    value = check_text(field, value, max_len=128)
    if not value or not KEY_PATTERN.fullmatch(value):
        raise InvalidInput.field(
            field, "must be 1-128 letters, digits, '-', '_', '.', '~', starting with a letter or digit"
        )
    return value


def org_slug(value: str, field: str = "org") -> str:
    value = check_text(field, value, max_len=64)
    if not value or not KEY_PATTERN.fullmatch(value):
        raise InvalidInput.field(field, "must be 1-64 letters, digits, '-', '_', '.', '~'")
    return value


def labels(value: dict[str, str], field: str = "labels") -> dict[str, str]:
    """Label keys like Kubernetes' (optional ``prefix/``); values up to 256 chars of visible text."""
    out: dict[str, str] = {}
    if len(value) > 64:
        raise InvalidInput.field(field, "at most 64 labels")
    for key, val in value.items():
        if len(key) > 128 or not LABEL_KEY_PATTERN.fullmatch(key):
            raise InvalidInput.field(f"{field}.{key}", "invalid label key")
        out[key] = check_text(f"{field}.{key}", val, max_len=256)
    return out
