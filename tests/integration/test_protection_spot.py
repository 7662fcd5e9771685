"""Protection on spot, against the emulator over HTTP: an app-side stop that fires once
when the price crosses it, survives a restart, is refused when it makes no sense; and the
kill switch (flatten, halt, resume)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest

from core.domain import Mode, PositionState, TradeSize
from core.errors import InputError
from core.store import protection as stops
from core.store import repository as repo

ROOT = Path(__file__).resolve().parents[2]
LONG, FLAT = PositionState.LONG, PositionState.NO_POSITION
D = Decimal
LIVE_BOOK = repo.BookKey("live", "default")


@pytest.fixture
def live(make_engine, control):
    engine = make_engine(live=True, RECV_WINDOW_MS="1000", EXCHANGE_TIMEOUT_MS="2000")
    assert engine.service.modes.request(Mode.LIVE).ok
    return engine


def bought(engine, symbol="ETH/USDT", quote=1000):
    result = engine.service.trading.trade(symbol, LONG, TradeSize(quote_amount=D(quote)))
    assert result.ok, result.message
    return result


def sells(control) -> list[dict]:
    return [
        c for c in control.requests_log() if c["method"] == "POST" and c["path"] == "/api/v3/order"
    ]


def stop_of(engine, book=LIVE_BOOK, symbol="ETH/USDT"):
    with engine.db.session() as session:
        return next(s for s in stops.latest_stops(session, book) if s.symbol == symbol)


def test_a_stop_fires_once_when_the_bid_crosses_it_and_survives_a_restart(
    make_engine, live, control
):
    bought(live)
    price = (
        D(control.account()["balances"]["ETH"]["free"])
        and live.service.reads.market("ETH/USDT").bid
    )
    outcome = live.service.protection.protect("ETH/USDT", mode=Mode.LIVE, stop_loss=price - 50)
    assert outcome.ok and "app-side" in outcome.message, outcome.message
    live.close()

    restarted = make_engine(live=True, RECV_WINDOW_MS="1000")  # the same database
    assert stop_of(restarted).status == stops.ACTIVE
    assert restarted.service.protection.watch_once() == 0  # not crossed: nothing happens
    control.clear_requests()
    control.set_price("ETHUSDT", str(price - 80))
    assert restarted.service.protection.watch_once() == 1
    assert len(sells(control)) == 1
    assert D(control.account()["balances"]["ETH"]["free"]) < D("0.001")
    stop = stop_of(restarted)
    assert stop.status == stops.DONE and "stop-loss" in stop.message and "fired" in stop.message
    view = restarted.service.reads.dashboard()
    assert next(p for p in view.positions if p.symbol == "ETH/USDT").state is FLAT
    assert view.orders[0].origin == "stop"
    assert restarted.service.protection.watch_once() == 0  # done: never a second sell
    assert len(sells(control)) == 1


WATCH = """
import sys, time
from runtime import build_engine
from core.config import load_settings
engine = build_engine(load_settings())
deadline = time.monotonic() + float(sys.argv[1])
fired = 0
while time.monotonic() < deadline:
    fired += engine.service.protection.watch_once()
    time.sleep(0.05)
