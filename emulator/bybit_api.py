"""The Bybit v5 endpoints ccxt `bybit` calls for USDT linear perpetuals.

Conditional orders: /v5/order/create with triggerPrice and triggerDirection (1 rises to,
2 falls to) waits for the mark price; /v5/position/trading-stop sets the position's stopLoss
and takeProfit (tpslMode Full or Partial), read back in /v5/position/list. Both are listed by
/v5/order/realtime (orderFilter StopOrder for them alone) and cancelled by /v5/order/cancel
and /v5/order/cancel-all.

/v5/execution/list pages through the account's fills (every order's, reduce-only closes and
the orders fired conditionals sent included), newest first."""

from decimal import Decimal

from emulator import bybit_errors, bybit_wire
from emulator.conditionals import (
    FALL,
    RISE,
    STOP_LOSS,
    TAKE_PROFIT,
    ConditionalOrder,
    ConditionalRequest,
    closing_side,
    direction_of,
    is_due,
)
from emulator.endpoints import Call, EndpointTable
from emulator.numbers import fmt, parse_decimal
from emulator.perp_engine import PositionFigures
from emulator.perp_markets import SETTLE
from emulator.perp_orders import (
    WEEK_MS,
    PerpOrder,
    PerpOrderRequest,
    PerpTrade,
    Rejection,
    history_window,
)

MAX_ORDER_LINK_ID = 36
LEVERAGE_STEP = Decimal("0.01")
TIME_IN_FORCE = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "PostOnly": "POST_ONLY"}
TRIGGER_BY = ("LastPrice", "MarkPrice", "IndexPrice")  # echoed; the emulator watches the mark
ORDER_FILTERS = {None: (True, True), "Order": (True, False), "StopOrder": (False, True)}
MAX_CURSOR_DIGITS = 18

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
    limit = call.params.limit(25, 500)
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
            engine.position_tpsl(account, s),
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


TPSL_PARAMS = ((STOP_LOSS, "stopLoss", "sl"), (TAKE_PROFIT, "takeProfit", "tp"))


@route("POST", "/v5/position/trading-stop", signed=True)
def trading_stop(call: Call) -> dict:
    """The position's stop-loss and take-profit: tpslMode Full covers the whole position
    (one of each kind, replaced when set again), Partial adds one of a given size; a price
    of 0 removes the kind (in that mode). They are dropped when the position closes."""
    _linear(call)
    symbol = call.symbol()
    params = call.params
    if params.get("positionIdx") not in (None, "0"):
        raise bybit_errors.params_error("position idx not match position mode")
    if params.get("trailingStop") not in (None, "0"):
        raise bybit_errors.params_error("trailingStop is not served by the emulator")
    mode = params.get("tpslMode") or "Full"
    if mode not in ("Full", "Partial"):
        raise bybit_errors.params_error("tpslMode invalid")
    engine = call.state.engine
    figures = engine.position_figures(call.account, symbol)
    if figures is None:
        raise bybit_errors.params_error("can not set tp/sl/ts for zero position")
    changes = [
        _tpsl_change(call, figures, kind, name, prefix, mode)
        for kind, name, prefix in TPSL_PARAMS
        if params.get(name) is not None
    ]
    for _, request in changes:  # all checked first: a refused call changes nothing
        if request is not None:
            engine.check_conditional(call.account, request)
    for kind, request in changes:
        if mode == "Full" or request is None:
            engine.cancel_position_tpsl(call.account, symbol, kind, partial=mode == "Partial")
        if request is not None:
            engine.place_conditional(call.account, request)
    return _reply(call, {})


def _tpsl_change(
    call: Call, figures: PositionFigures, kind: str, name: str, prefix: str, mode: str
) -> tuple[str, ConditionalRequest | None]:
    """(kind, the conditional to place), or (kind, None) for a price of 0 (remove it)."""
    params = call.params
    price = parse_decimal(params.get(name))
    if price is None or price < 0:
        raise bybit_errors.params_error(f"{name} invalid")
    if price == 0:
        return kind, None
    side = closing_side(figures.size)
    direction = direction_of(kind, side)
    if is_due(direction, price, figures.mark_price):
        position_side = "Buy" if figures.size > 0 else "Sell"
        relation = "higher" if direction == RISE else "lower"
        raise bybit_errors.params_error(
            f"{name[0].upper()}{name[1:]}:{fmt(price)} set for {position_side} position should "
            f"{relation} than base_price:{fmt(figures.mark_price)}??MarkPrice"
        )
    order_type = {"Market": "MARKET", "Limit": "LIMIT"}.get(
        params.get(f"{prefix}OrderType") or "Market"
    )
    if order_type is None:
        raise bybit_errors.params_error(f"{prefix}OrderType invalid")
    if order_type == "LIMIT" and mode == "Full":
        raise bybit_errors.params_error(f"{prefix}OrderType Limit needs tpslMode Partial")
    limit_price = params.positive_decimal(f"{prefix}LimitPrice") if order_type == "LIMIT" else None
    if order_type == "LIMIT" and limit_price is None:
        raise bybit_errors.params_error(f"{prefix}LimitPrice is required for a Limit order")
    size = params.positive_decimal(f"{prefix}Size") if mode == "Partial" else None
    if mode == "Partial" and size is None:
        raise bybit_errors.params_error(f"{prefix}Size is required in Partial mode")
    return kind, ConditionalRequest(
        symbol=figures.symbol,
        side=side,
        direction=direction,
        trigger_price=price,
        quantity=size,
        order_type=order_type,
        price=limit_price,
        reduce_only=True,
        client_order_id=None,
        trigger_by=_trigger_by(call, f"{prefix}TriggerBy"),
        position_tpsl=True,
    )


