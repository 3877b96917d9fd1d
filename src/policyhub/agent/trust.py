"""What the agent trusts: the hub's pinned public keys, and bundles only once they verify under them.

Keys: ``--public-key`` (pinned in the configuration), else the keys pinned in the state directory on
the first start, else the hub's ``GET /v1/bundle-keys`` on the first start, written to the state
directory so that every later bundle must verify under the same keys (trust on first use, as SSH does;
pin the key in the configuration to remove even that first window).

A bundle is refused (:class:`BundleRefused`) when its signature does not verify under a trusted key,
when it is malformed, when it is for another environment or org than the agent's, or when it is older
than the applied one outside a re-bootstrap (an old signed bundle replayed).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from policyhub.agent.source import Applied
from policyhub.agent.state import BUNDLE_FILE, KEYS_FILE, StateDir
from policyhub.domain.bundle_signing import PublicKey, SignatureError, open_envelope
from policyhub.domain.bundles import Bundle, BundleError, decode_bundle


class BundleRefused(Exception):
    """A bundle failed verification (signature, key, format, environment, org, age): not applied."""


@dataclass(frozen=True)
class Persisted:
    """The last applied bundle as the state directory holds it (verified again when read)."""

    bundle: Bundle
    envelope: dict[str, Any]
    etag: str | None
    revision: int
    confirmed_at: float | None


class Trust:
    def __init__(self, state: StateDir, environment: str, public_key: str | None) -> None:
        self.state = state
        self.environment = environment
        self.pinned_in_config = public_key is not None
        self.keys: dict[str, PublicKey] = {}
        if public_key is not None:
            key = PublicKey.from_b64(public_key)
            self.keys = {key.key_id: key}

    def load_pinned(self) -> None:
        """The keys pinned on an earlier start (ValueError when the file is unreadable)."""
        if self.pinned_in_config:
            return
        stored = self.state.read_json(KEYS_FILE)
        if stored is None:
            return
        try:
            self.keys = {k.key_id: k for k in (PublicKey.from_b64(e["public_key"]) for e in stored["keys"])}
        except (KeyError, TypeError, SignatureError) as exc:
            raise ValueError(f"the pinned keys in {self.state.path / KEYS_FILE} are unreadable: {exc}") from None

    def pin(self, published: list[dict[str, Any]]) -> list[str]:
        """Trust the keys the hub publishes from now on (first start only); their ids."""
        keys: dict[str, PublicKey] = {}
        for entry in published:
            with contextlib.suppress(SignatureError):
                key = PublicKey.from_b64(entry.get("public_key"))
                keys[key.key_id] = key
        if keys:
            self.state.write_json(KEYS_FILE, {"keys": [k.published() for k in keys.values()]})
            self.keys = keys
        return list(keys)

    def verify(self, envelope: Any, applied: Applied | None, *, rebootstrap: bool) -> Bundle:
        try:
            bundle = decode_bundle(open_envelope(envelope, self.keys))
        except (SignatureError, BundleError) as exc:
            raise BundleRefused(str(exc)) from None
        if bundle.environment != self.environment:
            raise BundleRefused(f"the bundle is for environment {bundle.environment!r}, not {self.environment!r}")
        if applied is not None:
            if bundle.org != applied.bundle.org:
                raise BundleRefused(f"the bundle is for org {bundle.org!r}, not {applied.bundle.org!r}")
            if bundle.revision < applied.bundle.revision and not rebootstrap:
                raise BundleRefused(
                    f"the bundle's revision {bundle.revision} is older than the applied {applied.bundle.revision}"
                )
        return bundle

    def persist(self, envelope: dict[str, Any], etag: str | None, revision: int) -> None:
        """Keep the verified, signed bundle as it came (atomically): what a restart serves from."""
        self.state.write_json(
            BUNDLE_FILE, {"envelope": envelope, "etag": etag, "revision": revision, "confirmed_at": time.time()}
        )

    def load_persisted(self) -> Persisted | None:
        """The persisted bundle, verified again (BundleRefused when it does not verify or is unreadable)."""
        try:
            stored = self.state.read_json(BUNDLE_FILE)
        except ValueError as exc:
            raise BundleRefused(f"unreadable: {exc}") from None
        if stored is None:
            return None
        if not isinstance(stored, dict):
            raise BundleRefused("unreadable: not a JSON object")
        if not self.keys:
            raise BundleRefused("no pinned public key to verify it with")
        bundle = self.verify(stored.get("envelope"), None, rebootstrap=True)
        revision, etag, confirmed = stored.get("revision"), stored.get("etag"), stored.get("confirmed_at")
        return Persisted(
            bundle,
            stored["envelope"],
            etag if isinstance(etag, str) else None,
            max(revision, bundle.revision) if isinstance(revision, int) else bundle.revision,
            float(confirmed) if isinstance(confirmed, int | float) else None,
        )
