"""Garbled answers from the exchange (real ccxt against the emulator's malformed-answer
faults, a real SQLite database): each is reported as an unreadable answer, nothing NaN,
infinite or negative is stored, no order is recorded rejected that may have filled, and the
next trade after the fault works."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.domain import OrderStatus, PositionState, TradeSize
from core.store.models import Base, ExactDecimal, Order
from tests.integration.test_live_sync import (
    assert_database_matches_exchange,
    assert_never_twice,
    exchange_orders,
    live,  # noqa: F401 - the LIVE service fixture
    recorded_orders,
)

LONG = PositionState.LONG
MODES = ["nan_numbers", "huge_numbers", "negative_numbers", "html_body"]
UNREADABLE = "answered something unreadable"
SIZE = TradeSize(quote_amount=Decimal(1000))
SIGNED_COLUMNS = {"realized"}  # a loss is a negative realized PnL


def arm(control, method: str, path: str, mode: str, count: int = 1) -> None:
    control.faults({"fail": {"method": method, "path": path, "mode": mode, "count": count}})


def assert_nothing_unreadable_stored(engine) -> None:
    """Every exact number in every table is finite, storable and, where it must be, not
    negative; no snapshot of balances holds NaN, Infinity or a negative amount."""
    with engine.db.session() as session:
        for table in Base.metadata.sorted_tables:
            exact = [c.name for c in table.columns if isinstance(c.type, ExactDecimal)]
            for row in session.execute(select(table)).mappings():
                for name in exact:
                    value = row[name]
                    if value is None:
                        continue
                    assert value.is_finite() and abs(value) < 10**20, (table.name, name, value)
                    assert value >= 0 or name in SIGNED_COLUMNS, (table.name, name, value)
            if table.name == "account_snapshots":
                for row in session.execute(select(table)).mappings():
                    text = row["balances"].lower()
                    assert "nan" not in text and "inf" not in text and '"-' not in text


def assert_next_trade_works(engine, control) -> None:
    control.clear_faults()
    again = engine.service.trading.trade("ETH/USDT", LONG, SIZE)
    assert again.ok, again.message
    assert_never_twice(engine)
    assert_database_matches_exchange(engine, control)
    assert_nothing_unreadable_stored(engine)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "path", ["/api/v3/account", "/api/v3/depth"], ids=["balances", "order_book"]
)
def test_an_unreadable_read_before_the_order_sends_nothing(live, control, mode, path):  # noqa: F811
    arm(control, "GET", path, mode)
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    assert not result.ok
    assert UNREADABLE in result.message and "nothing of it was recorded" in result.message
    assert "balance of" not in result.message and "minimum" not in result.message
    assert not exchange_orders(live) and not recorded_orders(live)
    assert_nothing_unreadable_stored(live)
    assert_next_trade_works(live, control)


@pytest.mark.parametrize("mode", MODES)
def test_an_unreadable_answer_to_an_order_is_resolved_by_reading_it(live, control, mode):  # noqa: F811
    """The order may stand: the app asks the exchange about it, and records what it says,
    never 'rejected'."""
    arm(control, "POST", "/api/v3/order", mode)
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    assert result.ok, result.message
    assert [o.status for o in recorded_orders(live)] == [OrderStatus.FILLED.value]
    assert_never_twice(live)
    assert_database_matches_exchange(live, control)
    assert_nothing_unreadable_stored(live)
    assert_next_trade_works(live, control)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "path", ["/api/v3/order", "/api/v3/myTrades"], ids=["the_order", "its_fills"]
)
def test_an_unreadable_order_or_fills_is_never_stored(live, control, mode, path):  # noqa: F811
    """Read again and again unreadable (a single one is read again: test_exchange_reports),
    the order is recorded unknown, never rejected nor left an intent."""
    arm(control, "GET", path, mode, count=1000)
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    assert not result.ok and UNREADABLE in result.message, result.message
    assert [o.status for o in recorded_orders(live)] == [OrderStatus.UNKNOWN.value]
    assert_nothing_unreadable_stored(live)
    assert_next_trade_works(live, control)


@pytest.mark.parametrize("mode", MODES)
def test_an_unreadable_ticker_fails_the_check_and_stores_nothing(live, control, mode):  # noqa: F811
    assert live.service.trading.trade("ETH/USDT", LONG, SIZE).ok
    arm(control, "GET", "/api/v3/ticker/24hr", mode)
    check = live.service.monitoring.periodic_check()
    assert not check.ok
    assert UNREADABLE in check.error and "nothing of it was recorded" in check.error
    assert_nothing_unreadable_stored(live)
    control.clear_faults()
    assert live.service.monitoring.periodic_check().ok
    assert_next_trade_works(live, control)


@pytest.mark.parametrize("mode", MODES)
def test_an_unreadable_account_fails_the_check(live, control, mode):  # noqa: F811
    assert live.service.trading.trade("ETH/USDT", LONG, SIZE).ok
    arm(control, "GET", "/api/v3/account", mode)
    check = live.service.monitoring.periodic_check()
    assert not check.ok and UNREADABLE in check.error
    assert_nothing_unreadable_stored(live)
    assert_next_trade_works(live, control)


def test_the_database_holds_no_order_of_an_unreadable_status(live, control):  # noqa: F811
    """An order whose every answer is unreadable stays unresolved, never rejected; once the
    exchange answers again the next trade settles it first."""
    arm(control, "GET", "/api/v3/order", "nan_numbers", count=1000)
    arm(control, "POST", "/api/v3/order", "html_body")
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    assert not result.ok and UNREADABLE in result.message
    with live.db.session() as session:
        statuses = list(session.scalars(select(Order.status)))
    assert statuses and OrderStatus.REJECTED.value not in statuses
    assert_next_trade_works(live, control)
