"""account snapshots, paper orders, trade jobs, per-symbol sync status, stops, halts, alerts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

import core.store.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Exact = core.store.models.ExactDecimal
When = core.store.models.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("positions") as batch:
        batch.add_column(sa.Column("entry_source", sa.String(12), nullable=False, server_default="fills"))
        batch.add_column(sa.Column("sync_status", sa.String(12), nullable=True))
        batch.add_column(sa.Column("sync_message", sa.Text(), nullable=True))
        batch.add_column(sa.Column("synced_at", When(), nullable=True))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("origin", sa.String(12), nullable=False, server_default="manual"))
    op.create_table(
        "account_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("balances", sa.Text(), nullable=False),
        sa.Column("taken_at", When(), nullable=False),
    )
    op.create_index("ix_account_snapshots_book_time", "account_snapshots", ["mode", "account", "taken_at"])
    op.create_table(
        "paper_orders",
        sa.Column("client_order_id", sa.String(64), primary_key=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("exchange_order_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("price", Exact(length=64), nullable=False),
        sa.Column("amount", Exact(length=64), nullable=False),
        sa.Column("filled", Exact(length=64), nullable=False),
        sa.Column("average", Exact(length=64), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("fills", sa.Text(), nullable=False),
        sa.Column("created_at", When(), nullable=False),
    )
    op.create_table(
        "trade_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(12), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("started_at", When(), nullable=False),
        sa.Column("updated_at", When(), nullable=False),
        sa.Column("finished_at", When(), nullable=True),
    )
    op.create_index("ix_trade_jobs_book_time", "trade_jobs", ["mode", "account", "started_at"])
    op.create_index("ix_trade_jobs_status", "trade_jobs", ["status"])
    op.create_table(
        "stops",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("side", sa.String(5), nullable=False),
        sa.Column("stop_loss", Exact(length=64), nullable=True),
        sa.Column("take_profit", Exact(length=64), nullable=True),
        sa.Column("placement", sa.String(8), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("exchange_ids", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("updated_at", When(), nullable=False),
        sa.Column("triggered_at", When(), nullable=True),
    )
    op.create_index("ix_stops_book_symbol", "stops", ["mode", "account", "symbol", "status"])
    op.create_table(
        "halts",
        sa.Column("mode", sa.String(8), primary_key=True),
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("halted_at", When(), nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("account", sa.String(64), nullable=True),
        sa.Column("symbol", sa.String(40), nullable=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("delivery", sa.String(12), nullable=False),
        sa.Column("delivery_detail", sa.Text(), nullable=True),
        sa.Column("created_at", When(), nullable=False),
        sa.Column("delivered_at", When(), nullable=True),
    )
    op.create_index("ix_alerts_incident", "alerts", ["incident", "created_at"])


def downgrade() -> None:
    for table in ("alerts", "halts", "stops", "trade_jobs", "paper_orders", "account_snapshots"):
        op.drop_table(table)
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("origin")
    with op.batch_alter_table("positions") as batch:
        for column in ("synced_at", "sync_message", "sync_status", "entry_source"):
            batch.drop_column(column)
