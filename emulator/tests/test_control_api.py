"""The /_emulator/ control API: accounts, balances, prices, the request log, reset, bad input."""

import asyncio

import ccxt
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from emulator.http_app import build_app, emulator_middleware
from emulator.server import AccountSpec, EmulatorServer


def test_create_account_then_conflict(control):
    body = {"api_key": "k1", "api_secret": "s1", "balances": {"USDT": "1000"}}
    assert control.call("POST", "/_emulator/accounts", json=body).status_code == 201
    again = control.call("POST", "/_emulator/accounts", json=body)
    assert again.status_code == 409 and again.json()["code"] == 409
    assert control.account("k1")["balances"] == {"USDT": {"free": "1000", "locked": "0"}}


def test_put_balances_sets_free_amounts_and_keeps_locked(control, trader):
    client, key = trader
    client.create_order("ETH/USDT", "limit", "buy", 1, 3000)
    response = control.call(
        "PUT", f"/_emulator/accounts/{key}/balances", json={"USDT": "5", "ETH": "0.5"}
    )
    assert response.status_code == 200
    balances = control.account(key)["balances"]
    assert balances["USDT"] == {"free": "5", "locked": "3000"}
    assert balances["ETH"] == {"free": "0.5", "locked": "0"}
    assert client.fetch_balance()["USDT"]["total"] == 3005
    assert len(control.account(key)["open_orders"]) == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_emulator/accounts", "{not json"),
        ("POST", "/_emulator/accounts", '{"api_key": 5, "api_secret": "s"}'),
        (
            "POST",
            "/_emulator/accounts",
            '{"api_key": "k", "api_secret": "s", "balances": {"USDT": "-1"}}',
        ),
        (
            "POST",
            "/_emulator/accounts",
            '{"api_key": "k", "api_secret": "s", "balances": {"USDT": 1.5}}',
        ),
        ("PUT", "/_emulator/accounts/demo-key/balances", '{"USDT": "NaN"}'),
        ("PUT", "/_emulator/accounts/demo-key/balances", '["USDT"]'),
        ("POST", "/_emulator/markets/ETHUSDT/price", '{"price": "-3"}'),
        ("POST", "/_emulator/markets/ETHUSDT/price", '{"price": 1e400}'),
        ("POST", "/_emulator/markets/ETHUSDT/price", '{"price": "1e30"}'),
        ("POST", "/_emulator/faults", '{"latency_ms": "50"}'),
        (
            "POST",
            "/_emulator/faults",
            '{"fail": {"method": "POST", "path": "/x", "mode": "explode"}}',
        ),
        ("POST", "/_emulator/faults", '{"latency_ms": 10, "stall_fills": "yes"}'),
        ("PUT", "/_emulator/markets/ETHUSDT/rules", "{}"),
        ("PUT", "/_emulator/markets/ETHUSDT/rules", '{"base_decimals": 2.5}'),
        ("PUT", "/_emulator/markets/ETHUSDT/rules", '{"min_notional": "-5"}'),
        ("PUT", "/_emulator/markets/ETHUSDT/rules", '{"min_notional": 5}'),
        ("PUT", "/_emulator/markets/ETHUSDT/rules", '{"tick": "0.1"}'),
    ],
)
def test_bad_control_requests_are_400_and_change_nothing(control, method, path, body):
    before = (control.account("demo-key"), control.call("GET", "/_emulator/faults").json())
    response = control.call(method, path, data=body)
    assert response.status_code == 400
    assert set(response.json()) == {"code", "msg"}
    after = (control.account("demo-key"), control.call("GET", "/_emulator/faults").json())
    assert after == before
    assert control.call("GET", "/_emulator/accounts/k").status_code == 404


def test_unknown_account_and_market(control):
    assert control.call("GET", "/_emulator/accounts/nobody").status_code == 404
    missing = control.call("POST", "/_emulator/markets/NOPEUSDT/price", json={"price": "1"})
    assert missing.status_code == 404


def test_price_move_accepts_symbol_spellings(control, public):
    for spelling, price in (("BTCUSDT", "90000"), ("BTC_USDT", "91000"), ("BTC-USDT", "92000")):
        control.set_price(spelling, price)
        book = public.fetch_order_book("BTC/USDT", 1)
        assert book["bids"][0][0] < float(price) < book["asks"][0][0]


