"""the ledger: every change of every holding, one entry each (a fill with its origin, or a
transfer a check found), with the fills and adopted holdings recorded so far carried over

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import core.store.models
from core.domain import Fill, Side
from core.pnl import PositionBook, apply_fill

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Exact = core.store.models.ExactDecimal
When = core.store.models.UTCDateTime


def upgrade() -> None:
    ledger = op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("origin", sa.String(12), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("qty", Exact(length=64), nullable=False),
        sa.Column("change", Exact(length=64), nullable=False),
        sa.Column("price", Exact(length=64), nullable=True),
        sa.Column("fee", Exact(length=64), nullable=False),
        sa.Column("fee_asset", sa.String(20), nullable=False),
        sa.Column("fee_quote", Exact(length=64), nullable=False),
        sa.Column("realized", Exact(length=64), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=True),
        sa.Column("time", When(), nullable=False),
        sa.UniqueConstraint("mode", "account", "entry_key"),
    )
    op.create_index("ix_ledger_book_time", "ledger_entries", ["mode", "account", "time"])
    _carry_over(op.get_bind(), ledger)


def downgrade() -> None:
    op.drop_index("ix_ledger_book_time", table_name="ledger_entries")
    op.drop_table("ledger_entries")


def _carry_over(bind, ledger: sa.Table) -> None:
    """Every recorded fill becomes a fill entry with its order's origin and the PnL it
    realized (the fills folded by average cost, core.pnl), and each position whose quantity
    its fills do not explain (holdings adopted before the ledger existed) gets one transfer
    for the difference, at its last price, so the ledger adds up to it."""
    fills = bind.execute(
        sa.text(
            "SELECT f.mode, f.account, f.symbol, f.trade_id, f.client_order_id, f.side, f.qty, "
            "f.price, f.fee, f.fee_asset, f.fee_quote, f.time, o.origin FROM fills f "
            "LEFT JOIN orders o ON o.client_order_id = f.client_order_id ORDER BY f.time, f.id"
        )
    ).all()
    held: dict[tuple[str, str, str], Decimal] = {}
    books: dict[tuple[str, str, str], PositionBook] = {}
    rows = []
    for mode, account, symbol, trade_id, cid, side, qty, price, fee, fee_asset, fee_quote, time, origin in fills:
        qty, price, fee, fee_quote = (Decimal(str(v)) for v in (qty, price, fee, fee_quote))
        fill = Fill(symbol, Side(side), qty, price, fee, fee_asset, fee_quote, trade_id, cid, _aware(time))
        change = fill.net_base
        key = (mode, account, symbol)
        held[key] = held.get(key, Decimal(0)) + change
        before = books.get(key, PositionBook())
        books[key] = apply_fill(before, fill)
        rows.append(
            {
                "mode": mode, "account": account, "symbol": symbol,
                "entry_key": f"fill:{symbol}:{trade_id}", "kind": "fill",
                "origin": origin or "manual", "side": side, "qty": qty, "change": change,
                "price": price, "fee": fee, "fee_asset": fee_asset, "fee_quote": fee_quote,
                "realized": books[key].realized - before.realized, "client_order_id": cid,
                "time": fill.time,
            }
        )
    now = datetime.now(UTC)
    positions = bind.execute(
        sa.text("SELECT mode, account, symbol, qty, last_price FROM positions ORDER BY id")
    ).all()
    for mode, account, symbol, qty, last_price in positions:
        difference = Decimal(str(qty)) - held.get((mode, account, symbol), Decimal(0))
        if difference:
            rows.append(
                {
                    "mode": mode, "account": account, "symbol": symbol,
                    "entry_key": f"transfer:{symbol}:carried-over", "kind": "transfer",
                    "origin": "monitor", "side": "in" if difference > 0 else "out",
                    "qty": abs(difference), "change": difference,
                    "price": None if last_price is None else Decimal(str(last_price)),
                    "fee": Decimal(0), "fee_asset": "", "fee_quote": Decimal(0),
                    "realized": Decimal(0), "client_order_id": None, "time": now,
                }
            )
    if rows:
        op.bulk_insert(ledger, rows)


def _aware(value) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands back text without a zone)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
