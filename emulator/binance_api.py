"""The Binance USD-M futures endpoints ccxt `binanceusdm` calls.

Conditional orders (STOP_MARKET, TAKE_PROFIT_MARKET, STOP, TAKE_PROFIT) go, as on Binance
since December 2025, to the algo-order endpoints: POST/GET/DELETE /fapi/v1/algoOrder
(algoType CONDITIONAL, triggerPrice, clientAlgoId; closePosition=true for the whole
position), GET /fapi/v1/openAlgoOrders, GET /fapi/v1/allAlgoOrders and DELETE
/fapi/v1/algoOpenOrders; /fapi/v1/order refuses them with -4120. A trailing stop is not
served (-1116).

GET /fapi/v1/userTrades lists the account's fills of a symbol (every order's, reduce-only
closes and the orders fired stops sent included), oldest first."""

import re
from decimal import Decimal

from emulator import binance_errors, binance_wire, errors
from emulator.conditionals import (
    STOP_LOSS,
    TAKE_PROFIT,
    ConditionalOrder,
    ConditionalRequest,
    direction_of,
)
from emulator.endpoints import Call, EndpointTable
from emulator.params import MAX_INT
from emulator.perp_markets import SETTLE
from emulator.perp_orders import (
    WEEK_MS,
    PerpOrder,
    PerpOrderRequest,
    Rejection,
    history_window,
)

DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
CLIENT_ORDER_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
TIME_IN_FORCE = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "GTX": "POST_ONLY"}
TRUE, FALSE = ("true", "True"), ("false", "False")
# algo order type -> (kind, the order it sends when it fires)
ALGO_TYPES = {
    "STOP_MARKET": (STOP_LOSS, "MARKET"),
    "TAKE_PROFIT_MARKET": (TAKE_PROFIT, "MARKET"),
    "STOP": (STOP_LOSS, "LIMIT"),
    "TAKE_PROFIT": (TAKE_PROFIT, "LIMIT"),
}
CONDITIONAL_TYPES = (*ALGO_TYPES, "TRAILING_STOP_MARKET")
WORKING_TYPES = ("CONTRACT_PRICE", "MARK_PRICE")  # echoed; the emulator watches the mark

ENDPOINTS = EndpointTable()
route = ENDPOINTS.route


def _per_symbol(call: Call, render) -> dict | list:
    if call.params.get("symbol") is not None:
        return render(call.symbol())
    return [render(symbol) for symbol in call.markets]


# --- public market data -------------------------------------------------------------------


@route("GET", "/fapi/v1/ping")
def ping(call: Call) -> dict:
    return {}


@route("GET", "/fapi/v1/time")
def server_time(call: Call) -> dict:
    return {"serverTime": call.now_ms}


