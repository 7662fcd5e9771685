"""Accounts, positions, orders and rejections as the perpetuals engine keeps them."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.conditionals import ConditionalOrder

OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")
ORDER_TYPES = ("LIMIT", "MARKET")
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "POST_ONLY")


class Rejection(Exception):
    """An order or setting the engine refuses; each dialect renders `reason` in its own codes."""

    INSUFFICIENT_MARGIN = "insufficient_margin"
    REDUCE_ONLY_INCREASE = "reduce_only_increase"
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_FINISHED = "order_finished"
    QTY_STEP = "qty_step"
    QTY_ABOVE_MAX = "qty_above_max"
    PRICE_TICK = "price_tick"
    PRICE_RANGE = "price_range"
    NOTIONAL_BELOW_MIN = "notional_below_min"
    DUPLICATE_CLIENT_ID = "duplicate_client_order_id"
    LEVERAGE_INVALID = "leverage_invalid"
    TOO_MANY_ORDERS = "too_many_orders"
    RISE_REACHED = "rise_reached"  # a conditional that waits for a rise the mark has made
    FALL_REACHED = "fall_reached"

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Position:
    size: Decimal  # signed: negative is short
    entry_price: Decimal
    created_ms: int
    updated_ms: int
    realized_pnl: Decimal = Decimal(0)  # since the position was opened


@dataclass
class PerpAccount:
    api_key: str
    api_secret: str
    wallet: dict[str, Decimal]
    leverage: dict[str, Decimal] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)


@dataclass(frozen=True)
class PerpOrderRequest:
    symbol: str
    side: str  # BUY or SELL
    type: str  # LIMIT or MARKET
    quantity: Decimal
    price: Decimal | None
    time_in_force: str
    reduce_only: bool
    client_order_id: str | None


@dataclass(eq=False)
class PerpOrder:
    order_id: str
    api_key: str
    symbol: str
    side: str
    type: str
    price: Decimal | None  # None for MARKET
    quantity: Decimal
    time_in_force: str
    reduce_only: bool
    client_order_id: str | None
    time_ms: int
    update_ms: int
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    cumulative_quote: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    awaiting_first_match: bool = True  # placed while fills were stalled
    fired_by: "ConditionalOrder | None" = None  # the conditional order that sent it

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining_qty(self) -> Decimal:
        return self.quantity - self.executed_qty

    @property
    def average_price(self) -> Decimal | None:
        return self.cumulative_quote / self.executed_qty if self.executed_qty else None

    @property
    def direction(self) -> int:
        return 1 if self.side == "BUY" else -1
