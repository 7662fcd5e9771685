"""the size remembered with a LONG target, so enforce never buys more than the trader asked

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import core.store.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("positions") as batch:
        batch.add_column(
            sa.Column("target_quote", core.store.models.ExactDecimal(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("positions") as batch:
        batch.drop_column("target_quote")
