"""Where the audit chain's key comes from: the environment, a key file, or (embedded SQLite only) a key file
generated next to the database on first start.

The key must live outside the database, or it protects nothing. With PostgreSQL every replica must MAC
with the same key, so none can be generated: a server without ``POLICYHUB_AUDIT_KEY`` (or
``POLICYHUB_AUDIT_KEY_FILE``) refuses to start (:func:`require_audit_keyring`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from policyhub.domain.audit_keys import AuditKeyError, AuditKeyring
from policyhub.settings import Settings

KEY_FILE_SUFFIX = ".audit-key"

MISSING_FOR_SERVER = (
    "no audit key: set POLICYHUB_AUDIT_KEY (at least 32 random characters, e.g. `openssl rand -hex 32`) or "
    "POLICYHUB_AUDIT_KEY_FILE, the same on every replica; it MACs the audit log and must be kept outside "
    "the database"
)


def sqlite_key_path(database_url: str) -> Path | None:
    """The generated key file of a SQLite database file (``var/policyhub.db.audit-key``); None otherwise."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(f"{url.database}{KEY_FILE_SUFFIX}")


def read_key_file(path: Path) -> AuditKeyring:
    try:
        text = path.read_text()
    except OSError as exc:
        raise AuditKeyError(f"audit key file {path}: {exc.strerror or exc}") from None
    try:
        return AuditKeyring.parse(text)
    except AuditKeyError as exc:
        raise AuditKeyError(f"audit key file {path}: {exc}") from None


def _generate(path: Path) -> AuditKeyring:
    """Create ``path`` (mode 0600) with a new random key, unless another process just did: then use its."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process wrote it first: keep theirs
            os.link(temporary, path)  # atomic, and never replaces an existing file
    finally:
        temporary.unlink(missing_ok=True)
    return read_key_file(path)


def load_audit_keyring(
    database_url: str, key: str | None, key_file: Path | None, *, create: bool = True
) -> AuditKeyring | None:
    """The configured keyring: ``key`` (keys separated by commas, the signing key first), else ``key_file``,
    else for a SQLite file the key file next to it (generated when absent, if ``create``); None when
    nothing applies (PostgreSQL without configuration)."""
    if key:
        return AuditKeyring.parse(key)
    if key_file is not None:
        return read_key_file(key_file)
    path = sqlite_key_path(database_url)
    if path is not None:
        if path.exists():
            return read_key_file(path)
        return _generate(path) if create else None
    if make_url(database_url).get_backend_name() == "sqlite":  # in memory: lives as long as the database
        return AuditKeyring.from_secrets([secrets.token_hex(32)])
    return None


def require_audit_keyring(database_url: str, key: str | None, key_file: Path | None) -> AuditKeyring:
    """:func:`load_audit_keyring`, for a server or a command that writes: no key is an error."""
    keyring = load_audit_keyring(database_url, key, key_file)
    if keyring is None:
        raise AuditKeyError(MISSING_FOR_SERVER)
    return keyring


def keyring_from_settings(settings: Settings, *, required: bool, create: bool = True) -> AuditKeyring | None:
    """The keyring ``settings`` name (``POLICYHUB_AUDIT_KEY`` / ``POLICYHUB_AUDIT_KEY_FILE``). ``required``:
    raise :class:`AuditKeyError` rather than return None; ``create``: generate SQLite's key file if absent
    (a command that only reads does not)."""
    key = settings.audit_key.get_secret_value() if settings.audit_key is not None else None
    if required:
        return require_audit_keyring(settings.database_url, key, settings.audit_key_file)
    return load_audit_keyring(settings.database_url, key, settings.audit_key_file, create=create)
