"""Read models the page and the command line render: plain data, assembled by the service.
Everything shown on one screen belongs to one book (the mode shown)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from core.domain import (
    BookEvent,
    Candle,
    Discrepancy,
    ExternalChange,
    Mode,
    PositionState,
    SyncAction,
)


@dataclass(frozen=True)
class Badge:
    """The mode badge: `text` is SIM or LIVE+SYNC; `tone` is success, info, warning or
    danger (a failed verification); `detail` says why in a sentence."""

    text: str
    tone: str
    detail: str


@dataclass(frozen=True)
class PositionView:
    """One spot symbol of the traded account, as its holdings say. `qty` is the base held
    (locked included); a flat row has no entry and no unrealized PnL; `dust` marks a holding
    the market would not let you trade."""

    symbol: str
    state: PositionState
    state_label: str
    qty: Decimal
    dust: bool
    avg_entry: Decimal | None
    entry_source: str
    price: Decimal | None
    unrealized: Decimal | None
    realized: Decimal
    fees: Decimal
    sync_status: str | None = None
    stop: StopView | None = None


@dataclass(frozen=True)
class StopView:
    """A stop on a position: its prices, how far the stop-loss is from the mark, and where
    it lives (on the exchange, or app-side: active while the dashboard or a worker runs)."""

    stop_loss: Decimal | None
    take_profit: Decimal | None
    distance_pct: Decimal | None
    placement: str
    status: str
    message: str | None = None


@dataclass(frozen=True)
class DerivativePositionView:
    """A position the monitor keeps on a derivatives account (signed quantity)."""

    account: str
    exchange: str
    symbol: str
    side: str
    qty: Decimal
    entry: Decimal | None
    entry_source: str
    mark: Decimal | None
    unrealized: Decimal | None
    leverage: Decimal | None
    liquidation_price: Decimal | None
    stop: StopView | None = None


@dataclass(frozen=True)
class BalanceView:
    """One asset of the account: free, locked, and its value in the quote asset (None when
    the asset has no price)."""

    asset: str
    free: Decimal
    locked: Decimal
    value: Decimal | None
    step: Decimal | None = None  # the amount step of its market: what the panel rounds to


@dataclass(frozen=True)
class MarketView:
    symbol: str
    last: Decimal | None
    bid: Decimal | None
    ask: Decimal | None
    change_pct: Decimal | None
    time: datetime | None
    error: str | None = None


@dataclass(frozen=True)
class PnlView:
    """The cards: equity = cash + every priced holding, from the same balances as the table."""

    equity: Decimal
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    quote: str = "USDT"


@dataclass(frozen=True)
class FillView:
    time: datetime
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    client_order_id: str


@dataclass(frozen=True)
class OrderView:
    time: datetime
    symbol: str
    side: str
    price: Decimal
    amount: Decimal
    filled: Decimal
    average: Decimal | None
    status: str
    client_order_id: str
    reason: str | None
    origin: str = "manual"


@dataclass(frozen=True)
class SyncRunView:
    time: datetime
    kind: str
    symbol: str | None
    target: str | None
    before: str | None
    after: str | None
    ok: bool
    message: str
    duration_ms: int
    api_calls: int


@dataclass(frozen=True)
class TradeActivity:
    """A trade as any page sees it: running (with its step) or how it ended."""

    id: int
    symbol: str
    target: PositionState
    step: str
    running: bool
    ok: bool | None
    message: str | None
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class DashboardView:
    mode: Mode
    badge: Badge
    exchange_label: str
    positions: list[PositionView]
    derivatives: list[DerivativePositionView]
    pnl: PnlView
    balances: list[BalanceView]
    balances_time: datetime | None
    fills: list[FillView]
    orders: list[OrderView]
    sync_runs: list[SyncRunView]
    trades: list[TradeActivity]
    last_sync: datetime | None
    exchange_error: str | None = None
    halted: str | None = None
    notes: list[str] = field(default_factory=list)
    events: list[BookEvent] = field(default_factory=list)  # the feed, newest first
    # each symbol's newest event (an event of the whole account counts for every symbol)
    symbol_events: dict[str, BookEvent] = field(default_factory=dict)
    waiting: list[BookEvent] = field(default_factory=list)  # incidents to acknowledge
    version: str = ""  # which reading of the book this is: equal versions, equal views


@dataclass(frozen=True)
class ChartLine:
    """A price drawn across the chart: kind is entry, stop, take_profit or order. `ref` is
    a working order's id (what a drag of its line proposes to move)."""

    kind: str
    price: Decimal
    label: str
    ref: str | None = None


@dataclass(frozen=True)
class ChartView:
    """What the two charts draw, and nothing else: the symbol's candles (of `timeframe`)
    with this book's fills and price lines on them, and this book's equity curve."""

    symbol: str
    candles: list[Candle]
    candles_error: str | None
    fills: list[FillView]
    equity_curve: list[tuple[datetime, Decimal]]
    quote: str
    timeframe: str = "1m"
    lines: list[ChartLine] = field(default_factory=list)


@dataclass(frozen=True)
class ModeChange:
    ok: bool
    mode: Mode
    message: str


@dataclass(frozen=True)
class MonitorRunView:
    """One recorded run of the position monitor: what it found and changed, by kind."""

    time: datetime
    account: str
    policy: str
    ok: bool
    message: str
    discrepancies: dict[str, int]
    actions: dict[str, int]
    duration_ms: int
    api_calls: int


@dataclass(frozen=True)
class AccountCheckView:
    """What the position monitor found on one account (and, after an apply, changed)."""

    account: str
    exchange: str = ""
    discrepancies: list[Discrepancy] = field(default_factory=list)
    actions: list[SyncAction] = field(default_factory=list)
    error: str | None = None
    api_calls: int = 0
    duration_ms: int = 0
    open_orders: dict[str, int] = field(default_factory=dict)
    drift: dict[str, PositionState] = field(default_factory=dict)
    external_changes: tuple[ExternalChange, ...] = ()
    notes: tuple[str, ...] = ()  # what the check could not look at, or did not record

    @property
    def ok(self) -> bool:
        return self.error is None
