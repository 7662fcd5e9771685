"""Read models the dashboard renders: plain data, assembled by the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from core.domain import Balance, Mode, PositionState


@dataclass(frozen=True)
class Badge:
    """The mode badge: `text` is SIM or LIVE+SYNC; `tone` is success, info, warning or
    danger (error or drift); `detail` says why in a sentence."""

    text: str
    tone: str
    detail: str


@dataclass(frozen=True)
class PositionView:
    """One row of the positions table, assembled from the store and cached prices."""

    symbol: str
    state: PositionState
    state_label: str
    qty: Decimal
    avg_entry: Decimal | None
    price: Decimal | None
    unrealized: Decimal
    realized: Decimal
    fees: Decimal
    account: str = "default"
    exchange: str = ""
    side: str = ""
    leverage: Decimal | None = None
    liquidation_price: Decimal | None = None


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
class DashboardView:
    mode: Mode
    badge: Badge
    exchange_label: str
    positions: list[PositionView]
    pnl: PnlView
    balances: dict[str, Balance]
    fills: list[FillView]
    orders: list[OrderView]
    equity_curve: list[tuple[datetime, Decimal]]
    sync_runs: list[SyncRunView]
    last_sync: datetime | None
    exchange_error: str | None = None
    notes: list[str] = field(default_factory=list)


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
