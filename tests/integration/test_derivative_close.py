"""Closing a derivatives position through the executor: the real ccxt `bybit` and
`binanceusdm` against the emulator's dialects over HTTP. One reduce-only order on the other
side closes exactly the position, the stops the exchange kept for it go too, everything is
recorded, and a second close sends nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.domain import Origin, PositionState, Side
from core.exchange.ccxt_client import Connection
from core.exchange.ccxt_gateway import CcxtTradingGateway
from core.exchange.ccxt_market import CcxtMarketData
from core.store import repository as repo
from core.store import runs
from core.store.db import Database
from core.trading.executor import Executor
from core.trading.orders import FillPolicy
from core.trading.pricing import Limits
from emulator.control_client import ControlClient

DIALECTS = ["bybit", "binanceusdm"]
BTC = "BTC/USDT:USDT"
ACCOUNT = "perps"
BOOK = repo.BookKey("live", ACCOUNT)
ORDER_CREATES = {
    "/v5/order/create",
    "/v5/position/trading-stop",
    "/fapi/v1/order",
    "/fapi/v1/algoOrder",
}


@pytest.fixture(params=DIALECTS)
def desk(request, venues, tmp_path):
    """(gateway, executor, control, database) of one derivatives account, from a reset exchange
    and an empty database."""
    server = venues[request.param]
    control = ControlClient(server.url)
    control.reset()
    control.clear_faults()
    gateway = CcxtTradingGateway(
        CcxtMarketData(Connection(request.param, server.url, timeout_ms=3000)),
        "demo-key",
        "demo-secret",
    )
    db = Database.open(f"sqlite:///{tmp_path}/close.db")
    policy = FillPolicy(attempt_deadline=0.3, max_attempts=2)
    limits = Limits(max_order_notional=Decimal(1000), max_slippage=Decimal("0.01"))
    executor = Executor(gateway, db, BOOK, limits, policy)
    yield gateway, executor, control, db
    control.clear_faults()


def hold(gateway, control, db, size: str) -> Decimal:
    """A BTC position of `size` (signed) on the exchange and in the database, bracketed by
    exchange-side stops, with a plain order resting beside it; returns the mark price."""
    qty = Decimal(size)
    control.set_positions({"BTCUSDT": {"size": size, "entry_price": "97000", "leverage": "5"}})
    mark = gateway.position(BTC, ACCOUNT).mark_price
    lower, upper = mark * Decimal("0.95"), mark * Decimal("1.05")
    gateway.place_stops(BTC, qty, *((lower, upper) if qty > 0 else (upper, lower)), ACCOUNT)
    gateway.place_limit_order(
        BTC, Side.BUY, Decimal("0.01"), (mark * Decimal("0.8")).quantize(1), "rest"
    )
    with db.session() as session:
        position = repo.position_row(session, BOOK, BTC)
        position.qty, position.cost_basis, position.is_open = qty, qty * 97000, True
        position.state = (PositionState.LONG if qty > 0 else PositionState.SHORT).value
    return mark


@pytest.mark.parametrize("size", ["0.01", "-0.02"], ids=["long", "short"])
def test_close_sends_one_reduce_only_order_removes_the_stops_and_records_it(desk, size):
    gateway, executor, control, db = desk
    hold(gateway, control, db, size)
    steps: list[str] = []

    result = executor.close_position(BTC, progress=steps.append)

    qty = Decimal(size)
    assert result.ok, result.message
    assert (result.before, result.after) == (
        PositionState.LONG if qty > 0 else PositionState.SHORT,
        PositionState.NO_POSITION,
    )
    [order] = result.orders
    assert order.side is (Side.SELL if qty > 0 else Side.BUY)
    assert order.amount == order.filled == abs(qty)
    sent = gateway.market.venue.find_order(gateway.client, BTC, order.client_order_id)
    assert sent["reduceOnly"] is True and sent["type"] == "limit"
    assert result.message.endswith("position closed, state NO_POSITION verified")
    assert steps[0] == "cancelling open orders and reading the position"
    assert "removing the position's stops" in steps

    assert gateway.position(BTC, ACCOUNT).qty == 0
    assert gateway.stops(ACCOUNT) == ()
    assert gateway.snapshot(ACCOUNT).open_orders == {}  # the resting plain order went too

    with db.session() as session:
        [row] = repo.recent_orders(session, BOOK)
        assert (row.client_order_id, row.status, row.origin) == (
            order.client_order_id,
            "filled",
            Origin.FLATTEN.value,
        )
        assert sum(f.qty for f in repo.recent_fills(session, BOOK)) == abs(qty)
        [run] = runs.recent_sync_runs(session, BOOK)
        assert (run.kind, run.ok, run.before, run.after) == (
            "flatten",
            True,
            result.before.value,
            "NO_POSITION",
        )
        assert run.findings.orders == (order.client_order_id,)
        position = repo.find_position(session, BOOK, BTC)
        assert (position.qty, position.is_open, position.state) == (0, False, "NO_POSITION")

    control.clear_requests()
    again = executor.close_position(BTC)

    assert again.ok and again.orders == () and again.before is PositionState.NO_POSITION
    assert again.message == f"already NO_POSITION: no {BTC} position is open"
    assert not [r for r in control.requests_log() if r["path"] in ORDER_CREATES]
    with db.session() as session:
        assert len(repo.recent_orders(session, BOOK)) == 1
        assert len(runs.recent_sync_runs(session, BOOK)) == 2


def test_a_close_that_does_not_fill_keeps_the_stops_and_says_what_is_open(desk):
    gateway, executor, control, db = desk
    hold(gateway, control, db, "0.01")
    control.faults({"stall_fills": True})

    result = executor.close_position(BTC)

    assert not result.ok and result.after is PositionState.LONG
    assert result.message == "NO_POSITION not reached: a long of 0.01 BTC is open"
    assert [o.filled for o in result.orders] == [0, 0]  # sent, repriced, each cancelled
    assert gateway.position(BTC, ACCOUNT).qty == Decimal("0.01")
    assert len(gateway.stops(ACCOUNT, BTC)) == 2  # a position still open keeps its stops
    with db.session() as session:
        assert {o.status for o in repo.recent_orders(session, BOOK)} == {"canceled"}
        [run] = runs.recent_sync_runs(session, BOOK)
        assert not run.ok and run.after == "LONG"

    control.clear_faults()
    assert executor.close_position(BTC).ok
    assert gateway.position(BTC, ACCOUNT).qty == 0
    assert gateway.stops(ACCOUNT) == ()
