"""Profit and loss by average cost, folded fill by fill.

The cost basis excludes fees: a buy adds `qty * price` to the basis and the quantity it
really delivered (less a fee paid in base); every fee is counted once, in `fees`, valued in
the quote asset. So realized + unrealized - fees is exactly the change in account value.

A transfer (holdings that came or went outside the app, found by a check) is not a trade: it
realizes nothing and pays no fee. Coins that came in enter the basis at the price they were
valued at (the mark); coins that left take their share of the basis with them.
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


def apply_transfer(book: PositionBook, change: Decimal, price: Decimal | None) -> PositionBook:
    """The book after the holding changed by `change` outside the app, valued at `price` (a
    holding with no price to value it enters at no cost)."""
    qty = book.qty + change
    if book.qty == 0 or book.qty * change > 0:  # opens or adds: at the price
        cost = book.cost_basis + change * (price or ZERO)
    elif qty * book.qty > 0:  # reduces: the rest keeps its average
        cost = book.cost_basis / book.qty * qty
    else:  # to zero, or through it to the other side at the price
        cost = qty * (price or ZERO)
    return PositionBook(qty, cost, book.realized, book.fees)


def fold_fills(fills: list[Fill], start: PositionBook | None = None) -> PositionBook:
    book = start or PositionBook()
    for fill in fills:
        book = apply_fill(book, fill)
    return book
