"""Conditional (trigger) orders as the perpetuals engine keeps them: a stop-loss or take-profit
waits for the mark price to reach its trigger, then sends a market (or limit) order, usually
reduce-only. One model serves a Bybit conditional order or position TP/SL and a Binance algo
order; each dialect renders it in its own shape."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.perp_orders import PerpOrder

RISE, FALL = "rise", "fall"  # fires when the mark rises to / falls to the trigger price
STOP_LOSS, TAKE_PROFIT = "stop_loss", "take_profit"
UNTRIGGERED, TRIGGERED, CANCELED, EXPIRED = "UNTRIGGERED", "TRIGGERED", "CANCELED", "EXPIRED"


def kind_of(side: str, direction: str) -> str:
    """A sell that fires on a fall (or a buy on a rise) limits a loss; the others take profit."""
    return STOP_LOSS if (side == "SELL") == (direction == FALL) else TAKE_PROFIT


def direction_of(kind: str, side: str) -> str:
    """The inverse of `kind_of`: which way the mark must move for a `kind` order of `side`."""
    return FALL if (side == "SELL") == (kind == STOP_LOSS) else RISE


def closing_side(position_size: Decimal) -> str:
    return "SELL" if position_size > 0 else "BUY"


def is_due(direction: str, trigger_price: Decimal, mark: Decimal) -> bool:
    return mark >= trigger_price if direction == RISE else mark <= trigger_price


@dataclass(frozen=True)
class ConditionalRequest:
    symbol: str
    side: str  # BUY or SELL: the side of the order it sends
    direction: str  # RISE or FALL
    trigger_price: Decimal
    quantity: Decimal | None  # None: whatever position there is when it fires
    order_type: str  # MARKET or LIMIT
    price: Decimal | None  # the LIMIT order's price
    reduce_only: bool
    client_order_id: str | None
    trigger_by: str  # echoed as sent; the emulator always watches the mark price
    position_tpsl: bool = False  # a Bybit position TP/SL: dropped when the position closes


@dataclass(eq=False)
class ConditionalOrder:
    order_id: str
    api_key: str
    request: ConditionalRequest
    time_ms: int
    update_ms: int
    status: str = UNTRIGGERED
    triggered_ms: int = 0
    order: PerpOrder | None = None  # the order it sent when it fired

    @property
    def symbol(self) -> str:
        return self.request.symbol

    @property
    def client_order_id(self) -> str | None:
        return self.request.client_order_id

    @property
    def kind(self) -> str:
        return kind_of(self.request.side, self.request.direction)

    @property
    def is_open(self) -> bool:
        return self.status == UNTRIGGERED
