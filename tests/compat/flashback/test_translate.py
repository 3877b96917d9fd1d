"""The pure translations: names, timestamps, people, error fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from policyhub.domain.names import NAME_PATTERN
from policyhub.errors import FieldError, InvalidInput, NotFound
from policyhub.http.compat.flashback import translate


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("Jane Smith", ("Jane", "Smith")),
        ("Madonna", ("Madonna", "")),
        ("  Jean Claude  Van Damme ", ("Jean", "Claude  Van Damme")),
        ("", ("", "")),
    ],
)
def test_split_name(display: str, expected: tuple[str, str]) -> None:
    assert translate.split_name(display) == expected


def test_iso_ms_is_javascripts_to_iso_string() -> None:
    assert translate.iso_ms(datetime(2024, 1, 20, 14, 15, 0, 123999, tzinfo=UTC)) == "2024-01-20T14:15:00.123Z"
    assert translate.iso_ms(datetime(2024, 1, 15, 10, 30)) == "2024-01-15T10:30:00.000Z", "naive means UTC"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Updated PII Protection Policy", "updated-pii-protection-policy-0a1b2c3d"),
        ("  --Café & Crème!! ", "cafe-creme-0a1b2c3d"),
        ("Политика", "policy-0a1b2c3d"),
        ("a" * 300, "a" * 100 + "-0a1b2c3d"),
    ],
)
def test_core_name(name: str, expected: str) -> None:
    derived = translate.core_name(name, "0a1b2c3d")
    assert derived == expected and NAME_PATTERN.fullmatch(derived)
    assert translate.name_suffix(derived) == "0a1b2c3d"


def test_name_suffix_of_a_name_set_elsewhere() -> None:
    assert translate.name_suffix("hand-made") is None


def test_update_patch() -> None:
    assert translate.update_patch({"riskType": "HIGH"}, None) == {"spec": {"riskType": "HIGH"}}
    assert translate.update_patch({"name": "N"}, "n-0a1b2c3d") == {
        "attributes": {"flashback": {"name": "N"}},
        "name": "n-0a1b2c3d",
    }


def test_error_message_names_wire_fields() -> None:
    exc = InvalidInput("x", [FieldError("spec.actionType", "bad"), FieldError("attributes.flashback.name", "long")])
    assert translate.error_message(exc) == "actionType: bad; name: long"
    assert translate.error_message(NotFound("Policy not found")) == "Policy not found"
