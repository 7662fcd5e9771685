"""The shared demo exchange: one background emulator per data folder, found again by every
caller, started once even when two processes ask at the same moment, stopping when idle and
resumed from its state file on the next call."""

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from emulator import daemon
from emulator.daemon import DemoExchangeError, ensure_demo_exchange, stop_demo_exchange
from emulator.tests.conftest import mexc_client

REPO = Path(__file__).resolve().parents[2]
ETH = "ETH/USDT"


@pytest.fixture
def folder(tmp_path):
    yield tmp_path / "data"
    stop_demo_exchange(tmp_path / "data")


def emulators_serving(folder: Path) -> list[psutil.Process]:
    """The live emulator processes whose state file is in `folder`."""
    state = str(folder.resolve() / daemon.STATE_FILE)
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if state in cmdline and "emulator" in cmdline and process.info["status"] != "zombie":
            found.append(process)
    return found


def wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still runs after {timeout} s")


def info(url: str) -> dict:
    return requests.get(url + "/_emulator/info", timeout=5).json()


def test_ensure_starts_one_exchange_and_finds_it_again(folder):
    url = ensure_demo_exchange(folder)
    assert requests.get(url + "/api/v3/ping", timeout=5).json() == {}
    assert ensure_demo_exchange(folder) == url
    (process,) = emulators_serving(folder)
    assert process.pid == info(url)["pid"] != os.getpid()
    assert (folder / daemon.URL_FILE).read_text().strip() == url
    assert (folder / daemon.STATE_FILE).exists()
    demo = mexc_client(url, "demo-key", "demo-secret")
    demo.load_markets()
    assert demo.fetch_balance()["USDT"]["free"] == 10000


def test_two_processes_asking_at_once_share_one_exchange(folder):
    script = (
        "import sys; from emulator.daemon import ensure_demo_exchange as e; print(e(sys.argv[1]))"
    )
    callers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(folder)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        for _ in range(2)
    ]
    urls = [caller.communicate(timeout=60)[0].strip() for caller in callers]
    assert all(caller.returncode == 0 for caller in callers)
    assert urls[0] == urls[1] and urls[0].startswith("http://127.0.0.1:")
    assert len(emulators_serving(folder)) == 1


def test_an_idle_exchange_stops_and_the_next_call_resumes_it(folder):
    url = ensure_demo_exchange(folder, idle_exit=1)
    first_pid = info(url)["pid"]
    client = mexc_client(url, "demo-key", "demo-secret")
    client.load_markets()
    bought = client.create_order(ETH, "market", "buy", 0.1)
    resting = client.create_order(ETH, "limit", "buy", 0.1, 3000)
    balance = client.fetch_balance()
    wait_gone(first_pid, timeout=15)  # idle for a second: saved and gone
    assert not (folder / daemon.URL_FILE).exists()
    url = ensure_demo_exchange(folder, idle_exit=1)
    assert info(url)["pid"] != first_pid
    client = mexc_client(url, "demo-key", "demo-secret")
    client.load_markets()
    resumed = client.fetch_balance()
    assert {a: resumed[a] for a in ("USDT", "ETH")} == {a: balance[a] for a in ("USDT", "ETH")}
    assert [order["id"] for order in client.fetch_open_orders(ETH)] == [resting["id"]]
    assert [trade["order"] for trade in client.fetch_my_trades(ETH)] == [bought["id"]]


def test_stop_leaves_the_state_file_and_says_whether_one_ran(folder):
    assert stop_demo_exchange(folder) is False
    url = ensure_demo_exchange(folder)
    pid = info(url)["pid"]
    assert stop_demo_exchange(folder) is True
    wait_gone(pid, timeout=10)
    assert emulators_serving(folder) == []
    assert (folder / daemon.STATE_FILE).exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/api/v3/ping", timeout=2)


def test_a_stale_url_file_is_not_trusted(folder, emulator):
    """The url file names a port another emulator now answers on: a new one is started."""
    folder.mkdir()
    (folder / daemon.URL_FILE).write_text(emulator.url + "\n")
    url = ensure_demo_exchange(folder)
    assert url != emulator.url
    assert info(url)["state_file"] == str(folder.resolve() / daemon.STATE_FILE)


def test_a_state_file_it_cannot_resume_from_fails_with_the_emulators_reason(folder):
    folder.mkdir()
    (folder / daemon.STATE_FILE).write_text("not json")
    # the emulator's own reason, not "did not answer within START_TIMEOUT_S": it did not
    # wait for the start-up timeout
    with pytest.raises(DemoExchangeError, match=r"cannot resume from .*not valid JSON"):
        ensure_demo_exchange(folder)
    assert (folder / daemon.STATE_FILE).read_text() == "not json"
