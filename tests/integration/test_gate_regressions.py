"""Each race issue 16 found, as a test named for it: real ccxt against the emulator over
HTTP, a real SQLite database, actions paused at the order path's named points
(core.trading.checkpoints) while another runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from core.domain import Mode, Origin, Policy, PositionState, TradeSize
from core.store import jobs
from core.store import protection as stops
from core.store import repository as repo
from core.store.models import Order
from core.trading import checkpoints
from tests.integration.test_monitor import keyed_entry, write_accounts
from tests.pausing import Paused, in_thread

D = Decimal
ETH = "ETH/USDT"
LONG, FLAT = PositionState.LONG, PositionState.NO_POSITION
LIVE_BOOK = repo.BookKey("live", "default")
DESK_KEY, DESK_SECRET = "desk-key", "desk-secret"


@pytest.fixture
def live(make_engine, control):
    engine = make_engine(live=True, RECV_WINDOW_MS="1000", EXCHANGE_TIMEOUT_MS="2000")
    assert engine.service.modes.request(Mode.LIVE).ok
    return engine


def held(control, asset="ETH", key=None) -> Decimal:
    account = control.account(key) if key else control.account()
    balance = account["balances"].get(asset, {})
    return D(balance.get("free", "0")) + D(balance.get("locked", "0"))


def orders(engine, book=LIVE_BOOK) -> list[Order]:
    with engine.db.session() as session:
        return list(session.query(Order).filter_by(mode=book.mode, account=book.account))


@contextmanager
def buy_held_at(live, point: str) -> Iterator[dict]:
    """A 500 USDT BUY running in a thread of its own, held at `point` for the block; its
    result is in the yielded dict under "buy" once the block ends."""
    out: dict = {}
    pause = Paused(point)
    with checkpoints.listening(pause):
        buy = in_thread(
            lambda: out.setdefault(
                "buy",
                live.service.trading.trade(
                    ETH, LONG, TradeSize(quote_amount=D(500)), shown_mode=Mode.LIVE
                ),
            )
        )
        assert pause.reached.wait(20)
        try:
            yield out
        finally:
            pause.release()
            buy.join(30)


def buy_paused_then_flatten(live, point: str) -> dict:
    """A BUY held at `point` while flatten is pressed; both run to their end. Returns their
    results and whether flatten was still waiting when the BUY was let go."""
    with buy_held_at(live, point) as out:
        flatten = in_thread(
            lambda: out.setdefault(
                "flatten", live.service.kill_switch.flatten(["default"], Mode.LIVE)
            ),
            name="flatten",
        )
        flatten.join(1)
        out["flatten waited"] = flatten.is_alive()
    flatten.join(60)
    return out


def test_the_kill_switch_holds_a_buy_whose_order_is_in_flight(live, control):
    """Flatten pressed while a BUY's order is on the exchange: flatten waits for the BUY,
    then closes what it bought; nothing is bought after the halt."""
    out = buy_paused_then_flatten(live, "placed")
    assert out["flatten waited"], "flatten waits for the trade in flight"
    [outcome] = out["flatten"]
    assert outcome.ok, outcome.message
    assert held(control) * 3000 < 5, "flatten closed what the BUY bought"
    refused = live.service.trading.trade(
        ETH, LONG, TradeSize(quote_amount=D(100)), shown_mode=Mode.LIVE
    )
    assert refused.refused and "python app.py resume --live --yes" in refused.message


def test_a_buy_paused_before_its_send_sends_nothing_once_flatten_halted(live, control):
    """The halt is read again right before every send: a BUY holding its lock when flatten
    halts the book places nothing (flatten then finds nothing to close)."""
    out = buy_paused_then_flatten(live, "locked")
    assert not out["buy"].ok and "halted by flatten" in out["buy"].message
    assert [o for o in orders(live) if o.side == "buy"] == []
    assert held(control) == 0


def test_a_failed_flatten_keeps_the_stop_armed(live, control):
    bid = live.service.reads.market(ETH).bid
    bought = live.service.trading.trade(
        ETH, LONG, TradeSize(quote_amount=D(500)), shown_mode=Mode.LIVE, stop_loss=bid - 50
    )
    assert bought.ok, bought.message
    control.faults(
        {"fail": {"method": "POST", "path": "/api/v3/order", "mode": "http_500", "count": 50}}
    )
    [outcome] = live.service.kill_switch.flatten(["default"], Mode.LIVE)
    assert not outcome.ok
    assert "NOT closed" in outcome.message and "stop-loss" in outcome.message, outcome.message
    with live.db.session() as session:
        [stop] = stops.live_stops(session, LIVE_BOOK)
    assert stop.status == stops.ACTIVE, "the stop still protects the open position"
    control.clear_faults()
    control.set_price("ETHUSDT", str(bid * D("0.95")))
    assert live.service.protection.watch_once() == 1
    assert held(control) * bid < 5


def test_a_close_ends_the_stop_of_the_holding_it_protected(live, control):
    """A stop set with a BUY ends with a manual CLOSE: the next BUY (no stop asked) is not
    sold by the old one."""
    bid = live.service.reads.market(ETH).bid
    assert live.service.trading.trade(
        ETH, LONG, TradeSize(quote_amount=D(500)), shown_mode=Mode.LIVE, stop_loss=bid - 50
    ).ok
    assert live.service.trading.trade(ETH, FLAT, mode=Mode.LIVE, origin=Origin.CLI).ok
    with live.db.session() as session:
        assert stops.live_stops(session, LIVE_BOOK) == []
    assert live.service.trading.trade(
        ETH, LONG, TradeSize(quote_amount=D(500)), shown_mode=Mode.LIVE
    ).ok
    control.set_price("ETHUSDT", str(bid - 80))
    assert live.service.protection.watch_once() == 0
    assert held(control) > 0


def test_a_monitored_accounts_stop_sells_that_account_only(
    tmp_path, monkeypatch, make_engine, exchange, control
):
    control.create_account(DESK_KEY, DESK_SECRET, {"USDT": "500", "ETH": "1"})
    path = write_accounts(tmp_path, keyed_entry("desk", exchange.url, "DESK"))
    monkeypatch.setenv("DESK_API_KEY", DESK_KEY)
    monkeypatch.setenv("DESK_API_SECRET", DESK_SECRET)
    engine = make_engine(live=True, ACCOUNTS_FILE=str(path))
    assert engine.service.modes.request(Mode.LIVE).ok
    assert engine.service.trading.trade(
        ETH, LONG, TradeSize(quote_amount=D(500)), shown_mode=Mode.LIVE
    ).ok
    traded_before = held(control)
    bid = engine.service.reads.market(ETH).bid
    assert engine.service.protection.protect(ETH, account="desk", stop_loss=bid - 50).ok
    control.set_price("ETHUSDT", str(bid - 80))
    assert engine.service.protection.watch_once() == 1
    assert held(control, key=DESK_KEY) * bid < 5, "the desk account's ETH was sold"
    assert held(control) == traded_before, "the traded account was not touched"


def test_a_click_runs_only_in_the_mode_its_tab_showed(make_engine, control):
    """A click made while the page showed SIM is refused once LIVE was confirmed elsewhere
    before its job ran: it never becomes a real order."""
    engine = make_engine(live=True)
    assert engine.service.modes.current() is Mode.SIM
    assert engine.service.modes.request(Mode.LIVE).ok  # another tab confirmed LIVE
    control.clear_requests()
    result = engine.service.trading.trade(
        ETH, LONG, TradeSize(quote_amount=D(500)), shown_mode=Mode.SIM
    )
    assert result.refused and "dashboard is in LIVE now" in result.message, result.message
    assert [c for c in control.requests_log() if c["method"] == "POST"] == []


def test_enforce_buys_back_no_more_than_the_trader_asked(make_engine, control):
    engine = make_engine(live=True, SYNC_POLICY="enforce")
    assert engine.service.modes.request(Mode.LIVE).ok
    assert engine.service.trading.trade(
        ETH, LONG, TradeSize(quote_amount=D(500)), shown_mode=Mode.LIVE
    ).ok
    control.set_balances({"ETH": "0", "USDT": "10000"})  # sold elsewhere; plenty of cash
    engine.service.monitoring.periodic_check()
    enforced = [o for o in orders(engine) if o.origin == "enforce" and o.side == "buy"]
    assert enforced, "enforce bought the LONG back"
    assert all(o.amount * o.price <= D(500) for o in enforced)


def test_enforce_without_a_remembered_size_buys_nothing(make_engine, control):
    engine = make_engine(live=True, SYNC_POLICY="enforce")
    assert engine.service.modes.request(Mode.LIVE).ok
    with engine.db.session() as session:  # a target recorded before sizes were remembered
        repo.set_position_state(session, LIVE_BOOK, ETH, FLAT, D(3000), target=LONG)
    engine.service.monitoring.periodic_check()
    assert [o for o in orders(engine) if o.side == "buy"] == []


def test_switching_to_live_never_trades_by_itself(make_engine, control):
    engine = make_engine(live=True, SYNC_POLICY="enforce")
    assert engine.service.modes.request(Mode.LIVE).ok
    assert engine.service.trading.trade(
        ETH, LONG, TradeSize(quote_amount=D(500)), shown_mode=Mode.LIVE
    ).ok
    assert engine.service.modes.request(Mode.SIM).ok
    control.set_balances({"ETH": "0"})
    control.clear_requests()
    question = engine.service.modes.confirmation()
    assert "ETH/USDT LONG (up to" in question and "trades nothing by itself" in question
    assert engine.service.modes.request(Mode.LIVE).ok
    assert [c for c in control.requests_log() if c["path"] == "/api/v3/order"] == []


def test_the_check_leaves_a_trade_in_flight_to_the_next_round(live, control):
    with buy_held_at(live, "placed") as out:
        view = live.service.monitoring.periodic_check()
    assert out["buy"].ok
    assert ETH not in view.drift and not view.actions
    with live.db.session() as session:
        run = repo.positions(session, LIVE_BOOK)
    assert all(p.sync_status != "drift" for p in run)
    [check] = live.service.monitoring.run(Policy.REPORT, execute=False)
    assert [d for d in check.discrepancies if d.kind.value != "stale_price"] == []


def test_a_job_is_finished_whatever_stops_the_trade(live, control):
    """An unexpected error after an order was placed: the job ends failed (no button stays
    disabled), the order is settled, and the next trade goes on."""

    def explode(point, where):
        if point == "placed":
            raise RuntimeError("boom")

    with checkpoints.listening(explode):
        result = live.service.trading.trade(
            ETH, LONG, TradeSize(quote_amount=D(500)), shown_mode=Mode.LIVE
        )
    assert not result.ok and "unexpected error (RuntimeError)" in result.message
    with live.db.session() as session:
        assert jobs.running_jobs(session) == []
        assert repo.unresolved_orders(session, LIVE_BOOK) == []
    [order] = orders(live)
    assert order.status in ("filled", "cancelled"), order.status
    assert live.service.trading.trade(ETH, FLAT, mode=Mode.LIVE, origin=Origin.CLI).ok
