"""Opening the database for the commands that work on it directly (orgs, keys, audit).

Only ``serve`` and ``migrate`` create a database. Every other command must find the one the server uses:
a SQLite path is relative to the current directory (the default, ``sqlite:///var/policyhub.db``, is
where ``make run`` was started), so a command run elsewhere would otherwise open an empty file. A missing
file, a database that was never migrated, or one that cannot be reached is one line on stderr naming
the database and how to point at the right one (exit 2), never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from pydantic import ValidationError
from sqlalchemy.engine import make_url

from policyhub.cli.output import fail
from policyhub.domain.audit_keys import AuditKeyError
from policyhub.errors import DomainError, Unavailable
from policyhub.services.audit_keys import keyring_from_settings
from policyhub.settings import Settings, get_settings
from policyhub.storage.db import Database, NoDatabase, display_url, sqlite_path

#: Exit code when the database cannot be used (as the client commands' connection problems).
DATABASE_PROBLEM = 2

SET_THE_URL = "set POLICYHUB_DATABASE_URL=sqlite:////abs/path/policyhub.db (the server's database)"


def load_settings() -> Settings:
    """The settings, or one line naming the environment variable that is wrong."""
    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "POLICYHUB_" + "_".join(str(part) for part in first["loc"]).upper()
        fail(f"{name}: {first['msg']}", DATABASE_PROBLEM)


def describe(url: str) -> str:
    """What was opened and where that came from: ``/abs/var/policyhub.db (the default
    sqlite:///var/policyhub.db, relative to the current directory)``; a server URL without its password."""
    shown = display_url(url)
    source = f"POLICYHUB_DATABASE_URL={shown}" if os.environ.get("POLICYHUB_DATABASE_URL") else f"the default {shown}"
    path = sqlite_path(url)
    if path is None:
        return shown if os.environ.get("POLICYHUB_DATABASE_URL") else source
    relative = ", relative to the current directory" if _is_relative(url) else ""
    return f"{path} ({source}{relative})"


def point_at_it(url: str) -> str:
    """How to name the right database."""
    if _is_relative(url):
        return f"run the command from the directory where `make run` was started, or {SET_THE_URL}"
    return SET_THE_URL if sqlite_path(url) is not None else "set POLICYHUB_DATABASE_URL to the server's database"


def _is_relative(url: str) -> bool:
    database = make_url(url).database if sqlite_path(url) is not None else None
    return bool(database) and not os.path.isabs(os.path.expanduser(str(database)))


def open_database(*, writes: bool = False) -> Database:
    """The migrated database of ``POLICYHUB_DATABASE_URL``, with the audit key when the command writes."""
    settings = load_settings()
    url = settings.database_url
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        _no_database(url)
    try:
        keyring = keyring_from_settings(settings, required=writes, create=writes)
    except AuditKeyError as exc:
        fail(str(exc), DATABASE_PROBLEM)
    try:
        db = Database(url, pool_size=1, audit_keyring=keyring, create=False)
    except NoDatabase:
        _no_database(url)
    try:
        problem = db.schema_problem()
    except Unavailable as exc:
        db.dispose()
        fail(f"cannot use the database {describe(url)}: {exc.detail}; check POLICYHUB_DATABASE_URL", DATABASE_PROBLEM)
    if problem is not None:
        db.dispose()
        fail(
            f"the database {describe(url)} is not usable: {problem}. If it is the wrong one, {point_at_it(url)}; "
            "if it is the right one, `policyhub migrate` brings it up to date",
            DATABASE_PROBLEM,
        )
    return db


@contextmanager
def opened(*, writes: bool = False) -> Iterator[Database]:
    """:func:`open_database` for a command's duration: a refusal is ``error: ...`` and exit 1, a database
    that stops answering exit 2, and the database is closed whatever happens."""
    db = open_database(writes=writes)
    try:
        yield db
    except Unavailable as exc:
        fail(f"{exc.detail} ({describe(db.url)})", DATABASE_PROBLEM)
    except DomainError as exc:
        fail(exc.detail)
    finally:
        db.dispose()


def _no_database(url: str) -> NoReturn:
    fail(
        f"no PolicyHub database at {describe(url)}: {point_at_it(url)}; `policyhub migrate` creates a new one there",
        DATABASE_PROBLEM,
    )
