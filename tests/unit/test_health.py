"""Sync health over a window, on small records whose answers are worked out by hand in the
comments: success rates, percentiles, corrective orders, drift and its repair, buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.insights.choices import parse_window
from core.insights.health import (
    NO_DRIFT,
    NO_ORDERS,
    NO_RUNS,
    OBSERVATION_COLUMNS,
    ORDER_COLUMNS,
    RUN_COLUMNS,
    CorrectiveOrders,
    DriftStats,
    OpenDrift,
    RunStats,
    bucket_for,
    compute_health,
)

D = Decimal
PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None)
T0 = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
MIN = timedelta(minutes=1)
ETH, BTC = "ETH/USDT", "BTC/USDT"


def run(run_id, account, kind, symbol, ok, minutes, duration_ms, api_calls):
    started = T0 + minutes * MIN
    finished = started + timedelta(milliseconds=duration_ms)
    return (run_id, account, kind, symbol, ok, started, finished, duration_ms, api_calls)


RUNS = pd.DataFrame(
    [
        run(0, "main", "check", None, True, -120, 50, 3),  # before the window
        run(9, "idle", "check", None, False, -180, 80, 3),  # before the window, failed
        run(1, "main", "check", None, True, 0, 100, 3),
        run(2, "main", "check", None, True, 10, 200, 3),
        run(3, "main", "trade", ETH, True, 20, 400, 7),
        run(4, "main", "check", None, False, 30, 300, 3),
        run(5, "main", "trade", ETH, False, 40, 1000, 9),
        run(7, "alt", "monitor", None, True, 50, 150, 4),
        run(8, "alt", "check", None, True, 55, 250, 2),
        run(6, "alt", "stop", ETH, True, 58, 500, 5),
        run(10, "main", "check", None, True, 61, 100, 3),  # after now: not known yet
    ],
    columns=list(RUN_COLUMNS),
)
# In the window [T0, T0 + 1h]: runs 1-8, 6 of them ok (4 and 5 failed).


def observe(account, symbol, minutes, in_sync):
    return (0, T0 + minutes * MIN, account, symbol, in_sync)


OBSERVATIONS = pd.DataFrame(
    [
        observe("main", ETH, -30, True),
        observe("main", ETH, 5, False),  # event A starts
        observe("main", ETH, 10, False),
        observe("main", ETH, 15, True),  # A repaired after 10 min
        observe("main", ETH, 25, False),  # event B starts
        observe("main", ETH, 45, True),  # B repaired after 20 min
        observe("main", ETH, 50, False),  # event C starts, still open at now (10 min old)
        observe("main", ETH, 70, True),  # after now: not known yet
        observe("main", BTC, -90, False),  # event D starts: the first observation drifts
        observe("main", BTC, -70, True),  # D repaired after 20 min, before the window
        observe("main", BTC, -20, False),  # event E starts before the window...
        observe("main", BTC, 2, False),
        observe("main", BTC, 8, True),  # ...and is repaired inside it, after 28 min
    ],
    columns=list(OBSERVATION_COLUMNS),
)


def order(account, symbol, reason, minutes, status="filled", side="buy"):
    return (account, symbol, side, reason, T0 + minutes * MIN, status)


ORDERS = pd.DataFrame(
    [
        order("main", ETH, "manual", 20),
        order("main", ETH, "enforce", 31),
        order("main", BTC, "enforce", 35, status="canceled"),
        order("alt", ETH, "stop", 58, side="sell"),
        order("main", ETH, "flatten", -120, side="sell"),  # before the window
        order("main", ETH, "manual", 40, status="intent"),  # unresolved
        order("alt", BTC, "protect", -300, status="unknown"),  # unresolved, long ago
    ],
    columns=list(ORDER_COLUMNS),
)


def report(since=T0):
    return compute_health(RUNS, OBSERVATIONS, ORDERS, NOW, since)


# --- windows --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("1h", timedelta(hours=1)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("30m", timedelta(minutes=30)),
        ("90s", timedelta(seconds=90)),
        (" 2W ", timedelta(weeks=2)),
        ("all", None),
        ("ALL", None),
    ],
)
def test_parse_window(text, window):
    assert parse_window(text) == window


@pytest.mark.parametrize("text", ["abc", "", "h", "1", "1.5h", "-1h", "1y", "1h30m", "1 h"])
def test_parse_window_refuses_what_is_not_a_duration(text):
    with pytest.raises(ValueError) as refused:
        parse_window(text)
    assert str(refused.value) == (
        f"--since takes a duration such as 1h, 24h, 7d or all, not {text!r}"
    )


def test_parse_window_refuses_zero_and_absurd_lengths():
    with pytest.raises(ValueError, match=r"longer than zero, not '0h'"):
        parse_window("0h")
    with pytest.raises(ValueError, match=r"at most 3650d \(or all\), not '99999d'"):
        parse_window("99999d")
    with pytest.raises(ValueError, match=r"at most 3650d"):
        parse_window("9" * 40 + "w")  # would overflow a timedelta
    assert parse_window("3650d") == timedelta(days=3650)


@pytest.mark.parametrize(
    ("window", "bucket"),
    [
        (timedelta(minutes=30), timedelta(minutes=5)),
        (timedelta(hours=1), timedelta(minutes=5)),
        (timedelta(hours=2), timedelta(hours=1)),
        (timedelta(hours=24), timedelta(hours=1)),
        (timedelta(days=7), timedelta(hours=6)),
        (timedelta(days=8), timedelta(days=1)),
        (None, timedelta(days=1)),
    ],
)
def test_bucket_for(window, bucket):
    assert bucket_for(window) == bucket


# --- runs -----------------------------------------------------------------------------


def test_success_rate_durations_and_calls_over_the_window():
    # runs 1-8: durations 100 150 200 250 300 400 500 1000 (sorted), calls 3 3 7 3 9 4 2 5
    assert report().runs == RunStats(
        runs=8,
        ok=6,
        failed=2,
        success_pct=D("75"),  # 6 / 8
        duration_p50_ms=250,  # nearest rank: the 4th of 8
        duration_p95_ms=1000,  # the 8th of 8 (0.95 x 8 = 7.6, rounded up)
        api_calls_mean=D("4.5"),  # 36 / 8
        api_calls_max=9,
    )


def test_figures_per_kind():
    by_kind = report().by_kind
    assert list(by_kind) == ["check", "monitor", "stop", "trade"]
    # checks 1, 2, 4, 8: durations 100 200 250 300, calls 3 3 3 2
    assert by_kind["check"] == RunStats(4, 3, 1, D("75"), 200, 300, D("2.75"), 3)
    # trades 3 and 5: durations 400 1000, calls 7 and 9
    assert by_kind["trade"] == RunStats(2, 1, 1, D("50"), 400, 1000, D("8"), 9)
    assert by_kind["stop"] == RunStats(1, 1, 0, D("100"), 500, 500, D("5"), 5)
    assert by_kind["monitor"] == RunStats(1, 1, 0, D("100"), 150, 150, D("4"), 4)


def test_figures_per_account():
    accounts = {a.account: a for a in report().accounts}
    assert list(accounts) == ["alt", "idle", "main"]
    main = accounts["main"]
    # runs 1-5: 3 ok; durations 100 200 300 400 1000; calls 3 3 7 3 9
    assert main.runs == RunStats(5, 3, 2, D("60"), 300, 1000, D("5"), 9)
    # the last good sync is trade 3 (checks 4 and trade 5 failed), done 400 ms after minute 20
    assert main.last_good_sync_at == T0 + 20 * MIN + timedelta(milliseconds=400)
    assert main.since_last_good_sync == timedelta(minutes=39, seconds=59, milliseconds=600)
    assert main.unresolved_orders == 1  # the manual intent at minute 40
    alt = accounts["alt"]
    assert (alt.runs.runs, alt.runs.ok, alt.runs.success_pct) == (3, 3, D("100"))
    # a stop is no sync: alt's last good sync is check 8 (minute 55 + 250 ms), not stop 6
    assert alt.last_good_sync_at == T0 + 55 * MIN + timedelta(milliseconds=250)
    assert alt.unresolved_orders == 1  # unresolved whatever the window: it is a state
    idle = accounts["idle"]
    assert idle.runs == NO_RUNS  # its one run is before the window
    assert idle.last_good_sync_at is idle.since_last_good_sync is None  # it never succeeded
    assert (idle.corrective, idle.drift, idle.unresolved_orders) == (NO_ORDERS, NO_DRIFT, 0)


def test_figures_per_account_and_symbol():
    symbols = {(s.account, s.symbol): s for s in report().symbols}
    assert list(symbols) == [("alt", BTC), ("alt", ETH), ("main", BTC), ("main", ETH)]
    main_eth = symbols[("main", ETH)]
    assert (main_eth.runs.runs, main_eth.runs.ok, main_eth.runs.success_pct) == (2, 1, D("50"))
    assert main_eth.corrective == CorrectiveOrders(1, {"enforce": 1})
    assert symbols[("alt", ETH)].corrective == CorrectiveOrders(1, {"stop": 1})
    assert symbols[("alt", BTC)].runs == NO_RUNS  # known only from an old order


def test_durations_for_the_histogram_are_the_window_runs():
    assert sorted(report().durations_ms) == [100, 150, 200, 250, 300, 400, 500, 1000]


# --- orders ---------------------------------------------------------------------------


def test_corrective_orders_are_every_order_not_asked_for_by_hand():
    health = report()
    # in the window: enforce (31), enforce (35), stop (58); the manual ones do not count
    assert health.corrective == CorrectiveOrders(3, {"enforce": 2, "stop": 1})
    accounts = {a.account: a for a in health.accounts}
    assert accounts["main"].corrective == CorrectiveOrders(2, {"enforce": 2})
    assert health.unresolved_orders == 2
    # over all time the flatten and the protect order count too
    everything = report(since=None).corrective
    assert everything == CorrectiveOrders(5, {"enforce": 2, "flatten": 1, "protect": 1, "stop": 1})


# --- drift ----------------------------------------------------------------------------


def test_drift_events_and_time_to_repair_in_the_window():
    health = report()
    # A (10 min), B (20 min), C (open, 10 min old) and E (28 min, begun before the window
    # but repaired in it); D was over before the window began
    assert health.drift == DriftStats(
        events=4,
        open=1,
        repaired=3,
        repair_median=timedelta(minutes=20),  # of 10, 20, 28
        repair_max=timedelta(minutes=28),
        open_age_max=timedelta(minutes=10),
    )
    assert health.open_drift == (OpenDrift("main", ETH, T0 + 50 * MIN, timedelta(minutes=10)),)
    symbols = {(s.account, s.symbol): s.drift for s in health.symbols}
    # ETH: A 10 and B 20 repaired, median (10 + 20) / 2
    assert symbols[("main", ETH)] == DriftStats(
        3, 1, 2, timedelta(minutes=15), timedelta(minutes=20), timedelta(minutes=10)
    )
    assert symbols[("main", BTC)] == DriftStats(
        1, 0, 1, timedelta(minutes=28), timedelta(minutes=28), None
    )


def test_drift_over_all_time():
    # A 10, B 20, D 20, E 28 repaired: median (20 + 20) / 2; C open
    assert report(since=None).drift == DriftStats(
        5, 1, 4, timedelta(minutes=20), timedelta(minutes=28), timedelta(minutes=10)
    )


# --- charts ---------------------------------------------------------------------------


def test_series_in_five_minute_buckets_for_one_hour():
    health = report()
    assert health.bucket == timedelta(minutes=5)
    series = health.series
    # T0, T0 + 5 min, ... T0 + 60 min: 13 buckets, the last one holding `now` itself
    assert [b.start for b in series] == [T0 + 5 * i * MIN for i in range(13)]
    busy = {(b.start - T0) // MIN: (b.runs, b.ok, b.success_pct) for b in series if b.runs}
    assert busy == {
        0: (1, 1, D("100")),  # run 1
        10: (1, 1, D("100")),  # run 2
        20: (1, 1, D("100")),  # run 3
        30: (1, 0, D("0")),  # run 4 failed
        40: (1, 0, D("0")),  # run 5 failed
        50: (1, 1, D("100")),  # run 7
        55: (2, 2, D("100")),  # run 8 at 55, stop 6 at 58
    }
    assert all(b.success_pct is None for b in series if not b.runs)
    # drift starts: A at 5, B at 25, C at 50 (E began before the window: no bar for it)
    drift = {(b.start - T0) // MIN: b.drift_events for b in series if b.drift_events}
    assert drift == {5: 1, 25: 1, 50: 1}


def test_series_over_all_time_in_days():
    health = report(since=None)
    assert health.bucket == timedelta(days=1)
    # every record falls on 2024-03-04 (from 09:00 to 13:00): one daily bucket
    day = datetime(2024, 3, 4, tzinfo=UTC)
    assert [(b.start, b.runs, b.ok, b.drift_events) for b in health.series] == [(day, 10, 7, 5)]


def test_day_long_window_buckets_by_the_hour():
    health = report(since=NOW - timedelta(hours=24))
    assert health.bucket == timedelta(hours=1)
    assert len(health.series) == 25  # from 13:00 the day before to 13:00 inclusive
    assert health.series[0].start == NOW - timedelta(hours=24)
    assert sum(b.runs for b in health.series) == 10  # runs 0-9; run 10 is after now


# --- empty inputs ---------------------------------------------------------------------


@pytest.mark.parametrize("since", [None, T0])
def test_empty_inputs_give_an_empty_report(since):
    for runs, observations, orders in (
        (
            pd.DataFrame(columns=list(RUN_COLUMNS)),
            pd.DataFrame(columns=list(OBSERVATION_COLUMNS)),
            pd.DataFrame(columns=list(ORDER_COLUMNS)),
        ),
        (pd.DataFrame(), pd.DataFrame(), pd.DataFrame()),
    ):
        health = compute_health(runs, observations, orders, NOW, since)
        assert (health.runs, health.corrective, health.drift) == (NO_RUNS, NO_ORDERS, NO_DRIFT)
        assert health.by_kind == {}
        assert (health.open_drift, health.accounts, health.symbols) == ((), (), ())
        assert (health.series, health.durations_ms, health.unresolved_orders) == ((), (), 0)


def test_a_window_with_nothing_in_it_has_no_series():
    health = compute_health(
        RUNS, OBSERVATIONS, ORDERS, T0 - timedelta(hours=5), T0 - timedelta(hours=6)
    )
    assert (health.runs, health.series) == (NO_RUNS, ())
    assert [a.account for a in health.accounts] == ["alt"]  # only the old protect order is known


# --- property: the vectorized drift events are the ones a plain walk finds ----------------

observations = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from([ETH, BTC]), st.booleans()),
    max_size=40,
)


def walked_drift(rows) -> tuple[int, int, list[timedelta]]:
    """Events, open events and the sorted times to repair, walking each pair's observations."""
    events, still_open, repairs = 0, 0, []
    for pair in {(account, symbol) for account, symbol, _, _ in rows}:
        started = None
        for account, symbol, when, in_sync in rows:
            if (account, symbol) != pair:
                continue
            if not in_sync and started is None:
                events, started = events + 1, when
            elif in_sync and started is not None:
                repairs.append(when - started)
                started = None
        still_open += started is not None
    return events, still_open, sorted(repairs)


@PROPS
@given(observations)
def test_drift_events_match_a_walk_through_the_observations(planned):
    rows = [(a, s, T0 + i * MIN, in_sync) for i, (a, s, in_sync) in enumerate(planned)]
    frame = pd.DataFrame(
        [(0, when, a, s, in_sync) for a, s, when, in_sync in reversed(rows)],  # any order
        columns=list(OBSERVATION_COLUMNS),
    )
    no_runs, no_orders = pd.DataFrame(), pd.DataFrame()
    drift = compute_health(no_runs, frame, no_orders, T0 + 60 * MIN).drift
    events, still_open, repairs = walked_drift(rows)
    assert (drift.events, drift.open, drift.repaired) == (events, still_open, len(repairs))
    assert drift.repair_max == (repairs[-1] if repairs else None)
    if repairs:
        middle = len(repairs) // 2
        median = (
            repairs[middle] if len(repairs) % 2 else (repairs[middle - 1] + repairs[middle]) / 2
        )
        assert drift.repair_median == median
