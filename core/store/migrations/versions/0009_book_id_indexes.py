"""the newest ledger entry and equity snapshot of a book found by index: the Results page
asks on every tick whether either changed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_ledger_mode_id": ("ledger_entries", ["mode", "id"]),
    "ix_ledger_book_id": ("ledger_entries", ["mode", "account", "id"]),
    "ix_equity_mode_id": ("equity_snapshots", ["mode", "id"]),
    "ix_equity_book_id": ("equity_snapshots", ["mode", "account", "id"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