def _trigger_by(call: Call, name: str) -> str:
    value = call.params.get(name) or "LastPrice"
    if value not in TRIGGER_BY:
        raise bybit_errors.params_error(f"{name} invalid")
    return value


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


def _conditional_request(call: Call) -> ConditionalRequest:
    """A /v5/order/create with triggerPrice: waits for the mark to rise (triggerDirection 1)
    or fall (2) to the trigger, then sends the order described by the other parameters."""
    order = _order_request(call)
    trigger = call.params.positive_decimal("triggerPrice")
    direction = {"1": RISE, "2": FALL}.get(call.params.get("triggerDirection") or "")
    if direction is None:
        raise bybit_errors.params_error("TriggerDirection invalid")
    return ConditionalRequest(
        symbol=order.symbol,
        side=order.side,
        direction=direction,
        trigger_price=trigger,
        quantity=order.quantity,
        order_type=order.type,
        price=order.price,
        reduce_only=order.reduce_only,
        client_order_id=order.client_order_id,
        trigger_by=_trigger_by(call, "triggerBy"),
    )


@route("POST", "/v5/order/create", signed=True)
def create_order(call: Call) -> dict:
    if call.params.get("stopLoss") is not None or call.params.get("takeProfit") is not None:
        raise bybit_errors.params_error(
            "TP/SL attached to a new order is not served by the emulator: "
            "set them with /v5/position/trading-stop"
        )
    engine = call.state.engine
    if call.params.get("triggerPrice") is not None:
        placed = engine.place_conditional(call.account, _conditional_request(call))
    else:
        placed = engine.place(call.account, _order_request(call))
    return _reply(call, _ids(placed))


def _ids(placed: PerpOrder | ConditionalOrder) -> dict:
    return {"orderId": placed.order_id, "orderLinkId": placed.client_order_id or ""}


def _referenced(call: Call, symbol: str | None) -> PerpOrder | ConditionalOrder:
    """The order or conditional order named by orderId or orderLinkId."""
    order_id, link_id = call.params.get("orderId"), call.params.get("orderLinkId")
    if order_id is None and link_id is None:
        raise bybit_errors.params_error("orderId or orderLinkId is required")
    engine = call.state.engine
    found = engine.find_order(call.account, symbol, order_id, link_id)
    if found is None:
        found = engine.find_conditional(call.account, symbol, order_id, link_id)
    if found is None:
        raise Rejection(Rejection.ORDER_NOT_FOUND)
    return found


@route("POST", "/v5/order/cancel", signed=True)
def cancel_order(call: Call) -> dict:
    _linear(call)
    engine = call.state.engine
    found = _referenced(call, call.symbol())
    if isinstance(found, ConditionalOrder):
        return _reply(call, _ids(engine.cancel_conditional(found)))
    return _reply(call, _ids(engine.cancel(found)))


def _order_filter(call: Call) -> tuple[bool, bool]:
    """(plain orders, conditional orders) that orderFilter selects: both when absent, as
    Bybit does for linear."""
    order_filter = call.params.get("orderFilter")
    if order_filter not in ORDER_FILTERS:
        raise bybit_errors.params_error("orderFilter invalid")
    return ORDER_FILTERS[order_filter]


@route("POST", "/v5/order/cancel-all", signed=True)
def cancel_all(call: Call) -> dict:
    _linear(call)
    symbol = _optional_symbol(call)
    if symbol is None and call.params.get("settleCoin") is None:
        raise bybit_errors.params_error("symbol or settleCoin is required")
    plain, conditional = _order_filter(call)
    engine = call.state.engine
    canceled = []
    if plain:
        canceled += [engine.cancel(o) for o in engine.open_orders(call.account, symbol)]
    if conditional:
        canceled += [
            engine.cancel_conditional(c) for c in engine.open_conditionals(call.account, symbol)
        ]
    return _reply(call, {"list": [_ids(placed) for placed in canceled], "success": "1"})


