"""Profit and loss by average cost, folded fill by fill.

The cost basis excludes fees: a buy adds `qty * price` to the basis and the quantity it
really delivered (less a fee paid in base); every fee is counted once, in `fees`, valued in
the quote asset. So realized + unrealized - fees is exactly the change in account value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.domain import ZERO, Fill, Side


@dataclass(frozen=True)
class PositionBook:
    """The running figures of one symbol's position."""

    qty: Decimal = ZERO
    cost_basis: Decimal = ZERO
    realized: Decimal = ZERO
    fees: Decimal = ZERO

    @property
    def avg_entry(self) -> Decimal | None:
        return self.cost_basis / self.qty if self.qty > 0 else None

    def unrealized(self, mark: Decimal | None) -> Decimal:
        if mark is None or self.qty <= 0:
            return ZERO
        return mark * self.qty - self.cost_basis


def apply_fill(book: PositionBook, fill: Fill) -> PositionBook:
    """The book after one fill. A sell larger than the known quantity (coins the app never
    saw bought) realizes PnL only on what the book holds; the rest has no known cost. A
    short (below zero: a derivatives position the monitor adopted) is bought back the same
    way, mirrored."""
    fees = book.fees + fill.fee_quote
    if book.qty < 0:
        return _short_after(book, fill, fees)
    if fill.side is Side.BUY:
        delivered = fill.net_base
        return PositionBook(
            qty=book.qty + delivered,
            cost_basis=book.cost_basis + delivered * fill.price,
            realized=book.realized,
            fees=fees,
        )
    sold = min(-fill.net_base, book.qty)
    if sold <= 0:
        return PositionBook(book.qty, book.cost_basis, book.realized, fees)
    avg = book.cost_basis / book.qty
    remaining = book.qty - sold
    return PositionBook(
        qty=remaining,
        cost_basis=avg * remaining if remaining > 0 else ZERO,
        realized=book.realized + (fill.price - avg) * min(fill.qty, sold),
        fees=fees,
    )


def _short_after(book: PositionBook, fill: Fill, fees: Decimal) -> PositionBook:
    delta = fill.net_base
    if delta <= 0:  # a sell adds to the short at this price
        return PositionBook(
            book.qty + delta, book.cost_basis + delta * fill.price, book.realized, fees
        )
    avg = book.cost_basis / book.qty
    bought_back = min(delta, -book.qty)
    remaining = book.qty + bought_back
    return PositionBook(
        qty=remaining,
        cost_basis=avg * remaining if remaining < 0 else ZERO,
        realized=book.realized + (avg - fill.price) * bought_back,
        fees=fees,
    )


def fold_fills(fills: list[Fill], start: PositionBook | None = None) -> PositionBook:
    book = start or PositionBook()
    for fill in fills:
        book = apply_fill(book, fill)
    return book
