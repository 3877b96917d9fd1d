"""Tenant-written regular expressions, run by RE2: linear time in the subject, bounded memory.

Python's ``re`` backtracks: ``(a+)+$`` against 28 ``a``s and a ``!`` takes seconds. RE2 never
backtracks, and refuses what it cannot run in linear time (backreferences, lookarounds), which is a
400 naming the field when the policy is written (:func:`pattern_problem`). Subjects longer than
:data:`MAX_SUBJECT_CHARS` are refused (:class:`SubjectTooLong`), which the engine turns into a deny
with the reason.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

_ANCHOR: Any = re2._Anchor  # RE2::Anchor: UNANCHORED, ANCHOR_START, ANCHOR_BOTH

#: Longest pattern a tenant may write.
MAX_PATTERN_CHARS = 4096
#: Longest text a tenant pattern is matched against (a header, a path, an attestation field, a prompt).
MAX_SUBJECT_CHARS = 1 << 20
#: RE2's memory budget for one compiled pattern (its DFA cache); a pattern needing more fails to compile.
MAX_PATTERN_MEMORY = 8 << 20
#: RE2 program instructions the patterns of one policy may compile to together. A pattern near the memory
#: budget (``(?i)[\pL\pN]{1,255}``: ~350,000) takes ~100 ms to compile; an ASCII identity pattern is tens.
MAX_POLICY_PATTERN_SIZE = 1_000_000


class PatternError(ValueError):
    """A pattern RE2 cannot run (bad syntax, a backreference or lookaround, too large)."""


class SubjectTooLong(ValueError):
    """A subject longer than the matching budget."""


class SafePattern:
    """A compiled tenant pattern with ``re``-like ``search``/``match``/``fullmatch`` that answer bools.

    The bool answers call RE2's ``Match`` directly: google-re2's ``search`` also maps every byte offset
    back to a character offset, in Python (3.4 -> 0.8 us for a short identity, on every decision).
    """

    __slots__ = ("_match", "_regex", "pattern")

    def __init__(self, pattern: str, regex: re2._Regexp) -> None:
        self.pattern = pattern
        self._regex = regex
        self._match = regex._regexp.Match  # google-re2's binding of RE2::Match (version pinned in the lock)

    def _answers(self, anchor: Any, text: str) -> bool:
        data = _bounded(text).encode()
        return bool(self._match(anchor, data, 0, len(data))[0][0] >= 0)

    def search(self, text: str) -> bool:
        return self._answers(_ANCHOR.UNANCHORED, text)

    def match(self, text: str) -> bool:
        return self._answers(_ANCHOR.ANCHOR_START, text)

    def fullmatch(self, text: str) -> bool:
        return self._answers(_ANCHOR.ANCHOR_BOTH, text)

    def search_groups(self, text: str) -> tuple[str | None, ...] | None:
        """The groups of the first match in ``text`` (None for a group that took no part), or None; only
        a pattern compiled with ``captures=True`` has groups."""
        found = self._regex.search(_bounded(text))
        return None if found is None else tuple(found.groups())

    @property
    def size(self) -> int:
        """RE2's program size (instructions): what compiling and matching the pattern cost grows with."""
        return int(self._regex.programsize)

    def __repr__(self) -> str:
        return f"SafePattern({self.pattern!r})"


class PatternBudget:
    """The patterns of one policy compile within one budget of RE2 program size, so a policy listing a
    thousand patterns each near the memory budget (minutes of CPU to compile) is refused after a few."""

    __slots__ = ("left",)

    def __init__(self, size: int = MAX_POLICY_PATTERN_SIZE) -> None:
        self.left = size

    def compile(self, pattern: str, *, ignore_case: bool = False) -> SafePattern:
        """:func:`compile_pattern`, charged to the budget; :class:`PatternError` once it is spent."""
        if self.left < 0:
            raise PatternError(_SPENT)
        compiled = compile_pattern(pattern, ignore_case=ignore_case)
        self.left -= compiled.size
        if self.left < 0:
            raise PatternError(_SPENT)
        return compiled

    def problem(self, pattern: str, *, ignore_case: bool = False) -> str | None:
        """Why ``pattern`` cannot be used within the budget (a field error at write time), or None."""
        try:
            self.compile(pattern, ignore_case=ignore_case)
        except PatternError as exc:
            return str(exc)
        return None


_SPENT = f"the policy's regular expressions together compile to more than {MAX_POLICY_PATTERN_SIZE:,} RE2 instructions"


def compile_pattern(
    pattern: str, *, ignore_case: bool = False, max_memory: int = MAX_PATTERN_MEMORY, captures: bool = False
) -> SafePattern:
    """Compile ``pattern`` with RE2 (cached); raises :class:`PatternError` saying why it cannot run.
    ``max_memory`` bounds the compiled program and so the time compiling takes (8 MiB: up to ~130 ms;
    256 KiB: ~1 ms), for patterns that arrive with each decision rather than with a policy. Without
    ``captures`` its parentheses only group: RE2 then answers with its DFA alone (``(.)`` 1,000 times
    against 8 KiB: 13 ms; capturing, 3.3 s)."""
    if not isinstance(pattern, str):
        raise PatternError("a regular expression must be a string")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"regular expression longer than {MAX_PATTERN_CHARS} characters")
    return _compile(pattern, ignore_case, max_memory, captures)


def escape(text: str) -> str:
    """A pattern matching exactly ``text`` (every character but letters and digits escaped, RE2's way)."""
    return str(re2.escape(text))


def pattern_problem(pattern: str, *, ignore_case: bool = False) -> str | None:
    """Why ``pattern`` cannot be used (for a field error at write time), or None."""
    try:
        compile_pattern(pattern, ignore_case=ignore_case)
    except PatternError as exc:
        return str(exc)
    return None


@lru_cache(maxsize=4096)
def _compile(pattern: str, ignore_case: bool, max_memory: int, captures: bool) -> SafePattern:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = max_memory
    options.never_capture = not captures
    options.case_sensitive = not ignore_case
    try:
        return SafePattern(pattern, re2.compile(pattern, options))
    except re2.error as exc:
        raise PatternError(f"invalid regular expression (linear-time RE2 syntax): {_message(exc)}") from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise PatternError(f"invalid regular expression: {exc}") from None


def _message(exc: BaseException) -> str:
    said = exc.args[0] if exc.args else exc
    return said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)


def _bounded(text: str) -> str:
    if len(text) > MAX_SUBJECT_CHARS:
        raise SubjectTooLong(
            f"text of {len(text)} characters is longer than the {MAX_SUBJECT_CHARS} a pattern is matched against"
        )
    return text
