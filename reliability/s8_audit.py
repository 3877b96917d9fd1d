"""8. Audit integrity: tampering with the event chain is found at the exact event; secrets never leak.

Seven orgs get the same history (policies created, patched, archived), then each has one tamper class
applied directly in the database: edit an event's data, delete an event, swap two events, insert a
forged (correctly re-hashed) event in the middle, truncate the tail, delete an event and re-hash the
rest with the hash function (without the audit key), edit a stored policy version's spec.
``policyhub audit verify`` must exit 1 naming the first event whose content, link or MAC no longer
holds (for an insertion that is the forgery, which cannot carry a MAC under the server's audit key; for
a truncation, the first missing one; for an edited version, the event that created it), and
``GET /audit/verify`` must agree. An eighth org, untouched, must verify.

Then every API key secret the run handed out (bootstrap key, org admin keys, issued and revoked keys,
which were also used for rejected requests) is searched for in the server's log (access log on), in the
events, in every error body the run received and in a dump of the whole database: it must appear in
none of them.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from reliability import pgcluster
from reliability.context import Context
from reliability.databases import Inspector
from reliability.fixtures import audit_verify_cli, issue_key, new_org, revoke_key, servers
from reliability.report import Checks, Result
from reliability.servers import ORG, TOKEN, ServerProcess

MERGE = {"Content-Type": "application/merge-patch+json"}
CLASSES = ("edit", "delete", "reorder", "insert", "truncate", "rehash", "version")
TARGET = 5  # the event tampered with (truncate: everything after it)


def _history(server: ServerProcess, slug: str, token: str, errors: list[bytes]) -> None:
    with server.client(token, slug) as c:
        for i in range(3):
            c.post("/policies", json={"name": f"audit-{i}", "type": "document", "spec": {"i": i}}).raise_for_status()
            c.patch(f"/policies/audit-{i}", json={"spec": {"i": i + 10}}, headers=MERGE).raise_for_status()
        c.delete("/policies/audit-0").raise_for_status()
        bad = c.patch("/policies/audit-1", json={"spec": {"i": 1}}, headers={**MERGE, "If-Match": '"stale"'})
        errors.append(bad.content)


def _tamper(url: str, org_id: str, kind: str) -> int:
    """Apply one tamper class to the org's events; returns the seq ``audit verify`` must name."""
    from policyhub.services.audit import event_hash
    from policyhub.storage.db import Database

    db = Database(url, pool_size=1, group_commit=False)
    try:
        with db.write() as uow:
            conn = uow.conn
            o = {"o": org_id}
            events = list(uow.events.stream(org_id))
            last = events[-1].seq
            if kind == "edit":
                conn.execute(
                    text("UPDATE events SET actor_name = 'mallory' WHERE org_id = :o AND seq = :s"), {**o, "s": TARGET}
                )
                return TARGET
            if kind == "delete":
                conn.execute(text("DELETE FROM events WHERE org_id = :o AND seq = :s"), {**o, "s": TARGET})
                return TARGET
            if kind == "reorder":
                for old, new in ((TARGET, -1), (TARGET + 1, TARGET), (-1, TARGET + 1)):
                    conn.execute(
                        text("UPDATE events SET seq = :n WHERE org_id = :o AND seq = :s"), {**o, "s": old, "n": new}
                    )
                return TARGET
            if kind == "insert":
                conn.execute(
                    text("UPDATE events SET seq = seq + 100000 WHERE org_id = :o AND seq >= :s"), {**o, "s": TARGET}
                )
                conn.execute(text("UPDATE events SET seq = seq - 99999 WHERE org_id = :o AND seq >= 100000"), o)
                template = events[TARGET - 1]
                forged = replace(
                    template, seq=TARGET, prev_hash=events[TARGET - 2].hash, actor_name="mallory", data={"forged": True}
                )
                uow.events.append(replace(forged, hash=event_hash(forged), key_id="", mac=""))
                conn.execute(text("UPDATE orgs SET chain_seq = :n WHERE id = :o"), {**o, "n": last + 1})
                return TARGET  # the forger has no audit key: an event without a MAC after keyed ones
            if kind == "rehash":  # delete one event, renumber and re-hash the rest: all but the MACs hold
                conn.execute(text("DELETE FROM events WHERE org_id = :o AND seq = :s"), {**o, "s": TARGET})
                prev = events[TARGET - 2].hash
                for e in events[TARGET:]:
                    forged = replace(e, seq=e.seq - 1, prev_hash=prev)
                    forged = replace(forged, hash=event_hash(forged))
                    conn.execute(
                        text("UPDATE events SET seq = :n, prev_hash = :p, hash = :h WHERE org_id = :o AND seq = :s"),
                        {**o, "s": e.seq, "n": forged.seq, "p": forged.prev_hash, "h": forged.hash},
                    )
                    prev = forged.hash
                conn.execute(
                    text("UPDATE orgs SET chain_seq = :n, chain_head = :h WHERE id = :o"),
                    {**o, "n": last - 1, "h": prev},
                )
                return TARGET
            if kind == "version":  # edit the spec of the version event TARGET created
                made = events[TARGET - 1]
                conn.execute(
                    text("UPDATE policy_versions SET spec = :j WHERE policy_id = :p AND version = :v"),
                    {"j": '{"i": 999}', "p": made.object_id, "v": made.data["version"]},
                )
                return TARGET
            if kind == "truncate":
                conn.execute(text("DELETE FROM events WHERE org_id = :o AND seq > :s"), {**o, "s": TARGET})
                return TARGET + 1
    finally:
        db.dispose()
    raise ValueError(kind)


