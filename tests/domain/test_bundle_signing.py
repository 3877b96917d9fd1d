"""Ed25519 over canonical JSON: a bundle verifies under its hub's key, and not after any one-byte change."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from policyhub.domain.bundle_signing import PublicKey, SignatureError, SigningKey, key_id, open_envelope
from policyhub.domain.bundles import build_bundle
from policyhub.domain.canonical import canonical_json
from tests.domain.test_bundles import _policy_item

SEED = base64.b64encode(bytes(range(32))).decode()


def _bundle() -> dict[str, Any]:
    bundle = build_bundle(org="o", environment="prod", revision=42, scopes=[], policies=[], resources=[])
    second = {**_policy_item(), "id": "q", "spec": {"limit": 5, "window": "1m", "nested": [1, "ü", None]}}
    bundle["policies"] = [_policy_item(), second]
    return bundle


def test_a_signed_bundle_opens_under_the_published_key_and_a_pinned_one() -> None:
    key = SigningKey.from_b64(SEED)
    envelope = key.envelope(_bundle())
    published = key.public.published()
    assert published["algorithm"] == "Ed25519"
    pinned = PublicKey.from_b64(published["public_key"])
    assert pinned.key_id == key.key_id == published["key_id"] == key_id(base64.b64decode(published["public_key"]))
    # what the agent gets over the wire: JSON text with another key order still verifies
    received = json.loads(json.dumps(envelope, indent=2))
    assert open_envelope(received, {pinned.key_id: pinned}) == _bundle()
    assert open_envelope(received, pinned) == _bundle()


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


def _one_byte_changed(value: Any) -> Any:
    """A scalar one byte different (a string's last character, a number's last digit, a flag flipped)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value ^ 1
    if isinstance(value, float):
        return value + 1
    if value is None:
        return 0
    text = str(value)
    return text[:-1] + ("x" if not text.endswith("x") else "y") if text else "x"


def test_signing_the_canonical_text_is_signing_the_value() -> None:
    key = SigningKey.from_b64(SEED)
    bundle = _bundle()
    envelope = {"bundle": bundle, "signature": key.sign_canonical(canonical_json(bundle)), "key_id": key.key_id}
    assert open_envelope(envelope, key.public) == bundle
    assert envelope["signature"] == key.sign(bundle)  # Ed25519 is deterministic


def test_a_one_byte_change_anywhere_fails_verification() -> None:
    key = SigningKey.from_b64(SEED)
    envelope = key.envelope(_bundle())
    paths = _leaves(envelope["bundle"])
    assert len(paths) > 40  # every field of both policies, and the header
    for path in paths:
        tampered = copy.deepcopy(envelope)
        target = tampered["bundle"]
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = _one_byte_changed(target[path[-1]])
        assert canonical_json(tampered["bundle"]) != canonical_json(envelope["bundle"])
        with pytest.raises(SignatureError, match="does not verify"):
            open_envelope(tampered, key.public)


def test_an_added_or_removed_item_fails_verification() -> None:
    key = SigningKey.from_b64(SEED)
    envelope = key.envelope(_bundle())
    removed = copy.deepcopy(envelope)
    removed["bundle"]["policies"].pop()
    added = copy.deepcopy(envelope)
    added["bundle"]["scopes"].append({"id": "s"})
    for tampered in (removed, added):
        with pytest.raises(SignatureError):
            open_envelope(tampered, key.public)


def test_a_wrong_key_fails_and_an_unknown_key_id_is_refused() -> None:
    key = SigningKey.from_b64(SEED)
    other = SigningKey.generate()
    envelope = key.envelope(_bundle())
    # the other key's public key, under the signer's id: the signature does not verify
    impostor = PublicKey(key.key_id, other.public.raw)
    with pytest.raises(SignatureError, match="does not verify"):
        open_envelope(envelope, impostor)
    with pytest.raises(SignatureError, match="is not trusted"):
        open_envelope(envelope, other.public)
    # signed by another key that names the trusted one: refused too
    forged = {**other.envelope(_bundle()), "key_id": key.key_id}
    with pytest.raises(SignatureError, match="does not verify"):
        open_envelope(forged, key.public)


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        ([], "envelope: must be an object"),
        ({"bundle": {}, "signature": "AA==", "key_id": 1}, "envelope.key_id: must be a string"),
        ({"bundle": {}, "signature": "not base64!", "key_id": "K"}, "signature: not valid base64"),
        ({"bundle": {}, "signature": "AAAA", "key_id": "K"}, "signature: must be 64 bytes"),
        ({"bundle": {}, "key_id": "K"}, "signature: must be a base64 string"),
    ],
)
def test_a_malformed_envelope_is_refused(envelope: Any, message: str) -> None:
    key = SigningKey.from_b64(SEED)
    trusted = {"K": PublicKey("K", key.public.raw)}
    with pytest.raises(SignatureError, match=message):
        open_envelope(envelope, trusted)


def test_bad_keys_are_refused() -> None:
    with pytest.raises(SignatureError, match="32 bytes"):
        SigningKey.from_b64(base64.b64encode(b"short").decode())
    with pytest.raises(SignatureError, match="public key: must be 32 bytes"):
        PublicKey.from_b64("AAAA")
