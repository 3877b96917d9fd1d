"""Built-in, deterministic detectors of personal data and secrets in AI prompts and responses.

Each detector is one or more regular expressions (compiled once, at import) plus a check that rejects
look-alikes: card numbers must pass Luhn and carry a known issuer prefix, IBANs the mod-97 check, SSNs
the issuing rules, JWTs a decodable header, secret-named assignments must not be placeholders. Cheap
gates (:mod:`.scanning`) skip a pattern entirely when the text cannot contain it.

Positions are Unicode code-point offsets into the text (``start`` inclusive, ``end`` exclusive).
Reported values are always masked (:mod:`.masking`): the original text is never echoed back.
"""

from __future__ import annotations

from policyhub.policy_types.flashback.pii_detectors import PII, PII_DETECTORS
from policyhub.policy_types.flashback.scanning import Detector, Finding, TextView
from policyhub.policy_types.flashback.secret_detectors import SECRET, SECRET_DETECTORS

__all__ = ["ALL_PII", "ALL_SECRETS", "DETECTORS", "PII", "SECRET", "Detector", "Finding", "TextView", "find_all"]

#: Every built-in detector, most specific first (of overlapping findings the earlier detector's is kept).
DETECTORS: dict[str, Detector] = {d.name: d for d in (*PII_DETECTORS, *SECRET_DETECTORS)}
PRIORITY: dict[str, int] = {name: index for index, name in enumerate(DETECTORS)}
ALL_PII: tuple[str, ...] = tuple(d.name for d in PII_DETECTORS)
ALL_SECRETS: tuple[str, ...] = tuple(d.name for d in SECRET_DETECTORS)


def find_all(text: str | TextView, names: tuple[str, ...] | None = None) -> list[Finding]:
    """Every finding of the named detectors (all by default), overlaps resolved (see :func:`resolve`)."""
    view = text if isinstance(text, TextView) else TextView(text)
    found: list[Finding] = []
    for name in names if names is not None else tuple(DETECTORS):
        found.extend(DETECTORS[name].find(view))
    return resolve(found)


def resolve(found: list[Finding]) -> list[Finding]:
    """Sorted by position; of overlapping findings the first, longest, most specific one is kept."""
    ordered = sorted(found, key=lambda f: (f.start, f.start - f.end, PRIORITY[f.detector]))
    kept: list[Finding] = []
    for finding in ordered:
        if not kept or finding.start >= kept[-1].end:
            kept.append(finding)
    return kept
