"""The insights service's own pure parts: a window's summary is the report of its trips
alone, CSV fields are exact and secret-free, and the kept values follow their version."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import Mode
from core.errors import InputError
from core.insights.ledger_fold import compute_results
from core.insights.results import ENTRY_COLUMNS, summarize
from core.service.insights import Insights, csv_cell, parse_since
from core.service.insights_cache import VersionedCache
from core.store.db import Database

D = Decimal
T0 = datetime(2025, 1, 27, 22, 0, tzinfo=UTC)  # a Monday, two hours before Tuesday
PROPS = settings(max_examples=60, deadline=None, derandomize=True, database=None)


def round_trips(seed: int, trips: int, step: timedelta) -> pd.DataFrame:
    """`trips` buy-then-sell round trips over three symbols, one fill every `step`."""
    rng = random.Random(seed)
    rows, moment = [], T0
    for n in range(trips):
        symbol = rng.choice(["ETH/USDT", "BTC/USDT", "SOL/USDT"])
        qty = D(rng.randint(1, 500)) / 100
        buy, sell = D(rng.randint(900, 1100)), D(rng.randint(850, 1200))
        for side, price in (("buy", buy), ("sell", sell)):
            fee = (qty * price * D("0.001")).quantize(D("0.0001"))
            rows.append(
                ("acct", symbol, side, qty, price, fee, "USDT", fee, moment, f"c{n}", f"{n}{side}")
            )
            moment += step
    # trips never read `realized`; the running sums do: none realized here
    return pd.DataFrame(rows, columns=list(ENTRY_COLUMNS[:-1])).assign(realized=Decimal(0))


@PROPS
@given(
    seed=st.integers(0, 10_000),
    trips=st.integers(0, 40),
    hours=st.integers(1, 80),
    data=st.data(),
)
def test_a_windows_summary_is_the_report_of_the_windows_trips_alone(seed, trips, hours, data):
    fills = round_trips(seed, trips, timedelta(hours=hours))
    now = T0 + timedelta(days=400)
    report = compute_results(fills, pd.DataFrame(), now)
    assert summarize(report.closed) == (report.overall, report.by_symbol)
    last = data.draw(st.integers(0, trips), label="trips in the window")
    alone = compute_results(fills.iloc[2 * (trips - last) :], pd.DataFrame(), now)
    assert summarize(report.closed[trips - last :]) == (alone.overall, alone.by_symbol)


def test_weeks_begin_on_monday_and_months_on_the_first_in_utc():
    fills = round_trips(1, 3, timedelta(hours=1))  # closes Mon 23:00, Tue 01:00, Tue 03:00
    report = compute_results(fills, pd.DataFrame(), T0 + timedelta(days=1))
    summary, _ = summarize(report.closed)
    assert [(p.start.isoformat(), p.trips) for p in summary.daily] == [
        ("2025-01-27", 1),
        ("2025-01-28", 2),
    ]
    assert [(p.start.isoformat(), p.trips) for p in summary.weekly] == [("2025-01-27", 3)]
    assert [(p.start.isoformat(), p.trips) for p in summary.monthly] == [("2025-01-01", 3)]


def test_csv_fields_are_exact_and_never_show_a_secret():
    assert csv_cell(D("0.000058758")) == "0.000058758"
    assert csv_cell(D("1E+3")) == "1000"
    assert csv_cell(D("3400.3400")) == "3400.3400"
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true" and csv_cell(False) == "false"
    assert csv_cell(7) == "7"
    assert csv_cell(T0) == "2025-01-27T22:00:00+00:00"
    assert csv_cell("signed with s3cret-key!", ["s3cret-key"]) == "signed with ****!"


@pytest.mark.parametrize("text", ["", "24", "1y", "-1h", "0h", "3651d", "1.5h", "24 hours"])
def test_a_window_that_is_not_a_duration_is_refused_with_what_it_takes(text):
    with pytest.raises(InputError, match="--since takes"):
        parse_since(text)


def test_windows_read_as_durations_and_all_as_no_bound():
    assert parse_since("24h") == timedelta(hours=24)
    assert parse_since(" 7D ") == timedelta(days=7)
    assert parse_since("all") is None


def test_a_kept_value_is_loaded_again_only_when_its_version_changes():
    kept, loads = VersionedCache(), []

    def load(value):
        loads.append(value)
        return value

    assert kept.get("k", 1, lambda: load("first")) == "first"
    assert kept.get("k", 1, lambda: load("again")) == "first"
    assert kept.get("other", 1, lambda: load("other")) == "other"
    assert kept.get("k", 2, lambda: load("second")) == "second"
    assert loads == ["first", "other", "second"]


def test_a_report_reads_the_book_of_the_mode_shown_or_a_monitored_accounts_live_one(tmp_path):
    db = Database.open(f"sqlite:///{tmp_path}/t.db")
    wiring = SimpleNamespace(db=db, account_names=lambda: ["default", "perps"], quote="USDT")
    insights = Insights(wiring, ShowsSim())
    try:
        assert insights.health().mode is Mode.SIM
        assert insights.health(account="default").mode is Mode.SIM
        assert insights.health(account="perps").mode is Mode.LIVE  # monitored: LIVE only
        assert insights.results(mode=Mode.LIVE).mode is Mode.LIVE
        assert insights.results(account="perps").account == "perps"
        with pytest.raises(
            InputError, match=r"unknown account 'spot' \(accounts: default, perps\)"
        ):
            insights.results(account="spot")
    finally:
        db.dispose()


class ShowsSim:
    """The page shows SIM."""

    def shown(self) -> Mode:
        return Mode.SIM
