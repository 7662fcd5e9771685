"""The spot exchange as a small versioned JSON document (what --state-file holds): accounts
with keys, secrets and balances, every order, the accounts' trades and deposits and
withdrawals, id counters and each market's price. Every Decimal is a string; `restore` refuses anything it cannot trust."""

from dataclasses import fields
from decimal import Decimal
from typing import get_args

from emulator.accounts import Account, Balance
from emulator.engine import Engine
from emulator.orders import Order, Trade
from emulator.state_file import StateFileError
from emulator.transfers import Transfer

FORMAT = "exchange-emulator/mexc-spot"
VERSION = 1


def snapshot(engine: Engine) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "saved_ms": engine.clock(),
        "seed": engine.seed,
        "counters": {
            "order": engine.order_seq,
            "trade": engine.trade_seq,
            "book_update": engine.book_update_id,
        },
        "prices": {symbol: str(price) for symbol, price in engine.walk.mids.items()},
        "accounts": [_account_doc(account) for account in engine.accounts.values()],
        "orders": [_record_doc(order) for order in engine.orders.values()],
        "trades": [
            {**_record_doc(trade, skip="order"), "order_id": trade.order.order_id}
            for trades in engine.trades.values()
            for trade in trades
        ],
        "transfers": [_record_doc(transfer) for transfer in engine.transfers],
    }


def restore(engine: Engine, doc: dict) -> None:
    """Put the saved exchange in `engine`; raises StateFileError (and changes nothing) for a
    document of another format or version, or with a missing or malformed part."""
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise StateFileError(f"not a {FORMAT} state file of version {VERSION}")
    try:
        prices = {symbol: _decimal(text) for symbol, text in doc["prices"].items()}
        accounts = [_account(entry) for entry in doc["accounts"]]
        orders = [_record(Order, entry) for entry in doc["orders"]]
        by_id = {order.order_id: order for order in orders}
        trades = [_record(Trade, entry, order=by_id[entry["order_id"]]) for entry in doc["trades"]]
        transfers = [_record(Transfer, entry) for entry in doc.get("transfers", [])]
        counters = doc["counters"]
        order_seq, trade_seq = _int(counters["order"]), _int(counters["trade"])
        book_update_id, seed = _int(counters["book_update"]), _int(doc["seed"])
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        raise StateFileError(f"malformed state ({type(exc).__name__}: {exc})") from exc
    symbols = set(prices) | {order.symbol for order in orders}
    if not symbols <= set(engine.markets) or any(price <= 0 for price in prices.values()):
        raise StateFileError("malformed state (unknown market or non-positive price)")
    engine.restore(
        seed, prices, accounts, orders, trades, order_seq, trade_seq, book_update_id, transfers
    )


def _record_doc(record: Order | Trade, skip: str = "") -> dict:
    values = {f.name: getattr(record, f.name) for f in fields(record) if f.name != skip}
    return {name: str(v) if isinstance(v, Decimal) else v for name, v in values.items()}


def _record(cls: type, doc: dict, **links) -> Order | Trade:
    """A dataclass record from its document: each field checked against its annotation."""
    values = dict(links)
    for field in fields(cls):
        if field.name in values:
            continue
        raw = doc[field.name]
        is_decimal = field.type is Decimal or Decimal in get_args(field.type)
        value = _decimal(raw) if is_decimal and raw is not None else raw
        if not isinstance(value, field.type):
            raise TypeError(f"{cls.__name__}.{field.name} = {raw!r}")
        values[field.name] = value
    return cls(**values)


def _account_doc(account: Account) -> dict:
    balances = {
        asset: {"free": str(balance.free), "locked": str(balance.locked)}
        for asset, balance in account.balances.items()
    }
    return {"api_key": account.api_key, "api_secret": account.api_secret, "balances": balances}


def _account(doc: dict) -> Account:
    api_key, api_secret = doc["api_key"], doc["api_secret"]
    if not isinstance(api_key, str) or not isinstance(api_secret, str):
        raise TypeError("account keys must be strings")
    balances = {
        asset: Balance(_decimal(entry["free"]), _decimal(entry["locked"]))
        for asset, entry in doc["balances"].items()
    }
    return Account(api_key, api_secret, balances)


def _decimal(text: object) -> Decimal:
    if not isinstance(text, str):
        raise TypeError(f"expected a decimal string, got {text!r}")
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {text!r}")
    return value


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value
