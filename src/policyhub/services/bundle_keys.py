"""Where the bundle-signing key comes from: the environment, a key file, or (embedded SQLite only) a key file
generated next to the database on first use. The audit key's rules (``services.audit_keys``), for the
same reason: every replica must sign with the same key, or an agent pinned to one replica's key refuses
bundles served by the others. So with PostgreSQL none is generated; without
``POLICYHUB_BUNDLE_SIGNING_KEY`` (or ``_FILE``) the bundle routes answer 503 naming the setting (the rest
of the hub serves as before).

A key is a base64 Ed25519 seed (32 bytes; ``openssl rand -base64 32``). Several, separated by commas or
whitespace (a key file: one a line), rotate: the first signs, every one is published by
``GET /v1/bundle-keys`` so agents that fetched the key list before the rotation still verify.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from policyhub.domain.bundle_signing import PublicKey, SignatureError, SigningKey
from policyhub.settings import Settings

KEY_FILE_SUFFIX = ".bundle-key"

MISSING = (
    "bundles are not signed: set POLICYHUB_BUNDLE_SIGNING_KEY (a base64 Ed25519 seed, e.g. "
    "`openssl rand -base64 32`) or POLICYHUB_BUNDLE_SIGNING_KEY_FILE, the same on every replica"
)


class BundleKeyError(ValueError):
    """A configured bundle-signing key is unusable."""


@dataclass(frozen=True)
class BundleKeys:
    """The key that signs (the first) and every public key the hub publishes."""

    signer: SigningKey
    published: tuple[PublicKey, ...]

    @classmethod
    def parse(cls, text: str, where: str = "POLICYHUB_BUNDLE_SIGNING_KEY") -> BundleKeys:
        seeds = text.replace(",", " ").split()
        if not seeds:
            raise BundleKeyError(f"{where}: no key given")
        try:
            signers = [SigningKey.from_b64(seed) for seed in seeds]
        except SignatureError as exc:
            raise BundleKeyError(f"{where}: {exc}") from None
        unique = {s.key_id: s.public for s in signers}
        return cls(signers[0], tuple(unique.values()))


def sqlite_key_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(f"{url.database}{KEY_FILE_SUFFIX}")


def _read(path: Path) -> BundleKeys:
    try:
        text = path.read_text()
    except OSError as exc:
        raise BundleKeyError(f"bundle key file {path}: {exc.strerror or exc}") from None
    return BundleKeys.parse(text, f"bundle key file {path}")


def _generate(path: Path) -> BundleKeys:
    """Create ``path`` (mode 0600) with a new seed, unless another process just did: then use its."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process wrote it first: keep theirs
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)


def load_bundle_keys(settings: Settings) -> BundleKeys | None:
    """The configured keys; for a SQLite file the key file next to it (generated when absent); an
    in-memory SQLite database a key as short-lived as it; None for PostgreSQL without configuration."""
    if settings.bundle_signing_key is not None:
        return BundleKeys.parse(settings.bundle_signing_key.get_secret_value())
    if settings.bundle_signing_key_file is not None:
        return _read(settings.bundle_signing_key_file)
    path = sqlite_key_path(settings.database_url)
    if path is not None:
        return _read(path) if path.exists() else _generate(path)
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        return BundleKeys(signer := SigningKey.generate(), (signer.public,))
    return None


def bundle_key_problem(settings: Settings) -> str | None:
    """Why a server must not start (``policyhub serve``): a configured key that is unusable, or PostgreSQL
    without one (replicas would each need the same key, so none is generated). Generates nothing."""
    try:
        if settings.bundle_signing_key is not None:
            BundleKeys.parse(settings.bundle_signing_key.get_secret_value())
        elif settings.bundle_signing_key_file is not None:
            _read(settings.bundle_signing_key_file)
        elif make_url(settings.database_url).get_backend_name() != "sqlite":
            return MISSING
    except BundleKeyError as exc:
        return str(exc)
    return None
