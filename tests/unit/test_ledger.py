"""Ledgers with changes made outside the app, worked by hand: what a transfer does to the
average-cost book (core.pnl) and to Results' round trips (core.insights.results), and the
realized PnL of a window. A transfer is never trading PnL. (What each entry realized is
written by the store: tests/integration/test_ledger_replay.py works those by hand.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.insights.ledger_fold import compute_results
from core.insights.results import (
    ENTRY_COLUMNS,
    EQUITY_COLUMNS,
    OUTSIDE_COLUMNS,
    booked,
    net_of_outside,
    realized_since,
    traded_curve,
)
from core.pnl import PositionBook, apply_transfer

D = Decimal
NOW = datetime(2024, 4, 3, 12, 0, tzinfo=UTC)
NO_EQUITY = pd.DataFrame(columns=list(EQUITY_COLUMNS))
ETH = "ETH/USDT"


def at(hour: int) -> datetime:
    return datetime(2024, 4, 1, hour, tzinfo=UTC)


def entry(
    side: str, qty: str, price: str | None, hour: int, fee: str = "0", realized: str = "0"
) -> tuple:
    """A fill (side buy or sell, its fee in USDT) or a transfer (side in or out, no fee),
    with what it realized."""
    return (
        "main",
        ETH,
        side,
        D(qty),
        None if price is None else D(price),
        D(fee),
        "USDT" if side in ("buy", "sell") else "",
        D(fee),
        at(hour),
        None,
        f"{side}@{hour}",
        D(realized),
    )


def ledger(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(ENTRY_COLUMNS))


# --- the average-cost book ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("book", "change", "price", "after"),
    [
        # 1 held at 100 each; 0.4 leave: the 0.6 left keep their 100 each, nothing realized
        (PositionBook(D(1), D(100)), D("-0.4"), D(90), PositionBook(D("0.6"), D("60.0"))),
        # 0.6 at 60 in all; 0.5 come in at the mark 120: 60 + 60 = 120 for 1.1
        (PositionBook(D("0.6"), D(60)), D("0.5"), D(120), PositionBook(D("1.1"), D("120.0"))),
        # nothing held; 0.5 adopted at the mark 2000: a basis of 1000
        (PositionBook(), D("0.5"), D(2000), PositionBook(D("0.5"), D("1000.0"))),
        # everything leaves: no basis, and the realized and fees stay as they were
        (
            PositionBook(D(2), D(300), D(7), D(1)),
            D(-2),
            D(200),
            PositionBook(D(0), D(0), D(7), D(1)),
        ),
        # a short of 1 at 100 bought back and turned into a long of 1 at the price 90
        (PositionBook(D(-1), D(-100)), D(2), D(90), PositionBook(D(1), D(90))),
        # a holding with no price to value it enters at no cost
        (PositionBook(), D(1), None, PositionBook(D(1), D(0))),
    ],
)
def test_a_transfer_moves_the_holding_and_never_realizes(book, change, price, after):
    assert apply_transfer(book, change, price) == after


# --- round trips and realized PnL from the ledger -------------------------------------------


def test_coins_withdrawn_mid_trip_leave_at_the_average_entry():
    # buy 1 at 100 (fee 0.1); 0.4 withdrawn (mark 90); the stop sells the 0.6 at 110 (fee 0.066)
    # the trip bought 1 - 0.4 = 0.6 for 100 - 0.4 x 100 = 60 and sold them for 66:
    # profit 66 - 60 - 0.1 - 0.066 = 5.834; realized by average cost (110 - 100) x 0.6 = 6
    entries = ledger(
        entry("buy", "1", "100", 1, fee="0.1"),
        entry("out", "0.4", "90", 2),
        entry("sell", "0.6", "110", 3, fee="0.066"),
    )
    [trip] = compute_results(entries, NO_EQUITY, NOW).closed
    assert (trip.qty_bought, trip.qty_sold) == (D("0.6"), D("0.6"))
    assert (trip.cost, trip.proceeds, trip.fees) == (D("60.0"), D("66.0"), D("0.166"))
    assert trip.profit == D("5.834")


def test_an_adopted_holding_sold_by_a_stop_pairs_with_its_sale():
    # 0.5 ETH found on the account and adopted at the mark 2000; the stop sells them at 1900
    # (fee 0.95): one trip that cost 1000 and made 950, profit -50.95; realized -50
    entries = ledger(entry("in", "0.5", "2000", 1), entry("sell", "0.5", "1900", 2, fee="0.95"))
    report = compute_results(entries, NO_EQUITY, NOW)
    [trip] = report.closed
    assert report.open == ()
    assert (trip.cost, trip.proceeds, trip.profit) == (D("1000.0"), D("950.0"), D("-50.95"))


def test_a_partial_loss_outside_the_app_leaves_an_open_trip_of_what_is_held():
    # 0.882 bought at 3000; 0.382 vanish (mark 2600): the trip holds 0.5, bought for 1500
    entries = ledger(entry("buy", "0.882", "3000", 1), entry("out", "0.382", "2600", 2))
    report = compute_results(entries, NO_EQUITY, NOW)
    [trip] = report.open
    assert (trip.qty, trip.qty_bought, trip.cost) == (D("0.500"), D("0.500"), D("1500.000"))
    assert trip.avg_entry == 3000
    assert report.closed == ()


def test_a_deposit_mid_trip_joins_it_at_the_mark():
    # buy 1 at 100; 1 deposited (mark 110); sell 2 at 120: cost 210, proceeds 240, profit 30;
    # by average cost (120 - 105) x 2 = 30 too
    entries = ledger(
        entry("buy", "1", "100", 1), entry("in", "1", "110", 2), entry("sell", "2", "120", 3)
    )
    [trip] = compute_results(entries, NO_EQUITY, NOW).closed
    assert (trip.cost, trip.proceeds, trip.profit) == (D(210), D(240), D(30))


def test_a_withdrawal_of_everything_closes_the_trip_with_no_profit():
    # buy 1 at 100 (fee 0.1), all of it withdrawn at the mark 150: the trip closes having
    # bought nothing it kept, sold nothing: its profit is only the fee it paid
    entries = ledger(entry("buy", "1", "100", 1, fee="0.1"), entry("out", "1", "150", 2))
    [trip] = compute_results(entries, NO_EQUITY, NOW).closed
    assert (trip.qty_bought, trip.cost, trip.proceeds) == (D(0), D(0), D(0))
    assert trip.profit == D("-0.1")
    assert trip.avg_entry is None and trip.avg_exit is None and trip.profit_pct is None


def test_realized_in_a_window_counts_the_entries_in_it():
    # two trips: buy 1 at 100, sell at 110 (+10, hour 2); buy 1 at 100 (fee 0.2), sell at 90
    # (-10, hour 4): all of it +10 - 10 = 0 with fees 0.2; from hour 3 on -10 with fees 0.2
    entries = ledger(
        entry("buy", "1", "100", 1),
        entry("sell", "1", "110", 2, realized="10"),
        entry("buy", "1", "100", 3, fee="0.2"),
        entry("sell", "1", "90", 4, realized="-10"),
    )
    assert realized_since(entries, None) == (D(0), D("0.2"))
    assert realized_since(entries, at(3)) == (D(-10), D("0.2"))
    assert realized_since(entries, at(5)) == (D(0), D(0))


@given(
    st.lists(
        st.tuples(
            st.integers(0, 23),
            st.decimals(-1000, 1000, places=8),
            st.decimals(0, 10, places=8),
        ),
        max_size=30,
    ),
    st.one_of(st.none(), st.integers(0, 24)),
)
def test_a_window_of_the_running_sums_is_the_sum_of_its_entries(rows, start):
    """The page keeps the ledger's realized PnL and fees as running sums (booked) and takes
    each tick's window as a difference: the entries of the window summed, in any order."""
    entries = ledger(
        *(entry("sell", "1", "100", hour, str(fee), str(pnl)) for hour, pnl, fee in rows)
    )
    since = None if start is None else at(0) + timedelta(hours=start)
    inside = [(pnl, fee) for hour, pnl, fee in rows if since is None or at(hour) >= since]
    expected = (sum((p for p, _ in inside), D(0)), sum((f for _, f in inside), D(0)))
    assert realized_since(booked(entries), since) == expected == realized_since(entries, since)


