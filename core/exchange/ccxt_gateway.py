"""Gateways over the real ccxt client: public market data (no keys, nothing signed) and,
for LIVE, the account. Pointed at a local URL (the emulator), the same code talks to it."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import wraps
from typing import Any

import ccxt

from core.domain import (
    ZERO,
    AccountSnapshot,
    Balance,
    Candle,
    ExchangePosition,
    ExchangeStop,
    Fill,
    MarketRules,
    OrderBook,
    OrderReport,
    OrderStatus,
    Side,
    StopKind,
    Ticker,
    quote_asset,
)
from core.exchange.errors_in_words import exchange_said
from core.exchange.gateway import (
    AuthenticationFailed,
    ExchangeUnavailable,
    GatewayError,
    OrderRejected,
    OutcomeUnknown,
    UnknownSymbol,
)
from core.exchange.venues import CCXT_PRICE_PARAM, StopCall, StopsAt, Venue, venue

ORDER_NOT_FOUND = ("-2013", "Order does not exist")
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
_STATUS = {"open": OrderStatus.OPEN, "closed": OrderStatus.FILLED, "canceled": OrderStatus.CANCELED}
TRIGGER = {"trigger": True}  # ccxt's unified switch from plain orders to conditional ones
ON_POSITION = "position"  # the exchange_id of a stop set on the position itself


def dec(value: Any) -> Decimal | None:
    """ccxt's numbers as exact Decimals (its floats print back as the strings they came from)."""
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True)
class Connection:
    """Where an exchange is and how patiently to talk to it. `recv_window_ms` is how long a
    signed request stays valid: after it, a delayed request can no longer take effect."""

    exchange: str = "mexc"
    url: str = ""
    timeout_ms: int = 10000
    recv_window_ms: int = 5000


def make_client(connection: Connection, api_key: str = "", secret: str = ""):
    """A ccxt client, pointed at `connection.url` when one is given (the emulator): every
    API address keeps its path and takes that host.

    ccxt's own throttle is off: it spaces calls by endpoint weight (500 ms before every
    balance read on MEXC), which would make each trade seconds long. The app's call volume
    is far below the exchanges' limits (a trade is about six calls, the periodic check
    three or four, and market data is cached), and a 429 surfaces as ExchangeUnavailable."""
    row = venue(connection.exchange)
    options = {"recvWindow": connection.recv_window_ms, **row.ccxt_options}
    config: dict[str, Any] = {
        "enableRateLimit": False,
        "timeout": connection.timeout_ms,
        "options": options,
    }
    if api_key:
        config.update(apiKey=api_key, secret=secret, has={"fetchCurrencies": False})
    client = getattr(ccxt, connection.exchange)(config)
    if connection.url:
        client.urls["api"] = _rehost(client.urls["api"], connection.url)
        if row.local_error_tables:
            # ccxt picks some venues' error tables by host name (Binance USD-M's -2019 margin
            # and -2022 reduce-only); on any other host they would lose their classes
            for kind, table in client.exceptions[row.local_error_tables].items():
                client.exceptions[kind].update(table)
    return client


def _rehost(urls, base: str):
    if isinstance(urls, dict):
        return {key: _rehost(value, base) for key, value in urls.items()}
    return re.sub(r"^https?://[^/]+", base, urls) if isinstance(urls, str) else urls


class _Counted:
    """Counts every HTTP request a ccxt client sends, for the figures of a trade."""

    def __init__(self, client):
        self.calls = 0
        self._lock = threading.Lock()
        original = client.fetch

        @wraps(original)
        def counted_fetch(*args, **kwargs):
            with self._lock:
                self.calls += 1
            return original(*args, **kwargs)

        client.fetch = counted_fetch


def translate_errors(what: str) -> Callable:
    """Turn ccxt's exceptions into the gateway's, with a message that says what failed and
    what the exchange answered, in words. The decorated method's object names the exchange
    (`label`)."""

    def decorator(method):
        @wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except GatewayError:
                raise
            except ccxt.BaseError as exc:
                raise gateway_error(what, exc, self.label) from None

        return wrapper

    return decorator


