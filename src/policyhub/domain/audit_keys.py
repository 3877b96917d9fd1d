"""The audit chain's keyring: the server secret that MACs every event, kept outside the database.

A SHA-256 hash chain alone proves nothing against someone who can write the database: they delete an
event and re-hash the rest. Each event therefore also carries ``HMAC-SHA256(key, key id + its hash)``
and the key's id; without the key a rewritten event cannot get a valid MAC. The first key signs new
events; the others (retired after a rotation) only verify old ones. A key's id is derived from the key
itself (an HMAC of a fixed label), so it names the key without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

#: Shortest accepted secret (characters): 32 random hex characters are 128 bits.
MIN_KEY_CHARS = 32


class AuditKeyError(ValueError):
    """A configured audit key is unusable (too short, unreadable, missing where required)."""


def key_id(secret: bytes) -> str:
    """The public name of a key: 16 hex characters of an HMAC of a fixed label under it."""
    return hmac.new(secret, b"policyhub audit key id", hashlib.sha256).hexdigest()[:16]


def _mac(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AuditKeyring:
    """The signing key (the first) and every key that still verifies, by id."""

    signing_id: str
    keys: dict[str, bytes]

    @classmethod
    def from_secrets(cls, secrets: list[str]) -> AuditKeyring:
        """The keyring of ``secrets`` (the first signs); each must be at least ``MIN_KEY_CHARS`` long."""
        if not secrets:
            raise AuditKeyError("no audit key given")
        keys: dict[str, bytes] = {}
        for secret in secrets:
            if len(secret) < MIN_KEY_CHARS:
                raise AuditKeyError(f"an audit key must be at least {MIN_KEY_CHARS} characters (got {len(secret)})")
            raw = secret.encode()
            keys.setdefault(key_id(raw), raw)
        return cls(key_id(secrets[0].encode()), keys)

    @classmethod
    def parse(cls, text: str) -> AuditKeyring:
        """Keys separated by commas or whitespace (a key file: one per line, the signing key first)."""
        return cls.from_secrets(text.replace(",", " ").split())

    def event_mac(self, event_hash: str) -> tuple[str, str]:
        """``(key id, MAC)`` of an event's hash under the signing key."""
        return self.signing_id, _mac(self.keys[self.signing_id], f"event:{self.signing_id}:{event_hash}")

    def event_mac_ok(self, key_id: str, event_hash: str, mac: str) -> bool | None:
        """Whether ``mac`` is the event's MAC under key ``key_id``; None when this keyring lacks that key."""
        secret = self.keys.get(key_id)
        if secret is None:
            return None
        return hmac.compare_digest(_mac(secret, f"event:{key_id}:{event_hash}"), mac)

    def checkpoint_mac(self, key_id: str, org_id: str, seq: int, head: str) -> str | None:
        """The MAC of a checkpoint (the org's chain head at ``seq``) under ``key_id``, or None without it."""
        secret = self.keys.get(key_id)
        return None if secret is None else _mac(secret, f"checkpoint:{key_id}:{org_id}:{seq}:{head}")
