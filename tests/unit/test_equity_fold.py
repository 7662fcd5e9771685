"""The equity curve fold (core.insights.equity_fold): however the snapshots and the changes
outside the app arrive (in batches, several accounts, equal times, a clock set back, a
change dated among the points folded), the fold and any window of it show what working out
the whole curve again shows: the same drawdown and the same chart points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import ZERO
from core.insights.equity_fold import CHART_POINTS, EquityFold, chart_points, curve, fold
from core.insights.results import drawdown, net_of_outside, ns_of, traded_curve

D = Decimal
T0 = datetime(2025, 1, 27, 22, 0, tzinfo=UTC)
PROPS = settings(max_examples=60, deadline=None, derandomize=True, database=None)
COLUMNS = ["id", "account", "time", "equity"]


def combined(snapshots: pd.DataFrame) -> pd.DataFrame:
    """The reference curve, as the service worked it out before the fold: at each snapshot
    in (time, id) order, the sum of every account's latest equity."""
    latest, points = {}, []
    for account, time, equity in snapshots[["account", "time", "equity"]].itertuples(index=False):
        latest[account] = equity
        points.append((time, sum(latest.values(), ZERO) if len(latest) > 1 else equity))
    return pd.DataFrame(points, columns=["time", "equity"])


def whole(snapshots: pd.DataFrame, outside: pd.DataFrame, since: datetime | None):
    """The curve's drawdown and points worked out from every snapshot."""
    reference = combined(snapshots.sort_values(["time", "id"]))
    if since is not None:
        reference = reference[reference["time"] >= since]
    reference = net_of_outside(reference, outside)
    times = np.array([ns_of(t) for t in reference["time"]], np.int64)
    return (
        drawdown(traded_curve(reference)),
        chart_points(times, reference["equity"].to_numpy(object)),
        chart_points(times, reference["traded"].to_numpy(object)),
    )


snapshot_plans = st.lists(
    st.tuples(
        st.sampled_from(["a", "a", "a", "b", "c"]),
        st.integers(-3, 4),  # minutes after the last one: 0 the same time, below it set back
        st.integers(-500, 5_000),  # the equity in cents
        st.integers(0, 3),  # the batch it is read in, after the one before
    ),
    min_size=1,
    max_size=40,
)
move_plans = st.lists(
    st.tuples(st.integers(-5, 80), st.integers(-3_000, 3_000), st.integers(0, 12)),
    max_size=6,
)  # (minute after T0, value in cents, the read it is first seen in)


def frames(snapshot_plan, move_plan):
    rows, minute, reads, read = [], 0, [], 0
    for number, (account, step, cents, later) in enumerate(snapshot_plan, start=1):
        minute += step
        rows.append((number, account, T0 + timedelta(minutes=minute), D(cents) / 100))
        read += later
        reads.append(read)
    snapshots = pd.DataFrame(rows, columns=COLUMNS)
    moves = pd.DataFrame(
        [(T0 + timedelta(minutes=m), D(cents) / 100, seen) for m, cents, seen in move_plan],
        columns=["time", "value", "seen"],
    )
    return snapshots, np.array(reads), moves


@PROPS
@given(snapshot_plans, move_plans, st.integers(0, 60))
def test_the_fold_shows_what_the_whole_curve_shows_however_it_arrives(
    snapshot_plan, move_plan, window_minute
):
    snapshots, reads, moves = frames(snapshot_plan, move_plan)
    folded, done = EquityFold(), 0
    for read in sorted(set(reads) | set(moves["seen"])):  # a read may find only a change
        upto = int(np.searchsorted(reads, read, side="right"))
        outside = moves[moves["seen"] <= read][["time", "value"]]
        so_far = snapshots.iloc[:upto]
        new = snapshots.iloc[done:upto].sort_values(["time", "id"])
        grown = fold(folded, new, upto, outside)
        if grown is None:
            grown = fold(EquityFold(), so_far.sort_values(["time", "id"]), upto, outside)
        folded, done = grown, upto
        assert tuple(curve(folded, outside)) == whole(so_far, outside, None)
        since = T0 + timedelta(minutes=window_minute)
        start = folded.start_of(since)
        assert tuple(curve(folded, outside, start)) == whole(so_far, outside, since)
    assert folded.snapshots == len(snapshots) and folded.last_id == len(snapshots)


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def snapshots_of(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        [(n, a, at(m), D(e)) for n, (a, m, e) in enumerate(rows, start=1)], columns=COLUMNS
    )


NO_MOVES = pd.DataFrame(columns=["time", "value"])


def test_several_accounts_make_one_curve_of_their_latest_equities():
    snapshots = snapshots_of(("a", 0, "100"), ("b", 1, "50"), ("a", 2, "90"), ("b", 3, "70.5"))
    folded = fold(EquityFold(), snapshots, 4, NO_MOVES)
    assert [value for _, value in curve(folded, NO_MOVES).equity] == [
        D("100"),
        D("150"),
        D("140"),
        D("160.5"),
    ]
    assert folded.latest == {"a": D("90"), "b": D("70.5")}


def test_a_snapshot_before_the_last_point_or_a_change_among_the_points_asks_for_a_refold():
    folded = fold(EquityFold(), snapshots_of(("a", 0, "100"), ("a", 10, "90")), 2, NO_MOVES)
    assert fold(folded, snapshots_of(("a", 5, "95")), 3, NO_MOVES) is None
    moved = pd.DataFrame({"time": [at(5)], "value": [D("-20")]})
    assert fold(folded, snapshots_of(("a", 20, "95")), 3, moved) is None
    assert fold(folded, snapshots_of(), 2, moved) is None  # seen before a new snapshot too
    later = pd.DataFrame({"time": [at(15)], "value": [D("-20")]})
    grown = fold(folded, snapshots_of(("a", 20, "75")), 3, later)
    assert grown is not None and grown.moves == 1
    # the withdrawal of 20 is no loss: what trading made fell by 10, then not at all
    assert curve(grown, later).drawdown.max_abs == D("10")


def test_a_long_curve_is_thinned_for_the_chart_and_keeps_its_last_point():
    length = 5 * CHART_POINTS + 3
    times = np.array([ns_of(at(i)) for i in range(length)], np.int64)
    points = chart_points(times, np.array([D(i) for i in range(length)], object))
    assert len(points) <= CHART_POINTS + 1
    assert points[0] == (at(0), D(0))
    assert points[-1] == (at(length - 1), D(length - 1))
    assert all(isinstance(value, Decimal) for _, value in points)
    assert chart_points(times[:0], np.empty(0, object)) == ()
