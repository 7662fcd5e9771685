"""Working orders and stops of the traded account's book: what the orders panel and
`orders` list (the panel: the app's from the database, the others as the periodic check
last read them), cancelling them (one, or every one of a symbol) and moving the app's,
through the gate."""

from __future__ import annotations

from decimal import Decimal

from core.domain import ZERO, Amended, Mode, Origin, PlacedBy, Side, WorkingOrder
from core.errors import InputError
from core.service.composition import ACCOUNT, Wiring
from core.service.inputs import parse_symbol
from core.service.stored_mode import StoredMode
from core.store import outside_orders, protection
from core.store import repository as repo
from core.trading.gate import Gate

STOP_ID = "stop:"  # a stop's id in the listing: stop:ETH/USDT (cleared with protect --clear)


class OrdersCommands:
    def __init__(self, wiring: Wiring, gate: Gate, stored: StoredMode):
        self.wiring = wiring
        self.gate = gate
        self._stored = stored

    def working(self, mode: Mode | None = None) -> list[WorkingOrder]:
        """Every open order of the book's account (the app's and the others') read from the
        exchange in one call, then every stop the book keeps. SIM: the paper account's
        resting orders, matched against the public book first."""
        account = self.wiring.account(ACCOUNT, mode or self._stored.current())
        listed = account.gateway.open_orders()
        with self.wiring.db.session() as session:
            stops = protection.live_stops(session, account.book)
        return account.executor.working.listing(listed, [r for s in stops for r in _rows(s)])

    def recorded(self, mode: Mode | None = None) -> list[WorkingOrder]:
        """The book's working orders as the app last read them, and its stops: a database
        read (the page shows this on every refresh; the exchange is read by the checks)."""
        book = self.wiring.book(mode or self._stored.current())
        with self.wiring.db.session() as session:
            rows = [
                WorkingOrder(
                    id=o.client_order_id,
                    symbol=o.symbol,
                    side=Side(o.side),
                    price=o.price,
                    amount=o.amount,
                    filled=o.filled,
                    placed_at=o.created_at,
                    placed_by=PlacedBy.APP,
                    origin=o.origin,
                )
                for o in repo.working_orders(session, book)
            ]
            stops = protection.live_stops(session, book)
        return rows + [r for s in stops for r in _rows(s)]

    def outside(self, mode: Mode | None = None) -> outside_orders.OutsideRead | None:
        """The open orders placed outside the app as the periodic check last read them, and
        when: a database read (None before any check read the book)."""
        book = self.wiring.book(mode or self._stored.current())
        with self.wiring.db.session() as session:
            return outside_orders.last_read(session, book)

    def _forget_outside(self, account, cancelled: list[WorkingOrder]) -> None:
        gone = {o.id for o in cancelled if o.placed_by is PlacedBy.OUTSIDE}
        if gone:
            with self.wiring.db.session() as session:
                outside_orders.forget(session, account.book, gone)

    def cancel(
        self,
        order_id: str,
        mode: Mode | None = None,
        origin: Origin = Origin.CLI,
        made_in: Mode | None = None,
    ) -> WorkingOrder:
        """Cancel one working order by the id the listing shows. InputError when the book
        has no such open order (or it is a stop: protect --clear removes those)."""
        mode = mode or made_in or self._stored.current()
        account = self.wiring.account(ACCOUNT, mode)
        if order_id.startswith(STOP_ID):
            raise InputError(
                f"{order_id} is a stop: remove it with protect {order_id[len(STOP_ID) :]} --clear"
            )
        found = [w for w in self.working(mode) if w.id == order_id and w.cancellable]
        if not found:
            raise InputError(
                f"no open order {order_id!r} in the {mode.value.upper()} book "
                f"(orders{' --live' if mode is Mode.LIVE else ''} lists them)"
            )
        self.gate.cancel(account, found[0].symbol, found, origin, made_in)
        self._forget_outside(account, found)
        self.wiring.observers.order_cancelled(ACCOUNT, found[0], origin.value, mode=mode)
        return found[0]

    def amend(
        self,
        order_id: str,
        price: Decimal,
        mode: Mode | None = None,
        origin: Origin = Origin.CLI,
        made_in: Mode | None = None,
    ) -> Amended:
        """Move one of the app's working orders to `price` (cancel and replace through the
        gate). InputError when the book has no such open order of the app's: a stop moves
        with protect, an order placed outside the app is the trader's to cancel."""
        mode = mode or made_in or self._stored.current()
        account = self.wiring.account(ACCOUNT, mode)
        if order_id.startswith(STOP_ID):
            raise InputError(
                f"{order_id} is a stop: move it with protect {order_id[len(STOP_ID) :]} "
                "--stop-loss PRICE"
            )
        found = [w for w in self.recorded(mode) if w.id == order_id]
        if not found:
            outside = [w for w in self.working(mode) if w.id == order_id]
            raise InputError(
                f"order {order_id!r} was placed outside the app: cancel it and rest your own"
                if outside
                else f"no open order {order_id!r} of the app's in the {mode.value.upper()} "
                f"book (orders{' --live' if mode is Mode.LIVE else ''} lists them)"
            )
        amended = self.gate.amend(account, found[0], price, origin, made_in)
        if not amended.refused:
            self.wiring.observers.order_amended(ACCOUNT, amended, origin.value, mode=mode)
        return amended

    def cancel_symbol(
        self,
        symbol: str,
        mode: Mode | None = None,
        origin: Origin = Origin.CLI,
        made_in: Mode | None = None,
    ) -> list[WorkingOrder]:
        """Cancel every open order of `symbol` (the app's and the others'); its stops stay."""
        mode = mode or made_in or self._stored.current()
        account = self.wiring.account(ACCOUNT, mode)
        listed = account.gateway.open_orders()
        symbol = parse_symbol(symbol, sorted({*self.wiring.symbols, *(o.symbol for o in listed)}))
        rows = [
            w
            for w in account.executor.working.listing([o for o in listed if o.symbol == symbol])
            if w.cancellable
        ]
        if rows:
            self.gate.cancel(account, symbol, rows, origin, made_in)
            self._forget_outside(account, rows)
        for row in rows:
            self.wiring.observers.order_cancelled(ACCOUNT, row, origin.value, mode=mode)
        return rows


def _rows(stop: protection.StoredStop) -> list[WorkingOrder]:
    """A stop as rows of the listing: its stop-loss and its take-profit."""
    placed_by = PlacedBy.APP_STOP if stop.placement == "app" else PlacedBy.EXCHANGE_STOP
    side = Side.SELL if stop.side == "long" else Side.BUY
    return [
        WorkingOrder(
            id=f"{STOP_ID}{stop.symbol}",
            symbol=stop.symbol,
            side=side,
            price=price,
            amount=None,
            filled=ZERO,
            placed_at=stop.created_at,
            placed_by=placed_by,
            kind=kind,
        )
        for kind, price in (("stop_loss", stop.stop_loss), ("take_profit", stop.take_profit))
        if price is not None
    ]
