"""The MEXC spot v3 endpoints: parameter handling and responses, one function per endpoint."""

import json
from collections.abc import Callable

from emulator import errors, wire
from emulator.endpoints import Call, EndpointTable
from emulator.market_data import INTERVALS, candle_opens, klines
from emulator.orders import ORDER_TYPES, SIDES, Order, OrderRequest
from emulator.params import Params, as_text
from emulator.transfers import (
    DEPOSIT,
    WITHDRAWAL,
    Transfer,
    deposit_record,
    withdrawal_record,
)

DAY_MS = 86_400_000
TRANSFER_DAYS = 90  # how far back the wallet's histories go without a startTime
MAX_BATCH = 20
MAX_CANCEL_SYMBOLS = 5
MAX_CLIENT_ORDER_ID = 64


ENDPOINTS = EndpointTable()
endpoint = ENDPOINTS.route


# --- public market data -------------------------------------------------------------------


@endpoint("GET", "/api/v3/ping")
def ping(call: Call) -> dict:
    return {}


@endpoint("GET", "/api/v3/time")
def server_time(call: Call) -> dict:
    return {"serverTime": call.now_ms}


@endpoint("GET", "/api/v3/exchangeInfo")
def exchange_info(call: Call) -> dict:
    symbols = list(call.markets)
    if call.params.get("symbol") is not None:
        symbols = [call.symbol()]
    elif call.params.get("symbols") is not None:
        symbols = call.params.required("symbols").split(",")
        if any(symbol not in call.markets for symbol in symbols):
            raise errors.invalid_symbol()
    return {
        "timezone": "CST",
        "serverTime": call.now_ms,
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": [call.markets[symbol].entry for symbol in symbols],
    }


@endpoint("GET", "/api/v1/contract/detail")
def contract_detail(call: Call) -> dict:
    """What MEXC's futures listing looks like to a spot-only emulator: no contracts."""
    return {"success": True, "code": 0, "data": []}


@endpoint("GET", "/api/v3/depth")
def order_book(call: Call) -> dict:
    symbol = call.symbol()
    limit = call.params.limit(100, 5000)
    engine = call.state.engine
    return wire.depth(engine.book(symbol), limit, engine.book_update_id, call.now_ms)


def _recent_trades(call: Call, default_limit: int) -> list:
    symbol = call.symbol()
    limit = call.params.limit(default_limit, 1000)
    start = call.params.time_ms("startTime")
    end = call.params.time_ms("endTime")
    trades = [
        trade
        for trade in call.state.engine.stats[symbol].trades
        if (start is None or trade.time_ms >= start) and (end is None or trade.time_ms < end)
    ]
    return trades[-limit:]


@endpoint("GET", "/api/v3/trades")
def trades(call: Call) -> list:
    return [wire.public_trade(trade) for trade in _recent_trades(call, 500)]


@endpoint("GET", "/api/v3/historicalTrades")
def historical_trades(call: Call) -> list:
    return [wire.public_trade(trade) for trade in _recent_trades(call, 500)]


@endpoint("GET", "/api/v3/aggTrades")
def aggregate_trades(call: Call) -> list:
    return [wire.aggregate_trade(trade) for trade in _recent_trades(call, 500)]


@endpoint("GET", "/api/v3/klines")
def candles(call: Call) -> list:
    symbol = call.symbol()
    interval = call.params.choice("interval", INTERVALS)
    limit = call.params.limit(500, 1000)
    start = call.params.time_ms("startTime")
    end = call.params.time_ms("endTime")
    engine = call.state.engine
    opens = candle_opens(interval, call.now_ms, start, end, limit)
    stats = engine.stats[symbol]
    rows = klines(engine.markets[symbol], engine.seed, interval, stats, call.now_ms, opens)
    return [wire.kline(open_ms, close_ms, values) for open_ms, close_ms, values in rows]


def _per_symbol(call: Call, render: Callable[[str], dict]) -> dict | list:
    """One object for ?symbol=, else an array over every market."""
    if call.params.get("symbol") is not None:
        return render(call.symbol())
    return [render(symbol) for symbol in call.markets]


@endpoint("GET", "/api/v3/ticker/24hr")
def ticker_24hr(call: Call) -> dict | list:
    engine = call.state.engine

    def render(symbol: str) -> dict:
        market = engine.markets[symbol]
        return wire.ticker_24hr(market, engine.stats[symbol], engine.book(symbol), call.now_ms)

    return _per_symbol(call, render)