def gateway_error(what: str, exc: ccxt.BaseError, label: str) -> GatewayError:
    said = exchange_said(exc, label)
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied):
        return AuthenticationFailed(f"{what}: {label} refused the API key ({said})")
    if isinstance(exc, ccxt.BadSymbol):
        return UnknownSymbol(f"{what}: unknown symbol ({said})")
    if isinstance(exc, ccxt.InsufficientFunds | ccxt.InvalidOrder):
        return OrderRejected(f"{what}: {said}")
    if isinstance(exc, ccxt.RequestTimeout):
        return ExchangeUnavailable(f"{what}: {label} is unreachable (timed out)")
    if isinstance(exc, ccxt.ExchangeNotAvailable | ccxt.DDoSProtection):
        return ExchangeUnavailable(f"{what}: {said}")
    if isinstance(exc, ccxt.NetworkError):
        return ExchangeUnavailable(f"{what}: {label} is unreachable (connection failed)")
    return GatewayError(f"{what}: {said}")


class CcxtMarketData:
    """Public market data. This client never holds keys, so nothing it sends is signed."""

    def __init__(self, connection: Connection, label: str | None = None):
        self.connection = connection
        self.venue: Venue = venue(connection.exchange)
        self.client = make_client(connection)
        self.name = connection.exchange
        self.label = label or self.venue.name
        self._counter = _Counted(self.client)
        self._markets_lock = threading.Lock()

    @property
    def api_calls(self) -> int:
        return self._counter.calls

    @translate_errors("loading markets")
    def markets(self) -> dict:
        with self._markets_lock:
            return self.client.load_markets()

    def symbols(self) -> list[str]:
        return sorted(s for s, m in self.markets().items() if self.venue.lists(m))

    def market_rules(self, symbol: str) -> MarketRules:
        market = self.markets().get(symbol)
        if market is None:
            raise UnknownSymbol(f"{symbol} is not a market on {self.label}")
        return rules_from_market(market)

    @translate_errors("reading the ticker")
    def ticker(self, symbol: str) -> Ticker:
        self.market_rules(symbol)
        return _ticker(self.client.fetch_ticker(symbol))

    @translate_errors("reading tickers")
    def tickers(self, symbols: list[str]) -> dict[str, Ticker]:
        if not symbols:
            return {}
        raw = self.client.fetch_tickers(symbols if len(symbols) > 1 else None)
        return {s: _ticker(raw[s]) for s in symbols if s in raw}

    @translate_errors("reading the order book")
    def order_book(self, symbol: str, depth: int = 20) -> OrderBook:
        self.market_rules(symbol)
        raw = self.client.fetch_order_book(symbol, depth)
        return OrderBook(
            symbol=symbol,
            bids=tuple((dec(p), dec(q)) for p, q, *_ in raw["bids"]),
            asks=tuple((dec(p), dec(q)) for p, q, *_ in raw["asks"]),
        )

    @translate_errors("reading candles")
    def candles(self, symbol: str, timeframe: str = "1m", limit: int = 120) -> list[Candle]:
        self.market_rules(symbol)
        rows = self.client.fetch_ohlcv(symbol, timeframe, limit=limit)
        return [
            Candle(datetime.fromtimestamp(t / 1000, UTC), dec(o), dec(h), dec(low), dec(c), dec(v))
            for t, o, h, low, c, v in rows
        ]


def rules_from_market(market: dict) -> MarketRules:
    precision, limits = market["precision"], market["limits"]
    step = dec(precision["amount"])
    return MarketRules(
        symbol=market["symbol"],
        base=market["base"],
        quote=market["quote"],
        amount_step=step,
        price_step=dec(precision["price"]),
        min_amount=dec(limits["amount"].get("min")) or step,
        min_cost=dec(limits["cost"].get("min")) or Decimal(0),
        max_cost=dec(limits["cost"].get("max")),
        taker_fee=dec(market.get("taker")) or Decimal(0),
        maker_fee=dec(market.get("maker")) or Decimal(0),
    )


