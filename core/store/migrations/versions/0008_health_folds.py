"""sync health folded as runs arrive: the fold's watermark and state, and its series in slices

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from core.store.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "health_folds",
        sa.Column("mode", sa.String(8), primary_key=True),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "health_fold_parts",
        sa.Column("mode", sa.String(8), primary_key=True),
        sa.Column("series", sa.String(8), primary_key=True),
        sa.Column("part", sa.Integer(), primary_key=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("health_fold_parts")
    op.drop_table("health_folds")