def _dump(ctx: Context, url: str, workdir: Path) -> bytes:
    """The whole database as bytes: SQLite's files (and a SQL dump), or pg_dump's output."""
    if url.startswith("sqlite"):
        import sqlite3

        path = Path(str(make_url(url).database))
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        conn = sqlite3.connect(path)
        try:
            return raw + "\n".join(conn.iterdump()).encode()
        finally:
            conn.close()
    pg_dump = shutil.which("pg_dump") or str(pgcluster.PG_BIN / "pg_dump")
    u = make_url(url)
    done = subprocess.run(
        [
            pg_dump,
            "-h",
            u.host or "127.0.0.1",
            "-p",
            str(u.port or 5432),
            "-U",
            u.username or "postgres",
            "-d",
            str(u.database),
        ],
        capture_output=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {done.stderr[-300:]!r}")
    return done.stdout


def run(ctx: Context) -> list[Result]:
    checks = Checks()
    url = ctx.backend.new_database("audit")
    errors: list[bytes] = []
    secrets = [TOKEN]
    found_at: dict[str, tuple[int | None, int]] = {}
    env = {"POLICYHUB_ACCESS_LOG": "true", "POLICYHUB_LOG_LEVEL": "INFO"}
    with servers(ctx, url, 1, label="audit", extra_env=env) as (server,):
        inspector = Inspector(url)
        orgs: dict[str, tuple[str, str]] = {}
        for kind in (*CLASSES, "control"):
            slug, token = new_org(url, f"audit-{kind}")
            secrets.append(token)
            orgs[kind] = (slug, token)
            _history(server, slug, token, errors)
        # Keys used, misused and revoked, so that the log and the error bodies have had every chance to leak them.
        editor = issue_key(server, "editor")
        viewer = issue_key(server, "viewer")
        secrets += [editor.token, viewer.token]
        with server.client(viewer.token) as c:
            errors.append(c.post("/policies", json={"name": "v", "type": "document", "spec": {}}).content)
        revoke_key(server, viewer.id)
        _other_slug, other_token = orgs["control"]
        with server.client(viewer.token) as c:
            errors.append(c.get("/policies").content)
        with server.client(other_token) as c:  # another org's key on acme's paths
            errors.append(c.get("/policies").content)
        errors.append(httpx.get(f"{server.url}/v1/orgs/{ORG}/policies", auth=("user", viewer.token)).content)
        errors.append(
            httpx.get(
                f"{server.url}/v1/orgs/{ORG}/policies", headers={"Authorization": f"Bearer {editor.token}x"}
            ).content
        )
        for kind in CLASSES:
            slug, token = orgs[kind]
            expected = _tamper(url, inspector.org_id(slug), kind)
            ok, reports, raw = audit_verify_cli(url, slug)
            got = reports[0].get("broken_at_seq") if reports else None
            api = httpx.get(
                f"{server.url}/v1/orgs/{slug}/audit/verify", headers={"Authorization": f"Bearer {token}"}, timeout=30
            ).json()
            found_at[kind] = (got, expected)
            checks.expect(
                not ok and got == expected,
                f"{kind}: audit verify {'passed' if ok else f'named event {got}'}, expected event {expected}",
            )
            checks.expect(api.get("broken_at_seq") == expected, f"{kind}: GET /audit/verify said {api}")
        ok, _, raw = audit_verify_cli(url, orgs["control"][0])
        checks.expect(ok, f"the untouched org does not verify: {raw[-200:]}")
        log = server.log_text()
        inspector.dispose()
    with Inspector(url).connect() as conn:
        event_rows = "\n".join(str(tuple(r)) for r in conn.execute(text("SELECT * FROM events")))
    dump = _dump(ctx, url, ctx.workdir)
    places = {
        "server log": log.encode(),
        "events": event_rows.encode(),
        "error bodies": b"\n".join(errors),
        "database dump": dump,
    }
    leaks = [(where, s[:12]) for s in secrets for where, blob in places.items() if s.encode() in blob]
    checks.expect(not leaks, f"API key secrets found in: {leaks}")
    checks.expect(len(log) > 0 and "request" in log, "the server logged nothing: the search would prove nothing")
    detected = ", ".join(f"{k}@{e}->{g}" for k, (g, e) in found_at.items())
    figures = (
        f"tamper classes detected at the exact event: {sum(g == e for g, e in found_at.values())}/{len(CLASSES)} "
        f"({detected}); control org verifies: {'yes' if ok else 'NO'}; "
        f"secrets searched={len(secrets)} in log ({len(log) // 1024} KiB), events, {len(errors)} error bodies, "
        f"dump ({len(dump) // 1024} KiB): leaks={len(leaks)}"
    )
    return [checks.result("8", "audit integrity", ctx.backend.name, figures)]
