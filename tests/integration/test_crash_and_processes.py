"""What other processes see: a crash between sending an order and recording it, a trade
lock held by another process, one periodic-check leader among several, and the `trade`
command line as a script would call it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from core.domain import Mode, OrderStatus, PositionState, TradeSize
from core.exchange.ccxt_client import Connection
from core.exchange.ccxt_market import CcxtMarketData
from core.operations.locks import FileLeadership
from core.operations.scheduler import Scheduler, Task
from core.store import paper
from core.store import repository as repo
from core.store.db import Database
from core.store.models import FillRecord, Order

ROOT = Path(__file__).resolve().parents[2]
FAST = {"RECV_WINDOW_MS": "1000", "EXCHANGE_TIMEOUT_MS": "1000"}


def environment(tmp_path, exchange, **extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EXCHANGE_", "DATABASE_", "TRADING_"))
    }
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/trading.db",
            "EXCHANGE_URL": exchange.url,
            "EXCHANGE_API_KEY": "demo-key",
            "EXCHANGE_API_SECRET": "demo-secret",
            "PYTHONPATH": str(ROOT),
            **FAST,
            **extra,
        }
    )
    return env


def run_python(code: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_app(args: list[str], env: dict, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "app.py", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


CRASH_AFTER_SEND = """
    import os
    from decimal import Decimal
    from runtime import build_engine
    from core.config import load_settings
    from core.domain import Mode, PositionState, TradeSize
    from core.exchange.ccxt_gateway import CcxtTradingGateway

    send = CcxtTradingGateway.place_limit_order

    def send_then_die(self, *args, **kwargs):
        send(self, *args, **kwargs)
        os._exit(9)  # killed: the exchange has the order, the app never recorded the answer

    CcxtTradingGateway.place_limit_order = send_then_die
    service = build_engine(load_settings()).service
    assert service.modes.request(Mode.LIVE).ok
    service.trading.trade("ETH/USDT", PositionState.LONG, TradeSize(quote_amount=Decimal(1000)))
"""


def test_a_crash_between_sending_and_recording_is_reconciled_on_the_next_start(
    tmp_path, exchange, control, make_engine
):
    died = run_python(CRASH_AFTER_SEND, environment(tmp_path, exchange))
    assert died.returncode == 9, died.stderr
    held = Decimal(control.account()["balances"]["ETH"]["free"])
    assert held > 0

    crashed = Database.open(f"sqlite:///{tmp_path}/trading.db")
    with crashed.session() as session:
        [order] = session.scalars(select(Order)).all()
        assert order.status == OrderStatus.INTENT.value
    crashed.dispose()

    engine = make_engine(live=True, **FAST)  # the next start reconciles before anything trades
    assert engine.service.modes.current() is Mode.LIVE
    with engine.db.session() as session:
        [order] = session.scalars(select(Order)).all()
        assert order.status == OrderStatus.FILLED.value
        fills = session.scalars(select(FillRecord)).all()
    assert sum(f.qty - f.fee for f in fills if f.fee_asset == "ETH") == held

    again = engine.service.trading.trade(
        "ETH/USDT", PositionState.LONG, TradeSize(quote_amount=Decimal(1000))
    )
    assert again.ok and not again.orders, "the order the crash hid must not be sent twice"


HOLD_LOCK = """
    import sys, time
    from pathlib import Path
    from core.operations.locks import FileTradeLocks

    with FileTradeLocks(Path(sys.argv[1])).hold("default", "ETH/USDT"):
        print("held", flush=True)
        time.sleep(60)
