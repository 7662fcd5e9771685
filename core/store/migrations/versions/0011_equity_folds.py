"""equity curves folded as snapshots are recorded: the fold's watermark and state per book,
and its curve in slices, so a new process loads the fold instead of every snapshot

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from core.store.models import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "equity_folds",
        sa.Column("mode", sa.String(8), primary_key=True),
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("snapshots", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "equity_fold_parts",
        sa.Column("mode", sa.String(8), primary_key=True),
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("series", sa.String(8), primary_key=True),
        sa.Column("part", sa.Integer(), primary_key=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("equity_fold_parts")
    op.drop_table("equity_folds")