@endpoint("GET", "/api/v3/ticker/price")
def ticker_price(call: Call) -> dict | list:
    stats = call.state.engine.stats
    return _per_symbol(call, lambda symbol: wire.ticker_price(symbol, stats[symbol].last_price))


@endpoint("GET", "/api/v3/ticker/bookTicker")
def book_ticker(call: Call) -> dict | list:
    engine = call.state.engine
    return _per_symbol(call, lambda symbol: wire.book_ticker(symbol, engine.book(symbol)))


# --- account and trading ------------------------------------------------------------------


@endpoint("GET", "/api/v3/account", signed=True)
def account_info(call: Call) -> dict:
    held = [
        (asset, balance.free, balance.locked)
        for asset, balance in sorted(call.account.balances.items())
        if balance.free or balance.locked
    ]
    return {
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "updateTime": None,
        "accountType": "SPOT",
        "balances": wire.balances(held),
        "permissions": ["SPOT"],
    }


@endpoint("GET", "/api/v3/capital/config/getall", signed=True)
def capital_config(call: Call) -> list:
    names = {"USDT": "Tether"}
    for market in call.markets.values():
        names[market.base] = market.entry.get("fullName", market.base)
    return [wire.capital_config(asset, name) for asset, name in names.items()]


def _client_order_id(params: Params) -> str | None:
    value = params.get("newClientOrderId")
    if value is not None and (len(value) > MAX_CLIENT_ORDER_ID or not value.isprintable()):
        raise errors.invalid_parameter("newClientOrderId")
    return value


def order_request(params: Params, call: Call) -> OrderRequest:
    symbol = params.symbol(call.markets)
    side = params.choice("side", SIDES)
    order_type = params.choice("type", ORDER_TYPES)
    quantity = params.positive_decimal("quantity")
    quote_order_qty = params.positive_decimal("quoteOrderQty")
    price = params.positive_decimal("price")
    if order_type == "MARKET":
        if quantity is None and quote_order_qty is None:
            raise errors.missing_parameter("quantity")
        if quantity is not None and quote_order_qty is not None:
            raise errors.invalid_parameter("send quantity or quoteOrderQty, not both")
        price = None  # MARKET orders execute at the book; a sent price is only informative
    else:
        if quantity is None:
            raise errors.missing_parameter("quantity")
        if price is None:
            raise errors.missing_parameter("price")
        quote_order_qty = None
    return OrderRequest(
        symbol, side, order_type, quantity, quote_order_qty, price, _client_order_id(params)
    )


@endpoint("POST", "/api/v3/order", signed=True)
def new_order(call: Call) -> dict:
    order = call.state.engine.place(call.account, order_request(call.params, call))
    return wire.order_created(order)


@endpoint("POST", "/api/v3/order/test", signed=True)
def test_order(call: Call) -> dict:
    call.state.engine.validate(call.account, order_request(call.params, call))
    return {}


@endpoint("POST", "/api/v3/batchOrders", signed=True)
def batch_orders(call: Call) -> list:
    try:
        items = json.loads(call.params.required("batchOrders"))
    except ValueError as exc:
        raise errors.invalid_parameter("batchOrders") from exc
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise errors.invalid_parameter("batchOrders")
    if not all(isinstance(item, dict) for item in items):
        raise errors.invalid_parameter("batchOrders")
    batch = [Params({str(k): as_text(v) for k, v in item.items()}) for item in items]
    symbols = {params.get("symbol") for params in batch}
    if len(symbols) != 1:
        raise errors.invalid_parameter("batchOrders must share one symbol")
    for params in batch:
        params.symbol(call.markets)
    results = []
    for params in batch:
        try:
            order = call.state.engine.place(call.account, order_request(params, call))
            results.append(wire.order_created(order))
        except errors.MexcError as exc:
            rejected = {"newClientOrderId": params.get("newClientOrderId")}
            results.append({**rejected, "msg": exc.msg, "code": exc.code})
    return results


def _referenced_order(call: Call, missing: Callable[[], errors.MexcError]) -> Order:
    symbol = call.symbol()
    order_id = call.params.get("orderId")
    client_order_id = call.params.get("origClientOrderId")
    if order_id is None and client_order_id is None:
        raise errors.missing_order_reference()
    order = call.state.engine.find_order(call.account, symbol, order_id, client_order_id)
    if order is None:
        raise missing()
    return order


@endpoint("GET", "/api/v3/order", signed=True)
def query_order(call: Call) -> dict:
    return wire.order_details(_referenced_order(call, errors.order_does_not_exist))


