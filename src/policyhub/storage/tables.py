"""The relational schema (SQLAlchemy Core). Alembic migrations create it; nothing else does."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeEngine

from policyhub.domain.policy_fields import COLUMNS, Stored

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TS = DateTime(timezone=True)
ID = String(36)


def _column_type(stored: Stored) -> TypeEngine[Any]:
    match stored.kind:
        case "id":
            return ID
        case "string":
            return String(stored.size)
        case "text":
            return Text()
        case "json":
            return JSON()
        case "boolean":
            return Boolean()
        case "integer":
            return Integer()
        case "timestamp":
            return TS


def policy_columns() -> list[Column[Any]]:
    """The ``policies`` columns, as ``domain/policy_fields.py`` declares them (the first is the key)."""
    return [
        Column(
            f.name,
            _column_type(f.column),
            *([ForeignKey(f.column.references)] if f.column.references else []),
            primary_key=f.column.primary_key,
            nullable=f.nullable,
        )
        for f in COLUMNS
        if f.column is not None
    ]


orgs = Table(
    "orgs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("settings", JSON, nullable=False),
    # Head of the org's audit hash chain: the last event's sequence number and hash.
    Column("chain_seq", BigInteger, nullable=False, server_default=text("0")),
    Column("chain_head", String(64), nullable=False, server_default=""),
    Column("created_at", TS, nullable=False),
)

scopes = Table(
    "scopes",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("parent_id", ID, ForeignKey("scopes.id"), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("key", String(128), nullable=False),
    Column("name", String(200), nullable=False),
    # Keys from the root down, joined by "/": unique per org, and a prefix match finds descendants.
    Column("path", String(1024), nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("org_id", "path", name="uq_scopes_org_path"),
    Index("ix_scopes_org_parent", "org_id", "parent_id"),
)

principals = Table(
    "principals",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    Column("created_at", TS, nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Index("ix_principals_org", "org_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("principal_id", ID, ForeignKey("principals.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("prefix", String(24), nullable=False),
    # SHA-256 of the whole token; the token itself is never stored.
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("scope_id", ID, ForeignKey("scopes.id"), nullable=True),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=True),
    Column("revoked_at", TS, nullable=True),
    Column("last_used_at", TS, nullable=True),
    Index("ix_api_keys_org", "org_id"),
)

policies = Table(
    "policies",
    metadata,
    # The columns are declared with the policy's fields (``domain/policy_fields.py``).
    *policy_columns(),
    Index("ix_policies_org_scope", "org_id", "scope_id"),
    Index("ix_policies_org_type", "org_id", "type"),
    Index("ix_policies_org_created", "org_id", "created_at", "id"),
    # The policies held at each scope, by name (the console's scope tree reads only this index; archived
    # last, so that listing the whole org still sorts by name rather than walk this index).
    Index("ix_policies_org_live_scope_name", "org_id", "scope_id", "name", "archived"),
    # Names are unique among an org's live policies; archived ones keep theirs for history.
    Index(
        "uq_policies_org_live_name",
        "org_id",
        "name",
        unique=True,
        sqlite_where=text("archived = 0"),
        postgresql_where=text("archived = false"),
    ),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("policy_id", ID, ForeignKey("policies.id"), nullable=False),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("spec", JSON, nullable=False),
    Column("source", Text, nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("created_by", ID, nullable=False),
    UniqueConstraint("policy_id", "version", name="uq_policy_versions_policy_version"),
)

events = Table(
    "events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("object_kind", String(32), nullable=False),
    Column("object_id", String(64), nullable=False),
    Column("type", String(32), nullable=False),
    Column("actor_id", ID, nullable=False),
    Column("actor_name", String(200), nullable=False),
    Column("at", TS, nullable=False),
    Column("data", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # HMAC of the hash under the server's audit key (kept outside the database), and that key's id.
    Column("key_id", String(16), nullable=False, server_default=""),
    Column("mac", String(64), nullable=False, server_default=""),
    UniqueConstraint("org_id", "seq", name="uq_events_org_seq"),
    Index("ix_events_object", "org_id", "object_id", "seq"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("principal_id", ID, nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
)

document_schemas = Table(
    "document_schemas",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("schema", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# Objects a policy refers to (e.g. a JFrog rule): kept so a referenced object cannot vanish.
policy_references = Table(
    "policy_references",
    metadata,
    Column("policy_id", ID, ForeignKey("policies.id"), primary_key=True),
    Column("kind", String(64), primary_key=True),
    Column("ref_id", String(128), primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Index("ix_policy_references_target", "org_id", "kind", "ref_id"),
)

# Vendor-owned objects that are not policies (JFrog rules and templates, Kosli environments, ...).
resources = Table(
    "resources",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("key", String(256), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("updated_by", ID, nullable=False),
    UniqueConstraint("org_id", "kind", "key", name="uq_resources_org_kind_key"),
)

# Rollout: environments (the scopes whose policies each receives) and the agents that enforce them, with
# what each last reported. An agent's row is bookkeeping, overwritten by every report (no audit event);
# an environment's changes are audited, so they are in the change feed.
rollout_environments = Table(
    "rollout_environments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("updated_by", ID, nullable=False),
    UniqueConstraint("org_id", "name", name="uq_rollout_environments_org_name"),
)

rollout_agents = Table(
    "rollout_agents",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("environment", String(64), nullable=False),
    Column("revision", BigInteger, nullable=False),
    # When the agent first reported ``revision`` (commit-to-applied times are measured to it).
    Column("revision_at", TS, nullable=False),
    Column("address", String(300), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("counts", JSON, nullable=False),
    Column("stale_s", Float, nullable=True),
    Column("first_seen", TS, nullable=False),
    Column("last_seen", TS, nullable=False),
    Index("ix_rollout_agents_org_environment", "org_id", "environment"),
)

# The decision log: one row per recorded decision, and one per policy that took part (for per-policy queries).
decisions = Table(
    "decisions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("at", TS, nullable=False),
    Column("source", String(80), nullable=False),  # "agent:<name>" for decisions an agent shipped
    Column("point", String(32), nullable=False),
    Column("scope_path", String(1024), nullable=True),
    Column("decision", String(8), nullable=False),
    Column("input_hash", String(64), nullable=False),
    Column("input", JSON, nullable=True),
    Column("results", JSON, nullable=False),
    Column("obligations", JSON, nullable=False),
    Column("principal_id", ID, nullable=True),
    Column("policy_state", BigInteger, nullable=False),
    Index("ix_decisions_org_at", "org_id", "at", "id"),
)

decision_policies = Table(
    "decision_policies",
    metadata,
    Column("decision_id", ID, ForeignKey("decisions.id"), primary_key=True),
    Column("policy_id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("at", TS, nullable=False),
    Column("policy_type", String(64), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("effect", String(16), nullable=False),
    Index("ix_decision_policies_policy", "org_id", "policy_id", "at"),
    Index("ix_decision_policies_type", "org_id", "policy_type", "effect", "at"),
)

# Console sign-ins: a browser's session, exchanged for an API key. The cookie holds a random token; only
# its SHA-256 is kept (``id``). The session acts as the key (``key_hash`` is the key's own stored hash, so
# the key's revocation ends it); ``csrf_token`` is the value every form of the session must carry.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("key_id", ID, ForeignKey("api_keys.id"), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("last_seen_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Index("ix_console_sessions_key", "key_id"),
)
