"""What the decision log may keep of an input: allow-lists of fields, and token-shaped values removed.

Each decision point declares, next to its input model, a :data:`Rule` for its input: which fields are
kept and how (:class:`Fields`, :class:`Named`, :func:`kept`, :func:`url`, ...). Whatever a rule does not
name is replaced by :data:`REDACTED`, so a field added to an input later is redacted until someone
decides it is safe to keep. Kept strings still lose whatever looks like a credential (:func:`scrub`):
``Bearer``/``Basic`` credentials, JWTs, and long random-looking runs of letters and digits (API keys,
session ids), wherever they appear.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

REDACTED = "[REDACTED]"

#: What the log keeps of one value.
Rule = Callable[[Any], Any]

_SCHEME = re.compile(r"\b(Bearer|Basic|Digest|Token|Negotiate|NTLM|ApiKey)(\s+)[A-Za-z0-9._~+/=:-]+", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_RUN = re.compile(r"[A-Za-z0-9+_~-]{20,}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_PIECE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
#: Hex digests (SHA-1, SHA-256: commits, artifact fingerprints) are identifiers, not credentials.
_DIGEST_LENGTHS = (40, 64)


def looks_random(run: str) -> bool:
    """Whether a run of 20+ letters, digits and ``+_~-`` looks like a generated credential.

    Names are made of words: split into pieces (a lower-case word, possibly capitalised; an upper-case
    run; a number), they average 3 characters or more, and their digits sit apart from their letters. A
    random string's pieces average under 3 characters (base64, base62), or its digits and letters
    alternate (hex, base36). Measured: 1% of random 20-character tokens pass as names, 0.1-0.3% of 32+;
    ``getUserAccountDetailsByIdV2`` and ``checkout-service-canary-20240115`` are names; UUIDs and hex of
    a digest's length (commits, fingerprints) are identifiers; other hex of 32+ characters is a credential.
    """
    if _UUID.fullmatch(run):
        return False
    if _HEX.fullmatch(run) and len(run) >= 32:
        return len(run) not in _DIGEST_LENGTHS
    pieces = _PIECE.findall(run)
    if len(pieces) >= 6 and sum(map(len, pieces)) < 3 * len(pieces):
        return True
    switches = sum(1 for a, b in pairwise(run) if a.isalnum() and b.isalnum() and a.isdigit() != b.isdigit())
    return switches >= 0.15 * len(run)


def scrub(text: str) -> str:
    """``text`` with credentials replaced by :data:`REDACTED` (an auth scheme's name is kept)."""
    text = _SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    return _RUN.sub(lambda m: REDACTED if looks_random(m.group(0)) else m.group(0), text)


def kept(value: Any) -> Any:
    """Keep the value (any depth), its strings scrubbed of credentials."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: kept(member) for key, member in value.items()}
    if isinstance(value, list):
        return [kept(member) for member in value]
    return value


def verbatim(value: Any) -> Any:
    """Keep the value exactly (identifiers that only look random, such as fingerprints)."""
    return value


def redacted(value: Any) -> Any:
    """Keep nothing of the value (null stays null: it says nothing)."""
    return None if value is None else REDACTED


def non_text(value: Any) -> Any:
    """Keep numbers, booleans and null (any depth, keys kept); redact every string."""
    if isinstance(value, dict):
        return {key: non_text(member) for key, member in value.items()}
    if isinstance(value, list):
        return [non_text(member) for member in value]
    return REDACTED if isinstance(value, str) else value


_PARAMETER = re.compile(r"([;&?])([^;&?=#]*)=[^;&?#]*")


def url(value: Any) -> Any:
    """A path or URL: its query and matrix parameter values (``?token=``, ``;jsessionid=``) and its
    fragment redacted, the names kept; the rest scrubbed."""
    if not isinstance(value, str):
        return redacted(value)
    base, hash_mark, _ = value.partition("#")
    base = _PARAMETER.sub(lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}", base)
    parts = re.split(r"([;&?])", base)
    parts = [p if p in (";", "&", "?") or p.endswith("=" + REDACTED) else scrub(p) for p in parts]
    return "".join(parts) + (hash_mark + REDACTED if hash_mark else "")


@dataclass(frozen=True)
class Named:
    """An object of free-form names (headers, query parameters): the values of the ``allowed`` names
    (case-insensitive) are kept, scrubbed; every other name stays with its value redacted."""

    allowed: Collection[str] = ()

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return redacted(value)
        allowed = {name.lower() for name in self.allowed}
        return {name: kept(v) if str(name).lower() in allowed else redacted(v) for name, v in value.items()}


@dataclass(frozen=True)
class Fields:
    """An object with known fields: each named field by its rule; any other field redacted."""

    rules: Mapping[str, Rule]

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return redacted(value)
        return {key: self.rules.get(key, redacted)(member) for key, member in value.items()}


@dataclass(frozen=True)
class Each:
    """An array whose items each follow ``rule``."""

    rule: Rule

    def __call__(self, value: Any) -> Any:
        return [self.rule(item) for item in value] if isinstance(value, list) else redacted(value)
