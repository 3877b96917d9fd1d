"""rollout: environments (the scopes each receives), agents and their reported status, and decisions shipped by agents (de-duplicated by id)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 22:00:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
