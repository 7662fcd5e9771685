"""The ledger: every change of every holding, one entry each, per book.

A fill enters with the origin of its order (a click, the command line, a stop, flatten,
enforce, the monitor); a change a check found outside the app enters as a transfer valued
at the price it was adopted at, and cash deposited or withdrawn (as the exchange reports
it) as a transfer of the asset itself (symbol `USDT`, valued at 1). Each entry carries the key of the report it came from (the
exchange's trade id; the read that found the change), unique per book in the database, so
that recording a report twice adds nothing. Functions take the caller's session and never
commit: an entry is written in the same transaction as the position it changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.domain import ZERO, CashTransfer, Fill, Origin
from core.store.books import BookKey, in_book
from core.store.models import LedgerEntry, Order

FILL = "fill"
TRANSFER = "transfer"
UNKNOWN_ORIGIN = "unknown"  # a fill of an order the app holds no record of
UNRECORDED = "unrecorded"  # coins held before the records, found when a sale took them


def fill_key(fill: Fill) -> str:
    """A fill's report: the exchange's trade id (unique per symbol)."""
    return f"{FILL}:{fill.symbol}:{fill.trade_id}"


def transfer_key(symbol: str, seen_at: datetime) -> str:
    """A transfer's report: the read of the account that found the change."""
    return f"{TRANSFER}:{symbol}:{seen_at.isoformat()}"


def cash_key(transfer: CashTransfer) -> str:
    """A deposit's or withdrawal's report: the exchange's id of it."""
    return f"{TRANSFER}:{transfer.asset}:{transfer.kind.value}:{transfer.exchange_id}"


def unrecorded_key(fill: Fill) -> str:
    """The coins a sale took beyond what the ledger held: found by that fill."""
    return f"{TRANSFER}:{fill.symbol}:before:{fill.trade_id}"


def origins(session: Session, fills: Iterable[Fill]) -> dict[str, str]:
    """Why the app sent each fill's order, by client order id."""
    query = select(Order.client_order_id, Order.origin).where(
        Order.client_order_id.in_({fill.client_order_id for fill in fills})
    )
    return dict(session.execute(query).all())


def record_fill(
    session: Session, book: BookKey, fill: Fill, origin: str | None, realized: Decimal
) -> None:
    """The fill's entry, with its order's origin (None: the app has no record of the order)
    and the PnL it realized.
    The caller records each fill once (core.store.repository.record_fills); the unique key
    refuses a second entry for the same trade all the same."""
    session.add(
        LedgerEntry(
            mode=book.mode,
            account=book.account,
            symbol=fill.symbol,
            entry_key=fill_key(fill),
            kind=FILL,
            origin=origin or UNKNOWN_ORIGIN,
            side=fill.side.value,
            qty=fill.qty,
            change=fill.net_base,
            price=fill.price,
            fee=fill.fee,
            fee_asset=fill.fee_asset,
            fee_quote=fill.fee_quote,
            realized=realized,
            client_order_id=fill.client_order_id,
            time=fill.time,
        )
    )


def has_entry(session: Session, book: BookKey, key: str) -> bool:
    query = select(LedgerEntry.id).where(in_book(LedgerEntry, book), LedgerEntry.entry_key == key)
    return session.scalar(query) is not None


def latest_time(session: Session, book: BookKey, symbol: str) -> datetime | None:
    """When the holding of `symbol` last changed, as the ledger has it."""
    query = select(func.max(LedgerEntry.time)).where(
        in_book(LedgerEntry, book), LedgerEntry.symbol == symbol
    )
    return session.scalar(query)


def record_transfer(
    session: Session,
    book: BookKey,
    symbol: str,
    change: Decimal,
    price: Decimal | None,
    seen_at: datetime,
    key: str | None = None,
    origin: str = Origin.MONITOR.value,
) -> None:
    """The holding of `symbol` changed by `change` outside the app, found at `seen_at` (by
    a check's read, unless `key` names another report) and valued at `price`."""
    session.add(LedgerEntry(**transfer_row(book, symbol, change, price, seen_at, key, origin)))


def transfer_row(
    book: BookKey,
    symbol: str,
    change: Decimal,
    price: Decimal | None,
    seen_at: datetime,
    key: str | None = None,
    origin: str = Origin.MONITOR.value,
) -> dict:
    """The columns of a transfer's entry (see `record_transfer`), for one row or many."""
    return {
        "mode": book.mode,
        "account": book.account,
        "symbol": symbol,
        "entry_key": key or transfer_key(symbol, seen_at),
        "kind": TRANSFER,
        "origin": origin,
        "side": "in" if change > 0 else "out",
        "qty": abs(change),
        "change": change,
        "price": price,
        "fee": ZERO,
        "fee_asset": "",
        "fee_quote": ZERO,
        "realized": ZERO,
        "client_order_id": None,
        "time": seen_at,
    }


def entries(session: Session, book: BookKey, symbol: str | None = None) -> list[LedgerEntry]:
    """The book's entries (of one symbol when given), oldest first."""
    query = select(LedgerEntry).where(in_book(LedgerEntry, book))
    if symbol is not None:
        query = query.where(LedgerEntry.symbol == symbol)
    return list(session.scalars(query.order_by(LedgerEntry.time, LedgerEntry.id)))


def holdings(session: Session, book: BookKey) -> dict[str, Decimal]:
    """What the ledger says the book holds of each symbol: the sum of its changes."""
    held: dict[str, Decimal] = {}
    query = select(LedgerEntry.symbol, LedgerEntry.change).where(in_book(LedgerEntry, book))
    for symbol, change in session.execute(query):
        held[symbol] = held.get(symbol, ZERO) + change
    return held
