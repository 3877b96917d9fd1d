"""Ed25519 signatures over canonical JSON: how an agent knows a bundle (or any value) came from its hub.

The hub signs the UTF-8 bytes of ``canonical_json(value)`` (``domain.canonical``: sorted keys, no spaces),
so a signature holds across any re-serialisation that keeps the JSON value; change one byte of one
item's value and it no longer verifies. Keys are Ed25519 (RFC 8032): a 32-byte seed (private) and a
32-byte public key, written as standard base64. A key's id is the first 16 hex characters of the SHA-256
of its raw public key, so anyone holding the public key can check which key an envelope names.

An envelope is ``{"bundle": <value>, "signature": <base64>, "key_id": <id>}`` (the shape of
``GET /v1/orgs/{org}/bundles/{environment}``); :func:`open_envelope` checks it against a set of trusted
public keys (those ``GET /v1/bundle-keys`` publishes, or one pinned in the agent's configuration).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from policyhub.domain.canonical import canonical_json

ALGORITHM = "Ed25519"


class SignatureError(ValueError):
    """A signature, key or envelope is malformed, names an unknown key, or does not verify."""


def signed_bytes(value: Any) -> bytes:
    """What is signed: the value's canonical JSON, UTF-8."""
    return canonical_json(value).encode("utf-8")


def _b64decode(text: Any, what: str, length: int) -> bytes:
    if not isinstance(text, str):
        raise SignatureError(f"{what}: must be a base64 string")
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{what}: not valid base64") from None
    if len(raw) != length:
        raise SignatureError(f"{what}: must be {length} bytes (got {len(raw)})")
    return raw


def key_id(public_key: bytes) -> str:
    """The public name of a key: 16 hex characters of the SHA-256 of its raw public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def public_key_from_b64(text: Any) -> bytes:
    """A raw 32-byte public key from its base64 text (:class:`SignatureError` if it is not one)."""
    raw = _b64decode(text, "public key", 32)
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise SignatureError("public key: not an Ed25519 public key") from None
    return raw


@dataclass(frozen=True)
class PublicKey:
    """A trusted verification key."""

    key_id: str
    raw: bytes

    @classmethod
    def from_b64(cls, text: Any) -> PublicKey:
        raw = public_key_from_b64(text)
        return cls(key_id(raw), raw)

    @property
    def b64(self) -> str:
        return base64.b64encode(self.raw).decode("ascii")

    def published(self) -> dict[str, str]:
        """The entry ``GET /v1/bundle-keys`` lists."""
        return {"key_id": self.key_id, "algorithm": ALGORITHM, "public_key": self.b64}

    def verify(self, value: Any, signature_b64: Any) -> None:
        """Raise :class:`SignatureError` unless ``signature_b64`` signs ``value`` under this key."""
        signature = _b64decode(signature_b64, "signature", 64)
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, signed_bytes(value))
        except InvalidSignature:
            raise SignatureError(f"signature does not verify under key {self.key_id}") from None


class SigningKey:
    """The hub's private key (from a 32-byte seed); the seed never leaves this object."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise SignatureError(f"signing key: the Ed25519 seed must be 32 bytes (got {len(seed)})")
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        raw = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public = PublicKey(key_id(raw), raw)

    @classmethod
    def from_b64(cls, text: str) -> SigningKey:
        """From the base64 seed (``POLICYHUB_BUNDLE_SIGNING_KEY`` or a key file's one line)."""
        return cls(_b64decode(text, "signing key", 32))

    @classmethod
    def generate(cls) -> SigningKey:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(seed)

    @property
    def key_id(self) -> str:
        return self.public.key_id

    def sign(self, value: Any) -> str:
        """The base64 Ed25519 signature of ``value``'s canonical JSON."""
        return base64.b64encode(self._private.sign(signed_bytes(value))).decode("ascii")

    def sign_canonical(self, text: str) -> str:
        """:meth:`sign` of a value whose canonical JSON (``canonical_json(value)``) is ``text``, already
        written (a large bundle is serialised once for its signature and its ETag)."""
        return base64.b64encode(self._private.sign(text.encode("utf-8"))).decode("ascii")

    def envelope(self, bundle: Any) -> dict[str, Any]:
        """``{"bundle", "signature", "key_id"}``: what the bundles endpoint answers."""
        return {"bundle": bundle, "signature": self.sign(bundle), "key_id": self.key_id}


def open_envelope(envelope: Any, trusted: Mapping[str, PublicKey] | PublicKey) -> Any:
    """The envelope's ``bundle``, once its signature verifies under the trusted key it names.

    ``trusted``: the keys by id, or one pinned key. Raises :class:`SignatureError` for a malformed
    envelope, a key id not trusted, or a signature that does not verify.
    """
    if not isinstance(envelope, dict) or "bundle" not in envelope:
        raise SignatureError("envelope: must be an object with 'bundle', 'signature' and 'key_id'")
    named = envelope.get("key_id")
    if not isinstance(named, str):
        raise SignatureError("envelope.key_id: must be a string")
    keys = {trusted.key_id: trusted} if isinstance(trusted, PublicKey) else trusted
    key = keys.get(named)
    if key is None:
        raise SignatureError(f"envelope.key_id: key {named!r} is not trusted")
    key.verify(envelope["bundle"], envelope.get("signature"))
    return envelope["bundle"]
