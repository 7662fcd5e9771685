"""Trading results from fills: round trips, profit per period, trade stats and drawdown, on
small records whose answers are worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core.insights.ledger_fold import compute_results
from core.insights.results import (
    ENTRY_COLUMNS,
    EQUITY_COLUMNS,
    OUTSIDE_COLUMNS,
    OpenTrip,
    drawdown,
    net_of_outside,
    outside_since,
    trade_stats,
    traded_curve,
)

D = Decimal
NOW = datetime(2024, 4, 3, 12, 0, tzinfo=UTC)
PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None)
NO_EQUITY = pd.DataFrame(columns=list(EQUITY_COLUMNS))
_ids = count()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fill(symbol, side, qty, price, fee, fee_asset, when, account="main"):
    """One fill; the fee's quote value is the fee itself when paid in quote, fee x price when
    paid in the base asset."""
    qty, price, fee = D(qty), D(price), D(fee)
    fee_quote = fee if fee_asset == "USDT" else fee * price
    n = next(_ids)
    return (
        account,
        symbol,
        side,
        qty,
        price,
        fee,
        fee_asset,
        fee_quote,
        at(when),
        f"c{n}",
        f"t{n}",
    )


def fills_frame(*rows) -> pd.DataFrame:
    # trips never read `realized`; the running sums do: none realized here
    return pd.DataFrame(list(rows), columns=list(ENTRY_COLUMNS[:-1])).assign(realized=D(0))


# MEXC spot: a buy pays its fee in the base asset, a sell in USDT (0.1 % here).
BOOK = fills_frame(
    # ETH trip 1, a win. Delivered 0.999 + 0.999 = 1.998 ETH, all sold.
    fill("ETH/USDT", "buy", "1", "1900", "0.001", "ETH", "2024-03-04 10:00"),
    fill("ETH/USDT", "buy", "1", "2100", "0.001", "ETH", "2024-03-04 11:00"),
    fill("ETH/USDT", "sell", "1.998", "2300", "4.5954", "USDT", "2024-03-05 09:00"),
    # BTC trip, a loss, closed in two sells. Delivered 0.4995 BTC.
    fill("BTC/USDT", "buy", "0.5", "60000", "0.0005", "BTC", "2024-03-06 12:00"),
    fill("BTC/USDT", "sell", "0.2", "58000", "11.6", "USDT", "2024-03-11 08:00"),
    fill("BTC/USDT", "sell", "0.2995", "58000", "17.371", "USDT", "2024-03-11 09:00"),
    # SOL trip at exactly break-even: neither a win nor a loss.
    fill("SOL/USDT", "buy", "1", "100", "0", "USDT", "2024-03-07 10:00"),
    fill("SOL/USDT", "sell", "1", "100", "0", "USDT", "2024-03-07 11:00"),
    # ETH trip 2, a small win closed on the first of April. Delivered 0.4995 ETH.
    fill("ETH/USDT", "buy", "0.5", "2000", "0.0005", "ETH", "2024-03-12 10:00"),
    fill("ETH/USDT", "sell", "0.4995", "2100", "1.04895", "USDT", "2024-04-01 00:30"),
    # ETH trip 3, still open: 0.3 bought, 0.2997 delivered and held.
    fill("ETH/USDT", "buy", "0.3", "2500", "0.0003", "ETH", "2024-04-02 10:00"),
)
# Profit = proceeds - cost - fees paid in quote (a fee paid in ETH already shrank the ETH sold):
ETH_1 = D("590.8046")  # 1.998 x 2300 = 4595.4 - (1900 + 2100) - 4.5954
BTC_1 = D("-1057.971")  # 0.4995 x 58000 = 28971 - 30000 - (11.6 + 17.371)
SOL_1 = D("0")
ETH_2 = D("47.90105")  # 0.4995 x 2100 = 1048.95 - 1000 - 1.04895


def test_closed_round_trips_in_the_order_they_closed():
    report = compute_results(BOOK, NO_EQUITY, NOW)
    assert [(t.symbol, t.profit) for t in report.closed] == [
        ("ETH/USDT", ETH_1),
        ("SOL/USDT", SOL_1),
        ("BTC/USDT", BTC_1),
        ("ETH/USDT", ETH_2),
    ]
    eth = report.closed[0]
    assert (eth.account, eth.opened_at, eth.closed_at) == (
        "main",
        at("2024-03-04 10:00"),
        at("2024-03-05 09:00"),
    )
    assert eth.duration == timedelta(hours=23)
    assert eth.fills == 3
    assert (eth.qty_bought, eth.qty_sold) == (D("2"), D("1.998"))
    assert (eth.cost, eth.proceeds) == (D("4000"), D("4595.4"))
    assert eth.avg_entry == D("2000")  # 4000 / 2
    assert eth.avg_exit == D("2300")
    assert eth.fees == D("8.5954")  # 0.001 x 1900 + 0.001 x 2100 + 4.5954
    assert eth.profit_pct == D("14.770115")  # 590.8046 x 100 / 4000
    btc = report.closed[2]
    assert (btc.fills, btc.cost, btc.proceeds) == (3, D("30000"), D("28971"))
    assert btc.avg_exit == D("58000")
    assert btc.fees == D("58.971")  # 0.0005 x 60000 + 11.6 + 17.371
    assert btc.profit_pct == D("-3.52657")  # -1057.971 x 100 / 30000


def test_the_open_trip_is_listed_apart_without_profit():
    report = compute_results(BOOK, NO_EQUITY, NOW)
    assert report.open == (
        OpenTrip(
            account="main",
            symbol="ETH/USDT",
            opened_at=at("2024-04-02 10:00"),
            age=timedelta(days=1, hours=2),
            fills=1,
            qty=D("0.2997"),  # 0.3 bought less the 0.0003 fee
            qty_bought=D("0.3"),
            cost=D("750"),
            fees=D("0.75"),
        ),
    )
    assert report.open[0].avg_entry == D("2500")


def test_overall_stats():
    stats = compute_results(BOOK, NO_EQUITY, NOW).overall.stats
    assert (stats.trips, stats.wins, stats.losses) == (4, 2, 1)  # SOL at zero is neither
    assert stats.win_rate_pct == D("50")  # 2 of 4
    assert stats.profit == D("-419.26535")  # 590.8046 + 47.90105 - 1057.971 + 0
    # gross wins 590.8046 + 47.90105 = 638.70565 over gross losses 1057.971
    assert stats.profit_factor == D("0.6037080884069601151638371940")
    assert stats.expectancy == D("-104.8163375")  # -419.26535 / 4
    assert stats.best.profit == ETH_1
    assert stats.worst.profit == BTC_1


def test_stats_per_symbol():
    by_symbol = compute_results(BOOK, NO_EQUITY, NOW).by_symbol
    assert list(by_symbol) == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    eth = by_symbol["ETH/USDT"].stats
    assert (eth.trips, eth.wins, eth.losses, eth.win_rate_pct) == (2, 2, 0, D("100"))
    assert eth.profit_factor is None  # no loss to divide by
    assert eth.expectancy == D("319.352825")  # 638.70565 / 2
    assert (eth.best.profit, eth.worst.profit) == (ETH_1, ETH_2)
    btc = by_symbol["BTC/USDT"].stats
    assert (btc.trips, btc.wins, btc.losses, btc.win_rate_pct) == (1, 0, 1, D("0"))
    assert btc.profit_factor == D("0")  # no gains over 1057.971 of losses
    sol = by_symbol["SOL/USDT"].stats
    assert (sol.trips, sol.wins, sol.losses, sol.profit_factor) == (1, 0, 0, None)
    assert sol.expectancy == D("0")
    assert periods(by_symbol["ETH/USDT"].monthly) == [
        (date(2024, 3, 1), ETH_1, 1),
        (date(2024, 4, 1), ETH_2, 1),
    ]
    assert periods(by_symbol["BTC/USDT"].weekly) == [(date(2024, 3, 11), BTC_1, 1)]


def periods(profits) -> list[tuple[date, Decimal, int]]:
    return [(p.start, p.profit, p.trips) for p in profits]


def test_daily_weekly_and_monthly_profit_by_close_time():
    overall = compute_results(BOOK, NO_EQUITY, NOW).overall
    assert periods(overall.daily) == [
        (date(2024, 3, 5), ETH_1, 1),
        (date(2024, 3, 7), SOL_1, 1),
        (date(2024, 3, 11), BTC_1, 1),
        (date(2024, 4, 1), ETH_2, 1),
    ]
    # ISO weeks start on Monday: 2024-03-04, 03-11 and 04-01 are Mondays
    assert periods(overall.weekly) == [
        (date(2024, 3, 4), ETH_1, 2),  # Tuesday's ETH and Thursday's SOL
        (date(2024, 3, 11), BTC_1, 1),
        (date(2024, 4, 1), ETH_2, 1),
    ]
    assert periods(overall.monthly) == [
        (date(2024, 3, 1), D("-467.1664"), 3),  # 590.8046 + 0 - 1057.971
        (date(2024, 4, 1), ETH_2, 1),
    ]


def test_a_week_runs_from_monday_0000_to_sunday_2359_utc():
    book = fills_frame(
        fill("SOL/USDT", "buy", "1", "100", "0", "USDT", "2024-03-10 20:00"),
        fill("SOL/USDT", "sell", "1", "101", "0", "USDT", "2024-03-10 23:59:59"),  # Sunday
        fill("SOL/USDT", "buy", "1", "100", "0", "USDT", "2024-03-10 23:59:59"),
        fill("SOL/USDT", "sell", "1", "103", "0", "USDT", "2024-03-11 00:00"),  # Monday
    )
    weekly = compute_results(book, NO_EQUITY, NOW).overall.weekly
    assert periods(weekly) == [(date(2024, 3, 4), D("1"), 1), (date(2024, 3, 11), D("3"), 1)]


def test_a_holding_within_dust_is_flat():
    book = fills_frame(
        fill("ETH/USDT", "buy", "1", "100", "0", "USDT", "2024-03-01 10:00"),
        fill("ETH/USDT", "sell", "0.9995", "110", "0", "USDT", "2024-03-01 11:00"),
        fill("ETH/USDT", "buy", "1", "120", "0", "USDT", "2024-03-02 10:00"),
    )
    report = compute_results(book, NO_EQUITY, NOW, dust={"ETH/USDT": D("0.001")})
    # 0.0005 ETH left is dust: the trip closed; the next buy opens a new one from it
    assert [t.profit for t in report.closed] == [D("9.945")]  # 0.9995 x 110 - 100
    assert [(t.qty, t.opened_at) for t in report.open] == [(D("1.0005"), at("2024-03-02 10:00"))]
    without_dust = compute_results(book, NO_EQUITY, NOW)
    assert without_dust.closed == ()
    assert [t.fills for t in without_dust.open] == [3]


def test_a_sell_of_coins_never_seen_bought_does_not_swallow_the_next_buy():
    book = fills_frame(
        fill("ETH/USDT", "sell", "0.5", "100", "0", "USDT", "2024-03-01 09:00"),  # no trip
        fill("ETH/USDT", "buy", "0.2", "100", "0", "USDT", "2024-03-01 10:00"),
        fill("ETH/USDT", "sell", "0.2", "120", "0", "USDT", "2024-03-01 11:00"),
    )
    report = compute_results(book, NO_EQUITY, NOW)
    assert [(t.fills, t.profit) for t in report.closed] == [(2, D("4"))]  # 0.2 x (120 - 100)
    assert report.open == ()


def test_a_sell_larger_than_the_trip_counts_only_what_the_trip_held():
    book = fills_frame(
        fill("ETH/USDT", "buy", "1", "100", "0", "USDT", "2024-03-01 10:00"),
        fill("ETH/USDT", "sell", "1.5", "120", "0.18", "USDT", "2024-03-01 11:00"),
    )
    (trip,) = compute_results(book, NO_EQUITY, NOW).closed
    # 0.5 ETH came from before the records: the trip sold 1 at 120 for 100, less the fee
    assert (trip.qty_sold, trip.proceeds, trip.profit) == (D("1"), D("120"), D("19.82"))


def test_accounts_never_share_a_round_trip():
    book = fills_frame(
        fill("ETH/USDT", "buy", "1", "100", "0", "USDT", "2024-03-01 09:00", account="a"),
        fill("ETH/USDT", "sell", "1", "110", "0", "USDT", "2024-03-01 10:00", account="b"),
    )
    report = compute_results(book, NO_EQUITY, NOW)
    assert report.closed == ()  # b sold coins it never bought; a still holds its ETH
    assert [(t.account, t.qty) for t in report.open] == [("a", D("1"))]


def test_trade_stats_of_no_trips():
    stats = trade_stats([])
    assert (stats.trips, stats.wins, stats.losses, stats.profit) == (0, 0, 0, D("0"))
    assert stats.win_rate_pct is stats.profit_factor is stats.expectancy is None
    assert stats.best is stats.worst is None


# --- drawdown -------------------------------------------------------------------------


def equity(*points) -> pd.DataFrame:
    return pd.DataFrame(
        [(at(when), D(value)) for when, value in points], columns=list(EQUITY_COLUMNS)
    )


def test_maximum_and_current_drawdown():
    curve = equity(
        ("2024-03-05", "1100"),
        ("2024-03-01", "1000"),  # given out of order on purpose
        ("2024-03-02", "1200"),
        ("2024-03-03", "1200"),  # still at the peak: the fall starts from here
        ("2024-03-04", "900"),  # 300 below 1200: the largest fall
        ("2024-03-06", "1300"),  # a new peak
        ("2024-03-07", "1170"),  # 130 below it, now
    )
    found = drawdown(curve)
    assert (found.max_abs, found.max_pct) == (D("300"), D("25"))  # 300 x 100 / 1200
    assert (found.peak_at, found.peak_equity) == (at("2024-03-03"), D("1200"))
    assert (found.trough_at, found.trough_equity) == (at("2024-03-04"), D("900"))
    assert (found.current_abs, found.current_pct) == (D("130"), D("10"))  # 130 x 100 / 1300
    assert found.current_peak_at == at("2024-03-06")
    assert compute_results(BOOK, curve, NOW).drawdown == found


def test_equity_that_never_falls_has_no_drawdown_dates():
    found = drawdown(equity(("2024-03-01", "100"), ("2024-03-02", "110"), ("2024-03-03", "120")))
    no_fall = (found.max_abs, found.max_pct, found.current_abs, found.current_pct)
    assert no_fall == (D("0"), D("0"), D("0"), D("0"))
    assert found.peak_at is found.trough_at is found.peak_equity is found.trough_equity is None
    assert found.current_peak_at == at("2024-03-03")


def test_a_withdrawal_lowers_the_equity_but_is_no_drawdown():
    """1,000 USDT of equity; 0.5 ETH deposited at 2,000 (+1,000) between the first and
    second points; the price falls 10 % (-100 on the ETH); 0.25 ETH withdrawn at 1,800
    (-450); the price comes back to 2,000 (+50 on the 0.25 left)."""
    curve = equity(
        ("2024-03-01 00:00", "1000"),
        ("2024-03-02 00:00", "2000"),
        ("2024-03-03 00:00", "1900"),
        ("2024-03-04 00:00", "1450"),
        ("2024-03-05 00:00", "1500"),
    )
    outside = pd.DataFrame(
        [
            (at("2024-02-28 00:00"), D("5000")),  # before the curve: in its first point already
            (at("2024-03-01 12:00"), D("1000")),  # 0.5 ETH in at 2,000
            (at("2024-03-04 00:00"), D("-450")),  # 0.25 ETH out at 1,800, read with the point
        ],
        columns=list(OUTSIDE_COLUMNS),
    )
    found = net_of_outside(curve, outside)
    assert list(found["outside"]) == [D(0), D(1000), D(1000), D(550), D(550)]
    assert list(found["traded"]) == [D(1000), D(1000), D(900), D(900), D(950)]
    assert list(found["equity"]) == [D(1000), D(2000), D(1900), D(1450), D(1500)]
    fell = drawdown(traded_curve(found))
    assert (fell.max_abs, fell.max_pct) == (D(100), D(10))  # the price's fall, not the 450 out
    assert (fell.peak_at, fell.trough_at) == (at("2024-03-02 00:00"), at("2024-03-03 00:00"))
    assert (fell.current_abs, fell.current_pct) == (D(50), D(5))
    assert drawdown(curve).max_abs == D(550)  # what the raw equity would have called a loss
    assert list(net_of_outside(curve, outside.iloc[:0])["traded"]) == list(curve["equity"])
    assert net_of_outside(NO_EQUITY, outside).empty
    assert outside_since(outside, None) == D(5550)
    assert outside_since(outside, at("2024-03-01 00:00")) == D(550)
    assert outside_since(outside.iloc[:0], None) == D(0)


def test_empty_inputs_give_an_empty_report():
    for fills, curve in (
        (pd.DataFrame(columns=list(ENTRY_COLUMNS)), NO_EQUITY),
        (pd.DataFrame(), pd.DataFrame()),
    ):
        report = compute_results(fills, curve, NOW)
        assert (report.closed, report.open, report.by_symbol, report.drawdown) == ((), (), {}, None)
        assert report.overall.stats == trade_stats([])
        assert report.overall.daily == report.overall.weekly == report.overall.monthly == ()


# --- property: the trips' profits are the quote the cycles made ---------------------------

FEE_RATE = D("0.001")
buys = st.lists(
    st.tuples(st.integers(1, 10_000), st.integers(1, 1_000_000)), min_size=1, max_size=3
)
sells = st.lists(st.tuples(st.integers(1, 100), st.integers(1, 1_000_000)), min_size=1, max_size=3)
cycles = st.lists(st.tuples(st.sampled_from(["ETH/USDT", "BTC/USDT"]), buys, sells), max_size=6)


def book_of(planned) -> tuple[pd.DataFrame, Decimal]:
    """Complete cycles (every coin bought is sold again) and, independently, the change in the
    quote balance they cause: quote paid for buys, received for sells, less quote fees."""
    rows, quote, moment = [], D(0), at("2024-01-01")
    for symbol, buy_legs, sell_legs in planned:
        held = D(0)
        for units, ticks in buy_legs:
            qty, price = D(units) / 1000, D(ticks) / 100
            fee = qty * FEE_RATE  # paid in the base asset
            rows.append(fill(symbol, "buy", qty, price, fee, symbol[:3], moment.isoformat()))
            held, quote = held + qty - fee, quote - qty * price
            moment += timedelta(minutes=1)
        weights = sum(weight for weight, _ in sell_legs)
        left = held
        for n, (weight, ticks) in enumerate(sell_legs):
            last = n == len(sell_legs) - 1
            share = (held * weight / weights).quantize(D("0.000001"))
            qty = left if last else min(share, left - D("0.000001"))  # the last part is > 0
            price = D(ticks) / 100
            fee = qty * price * FEE_RATE  # paid in quote
            rows.append(fill(symbol, "sell", qty, price, fee, "USDT", moment.isoformat()))
            left, quote = left - qty, quote + qty * price - fee
            moment += timedelta(minutes=1)
    return fills_frame(*rows), quote


@PROPS
@given(cycles)
def test_closed_trip_profits_add_up_to_the_quote_the_cycles_made(planned):
    book, quote_made = book_of(planned)
    report = compute_results(book, NO_EQUITY, NOW)
    assert len(report.closed) == len(planned)
    assert report.open == ()
    assert sum((t.profit for t in report.closed), D(0)) == quote_made
    assert report.overall.stats.profit == quote_made
    assert sum((p.profit for p in report.overall.monthly), D(0)) == quote_made
