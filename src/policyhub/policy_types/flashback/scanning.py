"""How a detector scans: patterns with cheap gates, so clean text costs (almost) nothing.

Python's regex engine tries a pattern at every position of the text unless the pattern starts with a
literal, so a detector guards each pattern with gates that are C-speed string operations:

* ``hints``: case-sensitive substrings, one of which must occur (``AKIA``, ``-----BEGIN``, ``@``);
* ``anchors``: lower-case keywords the match starts with (``bearer``, ``password``): the pattern is
  only tried where one occurs (``str.find`` on the lower-cased text), not at every position;
* ``min_digits``: the pattern is only tried in small windows around *digit clusters* (runs of digits
  and separators holding 6 or more digits, ``4111 1111 1111 1111``, ``(415) 555-2671``) with at least
  this many digits; prose with a year or a count in it has no cluster and costs one shared scan.

Patterns that start with a literal (``AKIA``, ``ghp_``, ``eyJ``) need no gate: the engine jumps to the
literal. The per-text facts (lower-cased copy, digit clusters) are computed once per text, in a
:class:`TextView` shared by every detector of a decision. Patterns are ASCII-only (``re.ASCII``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_CLUSTER = re.compile(r"[0-9][0-9 ().+/-]{4,}[0-9]", re.ASCII)
MIN_CLUSTER_DIGITS = 6
_SEPARATORS = " ().+/-"
BEFORE, AFTER = 16, 8  # window margins around a cluster (an IBAN's letters, a NINO's suffix letter)


@dataclass(frozen=True)
class Finding:
    """One instance found: which detector, where, and an optional kind (``visa``, ``DE``)."""

    detector: str
    start: int
    end: int
    kind: str | None = None


#: A check sees the regex match and returns None (not a real instance) or (start, end, kind).
Check = Callable[[re.Match[str]], tuple[int, int, str | None] | None]


class TextView:
    """A text and the facts the gates need, each computed at most once."""

    __slots__ = ("_clusters", "_lower", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._lower: str | None = None
        self._clusters: list[tuple[int, int, int]] | None = None

    @property
    def lower(self) -> str | None:
        """The lower-cased text, or None when lower-casing changes its length (positions would not align)."""
        if self._lower is None:
            lowered = self.text.lower()
            self._lower = lowered if len(lowered) == len(self.text) else ""
        return self._lower or None

    @property
    def clusters(self) -> list[tuple[int, int, int]]:
        """(start, end, digit count) of each digit cluster."""
        if self._clusters is None:
            self._clusters = []
            for match in _CLUSTER.finditer(self.text):
                chunk = match.group(0)
                digits = len(chunk) - sum(map(chunk.count, _SEPARATORS))
                if digits >= MIN_CLUSTER_DIGITS:
                    self._clusters.append((match.start(), match.end(), digits))
        return self._clusters

    def windows(self, min_digits: int) -> list[tuple[int, int]]:
        """Merged windows around the clusters with at least ``min_digits`` digits."""
        out: list[tuple[int, int]] = []
        size = len(self.text)
        for start, end, digits in self.clusters:
            if digits < min_digits:
                continue
            lo, hi = max(0, start - BEFORE), min(size, end + AFTER)
            if out and lo <= out[-1][1]:
                out[-1] = (out[-1][0], hi)
            else:
                out.append((lo, hi))
        return out


def rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    check: Check | None = None
    hints: tuple[str, ...] = ()
    anchors: tuple[str, ...] = ()  # the regex must match starting at an anchor's position
    min_digits: int = 0
    group: int = 0  # the group whose span is reported (the secret, not its label)

    def matches(self, view: TextView) -> Iterator[re.Match[str]]:
        text = view.text
        windows = view.windows(self.min_digits) if self.min_digits else None
        if windows == []:
            return
        if self.hints:
            for hint in self.hints:
                if hint in text:
                    break
            else:
                return
        lower = view.lower if self.anchors else None
        if lower is None:
            if windows is None:
                yield from self.regex.finditer(text)
            else:
                for lo, hi in windows:
                    yield from self.regex.finditer(text, lo, hi)
            return
        starts: set[int] = set()
        for anchor in self.anchors:
            at = lower.find(anchor)
            while at >= 0:
                starts.add(at)
                at = lower.find(anchor, at + 1)
        done = -1
        for start in sorted(starts):
            if start < done:
                continue
            match = self.regex.match(text, start)
            if match is not None:
                done = match.end()
                yield match


@dataclass(frozen=True)
class Detector:
    name: str
    category: str
    description: str
    patterns: tuple[Pattern, ...]

    def find(self, text: str | TextView) -> list[Finding]:
        view = text if isinstance(text, TextView) else TextView(text)
        found: list[Finding] = []
        for pattern in self.patterns:
            for match in pattern.matches(view):
                if pattern.check is None:
                    found.append(Finding(self.name, match.start(pattern.group), match.end(pattern.group)))
                    continue
                hit = pattern.check(match)
                if hit is not None:
                    found.append(Finding(self.name, *hit))
        return found


def span(match: re.Match[str], group: int = 0, kind: str | None = None) -> tuple[int, int, str | None]:
    return match.start(group), match.end(group), kind


def when(test: Callable[[str], bool], group: int = 0, kind: str | None = None) -> Check:
    """A check that accepts the match when ``test(group text)`` holds."""
    return lambda m: span(m, group, kind) if test(m.group(group)) else None
