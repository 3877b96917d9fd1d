"""rollout: environments, agents and their reported status; decisions shipped by agents (de-duplicated by id)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollout_environments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_rollout_environments_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_environments")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_rollout_environments_org_name")),
    )
    op.create_table(
        "rollout_agents",
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("revision_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("stale_s", sa.Float(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_rollout_agents_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", "name", name=op.f("pk_rollout_agents")),
    )
    op.create_index("ix_rollout_agents_org_environment", "rollout_agents", ["org_id", "environment"])
    # An agent's decisions are logged with source "agent:<name>" (names up to 64 characters).
    with op.batch_alter_table("decisions") as batch:
        batch.alter_column(
            "source", type_=sa.String(length=80), existing_type=sa.String(length=32), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.alter_column(
            "source", type_=sa.String(length=32), existing_type=sa.String(length=80), existing_nullable=False
        )
    op.drop_index("ix_rollout_agents_org_environment", table_name="rollout_agents")
    op.drop_table("rollout_agents")
    op.drop_table("rollout_environments")
