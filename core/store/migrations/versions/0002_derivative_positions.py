"""derivative positions: leverage and liquidation price

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

import core.store.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("positions") as batch:
        batch.add_column(sa.Column("leverage", core.store.models.ExactDecimal(length=64), nullable=True))
        batch.add_column(sa.Column("liquidation_price", core.store.models.ExactDecimal(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("positions") as batch:
        batch.drop_column("liquidation_price")
        batch.drop_column("leverage")
