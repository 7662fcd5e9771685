"""The paper exchange's own records (SIM): the account's balances and each paper order's
outcome with its fills, as an exchange would keep them. The app's book of orders and fills
is written by the executor, as in LIVE."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.domain import ZERO, Balance, Fill, OrderReport, OrderStatus, Side
from core.store.db import insert_unless_present, serialize
from core.store.models import PaperBalance, PaperOrder


class Overdraft(ValueError):
    """A paper fill would take a balance below zero."""


def balances(session: Session, account: str) -> dict[str, Balance]:
    """Read as columns, not as ORM objects: the page reads a book of 500 assets every
    second, where building the objects was most of the read."""
    rows = session.execute(
        select(PaperBalance.asset, PaperBalance.free, PaperBalance.locked).where(
            PaperBalance.account == account
        )
    )
    return {asset: Balance(free, locked) for asset, free, locked in rows}


def seed_balance(session: Session, account: str, asset: str, amount: Decimal) -> bool:
    """Give a new paper account its starting balance; an existing account is left alone
    (also when another process seeds it at the same moment)."""
    exists = session.scalar(
        select(PaperBalance.asset).where(PaperBalance.account == account).limit(1)
    )
    if exists is not None:
        return False
    return insert_unless_present(
        session, PaperBalance, account=account, asset=asset, free=amount, locked=ZERO
    )


def hold_account(session: Session, account: str) -> None:
    """Until the transaction ends, no other trade changes this paper account: two fills on
    two symbols that both read the same free cash must not both spend it."""
    serialize(session, f"paper-account:{account}")


def change_balance(session: Session, account: str, asset: str, delta: Decimal) -> Decimal:
    """Add `delta` to the free balance (the caller holds the account); `Overdraft` leaves it
    unchanged."""
    row = session.get(PaperBalance, (account, asset), with_for_update=True)
    if row is None:
        row = PaperBalance(account=account, asset=asset, free=ZERO, locked=ZERO)
        session.add(row)
    new_free = row.free + delta
    if new_free < 0:
        raise Overdraft(f"paper balance of {asset} would go below zero ({new_free:f})")
    row.free = new_free
    return new_free


def lock_balance(session: Session, account: str, asset: str, amount: Decimal) -> None:
    """Move `amount` of `asset` from free to locked (a resting order holds it); `Overdraft`
    when not that much is free. A negative amount hands it back."""
    change_balance(session, account, asset, -amount)
    row = session.get(PaperBalance, (account, asset), with_for_update=True)
    if row.locked + amount < 0:
        raise Overdraft(f"paper locked {asset} would go below zero")
    row.locked += amount


def update_order(session: Session, report: OrderReport) -> None:
    """A paper order's new state: what it filled, its fills, open or ended."""
    row = session.get(PaperOrder, report.client_order_id)
    row.filled, row.average, row.status = report.filled, report.average, report.status.value
    row.fills = json.dumps([_fill_fields(f) for f in report.fills])


def open_orders(session: Session, account: str, symbol: str | None = None) -> list[OrderReport]:
    """The paper orders that rest, oldest first (time priority)."""
    query = select(PaperOrder).where(
        PaperOrder.account == account, PaperOrder.status == OrderStatus.OPEN.value
    )
    if symbol is not None:
        query = query.where(PaperOrder.symbol == symbol)
    return [_report_of(row) for row in session.scalars(query.order_by(PaperOrder.created_at))]


def record_order(session: Session, account: str, report: OrderReport) -> None:
    session.add(
        PaperOrder(
            client_order_id=report.client_order_id,
            account=account,
            exchange_order_id=report.exchange_order_id,
            symbol=report.symbol,
            side=report.side.value,
            price=report.price,
            amount=report.amount,
            filled=report.filled,
            average=report.average,
            status=report.status.value,
            fills=json.dumps([_fill_fields(f) for f in report.fills]),
        )
    )


def order(session: Session, client_order_id: str) -> OrderReport | None:
    """A paper order as the paper exchange knows it, with its fills; None if never placed."""
    row = session.get(PaperOrder, client_order_id)
    return None if row is None else _report_of(row)


def _report_of(row: PaperOrder) -> OrderReport:
    return OrderReport(
        client_order_id=row.client_order_id,
        exchange_order_id=row.exchange_order_id,
        symbol=row.symbol,
        side=Side(row.side),
        price=row.price,
        amount=row.amount,
        filled=row.filled,
        status=OrderStatus(row.status),
        average=row.average,
        fills=tuple(_fill_of(item) for item in json.loads(row.fills)),
        placed_at=row.created_at,
    )


def _fill_fields(fill: Fill) -> dict:
    return {
        "symbol": fill.symbol,
        "side": fill.side.value,
        "qty": str(fill.qty),
        "price": str(fill.price),
        "fee": str(fill.fee),
        "fee_asset": fill.fee_asset,
        "fee_quote": str(fill.fee_quote),
        "trade_id": fill.trade_id,
        "client_order_id": fill.client_order_id,
        "time": fill.time.isoformat(),
    }


def _fill_of(item: dict) -> Fill:
    return Fill(
        symbol=item["symbol"],
        side=Side(item["side"]),
        qty=Decimal(item["qty"]),
        price=Decimal(item["price"]),
        fee=Decimal(item["fee"]),
        fee_asset=item["fee_asset"],
        fee_quote=Decimal(item["fee_quote"]),
        trade_id=item["trade_id"],
        client_order_id=item["client_order_id"],
        time=datetime.fromisoformat(item["time"]),
    )
