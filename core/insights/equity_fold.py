"""The equity curve of a book folded as its snapshots are recorded, so that a new snapshot
costs what it adds: the check records one every 30 s, and working the whole curve out again
took 180-550 ms at half a million points, and reading it in a new process 2.5-7.5 s.

Why a fold, and this shape: snapshots are only ever added, and what the Results page reads
of the whole curve is its drawdown (of the equity less the changes outside the app: a
running peak and the deepest fall below one) and a few thousand points to draw. So a fold
keeps the book's curve (at each snapshot, the sum of its accounts' latest equity: times,
and money as exact digits), each account's latest equity and the drawdown's running
figures. A window's figures are worked out from the slice of the curve it covers.

The changes outside the app (the ledger's transfers, OUTSIDE_COLUMNS) count from after the
curve's first point. One dated among the points already folded changes what they were worth
net of those changes, as does a snapshot dated before the last point (a clock set back):
`fold` answers None then, and only a fold from the first snapshot is right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import pandas as pd

from core.domain import ZERO
from core.insights.results import (
    EQUITY_COLUMNS,
    Drawdown,
    as_digits,
    datetime_of,
    datetimes_of,
    decimals_of,
    drawdown,
    net_of_outside,
    ns_of,
    outside_moves,
    pct_of,
    prepared,
    traded_curve,
)

CHART_POINTS = 2000
Points = tuple[tuple[datetime, Decimal], ...]


@dataclass(frozen=True)
class Fall:
    """The drawdown's running figures over the points folded, of the equity less the changes
    outside the app (`traded`; indices are points of the curve): the running peak and the
    last point at it, the deepest fall below a peak so far (the first, of equal ones) with
    its trough and that trough's peak, and the last point's value."""

    peak: Decimal
    peak_at: int
    deepest: Decimal
    trough: int
    trough_value: Decimal
    trough_peak: int
    trough_peak_value: Decimal
    last: Decimal


@dataclass(frozen=True)
class EquityFold:
    """The book's snapshots up to id `last_id` (`snapshots` of them) as one curve: `times`
    in UTC nanoseconds, `equity` as exact digits; `latest`, each account's latest equity;
    `moves`, the changes outside the app counted in `fall` (those after the first point, up
    to the last)."""

    last_id: int = 0
    snapshots: int = 0
    latest: Mapping[str, Decimal] = field(default_factory=dict)
    times: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    equity: np.ndarray = field(default_factory=lambda: np.empty(0, "S1"))
    moves: int = 0
    fall: Fall | None = None

    def start_of(self, since: datetime | None) -> int:
        """The first point at or after `since` (0 for the whole curve: None)."""
        return 0 if since is None else int(np.searchsorted(self.times, ns_of(since), "left"))


class Curve(NamedTuple):
    """What the Results page shows of an equity curve: the drawdown of the equity less the
    changes outside the app (None without points), and the equity and that as chart points."""

    drawdown: Drawdown | None
    equity: Points
    traded: Points


def fold(
    start: EquityFold, snapshots: pd.DataFrame, last_id: int, outside: pd.DataFrame
) -> EquityFold | None:
    """`start` with the snapshots recorded after it folded in (id, account, time, equity, in
    (time, id) order; the last numbered `last_id`), net of the changes `outside`. None when
    only a fold from the first snapshot can be right (see the module's docstring)."""
    frame = prepared(snapshots, ("account", *EQUITY_COLUMNS))
    times = frame["time"].to_numpy(np.int64)
    first = np.concatenate([start.times[:1], times[:1]])  # the curve's first point, if any
    moves = outside_moves(outside, first[0] if len(first) else 0)
    if len(start.times) and (
        moves.counted(start.times[-1]) != start.moves or (len(times) and times[0] < start.times[-1])
    ):
        return None
    if not len(times):
        return start
    latest, equity = _combined(start.latest, frame)
    return EquityFold(
        last_id=last_id,
        snapshots=start.snapshots + len(frame),
        latest=latest,
        times=np.concatenate([start.times, times]),
        equity=np.concatenate([start.equity, as_digits(equity)]),
        moves=moves.counted(times[-1]),
        fall=_fallen(start.fall, equity - moves.by(times), len(start.times)),
    )


def curve(folded: EquityFold, outside: pd.DataFrame, start: int = 0) -> Curve:
    """The curve from point `start` on (a window's first: EquityFold.start_of). From the
    first, the fold's own figures; from a later one, the slice's, its changes outside the
    app counted from after its own first point."""
    if start:
        times = folded.times[start:]
        sliced = net_of_outside(
            pd.DataFrame({"time": times, "equity": decimals_of(folded.equity[start:])}), outside
        )
        return Curve(
            drawdown(traded_curve(sliced)),
            chart_points(times, sliced["equity"].to_numpy(object)),
            chart_points(times, sliced["traded"].to_numpy(object)),
        )
    picked = _picked(len(folded.times))
    times = folded.times[picked]
    equity = decimals_of(folded.equity[picked])
    moves = outside_moves(outside, folded.times[0] if len(picked) else 0)
    return Curve(
        _drawdown(folded),
        _points(times, equity),
        _points(times, equity - moves.by(times)),
    )


def chart_points(times: np.ndarray, values: np.ndarray) -> Points:
    """The curve's points as (UTC time, value), `times` in nanoseconds: every n-th when there
    are more than CHART_POINTS, the last one always. Only the picked points are converted."""
    picked = _picked(len(times))
    return _points(times[picked], values[picked])


def _picked(length: int) -> np.ndarray:
    if not length:
        return np.empty(0, np.int64)
    step = -(-length // CHART_POINTS)
    picked = np.arange(0, length, step)
    return picked if picked[-1] == length - 1 else np.append(picked, length - 1)


def _points(times: np.ndarray, values: np.ndarray) -> Points:
    return tuple(zip(datetimes_of(times), values.tolist(), strict=True))


def _combined(
    latest: Mapping[str, Decimal], frame: pd.DataFrame
) -> tuple[dict[str, Decimal], np.ndarray]:
    """Each account's latest equity after the snapshots, and the curve's new points: at each,
    the sum of every account's latest equity (an account not snapshotted yet counts zero)."""
    accounts = frame["account"].to_numpy(object)
    values = frame["equity"].to_numpy(object)
    latest = dict(latest)
    if set(latest) <= {accounts[0]} and (accounts == accounts[0]).all():
        latest[accounts[0]] = values[-1]
        return latest, values
    points = np.empty(len(values), object)
    for at, (account, value) in enumerate(zip(accounts, values, strict=True)):
        latest[account] = value
        points[at] = sum(latest.values(), ZERO) if len(latest) > 1 else value
    return latest, points


def _fallen(start: Fall | None, traded: np.ndarray, offset: int) -> Fall:
    """`start` carried over the new points' `traded` values (the first numbered `offset`)."""
    carried = traded if start is None else np.r_[np.array([start.peak], object), traded]
    peaks = np.maximum.accumulate(carried)[len(carried) - len(traded) :]
    numbers = np.arange(offset, offset + len(traded))
    at_peak = np.where(traded >= peaks, numbers, -1)
    if start is not None:
        at_peak = np.r_[start.peak_at, at_peak]
    peak_at = np.maximum.accumulate(at_peak)[len(at_peak) - len(traded) :]
    falls = peaks - traded
    deepest = int(np.argmax(falls))
    if start is not None and not falls[deepest] > start.deepest:
        trough = start.deepest, start.trough, start.trough_value
        trough_peak = start.trough_peak, start.trough_peak_value
    else:
        trough = falls[deepest], offset + deepest, traded[deepest]
        trough_peak = int(peak_at[deepest]), peaks[deepest]
    return Fall(
        peak=peaks[-1],
        peak_at=int(peak_at[-1]),
        deepest=trough[0],
        trough=trough[1],
        trough_value=trough[2],
        trough_peak=trough_peak[0],
        trough_peak_value=trough_peak[1],
        last=traded[-1],
    )


def _drawdown(folded: EquityFold) -> Drawdown | None:
    """The drawdown of the whole curve, as `drawdown` of its equity less outside changes."""
    fall = folded.fall
    if fall is None:
        return None
    fell = fall.deepest > 0
    current = fall.peak - fall.last
    return Drawdown(
        max_abs=fall.deepest,
        max_pct=pct_of(fall.deepest, fall.trough_peak_value),
        peak_at=datetime_of(folded.times[fall.trough_peak]) if fell else None,
        peak_equity=fall.trough_peak_value if fell else None,
        trough_at=datetime_of(folded.times[fall.trough]) if fell else None,
        trough_equity=fall.trough_value if fell else None,
        current_abs=current,
        current_pct=pct_of(current, fall.peak),
        current_peak_at=datetime_of(folded.times[fall.peak_at]),
    )
