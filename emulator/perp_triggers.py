"""The perpetuals engine's conditional orders: placed, listed, cancelled, and fired when the
mark price reaches their trigger. Firing happens inside the engine's own price moves (ticks
and control-API moves), whether or not any client is connected."""

from decimal import Decimal

from emulator.conditionals import (
    CANCELED,
    EXPIRED,
    RISE,
    TRIGGERED,
    ConditionalOrder,
    ConditionalRequest,
    is_due,
)
from emulator.perp_orders import PerpAccount, PerpOrderRequest, Rejection

MAX_OPEN_CONDITIONALS = 500


class Triggers:
    """Mixed into PerpEngine: uses its accounts, markets, mark prices, ids and `place`."""

    def _start_triggers(self) -> None:
        self.conditionals: dict[str, ConditionalOrder] = {}  # every one, in time order
        self._open_conditionals: dict[str, ConditionalOrder] = {}
        self._conditional_client_ids: dict[tuple[str, str], ConditionalOrder] = {}

    def place_conditional(
        self, account: PerpAccount, request: ConditionalRequest
    ) -> ConditionalOrder:
        self.check_conditional(account, request)
        now = self.clock()
        conditional = ConditionalOrder(self._next_order_id(), account.api_key, request, now, now)
        self.conditionals[conditional.order_id] = conditional
        self._open_conditionals[conditional.order_id] = conditional
        if request.client_order_id is not None:
            self._conditional_client_ids[(account.api_key, request.client_order_id)] = conditional
        return conditional

    def check_conditional(self, account: PerpAccount, request: ConditionalRequest) -> None:
        """Raises the Rejection the exchange answers at once; the order it would send is
        checked like any order when its size is known (a whole-position one is sized when it
        fires)."""
        market = self.markets[request.symbol]
        if request.trigger_price % market.tick:
            raise Rejection(Rejection.PRICE_TICK)
        if not market.min_price <= request.trigger_price <= market.max_price:
            raise Rejection(Rejection.PRICE_RANGE)
        if request.quantity is not None:
            self.validate(account, self._order_to_send(request, request.quantity))
        client_key = (account.api_key, request.client_order_id)
        if request.client_order_id is not None and (
            client_key in self._client_ids or client_key in self._conditional_client_ids
        ):
            raise Rejection(Rejection.DUPLICATE_CLIENT_ID)
        if len(self.open_conditionals(account)) >= MAX_OPEN_CONDITIONALS:
            raise Rejection(Rejection.TOO_MANY_ORDERS)
        if is_due(request.direction, request.trigger_price, self.mid(request.symbol)):
            rising = request.direction == RISE
            raise Rejection(Rejection.RISE_REACHED if rising else Rejection.FALL_REACHED)

    @staticmethod
    def _order_to_send(request: ConditionalRequest, quantity: Decimal) -> PerpOrderRequest:
        time_in_force = "IOC" if request.order_type == "MARKET" else "GTC"
        return PerpOrderRequest(
            request.symbol,
            request.side,
            request.order_type,
            quantity,
            request.price,
            time_in_force,
            request.reduce_only,
            None,
        )

    def cancel_conditional(self, conditional: ConditionalOrder) -> ConditionalOrder:
        if not conditional.is_open:
            raise Rejection(Rejection.ORDER_FINISHED)
        self._finish_conditional(conditional, CANCELED)
        return conditional

    def _finish_conditional(self, conditional: ConditionalOrder, status: str) -> None:
        conditional.status = status
        conditional.update_ms = self.clock()
        self._open_conditionals.pop(conditional.order_id, None)

    def find_conditional(
        self,
        account: PerpAccount,
        symbol: str | None,
        order_id: str | None,
        client_order_id: str | None,
    ) -> ConditionalOrder | None:
        if order_id is not None:
            found = self.conditionals.get(order_id)
        else:
            found = self._conditional_client_ids.get((account.api_key, client_order_id or ""))
        if found is None or found.api_key != account.api_key:
            return None
        return found if symbol is None or found.symbol == symbol else None

    def open_conditionals(
        self, account: PerpAccount, symbol: str | None = None
    ) -> list[ConditionalOrder]:
        return [
            c
            for c in self._open_conditionals.values()
            if c.api_key == account.api_key and (symbol is None or c.symbol == symbol)
        ]

    def recent_conditionals(
        self, account: PerpAccount, symbol: str | None = None
    ) -> list[ConditionalOrder]:
        """The account's conditional orders of any status, newest first."""
        return [
            c
            for c in reversed(self.conditionals.values())
            if c.api_key == account.api_key and (symbol is None or c.symbol == symbol)
        ]

    def position_tpsl(self, account: PerpAccount, symbol: str) -> dict[str, Decimal]:
        """The whole-position TP/SL trigger prices by kind (Bybit's Full mode)."""
        return {
            c.kind: c.request.trigger_price
            for c in self.open_conditionals(account, symbol)
            if c.request.position_tpsl and c.request.quantity is None
        }

    def cancel_position_tpsl(
        self,
        account: PerpAccount,
        symbol: str,
        kind: str | None = None,
        partial: bool | None = None,
    ) -> None:
        """Drop the position's TP/SL orders (of one kind, whole-position or partial)."""
        for conditional in self.open_conditionals(account, symbol):
            request = conditional.request
            if (
                request.position_tpsl
                and kind in (None, conditional.kind)
                and partial in (None, request.quantity is not None)
            ):
                self._finish_conditional(conditional, CANCELED)

    def _fire_due(self, symbol: str) -> None:
        """Send the orders of every conditional the mark price has reached, oldest first."""
        mark = self.mid(symbol)
        for conditional in list(self._open_conditionals.values()):
            request = conditional.request
            due = is_due(request.direction, request.trigger_price, mark)
            if conditional.symbol == symbol and conditional.is_open and due:
                self._fire(conditional)

    def _fire(self, conditional: ConditionalOrder) -> None:
        """A reduce-only order with nothing left to reduce expires instead: it never opens or
        flips a position."""
        account = self.accounts[conditional.api_key]
        request = conditional.request
        quantity = request.quantity
        if quantity is None:
            held = self._reducible(account, request.symbol, request.side)
            quantity = min(held, self.markets[request.symbol].max_market_qty)
        self._finish_conditional(conditional, TRIGGERED)
        conditional.triggered_ms = conditional.update_ms
        if quantity == 0:
            conditional.status = EXPIRED
            return
        try:
            order = self._order_to_send(request, quantity)
            conditional.order = self.place(account, order, fired_by=conditional)
        except Rejection:
            conditional.status = EXPIRED
