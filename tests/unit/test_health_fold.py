"""The folded sync health (core.insights.health_fold) answers what the full computation
(core.insights.health.compute_health) answers: on random histories of runs, their
observations and orders, folded in random batches as they are appended (runs recorded out
of order included, which start the fold again from the first run), for every account and
for each of them, over windows from minutes to all."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core.insights import health_fold
from core.insights.health import OBSERVATION_COLUMNS, ORDER_COLUMNS, RUN_COLUMNS, compute_health
from core.insights.health_fold import HealthFold
from tests.unit.test_health import T0

PROPS = settings(max_examples=60, deadline=None, derandomize=True, database=None)
ACCOUNTS = ["main", "alt"]
SYMBOLS = ["ETH/USDT", "BTC/USDT", "SOL/USDT"]
KINDS = ["check", "trade", "monitor", "stop", "flatten"]
WINDOWS = [None, timedelta(minutes=7), timedelta(hours=1), timedelta(hours=6)]


@st.composite
def histories(draw):
    """Runs in id order, each finishing after it started; most start after the one before,
    some before it (recorded out of order); each observes some symbols, in sync or not (a
    drift now and then, with ties in time); orders of any reason and status; and the cuts
    at which the fold is asked again (appends in between)."""
    runs, observations, orders = [], [], []
    minute = 0
    for run_id in range(1, draw(st.integers(0, 40)) + 1):
        minute += draw(st.sampled_from([0, 1, 2, 5, 30, -3]))
        started = T0 + timedelta(minutes=minute, seconds=draw(st.integers(0, 59)))
        duration = draw(st.integers(1, 5000))
        finished = started + timedelta(milliseconds=duration)
        account = draw(st.sampled_from(ACCOUNTS))
        kind = draw(st.sampled_from(KINDS))
        symbol = None if kind in ("check", "monitor") else draw(st.sampled_from(SYMBOLS))
        runs.append(
            (
                run_id,
                account,
                kind,
                symbol,
                draw(st.booleans()),
                started,
                finished,
                duration,
                draw(st.integers(0, 12)),
            )
        )
        for seen in draw(st.lists(st.sampled_from(SYMBOLS), unique=True, max_size=3)):
            in_sync = draw(st.sampled_from([True, True, False]))
            observations.append((run_id, finished, account, seen, in_sync))
    for _ in range(draw(st.integers(0, 6))):
        orders.append(
            (
                draw(st.sampled_from(ACCOUNTS)),
                draw(st.sampled_from(SYMBOLS)),
                draw(st.sampled_from(["buy", "sell"])),
                draw(st.sampled_from(["manual", "enforce", "stop", "flatten"])),
                T0 + timedelta(minutes=draw(st.integers(-60, 300))),
                draw(st.sampled_from(["filled", "intent", "unknown", "cancelled"])),
            )
        )
    cuts = sorted(draw(st.lists(st.integers(0, len(runs)), max_size=4)))
    return runs, observations, orders, cuts


def frames(runs, observations, up_to: int, after: int = 0, coded: bool = False):
    """The runs with an id in (after, up_to] and their observations, as the store reads them
    (`coded`: the observations' account and symbol as categoricals, each batch with codes
    of its own, as core.store.analytics.run_frames reads them)."""
    chosen = [r for r in runs if after < r[0] <= up_to]
    ids = {r[0] for r in chosen}
    seen = pd.DataFrame([o for o in observations if o[0] in ids], columns=OBSERVATION_COLUMNS)
    if coded:
        seen = seen.astype({"account": "category", "symbol": "category"})
    return pd.DataFrame(chosen, columns=list(RUN_COLUMNS)), seen


def folded_in_batches(runs, observations, cuts, coded: bool = False) -> HealthFold:
    """Folded as the service folds: each batch after the watermark; from the first run
    again when a batch came out of order."""
    current = HealthFold()
    for cut in [*cuts, len(runs)]:
        batch = frames(runs, observations, cut, current.last_run_id, coded)
        grown = health_fold.fold(current, *batch)
        current = (
            grown
            if grown is not None
            else health_fold.fold(HealthFold(), *frames(runs, observations, cut, coded=coded))
        )
    return current


@PROPS
@given(histories(), st.booleans())
def test_the_fold_answers_what_the_full_computation_answers(history, coded):
    runs, observations, orders, cuts = history
    current = folded_in_batches(runs, observations, cuts, coded)
    run_frame, seen_frame = frames(runs, observations, len(runs), coded=coded)
    order_frame = pd.DataFrame(orders, columns=list(ORDER_COLUMNS))
    latest = max([r[6] for r in runs], default=T0)
    now = latest + timedelta(minutes=3)
    for account in [None, *ACCOUNTS]:

        def mine(frame, account=account):
            return frame if account is None else frame[frame["account"] == account]

        for window in WINDOWS:
            since = None if window is None else now - window
            expected = compute_health(
                mine(run_frame), mine(seen_frame), mine(order_frame), now, since
            )
            got = health_fold.report(current, mine(order_frame), now, since, account)
            assert got == expected, (account, window)


@PROPS
@given(histories())
def test_a_fold_from_the_first_run_equals_the_fold_in_batches(history):
    """Only when no batch came out of order; otherwise both started from the first run."""
    runs, observations, _, cuts = history
    whole = health_fold.fold(HealthFold(), *frames(runs, observations, len(runs)))
    batched = folded_in_batches(runs, observations, cuts)
    assert batched.last_run_id == whole.last_run_id
    assert batched.open == whole.open and batched.last == whole.last
    assert batched.runs.equals(whole.runs)
    key = ["account", "symbol", "start", "end"]
    assert (
        batched.events.sort_values(key)
        .reset_index(drop=True)
        .equals(whole.events.sort_values(key).reset_index(drop=True))
    )


def test_a_record_after_now_leaves_the_report_to_the_full_computation():
    runs = [(1, "main", "check", None, True, T0, T0 + timedelta(seconds=1), 1000, 3)]
    current = health_fold.fold(HealthFold(), *frames(runs, [], 1))
    orders = pd.DataFrame(columns=list(ORDER_COLUMNS))
    assert health_fold.report(current, orders, T0) is None
    assert health_fold.report(current, orders, T0 + timedelta(seconds=1)).runs.runs == 1


def test_a_run_observing_a_symbol_before_the_folds_latest_observation_of_it_is_refused():
    first = [(1, "main", "check", None, True, T0, T0, 5, 3)]
    late = [(2, "main", "check", None, True, T0, T0 - timedelta(seconds=1), 5, 3)]
    current = health_fold.fold(
        HealthFold(),
        pd.DataFrame(first, columns=list(RUN_COLUMNS)),
        pd.DataFrame([(1, T0, "main", "ETH/USDT", False)], columns=list(OBSERVATION_COLUMNS)),
    )
    after = health_fold.fold(
        current,
        pd.DataFrame(late, columns=list(RUN_COLUMNS)),
        pd.DataFrame(
            [(2, T0 - timedelta(seconds=1), "main", "ETH/USDT", True)],
            columns=list(OBSERVATION_COLUMNS),
        ),
    )
    assert current.open == {("main", "ETH/USDT"): health_fold.ns_of(T0)}
    assert after is None
