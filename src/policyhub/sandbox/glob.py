"""Tenant-written shell globs (``*``, ``?``, ``[seq]``, ``[!seq]``) matched by RE2, with ``fnmatch``'s meaning.

``fnmatch.translate`` writes Python-only syntax (atomic groups) for Python's backtracking engine. This
translation gives the same matches in RE2 syntax, so matching is linear in the subject. Every glob
translates to a pattern RE2 can run (each literal character is escaped), so a glob is never refused for
its syntax, only for its length (:data:`~policyhub.sandbox.regex.MAX_PATTERN_CHARS` after translation).
"""

from __future__ import annotations

from collections.abc import Callable

from policyhub.sandbox.regex import (
    MAX_PATTERN_CHARS,
    MAX_SUBJECT_CHARS,
    PatternBudget,
    PatternError,
    SafePattern,
    SubjectTooLong,
    compile_pattern,
    escape,
)

_NOTHING = r"[^\x00-\x{10FFFF}]"  # a class no character is in: fnmatch's empty range
_RANGE = None  # in a set's tokens: the hyphen between two chunks, a range operator


def compile_glob(glob: str) -> SafePattern:
    """The glob as a :class:`SafePattern`; use ``fullmatch`` (a glob matches the whole text)."""
    return compile_pattern(translate_glob(glob))


def glob_matcher(glob: str, budget: PatternBudget | None = None) -> Callable[[str], bool]:
    """Does a text match ``glob``? A glob without ``*``, ``?`` or ``[`` is compared, not run; one whose only
    wildcard is ``*`` (``*@example.com``, the common case) is matched by string search, linear in the text;
    the others are compiled within ``budget`` when one is given (:class:`PatternError` once it is spent)."""
    if _literal(glob):
        return glob.__eq__
    if "?" not in glob and "[" not in glob:
        if len(glob) > MAX_PATTERN_CHARS:
            raise PatternError(f"glob longer than {MAX_PATTERN_CHARS} characters")
        return _stars(glob)
    pattern = translate_glob(glob)
    return (compile_pattern(pattern) if budget is None else budget.compile(pattern)).fullmatch


def glob_problem(glob: str, budget: PatternBudget | None = None) -> str | None:
    """Why ``glob`` cannot be used (a field error at write time), or None. Only its size can be a reason:
    longer than a pattern may be, or over the ``budget`` the policy's globs share."""
    try:
        glob_matcher(glob, budget)
    except PatternError as exc:
        return str(exc)
    return None


def _stars(glob: str) -> Callable[[str], bool]:
    """A matcher for a glob whose only wildcard is ``*``: the fixed head and tail, then each middle part
    found leftmost in order (leftmost is always right when every gap may hold anything)."""
    head, *middle, tail = glob.split("*")
    middle = [part for part in middle if part]
    shortest = len(head) + len(tail) + sum(map(len, middle))

    def match(text: str) -> bool:
        if len(text) > MAX_SUBJECT_CHARS:
            raise SubjectTooLong(f"text of {len(text)} characters is longer than the {MAX_SUBJECT_CHARS} matched")
        if len(text) < shortest or not text.startswith(head) or not text.endswith(tail):
            return False
        at, end = len(head), len(text) - len(tail)
        for part in middle:
            found = text.find(part, at, end)
            if found < 0:
                return False
            at = found + len(part)
        return True

    return match


def _literal(glob: str) -> bool:
    return not any(special in glob for special in "*?[")


def translate_glob(glob: str) -> str:
    """An RE2 pattern that fully matches exactly what ``fnmatch.fnmatchcase(text, glob)`` matches."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        char = glob[i]
        i += 1
        if char == "*":
            if not out or out[-1] != ".*":  # consecutive stars are one
                out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            end = _set_end(glob, i)
            if end < 0:
                out.append(escape("["))
            else:
                out.append(_char_set(glob[i:end]))
                i = end + 1
        else:
            out.append(escape(char))
    return "(?s:" + "".join(out) + ")"


def _set_end(glob: str, start: int) -> int:
    """The index of the ``]`` closing the set opened just before ``start``, or -1 (then ``[`` is literal)."""
    j, n = start, len(glob)
    if j < n and glob[j] == "!":
        j += 1
    if j < n and glob[j] == "]":  # a ``]`` first in the set is a member
        j += 1
    while j < n and glob[j] != "]":
        j += 1
    return j if j < n else -1


def _char_set(body: str) -> str:
    """``[body]`` as an RE2 class, read as ``fnmatch.translate`` (Python 3.11) reads it.

    fnmatch splits the body into chunks at the hyphens that are range operators, drops reversed ranges
    (with their two ends), then reads a leading ``!`` as negation; every other character is a member.
    """
    chunks = _chunks(body)
    negated = chunks[0].startswith("!")
    if negated:
        chunks[0] = chunks[0][1:]
    tokens: list[str | None] = []
    for index, chunk in enumerate(chunks):
        if index:
            tokens.append(_RANGE)
        tokens.extend(chunk)
    members: list[str] = []
    k = 0
    while k < len(tokens):
        token, end = tokens[k], tokens[k + 2] if k + 2 < len(tokens) else None
        if token is not None and end is not None and tokens[k + 1] is _RANGE:
            members.append(f"{escape(token)}-{escape(end)}")
            k += 3
        else:
            members.append(escape("-" if token is None else token))
            k += 1
    if not members:
        return "." if negated else _NOTHING
    return "[" + ("^" if negated else "") + "".join(members) + "]"


def _chunks(body: str) -> list[str]:
    """fnmatch's chunks: the text between range hyphens, reversed ranges removed."""
    if "-" not in body:
        return [body]
    chunks: list[str] = []
    start = 0
    k = 2 if body[0] == "!" else 1  # a hyphen first in the set is a member
    while True:
        k = body.find("-", k)
        if k < 0:
            break
        chunks.append(body[start:k])
        start = k + 1
        k += 3  # a range's end character never starts another range
    rest = body[start:]
    if rest:
        chunks.append(rest)
    else:
        chunks[-1] += "-"  # a hyphen last in the set is a member
    for k in range(len(chunks) - 1, 0, -1):
        if chunks[k - 1][-1] > chunks[k][0]:  # a reversed range matches nothing: drop it and its ends
            chunks[k - 1] = chunks[k - 1][:-1] + chunks[k][1:]
            del chunks[k]
    return chunks
