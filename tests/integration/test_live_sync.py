"""LIVE+SYNC against the emulator over real HTTP with the real ccxt client: every manual
trade verified, every injected fault either survived or reported, no order ever sent twice,
and the database agreeing with the exchange afterwards."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from core.domain import Mode, OrderStatus, Policy, PositionState, TradeSize
from core.store.models import Order, Position
from emulator.request_log import round_trips

LONG, SHORT, FLAT = PositionState.LONG, PositionState.SHORT, PositionState.NO_POSITION
# a read answers within 2 s even on a loaded machine (1 s timed out in CI: a check reads
# five things at once); the hang faults (2.5 s) still outlast it
FAST = {"RECV_WINDOW_MS": "1000", "EXCHANGE_TIMEOUT_MS": "2000"}


@pytest.fixture
def live(make_engine):
    """A LIVE service on the emulator's demo account, with short timeouts so fault tests
    resolve lost answers quickly."""
    engine = make_engine(live=True, **FAST)
    change = engine.service.modes.request(Mode.LIVE)
    assert change.ok, change.message
    return engine


def recorded_orders(engine) -> list[Order]:
    with engine.db.session() as session:
        return list(session.scalars(select(Order).order_by(Order.id)))


def exchange_orders(engine, symbol="ETH/USDT") -> list[dict]:
    gateway = engine.service.wiring.live_gateway()
    return gateway.client.fetch_orders(symbol, None, 100)


def assert_never_twice(engine, symbol="ETH/USDT"):
    """Every order the exchange holds was recorded first, under the same client order id,
    and no client order id reached the exchange twice."""
    on_exchange = exchange_orders(engine, symbol)
    ids = [o["clientOrderId"] for o in on_exchange]
    assert len(ids) == len(set(ids))
    recorded = {o.client_order_id: o for o in recorded_orders(engine)}
    for order in on_exchange:
        mine = recorded[order["clientOrderId"]]
        assert mine.status not in (OrderStatus.INTENT.value, OrderStatus.UNKNOWN.value)
        assert mine.filled == Decimal(str(order["filled"]))


def assert_database_matches_exchange(engine, control, symbol="ETH/USDT"):
    base = symbol.split("/")[0]
    held = control.account()["balances"].get(base, {"free": "0", "locked": "0"})
    total = Decimal(held["free"]) + Decimal(held["locked"])
    with engine.db.session() as session:
        position = session.scalar(
            select(Position).where(Position.mode == "live", Position.symbol == symbol)
        )
    assert position is not None
    assert position.qty == total
    assert not control.account()["open_orders"]


def test_buy_sell_close_are_each_verified(live, control):
    service = live.service
    bought = service.trading.trade("ETH/USDT", LONG)
    assert bought.ok, bought.message
    assert "state LONG verified" in bought.message
    assert_database_matches_exchange(live, control)
    sold = service.trading.trade("ETH/USDT", SHORT)
    assert sold.ok, sold.message
    assert sold.after is SHORT
    closed = service.trading.trade("ETH/USDT", FLAT)
    assert closed.ok and closed.after is FLAT
    assert_never_twice(live)
    assert_database_matches_exchange(live, control)
    view = service.reads.dashboard()
    assert view.badge.text == "LIVE+SYNC" and view.badge.tone == "success"
    assert [run.kind for run in view.sync_runs[:3]] == ["trade", "trade", "trade"]


def test_a_filled_at_once_trade_takes_four_round_trips(live, control):
    """The cancel goes out with the balance and book reads: cancel+balances+book, order,
    a poll of it, balances+fills."""
    control.faults({"latency_ms": 50})
    control.clear_requests()
    result = live.service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=Decimal(1000)))
    calls = control.requests_log()
    assert result.ok, result.message
    assert [c["path"] for c in calls if c["method"] == "POST"] == ["/api/v3/order"]
    assert result.api_calls == len(calls) == 7
    assert round_trips(calls) == 4
    assert [c["path"] for c in calls].count("/api/v3/account") == 2  # before and after, once each


@pytest.mark.parametrize(
    "fault",
    [
        {"latency_ms": 50},
        {"fail": {"method": "POST", "path": "/api/v3/order", "mode": "http_500", "count": 1}},
        {"fail": {"method": "POST", "path": "/api/v3/order", "mode": "http_429", "count": 1}},
        {
            "fail": {
                "method": "POST",
                "path": "/api/v3/order",
                "mode": "timeout",
                "count": 1,
                "hang_ms": 2500,
            }
        },
        {"fail": {"method": "POST", "path": "/api/v3/order", "mode": "drop_response", "count": 1}},
        {"fail": {"method": "GET", "path": "/api/v3/order", "mode": "order_not_found", "count": 2}},
    ],
    ids=["latency", "http_500", "http_429", "timeout", "drop_response", "order_not_found"],
)
def test_faults_never_duplicate_an_order(live, control, fault):
    control.faults(fault)
    result = live.service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=Decimal(2000)))
    control.clear_faults()
    assert result.ok, result.message
    assert_never_twice(live)
    assert_database_matches_exchange(live, control)
    filled = [o for o in exchange_orders(live) if o["filled"]]
    assert len(filled) == 1


def test_stalled_fills_are_cancelled_at_the_deadline_and_reported(live, control):
    control.faults({"stall_fills": True})
    result = live.service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=Decimal(500)))
    control.clear_faults()
    assert not result.ok
    assert "LONG not reached" in result.message
    assert len(result.orders) == 3
    assert all(o.status is OrderStatus.CANCELED for o in result.orders)
    assert_never_twice(live)
    assert not control.account()["open_orders"]
    assert live.service.reads.dashboard().badge.tone == "danger"
    assert live.service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=Decimal(500))).ok
    assert live.service.reads.dashboard().badge.tone == "success"


def test_fills_released_mid_trade_are_accounted(live, control):
    control.faults({"stall_fills": True})
    threading.Timer(0.3, control.clear_faults).start()
    result = live.service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=Decimal(500)))
    assert result.ok, result.message
    assert_never_twice(live)
    assert_database_matches_exchange(live, control)


def test_an_order_larger_than_the_book_fills_in_parts_and_is_accounted_exactly(live, control):
    control.set_balances({"USDT": "5000000"})
    result = live.service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=Decimal(3000000)))
    assert len(result.orders) >= 1
    assert sum(o.filled for o in result.orders) > 0
    assert_never_twice(live)
    assert_database_matches_exchange(live, control)


def test_insufficient_balance_and_below_minimum_place_no_order(live, control):
    control.set_balances({"USDT": "0.5"})
    result = live.service.trading.trade("ETH/USDT", LONG)
    assert not result.ok and "below the market minimum" in result.message
    assert not exchange_orders(live)
    assert [o.status for o in recorded_orders(live)] == []


def test_wrong_keys_refuse_live_with_a_clear_reason(make_engine):
    engine = make_engine(live=True, EXCHANGE_API_SECRET="not-the-secret", **FAST)
    change = engine.service.modes.request(Mode.LIVE)
    assert not change.ok
    assert "refused the API key" in change.message
    assert "not-the-secret" not in change.message


def test_periodic_check_adopts_what_the_exchange_holds(live, control):
    assert live.service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=Decimal(1000))).ok
    control.set_balances({"ETH": "0", "BTC": "0.05"})
    control.clear_requests()
    check = live.service.monitoring.periodic_check()
    assert check.ok
    # the snapshot, and a fresh one before closing ETH: each reads balances, open orders,
    # and the ticker of each configured symbol (BTC, ETH) by symbol (never every market's);
    # beside the first, the account's deposit and withdrawal histories
    calls = [(c["path"], c["symbol"]) for c in control.requests_log()]
    snapshot = [
        ("/api/v3/account", None),
        ("/api/v3/openOrders", None),
        ("/api/v3/ticker/24hr", "BTCUSDT"),
        ("/api/v3/ticker/24hr", "ETHUSDT"),
    ]
    histories = [
        ("/api/v3/capital/deposit/hisrec", None),
        ("/api/v3/capital/withdraw/history", None),
    ]
    # what was read, not how often: under load a read that timed out is asked again
    assert set(calls) == set(snapshot + histories)
    assert calls.count(("/api/v3/account", None)) >= 2
    kinds = sorted(d.kind.value for d in check.discrepancies)
    assert kinds == ["orphan_db", "orphan_exchange"]
    moved = sorted((c.symbol, c.after) for c in check.external_changes)
    assert moved == [("BTC/USDT", Decimal("0.05")), ("ETH/USDT", Decimal(0))]
    with live.db.session() as session:
        open_rows = {p.symbol: p.qty for p in session.scalars(select(Position)) if p.is_open}
    assert open_rows == {"BTC/USDT": Decimal("0.05")}
    again = live.service.monitoring.periodic_check()
    assert [d.kind.value for d in again.discrepancies] == []


def test_report_policy_records_drift_and_changes_nothing(make_engine, control):
    engine = make_engine(live=True, SYNC_POLICY="report", **FAST)
    assert engine.service.modes.request(Mode.LIVE).ok
    assert engine.service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=Decimal(1000))).ok
    control.set_balances({"ETH": "0"})
    check = engine.service.monitoring.periodic_check()
    assert [d.kind.value for d in check.discrepancies] == ["orphan_db"]
    assert check.drift == {"ETH/USDT": LONG}
    badge = engine.service.reads.dashboard().badge
    assert badge.tone == "warning" and "Drift" in badge.detail


def test_enforce_policy_trades_back_to_the_target(make_engine, control):
    engine = make_engine(live=True, SYNC_POLICY="enforce", **FAST)
    service = engine.service
    assert service.modes.request(Mode.LIVE).ok
    assert service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=Decimal(1000))).ok
    control.set_balances({"ETH": "0"})
    service.monitoring.periodic_check()
    eth = Decimal(control.account()["balances"]["ETH"]["free"])
    assert eth > 0
    assert Policy(engine.settings.SYNC_POLICY) is Policy.ENFORCE


def test_exchange_down_at_the_start_of_a_trade_sends_nothing_and_says_so(live, control):
    control.faults(
        {"fail": {"method": "DELETE", "path": "/api/v3/openOrders", "mode": "http_500", "count": 1}}
    )
    result = live.service.trading.trade("ETH/USDT", LONG)
    assert not result.ok
    assert result.message.startswith("Cancelling open orders:")
    assert not result.orders and not exchange_orders(live) and not recorded_orders(live)
    assert live.service.reads.dashboard().badge.tone == "danger"


def test_the_page_reads_the_mode_once_a_second_and_follows_a_switch_at_once(live):
    """Every tab asks the mode on every tick: that is one database read a second, shared;
    a switch is shown on the next read, not a second later."""
    service = live.service
    reads = []

    def count(_conn, _cursor, statement, *_):
        if "app_state" in statement:
            reads.append(statement)

    event.listen(service.wiring.db.engine, "before_cursor_execute", count)
    try:
        shown = [service.modes.shown() for _ in range(50)]
        assert set(shown) == {Mode.LIVE}
        assert len(reads) == 1

        assert service.modes.request(Mode.SIM).ok
        assert service.modes.shown() is Mode.SIM
    finally:
        event.remove(service.wiring.db.engine, "before_cursor_execute", count)
