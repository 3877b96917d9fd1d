"""Admin commands that work directly on the database: orgs, keys, audit verification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from policyhub.cli.database import opened
from policyhub.cli.output import Format, emit, fail
from policyhub.domain.canonical import iso
from policyhub.domain.records import Actor, Role
from policyhub.services import audit, keys
from policyhub.services.orgs import SYSTEM_PRINCIPAL, create_org

orgs_app = typer.Typer(help="Organizations.", add_completion=False, no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", add_completion=False, no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", add_completion=False, no_args_is_help=True)

Output = Annotated[Format, typer.Option("-o", "--output", help="table or json")]
Org = Annotated[str, typer.Option("--org", envvar="POLICYHUB_ORG", help="org slug")]
DEFAULT_ORG = "default"


def _system(uow: object, slug: str) -> Actor:
    org = uow.orgs.by_slug(slug)  # type: ignore[attr-defined]
    if org is None:
        fail(f"org {slug!r} not found")
    return Actor(org_id=org.id, principal_id=SYSTEM_PRINCIPAL, name=SYSTEM_PRINCIPAL, role=Role.ADMIN)


@orgs_app.command("create")
def orgs_create(
    slug: str, name: Annotated[str | None, typer.Option(help="display name")] = None, output: Output = Format.table
) -> None:
    """Create an org with an admin service account; prints its admin key once."""
    with opened(writes=True) as db, db.write() as uow:
        created = create_org(uow, slug, name=name)
    emit(
        {"id": created.org.id, "slug": created.org.slug, "admin_token": created.admin_token},
        output,
        ["id", "slug", "admin_token"],
    )


@orgs_app.command("list")
def orgs_list(output: Output = Format.table) -> None:
    """List the orgs in the database."""
    with opened() as db, db.read() as uow:
        rows = [{"id": o.id, "slug": o.slug, "name": o.name, "created_at": iso(o.created_at)} for o in uow.orgs.list()]
    emit(rows, output, ["id", "slug", "name", "created_at"])


@keys_app.command("create")
def keys_create(
    org: Org = DEFAULT_ORG,
    role: Annotated[str, typer.Option(help="viewer, editor, admin or agent (a rollout agent's key)")] = "editor",
    scope: Annotated[str | None, typer.Option(help="scope path the role applies to (default: whole org)")] = None,
    name: Annotated[str, typer.Option(help="what the key is for")] = "",
    principal: Annotated[
        str | None, typer.Option(help="existing principal id (default: a new service account)")
    ] = None,
    output: Output = Format.table,
) -> None:
    """Issue a key; the token is printed once."""
    with opened(writes=True) as db, db.write() as uow:
        actor = _system(uow, org)
        principal_id = (
            principal
            or keys.create_principal(uow, actor, kind="service_account", display_name=name or f"{role} key").id
        )
        issued = keys.issue_key(uow, actor, principal_id=principal_id, role=role, scope=scope, name=name)
    emit(
        {
            "id": issued.key.id,
            "prefix": issued.key.prefix,
            "role": issued.key.role.value,
            "scope": scope,
            "principal_id": issued.key.principal_id,
            "token": issued.token,
        },
        output,
        ["id", "role", "scope", "token"],
    )


@keys_app.command("list")
def keys_list(org: Org = DEFAULT_ORG, output: Output = Format.table) -> None:
    """List the org's keys (never their secrets): role, the scope it is bound at (- = the whole org), state."""
    with opened() as db, db.read() as uow:
        rows = [
            {
                "id": k.id,
                "prefix": k.prefix,
                "name": k.name,
                "role": k.role.value,
                "scope": scope,
                "revoked": k.revoked_at is not None,
                "last_used_at": iso(k.last_used_at) if k.last_used_at else None,
            }
            for k, scope in keys.list_keys(uow, _system(uow, org))
        ]
    emit(rows, output, ["id", "prefix", "name", "role", "scope", "revoked", "last_used_at"])


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id (see `policyhub keys list`)", show_default=False)],
    org: Org = DEFAULT_ORG,
    force: Annotated[
        bool, typer.Option("--force", help="revoke it even if it is the org's last active admin key")
    ] = False,
) -> None:
    """Revoke a key at once.

    The org's last active admin key is refused unless --force (e.g. a leaked key to cut off at once);
    `keys create --role admin` issues a new one.
    """
    with opened(writes=True) as db:
        try:
            with db.write() as uow:
                keys.revoke_key(uow, _system(uow, org), key_id, allow_last_admin=force)
        except keys.LastAdminKey as exc:
            fail(
                f"{exc.detail} (policyhub keys create --org {org} --role admin), "
                "or pass --force to revoke it anyway"
            )
    typer.echo(f"revoked {key_id}")


