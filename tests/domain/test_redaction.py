"""The decision log's allow-lists and its scrubbing of token-shaped values."""

from __future__ import annotations

import random
import secrets
import string
import uuid

import pytest

from policyhub.domain.redaction import REDACTED, Each, Fields, Named, kept, looks_random, non_text, scrub, url


@pytest.mark.parametrize(
    "text",
    [
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJl",
        "phk_" + "Qm9vZ2llV29vZ2llMTIzNDU2Nzg5MGFiY2RlZg",
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "AKIAZ7Q3M4XKJ2P8LW5N",
        "9f2a0c1b7e3d4a65b8c9d0e1f2a3b4c5",  # 32 hex: an API key, not a digest
    ],
)
def test_credentials_are_scrubbed(text: str) -> None:
    assert scrub(f"see {text} here") == f"see {REDACTED} here"


def test_auth_schemes_keep_their_name() -> None:
    assert scrub("Bearer abc.def-ghi") == f"Bearer {REDACTED}"
    assert scrub("basic dXNlcjpwYXNz") == f"basic {REDACTED}"


@pytest.mark.parametrize(
    "text",
    [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "/v1/orders/12345678901234567890",
        "getUserAccountDetailsByIdV2",
        "checkout-service-canary-20240115",
        "release-2024-01-15-build-1234",
        "2024-01-15T10:00:00.000Z",
        "ann.lee@example.com",
        str(uuid.UUID(int=0x1234567890ABCDEF1234567890ABCDEF)),
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",  # a SHA-256 fingerprint
        "11f6ad8ec52a2984abaafd7c3b516503785c2072",  # a commit
    ],
)
def test_names_identifiers_and_digests_are_kept(text: str) -> None:
    assert scrub(text) == text


def test_random_tokens_are_recognised() -> None:
    rng = random.Random(11)
    alphabets = [string.ascii_letters + string.digits, string.hexdigits.lower(), string.ascii_lowercase + string.digits]
    for length in (24, 32, 43):
        missed = sum(
            not looks_random("".join(rng.choice(alphabet) for _ in range(length)))
            for alphabet in alphabets
            for _ in range(1000)
        )
        assert missed < 60, f"{missed} of 3000 random {length}-character tokens pass as names"
    assert looks_random(secrets.token_hex(16))


def test_urls_keep_parameter_names_only() -> None:
    assert url("/a;jsessionid=X1?token=abc&page=2&flag#frag") == (
        f"/a;jsessionid={REDACTED}?token={REDACTED}&page={REDACTED}&flag#{REDACTED}"
    )
    assert url("/plain/path") == "/plain/path"
    assert url(None) is None


def test_rules_redact_what_they_do_not_name() -> None:
    rule = Fields({"a": kept, "h": Named(("user-agent",)), "n": non_text, "items": Each(Fields({"x": kept}))})
    value = {
        "a": "Bearer t0k3n",
        "h": {"User-Agent": "curl", "Cookie": "s=1"},
        "n": {"count": 2, "name": "secret", "deep": [True, "x"]},
        "items": [{"x": 1, "y": 2}],
        "other": {"anything": 1},
        "nothing": None,
    }
    assert rule(value) == {
        "a": f"Bearer {REDACTED}",
        "h": {"User-Agent": "curl", "Cookie": REDACTED},
        "n": {"count": 2, "name": REDACTED, "deep": [True, REDACTED]},
        "items": [{"x": 1, "y": REDACTED}],
        "other": REDACTED,
        "nothing": None,
    }
    assert rule("not an object") == REDACTED
