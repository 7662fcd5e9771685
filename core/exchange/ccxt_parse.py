"""ccxt's unified answers as the app's value types: exact Decimals, market rules, tickers,
orders, fills, positions and the stops an exchange keeps."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.domain import (
    BookTicker,
    CashTransfer,
    ExchangePosition,
    ExchangeStop,
    Fill,
    MarketRules,
    OrderReport,
    OrderStatus,
    Side,
    StopKind,
    Ticker,
    TransferKind,
    TransferStatus,
    base_asset,
    quote_asset,
)
from core.exchange.gateway import Unreadable
from core.exchange.venues import CCXT_PRICE_PARAM, StopCall, StopsAt, Venue

# PostgreSQL's Numeric(38, 18) keeps 20 integer digits, and no price, amount or balance
# comes near it: anything larger is a garbled answer (1e400 became Infinity in a float).
LARGEST = Decimal(10) ** 20
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?")


class BadValue(Unreadable):
    """One value of an answer that cannot be used; `field` says which, of what.
    translate_errors turns it into the sentence a person reads, with the exchange named."""

    def __init__(self, field: str, why: str):
        super().__init__(f"{field} {why}")
        self.field = field


def exact(value: Any, field: str, *, signed: bool = False, required: bool = True) -> Decimal:
    """One number of an exchange's answer as an exact Decimal, or BadValue: a number or a
    numeric string (ccxt's floats print back as the strings they came from), finite, within
    LARGEST, and not negative unless `signed`. None passes only when not `required`."""
    if value is None:
        if required:
            raise BadValue(field, "is missing")
        return None  # type: ignore[return-value]
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise BadValue(field, f"is not a number ({type(value).__name__})")
    text = str(value).strip()
    try:
        number = Decimal(text) if NUMBER.fullmatch(text) or not isinstance(value, str) else None
    except InvalidOperation:
        number = None
    if number is None:
        raise BadValue(field, "is not a number")
    if not number.is_finite() or abs(number) >= LARGEST:
        raise BadValue(field, f"is {'not finite' if not number.is_finite() else 'absurdly large'}")
    if number < 0 and not signed:
        raise BadValue(field, "is negative")
    return number


def optional(value: Any, field: str, *, signed: bool = False) -> Decimal | None:
    """exact() for a value the answer may leave out (None)."""
    return exact(value, field, signed=signed, required=False)


def answer(raw: Any, what: str) -> dict:
    """A unified ccxt answer: a dict read from a JSON object (its `info`), never text."""
    if not isinstance(raw, dict) or isinstance(raw.get("info", {}), str):
        raise BadValue(what, "is not an answer the app can read")
    return raw


# ccxt's unified statuses; "expired" ends an order like a cancel (its fills stand). Any
# other status is an unreadable answer, never a rejection: the order may have filled.
STATUS = {
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
}

ON_POSITION = "position"  # the exchange_id of a stop set on the position itself


def rules_from_market(market: dict) -> MarketRules:
    precision, limits, symbol = market["precision"], market["limits"], market["symbol"]
    of = f"of the {symbol} market"
    step = exact(precision["amount"], f"the amount step {of}")
    return MarketRules(
        symbol=symbol,
        base=market["base"],
        quote=market["quote"],
        amount_step=step,
        price_step=exact(precision["price"], f"the price step {of}"),
        min_amount=optional(limits["amount"].get("min"), f"the minimum amount {of}") or step,
        min_cost=optional(limits["cost"].get("min"), f"the minimum cost {of}") or Decimal(0),
        max_cost=optional(limits["cost"].get("max"), f"the maximum cost {of}"),
        taker_fee=optional(market.get("taker"), f"the taker fee {of}") or Decimal(0),
        maker_fee=optional(market.get("maker"), f"the maker fee {of}") or Decimal(0),
    )


def ticker_of(raw: dict) -> Ticker:
    raw = answer(raw, "the ticker")
    of = f"of the {raw['symbol']} ticker"
    stamp = raw.get("timestamp")
    return Ticker(
        symbol=raw["symbol"],
        last=exact(raw["last"], f"the last price {of}"),
        bid=optional(raw.get("bid"), f"the bid {of}"),
        ask=optional(raw.get("ask"), f"the ask {of}"),
        change_pct=optional(raw.get("percentage"), f"the change {of}", signed=True),
        timestamp=datetime.fromtimestamp(stamp / 1000, UTC) if stamp else datetime.now(UTC),
    )


def book_ticker_of(raw: dict) -> BookTicker:
    raw = answer(raw, "the book ticker")
    of = f"of the {raw['symbol']} book ticker"
    return BookTicker(
        symbol=raw["symbol"],
        bid=optional(raw.get("bid"), f"the bid {of}"),
        ask=optional(raw.get("ask"), f"the ask {of}"),
    )


def book_side(levels: Any, field: str) -> tuple[tuple[Decimal, Decimal], ...]:
    """One side of an order book: (price, amount) levels, each read exactly."""
    if not isinstance(levels, list):
        raise BadValue(field, "is not a list of levels")
    return tuple(
        (exact(level[0], f"a price of {field}"), exact(level[1], f"an amount of {field}"))
        for level in levels
    )


def fee_asset_of(trade: dict) -> str:
    """The asset a fill's fee was paid in (the quote when the answer names none)."""
    return (trade.get("fee") or {}).get("currency") or quote_asset(trade["symbol"])


def fill_of(
    trade: dict, client_order_id: str, fee_prices: Mapping[str, Decimal] | None = None
) -> Fill:
    """One execution. Its fee is valued in the quote asset: as is when paid in the quote,
    at the fill's price when paid in the base, and at `fee_prices[asset]` (that asset's
    price in the quote) when paid in a third asset (MEXC's MX, Binance's BNB)."""
    trade = answer(trade, f"a fill of order {client_order_id}")
    of = f"of fill {trade.get('id')} of order {client_order_id}"
    price = exact(trade["price"], f"the price {of}")
    fee = trade.get("fee") or {}
    fee_cost = optional(fee.get("cost"), f"the fee {of}") or Decimal(0)
    fee_asset = fee_asset_of(trade)
    if fee_asset == quote_asset(trade["symbol"]):
        fee_quote = fee_cost
    elif fee_asset == base_asset(trade["symbol"]):
        fee_quote = fee_cost * price
    else:
        fee_price = (fee_prices or {}).get(fee_asset)
        if fee_price is None:
            raise BadValue(f"the fee {of}", f"is in {fee_asset}, whose price is unknown")
        fee_quote = fee_cost * fee_price
    return Fill(
        symbol=trade["symbol"],
        side=Side(trade["side"]),
        qty=exact(trade["amount"], f"the amount {of}"),
        price=price,
        fee=fee_cost,
        fee_asset=fee_asset,
        fee_quote=fee_quote,
        trade_id=str(trade["id"]),
        client_order_id=client_order_id,
        time=datetime.fromtimestamp(trade["timestamp"] / 1000, UTC),
    )


def position_of(raw: dict, account: str) -> ExchangePosition:
    """A derivatives position as ccxt reports it, with the quantity signed by its side."""
    raw = answer(raw, "a position")
    of = f"of the {raw['symbol']} position"
    contracts = optional(raw.get("contracts"), f"the size {of}", signed=True) or Decimal(0)
    size = contracts * (optional(raw.get("contractSize"), f"the contract size {of}") or 1)
    return ExchangePosition(
        account=account,
        symbol=raw["symbol"],
        qty=-size if raw.get("side") == "short" else size,
        mark_price=optional(raw.get("markPrice"), f"the mark price {of}"),
        entry_price=optional(raw.get("entryPrice"), f"the entry price {of}"),
        leverage=optional(raw.get("leverage"), f"the leverage {of}"),
        unrealized=optional(raw.get("unrealizedPnl"), f"the unrealized PnL {of}", signed=True),
        liquidation_price=optional(raw.get("liquidationPrice"), f"the liquidation price {of}"),
    )


def stops_placed(
    venue: Venue, call: StopCall, raw: dict, account: str, symbol: str
) -> list[ExchangeStop]:
    """The legs one create_order call set: on the position, or one conditional order."""
    exchange_id = ON_POSITION if venue.stops is StopsAt.POSITION else str(raw["id"])
    return [
        ExchangeStop(account, symbol, kind, Decimal(call.params[name]), exchange_id)
        for kind, name in CCXT_PRICE_PARAM.items()
        if name in call.params
    ]


def stops_held(
    venue: Venue, account: str, positions: list[dict], orders: list[dict]
) -> tuple[ExchangeStop, ...]:
    """Stops set on positions (where the venue keeps them there) and reduce-only
    conditional orders, each once."""
    held = positions if venue.stops is StopsAt.POSITION else []
    on_positions = [stop for raw in held for stop in position_stops(raw, account)]
    as_orders = [
        order_stop(raw, account)
        for raw in orders
        if raw.get("reduceOnly") and not venue.echoes_position_stop(raw)
    ]
    return tuple(on_positions + as_orders)


def position_stops(raw: dict, account: str) -> list[ExchangeStop]:
    """A position's own stop-loss and take-profit (a price of 0 means none)."""
    if not raw.get("contracts"):
        return []
    return [
        ExchangeStop(
            account,
            raw["symbol"],
            kind,
            exact(raw[name], f"the {kind.value} price of the {raw['symbol']} position"),
            ON_POSITION,
        )
        for kind, name in CCXT_PRICE_PARAM.items()
        if raw.get(name)
    ]


def order_stop(raw: dict, account: str) -> ExchangeStop:
    """A reduce-only conditional order. ccxt names a take-profit by its takeProfitPrice on
    both venues (Binance's STOP_MARKET gets no stopLossPrice): every other one limits a loss.
    No size means it closes the whole position."""
    raw = answer(raw, "a conditional order")
    of = f"of conditional order {raw.get('id')}"
    size = optional(raw.get("amount"), f"the amount {of}") or None
    kind = StopKind.TAKE_PROFIT if raw.get("takeProfitPrice") is not None else StopKind.STOP_LOSS
    return ExchangeStop(
        account=account,
        symbol=raw["symbol"],
        kind=kind,
        trigger_price=exact(raw["triggerPrice"], f"the trigger price {of}"),
        exchange_id=str(raw["id"]),
        close_position=size is None,
        size=size,
    )


def report_of(
    raw: dict,
    client_order_id: str,
    symbol: str,
    side: Side | None = None,
    amount: Decimal | None = None,
    price: Decimal | None = None,
) -> OrderReport:
    """An order as the exchange reports it. No status means it was just accepted (open);
    a status the app does not know is unreadable (BadValue), never taken for a rejection."""
    raw = answer(raw, f"order {client_order_id}")
    of = f"of order {client_order_id}"
    filled = optional(raw.get("filled"), f"the filled amount {of}") or Decimal(0)
    status = STATUS.get(raw.get("status") or "open")
    if status is None:
        raise BadValue(f"the status {of}", f"is one the app does not know ({raw['status']!r})")
    return OrderReport(
        client_order_id=client_order_id,
        exchange_order_id=str(raw["id"]) if raw.get("id") is not None else None,
        symbol=symbol,
        side=side or Side(raw["side"]),
        price=optional(raw.get("price"), f"the price {of}") or price,
        amount=optional(raw.get("amount"), f"the amount {of}") or amount,
        filled=filled,
        status=status,
        average=optional(raw.get("average"), f"the average price {of}") if filled else None,
        placed_at=_time_of(raw.get("timestamp")),
    )


def transfer_of(raw: Any, kind: TransferKind, asset: str) -> CashTransfer:
    """One deposit or withdrawal of `asset` (ccxt's transaction structure). ccxt gives a
    withdrawal's amount less its fee (MEXC's includes it): the fee, in the same asset, is
    added back, so `amount` is what left the balance. A MEXC deposit has no id: its
    transaction hash names it. A status ccxt does not know, or no time, is unreadable."""
    raw = answer(raw, f"a {kind.value}")
    exchange_id = raw.get("id") or raw.get("txid")
    of = f"of {kind.value} {exchange_id}"
    if not isinstance(exchange_id, str) or not exchange_id:
        raise BadValue(f"the id {of}", "is missing")
    if raw.get("currency") != asset:
        raise BadValue(f"the asset {of}", f"is {raw.get('currency')!r}, not {asset}")
    try:
        status = TransferStatus(raw.get("status"))
    except ValueError:
        raise BadValue(
            f"the status {of}", f"is one the app does not know ({raw.get('status')!r})"
        ) from None
    amount = exact(raw.get("amount"), f"the amount {of}")
    fee = raw.get("fee") or {}
    if kind is TransferKind.WITHDRAWAL and fee.get("currency") in (None, asset):
        amount += optional(fee.get("cost"), f"the fee {of}") or Decimal(0)
    when = _time_of(raw.get("updated")) or _time_of(raw.get("timestamp"))
    if when is None:
        raise BadValue(f"the time {of}", "is missing")
    return CashTransfer(asset, kind, amount, exchange_id, status, when)


def _time_of(stamp: Any) -> datetime | None:
    """A ccxt timestamp (epoch milliseconds) as a UTC time; None when there is none."""
    if isinstance(stamp, bool) or not isinstance(stamp, int) or stamp <= 0:
        return None
    return datetime.fromtimestamp(stamp / 1000, UTC)
