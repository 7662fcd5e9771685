"""A real account through ccxt (LIVE): balances, LIMIT orders with the app's client order
ids, positions and the stops a derivatives exchange keeps. Pointed at a local URL (the
emulator), the same code talks to it."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import ccxt

from core.domain import (
    ZERO,
    AccountSnapshot,
    Balance,
    CashTransfer,
    ExchangePosition,
    ExchangeStop,
    Fill,
    OrderReport,
    OrderStatus,
    Side,
    StopKind,
    TransferKind,
)
from core.exchange.ccxt_client import (
    UNREADABLE,
    UNUSED,
    Counted,
    gateway_error,
    make_client,
    translate_errors,
    unreadable,
)
from core.exchange.ccxt_market import CcxtMarketData
from core.exchange.ccxt_parse import (
    ON_POSITION,
    BadValue,
    answer,
    fee_asset_of,
    fill_of,
    optional,
    position_of,
    report_of,
    stops_held,
    stops_placed,
    transfer_of,
)
from core.exchange.errors_in_words import exchange_code, exchange_said
from core.exchange.gateway import (
    FillsIncomplete,
    GatewayError,
    OrderRejected,
    OrderTraces,
    OutcomeUnknown,
)
from core.exchange.venues import StopsAt, Venue

# Answers that say for certain an order was not placed.
REFUSALS = (
    ccxt.InvalidOrder,
    ccxt.InsufficientFunds,
    ccxt.BadSymbol,
    ccxt.BadRequest,
    ccxt.AuthenticationError,
    ccxt.PermissionDenied,
    ccxt.AccountSuspended,
)

TRIGGER = {"trigger": True}  # ccxt's unified switch from plain orders to conditional ones


def balance_of(asset: str, raw: object, margin: bool) -> Balance:
    """One asset's balance: free and locked (ccxt's used) and their total, each exact. On a
    margin (derivatives) account free and total may be negative: margin above equity."""
    if not isinstance(raw, dict):
        raise BadValue(f"the {asset} balance", "is not a balance")
    free = optional(raw.get("free"), f"the free {asset} balance", signed=margin) or ZERO
    used = optional(raw.get("used"), f"the locked {asset} balance") or ZERO
    optional(raw.get("total"), f"the total {asset} balance", signed=margin)
    return Balance(free, used)


def _open_report(raw: dict) -> OrderReport:
    """An open order as listed: its own client id ("" when it has none) and symbol."""
    return report_of(raw, str(raw.get("clientOrderId") or ""), str(raw["symbol"]))


def _listed(raw: object, what: str) -> list:
    """A list answer of ccxt's (of transactions), never anything else."""
    if not isinstance(raw, list):
        raise BadValue(f"the {what}", "are not a list")
    return raw


