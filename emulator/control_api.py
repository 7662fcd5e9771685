"""The emulator's own control API under /_emulator/ (no exchange's), for tests and demos.

The same routes serve every dialect; a perpetuals account also shows and takes positions,
and lists its untriggered conditional (stop-loss / take-profit) orders.

Bodies are validated in full before anything changes, so a bad request changes no state.
"""

import json
import os

from aiohttp import web

from emulator import wire
from emulator.accounts import AccountSpec, parse_balances
from emulator.conditionals import ConditionalOrder
from emulator.faults import FaultSpecError
from emulator.markets import normalize_symbol, with_rules
from emulator.numbers import fmt, parse_decimal
from emulator.perp_engine import PerpEngine
from emulator.state import EmulatorState
from emulator.transfers import DEPOSIT, WITHDRAWAL, deposit_record, withdrawal_record

STATE_KEY = web.AppKey("emulator_state", EmulatorState)
MAX_CREDENTIAL = 128

routes = web.RouteTableDef()


class ControlError(Exception):
    def __init__(self, status: int, msg: str):
        super().__init__(msg)
        self.status = status
        self.msg = msg


def control_json(data: object, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, separators=(",", ":")), status=status, content_type="application/json"
    )


async def _json_body(request: web.Request) -> object:
    try:
        return json.loads(await request.text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlError(400, "body must be valid JSON") from exc


def _state(request: web.Request) -> EmulatorState:
    return request.app[STATE_KEY]


def _credential(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_CREDENTIAL:
        raise ControlError(400, f"{name} must be a non-empty string")
    if not value.isprintable() or value != value.strip():
        raise ControlError(400, f"{name} must be printable without surrounding spaces")
    return value


def _balances(value: object) -> dict:
    try:
        return parse_balances(value)
    except ValueError as exc:
        raise ControlError(400, str(exc)) from exc


def _account(request: web.Request):
    account = _state(request).engine.accounts.get(request.match_info["api_key"])
    if account is None:
        raise ControlError(404, "no such account")
    return account


@routes.post("/_emulator/accounts")
async def create_account(request: web.Request) -> web.Response:
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ControlError(400, "body must be a JSON object")
    api_key, api_secret = _credential(body, "api_key"), _credential(body, "api_secret")
    balances = _balances(body.get("balances", {}))
    engine = _state(request).engine
    if api_key in engine.accounts:
        raise ControlError(409, "an account with this api_key exists")
    engine.add_account(AccountSpec(api_key, api_secret, {a: fmt(v) for a, v in balances.items()}))
    return control_json({"api_key": api_key}, status=201)


@routes.put("/_emulator/accounts/{api_key}/balances")
async def set_balances(request: web.Request) -> web.Response:
    account = _account(request)
    balances = _balances(await _json_body(request))
    engine = _state(request).engine
    if isinstance(engine, PerpEngine):
        engine.set_balances(account, balances)  # the wallet balance
    else:
        for asset, amount in balances.items():
            account.balance(asset).free = amount
    return control_json(_account_view(request, account))


TRANSFER_STATUSES = ("success", "pending", "failed")


@routes.post("/_emulator/accounts/{api_key}/transfers")
async def make_transfer(request: web.Request) -> web.Response:
    """MEXC only: a deposit or withdrawal made outside any client ({"kind": "deposit" or
    "withdrawal", "asset": "USDT", "amount": "1000", optional "fee" (a withdrawal's, part
    of its amount) and "status": success (the default: the balance moves), pending or
    failed (listed only)}); the wallet's history endpoints list it."""
    engine = _state(request).engine
    if isinstance(engine, PerpEngine):
        raise ControlError(400, "transfers are made on the mexc dialect only")
    account = _account(request)
    body = await _json_body(request)
    if not isinstance(body, dict) or set(body) - {"kind", "asset", "amount", "fee", "status"}:
        raise ControlError(400, "give kind, asset, amount and optionally fee and status")
    kind, status = body.get("kind"), body.get("status", "success")
    if kind not in (DEPOSIT, WITHDRAWAL):
        raise ControlError(400, "kind must be deposit or withdrawal")
    if status not in TRANSFER_STATUSES:
        raise ControlError(400, f"status must be one of {', '.join(TRANSFER_STATUSES)}")
    [(asset, amount)] = _balances({body.get("asset"): body.get("amount")}).items()
    fee = parse_decimal(body.get("fee", "0"))
    if amount <= 0 or fee is None or not 0 <= fee <= amount or (kind == DEPOSIT and fee):
        raise ControlError(400, "amount must be positive; a fee is a withdrawal's, within it")
    try:
        moved = engine.transfer(account, kind, asset, amount, fee, status)
    except ValueError as exc:
        raise ControlError(400, str(exc)) from exc
    record = deposit_record(moved) if kind == DEPOSIT else withdrawal_record(moved)
    return control_json(record, status=201)


@routes.get("/_emulator/accounts/{api_key}")
async def get_account(request: web.Request) -> web.Response:
    return control_json(_account_view(request, _account(request)))


def _account_view(request: web.Request, account) -> dict:
    engine = _state(request).engine
    if isinstance(engine, PerpEngine):
        return _perp_account_view(engine, account)
    return {
        "balances": {
            asset: {"free": fmt(balance.free), "locked": fmt(balance.locked)}
            for asset, balance in sorted(account.balances.items())
        },
        "open_orders": [wire.order_details(order) for order in engine.open_orders(account)],
        "conditional_orders": [],  # MEXC spot has no stop orders
    }


def _perp_account_view(engine: PerpEngine, account) -> dict:
    """free = available margin, locked = margin held by positions and open orders."""
    balances = {}
    for coin in sorted(account.wallet):
        figures = engine.wallet_figures(account, coin)
        balances[coin] = {
            "free": fmt(figures.available),
            "locked": fmt(figures.position_margin + figures.order_margin),
            "wallet": fmt(figures.wallet),
        }
    positions = {
        f.symbol: {
            "size": fmt(f.size),
            "entry_price": fmt(f.entry_price),
            "mark_price": fmt(f.mark_price),
            "leverage": fmt(f.leverage),
            "unrealized_pnl": fmt(f.unrealized_pnl),
        }
        for f in engine.positions(account)
    }
    open_orders = [
        {
            "order_id": o.order_id,
            "client_order_id": o.client_order_id,
            "symbol": o.symbol,
            "side": o.side,
            "type": o.type,
            "price": None if o.price is None else fmt(o.price),
            "quantity": fmt(o.quantity),
            "executed_qty": fmt(o.executed_qty),
            "reduce_only": o.reduce_only,
        }
        for o in engine.open_orders(account)
    ]
    conditional_orders = [_conditional_view(c) for c in engine.open_conditionals(account)]
    return {
        "balances": balances,
        "positions": positions,
        "open_orders": open_orders,
        "conditional_orders": conditional_orders,
    }


def _conditional_view(conditional: ConditionalOrder) -> dict:
    """An untriggered stop-loss or take-profit; `size` is null when it closes the whole
    position (Binance closePosition, Bybit tpslMode Full)."""
    request = conditional.request
    return {
        "order_id": conditional.order_id,
        "client_order_id": request.client_order_id,
        "symbol": request.symbol,
        "side": request.side,
        "kind": conditional.kind,
        "trigger_price": fmt(request.trigger_price),
        "size": None if request.quantity is None else fmt(request.quantity),
        "close_position": request.quantity is None,
        "order_type": request.order_type,
        "price": None if request.price is None else fmt(request.price),
        "reduce_only": request.reduce_only,
    }


def _position_spec(engine: PerpEngine, symbol: str, spec: object):
    """(size, entry price, leverage) from {"size", "entry_price", "leverage"}; size 0 removes."""
    if not isinstance(spec, dict) or set(spec) - {"size", "entry_price", "leverage"}:
        raise ControlError(400, f"{symbol}: expected {{size, entry_price, leverage}}")
    market = engine.markets[symbol]
    size = parse_decimal(spec.get("size")) if isinstance(spec.get("size"), str) else None
    if size is None or size % market.lot:
        raise ControlError(400, f"{symbol}: size must be a decimal string in steps of {market.lot}")
    entry = spec.get("entry_price")
    entry = parse_decimal(entry) if isinstance(entry, str) else None
    if size and (entry is None or entry <= 0):
        raise ControlError(400, f"{symbol}: entry_price must be a positive decimal string")
    leverage = spec.get("leverage")
    if leverage is not None:
        leverage = parse_decimal(leverage) if isinstance(leverage, str) else None
        if leverage is None or not 1 <= leverage <= market.max_leverage:
            raise ControlError(400, f"{symbol}: leverage must be in [1, {market.max_leverage}]")
    return size, entry, leverage


@routes.put("/_emulator/accounts/{api_key}/positions")
async def set_positions(request: web.Request) -> web.Response:
    engine = _state(request).engine
    if not isinstance(engine, PerpEngine):
        raise ControlError(404, "this dialect has no positions")
    account = _account(request)
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ControlError(400, "body must be an object of SYMBOL: {size, entry_price, leverage}")
    specs = {}
    for name, spec in body.items():
        symbol = normalize_symbol(name) if isinstance(name, str) else ""
        if symbol not in engine.markets:
            raise ControlError(404, f"no such market {name!r}")
        specs[symbol] = _position_spec(engine, symbol, spec)
    for symbol, (size, entry, leverage) in specs.items():
        if leverage is not None:
            engine.set_leverage(account, symbol, leverage)
        engine.set_position(account, symbol, size, entry)
    return control_json(_account_view(request, account))


async def _market_price(request: web.Request):
    """The engine, the listed market the path names and the positive price the body gives."""
    engine = _state(request).engine
    symbol = normalize_symbol(request.match_info["symbol"])
    if symbol not in engine.markets:
        raise ControlError(404, "no such market")
    body = await _json_body(request)
    raw = body.get("price") if isinstance(body, dict) else None
    price = parse_decimal(raw) if isinstance(raw, str | int) else None
    if price is None or price <= 0:
        raise ControlError(400, "price must be a positive decimal string")
    return engine, symbol, price


@routes.post("/_emulator/markets/{symbol}/price")
async def move_price(request: web.Request) -> web.Response:
    engine, symbol, price = await _market_price(request)
    engine.move_price(symbol, price)
    return control_json({"symbol": symbol, "price": fmt(engine.mid(symbol))})


@routes.post("/_emulator/markets/{symbol}/trade")
async def trade_at(request: web.Request) -> web.Response:
    """The market trades at a price: the mid and the ticker's last price move there."""
    engine, symbol, price = await _market_price(request)
    engine.trade_at(symbol, price)
    return control_json({"symbol": symbol, "price": fmt(engine.mid(symbol))})


@routes.put("/_emulator/markets/{symbol}/rules")
async def change_rules(request: web.Request) -> web.Response:
    """MEXC only: a market's amount precision ({"base_decimals": 2}) or minimum order value
    ({"min_notional": "50"}) changed, as an exchange changes them; reset restores them."""
    engine = _state(request).engine
    symbol = normalize_symbol(request.match_info["symbol"])
    if isinstance(engine, PerpEngine):
        raise ControlError(400, "market rules change on the mexc dialect only")
    if symbol not in engine.markets:
        raise ControlError(404, "no such market")
    body = await _json_body(request)
    if not isinstance(body, dict) or not body or set(body) - {"base_decimals", "min_notional"}:
        raise ControlError(400, "give base_decimals (0-18) and/or min_notional (a decimal)")
    decimals = body.get("base_decimals")
    if decimals is not None and (type(decimals) is not int or not 0 <= decimals <= 18):
        raise ControlError(400, "base_decimals must be a whole number from 0 to 18")
    raw = body.get("min_notional")
    minimum = parse_decimal(raw) if isinstance(raw, str) else None
    if raw is not None and (minimum is None or minimum < 0):
        raise ControlError(400, "min_notional must be a non-negative decimal string")
    engine.change_rules(symbol, with_rules(engine.markets[symbol], decimals, minimum))
    return control_json(engine.markets[symbol].entry)


@routes.get("/_emulator/faults")
async def get_faults(request: web.Request) -> web.Response:
    state = _state(request)
    return control_json(state.faults.describe(state.engine.stall_fills))


@routes.post("/_emulator/faults")
async def add_faults(request: web.Request) -> web.Response:
    state = _state(request)
    try:
        stall = state.faults.apply(await _json_body(request))
    except FaultSpecError as exc:
        raise ControlError(400, str(exc)) from exc
    if stall is not None:
        state.engine.set_stall_fills(stall)
    return control_json(state.faults.describe(state.engine.stall_fills))


@routes.delete("/_emulator/faults")
async def clear_faults(request: web.Request) -> web.Response:
    state = _state(request)
    state.faults.clear()
    state.engine.set_stall_fills(False)
    return control_json(state.faults.describe(state.engine.stall_fills))


@routes.get("/_emulator/requests")
async def get_requests(request: web.Request) -> web.Response:
    return control_json(_state(request).log.as_json())


@routes.delete("/_emulator/requests")
async def clear_requests(request: web.Request) -> web.Response:
    _state(request).log.clear()
    return control_json({})


@routes.post("/_emulator/reset")
async def reset(request: web.Request) -> web.Response:
    """Back to the start state (and saved, with a state file)."""
    _state(request).reset()
    return control_json({})


@routes.post("/_emulator/restart")
async def restart(request: web.Request) -> web.Response:
    """What a restart of the exchange's servers forgets, the accounts and orders kept:
    Bybit's realtime order list loses the orders closed so far. A spot exchange forgets
    nothing its API shows."""
    engine = _state(request).engine
    if isinstance(engine, PerpEngine):
        engine.restart()
    return control_json({})


@routes.get("/_emulator/info")
async def info(request: web.Request) -> web.Response:
    """Which emulator this is: a launcher checks it serves the state file it expects."""
    state = _state(request)
    state_file = None if state.saver is None else str(state.saver.path)
    return control_json(
        {"dialect": state.dialect.name, "pid": os.getpid(), "state_file": state_file}
    )
