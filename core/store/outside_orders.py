"""The open orders placed outside the app, as the periodic check last read them: the page
lists them from here (a database read, never the exchange on a page request), with the time
of that read. Kept as one app-state value per book, replaced by every check's read."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from core.domain import OrderReport, PlacedBy, Side, WorkingOrder
from core.store import repository as repo
from core.store.books import BookKey


@dataclass(frozen=True)
class OutsideRead:
    """The outside orders of a book and when the check read them."""

    read_at: datetime
    orders: tuple[WorkingOrder, ...]


def _key(book: BookKey) -> str:
    return f"outside-orders:{book.mode}:{book.account}"


def record(session: Session, book: BookKey, orders: Iterable[OrderReport], read_at) -> None:
    """What the check read at `read_at`: the open orders the app has no record of."""
    _write(session, book, read_at, [WorkingOrder.outside(o) for o in orders])


def forget(session: Session, book: BookKey, order_ids: set[str]) -> None:
    """Orders cancelled from the app leave the list before the next check reads it."""
    found = last_read(session, book)
    if found is not None:
        kept = [o for o in found.orders if o.id not in order_ids]
        _write(session, book, found.read_at, kept)


def last_read(session: Session, book: BookKey) -> OutsideRead | None:
    value = repo.get_value(session, _key(book))
    if value is None:
        return None
    document = json.loads(value)
    orders = tuple(
        WorkingOrder(
            id=o["id"],
            symbol=o["symbol"],
            side=Side(o["side"]),
            price=Decimal(o["price"]),
            amount=Decimal(o["amount"]),
            filled=Decimal(o["filled"]),
            placed_at=datetime.fromisoformat(o["placed_at"]) if o["placed_at"] else None,
            placed_by=PlacedBy.OUTSIDE,
        )
        for o in document["orders"]
    )
    return OutsideRead(datetime.fromisoformat(document["read_at"]), orders)


def _write(session: Session, book: BookKey, read_at: datetime, orders) -> None:
    rows = [
        {
            "id": o.id,
            "symbol": o.symbol,
            "side": o.side.value,
            "price": str(o.price),
            "amount": str(o.amount),
            "filled": str(o.filled),
            "placed_at": o.placed_at.isoformat() if o.placed_at else None,
        }
        for o in orders
    ]
    document = {"read_at": read_at.isoformat(), "orders": rows}
    repo.set_value(session, _key(book), json.dumps(document))
