"""event MACs: each audit event carries an HMAC under the server's audit key, and the key's id

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events written before this have neither: ``audit verify`` reports them as unkeyed.
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("key_id", sa.String(length=16), server_default="", nullable=False))
        batch.add_column(sa.Column("mac", sa.String(length=64), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("mac")
        batch.drop_column("key_id")