print(fired)
"""


def test_two_watchers_in_two_processes_never_both_sell(tmp_path, live, control, exchange):
    bought(live)
    bid = live.service.reads.market("ETH/USDT").bid
    assert live.service.protection.protect("ETH/USDT", mode=Mode.LIVE, stop_loss=bid - 40).ok
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("EXCHANGE_", "DATABASE_"))},
        "DATABASE_URL": f"sqlite:///{tmp_path}/trading.db",
        "EXCHANGE_URL": exchange.url,
        "EXCHANGE_API_KEY": "demo-key",
        "EXCHANGE_API_SECRET": "demo-secret",
        "PYTHONPATH": str(ROOT),
    }
    watchers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WATCH), "6"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(3)  # both are watching
    control.clear_requests()
    control.set_price("ETHUSDT", str(bid - 100))
    fired = [int(w.communicate(timeout=60)[0].strip() or 0) for w in watchers]
    assert sorted(fired) == [0, 1]
    assert len(sells(control)) == 1


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ({"stop_loss": D(999999)}, "must be below the bid"),
        ({"take_profit": D(1)}, "must be above the bid"),
        ({"stop_loss_pct": D(-3)}, "above 0 and at most 50"),
        ({"stop_loss_pct": D(90)}, "above 0 and at most 50"),
    ],
)
def test_a_stop_that_makes_no_sense_is_refused_and_nothing_is_written(
    live, control, asked, message
):
    bought(live)
    with pytest.raises(InputError, match=message):
        live.service.protection.protect("ETH/USDT", mode=Mode.LIVE, **asked)
    with live.db.session() as session:
        assert stops.latest_stops(session, LIVE_BOOK) == []


def test_a_stop_on_a_symbol_not_held_is_refused(live, control):
    with pytest.raises(InputError, match="is not held"):
        live.service.protection.protect("BTC/USDT", mode=Mode.LIVE, stop_loss=D(1000))


def test_a_stop_given_with_a_trade_protects_the_long_it_buys(live, control):
    bid = live.service.reads.market("ETH/USDT").bid
    result = live.service.trading.trade(
        "ETH/USDT", LONG, TradeSize(quote_amount=D(500)), stop_loss=bid - 100, take_profit=bid + 100
    )
    assert result.ok and "stop-loss" in result.message and "take-profit" in result.message
    stop = stop_of(live)
    assert (stop.status, stop.placement) == (stops.ACTIVE, "app")
    row = next(p for p in live.service.reads.dashboard().positions if p.symbol == "ETH/USDT")
    assert row.stop.stop_loss == stop.stop_loss and row.stop.distance_pct > 0


def test_a_stop_with_a_target_of_no_position_is_refused_before_anything_is_sent(live, control):
    control.clear_requests()
    result = live.service.trading.trade("ETH/USDT", FLAT, stop_loss=D(1000))
    assert result.refused and "goes with a LONG target" in result.message
    assert not [c for c in control.requests_log() if c["signed"]]


def test_flatten_cancels_orders_closes_positions_and_halts_until_resume(make_engine, live, control):
    bought(live, "ETH/USDT")
    bought(live, "BTC/USDT")
    gateway = live.service.wiring.live_gateway()
    bid = live.service.reads.market("ETH/USDT").bid
    gateway._ready().create_order("ETH/USDT", "limit", "buy", 0.01, float(bid / 2))  # resting
    assert live.service.protection.protect("ETH/USDT", mode=Mode.LIVE, stop_loss=bid - 60).ok

    [outcome] = live.service.kill_switch.flatten(["default"], Mode.LIVE)
    assert outcome.ok and outcome.cancelled == 1, outcome.message
    account = control.account()
    assert account["open_orders"] == []
    for asset in ("ETH", "BTC"):
        assert D(account["balances"][asset]["free"]) < D("0.001")
    assert stop_of(live).status == stops.DONE  # ended once the close was verified
    refused = live.service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=D(100)))
    assert refused.refused and "trading halted by flatten at" in refused.message
    assert live.service.reads.dashboard().badge.text == "HALTED"
    live.close()

    restarted = make_engine(live=True)
    assert restarted.service.trading.trade("ETH/USDT", LONG).refused  # the halt survived
    assert restarted.service.kill_switch.resume("default", Mode.LIVE) == (
        "account default (LIVE): trading resumed"
    )
    assert restarted.service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=D(100))).ok


def test_flatten_leaves_no_target_behind_even_for_holdings_that_drifted_away(live, control):
    """The account sold its ETH behind the app's back (drift: the app still asks LONG).
    Flatten asks NO_POSITION of every symbol, so the halted account is in sync, not
    drifting until someone resumes."""
    bought(live, "ETH/USDT")
    control.set_balances({"ETH": "0"})
    control.clear_requests()
    [outcome] = live.service.kill_switch.flatten(["default"], Mode.LIVE)
    assert outcome.ok, outcome.message
    assert sells(control) == [], "nothing was held, so nothing is sold"
    with live.db.session() as session:
        eth = repo.find_position(session, LIVE_BOOK, "ETH/USDT")
        assert (eth.target_state, eth.sync_status) == (FLAT.value, "in_sync")


def test_flatten_and_resume_on_the_command_line(tmp_path, exchange, control):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("EXCHANGE_", "DATABASE_"))},
        "DATABASE_URL": f"sqlite:///{tmp_path}/trading.db",
        "EXCHANGE_URL": exchange.url,
        "EXCHANGE_API_KEY": "demo-key",
        "EXCHANGE_API_SECRET": "demo-secret",
        "PYTHONPATH": str(ROOT),
    }

    def app(*args):
        return subprocess.run(
            [sys.executable, "app.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert (
        app(
            "trade", "ETH/USDT", "--target", "LONG", "--size-quote", "300", "--live", "--yes"
        ).returncode
        == 0
    )
    protected = app("protect", "eth/usdt", "--stop-loss-pct", "5", "--live", "--json")
    assert protected.returncode == 0, protected.stderr
    assert json.loads(protected.stdout)["placement"] == "app"
    wrong = app("protect", "ETH/USDT", "--stop-loss", "999999", "--live")
    assert wrong.returncode == 2 and "must be below the bid" in wrong.stderr
    flat = app("flatten", "--live", "--yes", "--json")
    assert flat.returncode == 0, flat.stderr
    assert json.loads(flat.stdout)["accounts"][0]["ok"]
    halted = app("trade", "ETH/USDT", "--target", "LONG", "--live", "--yes")
    assert halted.returncode == 2 and "trading halted by flatten" in halted.stderr
    assert app("resume", "--live", "--yes").returncode == 0
    assert (
        app(
            "trade", "ETH/USDT", "--target", "LONG", "--size-quote", "200", "--live", "--yes"
        ).returncode
        == 0
    )
