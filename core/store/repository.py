"""Reads and writes of the trading records, one book (mode, account) at a time.

Functions take the caller's session so that a whole trade step commits or rolls back as
one unit; none of them commits on its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.domain import ZERO, Balance, Fill, OrderReport, OrderStatus, PositionState, Side
from core.pnl import PositionBook, apply_fill
from core.store.models import (
    AppState,
    EquitySnapshot,
    FillRecord,
    Order,
    PaperBalance,
    Position,
    SyncRun,
    utcnow,
)


@dataclass(frozen=True)
class BookKey:
    """Which book a record belongs to: SIM and LIVE (and each LIVE account) never mix."""

    mode: str
    account: str


# --- app state -----------------------------------------------------------------------


def get_value(session: Session, key: str) -> str | None:
    row = session.get(AppState, key)
    return row.value if row else None


def set_value(session: Session, key: str, value: str) -> None:
    row = session.get(AppState, key)
    if row is None:
        session.add(AppState(key=key, value=value))
    else:
        row.value = value


# --- paper balances ------------------------------------------------------------------


def paper_balances(session: Session, account: str) -> dict[str, Balance]:
    rows = session.scalars(select(PaperBalance).where(PaperBalance.account == account))
    return {row.asset: Balance(row.free, row.locked) for row in rows}


def seed_paper_balance(session: Session, account: str, asset: str, amount: Decimal) -> bool:
    """Give a new paper account its starting balance; an existing account is left alone."""
    exists = session.scalar(
        select(PaperBalance.asset).where(PaperBalance.account == account).limit(1)
    )
    if exists is not None:
        return False
    session.add(PaperBalance(account=account, asset=asset, free=amount, locked=ZERO))
    return True


def change_paper_balance(session: Session, account: str, asset: str, delta: Decimal) -> Decimal:
    row = session.get(PaperBalance, (account, asset), with_for_update=True)
    if row is None:
        row = PaperBalance(account=account, asset=asset, free=ZERO, locked=ZERO)
        session.add(row)
    new_free = row.free + delta
    if new_free < 0:
        raise ValueError(f"paper balance of {asset} would go below zero ({new_free})")
    row.free = new_free
    return new_free


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
    sync_run_id: int | None = None,
) -> Order:
    order = Order(
        mode=book.mode,
        account=book.account,
        symbol=symbol,
        client_order_id=client_order_id,
        side=side.value,
        price=price,
        amount=amount,
        filled=ZERO,
        status=OrderStatus.INTENT.value,
        sync_run_id=sync_run_id,
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


def unresolved_orders(session: Session, book: BookKey) -> list[Order]:
    """Orders whose outcome the app does not know: intents and unknowns left by a crash."""
    return list(
        session.scalars(
            select(Order).where(
                Order.mode == book.mode,
                Order.account == book.account,
                Order.status.in_([OrderStatus.INTENT.value, OrderStatus.UNKNOWN.value]),
            )
        )
    )


def record_fills(session: Session, book: BookKey, fills: list[Fill]) -> list[Fill]:
    """Store the fills not stored yet and fold them into the position; returns the new ones."""
    if not fills:
        return []
    symbols = {fill.symbol for fill in fills}
    known = set(
        session.execute(
            select(FillRecord.symbol, FillRecord.trade_id).where(
                FillRecord.mode == book.mode,
                FillRecord.account == book.account,
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
        figures = apply_fill(_book_of(position), fill)
        position.qty = figures.qty
        position.cost_basis = figures.cost_basis
        position.realized = figures.realized
        position.fees = figures.fees
    session.flush()
    return new


def recent_fills(
    session: Session,
    book: BookKey,
    symbol: str | None = None,
    limit: int = 200,
    since: datetime | None = None,
) -> list[FillRecord]:
    query = select(FillRecord).where(
        FillRecord.mode == book.mode, FillRecord.account == book.account
    )
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
        .where(Order.mode == book.mode, Order.account == book.account)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


# --- positions -----------------------------------------------------------------------


def position_row(session: Session, book: BookKey, symbol: str) -> Position:
    """The symbol's position row, created empty on first use."""
    position = session.scalar(
        select(Position).where(
            Position.mode == book.mode, Position.account == book.account, Position.symbol == symbol
        )
    )
    if position is None:
        position = Position(
            mode=book.mode,
            account=book.account,
            symbol=symbol,
            state=PositionState.NO_POSITION.value,
            qty=ZERO,
            cost_basis=ZERO,
            realized=ZERO,
            fees=ZERO,
            is_open=False,
        )
        session.add(position)
        session.flush()
    return position


def positions(session: Session, book: BookKey) -> list[Position]:
    query = (
        select(Position)
        .where(Position.mode == book.mode, Position.account == book.account)
        .order_by(Position.symbol)
    )
    return list(session.scalars(query))


def set_position_state(
    session: Session,
    book: BookKey,
    symbol: str,
    state: PositionState,
    price: Decimal | None,
    target: PositionState | None = None,
    is_open: bool | None = None,
) -> Position:
    """Record the state the trader sees; `is_open` (base held above dust) when known."""
    position = position_row(session, book, symbol)
    position.state = state.value
    if is_open is not None:
        position.is_open = is_open
    if price is not None:
        position.last_price = price
        position.price_time = utcnow()
    if target is not None:
        position.target_state = target.value
    return position


def _book_of(position: Position) -> PositionBook:
    return PositionBook(position.qty, position.cost_basis, position.realized, position.fees)


# --- sync runs and equity ------------------------------------------------------------


def record_sync_run(
    session: Session,
    book: BookKey,
    *,
    kind: str,
    ok: bool,
    message: str,
    started_at: datetime,
    symbol: str | None = None,
    policy: str | None = None,
    target: str | None = None,
    before_state: str | None = None,
    after_state: str | None = None,
    api_calls: int = 0,
    duration_ms: int = 0,
    details: dict | None = None,
) -> SyncRun:
    run = SyncRun(
        mode=book.mode,
        account=book.account,
        kind=kind,
        symbol=symbol,
        policy=policy,
        target=target,
        before_state=before_state,
        after_state=after_state,
        ok=ok,
        message=message,
        api_calls=api_calls,
        duration_ms=duration_ms,
        details=json.dumps(details or {}, default=str),
        started_at=started_at,
        finished_at=utcnow(),
    )
    session.add(run)
    session.flush()
    return run


def recent_sync_runs(session: Session, book: BookKey, limit: int = 100) -> list[SyncRun]:
    query = (
        select(SyncRun)
        .where(SyncRun.mode == book.mode, SyncRun.account == book.account)
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def record_equity(session: Session, book: BookKey, equity: Decimal) -> None:
    session.add(EquitySnapshot(mode=book.mode, account=book.account, equity=equity, time=utcnow()))


def equity_curve(
    session: Session, book: BookKey, limit: int = 2000
) -> list[tuple[datetime, Decimal]]:
    query = (
        select(EquitySnapshot.time, EquitySnapshot.equity)
        .where(EquitySnapshot.mode == book.mode, EquitySnapshot.account == book.account)
        .order_by(EquitySnapshot.time.desc())
        .limit(limit)
    )
    return [(time, equity) for time, equity in reversed(session.execute(query).all())]