def _ticker(raw: dict) -> Ticker:
    stamp = raw.get("timestamp")
    return Ticker(
        symbol=raw["symbol"],
        last=dec(raw["last"]),
        bid=dec(raw.get("bid")),
        ask=dec(raw.get("ask")),
        change_pct=dec(raw.get("percentage")),
        timestamp=datetime.fromtimestamp(stamp / 1000, UTC) if stamp else datetime.now(UTC),
    )


class CcxtTradingGateway:
    """A real account through ccxt: balances and LIMIT orders with the app's client order ids."""

    def __init__(self, market: CcxtMarketData, api_key: str, secret: str):
        self.market = market
        self.label = market.label
        self.client = make_client(market.connection, api_key=api_key, secret=secret)
        self._counter = _Counted(self.client)

    def _ready(self):
        """The signed client, given the public client's markets on first use (so it never
        loads them again, and building a gateway for a down exchange does not fail)."""
        if not self.client.markets:
            self.client.set_markets(self.market.markets())
        return self.client

    @property
    def api_calls(self) -> int:
        return self._counter.calls + self.market.api_calls

    @translate_errors("reading balances")
    def balances(self) -> dict[str, Balance]:
        raw = self._ready().fetch_balance()
        return {
            asset: Balance(
                dec(raw[asset].get("free")) or Decimal(0), dec(raw[asset].get("used")) or Decimal(0)
            )
            for asset in raw.get("total", {})
        }

    @translate_errors("cancelling open orders")
    def cancel_open_orders(self, symbol: str) -> int:
        """Cancel the symbol's plain orders (its stops stay); returns how many it cancelled.
        Where the answer does not list them (Binance USD-M) ccxt returns one entry, so it
        counts as one: a caller that reads the account again after a cancel does so."""
        cancelled = self._ready().cancel_all_orders(symbol, self.market.venue.plain_orders)
        return len(cancelled or [])

    @translate_errors("placing an order")
    def place_limit_order(
        self,
        symbol: str,
        side: Side,
        amount: Decimal,
        price: Decimal,
        client_order_id: str,
        reduce_only: bool = False,
    ) -> OrderReport:
        """Send one LIMIT order (on a derivatives exchange `reduce_only` closes without ever
        opening the other side). Only an explicit refusal means it was not placed; anything
        else (no answer, a 5xx, a 429, -2013) leaves the outcome unknown, and the caller must
        ask the exchange about `client_order_id` before sending again."""
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
        except REFUSALS:
            raise
        except ccxt.BaseError as exc:
            raise OutcomeUnknown(
                f"sending {client_order_id}: no clear answer ({exchange_said(exc, self.label)})"
            ) from None
        return _report(raw, client_order_id, symbol, side, amount, price)

    @translate_errors("asking about an order")
    def order_by_client_id(self, symbol: str, client_order_id: str) -> OrderReport | None:
        """The order as the exchange knows it, or None when the exchange says it does not
        exist (MEXC says so briefly for fresh orders too: callers ask again)."""
        client = self._ready()
        try:
            raw = self.market.venue.find_order(client, symbol, client_order_id)
        except ccxt.OrderNotFound:
            return None
        except ccxt.BaseError as exc:
            if any(marker in str(exc) for marker in ORDER_NOT_FOUND):
                return None
            raise
        return None if raw is None else _report(raw, client_order_id, symbol)

    @translate_errors("cancelling an order")
    def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport | None:
        try:
            self._ready().cancel_order(
                None, symbol, {self.market.venue.cancel_param: client_order_id}
            )
        except ccxt.BaseError as exc:
            if not any(marker in str(exc) for marker in ORDER_NOT_FOUND):
                raise
        return self.order_by_client_id(symbol, client_order_id)

    @translate_errors("reading the account")
    def snapshot(self, account: str) -> AccountSnapshot:
        """Balances, every plain open order and every ticker, and on a derivatives exchange its
        positions and stops: a fixed number of calls, however many symbols, sent together."""
        client, venue = self._ready(), self.market.venue
        with ThreadPoolExecutor(max_workers=5) as pool:
            balances = pool.submit(self.balances)
            orders = pool.submit(client.fetch_open_orders, None, None, None, venue.plain_orders)
            tickers = pool.submit(self.market.client.fetch_tickers)
            positions = pool.submit(client.fetch_positions) if venue.is_derivatives else None
            triggers = (
                pool.submit(client.fetch_open_orders, None, None, None, TRIGGER)
                if venue.keeps_stops
                else None
            )
            open_orders: dict[str, int] = {}
            for order in orders.result():
                open_orders[order["symbol"]] = open_orders.get(order["symbol"], 0) + 1
            held = None if positions is None else positions.result()
            return AccountSnapshot(
                account=account,
                balances=balances.result(),
                open_orders=open_orders,
                tickers={
                    s: _ticker(t) for s, t in tickers.result().items() if t.get("last") is not None
                },
                taken_at=datetime.now(UTC),
                positions=None
                if held is None
                else tuple(p for p in (_position(raw, account) for raw in held) if p.qty),
                stops=None
                if triggers is None
                else _stops_held(venue, account, held or [], triggers.result()),
            )

    # --- derivatives: the position and its stops -------------------------------------------

    @translate_errors("reading the position")
    def position(self, symbol: str, account: str) -> ExchangePosition:
        """The symbol's derivatives position as the exchange holds it (qty 0 when flat)."""
        if not self.market.venue.is_derivatives:
            raise GatewayError(f"{self.label} is a spot exchange: it holds no {symbol} position")
        found = (_position(raw, account) for raw in self._ready().fetch_positions([symbol]))
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
        one is added beside any it has (call cancel_stops first to replace them)."""
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
                placed.extend(_stops_placed(venue, call, raw, account, symbol))
        except ccxt.BaseError as exc:
            raise self._stop_refusal(what, exc, symbol, placed) from None
        return tuple(placed)

    @translate_errors("removing stops")
    def cancel_stops(self, symbol: str) -> int:
        """Remove every stop the exchange keeps for the symbol (on the position and as
        conditional orders); returns how many there were. A spot exchange keeps none."""
        venue, client = self.market.venue, self._ready()
        held = self._read_stops("", symbol)
        on_position = tuple(s.kind for s in held if s.exchange_id == ON_POSITION)
        if on_position and venue.clear_position_stops is not None:
            venue.clear_position_stops(client, symbol, on_position)
        if len(on_position) < len(held):
            client.cancel_all_orders(symbol, TRIGGER)
        return len(held)

    @translate_errors("reading stops")
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
            return _stops_held(venue, account, held, orders.result())

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
            refusal = gateway_error(what, exc, self.label)
        return type(refusal)(f"{refusal}{still_open}") if still_open else refusal

    def _withdraw(self, symbol: str, placed: list[ExchangeStop]) -> str:
        """Cancel stops placed before a refusal; what could not be cancelled, in words."""
        kept = []
        for stop in placed:
            try:
                self._ready().cancel_order(stop.exchange_id, symbol, TRIGGER)
            except ccxt.BaseError:
                kept.append(f"{stop.kind.value} {stop.exchange_id}")
        return f"; placed before it and still open: {', '.join(kept)}" if kept else ""

    @translate_errors("reading fills")
    def order_fills(self, report: OrderReport) -> list[Fill]:
        """The executions of one order, from the account's trade list."""
        if report.filled <= 0:
            return []
        trades = self._ready().fetch_my_trades(report.symbol, None, 100)
        return [
            _fill(trade, report.client_order_id)
            for trade in trades
            if str(trade.get("order")) == str(report.exchange_order_id)
        ]


