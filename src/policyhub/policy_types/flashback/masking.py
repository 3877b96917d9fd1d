"""Masking: how found values appear in results, excerpts and the decision log (never in full).

A value keeps at most ``len // 8`` characters at each end, and never more than 4 (``4111********1111``
for a card, ``AK****************TU`` for an AWS key id, nothing for values under 8 characters); the
masked middle is at most 24 asterisks, so a long private key does not become a long line of stars.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from policyhub.policy_types.flashback import checks
from policyhub.policy_types.flashback.detectors import Finding, find_all

MAX_STARS = 24
CONTEXT = 20  # characters of context on each side of an excerpt
MAX_REPORTED = 20  # findings listed in one result (the count is always given)
MARGIN = 64  # characters beyond the context scanned for neighbouring secrets
_TOKEN = re.compile(r"[A-Za-z0-9+/=_.~-]{16,}", re.ASCII)


def mask(value: str) -> str:
    keep = min(4, len(value) // 8)
    hidden = len(value) - 2 * keep
    return value[:keep] + "*" * min(hidden, MAX_STARS) + (value[len(value) - keep :] if keep else "")


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of (start, end) intervals, sorted and non-overlapping."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


class MaskedText:
    """A text with each of some intervals replaced by its masked form, and a map of positions into it."""

    def __init__(self, text: str, spans: list[tuple[int, int]]) -> None:
        self.original = merge(spans)
        self.spans: list[tuple[int, int]] = []
        pieces: list[str] = []
        cursor = length = 0
        for start, end in self.original:
            pieces.append(text[cursor:start])
            length += start - cursor
            masked = mask(text[start:end])
            pieces.append(masked)
            self.spans.append((length, length + len(masked)))
            length += len(masked)
            cursor = end
        pieces.append(text[cursor:])
        self.text = "".join(pieces)

    def position(self, pos: int, *, end: bool = False) -> int:
        """Where original position ``pos`` lands (inside a masked interval: its start, or its end if ``end``)."""
        shift = 0
        for (o_start, o_end), (m_start, m_end) in zip(self.original, self.spans, strict=True):
            if pos < o_start or (end and pos == o_start):
                break
            if pos < o_end or (end and pos == o_end):
                return m_end if end else m_start
            shift = m_end - o_end
        return pos + shift

    def excerpt(self, start: int, end: int) -> str:
        """The masked text from ``start`` to ``end`` (original positions) with :data:`CONTEXT` characters
        around it, on one line."""
        m_start, m_end = self.position(start), self.position(end, end=True)
        lo, hi = max(0, m_start - CONTEXT), min(len(self.text), m_end + CONTEXT)
        snippet = " ".join(self.text[lo:hi].split())
        return ("…" if lo else "") + snippet + ("…" if hi < len(self.text) else "")


def report(text: str, findings: list[Finding]) -> list[dict[str, Any]]:
    """The findings as result details: detector, kind, position, masked value and masked excerpt.

    Excerpts never show a neighbouring secret, even one the policy does not look for: around each
    reported finding, everything any built-in detector finds is masked, and so is every long
    high-entropy token of the context (a key that starts before the window, say).
    """
    shown = findings[:MAX_REPORTED]
    cover = [(f.start, f.end) for f in shown]
    reach = CONTEXT + MARGIN
    for lo, hi in merge((max(0, f.start - reach), min(len(text), f.end + reach)) for f in shown):
        cover += [(lo + g.start, lo + g.end) for g in find_all(text[lo:hi])]
    for f in shown:
        for lo, hi in ((max(0, f.start - CONTEXT), f.start), (f.end, min(len(text), f.end + CONTEXT))):
            cover += [m.span() for m in _TOKEN.finditer(text, lo, hi) if checks.looks_secret(m.group(0))]
    masked = MaskedText(text, cover)
    out: list[dict[str, Any]] = []
    for f in shown:
        item: dict[str, Any] = {"detector": f.detector, "start": f.start, "end": f.end}
        if f.kind:
            item["kind"] = f.kind
        item["masked"] = mask(text[f.start : f.end])
        item["excerpt"] = masked.excerpt(f.start, f.end)
        out.append(item)
    return out


def mask_everything(text: str) -> str:
    """``text`` with whatever any built-in detector finds masked (the decision log's copy of a prompt)."""
    findings = find_all(text)
    return MaskedText(text, [(f.start, f.end) for f in findings]).text if findings else text
