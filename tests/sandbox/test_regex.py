"""Tenant patterns on RE2: linear time, groups only where asked for, one budget per policy, escaping."""

from __future__ import annotations

import time

import pytest
import re2
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from policyhub.sandbox.regex import PatternBudget, PatternError, compile_pattern, escape, pattern_problem


def test_backtracking_patterns_answer_in_linear_time() -> None:
    started = time.perf_counter()
    assert compile_pattern("(a+)+$").fullmatch("a" * 27 + "!") is False  # Python's re: seconds
    assert compile_pattern("(a+)+$").search("a" * 100_000 + "!") is False
    assert time.perf_counter() - started < 2


def test_parentheses_only_group_unless_captures_are_asked_for() -> None:
    """Capturing makes RE2 leave its DFA: ``(.)`` 1,000 times against 8 KiB took 3.3 s, 13 ms without."""
    many_groups = compile_pattern("(.)" * 1000 + "x")
    started = time.perf_counter()
    assert many_groups.search("ab" * 4096) is False
    assert time.perf_counter() - started < 1
    assert compile_pattern("(a)(b)").search_groups("xab") == ()
    assert compile_pattern("(a)(b)?", captures=True).search_groups("xa") == ("a", None)


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=a)", "(?<!a)b", "a*+", "(?>a)", "(", "x" * 5000])
def test_patterns_re2_cannot_run_are_refused_saying_why(pattern: str) -> None:
    assert pattern_problem(pattern)


def test_a_budget_refuses_the_pattern_that_spends_it() -> None:
    budget = PatternBudget()
    costly = r"(?i)^[\pL\pN ._-]{1,255}$"  # ~350,000 instructions
    assert budget.problem(costly) is None and budget.problem(costly + "x") is None
    with pytest.raises(PatternError, match="together compile to more than"):
        budget.compile(costly + "y")
    assert budget.problem("a") is not None  # spent


def test_escape_matches_exactly_the_text() -> None:
    text = "a.b*c[d]{e}(f)|g^h$i\\j k\t\n\x00é/-~&#"
    assert compile_pattern(escape(text)).fullmatch(text) is True
    assert compile_pattern(escape(text)).fullmatch(text + "x") is False


PATTERN_CHARS = st.sampled_from([*"ab.|*+?()[]^$-", "é", "\\d", "\\w", "{1,2}", "(?i)"])


@settings(max_examples=1500, deadline=None)
@given(st.lists(PATTERN_CHARS, max_size=10).map("".join), st.text(st.sampled_from([*"abAB1 \n", "é", "€"]), max_size=8))
def test_bool_answers_agree_with_google_re2(pattern: str, text: str) -> None:
    """The bool answers call RE2's Match directly; they must say what google-re2's own API says."""
    options = re2.Options()
    options.log_errors = False
    try:
        reference = re2.compile(pattern, options)
    except re2.error:
        assume(False)
    compiled = compile_pattern(pattern)
    assert compiled.search(text) is (reference.search(text) is not None)
    assert compiled.match(text) is (reference.match(text) is not None)
    assert compiled.fullmatch(text) is (reference.fullmatch(text) is not None)