def test_cash_deposited_and_withdrawn_is_in_no_trip_and_not_in_the_traded_equity():
    # 10,000 USDT; buy 1 ETH at 100 (hour 1), 1,000 USDT deposited (hour 2), sell at 110
    # (hour 3, +10), 500 USDT withdrawn (hour 4). Equity at each hour's end: 10,000, 10,000,
    # 11,000, 11,010, 10,510. Less the cash moved since the first point (+1,000 from hour 2,
    # -500 from hour 4): 10,000, 10,000, 10,000, 10,010, 10,010: only the trade's 10.
    usdt = (("main", "USDT", "in", D(1000), D(1), D(0), "", D(0), at(2), None, "d", D(0)),)
    usdt += (("main", "USDT", "out", D(500), D(1), D(0), "", D(0), at(4), None, "w", D(0)),)
    entries = ledger(
        entry("buy", "1", "100", 1), *usdt, entry("sell", "1", "110", 3, realized="10")
    )
    worth = [D(10000), D(10000), D(11000), D(11010), D(10510)]
    equity = pd.DataFrame(
        [(at(hour), value) for hour, value in enumerate(worth)], columns=list(EQUITY_COLUMNS)
    )
    outside = pd.DataFrame([(at(2), D(1000)), (at(4), D(-500))], columns=list(OUTSIDE_COLUMNS))
    curve = net_of_outside(equity, outside)
    assert list(curve["traded"]) == [D(10000), D(10000), D(10000), D(10010), D(10010)]
    report = compute_results(entries, traded_curve(curve), NOW)
    [trip] = report.closed
    assert (trip.symbol, trip.profit) == (ETH, D(10)) and report.open == ()
    assert report.drawdown.max_abs == 0  # the withdrawal is no fall
    assert realized_since(entries, None) == (D(10), D(0))
