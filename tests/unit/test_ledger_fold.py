"""The ledger fold: however the ledger arrives (one entry at a time, in batches, with entries
dated before others already folded, with dust that changes), the report of the fold is the
report of the whole ledger worked out at once, and so are the running realized PnL and fees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.insights.ledger_fold import LedgerFold, compute_results, fold, report
from core.insights.results import ENTRY_COLUMNS, booked, summarize

D = Decimal
T0 = datetime(2024, 3, 1, 23, 0, tzinfo=UTC)  # an hour before a day ends: trips close on both
NOW = T0 + timedelta(days=3)
PROPS = settings(max_examples=150, deadline=None, derandomize=True, database=None)

PAIRS = [("main", "ETH/USDT"), ("main", "BTC/USDT"), ("alt", "ETH/USDT"), ("main", "USDT")]
SIDES = {"buy": 4, "sell": 4, "in": 1, "out": 1}
entry_plans = st.tuples(
    st.sampled_from(PAIRS),
    st.sampled_from([side for side, weight in SIDES.items() for _ in range(weight)]),
    st.integers(1, 3_000),  # quantity in thousandths: 0.001 is within ETH's dust below
    st.integers(90, 110),  # price
    st.booleans(),  # fee paid in the base asset
    st.integers(-5, 60),  # minutes after the pair's entry before (negative: dated earlier)
    st.integers(-500, 500),  # realized, in hundredths
)
ledgers = st.lists(entry_plans, min_size=1, max_size=40)
cuts = st.lists(st.integers(0, 40), max_size=6)
DUSTS = [{}, {"ETH/USDT": D("0.002")}]


def frame_of(plans) -> pd.DataFrame:
    """The entries planned, in the order recorded. Each pair has its own clock (its entries
    are recorded under its lock, as a rule in time order), and the pairs' clocks start hours
    apart: a pair's entry recorded after another's is often dated before it."""
    rows, clocks = [], {pair: T0 + timedelta(hours=3 * n) for n, pair in enumerate(PAIRS)}
    for n, (pair, side, units, price, base_fee, minutes, realized) in enumerate(plans):
        account, symbol = pair
        clocks[pair] += timedelta(minutes=minutes)
        qty, price = D(units) / 1000, D(price)
        fee = qty / 1000 if base_fee else qty * price / 1000
        fee_asset = symbol.split("/")[0] if base_fee else "USDT"
        fee_quote = fee * price if base_fee else fee
        if side in ("in", "out"):  # a transfer pays no fee
            fee = fee_quote = D(0)
        realized = D(realized) / 100
        row = (account, symbol, side, qty, price, fee, fee_asset, fee_quote, clocks[pair])
        rows.append((*row, None, f"e{n}", realized))
    return pd.DataFrame(rows, columns=list(ENTRY_COLUMNS))


def folded_in_batches(entries: pd.DataFrame, cuts: list[int], dusts) -> LedgerFold:
    """What the service keeps: each batch folded into the fold before it, and the whole
    ledger so far folded from the first entry when the fold says only that can be right."""
    folded, done = LedgerFold(), 0
    bounds = sorted({min(cut, len(entries)) for cut in cuts} | {len(entries)})
    for number, bound in enumerate(bounds):
        dust = dusts[number % len(dusts)]
        batch = entries.iloc[done:bound]
        again = fold(folded, batch, bound, dust)
        folded = (
            again if again is not None else fold(LedgerFold(), entries.iloc[:bound], bound, dust)
        )
        done = bound
    return folded


@PROPS
@given(ledgers, cuts, st.sampled_from([DUSTS[:1], DUSTS[1:], DUSTS]))
def test_a_fold_in_batches_reports_what_the_whole_ledger_does(plans, cuts, dusts):
    entries = frame_of(plans)
    folded = folded_in_batches(entries, cuts, dusts)
    last_dust = dusts[(len({min(c, len(entries)) for c in cuts} | {len(entries)}) - 1) % len(dusts)]
    assert report(folded, NOW) == compute_results(entries, None, NOW, last_dust)
    whole = booked(entries)
    assert list(folded.booked.times) == list(whole.times)
    assert list(folded.booked.realized) == list(whole.realized)
    assert list(folded.booked.fees) == list(whole.fees)
    assert folded.entries == len(entries)


def test_one_entry_at_a_time_carries_an_open_trip_across_folds():
    """A trip opened in one fold, added to and partly taken out in the next ones and closed
    in the last: one trip, its sums those of all its entries, its opening the first's."""
    plans = [
        (("main", "ETH/USDT"), "buy", 1_000, 100, True, 0, 0),
        (("main", "ETH/USDT"), "buy", 1_000, 110, False, 5, 0),
        (("main", "ETH/USDT"), "out", 500, 0, False, 5, 0),
        (("main", "ETH/USDT"), "sell", 1_499, 120, False, 5, 2_500),
    ]
    entries = frame_of(plans)
    folded = LedgerFold()
    for number in range(len(entries)):
        folded = fold(folded, entries.iloc[number : number + 1], number + 1, {})
        assert folded is not None
        assert len(folded.trips) == (1 if number == 3 else 0)
    [trip] = folded.trips
    assert (trip.opened_at, trip.fills) == (T0, 4)
    assert report(folded, NOW) == compute_results(entries, None, NOW)
    assert np.sum(entries["realized"]) == folded.booked.after(0)[0] == D(25)