def _order_list(call: Call, found: list[PerpOrder | ConditionalOrder]) -> dict:
    """`found` (each part newest first) matched by orderId or orderLinkId if given, newest
    first, at most `limit` of them."""
    order_id, link_id = call.params.get("orderId"), call.params.get("orderLinkId")
    matching = [
        item
        for item in found
        if (order_id is None or item.order_id == order_id)
        and (link_id is None or item.client_order_id == link_id)
    ]
    matching.sort(key=lambda item: item.time_ms, reverse=True)
    limit = call.params.integer("limit", 20, 1, 50)
    entries = [_entry(item, call.markets[item.symbol]) for item in matching[:limit]]
    return _reply(call, {"category": "linear", "list": entries, "nextPageCursor": ""})


def _entry(item: PerpOrder | ConditionalOrder, market) -> dict:
    if isinstance(item, ConditionalOrder):
        return bybit_wire.conditional(item, market)
    return bybit_wire.order(item, market)


def _unsent(conditionals: list[ConditionalOrder]) -> list[ConditionalOrder]:
    """A fired conditional order has become the order it sent (same id): list that instead."""
    return [c for c in conditionals if c.order is None]


@route("GET", "/v5/order/realtime", signed=True)
def realtime_orders(call: Call) -> dict:
    """Open orders and untriggered conditional orders (orderFilter Order or StopOrder picks
    one kind); asked by orderId or orderLinkId, also the account's recent closed ones, but
    none closed before the last restart (/v5/order/history keeps those)."""
    _linear(call)
    symbol = _optional_symbol(call)
    plain, conditional = _order_filter(call)
    engine = call.state.engine
    account = call.account
    referenced = call.params.get("orderId") or call.params.get("orderLinkId")
    if referenced or call.params.get("openOnly") not in (None, "0"):
        orders = engine.realtime_orders(account, symbol)
        conditionals = _unsent(engine.recent_conditionals(account, symbol))
    else:
        orders = engine.open_orders(account, symbol)[::-1]
        conditionals = engine.open_conditionals(account, symbol)[::-1]
    return _order_list(call, (orders if plain else []) + (conditionals if conditional else []))


@route("GET", "/v5/order/history", signed=True)
def order_history(call: Call) -> dict:
    _linear(call)
    symbol = _optional_symbol(call)
    plain, conditional = _order_filter(call)
    engine = call.state.engine
    orders = [o for o in engine.recent_orders(call.account, symbol) if not o.is_open]
    unsent = _unsent(engine.recent_conditionals(call.account, symbol))
    conditionals = [c for c in unsent if not c.is_open]
    return _order_list(call, (orders if plain else []) + (conditionals if conditional else []))


# --- trade history ------------------------------------------------------------------------


@route("GET", "/v5/execution/list", signed=True)
def execution_list(call: Call) -> dict:
    """The account's fills, newest first, `limit` a page (default 50; more than 100 is
    answered with 100), from `cursor` on. orderId, else orderLinkId, picks one order's fills
    and, as on Bybit, then outranks the other filters; otherwise symbol, baseCoin, settleCoin
    and a startTime..endTime window of at most 7 days (the last 7 days when neither is
    given) select them. Every fill is execType Trade."""
    _linear(call)
    params = call.params
    symbol = _optional_symbol(call)
    limit = params.limit(50, 100)
    cursor = _cursor(call)
    start, end = params.time_ms("startTime"), params.time_ms("endTime")
    if start is not None and end is not None:
        if start > end:
            raise bybit_errors.params_error("startTime must not be greater than endTime")
        if end - start > WEEK_MS:
            raise bybit_errors.params_error("endTime - startTime must not exceed 7 days")
    trades = _selected_trades(call, symbol, start, end)
    if params.get("execType") not in (None, "Trade"):
        trades = []  # funding, liquidations, ADL and the like never happen here
    newest_first = [t for t in reversed(trades) if cursor is None or t.seq <= cursor]
    page, rest = newest_first[:limit], newest_first[limit:]
    entries = [bybit_wire.execution(t, call.markets[t.symbol]) for t in page]
    next_cursor = str(rest[0].seq) if rest else ""
    return _reply(call, {"category": "linear", "list": entries, "nextPageCursor": next_cursor})


def _cursor(call: Call) -> int | None:
    """The nextPageCursor of an earlier page: where the next page starts."""
    cursor = call.params.get("cursor")
    if cursor is None:
        return None
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > MAX_CURSOR_DIGITS:
        raise bybit_errors.params_error("cursor invalid")
    return int(cursor)


def _selected_trades(
    call: Call, symbol: str | None, start: int | None, end: int | None
) -> list[PerpTrade]:
    params = call.params
    trades = call.state.engine.account_trades(call.account)
    order_id, link_id = params.get("orderId"), params.get("orderLinkId")
    if order_id is not None:
        return [t for t in trades if t.order.order_id == order_id]
    if link_id is not None:
        return [t for t in trades if t.order.client_order_id == link_id]
    base, settle = params.get("baseCoin"), params.get("settleCoin")
    first, last = history_window(start, end, call.now_ms)
    return [
        t
        for t in trades
        if (symbol is None or t.symbol == symbol)
        and (base is None or call.markets[t.symbol].base == base)
        and (settle is None or settle == SETTLE)
        and first <= t.time_ms <= last
    ]
