"""Reads and writes of the trading records, one book (mode, account) at a time.

Functions take the caller's session so that a whole trade step commits or rolls back as
one unit; none of them commits on its own.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.domain import (
    ZERO,
    CashTransfer,
    ExternalChange,
    Fill,
    OrderReport,
    OrderStatus,
    Origin,
    PositionState,
    Side,
)
from core.pnl import PositionBook, apply_fill, apply_transfer
from core.store import ledger
from core.store.books import BookKey, in_book
from core.store.db import insert_unless_present
from core.store.models import (
    EMPTY_POSITION,
    AppState,
    EquitySnapshot,
    FillRecord,
    Order,
    Position,
    utcnow,
)

__all__ = ["BookKey"]
RESTING = "resting"  # an order's type when it is the trader's working order


# --- app state -----------------------------------------------------------------------


def get_value(session: Session, key: str) -> str | None:
    row = session.get(AppState, key)
    return row.value if row else None


def set_value_if_absent(session: Session, key: str, value: str) -> bool:
    """Store `value` unless the key has one; True when it was stored. Two processes starting
    at once cannot both insert it (the insert yields to the other's)."""
    return insert_unless_present(session, AppState, key=key, value=value, updated_at=utcnow())


def set_value(session: Session, key: str, value: str) -> None:
    row = session.get(AppState, key)
    if row is None:
        session.add(AppState(key=key, value=value))
    else:
        row.value = value


# --- orders and fills ----------------------------------------------------------------


def record_intent(
    session: Session,
    book: BookKey,
    *,
    client_order_id: str,
    symbol: str,
    side: Side,
    price: Decimal,
    amount: Decimal,
    origin: Origin = Origin.MANUAL,
    resting: bool = False,
) -> Order:
    """An order's intent, committed before it is sent. A `resting` order is the trader's
    working order at their own price (kept open on the exchange, never repriced)."""
    order = Order(
        mode=book.mode,
        account=book.account,
        origin=origin.value,
        order_type=RESTING if resting else "limit",
        symbol=symbol,
        client_order_id=client_order_id,
        side=side.value,
        price=price,
        amount=amount,
        filled=ZERO,
        status=OrderStatus.INTENT.value,
    )
    session.add(order)
    session.flush()
    return order


def update_order(session: Session, report: OrderReport, reason: str | None = None) -> Order:
    order = session.scalar(select(Order).where(Order.client_order_id == report.client_order_id))
    if order is None:
        raise LookupError(f"no recorded order {report.client_order_id}")
    order.exchange_order_id = report.exchange_order_id or order.exchange_order_id
    order.status = report.status.value
    order.filled = report.filled
    order.average = report.average
    order.price = report.price
    if reason is not None:
        order.reason = reason
    return order


def mark_order(session: Session, client_order_id: str, status: OrderStatus, reason: str) -> None:
    order = session.scalar(select(Order).where(Order.client_order_id == client_order_id))
    if order is None:
        raise LookupError(f"no recorded order {client_order_id}")
    order.status = status.value
    order.reason = reason


def resize_intent(session: Session, client_order_id: str, amount: Decimal) -> None:
    """An intent not sent yet asks for `amount` now (an amend's replacement, once the cancel
    of the order it replaces found part of it filled)."""
    order = session.scalar(select(Order).where(Order.client_order_id == client_order_id))
    if order is None or order.status != OrderStatus.INTENT.value:
        raise LookupError(f"no order intent {client_order_id}")
    order.amount = amount


def working_orders(session: Session, book: BookKey, symbol: str | None = None) -> list[Order]:
    """The book's working orders: priced orders of the app that rest on the exchange (open
    as last read), oldest first."""
    query = select(Order).where(
        in_book(Order, book), Order.order_type == RESTING, Order.status == OrderStatus.OPEN.value
    )
    if symbol is not None:
        query = query.where(Order.symbol == symbol)
    return list(session.scalars(query.order_by(Order.created_at, Order.id)))


def orders_by_client_id(session: Session, book: BookKey, client_ids: set[str]) -> dict[str, Order]:
    """The book's recorded orders among `client_ids`."""
    if not client_ids:
        return {}
    query = select(Order).where(in_book(Order, book), Order.client_order_id.in_(client_ids))
    return {o.client_order_id: o for o in session.scalars(query)}


def unresolved_orders(session: Session, book: BookKey) -> list[Order]:
    """Orders whose outcome the app does not know: intents and unknowns left by a crash."""
    return list(
        session.scalars(
            select(Order).where(
                in_book(Order, book),
                Order.status.in_([OrderStatus.INTENT.value, OrderStatus.UNKNOWN.value]),
            )
        )
    )


def record_fills(session: Session, book: BookKey, fills: list[Fill]) -> list[Fill]:
    """Store the fills not stored yet, each with its ledger entry, and fold them into the
    position; returns the new ones."""
    if not fills:
        return []
    symbols = {fill.symbol for fill in fills}
    known = set(
        session.execute(
            select(FillRecord.symbol, FillRecord.trade_id).where(
                in_book(FillRecord, book),
                FillRecord.symbol.in_(symbols),
                FillRecord.trade_id.in_([fill.trade_id for fill in fills]),
            )
        ).all()
    )
    new = []
    for fill in fills:  # a trade listed twice (overlapping pages) is recorded once
        if (fill.symbol, fill.trade_id) not in known:
            known.add((fill.symbol, fill.trade_id))
            new.append(fill)
    origins = ledger.origins(session, new) if new else {}
    for fill in new:
        session.add(
            FillRecord(
                mode=book.mode,
                account=book.account,
                symbol=fill.symbol,
                trade_id=fill.trade_id,
                client_order_id=fill.client_order_id,
                side=fill.side.value,
                qty=fill.qty,
                price=fill.price,
                fee=fill.fee,
                fee_asset=fill.fee_asset,
                fee_quote=fill.fee_quote,
                time=fill.time,
            )
        )
        position = position_row(session, book, fill.symbol)
        if fill.side is Side.BUY and not position.is_open:
            position.entry_source = "fills"
        figures = _book_of(position)
        unrecorded = -fill.net_base - figures.qty
        if fill.side is Side.SELL and figures.qty >= 0 and unrecorded > 0:
            figures = _found_by_sale(session, book, fill, figures, unrecorded)
        before, figures = figures, apply_fill(figures, fill)
        realized = figures.realized - before.realized
        ledger.record_fill(session, book, fill, origins.get(fill.client_order_id), realized)
        position.qty = figures.qty
        position.cost_basis = figures.cost_basis
        position.realized = figures.realized
        position.fees = figures.fees
    session.flush()
    return new


def _found_by_sale(
    session: Session, book: BookKey, fill: Fill, figures: PositionBook, unrecorded: Decimal
) -> PositionBook:
    """A sale took coins the records never saw come in (held from before, not adopted yet):
    they enter the ledger as a transfer at the sale's price just before it, so the ledger
    adds up to the holding, and the sale realizes nothing on them (they have no known cost)."""
    ledger.record_transfer(
        session,
        book,
        fill.symbol,
        unrecorded,
        fill.price,
        fill.time,
        key=ledger.unrecorded_key(fill),
        origin=ledger.UNRECORDED,
    )
    return apply_transfer(figures, unrecorded, fill.price)


def recent_fills(
    session: Session,
    book: BookKey,
    symbol: str | None = None,
    limit: int = 200,
    since: datetime | None = None,
) -> list[FillRecord]:
    query = select(FillRecord).where(in_book(FillRecord, book))
    if symbol is not None:
        query = query.where(FillRecord.symbol == symbol)
    if since is not None:
        query = query.where(FillRecord.time >= since)
    return list(
        session.scalars(query.order_by(FillRecord.time.desc(), FillRecord.id.desc()).limit(limit))
    )


def recent_orders(session: Session, book: BookKey, limit: int = 200) -> list[Order]:
    query = (
        select(Order)
        .where(in_book(Order, book))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


# --- positions -----------------------------------------------------------------------


def find_position(session: Session, book: BookKey, symbol: str) -> Position | None:
    return session.scalar(
        select(Position).where(in_book(Position, book), Position.symbol == symbol)
    )


def position_row(session: Session, book: BookKey, symbol: str) -> Position:
    """The symbol's position row, created empty on first use."""
    position = find_position(session, book, symbol)
    if position is None:
        position = Position(mode=book.mode, account=book.account, symbol=symbol, **EMPTY_POSITION)
        session.add(position)
        session.flush()
    return position


def positions(session: Session, book: BookKey) -> list[Position]:
    query = select(Position).where(in_book(Position, book)).order_by(Position.symbol)
    return list(session.scalars(query))


def set_position_state(
    session: Session,
    book: BookKey,
    symbol: str,
    state: PositionState,
    price: Decimal | None,
    target: PositionState | None = None,
    is_open: bool | None = None,
    target_quote: Decimal | None = None,
) -> Position:
    """Record the state the trader sees; `is_open` (base held above dust) when known. A new
    target replaces the size remembered with the old one (`target_quote`: what enforce may
    buy to restore it)."""
    position = position_row(session, book, symbol)
    position.state = state.value
    if is_open is not None:
        position.is_open = is_open
    if price is not None:
        position.last_price = price
        position.price_time = utcnow()
    if target is not None:
        position.target_state = target.value
        position.target_quote = target_quote
    return position


def forget_target(session: Session, book: BookKey, symbol: str) -> None:
    """The symbol has no target any more (its working order ended unfilled)."""
    position = find_position(session, book, symbol)
    if position is not None:
        position.target_state, position.target_quote = None, None
        position.sync_status, position.sync_message = "in_sync", ""


def record_sync_status(
    session: Session, book: BookKey, symbol: str, status: str, message: str, when: datetime
) -> None:
    """The last sync's verdict on one symbol (in_sync, drift or failed), for the badge. A
    symbol without a row has no target to drift from, and gets no row for it."""
    position = find_position(session, book, symbol)
    if position is not None:
        position.sync_status, position.sync_message, position.synced_at = status, message, when


def record_cash_transfer(
    session: Session, book: BookKey, transfer: CashTransfer
) -> ExternalChange | None:
    """A completed deposit or withdrawal of cash as one ledger transfer of its asset, valued
    at 1 (it is its own quote) at the time the exchange gives it, keyed by the exchange's id
    of it: recorded once, however often it is read. Returns the change, None when the
    ledger has it already."""
    key = ledger.cash_key(transfer)
    if ledger.has_entry(session, book, key):
        return None
    change, one = transfer.change, Decimal(1)
    ledger.record_transfer(session, book, transfer.asset, change, one, transfer.time, key=key)
    return ExternalChange(
        book.account, transfer.asset, ZERO, change, one, transfer.time, transfer.kind
    )


def unreadable_positions(session: Session, book: BookKey) -> list[str]:
    """The symbols of the book's position rows that cannot be loaded, one row at a time."""
    found = []
    keys = select(Position.id, Position.symbol).where(in_book(Position, book))
    for row_id, symbol in session.execute(keys).all():
        try:
            session.scalars(select(Position).where(Position.id == row_id)).one()
        except (InvalidOperation, ValueError, TypeError):
            found.append(symbol)
    return sorted(found)


def _book_of(position: Position) -> PositionBook:
    return PositionBook(position.qty, position.cost_basis, position.realized, position.fees)


# --- equity ------------------------------------------------------------------------


def record_equity(session: Session, book: BookKey, equity: Decimal) -> None:
    session.add(EquitySnapshot(mode=book.mode, account=book.account, equity=equity, time=utcnow()))


def equity_curve(
    session: Session, book: BookKey, limit: int = 2000
) -> list[tuple[datetime, Decimal]]:
    query = (
        select(EquitySnapshot.time, EquitySnapshot.equity)
        .where(in_book(EquitySnapshot, book))
        .order_by(EquitySnapshot.time.desc())
        .limit(limit)
    )
    return [(time, equity) for time, equity in reversed(session.execute(query).all())]
