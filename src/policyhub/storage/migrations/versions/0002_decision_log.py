"""decision log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("point", sa.String(length=32), nullable=False),
        sa.Column("scope_path", sa.String(length=1024), nullable=True),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=False),
        sa.Column("input", sa.JSON(), nullable=True),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("obligations", sa.JSON(), nullable=False),
        sa.Column("principal_id", sa.String(length=36), nullable=True),
        sa.Column("policy_state", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_decisions_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index("ix_decisions_org_at", "decisions", ["org_id", "at", "id"], unique=False)
    op.create_table(
        "decision_policies",
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("policy_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("policy_type", sa.String(length=64), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("effect", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_decision_policies_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_decision_policies_org_id_orgs")),
        sa.PrimaryKeyConstraint("decision_id", "policy_id", name=op.f("pk_decision_policies")),
    )
    op.create_index("ix_decision_policies_policy", "decision_policies", ["org_id", "policy_id", "at"], unique=False)
    op.create_index(
        "ix_decision_policies_type", "decision_policies", ["org_id", "policy_type", "effect", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_decision_policies_type", table_name="decision_policies")
    op.drop_index("ix_decision_policies_policy", table_name="decision_policies")
    op.drop_table("decision_policies")
    op.drop_index("ix_decisions_org_at", table_name="decisions")
    op.drop_table("decisions")