def test_an_entry_dated_before_its_pairs_last_or_a_changed_dust_asks_for_a_fold_from_the_start():
    entries = frame_of(
        [
            (("main", "ETH/USDT"), "buy", 1_000, 100, True, 0, 0),
            (("main", "ETH/USDT"), "sell", 999, 100, False, 10, 0),
            (("main", "ETH/USDT"), "buy", 1_000, 100, True, -5, 0),
        ]
    )
    start = fold(LedgerFold(), entries.iloc[:2], 2, {})
    assert fold(start, entries.iloc[2:], 3, {}) is None
    assert fold(start, entries.iloc[2:3].assign(time=NOW), 3, {"ETH/USDT": D("0.01")}) is None
    assert fold(start, entries.iloc[2:3].assign(time=NOW), 3, {}) is not None


def test_a_trip_closed_before_trips_already_folded_takes_its_place():
    """Another market's trip recorded later but closed earlier (and a day before) than the
    trips folded: it goes before them, and the days from its own on are added up again."""
    entries = frame_of(
        [
            (("main", "ETH/USDT"), "buy", 1_000, 100, False, 0, 0),
            (("main", "ETH/USDT"), "sell", 1_000, 120, False, 90, 0),  # the next day
            (("main", "ETH/USDT"), "buy", 1_000, 100, False, 10, 0),
            (("main", "ETH/USDT"), "sell", 1_000, 90, False, 10, 0),
            (("main", "BTC/USDT"), "buy", 1_000, 100, False, -150, 0),  # the day before
            (("main", "BTC/USDT"), "sell", 1_000, 130, False, 20, 0),
        ]
    )
    folded = fold(fold(LedgerFold(), entries.iloc[:4], 4, {}), entries.iloc[4:], 6, {})
    assert [trip.symbol for trip in folded.trips] == ["BTC/USDT", "ETH/USDT", "ETH/USDT"]
    assert report(folded, NOW) == compute_results(entries, None, NOW)
    assert [day.trips for day in report(folded, NOW).overall.daily] == [1, 2]


def test_the_closed_trips_read_as_a_tuple_of_round_trips():
    """The fold keeps its trips as columns; read by number, from the end, by slice, from a
    moment on or all at once, they are the RoundTrips the full computation builds."""
    plans = [
        (("main", "ETH/USDT"), side, 1_000, 100 + n, False, 30, 0)
        for n, side in enumerate(["buy", "sell"] * 3)
    ]
    trips = fold(LedgerFold(), frame_of(plans), 6, {}).trips
    built = tuple(trips)
    assert len(built) == 3 and trips == built and trips[-1] == built[2] == trips[2]
    assert trips[1:] == built[1:] and trips[5:] == ()
    assert trips.since(built[1].closed_at) == built[1:]
    assert trips[1:].summarized() == summarize(built[1:])  # from the columns
    with pytest.raises(IndexError):
        trips[3]
