"""Tenant patterns on RE2: linear time, groups only where asked for, one budget per policy, escaping."""

from __future__ import annotations

import time

import pytest

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