def test_a_trade_at_a_price_moves_the_tickers_last_price(control, public):
    control.set_price("ETHUSDT", "3300")
    assert public.fetch_ticker("ETH/USDT")["last"] != 3300  # a move alone prints no trade
    control.trade_at("ETHUSDT", "3300")
    assert public.fetch_ticker("ETH/USDT")["last"] == 3300
    missing = control.call("POST", "/_emulator/markets/NOPEUSDT/trade", json={"price": "1"})
    assert missing.status_code == 404


def test_request_log_records_exchange_calls_only_and_can_be_cleared(control, trader):
    client, _ = trader
    control.call("DELETE", "/_emulator/requests")
    client.fetch_balance()
    client.fetch_ticker("ETH/USDT")
    log = control.requests_log()
    assert [(e["method"], e["path"], e["status"], e["signed"]) for e in log] == [
        ("GET", "/api/v3/account", 200, True),
        ("GET", "/api/v3/ticker/24hr", 200, False),
    ]
    assert all(e["ts_ms"] > 0 and e["duration_ms"] >= 0 for e in log)
    assert [e["symbol"] for e in log] == [None, "ETHUSDT"]
    assert all(e["response_bytes"] > 50 for e in log)
    control.call("DELETE", "/_emulator/requests")
    assert control.requests_log() == []


def test_changed_rules_are_served_enforced_and_reset(control, public, trader):
    client, _ = trader
    changed = control.call(
        "PUT", "/_emulator/markets/ETH_USDT/rules", json={"base_decimals": 2, "min_notional": "50"}
    )
    assert changed.status_code == 200
    entry = public.spotPublicGetExchangeInfo({"symbol": "ETHUSDT"})["symbols"][0]
    assert (entry["baseAssetPrecision"], entry["quoteAmountPrecision"]) == ("2", "50")
    with pytest.raises(ccxt.InvalidOrder, match="30002"):
        client.create_order("ETH/USDT", "limit", "buy", 0.01, 3000)
    control.reset()
    entry = public.spotPublicGetExchangeInfo({"symbol": "ETHUSDT"})["symbols"][0]
    assert entry["quoteAmountPrecision"] != "50"


def test_reset_restores_the_start_state(control, trader):
    client, key = trader
    client.create_order("ETH/USDT", "market", "buy", 0.1)
    control.set_price("ETHUSDT", "2000")
    control.faults({"latency_ms": 5, "stall_fills": True})
    assert control.call("POST", "/_emulator/reset").status_code == 200
    assert control.call("GET", f"/_emulator/accounts/{key}").status_code == 404
    assert control.account("demo-key")["balances"]["USDT"]["free"] == "10000"
    assert control.call("GET", "/_emulator/faults").json() == {
        "latency_ms": 0,
        "fail": [],
        "stall_fills": False,
    }
    assert control.requests_log() == []
    assert control.call("GET", "/api/v3/ticker/price?symbol=ETHUSDT").json()["price"] == "3400"


def test_non_loopback_peers_are_refused(emulator):
    class RemoteTransport:
        def get_extra_info(self, name, default=None):
            return ("203.0.113.9", 51000) if name == "peername" else default

    async def never_called(_request):
        raise AssertionError("the handler must not run for a remote peer")

    async def call_from_remote_peer() -> web.StreamResponse:
        app = build_app(emulator.state)
        request = make_mocked_request(
            "GET", "/_emulator/faults", app=app, transport=RemoteTransport()
        )
        return await emulator_middleware(request, never_called)

    response = asyncio.run(call_from_remote_peer())
    assert response.status == 403


def test_configured_accounts_replace_the_demo_account():
    spec = AccountSpec("mine", "shh", {"USDT": "5", "ETH": "1"})
    with EmulatorServer(seed=1, freeze=True, accounts=[spec]) as server:
        assert server.state.engine.accounts.keys() == {"mine"}
    with pytest.raises(ValueError, match="unique"):
        EmulatorServer(accounts=[spec, spec])
    with pytest.raises(ValueError, match="amount"):
        EmulatorServer(accounts=[AccountSpec("a", "b", {"USDT": "lots"})])