class CcxtTradingGateway:
    """A real account through ccxt: balances and LIMIT orders with the app's client order ids."""

    def __init__(self, market: CcxtMarketData, api_key: str, secret: str):
        self.market = market
        self.label = market.label
        self.client = make_client(market.connection, api_key=api_key, secret=secret)
        self._counter = Counted(self.client)
        self._markets_of: dict | None = None  # the public client's markets it was given

    def _ready(self):
        """The signed client, given the public client's markets on first use and again
        whenever those were reloaded (so it never loads them itself, and building a gateway
        for a down exchange does not fail)."""
        markets = self.market.markets()
        if self._markets_of is not markets:
            self.client.set_markets(markets)
            self._markets_of = markets
        return self.client

    @property
    def api_calls(self) -> int:
        return self._counter.calls + self.market.api_calls

    @property
    def venue(self) -> Venue:
        return self.market.venue

    @translate_errors("reading balances", idempotent=True)
    def balances(self) -> dict[str, Balance]:
        raw = answer(self._ready().fetch_balance(), "the balances")
        margin = self.market.venue.is_derivatives
        return {asset: balance_of(asset, raw[asset], margin) for asset in raw.get("total", {})}

    @translate_errors("cancelling open orders", idempotent=True)
    def cancel_open_orders(self, symbol: str) -> int:
        """Cancel the symbol's plain orders (its stops stay); returns how many it cancelled.
        Where the answer does not list them (Binance USD-M) ccxt returns one entry, so it
        counts as one: a caller that reads the account again after a cancel does so. An
        answer that the orders are gone (they filled meanwhile) counts none."""
        try:
            cancelled = self._ready().cancel_all_orders(symbol, self.market.venue.plain_orders)
        except ccxt.BaseError as exc:
            if not self._gone(exc):
                raise
            return 0
        return len(cancelled or [])

    @translate_errors("placing an order")
    def place_limit_order(
        self,
        symbol: str,
        side: Side,
        amount: Decimal,
        price: Decimal,
        client_order_id: str,
        rest: bool = False,
        reduce_only: bool = False,
    ) -> OrderReport:
        """Send one LIMIT order (on a derivatives exchange `reduce_only` closes without ever
        opening the other side); an exchange's LIMIT order rests until cancelled, `rest` or
        not. Only an explicit refusal means it was not placed; anything
        else (no answer, a 5xx, a 429, -2013, an unreadable answer) leaves the outcome unknown:
        the caller must ask the exchange about `client_order_id` before sending again."""
        try:
            raw = self._ready().create_order(
                symbol,
                "limit",
                side.value,
                str(amount),
                str(price),
                # ccxt's unified name: MEXC's newClientOrderId, Bybit's orderLinkId, ...
                {"clientOrderId": client_order_id, **({"reduceOnly": True} if reduce_only else {})},
            )
            return report_of(raw, client_order_id, symbol, side, amount, price)
        except REFUSALS as exc:
            if exchange_code(exc) in self.market.venue.rules_refused:
                self.market.reload_markets()  # the market's precision or minimum changed
            raise
        except UNREADABLE as exc:
            # the order may stand: the caller asks the exchange about it, never records it
            # rejected
            raise OutcomeUnknown(
                f"sending {client_order_id}: {unreadable(exc, self.label)}; "
                "asking the exchange about the order"
            ) from None
        except ccxt.BaseError as exc:
            raise OutcomeUnknown(
                f"sending {client_order_id}: no clear answer ({exchange_said(exc, self.label)})"
            ) from None

    @translate_errors("asking about an order", idempotent=True)
    def order_by_client_id(self, symbol: str, client_order_id: str) -> OrderReport | None:
        """The order as the exchange knows it, or None when the exchange says it does not
        exist (MEXC says so briefly for fresh orders too: callers ask again)."""
        client = self._ready()
        try:
            raw = self.venue.find_order(client, symbol, client_order_id)
        except ccxt.OrderNotFound:
            return None
        except ccxt.BaseError as exc:
            if exchange_code(exc) in self.venue.not_found:
                return None
            raise
        return None if raw is None else report_of(raw, client_order_id, symbol)

    @translate_errors("cancelling an order", idempotent=True)
    def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport | None:
        """Cancel one order and return it as the exchange then knows it. An order that
        finished first (the exchange answers that it has no such open order) is read, not
        an error: its report says it filled."""
        try:
            self._ready().cancel_order(
                None, symbol, {self.market.venue.cancel_param: client_order_id}
            )
        except ccxt.BaseError as exc:
            if not self._gone(exc):
                raise
        return self.order_by_client_id(symbol, client_order_id)

    @translate_errors("reading open orders", idempotent=True)
    def open_orders(self, symbol: str | None = None) -> list[OrderReport]:
        """The plain open orders of `symbol`, or of the whole account in one call."""
        raw = self._ready().fetch_open_orders(symbol, None, None, self.market.venue.plain_orders)
        return [_open_report(answer(o, "an open order")) for o in raw]

    @translate_errors("cancelling an order", idempotent=True)
    def cancel_outside_order(self, symbol: str, exchange_order_id: str) -> None:
        try:
            self._ready().cancel_order(exchange_order_id, symbol)
        except ccxt.BaseError as exc:
            if not self._gone(exc):
                raise

    def _gone(self, exc: ccxt.BaseError) -> bool:
        """Whether the exchange answered that it has no such open order."""
        return exchange_code(exc) in self.market.venue.order_gone

    @translate_errors("reading the account", idempotent=True)
    def snapshot(
        self, account: str, symbols: Iterable[str] = (), quote: str | None = None
    ) -> AccountSnapshot:
        """Balances, every plain open order and the tickers of `symbols`, and on a
        derivatives exchange its positions and stops, sent together; then the tickers of
        whatever else the account holds (each asset against `quote`, each position) or has
        orders on, if any. Never every market's tickers to find a few."""
        client, venue = self._ready(), self.market.venue
        asked = sorted(set(symbols))
        with ThreadPoolExecutor(max_workers=5) as pool:
            balances = pool.submit(self.balances)
            orders = pool.submit(client.fetch_open_orders, None, None, None, venue.plain_orders)
            tickers = pool.submit(self.market.tickers, asked)
            positions = pool.submit(client.fetch_positions) if venue.is_derivatives else None
            triggers = (
                pool.submit(client.fetch_open_orders, None, None, None, TRIGGER)
                if venue.keeps_stops
                else None
            )
            listed = [_open_report(answer(o, "an open order")) for o in orders.result()]
            open_orders: dict[str, int] = {}
            for order in listed:
                open_orders[order.symbol] = open_orders.get(order.symbol, 0) + 1
            held = None if positions is None else positions.result()
            held_positions = (
                None
                if held is None
                else tuple(p for p in (position_of(raw, account) for raw in held) if p.qty)
            )
            also = {
                *open_orders,
                *(p.symbol for p in held_positions or ()),
                *(f"{a}/{quote}" for a, b in balances.result().items() if quote and b.total > 0),
            }.difference(asked)
            return AccountSnapshot(
                account=account,
                balances=balances.result(),
                open_orders=open_orders,
                orders=tuple(listed),
                tickers={**tickers.result(), **self.market.tickers(sorted(also))},
                taken_at=datetime.now(UTC),
                positions=held_positions,
                stops=None
                if triggers is None
                else stops_held(venue, account, held or [], triggers.result()),
            )

    @translate_errors("reading deposits and withdrawals", idempotent=True)
    def cash_transfers(self, asset: str, since: datetime) -> tuple[CashTransfer, ...] | None:
        """The deposits and withdrawals of `asset` from `since` on (no further back than the
        venue lists them), read together; None on a venue whose row says the app does not
        read them."""
        venue, client = self.venue, self._ready()
        if not venue.reads_transfers:
            return None
        oldest = datetime.now(UTC) - timedelta(days=venue.transfer_days)
        start = int(max(since, oldest).timestamp() * 1000)
        with ThreadPoolExecutor(max_workers=2) as pool:
            deposits = pool.submit(client.fetch_deposits, asset, start)
            withdrawals = pool.submit(client.fetch_withdrawals, asset, start)
            read = [(TransferKind.DEPOSIT, t) for t in _listed(deposits.result(), "deposits")]
            read += [
                (TransferKind.WITHDRAWAL, t) for t in _listed(withdrawals.result(), "withdrawals")
            ]
        return tuple(transfer_of(raw, kind, asset) for kind, raw in read)

    # --- derivatives: the position and its stops -------------------------------------------

    @translate_errors("reading the position", idempotent=True)
    def position(self, symbol: str, account: str) -> ExchangePosition:
        """The symbol's derivatives position as the exchange holds it (qty 0 when flat)."""
        if not self.market.venue.is_derivatives:
            raise GatewayError(f"{self.label} is a spot exchange: it holds no {symbol} position")
        found = (position_of(raw, account) for raw in self._ready().fetch_positions([symbol]))
        held = [p for p in found if p.symbol == symbol and p.qty]
        return held[0] if held else ExchangePosition(account, symbol, ZERO, None)

    def place_stops(
        self,
        symbol: str,
        position_qty: Decimal,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
        account: str,
    ) -> tuple[ExchangeStop, ...]:
        """Whole-position stops for the signed `position_qty`, closing on the other side,
        their triggers rounded to the market's price step. A refused leg leaves nothing
        placed: Bybit refuses its one call whole, and a Binance leg placed before a refused
        one is cancelled. Nothing is retried; a Bybit stop replaces the one it had, a Binance
        one is added beside any it has (replace_stops replaces them)."""
        what = f"placing stops on {symbol}"
        venue = self._keeping_stops(what)
        legs = {
            kind: price
            for kind, price in (
                (StopKind.STOP_LOSS, stop_loss),
                (StopKind.TAKE_PROFIT, take_profit),
            )
            if price is not None
        }
        if not position_qty:
            raise GatewayError(f"{what}: there is no position to protect")
        if not legs:
            raise GatewayError(f"{what}: neither a stop-loss nor a take-profit price was given")
        client = self._ready()
        close_side = Side.SELL if position_qty > 0 else Side.BUY
        placed: list[ExchangeStop] = []
        try:
            rounded = {
                kind: client.price_to_precision(symbol, f"{p:f}") for kind, p in legs.items()
            }
            for call in venue.stop_calls(rounded):
                raw = client.create_order(
                    symbol, "market", close_side.value, call.amount, None, call.params
                )
                placed.extend(stops_placed(venue, call, raw, account, symbol))
        except ccxt.BaseError as exc:
            raise self._stop_refusal(what, exc, symbol, placed) from None
        return tuple(placed)

    def replace_stops(
        self,
        symbol: str,
        position_qty: Decimal,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
        account: str,
    ) -> tuple[ExchangeStop, ...]:
        """The symbol's stops replaced by these: the new ones placed first, then only the
        old ones removed (a stop set on the position is replaced in place by the new one of
        its kind). Never a moment without a stop: a refused placement removes nothing, and
        on any error the caller reads `stops` to learn what the exchange keeps."""
        old = self.stops(account, symbol)
        placed = self.place_stops(symbol, position_qty, stop_loss, take_profit, account)
        new = {(s.exchange_id, s.kind) for s in placed}
        self.cancel_stops(symbol, [s for s in old if (s.exchange_id, s.kind) not in new])
        return placed

    @translate_errors("removing stops", idempotent=True)
    def cancel_stops(self, symbol: str, only: Iterable[ExchangeStop] | None = None) -> int:
        """Remove the symbol's stops: `only` those given (as `stops` read them), else every
        one the exchange keeps (on the position and as conditional orders); returns how
        many. One already gone counts as removed. A spot exchange keeps none."""
        venue, client = self.market.venue, self._ready()
        held = self._read_stops("", symbol) if only is None else tuple(only)
        on_position = tuple(s.kind for s in held if s.exchange_id == ON_POSITION)
        if on_position and venue.clear_position_stops is not None:
            venue.clear_position_stops(client, symbol, on_position)
        orders = [s.exchange_id for s in held if s.exchange_id != ON_POSITION]
        if only is None and orders:
            client.cancel_all_orders(symbol, TRIGGER)
        else:
            for exchange_id in orders:
                self._cancel_trigger(symbol, exchange_id)
        return len(held)

    def _cancel_trigger(self, symbol: str, exchange_id: str) -> None:
        """Cancel one conditional order; one that already fired or went is no error."""
        try:
            self._ready().cancel_order(exchange_id, symbol, TRIGGER)
        except ccxt.BaseError as exc:
            if not self._gone(exc):
                raise

    @translate_errors("reading stops", idempotent=True)
    def stops(self, account: str, symbol: str | None = None) -> tuple[ExchangeStop, ...]:
        """The stops the exchange keeps, for one symbol or all: those set on a position
        (exchange_id "position") and reduce-only conditional orders. A spot exchange keeps
        none."""
        return self._read_stops(account, symbol)

    def _read_stops(self, account: str, symbol: str | None) -> tuple[ExchangeStop, ...]:
        venue, client = self.market.venue, self._ready()
        if not venue.keeps_stops:
            return ()
        with ThreadPoolExecutor(max_workers=2) as pool:
            orders = pool.submit(client.fetch_open_orders, symbol, None, None, TRIGGER)
            positions = (
                pool.submit(client.fetch_positions, [symbol] if symbol else None)
                if venue.stops is StopsAt.POSITION
                else None
            )
            held = [] if positions is None else positions.result()
            return stops_held(venue, account, held, orders.result())

    def _keeping_stops(self, what: str) -> Venue:
        venue = self.market.venue
        if not venue.keeps_stops or venue.stop_calls is None:
            raise GatewayError(
                f"{what}: {self.label} keeps no stops through its API; the app watches them"
            )
        return venue

    def _stop_refusal(
        self, what: str, exc: ccxt.BaseError, symbol: str, placed: list[ExchangeStop]
    ) -> GatewayError:
        """The error of a refused stop, after cancelling the legs placed before it. A bad
        request here is the exchange refusing the stop (Bybit's trading-stop answers 10001
        for a trigger on the wrong side), so it is an OrderRejected."""
        still_open = self._withdraw(symbol, placed)
        if isinstance(exc, ccxt.BadRequest) and not isinstance(exc, ccxt.BadSymbol):
            refusal: GatewayError = OrderRejected(f"{what}: {exchange_said(exc, self.label)}")
        else:
            refusal = gateway_error(what, exc, self.label, self.venue)
        return type(refusal)(f"{refusal}{still_open}") if still_open else refusal

    def _withdraw(self, symbol: str, placed: list[ExchangeStop]) -> str:
        """Cancel stops placed before a refusal; what could not be cancelled, in words."""
        kept = []
        for stop in placed:
            try:
                self._cancel_trigger(symbol, stop.exchange_id)
            except ccxt.BaseError:
                kept.append(f"{stop.kind.value} {stop.exchange_id}")
        return f"; placed before it and still open: {', '.join(kept)}" if kept else ""

    @translate_errors("reading fills", idempotent=True)
    def order_fills(self, report: OrderReport) -> list[Fill]:
        """Every execution of one order, asked by the exchange's order id from the time it was
        placed, page after page until they add up to what the order filled (all of them for
        an order of UNKNOWN status). Fewer than that, once the exchange has no more pages, is
        FillsIncomplete: nothing is recorded, the caller reads again."""
        asked = report.filled > 0 or report.status is OrderStatus.UNKNOWN
        if not asked or report.exchange_order_id is None:
            return []
        trades = self._all_fills(report)
        fee_prices = self._fee_prices(report.symbol, trades)
        fills = [fill_of(trade, report.client_order_id, fee_prices) for trade in trades]
        listed = sum((fill.qty for fill in fills), ZERO)
        if listed < report.filled:
            raise FillsIncomplete(
                f"reading fills: {self.label} lists {listed.normalize():f} of the "
                f"{report.filled.normalize():f} {report.symbol} order {report.client_order_id} "
                f"filled; {UNUSED}"
            )
        return fills

    def _all_fills(self, report: OrderReport) -> list[dict]:
        """The order's unified trades, each once, from as many pages as the venue needs."""
        venue, client = self.venue, self._ready()
        since = int(report.placed_at.timestamp() * 1000) if report.placed_at else None
        found: dict[str, dict] = {}
        after = None
        while True:
            page, after = venue.fills_page(
                client, report.symbol, report.exchange_order_id, since, venue.fills_page_size, after
            )
            new = {
                str(t.get("id")): t
                for t in page
                if str(t.get("order")) == report.exchange_order_id and str(t.get("id")) not in found
            }
            found.update(new)
            if after is None or not new:
                return list(found.values())

    def _fee_prices(self, symbol: str, trades: list[dict]) -> dict[str, Decimal]:
        """The price in the quote of each asset other than the base and the quote that a fee
        was paid in (MEXC's MX, Binance's BNB): the last price of its own market of the same
        kind on this venue (`MX/USDT` on spot, `BNB/USDT:USDT` beside a USDT perpetual: a
        derivatives venue lists no spot market)."""
        rules = self.market.market_rules(symbol)
        others = {fee_asset_of(t) for t in trades} - {rules.base, rules.quote}
        settle = symbol.partition(":")[2]
        kind = f":{settle}" if settle else ""
        return {asset: self.market.ticker(f"{asset}/{rules.quote}{kind}").last for asset in others}

    @translate_errors("looking for traces of an order", idempotent=True)
    def traces(self, symbol: str, since: datetime) -> OrderTraces:
        """What the account shows of orders on `symbol` since `since`, whoever sent them: its
        open orders and the orders that filled since then, read together."""
        client, venue = self._ready(), self.venue
        started = int(since.timestamp() * 1000)
        with ThreadPoolExecutor(max_workers=2) as pool:
            orders = pool.submit(client.fetch_open_orders, symbol, None, None, venue.plain_orders)
            fills = pool.submit(client.fetch_my_trades, symbol, started, venue.fills_page_size)
            open_orders = [answer(o, f"an open {symbol} order") for o in orders.result()]
            return OrderTraces(
                open_client_ids=frozenset(str(o.get("clientOrderId")) for o in open_orders),
                open_order_ids=frozenset(str(o.get("id")) for o in open_orders),
                filled_order_ids=frozenset(
                    str(answer(t, f"a {symbol} fill").get("order")) for t in fills.result()
                ),
            )
