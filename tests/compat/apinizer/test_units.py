"""Pure pieces of the dialect: core names, list insertion, error paths."""

from __future__ import annotations

import pytest

from policyhub.errors import FieldError, InvalidInput
from policyhub.http.compat.apinizer import errors, naming, placement


def test_core_names_are_injective_and_decodable() -> None:
    a = naming.new_core_name("a.b", "c", "d")
    b = naming.new_core_name("a", "b.c", "d")
    c = naming.new_core_name("a", "b", "c.d")
    assert len({a, b, c}) == 3
    assert a == "apinizer.3.1.a.b.c.d"
    assert [naming.policy_part(n) for n in (a, b, c)] == ["d", "d", "c.d"]
    assert naming.new_core_name("P", "X", "Mixed-Case") == "apinizer.1.1.P.X.mixed-case"
    assert naming.policy_part("document-policy") is None
    assert naming.policy_part("apinizer.x.1.a.b.c") is None


@pytest.mark.parametrize("bad", ["", "-x", "has space", "ü", "a/b"])
def test_names_that_cannot_be_stored(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        naming.new_core_name("P", "X", bad)
    assert info.value.errors[0].field == "policyName"
    assert naming.core_name("P", "X", bad) is None


def test_name_length_limit() -> None:
    room = 128 - len("apinizer.1.1.P.X.")
    assert naming.new_core_name("P", "X", "a" * room)
    with pytest.raises(InvalidInput, match=f"at most {room} characters"):
        naming.new_core_name("P", "X", "a" * (room + 1))


@pytest.mark.parametrize(
    ("order", "expected"),
    [(None, "abcX"), (1, "Xabc"), (2, "aXbc"), (3, "abXc"), (4, "abcX"), (50, "abcX")],
)
def test_insert_at(order: int | None, expected: str) -> None:
    assert "".join(placement.insert_at(list("abc"), "X", order)) == expected


def test_insert_into_an_empty_list() -> None:
    assert placement.insert_at([], "X", 3) == ["X"]


def test_core_spec_paths_become_policy_paths() -> None:
    problems = [FieldError("spec.a.0", "bad"), FieldError("spec", "x"), FieldError("description", "y")]
    with pytest.raises(InvalidInput) as info, errors.policy_fields():
        raise InvalidInput("spec problems", problems)
    assert [e.field for e in info.value.errors] == ["policy.a.0", "policy", "policy.description"]
    assert info.value.detail == "policy.a.0: bad; policy: x; policy.description: y"
