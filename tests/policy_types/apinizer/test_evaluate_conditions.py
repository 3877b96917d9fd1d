"""Apinizer policyCondition compiled to predicates: every operator, data type and combinator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyhub.policy_types.apinizer.common import PolicyCondition
from policyhub.policy_types.apinizer.conditions import compile_condition, java_date_format
from policyhub.policy_types.apinizer.variables import compile_json_path
from tests.engine.http_request_support import T0, Harness

HEADER = {"type": "HEADER", "headerName": "X-V"}


def rule(
    op: str, second: Any = None, data_type: str = "STRING", first: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "conditionCriteria": "VALUE",
        "firstVariable": first or HEADER,
        "variableDataType": data_type,
        "valueComparisonOperator": op,
        **kw,
    }
    if second is not None:
        out["secondValue"] = second
    return out


def holds(rules: list[dict[str, Any]], now: float = T0, **request: Any) -> bool:
    predicate = compile_condition(PolicyCondition.model_validate({"conditionRuleList": rules}))
    assert predicate is not None
    return predicate(Harness().evaluation(now, **request))


def value(v: str | None) -> dict[str, Any]:
    return {"headers": {"X-V": v}} if v is not None else {}


@pytest.mark.parametrize(
    ("op", "second", "v", "expected"),
    [
        ("EQ", "abc", "abc", True),
        ("EQ", "abc", "ABC", False),
        ("NE", "abc", "abd", True),
        ("NE", "abc", "abc", False),
        ("LT", "b", "a", True),
        ("LE", "b", "b", True),
        ("GT", "b", "a", False),
        ("GE", "b", "c", True),
        ("STARTS_WITH", "ab", "abc", True),
        ("STARTS_WITH", "bc", "abc", False),
        ("ENDS_WITH", "bc", "abc", True),
        ("CONTAINS", "b", "abc", True),
        ("CONTAINS", "x", "abc", False),
        ("NOT_CONTAINS", "x", "abc", True),
        ("NOT_CONTAINS", "b", "abc", False),
        ("IN", "gold, silver,bronze", "silver", True),
        ("IN", "gold,silver", "iron", False),
        ("NOT_IN", "gold,silver", "iron", True),
        ("NOT_IN", "gold,silver", "gold", False),
        ("IS_EMPTY", None, "", True),
        ("IS_EMPTY", None, "x", False),
        ("IS_NOT_EMPTY", None, "x", True),
        ("IS_EXISTS", None, "", True),
        ("IS_NOT_EXISTS", None, "", False),
    ],
)
def test_string_operators(op: str, second: str | None, v: str, expected: bool) -> None:
    assert holds([rule(op, second)], **value(v)) is expected


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("EQ", False), ("LT", False), ("STARTS_WITH", False), ("CONTAINS", False), ("IN", False),
        ("NE", True), ("NOT_CONTAINS", True), ("NOT_IN", True),
        ("IS_EMPTY", True), ("IS_NOT_EMPTY", False), ("IS_EXISTS", False), ("IS_NOT_EXISTS", True),
    ],
)  # fmt: skip
def test_a_missing_value_fails_comparisons_and_satisfies_their_negations(op: str, expected: bool) -> None:
    assert holds([rule(op, "a" if not op.startswith("IS_") else None)]) is expected


@pytest.mark.parametrize(
    ("op", "second", "v", "expected"),
    [
        ("EQ", "10", "10.0", True),
        ("GT", "9", "10", True),  # numerically, not as text
        ("LT", "-1.5", "-2", True),
        ("GE", "3", "2.999", False),
        ("IN", "1, 2, 3", "2.0", True),
        ("NE", "5", "five", True),  # not a number: only the negation holds
        ("EQ", "5", "five", False),
        ("EQ", "5", "NaN", False),
    ],
)
def test_numeric_comparisons(op: str, second: str, v: str, expected: bool) -> None:
    assert holds([rule(op, second, "NUMERIC")], **value(v)) is expected


@pytest.mark.parametrize(
    ("second", "v", "op", "expected"),
    [
        ("true", "TRUE", "EQ", True),
        ("false", "true", "EQ", False),
        ("false", "true", "NE", True),
        ("true", "yes", "EQ", False),
    ],
)
def test_boolean_comparisons(second: str, v: str, op: str, expected: bool) -> None:
    assert holds([rule(op, second, "BOOLEAN")], **value(v)) is expected


@pytest.mark.parametrize(
    ("fmt", "second", "v", "op", "expected"),
    [
        ("yyyy-MM-dd", "2026-03-01", "2026-02-28", "LT", True),
        ("dd/MM/yyyy", "01/03/2026", "15/01/2027", "GT", True),
        ("yyyy-MM-dd'T'HH:mm:ss", "2026-03-01T10:00:00", "2026-03-01T10:00:00", "EQ", True),
        ("yyyy-MM-dd HH:mm:ss.SSS", "2026-03-01 10:00:00.500", "2026-03-01 10:00:00.499", "LT", True),
        ("yyyy-MM-dd", "2026-03-01", "March 1st", "LT", False),  # not a date
        ("yyyy-MM-dd", "2026-03-01", "March 1st", "NE", True),
    ],
)
def test_date_comparisons_use_the_java_date_format(fmt: str, second: str, v: str, op: str, expected: bool) -> None:
    assert holds([rule(op, second, "DATE", dateFormat=fmt)], **value(v)) is expected


def test_current_time_compares_at_the_formats_precision_in_its_zone() -> None:
    clock = {"type": "CONTEXT_VALUES", "contextValue": "CURRENT_TIME", "zoneId": "+03:00"}
    business_hours = [
        rule("GE", "09:00", "DATE", clock, dateFormat="HH:mm"),
        rule("LT", "18:00", "DATE", clock, dateFormat="HH:mm"),
    ]
    nine_utc = datetime(2027, 1, 2, 9, 0, tzinfo=UTC).timestamp()
    assert holds(business_hours, now=nine_utc)  # 12:00 in +03:00
    assert not holds(business_hours, now=nine_utc + 6 * 3600)  # 18:00 in +03:00
    assert not holds(business_hours, now=nine_utc - 7 * 3600)  # 05:00
    today = {"type": "CONTEXT_VALUES", "contextValue": "CURRENT_DATE"}
    assert holds([rule("EQ", "2027-01-02", "DATE", today, dateFormat="yyyy-MM-dd")], now=nine_utc)


def test_java_date_formats_translate_to_strptime() -> None:
    assert java_date_format("yyyy-MM-dd'T'HH:mm:ss.SSSXXX") == "%Y-%m-%dT%H:%M:%S.%f%z"
    assert java_date_format("EEE, d MMM yy hh:mm a") == "%a, %d %b %y %I:%M %p"
    assert java_date_format("HH 'o''clock'") == "%H o'clock"
    with pytest.raises(ValueError, match="unsupported date format letter"):
        java_date_format("yyyy-ww")


def test_second_value_from_a_variable() -> None:
    same = rule(
        "EQ", first=HEADER, secondValueSource="VARIABLE", secondVariable={"type": "PARAMETER", "paramName": "v"}
    )
    assert holds([same], headers={"X-V": "a"}, query={"v": "a"})
    assert not holds([same], headers={"X-V": "a"}, query={"v": "b"})
    assert not holds([same], headers={"X-V": "a"})  # the second value is missing
    listed = rule(
        "IN", first=HEADER, secondValueSource="VARIABLE", secondVariable={"type": "HEADER", "headerName": "X-L"}
    )
    assert holds([listed], headers={"X-V": "b", "X-L": "a,b"})


def test_and_or_not_nest_and_the_top_level_list_is_an_and() -> None:
    gold = rule("EQ", "gold")
    tier = {"type": "PARAMETER", "paramName": "tier"}
    big = rule("GT", "100", "NUMERIC", {"type": "BODY", "messageContentType": "JSON", "jsonPathValue": "$.amount"})
    tree = [
        {
            "conditionCriteria": "OR",
            "conditionRuleList": [
                gold,
                {"conditionCriteria": "AND", "conditionRuleList": [rule("EQ", "x", first=tier), big]},
            ],
        },
        {"conditionCriteria": "NOT", "conditionRuleList": [rule("EQ", "blocked", first=tier)]},
    ]
    assert holds(tree, headers={"X-V": "gold"})
    assert holds(tree, query={"tier": "x"}, body={"amount": 101})
    assert not holds(tree, query={"tier": "x"}, body={"amount": 100})
    assert not holds(tree, headers={"X-V": "gold"}, query={"tier": "blocked"})  # the NOT fails
    assert compile_condition(PolicyCondition.model_validate({"conditionRuleList": []})) is None
    assert compile_condition(None) is None


@given(a=st.booleans(), b=st.booleans())
def test_combinators_are_boolean_algebra(a: bool, b: bool) -> None:
    request = {"headers": {"A": "1" if a else "0", "B": "1" if b else "0"}}
    ra, rb = (rule("EQ", "1", first={"type": "HEADER", "headerName": name}) for name in ("A", "B"))
    assert holds([{"conditionCriteria": "AND", "conditionRuleList": [ra, rb]}], **request) is (a and b)
    assert holds([{"conditionCriteria": "OR", "conditionRuleList": [ra, rb]}], **request) is (a or b)
    assert holds([{"conditionCriteria": "NOT", "conditionRuleList": [ra]}], **request) is (not a)
    assert holds([ra, rb], **request) is (a and b)


# -- variables ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "document", "expected"),
    [
        ("$.a.b", {"a": {"b": 1}}, 1),
        ("a.b", {"a": {"b": "x"}}, "x"),
        ("$['a b'][1]", {"a b": [0, 5]}, 5),
        ("$.items[-1].id", {"items": [{"id": 1}, {"id": 2}]}, 2),
        ("$.items[*].id", {"items": [{"id": 1}, {"id": 2}]}, [1, 2]),
        ("$.*", {"x": 1, "y": 2}, [1, 2]),
        ("$.missing.b", {"a": 1}, None),
        ("$.a[3]", {"a": [1]}, None),
        ("$", [1], [1]),
    ],
)
def test_json_paths(path: str, document: Any, expected: Any) -> None:
    assert compile_json_path(path)(document) == expected


def test_unsupported_json_paths_are_refused_when_compiling() -> None:
    for path in ("$..a", "$.a[?(@.b)]"):
        with pytest.raises(ValueError, match="unsupported JSON path"):
            compile_json_path(path)


@pytest.mark.parametrize(
    ("variable", "asked", "expected"),
    [
        ({"type": "BODY", "messageContentType": "JSON", "jsonPathValue": "$.ok"}, {"body": {"ok": True}}, "true"),
        (
            {"type": "BODY", "messageContentType": "JSON", "jsonPathValue": "$.o"},
            {"body": {"o": {"k": [1]}}},
            '{"k":[1]}',
        ),
        (
            {"type": "BODY", "messageContentType": "XML", "xpathValue": "//name/text()"},
            {"body": "<a><b><name>n</name></b></a>"},
            "n",
        ),
        ({"type": "BODY", "messageContentType": "XML", "xpathValue": "/other/b"}, {"body": "<a><b>x</b></a>"}, None),
        ({"type": "BODY", "messageContentType": "XML", "xpathValue": "/a/b"}, {"body": "<a><b>x</b>"}, None),
        ({"type": "CONTEXT_VALUES", "contextValue": "REQUEST_METHOD"}, {"method": "PATCH"}, "PATCH"),
        ({"type": "CONTEXT_VALUES", "contextValue": "REQUEST_PATH"}, {"path": "/a/b?x=1"}, "/a/b"),
        (
            {"type": "CONTEXT_VALUES", "contextValue": "REQUEST_URI"},
            {"path": "/a", "query": {"x": ["1", "2"]}},
            "/a?x=1&x=2",
        ),
        ({"type": "CONTEXT_VALUES", "contextValue": "REQUEST_QUERY_STRING"}, {"query": {"q": "a b"}}, "q=a+b"),
        ({"type": "CONTEXT_VALUES", "contextValue": "REQUEST_HOST"}, {"headers": {"Host": "api.x"}}, "api.x"),
        (
            {"type": "CONTEXT_VALUES", "contextValue": "CLIENT_IP"},
            {"client_ip": "1.2.3.4", "context": {"CLIENT_IP": "5.6.7.8"}},
            "5.6.7.8",
        ),
        ({"type": "CONTEXT_VALUES", "contextValue": "CLIENT_IP"}, {}, None),
    ],
)
def test_variable_values(variable: dict[str, Any], asked: dict[str, Any], expected: Any) -> None:
    condition = rule("IS_EXISTS", first=variable) if expected is None else rule("EQ", expected, first=variable)
    assert holds([condition], **asked) is (expected is not None)
