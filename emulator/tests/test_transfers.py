"""Deposits and withdrawals made through the control API: they move the balance when
completed, MEXC's wallet histories list them as ccxt's mexc reads them (statuses, a
withdrawal's amount less its fee, from a start time), a bad request changes nothing, and
the state file keeps them."""

import time

import pytest

from emulator.control_client import ControlClient
from emulator.server import EmulatorServer
from emulator.tests.conftest import mexc_client


def test_completed_transfers_move_the_balance_and_ccxt_reads_both_histories(control, trader):
    client, key = trader
    cash = client.fetch_balance()["USDT"]["total"]
    control.transfer("deposit", "1000", api_key=key)
    control.transfer("deposit", "40", api_key=key, status="pending")
    withdrawal = control.transfer("withdrawal", "300", api_key=key, fee="1")
    control.transfer("withdrawal", "20", api_key=key, status="failed")
    assert client.fetch_balance()["USDT"]["total"] == cash + 1000 - 300

    deposits = client.fetch_deposits("USDT")
    assert sorted((d["amount"], d["status"], d["id"]) for d in deposits) == [
        (40, "pending", None),  # MEXC's deposits carry no id: their hash names them
        (1000, "ok", None),
    ]
    assert all(d["txid"] and d["currency"] == "USDT" and d["timestamp"] for d in deposits)
    withdrawals = {w["status"]: w for w in client.fetch_withdrawals("USDT")}
    assert set(withdrawals) == {"ok", "failed"}
    done = withdrawals["ok"]
    assert (done["id"], done["amount"], done["fee"]["cost"]) == (withdrawal["id"], 299, 1)

    later = int(time.time() * 1000) + 60_000
    assert client.fetch_deposits("USDT", later) == []
    assert client.fetch_withdrawals("BTC") == []


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "gift", "asset": "USDT", "amount": "5"},
        {"kind": "deposit", "asset": "USDT", "amount": "-5"},
        {"kind": "deposit", "asset": "USDT", "amount": "5", "fee": "1"},
        {"kind": "withdrawal", "asset": "USDT", "amount": "5", "fee": "6"},
        {"kind": "withdrawal", "asset": "USDT", "amount": "999999"},
        {"kind": "deposit", "asset": "USDT", "amount": "5", "status": "lost"},
        {"kind": "deposit", "amount": "5"},
    ],
)
def test_a_bad_transfer_is_refused_and_changes_nothing(control, trader, body):
    client, key = trader
    before = control.account(key)
    answer = control.call("POST", f"/_emulator/accounts/{key}/transfers", json=body)
    assert answer.status_code == 400 and answer.json()["code"] == 400
    assert control.account(key) == before
    assert client.fetch_deposits("USDT") == [] and client.fetch_withdrawals("USDT") == []


def test_the_state_file_keeps_the_transfers(tmp_path):
    state = tmp_path / "state.json"
    with EmulatorServer(seed=3, freeze=True, state_file=state) as server:
        ControlClient(server.url).transfer("deposit", "1000")
        ControlClient(server.url).transfer("withdrawal", "10", fee="1")
        client = mexc_client(server.url, "demo-key", "demo-secret")
        before = (client.fetch_deposits("USDT"), client.fetch_withdrawals("USDT"))
    with EmulatorServer(seed=3, freeze=True, state_file=state) as server:
        client = mexc_client(server.url, "demo-key", "demo-secret")
        assert (client.fetch_deposits("USDT"), client.fetch_withdrawals("USDT")) == before
        assert client.fetch_balance()["USDT"]["total"] == 10990
        fresh = ControlClient(server.url).transfer("deposit", "1")
        assert fresh["transHash"] not in {d["txid"] for d in before[0]}
