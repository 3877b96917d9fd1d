"""Globs run by RE2 match exactly what ``fnmatch`` matches, in linear time."""

from __future__ import annotations

import fnmatch
import re
import time
import warnings

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from policyhub.sandbox.glob import compile_glob, glob_matcher, translate_glob
from policyhub.sandbox.regex import MAX_PATTERN_CHARS, compile_pattern

GLOB_CHARS = st.sampled_from([*"ab-z!^[]*?\\.@:", "é", "\n"])
TEXT_CHARS = st.sampled_from([*"abz-!^[]\\.@:", "é", "\n", "c", "y"])


def _fnmatch(text: str, glob: str) -> bool | None:
    """What fnmatch answers, or None where fnmatch itself fails (Python rejects its own translation)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return fnmatch.fnmatchcase(text, glob)
    except re.error:
        return None


@settings(max_examples=3000, deadline=None)
@given(st.text(GLOB_CHARS, max_size=12), st.text(TEXT_CHARS, max_size=8))
def test_same_matches_as_fnmatch(glob: str, text: str) -> None:
    expected = _fnmatch(text, glob)
    assume(expected is not None)
    assert compile_glob(glob).fullmatch(text) == expected, translate_glob(glob)
    assert glob_matcher(glob)(text) == expected


@settings(max_examples=2000, deadline=None)
@given(st.text(st.sampled_from([*"ab*@."]), max_size=10), st.text(st.sampled_from([*"ab@.c"]), max_size=10))
def test_star_only_globs_match_by_string_search_as_fnmatch_does(glob: str, text: str) -> None:
    """Globs whose only wildcard is ``*`` skip RE2 (string search): the same answers, dense in stars."""
    assert glob_matcher(glob)(text) == fnmatch.fnmatchcase(text, glob), glob


@pytest.mark.parametrize(
    ("glob", "text", "matches"),
    [
        ("*@openmined.org", "alice@openmined.org", True),
        ("*@openmined.org", "alice@openmined.org.evil", False),
        ("?ob@x.org", "bob@x.org", True),
        ("[ab]*", "bob", True),
        ("[!ab]*", "bob", False),
        ("[z-a]", "a", False),  # a reversed range matches nothing
        ("[!z-a]", "q", True),
        ("a[", "a[", True),  # an unclosed set is a literal bracket
        ("[[:alpha:]]", "a]", True),  # no POSIX classes in globs: the set holds [ : a l p h
        ("[[:alpha:]]", "x", False),
    ],
)
def test_glob_semantics(glob: str, text: str, matches: bool) -> None:
    assert compile_glob(glob).fullmatch(text) is matches
    assert fnmatch.fnmatchcase(text, glob) is matches


def test_every_long_glob_compiles() -> None:
    """The longest glob a Syft Space list holds (320 characters), of the widest characters, still runs."""
    widest = ("\U0010ffff" * 320, "\x00" * 320, "[\U0010ffff-\U0010ffff]" * 64, "[!\x00-\U0010ffff]" * 64, "*?" * 160)
    for glob in widest:
        assert len(translate_glob(glob)) <= MAX_PATTERN_CHARS
        compile_pattern(translate_glob(glob))


def test_many_stars_run_in_linear_time() -> None:
    glob = "*a" * 100 + "b"
    started = time.perf_counter()
    assert compile_glob(glob).fullmatch("a" * 100_000) is False
    assert time.perf_counter() - started < 2
