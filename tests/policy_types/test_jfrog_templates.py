"""JFrog templates (Rego + parameters) and rules (template + string values)."""

from __future__ import annotations

from typing import Any

import pytest

from policyhub.policy_types.jfrog import (
    allowed_rego_builtins,
    disallowed_rego_calls,
    validate_rego,
    validate_rule,
    validate_template,
)

from .helpers import error_map

REGO = """\
package curation.policies

import rego.v1

# http.send in a comment is fine
default allow := {"should_allow": false, "explanation": "no evidence"}

too_many(vulns, limit) if {
    count(vulns) > to_number(limit)
}

allow := {"should_allow": true, "explanation": "time.now_ns() in a string is fine"} if {
    not too_many(input.data.vulnerabilities, input.params.max_vulns)
    startswith(lower(input.data.name), "app-")
}
"""

TEMPLATE: dict[str, Any] = {
    "name": "Max vulnerabilities",
    "description": "Block when there are too many vulnerabilities",
    "version": "1.0.0",
    "category": "security",
    "data_source_type": "evidence",
    "rego": REGO,
    "parameters": [{"name": "max_vulns", "type": "int"}, {"name": "strict", "type": "bool"}],
}


def test_template_normalises_with_defaults() -> None:
    assert validate_template(TEMPLATE) == {**TEMPLATE, "scanners": []}


def test_template_server_fields_are_dropped() -> None:
    body = {**TEMPLATE, "id": "tpl-1", "is_custom": True, "created_at": "2025-01-01T00:00:00Z"}
    assert "id" not in validate_template(body)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        ('r := http.send({"method": "GET", "url": "https://x"})', "http.send"),
        ("t := time.now_ns()", "time.now_ns"),
        ('n := rand.intn("x", 10)', "rand.intn"),
        ("rt := opa.runtime()", "opa.runtime"),
        ('ips := net.lookup_ip_addr("example.com")', "net.lookup_ip_addr"),
        ('u := uuid.rfc4122("x")', "uuid.rfc4122"),
        ('p := os.getenv("PATH")', "os.getenv"),
        ("c := io.jwt.decode(input.token)", "io.jwt.decode"),
        ("x := data.lib.helper(1)", "data.lib.helper"),
    ],
)
def test_rego_with_disallowed_builtin_is_rejected(call: str, name: str) -> None:
    rego = f"package curation.policies\n\nallow if {{\n    {call}\n}}\n"
    errors = error_map(lambda: validate_template({**TEMPLATE, "rego": rego}))
    assert list(errors) == ["rego"]
    assert f"uses functions that are not allowed: {name}." in errors["rego"]


def test_rego_check_ignores_comments_and_strings_and_allows_own_functions() -> None:
    assert disallowed_rego_calls(REGO) == []
    assert disallowed_rego_calls('package p\nx := `http.send(raw)`\ny := sprintf("%v", [1])\n') == ["sprintf"]


def test_rego_needs_a_package() -> None:
    errors = error_map(lambda: validate_rego("allow { true }"))
    assert errors == {"rego": "must declare a package (e.g. 'package curation.policies')"}
    assert validate_rego("package unifiedpolicy\ndefault allow = false\n").startswith("package")


def test_allow_list_is_exposed() -> None:
    names = allowed_rego_builtins()
    assert "count" in names and "regex.match" in names
    assert "http.send" not in names and "time.now_ns" not in names


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "fun"}, "category"),
        ({"data_source_type": "xray"}, "data_source_type"),
        ({"version": "1.0 beta"}, "version"),
        ({"rego": ""}, "rego"),
        ({"rego": "package p\n" + "#" * 65536}, "rego"),
        ({"parameters": [{"name": "-bad", "type": "int"}]}, "parameters.0.name"),
        ({"parameters": [{"name": "x", "type": "list"}]}, "parameters.0.type"),
        ({"parameters": [{"name": f"p{i}", "type": "int"} for i in range(21)]}, "parameters"),
        ({"parameters": [{"name": "x", "type": "int"}, {"name": "x", "type": "bool"}]}, "parameters.1.name"),
        ({"scanners": ["sca", "sca"]}, "scanners"),
        ({"scanners": ["virus"]}, "scanners.0"),
        ({"name": ""}, "name"),
        ({"lang": "rego"}, "lang"),
    ],
)
def test_template_field_errors(change: dict[str, Any], field: str) -> None:
    assert list(error_map(lambda: validate_template({**TEMPLATE, **change}))) == [field]


def test_template_body_must_be_object() -> None:
    assert error_map(lambda: validate_template([TEMPLATE])) == {"body": "must be a JSON object"}


RULE: dict[str, Any] = {
    "name": "Max 5 vulns",
    "template_id": "tpl-1",
    "parameters": [{"name": "max_vulns", "value": "5"}, {"name": "strict", "value": "true"}],
}


def test_rule_validates_against_template() -> None:
    assert validate_rule({**RULE, "id": "r-1", "is_custom": True}, TEMPLATE) == RULE


def test_rule_without_template_checks_shape_only() -> None:
    assert validate_rule({**RULE, "parameters": [{"name": "anything", "value": "x"}]})["parameters"] == [
        {"name": "anything", "value": "x"}
    ]


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (
            [{"name": "max_vulns", "value": "five"}, {"name": "strict", "value": "true"}],
            {"parameters.0.value": "must be an integer (int parameter)"},
        ),
        (
            [{"name": "max_vulns", "value": "5"}, {"name": "strict", "value": "yes"}],
            {"parameters.1.value": "must be 'true' or 'false' (bool parameter)"},
        ),
        (
            [{"name": "max_vulns", "value": "5"}],
            {"parameters": "missing a value for template parameter 'strict'"},
        ),
        (
            [{"name": "max_vulns", "value": "5"}, {"name": "strict", "value": "true"}, {"name": "x", "value": "1"}],
            {"parameters.2.name": "the template has no parameter 'x' (declared: max_vulns, strict)"},
        ),
        (
            [
                {"name": "max_vulns", "value": "5"},
                {"name": "max_vulns", "value": "6"},
                {"name": "strict", "value": "true"},
            ],
            {"parameters.1.name": "duplicate parameter 'max_vulns'"},
        ),
        (
            [{"name": "max_vulns", "value": 5}, {"name": "strict", "value": True}],
            {
                "parameters.0.value": "Input should be a valid string",
                "parameters.1.value": "Input should be a valid string",
            },
        ),
    ],
)
def test_rule_parameter_errors(parameters: list[dict[str, Any]], expected: dict[str, str]) -> None:
    assert error_map(lambda: validate_rule({**RULE, "parameters": parameters}, TEMPLATE)) == expected


@pytest.mark.parametrize(
    ("declared", "value", "ok"),
    [
        ("float", "1.5", True),
        ("float", "nan", False),
        ("float", "inf", False),
        ("object", '{"a": 1}', True),
        ("object", "[1]", False),
        ("object", "{", False),
        ("string", "", True),
        ("int", "-12", True),
        ("int", "1" * 40, False),
    ],
)
def test_rule_parameter_types(declared: str, value: str, ok: bool) -> None:
    template = {"parameters": [{"name": "p", "type": declared}]}
    body = {**RULE, "parameters": [{"name": "p", "value": value}]}
    if ok:
        assert validate_rule(body, template)["parameters"] == [{"name": "p", "value": value}]
    else:
        assert list(error_map(lambda: validate_rule(body, template))) == ["parameters.0.value"]


def test_rule_required_fields() -> None:
    assert error_map(lambda: validate_rule({})) == {
        "name": "field required",
        "template_id": "field required",
        "parameters": "field required",
    }
