"""A bundle's policy items are derived from the declaration of a policy's fields: today's items are written
byte for byte as before, and a field added to a declaration travels through the codec with no edit in
``domain/bundles.py`` (shown here on a copy of the declaration and a record extended with the field, so the
real declaration and ``POLICY_CODEC`` stay as they are)."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyhub.domain.bundles import POLICY_CODEC, BundleError, PolicyCodec, encode_policy
from policyhub.domain.canonical import canonical_json, iso
from policyhub.domain.policy_fields import POLICY_FIELDS, PolicyField, Stored, Writes
from policyhub.domain.records import Enforcement, Policy
from tests.domain.test_bundles import policies, whens


def test_a_policy_item_is_written_byte_for_byte_as_before_the_codec_was_derived() -> None:
    """The canonical text (signed, and digested for the ETag) and the key order of the hand-written codec."""
    at = datetime(2026, 12, 5, tzinfo=UTC)
    policy = Policy(
        "p", "o", "s", "a/b", "n", "d", "rate_limit", {"limit": 1}, None, Enforcement.ENFORCE, True,
        {"a": "b"}, {}, 1, 1, at, "u", at, "u", False, at,
    )  # fmt: skip
    item = encode_policy(policy)
    assert canonical_json(item) == (
        '{"archived":false,"archived_at":"2026-12-05T00:00:00.000000Z","attributes":{},'
        '"created_at":"2026-12-05T00:00:00.000000Z","created_by":"u","description":"d","enabled":true,'
        '"enforcement":"enforce","id":"p","labels":{"a":"b"},"name":"n","org_id":"o","revision":1,'
        '"scope_id":"s","scope_path":"a/b","source":null,"spec":{"limit":1},"type":"rate_limit",'
        '"updated_at":"2026-12-05T00:00:00.000000Z","updated_by":"u","version":1}'
    )
    assert list(item) == [f.name for f in fields(Policy)]
    # every declared field is carried, scope_path (shown as "scope") and org_id (not shown) included
    assert set(item) == {f.name for f in POLICY_FIELDS}


class Tier(Enum):
    GOLD = "gold"
    SILVER = "silver"


@dataclass
class OwnedPolicy(Policy):
    """A policy with fields that are not (yet) declared: what adding them to Policy would give."""

    owner: str = ""
    reviewed_at: datetime | None = None
    tier: Tier = Tier.SILVER
    budget: int | None = None
    tags: dict[str, str] | None = None


NEW_FIELDS = (
    PolicyField("owner", str, Stored("string", 200), Writes.ALWAYS, default=""),
    PolicyField("reviewed_at", datetime | None, Stored("timestamp"), default=None),
    PolicyField("tier", Tier, Stored("string", 8), Writes.ALWAYS, default=Tier.SILVER),
    PolicyField("budget", int | None, Stored("integer"), Writes.ALWAYS, default=None),
    PolicyField("tags", dict[str, str] | None, Stored("json"), Writes.ALWAYS, default=None),
)
EXTENDED = PolicyCodec((*POLICY_FIELDS, *NEW_FIELDS), OwnedPolicy)

owned_policies = st.builds(
    lambda p, owner, reviewed_at, tier, budget, tags: OwnedPolicy(
        **{f.name: getattr(p, f.name) for f in fields(Policy)},
        owner=owner,
        reviewed_at=reviewed_at,
        tier=tier,
        budget=budget,
        tags=tags,
    ),
    policies,
    st.text(max_size=20),
    st.none() | whens,
    st.sampled_from(list(Tier)),
    st.none() | st.integers(-(2**40), 2**40),
    st.none() | st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)


@settings(max_examples=100, deadline=None)
@given(owned_policies)
def test_a_field_added_to_the_declaration_comes_back_equal(policy: OwnedPolicy) -> None:
    item = EXTENDED.encode(policy)
    assert item["owner"] == policy.owner and item["tier"] == policy.tier.value
    assert item["reviewed_at"] == (None if policy.reviewed_at is None else iso(policy.reviewed_at))
    back = EXTENDED.decode(json.loads(canonical_json(item)))
    assert back == policy and type(back) is OwnedPolicy
    # the fields declared today are written as the real codec writes them
    assert {k: v for k, v in item.items() if k in POLICY_CODEC.names} == POLICY_CODEC.encode(policy)


def _owned_item() -> dict[str, Any]:
    at = datetime(2026, 12, 5, tzinfo=UTC)
    policy = OwnedPolicy(
        "p", "o", None, None, "n", "", "rate_limit", {}, None, Enforcement.ENFORCE, True, {}, {}, 1, 1,
        at, "u", at, "u", False, None, owner="ann",
    )  # fmt: skip
    return EXTENDED.encode(policy)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"owner": 3}, "policies[2].owner: must be a string"),
        ({"reviewed_at": "soon"}, "policies[2].reviewed_at: must be an RFC 3339 timestamp"),
        ({"reviewed_at": 5}, "policies[2].reviewed_at: must be a string or null"),
        ({"tier": "bronze"}, "policies[2].tier: must be one of gold, silver"),
        ({"tier": None}, "policies[2].tier: must be a string"),
        ({"budget": False}, "policies[2].budget: must be an integer or null"),
        ({"tags": {"a": 1}}, "policies[2].tags: values must be strings"),
        ({"tags": []}, "policies[2].tags: must be an object or null"),
    ],
)
def test_a_bad_value_of_an_added_field_is_refused_naming_it(change: dict[str, Any], message: str) -> None:
    with pytest.raises(BundleError) as caught:
        EXTENDED.decode({**_owned_item(), **change}, "policies[2]")
    assert str(caught.value) == message


def test_an_item_without_an_added_field_is_refused_and_the_real_codec_is_untouched() -> None:
    item = _owned_item()
    del item["owner"]
    with pytest.raises(BundleError, match=r"^policy\.owner: missing$"):
        EXTENDED.decode(item)
    assert "owner" not in POLICY_CODEC.names and "owner" not in encode_policy(EXTENDED.decode(_owned_item()))


def test_a_declaration_the_codec_cannot_carry_is_refused_when_it_is_built() -> None:
    @dataclass
    class Weighted(Policy):
        weight: float = 0.0

    with pytest.raises(TypeError, match=r"cannot carry policy field 'weight' of type <class 'float'>"):
        PolicyCodec((*POLICY_FIELDS, PolicyField("weight", float, Stored("integer"))), Weighted)
    # and a record that drifts from the declaration is refused too
    with pytest.raises(TypeError, match=r"undeclared \['budget', 'owner'"):
        PolicyCodec(POLICY_FIELDS, OwnedPolicy)
