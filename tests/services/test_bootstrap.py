"""Start-up bootstrap: idempotent, deterministic with POLICYHUB_BOOTSTRAP_*, safe across replicas."""

from __future__ import annotations

import threading
import uuid

from policyhub.services.keys import hash_token
from policyhub.services.orgs import bootstrap
from policyhub.storage.db import Database


def test_bootstrap_with_token_is_idempotent_and_concurrent_safe(database_url: str) -> None:
    slug = f"boot-{uuid.uuid4().hex[:8]}"
    token = "phk_" + uuid.uuid4().hex + uuid.uuid4().hex
    results: list[object] = []
    errors: list[BaseException] = []

    def replica() -> None:
        db = Database(database_url, pool_size=1)
        try:
            results.append(bootstrap(db, slug, token))
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=replica) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(r is not None for r in results) == 1, "exactly one replica creates the org"
    db = Database(database_url, pool_size=1)
    with db.read() as uow:
        org = uow.orgs.by_slug(slug)
        assert org is not None
        assert uow.keys.exists_hash(hash_token(token))
        assert len(uow.keys.list(org.id)) == 1
    assert bootstrap(db, slug, token) is None, "a restart changes nothing"
    db.dispose()