@endpoint("DELETE", "/api/v3/order", signed=True)
def cancel_order(call: Call) -> dict:
    # ccxt also sends clientOrderId=<same id> when cancelling by client id; it is ignored.
    order = _referenced_order(call, errors.unknown_order_sent)
    return wire.order_canceled(call.state.engine.cancel(order))


@endpoint("GET", "/api/v3/openOrders", signed=True)
def open_orders(call: Call) -> list:
    symbol = call.params.optional_symbol(call.markets)
    orders = call.state.engine.open_orders(call.account, symbol)
    return [wire.order_details(order) for order in orders]


@endpoint("DELETE", "/api/v3/openOrders", signed=True)
def cancel_open_orders(call: Call) -> list:
    symbols = call.params.required("symbol").split(",")
    if len(symbols) > MAX_CANCEL_SYMBOLS:
        raise errors.invalid_parameter("symbol")
    if any(symbol not in call.markets for symbol in symbols):
        raise errors.invalid_symbol()
    engine = call.state.engine
    canceled = []
    for symbol in symbols:
        for order in engine.open_orders(call.account, symbol):
            canceled.append({**wire.order_canceled(engine.cancel(order)), "orderListId": "-1"})
    return canceled


@endpoint("DELETE", "/api/v3/order/all", signed=True)
def cancel_all_orders(call: Call) -> dict:
    engine = call.state.engine
    for order in engine.open_orders(call.account):
        engine.cancel(order)
    return {"code": 200, "msg": "success", "timestamp": call.now_ms}


def _in_window(time_ms: int, start: int | None, end: int | None) -> bool:
    return (start is None or time_ms >= start) and (end is None or time_ms <= end)


@endpoint("GET", "/api/v3/allOrders", signed=True)
def all_orders(call: Call) -> list:
    symbol = call.symbol()
    limit = call.params.integer("limit", 500, 1, 1000)
    start = call.params.time_ms("startTime")
    end = call.params.time_ms("endTime")
    if start is None and end is None:
        start = call.now_ms - DAY_MS
    orders = [
        order
        for order in call.state.engine.account_orders(call.account, symbol)
        if _in_window(order.time_ms, start, end)
    ]
    return [wire.order_details(order) for order in orders[-limit:]]


@endpoint("GET", "/api/v3/myTrades", signed=True)
def my_trades(call: Call) -> list:
    """The symbol's fills, oldest first, at most `limit` (100): the first ones from a
    startTime, otherwise the latest; orderId keeps one order's fills."""
    symbol = call.symbol()
    limit = call.params.integer("limit", 100, 1, 100)
    start = call.params.time_ms("startTime")
    end = call.params.time_ms("endTime")
    order_id = call.params.get("orderId")
    trades = [
        trade
        for trade in call.state.engine.account_trades(call.account, symbol)
        if _in_window(trade.time_ms, start, end)
        and (order_id is None or trade.order.order_id == order_id)
    ]
    page = trades[:limit] if start is not None else trades[-limit:]
    return [wire.account_trade(trade) for trade in page]


# --- wallet: deposit and withdrawal history -------------------------------------------------


def _transfers(call: Call, kind: str, render: Callable[[Transfer], dict]) -> list:
    """The account's deposits or withdrawals, newest first, at most `limit` (1000): those
    made from `startTime` (default 90 days ago) to `endTime`, of `coin` (`USDT`, or
    `USDT-TRX` with its network) and of a `status` code when given."""
    limit = call.params.integer("limit", 1000, 1, 1000)
    start = call.params.time_ms("startTime")
    end = call.params.time_ms("endTime")
    if start is None:
        start = (end or call.now_ms) - TRANSFER_DAYS * DAY_MS
    coin = call.params.get("coin")
    status = call.params.get("status")
    listed = [
        render(transfer)
        for transfer in reversed(call.state.engine.account_transfers(call.account, kind))
        if _in_window(transfer.time_ms, start, end)
        and (coin is None or coin.split("-")[0] == transfer.asset)
    ]
    return [entry for entry in listed if status is None or entry["status"] == status][:limit]


@endpoint("GET", "/api/v3/capital/deposit/hisrec", signed=True)
def deposit_history(call: Call) -> list:
    return _transfers(call, DEPOSIT, deposit_record)


@endpoint("GET", "/api/v3/capital/withdraw/history", signed=True)
def withdraw_history(call: Call) -> list:
    return _transfers(call, WITHDRAWAL, withdrawal_record)
