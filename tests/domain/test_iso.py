"""``iso``: the one textual form of a timestamp, whatever the datetime's zone (or none: SQLite's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from policyhub.domain.canonical import iso

zones = st.sampled_from([None, UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-7, minutes=-30))])


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 1, 1)), zones)
def test_iso_is_utc_with_microseconds_and_z(naive: datetime, zone: timezone | None) -> None:
    value = naive if zone is None else naive.replace(tzinfo=zone)
    as_utc = naive if zone is None else value.astimezone(UTC).replace(tzinfo=None)
    assert iso(value) == as_utc.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def test_examples() -> None:
    assert iso(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"
    assert iso(datetime(2026, 1, 2, 3, 4, 5, 7)) == "2026-01-02T03:04:05.000007Z"
    assert iso(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=1)))) == "2026-01-02T02:04:05.000000Z"
