"""The bundle codec: every record comes back equal, and malformed items are refused naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.domain.bundles import (
    BundleError,
    build_bundle,
    bundle_digest,
    canonical_texts,
    compose,
    content_digest,
    decode_bundle,
    decode_policy,
    decode_resource,
    decode_scope,
    encode_policy,
    encode_resource,
    encode_scope,
    item_text,
    list_text,
)
from policyhub.domain.canonical import canonical_json, sha256_hex
from policyhub.domain.records import Enforcement, Policy, Resource, Scope

texts = st.text(max_size=20)
ids = st.uuids().map(str)
whens = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 31), timezones=st.just(UTC))
json_scalars = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | texts | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10,
)
json_objects = st.dictionaries(texts, json_values, max_size=4)

scopes = st.builds(
    Scope,
    id=ids,
    org_id=ids,
    parent_id=st.none() | ids,
    kind=texts,
    key=texts,
    name=texts,
    path=texts,
    attributes=json_objects,
    created_at=whens,
)
policies = st.builds(
    Policy,
    id=ids,
    org_id=ids,
    scope_id=st.none() | ids,
    scope_path=st.none() | texts,
    name=texts,
    description=texts,
    type=texts,
    spec=json_objects,
    source=st.none() | st.text(max_size=200),
    enforcement=st.sampled_from(list(Enforcement)),
    enabled=st.booleans(),
    labels=st.dictionaries(texts, texts, max_size=3),
    attributes=json_objects,
    revision=st.integers(0, 2**31),
    version=st.integers(0, 2**31),
    created_at=whens,
    created_by=texts,
    updated_at=whens,
    updated_by=texts,
    archived=st.booleans(),
    archived_at=st.none() | whens,
)
resources = st.builds(
    Resource,
    id=ids,
    org_id=ids,
    kind=texts,
    key=texts,
    data=json_objects,
    created_at=whens,
    created_by=texts,
    updated_at=whens,
    updated_by=texts,
)


def _through_json(item: dict[str, Any]) -> Any:
    """What the agent receives: the item after canonical JSON text and back."""
    import json

    return json.loads(canonical_json(item))


@settings(max_examples=150, deadline=None)
@given(policies)
def test_a_policy_comes_back_equal(policy: Policy) -> None:
    assert decode_policy(_through_json(encode_policy(policy))) == policy


@settings(max_examples=100, deadline=None)
@given(scopes)
def test_a_scope_comes_back_equal(scope: Scope) -> None:
    assert decode_scope(_through_json(encode_scope(scope))) == scope


@settings(max_examples=100, deadline=None)
@given(resources)
def test_a_resource_comes_back_equal(resource: Resource) -> None:
    assert decode_resource(_through_json(encode_resource(resource))) == resource


@settings(max_examples=50, deadline=None)
@given(st.lists(scopes, max_size=3), st.lists(policies, max_size=3), st.lists(resources, max_size=3))
def test_a_bundle_comes_back_with_its_records_in_id_order(s: list[Scope], p: list[Policy], r: list[Resource]) -> None:
    bundle = build_bundle(org="o", environment="prod", revision=7, scopes=s, policies=p, resources=r)
    decoded = decode_bundle(_through_json(bundle))
    assert (decoded.org, decoded.environment, decoded.revision) == ("o", "prod", 7)
    assert list(decoded.scopes) == sorted(s, key=lambda x: x.id)
    assert list(decoded.policies) == sorted(p, key=lambda x: x.id)
    assert list(decoded.resources) == sorted(r, key=lambda x: (x.kind, x.id))
    # the order given does not change the content, so neither the digest (the ETag)
    again = build_bundle(org="o", environment="prod", revision=7, scopes=s[::-1], policies=p[::-1], resources=r[::-1])
    assert bundle_digest(again) == bundle_digest(bundle)
    # the one-pass texts are the canonical ones, and the content text leaves only the revision out
    full, content = canonical_texts(bundle)
    assert full == canonical_json(bundle)
    # and so are the texts composed from each item's own text (how the hub writes a bundle again)
    composed = compose(
        org="o",
        environment="prod",
        revision=7,
        scopes=list_text(item_text(i) for i in bundle["scopes"]),
        policies=list_text(item_text(i) for i in bundle["policies"]),
        resources=list_text(item_text(i) for i in bundle["resources"]),
    )
    assert composed == (full, content)
    assert sha256_hex(content) == content_digest(bundle) == content_digest({**bundle, "revision": 8})


def test_a_naive_datetime_is_read_as_utc() -> None:
    naive = datetime(2026, 1, 2, 3, 4, 5, 6)
    scope = Scope("s", "o", None, "team", "k", "n", "k", {}, naive)
    assert decode_scope(encode_scope(scope)).created_at == naive.replace(tzinfo=UTC)
    elsewhere = datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    back = decode_scope(encode_scope(Scope("s", "o", None, "t", "k", "n", "k", {}, elsewhere))).created_at
    assert back == elsewhere and back.tzinfo is UTC


def _policy_item() -> dict[str, Any]:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    policy = Policy(
        "p",
        "o",
        None,
        None,
        "n",
        "",
        "rate_limit",
        {"limit": 1},
        None,
        Enforcement.ENFORCE,
        True,
        {},
        {},
        1,
        1,
        now,
        "u",
        now,
        "u",
        False,
    )
    return encode_policy(policy)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"spec": []}, "policies[0].spec: must be an object"),
        ({"enabled": "yes"}, "policies[0].enabled: must be a boolean"),
        ({"version": True}, "policies[0].version: must be an integer"),
        ({"version": 1.0}, "policies[0].version: must be an integer"),
        ({"enforcement": "block"}, "policies[0].enforcement: must be one of enforce, warn, audit"),
        ({"created_at": "yesterday"}, "policies[0].created_at: must be an RFC 3339 timestamp"),
        ({"labels": {"a": 1}}, "policies[0].labels: values must be strings"),
        ({"scope_id": 3}, "policies[0].scope_id: must be a string or null"),
        ({"name": None}, "policies[0].name: must be a string"),
    ],
)
def test_a_malformed_item_is_refused_naming_its_field(change: dict[str, Any], message: str) -> None:
    bundle = build_bundle(org="o", environment="e", revision=1, scopes=[], policies=[], resources=[])
    bundle["policies"] = [{**_policy_item(), **change}]
    with pytest.raises(BundleError) as caught:
        decode_bundle(bundle)
    assert str(caught.value) == message


def test_a_missing_field_or_wrong_format_is_refused() -> None:
    item = _policy_item()
    del item["spec"]
    with pytest.raises(BundleError, match=r"^policy\.spec: missing$"):
        decode_policy(item)
    bundle = build_bundle(org="o", environment="e", revision=1, scopes=[], policies=[], resources=[])
    with pytest.raises(BundleError, match=r"bundle\.format: must be 1"):
        decode_bundle({**bundle, "format": 2})
    with pytest.raises(BundleError, match=r"bundle\.scopes: must be an array"):
        decode_bundle({**bundle, "scopes": {}})
    with pytest.raises(BundleError, match=r"bundle\.revision: must not be negative"):
        decode_bundle({**bundle, "revision": -1})
    with pytest.raises(BundleError, match="bundle: must be an object"):
        decode_bundle([])
