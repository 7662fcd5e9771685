"""events: what happened to each book, worded for the trader, with the incidents to acknowledge

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import core.store.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

When = core.store.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("time", When(), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(40), nullable=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("who", sa.String(12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("requester", sa.String(64), nullable=True),
        sa.Column("needs_ack", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("acked_at", When(), nullable=True),
    )
    op.create_index("ix_events_book_id", "events", ["mode", "account", "id"])
    op.create_index("ix_events_book_symbol", "events", ["mode", "account", "symbol", "id"])
    op.create_index("ix_events_unacked", "events", ["needs_ack", "acked_at"])


def downgrade() -> None:
    op.drop_table("events")