@audit_app.command("verify")
def audit_verify(
    org: Annotated[str | None, typer.Option(help="org slug (default: every org)")] = None,
    require_keyed: Annotated[
        bool, typer.Option("--require-keyed", help="fail if any event carries no MAC (none predates the key)")
    ] = False,
    checkpoint: Annotated[
        Path | None, typer.Option(help="checkpoints from `audit checkpoint -o json`: the log must still hold them")
    ] = None,
    output: Output = Format.table,
) -> None:
    """Check every org's event chain (links, hashes, MACs under the audit key) and every policy version
    against the event that created it; exit 1 and name the first broken event if any."""
    points = _checkpoints(checkpoint) if checkpoint is not None else []
    reports = []
    with opened() as db, db.read() as uow:
        targets = [o for o in uow.orgs.list() if org in (None, o.slug)]
        if org and not targets:
            fail(f"org {org!r} not found")
        for o in targets:
            r = audit.verify_org(uow, o.id)
            ok, seq, reason = r.ok, r.broken_at_seq, r.reason
            if ok and require_keyed and r.unkeyed_through is not None:
                ok, seq, reason = False, 1, f"--require-keyed: {r.note}"
            for point in (p for p in points if p.get("org_id") == o.id):
                problem = audit.verify_checkpoint(uow, point) if ok else ""
                if problem:
                    ok, seq, reason = False, int(str(point.get("seq"))), problem
            reports.append(
                {
                    "org": o.slug,
                    "ok": ok,
                    "events": r.events_checked,
                    "versions": r.versions_checked,
                    "broken_at_seq": seq,
                    "reason": reason,
                    "unkeyed_through": r.unkeyed_through,
                    "note": r.note,
                }
            )
    emit(reports, output, ["org", "ok", "events", "versions", "broken_at_seq", "reason", "note"])
    if not all(r["ok"] for r in reports):
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    org: Annotated[str | None, typer.Option(help="org slug (default: every org)")] = None,
    output: Output = Format.json,
) -> None:
    """Print each org's chain head MACed under the audit key. Keep the output outside the database (and
    its backups): `audit verify --checkpoint FILE` then proves the log was not rewound or rewritten."""
    with opened() as db:
        if db.audit_keyring is None:
            fail("a checkpoint needs the audit key (POLICYHUB_AUDIT_KEY or POLICYHUB_AUDIT_KEY_FILE)", 2)
        with db.read() as uow:
            targets = [o for o in uow.orgs.list() if org in (None, o.slug)]
            if org and not targets:
                fail(f"org {org!r} not found")
            points = [{"org": o.slug, **audit.checkpoint(uow, o.id)} for o in targets]
    emit(points, output, ["org", "seq", "head", "key_id", "mac"])


def _checkpoints(path: Path) -> list[dict[str, object]]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        fail(f"--checkpoint {path}: {exc}", 2)
    points = loaded if isinstance(loaded, list) else [loaded]
    if not all(isinstance(p, dict) and {"org_id", "seq", "head", "key_id", "mac"} <= set(p) for p in points):
        fail(f"--checkpoint {path}: expected the JSON that `policyhub audit checkpoint -o json` prints", 2)
    return points
