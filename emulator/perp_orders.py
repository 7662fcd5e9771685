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


@dataclass(frozen=True)
class PerpTrade:
    """One fill of one of the account's orders (Bybit's execution, Binance's user trade),
    with what it did to the position and what it cost, as the engine charged it."""

    trade_id: str
    seq: int  # the engine's running fill number: orders the history and pages through it
    order: PerpOrder
    price: Decimal
    qty: Decimal
    fee: Decimal  # in fee_asset, charged to the wallet
    fee_rate: Decimal
    is_maker: bool
    closed_qty: Decimal  # how much of it reduced the position it met
    realized_pnl: Decimal  # of that reduction, before the fee
    leaves_qty: Decimal  # what the order still had to fill after it
    mark_price: Decimal
    time_ms: int
    fee_asset: str = "USDT"  # the settle coin, or the fee token the account paid it in (BNB)

    @property
    def symbol(self) -> str:
        return self.order.symbol

    @property
    def side(self) -> str:
        return self.order.side

    @property
    def quote_qty(self) -> Decimal:
        return self.qty * self.price


WEEK_MS = 7 * 86_400_000  # the widest window either exchange's fill history answers at once


def history_window(start_ms: int | None, end_ms: int | None, now_ms: int) -> tuple[int, int]:
    """The (first, last) times a fill-history query covers, as Bybit and Binance both define
    it: the last 7 days when neither bound is given, 7 days from startTime or up to endTime
    when only one is. The caller refuses a pair out of order or more than 7 days apart."""
    if start_ms is None and end_ms is None:
        return now_ms - WEEK_MS, now_ms
    if end_ms is None:
        return start_ms, start_ms + WEEK_MS
    if start_ms is None:
        return end_ms - WEEK_MS, end_ms
    return start_ms, end_ms
