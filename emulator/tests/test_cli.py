"""`python -m emulator`: prints its URL, serves, stops cleanly on SIGTERM; bad arguments exit 2."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def run_emulator(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "emulator", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_serves_the_configured_account_and_stops_on_sigterm():
    process = run_emulator(
        "--port", "0", "--seed", "3", "--freeze", "--api-key", "cli-key", "--api-secret", "s",
        "--balance", "USDT=250", "--balance", "eth=1.5",
    )  # fmt: skip
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url + "/api/v3/ping", timeout=5).json() == {}
        balances = requests.get(url + "/_emulator/accounts/cli-key", timeout=5).json()["balances"]
        assert balances == {
            "ETH": {"free": "1.5", "locked": "0"},
            "USDT": {"free": "250", "locked": "0"},
        }
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_key_without_secret_and_bad_balance_exit_2():
    missing_secret = run_emulator("--port", "0", "--api-key", "k")
    assert missing_secret.wait(timeout=10) == 2
    assert "--api-secret" in missing_secret.stderr.read()
    bad_balance = run_emulator("--port", "0", "--balance", "USDT=lots")
    assert bad_balance.wait(timeout=10) == 2
    assert "ASSET=AMOUNT" in bad_balance.stderr.read()


def test_dialect_flag_serves_bybit_and_refuses_unknown_dialects():
    process = run_emulator("--port", "0", "--freeze", "--dialect", "bybit")
    try:
        url = process.stdout.readline().strip()
        assert requests.get(url + "/v5/market/time", timeout=5).json()["retCode"] == 0
        account = requests.get(url + "/_emulator/accounts/demo-key", timeout=5).json()
        assert account["balances"]["USDT"]["wallet"] == "10000" and account["positions"] == {}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    unknown = run_emulator("--port", "0", "--dialect", "kraken")
    assert unknown.wait(timeout=10) == 2
    assert "--dialect" in unknown.stderr.read()


def test_markets_flag_is_refused_where_it_cannot_apply():
    for args, said in (
        (("--markets", "-1"), "0 to 20000"),
        (("--markets", "many"), "not a whole number"),
        (("--markets", "10", "--dialect", "bybit"), "the mexc dialect"),
    ):
        process = run_emulator("--port", "0", *args)
        assert process.wait(timeout=30) == 2
        assert said in process.stderr.read()
