"""ccxt's unified answers as the app's value types: exact Decimals, market rules, tickers,
orders, fills, positions and the stops an exchange keeps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.domain import (
    ExchangePosition,
    ExchangeStop,
    Fill,
    MarketRules,
    OrderReport,
    OrderStatus,
    Side,
    StopKind,
    Ticker,
    quote_asset,
)
from core.exchange.venues import CCXT_PRICE_PARAM, StopCall, StopsAt, Venue


def dec(value: Any) -> Decimal | None:
    """ccxt's numbers as exact Decimals (its floats print back as the strings they came from)."""
    return None if value is None else Decimal(str(value))


STATUS = {"open": OrderStatus.OPEN, "closed": OrderStatus.FILLED, "canceled": OrderStatus.CANCELED}

ON_POSITION = "position"  # the exchange_id of a stop set on the position itself


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


def ticker_of(raw: dict) -> Ticker:
    stamp = raw.get("timestamp")
    return Ticker(
        symbol=raw["symbol"],
        last=dec(raw["last"]),
        bid=dec(raw.get("bid")),
        ask=dec(raw.get("ask")),
        change_pct=dec(raw.get("percentage")),
        timestamp=datetime.fromtimestamp(stamp / 1000, UTC) if stamp else datetime.now(UTC),
    )


def fill_of(trade: dict, client_order_id: str) -> Fill:
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


def position_of(raw: dict, account: str) -> ExchangePosition:
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
        ExchangeStop(account, raw["symbol"], kind, dec(raw[name]), ON_POSITION)
        for kind, name in CCXT_PRICE_PARAM.items()
        if raw.get(name)
    ]


def order_stop(raw: dict, account: str) -> ExchangeStop:
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


def report_of(
    raw: dict,
    client_order_id: str,
    symbol: str,
    side: Side | None = None,
    amount: Decimal | None = None,
    price: Decimal | None = None,
) -> OrderReport:
    filled = dec(raw.get("filled")) or Decimal(0)
    status = STATUS.get(raw.get("status") or "open", OrderStatus.REJECTED)
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
