"""Read models of the Sync health and Results pages and of the health, results, export and
alert-test commands: plain data (frozen dataclasses, Decimals, datetimes), no DataFrames.

A report covers one book: a mode, and every account of it (`account` None) or one. The
figures themselves are `core.insights.health`'s and `core.insights.results`' dataclasses, named here so the
page and the command line need nothing else of core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.domain import Mode
from core.insights.choices import EXPORT_TABLES
from core.insights.health import (
    AccountHealth,
    CorrectiveOrders,
    DriftStats,
    HealthBucket,
    HealthReport,
    OpenDrift,
    RunStats,
    SymbolHealth,
)
from core.insights.results import Drawdown, OpenTrip, PeriodProfit, RoundTrip, Summary, TradeStats
from core.operations.alerts import AlertRecord, DeliveryResult

WINDOWS = ("1h", "24h", "7d", "all")

__all__ = [
    "EXPORT_TABLES",
    "WINDOWS",
    "AccountHealth",
    "AlertRecord",
    "CorrectiveOrders",
    "DeliveryResult",
    "Drawdown",
    "DriftStats",
    "HealthBucket",
    "HealthReport",
    "HealthView",
    "OpenDrift",
    "OpenTrip",
    "PeriodProfit",
    "ResultsView",
    "RoundTrip",
    "RunStats",
    "Summary",
    "SymbolHealth",
    "TradeStats",
    "duration_text",
]


@dataclass(frozen=True)
class HealthView:
    """Sync health of one book over `window` (`1h`, `24h`, `7d`, `all`, or any duration)."""

    mode: Mode
    account: str | None
    window: str
    report: HealthReport


@dataclass(frozen=True)
class ResultsView:
    """Trading results of one book. `summary`, `by_symbol` and `closed` cover the round trips
    closed in the window (oldest first); `open` every trip still holding coins now; the
    drawdown and `equity` the equity snapshots of the window (`equity` thinned to at most a
    few thousand points for a chart; the drawdown is worked out from every snapshot, less
    the changes outside the app: a withdrawal is not a drawdown)."""

    mode: Mode
    account: str | None
    window: str
    quote: str
    now: datetime
    since: datetime | None
    summary: Summary
    by_symbol: Mapping[str, Summary]
    closed: Sequence[RoundTrip]
    open: tuple[OpenTrip, ...]
    drawdown: Drawdown | None
    equity: tuple[tuple[datetime, Decimal], ...]
    # the same points less the changes outside the app since the window's first point (what
    # trading alone made of the account: the drawdown's curve); and the net value of the
    # changes outside the app (the ledger's transfers at their marks) booked in the window
    traded: tuple[tuple[datetime, Decimal], ...] = ()
    outside: Decimal = Decimal(0)
    # the ledger's realized PnL (before fees) and fees booked in the window, by average cost:
    # over all time, the Trading page's Realized PnL and Fees cards of the same book
    realized: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)


def duration_text(value: timedelta) -> str:
    """`45s`, `3m 05s`, `2h 01m`, `3d 04h`: the two largest units, as the page and the
    command line both show a duration."""
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"