"""


def test_a_trade_lock_held_by_another_process_refuses_the_trade(tmp_path, make_engine):
    engine = make_engine()
    lock_dir = tmp_path / "locks"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD_LOCK), str(lock_dir)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = engine.service.trading.trade("ETH/USDT", PositionState.LONG)
        assert not result.ok and result.message == "a trade for ETH/USDT is already running"
        assert not result.orders
    finally:
        holder.kill()
        holder.wait()
    assert engine.service.trading.trade("ETH/USDT", PositionState.LONG).ok


def scheduler(tmp_path) -> Scheduler:
    return Scheduler(FileLeadership(tmp_path, "default"), [Task("check", 0.02, lambda: None)])


def test_one_periodic_check_leads_and_another_takes_over_when_it_stops(tmp_path):
    first, second = scheduler(tmp_path), scheduler(tmp_path)
    first.start()
    deadline = time.monotonic() + 5
    while first.runs["check"] < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    second.start()
    time.sleep(0.2)
    assert first.is_leader and first.runs["check"] >= 3
    assert not second.is_leader and second.runs["check"] == 0
    first.stop()
    deadline = time.monotonic() + 5
    while second.runs["check"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    second.stop()
    assert second.runs["check"] > 0


def test_trade_command_prints_one_json_object_and_exits_by_outcome(tmp_path, exchange, control):
    env = environment(tmp_path, exchange, EXCHANGE_API_KEY="", EXCHANGE_API_SECRET="")
    done = run_app(["trade", "ETH/USDT", "--target", "LONG", "--size-quote", "500", "--json"], env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) >= {
        "ok",
        "symbol",
        "target",
        "before",
        "after",
        "orders",
        "api_calls",
        "duration_ms",
        "message",
    }
    assert result["ok"] is True and result["after"] == "LONG"
    assert result["orders"][0]["status"] == "filled"
    assert not [c for c in control.requests_log() if c["signed"]], "SIM signs nothing"

    sold = run_app(["trade", "ETH/USDT", "--target", "SHORT", "--json"], env)
    assert sold.returncode == 0, sold.stderr
    assert json.loads(sold.stdout)["after"] == "SHORT"


def test_trade_command_bad_input_exits_2_and_sends_nothing(tmp_path, exchange, control):
    env = environment(tmp_path, exchange)
    control.clear_requests()
    cases = [
        (["trade", "DOGE/EUR", "--target", "LONG"], "DOGE/EUR is not a market on"),
        (["trade", "ETH/USDT", "--target", "UP"], "--target accepts"),
        (["trade", "ETH/USDT", "--target", "LONG", "--size-quote", "-3"], "above zero"),
        (["trade", "ETH/USDT", "--target", "LONG", "--size-pct", "150"], "cannot be above 100"),
        (["trade", "ETH/USDT", "--target", "LONG", "--live"], "not confirmed"),
    ]
    for args, message in cases:
        done = run_app(args, env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "demo-secret" not in done.stderr + done.stdout
    assert not [c for c in control.requests_log() if c["method"] in ("POST", "DELETE")]


def test_live_trade_command_with_yes_is_verified(tmp_path, exchange, control):
    done = run_app(
        [
            "trade",
            "ETH/USDT",
            "--target",
            "LONG",
            "--size-quote",
            "800",
            "--live",
            "--yes",
            "--json",
        ],
        environment(tmp_path, exchange),
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] and result["after"] == "LONG"
    assert Decimal(control.account()["balances"]["ETH"]["free"]) > 0


START = """
from runtime import build_engine
from core.config import load_settings
build_engine(load_settings()).close()
print("started")
"""


def test_several_processes_starting_on_a_new_database_all_start(tmp_path, exchange):
    """Workers of a fresh install start at once: one migrates, one seeds the paper account
    and sets the mode; none fails on another's tables or rows."""
    env = environment(tmp_path, exchange)
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(START)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [start.communicate(timeout=90) for start in starts]
    assert [start.returncode for start in starts] == [0, 0, 0, 0], [err for _, err in outputs]
    db = Database.open(env["DATABASE_URL"])
    try:
        with db.session() as session:
            assert repo.get_value(session, "mode") == "sim"
            assert paper.balances(session, "default")["USDT"].free == Decimal(10000)
    finally:
        db.dispose()


def test_a_forked_process_reads_its_own_answers_on_a_shared_client(exchange, control):
    """Background trades run in forked processes: a client the parent keeps using must not
    hand the child the parent's answers (or the other way round) on inherited sockets."""
    market = CcxtMarketData(Connection("mexc", exchange.url))
    market.order_book("ETH/USDT")  # the client now holds a pooled connection
    control.faults({"latency_ms": 20})
    child = os.fork()
    if child == 0:
        books = [market.order_book("BTC/USDT") for _ in range(25)]
        os._exit(0 if all(b.bids and b.bids[0][0] > 10000 for b in books) else 1)
    books = [market.order_book("ETH/USDT") for _ in range(25)]
    _, status = os.waitpid(child, 0)
    assert all(b.bids and b.bids[0][0] < 10000 for b in books), "the parent read BTC books"
    assert os.waitstatus_to_exitcode(status) == 0, "the child read ETH books"
