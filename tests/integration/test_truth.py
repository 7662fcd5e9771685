"""The command line and the engine never claim what the account does not hold: one demo
exchange per data folder shared by every run (and kept across restarts), a `diagnose`
that says "failed" for an account it could not read, input that cannot be misread,
TRADING_MODE, and the defects found by reading the code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from core.domain import Mode, OrderStatus, PositionState, Side, TradeSize
from core.store import paper, runs
from core.store import repository as repo
from core.store.models import Order, utcnow
from emulator.control_client import ControlClient
from emulator.daemon import ensure_demo_exchange, stop_demo_exchange

ROOT = Path(__file__).resolve().parents[2]
LONG, FLAT = PositionState.LONG, PositionState.NO_POSITION


def embedded(tmp_path, **extra) -> dict:
    """The embedded defaults (no exchange URL, no keys: the local demo exchange), in a data
    folder of the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXCHANGE_", "DATABASE_"))}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/trading.db",
            "PYTHONPATH": str(ROOT),
            "EXCHANGE_TIMEOUT_MS": "2000",
            "RECV_WINDOW_MS": "1000",
            **extra,
        }
    )
    env.pop("TRADING_MODE", None)
    return env


def app(*args: str, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "app.py", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert "demo-secret" not in done.stdout + done.stderr
    return done


@pytest.fixture
def demo_folder(tmp_path):
    yield tmp_path / "demo-exchange"
    stop_demo_exchange(tmp_path / "demo-exchange")


def test_trade_live_then_diagnose_agree_on_the_embedded_defaults_also_after_a_restart(
    tmp_path, demo_folder
):
    env = embedded(tmp_path)
    bought = app(
        "trade", "ETH/USDT", "--target", "LONG", "--size-quote", "500", "--live", "--yes",
        "--json", env=env,
    )  # fmt: skip
    assert bought.returncode == 0, bought.stderr
    assert json.loads(bought.stdout)["after"] == "LONG"

    found = app("diagnose", "--json", env=env)
    assert found.returncode == 0, found.stdout + found.stderr
    assert json.loads(found.stdout)["discrepancies"] == []

    held = ControlClient(ensure_demo_exchange(demo_folder)).account()["balances"]["ETH"]
    assert stop_demo_exchange(demo_folder)  # the machine restarts: the exchange goes away
    again = app("diagnose", "--json", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["discrepancies"] == []
    resumed = ControlClient(ensure_demo_exchange(demo_folder)).account()["balances"]["ETH"]
    assert resumed == held


def test_diagnose_with_the_exchange_down_fails_and_never_says_in_sync(tmp_path):
    env = embedded(
        tmp_path,
        EXCHANGE_URL="http://127.0.0.1:9",
        EXCHANGE_API_KEY="some-key",
        EXCHANGE_API_SECRET="some-secret",
        EXCHANGE_TIMEOUT_MS="500",
    )
    done = app("diagnose", env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "in sync" not in done.stdout
    assert "failed" in done.stdout
    assert "0 discrepancies over 0 accounts read; 1 account failed" in done.stdout
    listed = app("diagnose", "--json", env=env)
    assert listed.returncode == 2
    assert json.loads(listed.stdout)["errors"][0]["account"] == "default"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trade", "ETH/USDT", "--target", "LONG", "--yes"], "--yes only applies to --live"),
        (["trade", "ETH/USDT", "--target", "LONG", "--size-quote", "1,5"], "use a dot"),
        (["trade", "ETH/USDT", "--target", "LONG", "--size-pct", "9,5"], "use a dot"),
    ],
)
def test_input_that_could_be_misread_exits_2_and_sends_nothing(tmp_path, args, message):
    env = embedded(tmp_path, EXCHANGE_URL="http://127.0.0.1:9")  # never reached
    done = app(*args, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr


def test_symbols_are_read_in_any_case(make_engine, control):
    engine = make_engine()
    result = engine.service.trading.trade("eth/usdt", LONG, TradeSize(quote_amount=Decimal(200)))
    assert result.ok and result.symbol == "ETH/USDT", result.message


def test_trading_mode_live_starts_a_new_database_live_when_the_keys_work(make_engine, control):
    service = make_engine(live=True, TRADING_MODE="live").service
    assert service.modes.current() is Mode.LIVE
    view = service.reads.dashboard()
    assert view.pnl.equity == Decimal(10000) and view.balances_time is not None


def test_trading_mode_live_without_keys_stays_sim_and_says_why(make_engine, caplog):
    service = make_engine(TRADING_MODE="live").service
    assert service.modes.current() is Mode.SIM
    assert "TRADING_MODE=live refused, starting in SIM" in caplog.text
    assert "EXCHANGE_API_KEY" in caplog.text


def test_trading_mode_applies_only_to_a_new_database(make_engine, control):
    first = make_engine(live=True, TRADING_MODE="live")
    assert first.service.modes.request(Mode.SIM).ok
    first.close()
    assert make_engine(live=True, TRADING_MODE="live").service.modes.current() is Mode.SIM


def test_an_intent_the_exchange_never_saw_is_settled_once_as_never_arrived(make_engine, control):
    engine = make_engine(live=True, RECV_WINDOW_MS="100")
    book = repo.BookKey("live", "default")
    with engine.db.session() as session:
        repo.record_intent(
            session, book, client_order_id="td-never-sent", symbol="ETH/USDT",
            side=Side.BUY, price=Decimal(3000), amount=Decimal("0.1"),
        )  # fmt: skip
        session.get(Order, 1).created_at = utcnow() - timedelta(minutes=5)
    assert engine.service.trading.reconcile_unresolved() == []
    with engine.db.session() as session:
        order = session.get(Order, 1)
        assert (order.status, order.reason) == (
            OrderStatus.REJECTED.value,
            "never reached the exchange",
        )
    control.clear_requests()
    assert engine.service.trading.reconcile_unresolved() == []
    assert control.requests_log() == [], "a settled intent is not asked about again"


def test_a_sim_overdraft_is_refused_with_a_message_and_recorded_like_a_failed_trade(
    make_engine, control
):
    """Two BUYs on two symbols that each plan with the same free cash: the second to fill
    finds too little left; it is refused in words, recorded, and no balance goes negative."""
    engine = make_engine()
    service = engine.service
    control.faults({"latency_ms": 150})
    results = {}

    def buy(symbol):
        results[symbol] = service.trading.trade(symbol, LONG, TradeSize(quote_amount=Decimal(8000)))

    threads = [threading.Thread(target=buy, args=(s,)) for s in ("ETH/USDT", "BTC/USDT")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    control.clear_faults()
    outcomes = sorted(results.values(), key=lambda r: r.ok)
    refused, done = outcomes
    assert done.ok and not refused.ok, [r.message for r in outcomes]
    assert "too little free USDT" in refused.message and "nothing was traded" in refused.message
    with engine.db.session() as session:
        assert all(b.free >= 0 for b in paper.balances(session, "default").values())
        failed = [
            r for r in runs.recent_sync_runs(session, repo.BookKey("sim", "default")) if not r.ok
        ]
    assert [r.symbol for r in failed] == [refused.symbol]