def _fill(trade: dict, client_order_id: str) -> Fill:
    price = dec(trade["price"])
    fee = trade.get("fee") or {}
    fee_cost = dec(fee.get("cost")) or Decimal(0)
    fee_asset = fee.get("currency") or quote_asset(trade["symbol"])
    fee_quote = fee_cost if fee_asset == quote_asset(trade["symbol"]) else fee_cost * price
    return Fill(
        symbol=trade["symbol"],
        side=Side(trade["side"]),
        qty=dec(trade["amount"]),
        price=price,
        fee=fee_cost,
        fee_asset=fee_asset,
        fee_quote=fee_quote,
        trade_id=str(trade["id"]),
        client_order_id=client_order_id,
        time=datetime.fromtimestamp(trade["timestamp"] / 1000, UTC),
    )


def _position(raw: dict, account: str) -> ExchangePosition:
    """A derivatives position as ccxt reports it, with the quantity signed by its side."""
    size = (dec(raw.get("contracts")) or Decimal(0)) * (dec(raw.get("contractSize")) or Decimal(1))
    return ExchangePosition(
        account=account,
        symbol=raw["symbol"],
        qty=-size if raw.get("side") == "short" else size,
        mark_price=dec(raw.get("markPrice")),
        entry_price=dec(raw.get("entryPrice")),
        leverage=dec(raw.get("leverage")),
        unrealized=dec(raw.get("unrealizedPnl")),
        liquidation_price=dec(raw.get("liquidationPrice")),
    )


