"""--state-file: the MEXC exchange resumes after a restart (accounts, orders, trades, id
counters, prices), is saved soon after each change (a killed process loses nothing
answered), writes a burst of requests in a few saves, and refuses a state file it cannot
trust."""

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from emulator import saver
from emulator.control_client import ControlClient
from emulator.server import EmulatorServer
from emulator.tests.conftest import mexc_client

REPO = Path(__file__).resolve().parents[2]
ETH = "ETH/USDT"
SETTLE_S = 3 * saver.DEBOUNCE_S  # long enough for a debounced save to land


def demo(url: str):
    client = mexc_client(url, "demo-key", "demo-secret")
    client.load_markets()
    return client


def holdings(client) -> dict:
    balance = client.fetch_balance()
    return {asset: (balance[asset]["free"], balance[asset]["used"]) for asset in ("USDT", "ETH")}


def start_cli(state: Path, *args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "--port",
            "0",
            "--freeze",
            "--state-file",
            str(state),
            *args,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return process, process.stdout.readline().strip()


def test_the_exchange_resumes_after_a_restart(tmp_path):
    state = tmp_path / "state.json"
    with EmulatorServer(seed=11, freeze=True, state_file=state) as server:
        client = demo(server.url)
        bought = client.create_order(ETH, "market", "buy", 0.2)
        resting = client.create_order(ETH, "limit", "buy", 0.1, 3000, {"clientOrderId": "dip"})
        ControlClient(server.url).set_price("BTCUSDT", "91234.5")
        before = holdings(client)
        trades = client.fetch_my_trades(ETH)
        assert before["ETH"][0] > 0 and before["USDT"][1] == 300  # the resting order's lock
    with EmulatorServer(seed=99, freeze=True, state_file=state) as server:
        client = demo(server.url)
        assert holdings(client) == before
        (still_open,) = client.fetch_open_orders(ETH)
        assert (still_open["id"], still_open["clientOrderId"]) == (resting["id"], "dip")
        assert client.fetch_order(bought["id"], ETH)["status"] == "closed"
        assert client.fetch_my_trades(ETH) == trades
        assert client.fetch_ticker("BTC/USDT")["last"] == 91234.5
        fresh = client.create_order(ETH, "limit", "buy", 0.1, 2900)
        assert fresh["id"] not in {bought["id"], resting["id"]}
        client.create_order(ETH, "market", "sell", 0.1)
        new_trade_ids = {trade["id"] for trade in client.fetch_my_trades(ETH)}
        assert len(new_trade_ids) == len(trades) + 1  # no trade id repeated either


def test_each_change_is_saved_soon_so_a_killed_process_loses_nothing(tmp_path):
    state = tmp_path / "state.json"
    process, url = start_cli(state)
    try:
        client = demo(url)
        order = client.create_order(ETH, "market", "buy", 0.1)
        after_trade = holdings(client)
        time.sleep(SETTLE_S)
    finally:
        process.send_signal(signal.SIGKILL)  # no clean stop, no last save
        process.wait(timeout=10)
    saved = json.loads(state.read_text())
    assert saved["version"] == 1 and saved["counters"]["order"] == 1
    assert [o["order_id"] for o in saved["orders"]] == [order["id"]]
    usdt = next(a for a in saved["accounts"] if a["api_key"] == "demo-key")["balances"]["USDT"]
    assert Decimal(usdt["free"]) == Decimal(str(after_trade["USDT"][0]))
    process, url = start_cli(state)
    try:
        assert holdings(demo(url)) == after_trade
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_a_burst_of_requests_costs_a_few_writes(tmp_path, monkeypatch):
    writes = []
    real_write = saver.state_file.write
    monkeypatch.setattr(
        saver.state_file, "write", lambda *args: (writes.append(1), real_write(*args))
    )
    with EmulatorServer(seed=1, freeze=True, state_file=tmp_path / "state.json") as server:
        client = demo(server.url)
        writes.clear()
        started = time.monotonic()
        for _ in range(30):
            client.create_order(ETH, "limit", "buy", 0.01, 3000)
        elapsed = time.monotonic() - started
        time.sleep(SETTLE_S)
        assert 1 <= len(writes) <= elapsed / saver.DEBOUNCE_S + 2
    saved = json.loads((tmp_path / "state.json").read_text())
    assert len(saved["orders"]) == 30


def test_reset_goes_back_to_the_start_state_and_saves_it(tmp_path):
    state = tmp_path / "state.json"
    with EmulatorServer(freeze=True, state_file=state) as server:
        demo(server.url).create_order(ETH, "market", "buy", 0.1)
        ControlClient(server.url).reset()
        saved = json.loads(state.read_text())
        assert saved["orders"] == [] and saved["counters"]["order"] == 1  # ids never repeat
    with EmulatorServer(freeze=True, state_file=state) as server:
        usdt = ControlClient(server.url).account("demo-key")["balances"]["USDT"]
        assert usdt == {"free": "10000", "locked": "0"}


@pytest.mark.parametrize(
    "content",
    ['{"format": "exchange-emulator/mexc-spot", "version": 1, "accou', "[]", '{"version": 2}'],
)
def test_a_corrupt_state_file_stops_start_up_with_one_line(tmp_path, content):
    state = tmp_path / "state.json"
    state.write_text(content)
    process, url = start_cli(state)
    assert url == ""
    assert process.wait(timeout=10) == 2
    error = process.stderr.read().strip()
    assert len(error.splitlines()) == 1
    assert error.startswith(f"emulator: cannot resume from {state}")
    assert state.read_text() == content  # never started afresh over it


def test_the_state_file_is_for_the_mexc_dialect_only(tmp_path):
    with pytest.raises(ValueError, match="mexc dialect only"):
        EmulatorServer(dialect="bybit", state_file=tmp_path / "state.json")
