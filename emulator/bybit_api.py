"""The Bybit v5 endpoints ccxt `bybit` calls for USDT linear perpetuals."""

from decimal import Decimal

from emulator import bybit_errors, bybit_wire
from emulator.endpoints import Call, EndpointTable
from emulator.numbers import parse_decimal
from emulator.perp_markets import SETTLE
from emulator.perp_orders import PerpOrder, PerpOrderRequest, Rejection

MAX_ORDER_LINK_ID = 36
LEVERAGE_STEP = Decimal("0.01")
TIME_IN_FORCE = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "PostOnly": "POST_ONLY"}

ENDPOINTS = EndpointTable()
route = ENDPOINTS.route


def _reply(call: Call, result: object) -> dict:
    return bybit_wire.envelope(result, call.now_ms)


def _linear(call: Call) -> None:
    if call.params.required("category") != "linear":
        raise bybit_errors.params_error("Illegal category")


def _optional_symbol(call: Call) -> str | None:
    return call.params.optional_symbol(call.markets)


# --- public market data -------------------------------------------------------------------


@route("GET", "/v5/market/time")
def server_time(call: Call) -> dict:
    seconds = call.now_ms // 1000
    return _reply(call, {"timeSecond": str(seconds), "timeNano": str(call.now_ms * 1_000_000)})


@route("GET", "/v5/market/instruments-info")
def instruments_info(call: Call) -> dict:
    _linear(call)
    symbol = _optional_symbol(call)
    status = call.params.get("status")
    listed = [symbol] if symbol else list(call.markets)
    if status not in (None, "Trading") or call.params.get("cursor") is not None:
        listed = []  # nothing is pre-launch or delisted, and one page holds everything
    entries = [bybit_wire.instrument(call.markets[s]) for s in listed]
    return _reply(call, {"category": "linear", "list": entries, "nextPageCursor": ""})


@route("GET", "/v5/market/tickers")
def tickers(call: Call) -> dict:
    _linear(call)
    symbol = _optional_symbol(call)
    engine = call.state.engine
    entries = [
        bybit_wire.ticker(engine.markets[s], engine.stats[s], engine.book(s), engine.mid(s))
        for s in ([symbol] if symbol else engine.markets)
    ]
    return _reply(call, {"category": "linear", "list": entries})


@route("GET", "/v5/market/orderbook")
def order_book(call: Call) -> dict:
    _linear(call)
    symbol = call.symbol()
    limit = call.params.integer("limit", 25, 1, 500)
    engine = call.state.engine
    result = bybit_wire.order_book(engine.book(symbol), limit, engine.book_update_id, call.now_ms)
    return _reply(call, result)


# --- account ------------------------------------------------------------------------------


@route("GET", "/v5/user/query-api", signed=True)
def api_key_info(call: Call) -> dict:
    """ccxt asks this once to learn the account is unified (uta=1)."""
    return _reply(
        call,
        {
            "id": "1",
            "note": "emulator",
            "apiKey": call.account.api_key,
            "readOnly": 0,
            "secret": "",
            "permissions": {"ContractTrade": ["Order", "Position"], "Wallet": ["AccountTransfer"]},
            "ips": ["*"],
            "type": 1,
            "unified": 0,
            "uta": 1,
            "isMaster": True,
        },
    )


@route("GET", "/v5/account/info", signed=True)
def account_info(call: Call) -> dict:
    return _reply(
        call,
        {
            "marginMode": "REGULAR_MARGIN",
            "updatedTime": str(call.now_ms),
            "unifiedMarginStatus": 6,
            "dcpStatus": "OFF",
            "timeWindow": 10,
            "smpGroup": 0,
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
        },
    )


@route("GET", "/v5/account/wallet-balance", signed=True)
def wallet_balance(call: Call) -> dict:
    account_type = call.params.choice("accountType", ("UNIFIED", "CONTRACT"))
    engine = call.state.engine
    coin = call.params.get("coin")
    coins = coin.split(",") if coin else sorted(set(call.account.wallet) | {SETTLE})
    figures = [engine.wallet_figures(call.account, c) for c in coins]
    return _reply(call, {"list": [bybit_wire.wallet(account_type, figures)]})


# --- positions ----------------------------------------------------------------------------


@route("GET", "/v5/position/list", signed=True)
def position_list(call: Call) -> dict:
    _linear(call)
    symbol = _optional_symbol(call)
    if symbol is None and call.params.get("settleCoin") is None:
        raise bybit_errors.params_error("symbol or settleCoin is required")
    engine = call.state.engine
    account = call.account
    if symbol is not None:
        symbols = [symbol]
    elif call.params.get("settleCoin") == SETTLE:
        symbols = sorted(account.positions)
    else:
        symbols = []
    entries = [
        bybit_wire.position(
            engine.markets[s],
            engine.position_figures(account, s),
            engine.leverage(account, s),
            engine.mid(s),
        )
        for s in symbols
    ]
    return _reply(call, {"category": "linear", "list": entries, "nextPageCursor": ""})


def _leverage(call: Call, name: str) -> Decimal:
    value = parse_decimal(call.params.required(name))
    if value is None or value % LEVERAGE_STEP:
        raise bybit_errors.params_error(f"{name} invalid")
    return value


