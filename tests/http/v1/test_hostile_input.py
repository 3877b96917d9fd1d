"""Bad input gets a clear 4xx naming the field and changes nothing; never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import OrgClient


def post_raw(org: OrgClient, body: bytes, content_type: str = "application/json"):  # type: ignore[no-untyped-def]
    return org.post("policies", content=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "empty"),
        (b"{", "malformed JSON"),
        (b'{"name": "a", "name": "b", "type": "document", "spec": {}}', "duplicate key"),
        (b'{"name": "n", "type": "document", "spec": {"x": NaN}}', "NaN"),
        (b'{"name": "n", "type": "document", "spec": {"x": Infinity}}', "Infinity"),
        (b'{"name": "n", "type": "document", "spec": {"x": 123456789012345678901234567890}}', "out of range"),
        (b'{"name": "n", "type": "document", "spec": {"x": 1e400}}', "out of range"),
        (b'{"name": "n", "type": "document", "spec": {"x": "\\ud800"}}', "surrogate"),
        (b'{"name": "n", "type": "document", "spec": {"x": "a\\u0000b"}}', "NUL"),
        (b'{"name": "n\xff", "type": "document", "spec": {}}', "UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b'"just a string"', "JSON object"),
    ],
)
def test_malformed_json_is_400_with_a_reason(org: OrgClient, body: bytes, fragment: str) -> None:
    r = post_raw(org, body)
    assert r.status_code == 400, r.text
    assert fragment.lower() in r.text.lower()
    assert org.get("policies").json()["items"] == []


def test_deep_json_is_400(org: OrgClient) -> None:
    deep = b'{"name": "d", "type": "document", "spec": ' + b'{"a": ' * 100 + b"1" + b"}" * 100 + b"}"
    r = post_raw(org, deep)
    assert r.status_code == 400 and "deeper" in r.text
    very_deep = b'{"spec": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    assert post_raw(org, very_deep).status_code == 400


def test_body_over_the_limit_is_413(org: OrgClient) -> None:
    big = b'{"name": "big", "type": "document", "spec": {"x": "' + b"a" * (11 * 1024 * 1024) + b'"}}'
    r = post_raw(org, big)
    assert r.status_code == 413
    assert org.get("policies").json()["items"] == []


def test_chunked_body_over_the_limit_is_413(org: OrgClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"name": "big", "type": "document", "spec": {"x": "'
        for _ in range(11):
            yield b"a" * (1024 * 1024)
        yield b'"}}'

    r = org.post("policies", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type_is_415(org: OrgClient, content_type: str) -> None:
    r = post_raw(org, b'{"name": "n", "type": "document", "spec": {}}', content_type)
    assert r.status_code == 415, r.text
    org.create_policy("ct")
    r = org.request("PATCH", "policies/ct", content=b'{"description": "x"}', headers={"Content-Type": "text/plain"})
    assert r.status_code == 415


def test_a_body_that_is_not_json_under_a_wrong_content_type_is_415_not_400(org: OrgClient) -> None:
    """The media type is checked before the body is parsed: XML or form data is a 415, not "malformed JSON"."""
    org.create_policy("ct-xml")
    r = org.request("PATCH", "policies/ct-xml", content=b"<spec/>", headers={"Content-Type": "application/xml"})
    assert r.status_code == 415, r.text
    r = org.request(
        "PUT", "policies/ct-xml", content=b"spec=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 415, r.text
    assert org.get("policies/ct-xml").json()["revision"] == 1


def test_vendor_json_routes_refuse_a_declared_non_json_body_with_415(org: OrgClient) -> None:
    body = b'{"name": "N", "content": "C.", "riskType": "LOW", "actionType": 1}'
    r = org.post("/policy", content=body, headers={"Content-Type": "text/plain"})
    assert r.status_code == 415, r.text
    assert org.get("policies").json()["items"] == []


@pytest.mark.parametrize(
    "name",
    [
        "",
        "-starts-with-dash",
        "has space",
        "slash/inside",
        "a" * 129,
        "zero\u200bwidth",
        "bidi\u202eevil",
        "nul\x00byte",
        "tab\tname",
        "caf\u00e9",
        "cafe\u0301",
        "../etc/passwd",
    ],
)
def test_bad_names_are_400_naming_the_field(org: OrgClient, name: str) -> None:
    r = org.post("policies", json={"name": name, "type": "document", "spec": {}})
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == "name"


def test_unknown_type_lists_supported(org: OrgClient) -> None:
    r = org.post("policies", json={"name": "t", "type": "no-such-type", "spec": {}})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "type" and "document" in r.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("enabled", "yes"),
        ("enforcement", "sometimes"),
        ("labels", {"k": 1}),
        ("labels", {"bad key!": "v"}),
        ("description", 5),
        ("spec", [1]),
        ("spec", "text"),
        ("description", "x" * 5000),
    ],
)
def test_badly_typed_fields_are_400(org: OrgClient, field: str, value: object) -> None:
    r = org.post("policies", json={"name": "typed", "type": "document", "spec": {}, field: value})
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"].split(".")[0] == field


def test_unsupported_method_is_405_problem(org: OrgClient) -> None:
    r = org.request("TRACE", "policies")
    assert r.status_code == 405
    r = org.request("POST", "policies/x/versions")
    assert r.status_code == 405
    assert r.json()["status"] == 405


def test_unknown_route_is_404_problem(org: OrgClient) -> None:
    r = org.get("nothing-here")
    assert r.status_code == 404 and r.json()["status"] == 404


def test_bad_query_parameters_are_400(org: OrgClient) -> None:
    assert org.get("policies?limit=0").status_code == 400
    assert org.get("policies?limit=abc").status_code == 400
    assert org.get("policies?page_token=@@@").status_code == 400
    assert org.get("policies?label_selector=a%20in%20()").status_code == 400
    assert org.get("policies?enabled=maybe").status_code == 400


def test_nul_in_path_or_query_is_400_not_a_database_error(org: OrgClient) -> None:
    for path in ("policies/%00", "scopes/%00", "policies?name_prefix=%00", "policies/a%00b/versions"):
        r = org.get(path)
        assert r.status_code == 400, (path, r.text)


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30, 0])
def test_version_numbers_no_column_can_hold_are_404_not_500(org: OrgClient, number: int) -> None:
    org.create_policy("vmax")
    assert org.get(f"policies/vmax/versions/{number}").status_code == 404
    assert org.get("policies/vmax/diff", params={"from": 1, "to": number}).status_code in (400, 404)
    if number < 2**53:
        r = org.post("policies/vmax/rollback", json={"version": number})
        assert r.status_code in (400, 404), r.text


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_a_bad_dry_run_flag_is_400_naming_it_on_every_write(org: OrgClient, method: str) -> None:
    org.post("policies", json={"name": "flagged", "type": "document", "spec": {}}).raise_for_status()
    body = {"spec": {"a": 1}} if method != "DELETE" else None
    headers = {"content-type": "application/merge-patch+json"} if method == "PATCH" else {}
    r = org.request(method, "policies/flagged?dry_run=perhaps", json=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == "dry_run"
    for spelling in ("1", "yes", "True", "on"):  # what FastAPI's bool parameters accept
        r = org.request(method, f"policies/flagged?dry_run={spelling}", json=body, headers=headers)
        assert r.status_code == 200 and r.headers["PolicyHub-Dry-Run"] == "true", (spelling, r.text)
    assert org.get("policies/flagged").json()["revision"] == 1


def test_a_policy_item_names_every_method_it_allows(org: OrgClient) -> None:
    org.post("policies", json={"name": "methods", "type": "document", "spec": {}}).raise_for_status()
    r = org.request("POST", "policies/methods")
    assert r.status_code == 405 and r.json()["status"] == 405
    assert {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "PUT", "PATCH", "DELETE"}
    assert org.request("HEAD", "policies/methods").status_code == 405
