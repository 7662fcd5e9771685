"""Trading results folded as the ledger grows, so that a new entry costs what it changes and
never a reload of the whole ledger (a million entries took 11 s to read and work out).

Why a fold, and this shape: the ledger is append-only (entries are never changed nor
deleted), and a pair's (account, symbol) round trips depend only on that pair's entries in
time order. So a fold carries each pair's tail (what it held, whether that was above dust,
its open trip's sums: `core.insights.results.Tail`) and takes the entries recorded since its
watermark (the last id folded) from there. What the page reads is kept as it is shown: the
closed trips (each RoundTrip built once), their figures as totals per symbol and UTC day
(what every summary adds up: a few thousand rows for a year of twenty markets, where the
trips are hundreds of thousands) and the realized PnL and fees as running sums.

An entry dated before its pair's last folded one (a clock set back), or dust of a market
that changed since it was folded, makes `fold` answer None: only a fold from the first entry
gives what the full computation gives then. A trip closing before trips already kept is
merged into its place, and the day totals from its day on are added up again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from core.domain import ZERO
from core.insights.closed_trips import ClosedTrips
from core.insights.results import (
    ENTRY_COLUMNS,
    NO_BOOKINGS,
    NS_PER_DAY,
    Booked,
    Pair,
    ResultsReport,
    Summary,
    Tail,
    booked,
    closed_columns,
    columns_of,
    day_totals,
    drawdown,
    held_entries,
    merged_days,
    open_trips,
    prepared,
    rows_of,
    summaries,
    trips_of,
)


def _no_days() -> dict[str, np.ndarray]:
    return day_totals(columns_of(()))


@dataclass(frozen=True)
class LedgerFold:
    """Every ledger entry up to `last_id` (`entries` of them): each pair's tail, the closed
    trips in the order they closed, their day totals, and the running realized PnL and fees;
    `dust` is what each market's dust was when folded."""

    last_id: int = 0
    entries: int = 0
    dust: Mapping[str, Decimal] = field(default_factory=dict)
    tails: Mapping[Pair, Tail] = field(default_factory=dict)
    trips: ClosedTrips = field(default_factory=ClosedTrips)
    days: Mapping[str, np.ndarray] = field(default_factory=_no_days)
    booked: Booked = NO_BOOKINGS
    overall: Summary = field(default_factory=lambda: summaries(_no_days(), ().__getitem__)[0])
    by_symbol: Mapping[str, Summary] = field(default_factory=dict)


def fold(
    start: LedgerFold, entries: pd.DataFrame, last_id: int, dust: Mapping[str, Decimal]
) -> LedgerFold | None:
    """`start` with the entries recorded after it folded in (ENTRY_COLUMNS; the last of them
    numbered `last_id`); `dust` per symbol as in `compute_results`. None when only a fold
    from the first entry can be right (see the module's docstring)."""
    if any(start.dust.get(symbol, ZERO) != dust.get(symbol, ZERO) for _, symbol in start.tails):
        return None
    frame = prepared(entries, ENTRY_COLUMNS)
    held = held_entries(frame)
    if _before_tails(held, start.tails):
        return None
    trips, tails = trips_of(held, dust, start.tails)
    closed = closed_columns(trips)
    kept, days, overall, by_symbol = start.trips, start.days, start.overall, start.by_symbol
    if len(closed["profit"]):
        kept, days, renumbered = _merged(start.trips, start.days, ClosedTrips.of(closed), closed)
        changed = None if renumbered else set(closed["symbol"])  # None: every symbol
        overall, summed = summaries(days, kept.__getitem__, changed)
        by_symbol = dict(sorted({**by_symbol, **summed}.items()))
    return LedgerFold(
        last_id=last_id,
        entries=start.entries + len(frame),
        dust=dict(dust),
        tails={**start.tails, **tails},
        trips=kept,
        days=days,
        booked=booked(frame, start.booked),
        overall=overall,
        by_symbol=by_symbol,
    )


def report(folded: LedgerFold, now: datetime, equity: pd.DataFrame | None = None) -> ResultsReport:
    """Every result figure of the fold; `now` dates the open trips; the drawdown of the
    equity snapshots when given (EQUITY_COLUMNS)."""
    return ResultsReport(
        now=now,
        overall=folded.overall,
        by_symbol=folded.by_symbol,
        closed=folded.trips,
        open=open_trips(folded.tails, now),
        drawdown=None if equity is None else drawdown(equity),
    )


def compute_results(
    entries: pd.DataFrame,
    equity: pd.DataFrame | None,
    now: datetime,
    dust: Mapping[str, Decimal] | None = None,
) -> ResultsReport:
    """Every result figure from the ledger's entries (ENTRY_COLUMNS) and the equity
    snapshots (None: no drawdown, for a caller that measures it apart, so that a new
    snapshot does not work out the round trips again); `now` dates the open trips.
    `dust` gives per symbol the quantity at or below which a holding is flat (default 0)."""
    folded = fold(LedgerFold(), entries, 0, dust or {})
    return report(folded, now, equity)


def _before_tails(entries: pd.DataFrame, tails: Mapping[Pair, Tail]) -> bool:
    """Whether an entry is dated before the last one folded of its pair."""
    if entries.empty or not tails:
        return False
    firsts = entries.groupby(["account", "symbol"], sort=False)["time"].min()
    return any(time < tails[pair].time for pair, time in firsts.items() if pair in tails)


def _merged(
    kept: ClosedTrips,
    days: Mapping[str, np.ndarray],
    new: ClosedTrips,
    closed: Mapping[str, np.ndarray],
) -> tuple[ClosedTrips, dict[str, np.ndarray], bool]:
    """The kept trips with the new ones (in the order they closed; `closed`: their columns)
    in their places; the day totals: those of the days before the first new trip's kept,
    the rest added up again; and whether a kept trip's number changed (a new one closed
    before it)."""
    first_new = int(new.columns["closed_at"][0])
    at = kept.first_closed_from(first_new, "right")
    moved = ClosedTrips.joined(kept[at:], new).in_close_order()  # kept first at equal times
    trips = ClosedTrips.joined(kept[:at], moved)
    day = first_new // NS_PER_DAY  # days since 1970-01-01, as the totals count
    first = trips.first_closed_from(day * NS_PER_DAY)
    earlier = rows_of(days, np.flatnonzero(days["day"] < day))
    again = closed if first == len(kept) else trips[first:].day_columns()  # only new ones
    return trips, merged_days(earlier, day_totals(again, first)), at < len(kept)