def _stops_placed(
    venue: Venue, call: StopCall, raw: dict, account: str, symbol: str
) -> list[ExchangeStop]:
    """The legs one create_order call set: on the position, or one conditional order."""
    exchange_id = ON_POSITION if venue.stops is StopsAt.POSITION else str(raw["id"])
    return [
        ExchangeStop(account, symbol, kind, Decimal(call.params[name]), exchange_id)
        for kind, name in CCXT_PRICE_PARAM.items()
        if name in call.params
    ]


def _stops_held(
    venue: Venue, account: str, positions: list[dict], orders: list[dict]
) -> tuple[ExchangeStop, ...]:
    """Stops set on positions (where the venue keeps them there) and reduce-only
    conditional orders, each once."""
    held = positions if venue.stops is StopsAt.POSITION else []
    on_positions = [stop for raw in held for stop in _position_stops(raw, account)]
    as_orders = [
        _order_stop(raw, account)
        for raw in orders
        if raw.get("reduceOnly") and not venue.echoes_position_stop(raw)
    ]
    return tuple(on_positions + as_orders)


def _position_stops(raw: dict, account: str) -> list[ExchangeStop]:
    """A position's own stop-loss and take-profit (a price of 0 means none)."""
    if not raw.get("contracts"):
        return []
    return [
        ExchangeStop(account, raw["symbol"], kind, dec(raw[name]), ON_POSITION)
        for kind, name in CCXT_PRICE_PARAM.items()
        if raw.get(name)
    ]


def _order_stop(raw: dict, account: str) -> ExchangeStop:
    """A reduce-only conditional order. ccxt names a take-profit by its takeProfitPrice on
    both venues (Binance's STOP_MARKET gets no stopLossPrice): every other one limits a loss.
    No size means it closes the whole position."""
    size = dec(raw.get("amount")) or None
    kind = StopKind.TAKE_PROFIT if raw.get("takeProfitPrice") is not None else StopKind.STOP_LOSS
    return ExchangeStop(
        account=account,
        symbol=raw["symbol"],
        kind=kind,
        trigger_price=dec(raw["triggerPrice"]),
        exchange_id=str(raw["id"]),
        close_position=size is None,
        size=size,
    )


def _report(
    raw: dict,
    client_order_id: str,
    symbol: str,
    side: Side | None = None,
    amount: Decimal | None = None,
    price: Decimal | None = None,
) -> OrderReport:
    filled = dec(raw.get("filled")) or Decimal(0)
    status = _STATUS.get(raw.get("status") or "open", OrderStatus.REJECTED)
    return OrderReport(
        client_order_id=client_order_id,
        exchange_order_id=str(raw["id"]) if raw.get("id") is not None else None,
        symbol=symbol,
        side=side or Side(raw["side"]),
        price=dec(raw.get("price")) or price,
        amount=dec(raw.get("amount")) or amount,
        filled=filled,
        status=status,
        average=dec(raw.get("average")) if filled else None,
    )