@route("POST", "/v5/position/set-leverage", signed=True)
def set_leverage(call: Call) -> dict:
    _linear(call)
    symbol = call.symbol()
    buy, sell = _leverage(call, "buyLeverage"), _leverage(call, "sellLeverage")
    if buy != sell:
        raise bybit_errors.params_error("buy leverage must be equal to sell leverage")
    engine = call.state.engine
    if engine.leverage(call.account, symbol) == buy:
        raise bybit_errors.leverage_not_modified()
    engine.set_leverage(call.account, symbol, buy)
    return _reply(call, {})


# --- orders -------------------------------------------------------------------------------


def _order_request(call: Call) -> PerpOrderRequest:
    _linear(call)
    params = call.params
    symbol = call.symbol()
    side = {"Buy": "BUY", "Sell": "SELL"}.get(params.required("side"))
    order_type = {"Market": "MARKET", "Limit": "LIMIT"}.get(params.required("orderType"))
    if side is None or order_type is None:
        raise bybit_errors.params_error("side or orderType invalid")
    quantity = params.positive_decimal("qty")
    if quantity is None:
        raise bybit_errors.params_error("Qty invalid")
    price = params.positive_decimal("price") if order_type == "LIMIT" else None
    if order_type == "LIMIT" and price is None:
        raise bybit_errors.params_error("price invalid")
    default_tif = "IOC" if order_type == "MARKET" else "GTC"
    time_in_force = TIME_IN_FORCE.get(params.get("timeInForce") or default_tif)
    if time_in_force is None:
        raise bybit_errors.params_error("timeInForce invalid")
    if params.get("positionIdx") not in (None, "0"):
        raise bybit_errors.params_error("position idx not match position mode")
    link_id = params.get("orderLinkId")
    if link_id is not None and (len(link_id) > MAX_ORDER_LINK_ID or not link_id.isprintable()):
        raise bybit_errors.params_error("orderLinkId invalid")
    reduce_only = params.get("reduceOnly") in ("true", "True", "1")
    return PerpOrderRequest(
        symbol, side, order_type, quantity, price, time_in_force, reduce_only, link_id
    )


@route("POST", "/v5/order/create", signed=True)
def create_order(call: Call) -> dict:
    order = call.state.engine.place(call.account, _order_request(call))
    return _reply(call, {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""})


def _referenced(call: Call, symbol: str | None) -> PerpOrder:
    order_id, link_id = call.params.get("orderId"), call.params.get("orderLinkId")
    if order_id is None and link_id is None:
        raise bybit_errors.params_error("orderId or orderLinkId is required")
    order = call.state.engine.find_order(call.account, symbol, order_id, link_id)
    if order is None:
        raise Rejection(Rejection.ORDER_NOT_FOUND)
    return order


@route("POST", "/v5/order/cancel", signed=True)
def cancel_order(call: Call) -> dict:
    _linear(call)
    order = call.state.engine.cancel(_referenced(call, call.symbol()))
    return _reply(call, {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""})


@route("POST", "/v5/order/cancel-all", signed=True)
def cancel_all(call: Call) -> dict:
    _linear(call)
    symbol = _optional_symbol(call)
    if symbol is None and call.params.get("settleCoin") is None:
        raise bybit_errors.params_error("symbol or settleCoin is required")
    engine = call.state.engine
    canceled = [engine.cancel(order) for order in engine.open_orders(call.account, symbol)]
    entries = [{"orderId": o.order_id, "orderLinkId": o.client_order_id or ""} for o in canceled]
    return _reply(call, {"list": entries, "success": "1"})


def _order_list(call: Call, orders: list[PerpOrder]) -> dict:
    limit = call.params.integer("limit", 20, 1, 50)
    entries = [bybit_wire.order(o, call.markets[o.symbol]) for o in orders[:limit]]
    return _reply(call, {"category": "linear", "list": entries, "nextPageCursor": ""})


def _by_reference(call: Call, orders: list[PerpOrder]) -> list[PerpOrder]:
    order_id, link_id = call.params.get("orderId"), call.params.get("orderLinkId")
    return [
        o
        for o in orders
        if (order_id is None or o.order_id == order_id)
        and (link_id is None or o.client_order_id == link_id)
    ]


@route("GET", "/v5/order/realtime", signed=True)
def realtime_orders(call: Call) -> dict:
    """Open orders; asked by orderId or orderLinkId, also the account's recent closed ones."""
    _linear(call)
    symbol = _optional_symbol(call)
    engine = call.state.engine
    referenced = call.params.get("orderId") or call.params.get("orderLinkId")
    if referenced or call.params.get("openOnly") not in (None, "0"):
        orders = engine.recent_orders(call.account, symbol)
    else:
        orders = list(reversed(engine.open_orders(call.account, symbol)))
    return _order_list(call, _by_reference(call, orders))


@route("GET", "/v5/order/history", signed=True)
def order_history(call: Call) -> dict:
    _linear(call)
    symbol = _optional_symbol(call)
    orders = [o for o in call.state.engine.recent_orders(call.account, symbol) if not o.is_open]
    return _order_list(call, _by_reference(call, orders))
