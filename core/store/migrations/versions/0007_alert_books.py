"""alerts name their book (sim or live), so a page lists the alerts of the book it shows

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mode", sa.String(8), nullable=True))
        batch_op.create_index("ix_alerts_mode_id", ["mode", "id"])


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_mode_id")
        batch_op.drop_column("mode")