@route("GET", "/fapi/v1/exchangeInfo")
def exchange_info(call: Call) -> dict:
    return {
        "timezone": "UTC",
        "serverTime": call.now_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": [],
        "exchangeFilters": [],
        "assets": [{"asset": SETTLE, "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [binance_wire.symbol_info(market) for market in call.markets.values()],
    }


@route("GET", "/fapi/v1/depth")
def depth(call: Call) -> dict:
    symbol = call.symbol()
    limit = call.params.limit(500, 1000)
    if limit not in DEPTH_LIMITS:
        raise errors.invalid_parameter("limit")
    engine = call.state.engine
    return binance_wire.depth(engine.book(symbol), limit, engine.book_update_id, call.now_ms)


@route("GET", "/fapi/v1/ticker/24hr")
def ticker_24hr(call: Call) -> dict | list:
    engine = call.state.engine
    return _per_symbol(
        call, lambda s: binance_wire.ticker_24hr(engine.markets[s], engine.stats[s], call.now_ms)
    )


@route("GET", "/fapi/v1/ticker/bookTicker")
def book_ticker(call: Call) -> dict | list:
    engine = call.state.engine
    return _per_symbol(
        call,
        lambda s: binance_wire.book_ticker(s, engine.book(s), engine.book_update_id, call.now_ms),
    )


@route("GET", "/fapi/v1/premiumIndex")
def premium_index(call: Call) -> dict | list:
    engine = call.state.engine
    return _per_symbol(call, lambda s: binance_wire.premium_index(s, engine.mid(s), call.now_ms))


# --- account and positions ----------------------------------------------------------------


@route("GET", "/fapi/v1/leverageBracket", signed=True)
def leverage_bracket(call: Call) -> dict | list:
    return _per_symbol(call, lambda s: binance_wire.leverage_bracket(call.markets[s]))


@route("POST", "/fapi/v1/leverage", signed=True)
def set_leverage(call: Call) -> dict:
    symbol = call.symbol()
    leverage = call.params.integer("leverage", None, 1, 125)
    if leverage is None:
        raise errors.missing_parameter("leverage")
    call.state.engine.set_leverage(call.account, symbol, Decimal(leverage))
    return {
        "leverage": leverage,
        "maxNotionalValue": str(binance_wire.NOTIONAL_CAP),
        "symbol": symbol,
    }


def _positions(call: Call) -> list:
    symbol = call.params.optional_symbol(call.markets)
    engine = call.state.engine
    figures = engine.positions(call.account)
    return [f for f in figures if symbol is None or f.symbol == symbol]


@route("GET", "/fapi/v3/positionRisk", signed=True)
def position_risk_v3(call: Call) -> list:
    """Only the symbols with a position, as v3 answers."""
    engine = call.state.engine
    return [
        binance_wire.position_v3(f, engine.open_order_margin(call.account, f.symbol))
        for f in _positions(call)
    ]


@route("GET", "/fapi/v2/positionRisk", signed=True)
def position_risk_v2(call: Call) -> list:
    return [binance_wire.position_v2(f) for f in _positions(call)]


def _account(call: Call) -> dict:
    engine = call.state.engine
    coins = sorted(set(call.account.wallet) | {SETTLE})
    assets = [
        binance_wire.asset(engine.wallet_figures(call.account, c), call.now_ms) for c in coins
    ]
    usdt = engine.wallet_figures(call.account)
    positions = [binance_wire.account_position(f) for f in engine.positions(call.account)]
    totals = binance_wire.asset(usdt, call.now_ms)
    return {
        "totalInitialMargin": totals["initialMargin"],
        "totalMaintMargin": totals["maintMargin"],
        "totalWalletBalance": totals["walletBalance"],
        "totalUnrealizedProfit": totals["unrealizedProfit"],
        "totalMarginBalance": totals["marginBalance"],
        "totalPositionInitialMargin": totals["positionInitialMargin"],
        "totalOpenOrderInitialMargin": totals["openOrderInitialMargin"],
        "totalCrossWalletBalance": totals["crossWalletBalance"],
        "totalCrossUnPnl": totals["crossUnPnl"],
        "availableBalance": totals["availableBalance"],
        "maxWithdrawAmount": totals["maxWithdrawAmount"],
        "assets": assets,
        "positions": positions,
    }


@route("GET", "/fapi/v3/account", signed=True)
def account_v3(call: Call) -> dict:
    return _account(call)


@route("GET", "/fapi/v2/account", signed=True)
def account_v2(call: Call) -> dict:
    return {
        "feeTier": 0,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        **_account(call),
    }


def _balances(call: Call) -> list:
    engine = call.state.engine
    coins = sorted(set(call.account.wallet) | {SETTLE})
    return [
        binance_wire.balance_entry(engine.wallet_figures(call.account, c), call.now_ms)
        for c in coins
    ]


@route("GET", "/fapi/v2/balance", signed=True)
def balance_v2(call: Call) -> list:
    return _balances(call)


@route("GET", "/fapi/v3/balance", signed=True)
def balance_v3(call: Call) -> list:
    return _balances(call)


# --- orders -------------------------------------------------------------------------------


def _order_request(call: Call) -> PerpOrderRequest:
    params = call.params
    symbol = call.symbol()
    side = params.choice("side", ("BUY", "SELL"))
    if params.get("type") in CONDITIONAL_TYPES:
        raise binance_errors.algo_order_type()  # since December 2025: /fapi/v1/algoOrder
    order_type = params.choice("type", ("LIMIT", "MARKET"))
    quantity = params.positive_decimal("quantity")
    if quantity is None:
        raise errors.missing_parameter("quantity")
    price = None
    time_in_force = "GTC"
    if order_type == "LIMIT":
        price = params.positive_decimal("price")
        if price is None:
            raise errors.missing_parameter("price")
        time_in_force = TIME_IN_FORCE.get(params.required("timeInForce"), "")
        if not time_in_force:
            raise errors.invalid_parameter("timeInForce")
    _one_way(call)
    client_order_id = _client_id(call, "newClientOrderId")
    reduce_only = params.get("reduceOnly") in TRUE
    return PerpOrderRequest(
        symbol, side, order_type, quantity, price, time_in_force, reduce_only, client_order_id
    )


def _one_way(call: Call) -> None:
    if call.params.get("positionSide") not in (None, "BOTH"):
        raise errors.invalid_parameter("positionSide")


def _client_id(call: Call, name: str) -> str | None:
    value = call.params.get(name)
    if value is not None and not CLIENT_ORDER_ID.match(value):
        raise errors.invalid_parameter(name)
    return value


@route("POST", "/fapi/v1/order", signed=True)
def new_order(call: Call) -> dict:
    return binance_wire.order(call.state.engine.place(call.account, _order_request(call)))


def _referenced(call: Call) -> PerpOrder:
    symbol = call.symbol()
    order_id = call.params.get("orderId")
    client_order_id = call.params.get("origClientOrderId")
    if order_id is None and client_order_id is None:
        raise errors.missing_parameter("orderId")
    order = call.state.engine.find_order(call.account, symbol, order_id, client_order_id)
    if order is None:
        raise Rejection(Rejection.ORDER_NOT_FOUND)
    return order


@route("GET", "/fapi/v1/order", signed=True)
def query_order(call: Call) -> dict:
    return binance_wire.order(_referenced(call))


@route("DELETE", "/fapi/v1/order", signed=True)
def cancel_order(call: Call) -> dict:
    return binance_wire.order(call.state.engine.cancel(_referenced(call)))


@route("GET", "/fapi/v1/openOrders", signed=True)
def open_orders(call: Call) -> list:
    symbol = call.params.optional_symbol(call.markets)
    orders = call.state.engine.open_orders(call.account, symbol)
    return [binance_wire.order(order) for order in orders]


@route("DELETE", "/fapi/v1/allOpenOrders", signed=True)
def cancel_all(call: Call) -> dict:
    engine = call.state.engine
    for order in engine.open_orders(call.account, call.symbol()):
        engine.cancel(order)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


# --- trade history ------------------------------------------------------------------------


@route("GET", "/fapi/v1/userTrades", signed=True)
def user_trades(call: Call) -> list:
    """The symbol's fills, oldest first, at most `limit` (default 500; more than 1000 is
    answered with 1000): from fromId on (never with startTime or endTime); else within a
    startTime..endTime window of at most 7 days (the last 7 days when neither is given and
    no orderId is), the first ones from a startTime, otherwise the latest. orderId keeps
    one order's fills."""
    symbol = call.symbol()
    params = call.params
    limit = params.limit(500, 1000)
    order_id = params.integer("orderId", None, 0, MAX_INT)
    from_id = params.integer("fromId", None, 0, MAX_INT)
    start, end = params.time_ms("startTime"), params.time_ms("endTime")
    timed = start is not None or end is not None
    if from_id is not None and timed:
        raise binance_errors.optional_params_combo()
    if start is not None and end is not None:
        if start > end:
            raise binance_errors.start_after_end()
        if end - start > WEEK_MS:
            raise binance_errors.interval_too_long(WEEK_MS // 3_600_000)
    trades = call.state.engine.account_trades(call.account, symbol)
    if order_id is not None:
        trades = [t for t in trades if int(t.order.order_id) == order_id]
    if from_id is not None:
        trades = [t for t in trades if int(t.trade_id) >= from_id][:limit]
    else:
        if order_id is None or timed:
            first, last = history_window(start, end, call.now_ms)
            trades = [t for t in trades if first <= t.time_ms <= last]
        trades = trades[:limit] if start is not None else trades[-limit:]
    return [binance_wire.user_trade(trade) for trade in trades]


# --- conditional (algo) orders ------------------------------------------------------------


def _algo_request(call: Call) -> ConditionalRequest:
    """STOP_MARKET / TAKE_PROFIT_MARKET (or STOP / TAKE_PROFIT with a price) for `quantity`,
    or with closePosition=true (no quantity) for whatever position there is when it fires."""
    params = call.params
    symbol = call.symbol()
    if params.required("algoType") != "CONDITIONAL":
        raise errors.invalid_parameter("algoType")
    side = params.choice("side", ("BUY", "SELL"))
    order_type = params.required("type")
    if order_type not in ALGO_TYPES:
        raise binance_errors.invalid_order_type()
    kind, execution = ALGO_TYPES[order_type]
    trigger = params.positive_decimal("triggerPrice")
    if trigger is None:
        raise errors.missing_parameter("triggerPrice")
    quantity = params.positive_decimal("quantity")
    close_position = params.get("closePosition") in TRUE
    if close_position:
        if execution != "MARKET":
            raise binance_errors.close_position_type(order_type)
        if quantity is not None:
            raise binance_errors.close_position_quantity()
        if params.get("reduceOnly") in FALSE:
            raise binance_errors.close_position_reduce_only()
    elif quantity is None:
        raise errors.missing_parameter("quantity")
    price = None
    if execution == "LIMIT":
        price = params.positive_decimal("price")
        if price is None:
            raise errors.missing_parameter("price")
    _one_way(call)
    working_type = params.get("workingType") or "CONTRACT_PRICE"
    if working_type not in WORKING_TYPES:
        raise errors.invalid_parameter("workingType")
    return ConditionalRequest(
        symbol=symbol,
        side=side,
        direction=direction_of(kind, side),
        trigger_price=trigger,
        quantity=quantity,
        order_type=execution,
        price=price,
        reduce_only=close_position or params.get("reduceOnly") in TRUE,
        client_order_id=_client_id(call, "clientAlgoId"),
        trigger_by=working_type,
    )


@route("POST", "/fapi/v1/algoOrder", signed=True)
def new_algo_order(call: Call) -> dict:
    return binance_wire.algo_order(
        call.state.engine.place_conditional(call.account, _algo_request(call))
    )


def _referenced_algo(call: Call) -> ConditionalOrder:
    algo_id, client_algo_id = call.params.get("algoId"), call.params.get("clientAlgoId")
    if algo_id is None and client_algo_id is None:
        raise errors.missing_parameter("algoId")
    symbol = call.params.optional_symbol(call.markets)
    found = call.state.engine.find_conditional(call.account, symbol, algo_id, client_algo_id)
    if found is None:
        raise Rejection(Rejection.ORDER_NOT_FOUND)
    return found


@route("GET", "/fapi/v1/algoOrder", signed=True)
def query_algo_order(call: Call) -> dict:
    return binance_wire.algo_order(_referenced_algo(call))


@route("DELETE", "/fapi/v1/algoOrder", signed=True)
def cancel_algo_order(call: Call) -> dict:
    canceled = call.state.engine.cancel_conditional(_referenced_algo(call))
    return {
        "algoId": int(canceled.order_id),
        "clientAlgoId": binance_wire.client_algo_id(canceled),
        "code": "200",
        "msg": "success",
    }


@route("GET", "/fapi/v1/openAlgoOrders", signed=True)
def open_algo_orders(call: Call) -> list:
    symbol = call.params.optional_symbol(call.markets)
    conditionals = call.state.engine.open_conditionals(call.account, symbol)
    return [binance_wire.algo_order(conditional) for conditional in conditionals]


@route("GET", "/fapi/v1/allAlgoOrders", signed=True)
def all_algo_orders(call: Call) -> list:
    """The symbol's algo orders of any status, oldest first."""
    limit = call.params.integer("limit", 500, 1, 1000)
    conditionals = call.state.engine.recent_conditionals(call.account, call.symbol())
    return [binance_wire.algo_order(c) for c in reversed(conditionals[:limit])]


@route("DELETE", "/fapi/v1/algoOpenOrders", signed=True)
def cancel_all_algo_orders(call: Call) -> dict:
    engine = call.state.engine
    for conditional in engine.open_conditionals(call.account, call.symbol()):
        engine.cancel_conditional(conditional)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}
