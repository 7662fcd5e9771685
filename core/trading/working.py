"""Working orders: the trader's priced orders that rest on the exchange until they fill or
are cancelled.

The app records each before it is sent (core.trading.orders, type `resting`) and follows it
afterwards: what one filled since it was last read goes into the ledger with the origin of
who placed it, once (its fills are keyed by the exchange's trade id), and one the exchange
no longer lists open is read to its end. `settle` and `cancel` write a symbol's book: the
caller holds that symbol's lock (core.trading.gate).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from core.domain import OrderReport, OrderStatus, PlacedBy, WorkingOrder
from core.store import repository as repo
from core.store.models import Order
from core.trading.orders import OrderDesk, fields

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recorded:
    """A working order as the app last read it."""

    client_order_id: str
    symbol: str
    filled: Decimal


class WorkingDesk:
    """The working orders of one book on one gateway."""

    def __init__(self, desk: OrderDesk):
        self.desk = desk
        self.gateway = desk.gateway
        self.db = desk.db
        self.book = desk.book

    def recorded(self, symbol: str | None = None) -> list[Recorded]:
        with self.db.session() as session:
            rows = repo.working_orders(session, self.book, symbol)
            return [Recorded(o.client_order_id, o.symbol, o.filled) for o in rows]

    def changed(self, listed: Iterable[OrderReport]) -> set[str]:
        """The symbols whose working orders `listed` (the open orders, read after the
        balances) shows other than recorded: gone, or filled further. Their balances may
        hold fills the ledger has not recorded yet: they are settled before anything is
        judged of their holding."""
        by_id = {o.client_order_id: o for o in listed if o.client_order_id}
        return {
            r.symbol
            for r in self.recorded()
            if r.client_order_id not in by_id or by_id[r.client_order_id].filled != r.filled
        }

    def settle(
        self, symbol: str | None = None, listed: list[OrderReport] | None = None
    ) -> list[OrderReport]:
        """Record what the working orders (of `symbol`, or all) filled since they were last
        read, and end those the exchange no longer lists open; returns the ones that
        changed. `listed` is the open orders just read, if the caller has them."""
        recorded = self.recorded(symbol)
        if not recorded:
            return []
        if listed is None:
            listed = self.gateway.open_orders(symbol)
        by_id = {o.client_order_id: o for o in listed if o.client_order_id}
        changed = []
        for row in recorded:
            now = by_id.get(row.client_order_id)
            if now is not None and now.filled == row.filled:
                continue
            if now is None:
                now = self.desk.read_again(
                    lambda r=row: self.gateway.order_by_client_id(r.symbol, r.client_order_id),
                    row.symbol,
                )
            if now is None:  # taken once, unknown now: the reconcile settles it by its fills
                with self.db.session() as session:
                    repo.mark_order(
                        session,
                        row.client_order_id,
                        OrderStatus.UNKNOWN,
                        "outcome unknown: the exchange no longer lists this working order",
                    )
                continue
            fills = self.desk.read_again(lambda o=now: self.gateway.order_fills(o), row.symbol)
            self.desk.settle([now], fills)
            if now.status is not OrderStatus.OPEN and now.filled < now.amount:
                self.forget_target(row.symbol)
            changed.append(now)
            log.info(
                "working order read",
                extra={
                    **fields(self.book, row.symbol),
                    "client_order_id": row.client_order_id,
                    "status": now.status.value,
                    "filled": f"{now.filled:f}",
                },
            )
        return changed

    def forget_target(self, symbol: str) -> None:
        """A working order ended unfilled (cancelled, here or on the exchange): the target
        it was on its way to is no longer the trader's, so no check calls the symbol
        drifting from it and enforce never buys or sells at the market what the trader
        asked at a price. Another working order of the symbol keeps it."""
        with self.db.session() as session:
            if not repo.working_orders(session, self.book, symbol):
                repo.forget_target(session, self.book, symbol)

    def cancel(self, symbol: str, order: WorkingOrder) -> OrderReport | None:
        """Cancel one open order of `symbol`: the app's by its client id (then read to its
        end and settled), another's by the exchange's id."""
        if order.placed_by is PlacedBy.OUTSIDE:
            self.gateway.cancel_outside_order(symbol, order.id)
            return None
        ended = self.desk.read_again(lambda: self.gateway.cancel_order(symbol, order.id), symbol)
        if ended is not None:
            fills = self.desk.read_again(lambda: self.gateway.order_fills(ended), symbol)
            self.desk.settle([ended], fills)
            if ended.status is not OrderStatus.OPEN and ended.filled < ended.amount:
                self.forget_target(symbol)
        return ended

    def listing(
        self, listed: list[OrderReport], stops: Iterable[WorkingOrder] = ()
    ) -> list[WorkingOrder]:
        """`listed` (the open orders read) as the orders panel shows them, the app's and
        the others', then the stops."""
        ids = {o.client_order_id for o in listed if o.client_order_id}
        with self.db.session() as session:
            ours = repo.orders_by_client_id(session, self.book, ids)
            rows = [_working_of(o, ours.get(o.client_order_id)) for o in listed]
        return sorted(rows, key=lambda w: (w.symbol, w.placed_at is None, w.placed_at)) + list(
            stops
        )


def _working_of(report: OrderReport, ours: Order | None) -> WorkingOrder:
    if ours is not None:
        return WorkingOrder(
            id=report.client_order_id,
            symbol=report.symbol,
            side=report.side,
            price=report.price,
            amount=report.amount,
            filled=report.filled,
            placed_at=report.placed_at or ours.created_at,
            placed_by=PlacedBy.APP,
            origin=ours.origin,
        )
    return WorkingOrder.outside(report)
