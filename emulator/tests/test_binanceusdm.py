"""The real ccxt.binanceusdm against the Binance USD-M dialect: markets, orders, positions,
errors and faults."""

import time
from decimal import Decimal

import ccxt
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.tests.conftest import SignedHttp, binance_client

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


def position(client, symbol: str, **params) -> dict | None:
    found = client.fetch_positions([symbol], params)
    return found[0] if found else None


def test_load_markets_lists_perpetuals_with_their_filters(binance_markets):
    assert len(binance_markets) >= 10
    assert all(
        m["swap"] and m["linear"] and m["settle"] == "USDT" for m in binance_markets.values()
    )
    btc = binance_markets[BTC]
    assert (btc["precision"]["amount"], btc["precision"]["price"]) == (0.001, 0.1)
    assert btc["limits"]["amount"] == {"min": 0.001, "max": 1190}
    assert btc["limits"]["market"] == {"min": 0.001, "max": 119}
    assert btc["limits"]["cost"]["min"] == 100
    assert binance_markets["DOGE/USDT:USDT"]["precision"]["amount"] == 1


def test_tickers_and_order_book(binance_trader, binance_control):
    client, _ = binance_trader
    assert client.fetch_ticker(BTC)["last"] == 97000
    assert set(client.fetch_tickers()) == set(client.markets)
    book = client.fetch_order_book(ETH, 5)
    assert len(book["bids"]) == 5 and book["asks"][0][0] > book["bids"][0][0]
    binance_control.set_price("ETHUSDT", "3500")
    assert client.fetch_mark_price(ETH)["markPrice"] == 3500


def test_book_ticker_of_one_symbol_or_every_one(binance_trader, binance_control):
    client, _ = binance_trader
    binance_control.clear_requests()
    one = client.fetch_bids_asks([ETH])
    assert set(one) == {ETH} and 0 < one[ETH]["bid"] < one[ETH]["ask"]
    assert set(client.fetch_bids_asks()) == set(client.markets)
    assert [e["symbol"] for e in binance_control.requests_log()] == ["ETHUSDT", None]


def test_balance_and_positions_of_a_fresh_account(binance_trader):
    client, _ = binance_trader
    usdt = client.fetch_balance()["USDT"]
    assert (usdt["free"], usdt["used"], usdt["total"]) == (10000, 0, 10000)
    assert client.fetch_positions() == []


def test_open_long_add_and_read_the_position(binance_trader, binance_control):
    client, _ = binance_trader
    client.set_leverage(5, BTC)
    first = client.create_order(BTC, "market", "buy", 0.01)
    second = client.create_order(BTC, "market", "buy", 0.02)
    assert first["status"] == second["status"] == "closed"
    entry = (Decimal(str(first["cost"])) + Decimal(str(second["cost"]))) / Decimal("0.03")
    binance_control.set_price("BTCUSDT", "98000")
    held = position(client, BTC)
    assert (held["side"], held["contracts"], held["marginMode"]) == ("long", 0.03, "cross")
    assert held["entryPrice"] == pytest.approx(float(entry))
    assert held["markPrice"] == 98000 and held["notional"] == pytest.approx(0.03 * 98000)
    assert held["unrealizedPnl"] == pytest.approx(0.03 * (98000 - float(entry)), abs=1e-6)
    assert held["liquidationPrice"] == pytest.approx(float(entry) * (1 - 0.2 + 0.005))
    assert held["leverage"] is None  # v3 positionRisk carries no leverage
    assert position(client, BTC, useV2=True)["leverage"] == 5


def test_short_reduce_close_credits_realized_pnl_minus_fees(binance_trader, binance_control):
    client, key = binance_trader
    opened = client.create_order(ETH, "limit", "sell", 1, 3300)  # marketable
    assert position(client, ETH)["side"] == "short"
    binance_control.set_price("ETHUSDT", "3200")
    reduced = client.create_order(ETH, "market", "buy", 0.4, None, {"reduceOnly": True})
    assert position(client, ETH)["contracts"] == 0.6
    closed = client.create_order(ETH, "market", "buy", 0.6, None, {"reduceOnly": True})
    assert position(client, ETH) is None
    sold = Decimal(str(client.fetch_order(opened["id"], ETH)["cost"]))
    bought = Decimal(str(reduced["cost"])) + Decimal(str(closed["cost"]))
    wallet = Decimal(binance_control.account(key)["balances"]["USDT"]["wallet"])
    fees = (sold * Decimal("0.00055") + bought * Decimal("0.00055")).quantize(Decimal("1e-12"))
    assert wallet == Decimal(10000) + sold - bought - fees
    assert client.fetch_balance()["USDT"]["total"] == pytest.approx(float(wallet))


def test_a_sell_larger_than_the_long_flips_to_short(binance_trader):
    client, _ = binance_trader
    client.create_order(ETH, "market", "buy", 0.1)
    flip = client.create_order(ETH, "market", "sell", 0.3)
    held = position(client, ETH)
    assert (held["side"], held["contracts"], held["entryPrice"]) == ("short", 0.2, flip["average"])


def test_reduce_only_never_increases_and_is_trimmed(binance_trader):
    client, _ = binance_trader
    with pytest.raises(ccxt.InvalidOrder, match="-2022"):
        client.create_order(ETH, "market", "sell", 0.5, None, {"reduceOnly": True})
    client.create_order(ETH, "market", "buy", 0.5)
    trimmed = client.create_order(ETH, "market", "sell", 2, None, {"reduceOnly": True})
    assert trimmed["amount"] == 0.5 and position(client, ETH) is None


def test_resting_limit_fills_when_the_market_moves_through_it(binance_trader, binance_control):
    client, _ = binance_trader
    order = client.create_order(BTC, "limit", "buy", 0.01, 95000, {"clientOrderId": "dip-1"})
    assert [o["clientOrderId"] for o in client.fetch_open_orders(BTC)] == ["dip-1"]
    binance_control.set_price("BTCUSDT", "94000")
    filled = client.fetch_order(order["id"], BTC)
    assert filled["status"] == "closed" and filled["average"] == 95000
    assert position(client, BTC)["entryPrice"] == 95000


def test_fetch_and_cancel_by_id_and_client_id(binance_trader):
    client, _ = binance_trader
    by_id = client.create_order(ETH, "limit", "buy", 0.1, 3000)
    client.create_order(ETH, "limit", "buy", 0.1, 3001, {"clientOrderId": "cid-7"})
    assert client.fetch_order(None, ETH, {"clientOrderId": "cid-7"})["price"] == 3001
    assert client.cancel_order(by_id["id"], ETH)["status"] == "canceled"
    assert client.cancel_order(None, ETH, {"clientOrderId": "cid-7"})["status"] == "canceled"
    assert client.fetch_open_orders(ETH) == []
    with pytest.raises(ccxt.OrderNotFound):
        client.cancel_order(by_id["id"], ETH)
    with pytest.raises(ccxt.OrderNotFound):
        client.fetch_order("1", ETH)
    client.create_order(ETH, "limit", "buy", 0.1, 3000)
    client.cancel_all_orders(ETH)
    assert client.fetch_open_orders(ETH) == []


def test_leverage_sets_margin(binance_trader):
    client, _ = binance_trader
    client.create_order(BTC, "market", "buy", 0.01)
    assert client.set_leverage(20, BTC)["leverage"] == 20
    held = position(client, BTC, useV2=True)
    assert held["leverage"] == 20
    with pytest.raises(ccxt.BadRequest):
        client.set_leverage(126, BTC)


def test_margin_and_order_limits(binance_trader):
    client, _ = binance_trader
    with pytest.raises(ccxt.InsufficientFunds, match="-2019"):
        client.create_order(BTC, "market", "buy", 2)
    with pytest.raises(ccxt.InvalidOrder, match="-4164"):
        client.create_order(BTC, "market", "buy", 0.001)
    assert client.fetch_positions() == []


def test_authentication_and_symbol_errors(binance_emulator, binance_trader):
    client, key = binance_trader
    wrong = binance_client(binance_emulator.url, key, "not-the-secret")
    wrong.set_markets(client.markets)
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        wrong.fetch_balance()
    stranger = binance_client(binance_emulator.url, "nobody", "x")
    stranger.set_markets(client.markets)
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        stranger.fetch_balance()
    late = binance_client(binance_emulator.url, key, client.secret)
    late.set_markets(client.markets)
    late.options["timeDifference"] = 60_000
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        late.fetch_balance()
    with pytest.raises(ccxt.BadSymbol, match="-1121"):
        client.fetch_ticker(BTC, {"symbol": "NOPEUSDT"})


def arm(control, method: str, path: str, mode: str, **extra) -> None:
    control.faults({"fail": {"method": method, "path": path, "mode": mode, **extra}})


def test_every_fault_mode(binance_emulator, binance_control, binance_trader):
    client, key = binance_trader
    order_path = "/fapi/v1/order"
    arm(binance_control, "POST", order_path, "http_500")
    with pytest.raises(ccxt.OperationFailed, match="-1000"):
        client.create_order(ETH, "limit", "buy", 0.1, 3000)
    arm(binance_control, "POST", order_path, "http_429")
    with pytest.raises(ccxt.DDoSProtection):
        client.create_order(ETH, "limit", "buy", 0.1, 3000)
    assert client.fetch_open_orders(ETH) == []
    impatient = binance_client(binance_emulator.url, key, client.secret, timeout=300)
    impatient.set_markets(client.markets)
    arm(binance_control, "POST", order_path, "timeout", hang_ms=1000)
    with pytest.raises(ccxt.RequestTimeout):
        impatient.create_order(ETH, "limit", "buy", 0.1, 3000)
    assert client.fetch_open_orders(ETH) == []
    arm(binance_control, "POST", order_path, "drop_response")
    with pytest.raises(ccxt.NetworkError):
        client.create_order(ETH, "limit", "buy", 0.1, 3000, {"clientOrderId": "lost"})
    lost = client.fetch_order(None, ETH, {"clientOrderId": "lost"})
    assert lost["status"] == "open"
    arm(binance_control, "GET", order_path, "order_not_found")
    with pytest.raises(ccxt.OrderNotFound):
        client.fetch_order(lost["id"], ETH)
    assert client.fetch_order(lost["id"], ETH)["status"] == "open"


def test_latency_and_stalled_fills(binance_control, binance_trader):
    client, _ = binance_trader
    binance_control.faults({"latency_ms": 100, "stall_fills": True})
    started = time.monotonic()
    order = client.create_order(ETH, "market", "buy", 0.1)
    assert time.monotonic() - started >= 0.1 and order["status"] == "open"
    assert position(client, ETH) is None
    binance_control.clear_faults()
    assert client.fetch_order(order["id"], ETH)["status"] == "closed"
    assert position(client, ETH)["contracts"] == 0.1


def test_control_api_sets_positions(binance_control, binance_trader):
    client, key = binance_trader
    binance_control.set_positions(
        {"ETHUSDT": {"size": "2", "entry_price": "3000", "leverage": "4"}}, api_key=key
    )
    held = position(client, ETH, useV2=True)
    assert (held["side"], held["contracts"], held["entryPrice"]) == ("long", 2, 3000)
    assert held["unrealizedPnl"] == 800 and held["leverage"] == 4
    assert held["liquidationPrice"] == pytest.approx(3000 * (1 - 0.25 + 0.005))
    binance_control.set_positions({"ETHUSDT": {"size": "0"}}, api_key=key)
    assert client.fetch_positions() == []


SIGNED = [
    ("POST", "/fapi/v1/order"),
    ("GET", "/fapi/v1/order"),
    ("DELETE", "/fapi/v1/order"),
    ("POST", "/fapi/v1/leverage"),
    ("GET", "/fapi/v3/positionRisk"),
    ("DELETE", "/fapi/v1/allOpenOrders"),
    ("GET", "/fapi/v1/userTrades"),
]
ORDER_VALUES = {
    "symbol": st.sampled_from(["ETHUSDT", "BTCUSDT", "NOPE", ""]),
    "side": st.sampled_from(["BUY", "SELL", "buy", ""]),
    "type": st.sampled_from(["LIMIT", "MARKET", "STOP", ""]),
    "quantity": st.sampled_from(["0.1", "5", "-1", "NaN", "0", "0.0001", "1e3", "1e30", "x"]),
    "price": st.sampled_from(["3400", "3300.5", "0", "-5", "Infinity", "3400.001", "9" * 30]),
    "timeInForce": st.sampled_from(["GTC", "IOC", "FOK", "GTX", "X"]),
    "reduceOnly": st.sampled_from(["true", "false", "maybe"]),
    "newClientOrderId": st.text(max_size=40),
    "orderId": st.sampled_from(["4036000001", "x", ""]),
    "leverage": st.sampled_from(["1", "0", "126", "2.5", "x"]),
    "limit": st.sampled_from(["1", "0", "1000", "5000", "-1", "x"]),
    "fromId": st.sampled_from(["0", "612000001", "-1", "1e99", "x"]),
    "startTime": st.sampled_from(["0", "1", "99999999999999999", "-1", "x"]),
    "endTime": st.sampled_from(["0", "604800001", "1", "x"]),
}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(endpoint=st.sampled_from(SIGNED), params=st.fixed_dictionaries({}, optional=ORDER_VALUES))
def test_signed_garbage_never_crashes_or_overdraws(
    binance_emulator, binance_control, endpoint, params
):
    signer = SignedHttp(binance_emulator.url, "demo-key", "demo-secret")
    signer_headers = {"X-MBX-APIKEY": "demo-key"}
    method, path = endpoint
    url = f"{binance_emulator.url}{path}?{signer.signed_query(params)}"
    response = requests.request(method, url, headers=signer_headers, timeout=5)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert {"code", "msg"} <= set(response.json())
    assert Decimal(binance_control.account("demo-key")["balances"]["USDT"]["free"]) >= 0


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    path=st.sampled_from([p for _, p in SIGNED] + ["/fapi/v1/depth", "/fapi/v1/ticker/24hr"])
    | st.text(max_size=30).map(lambda p: "/fapi/" + p),
    body=st.binary(max_size=100),
)
def test_unsigned_garbage_gets_binance_error_bodies(binance_emulator, method, path, body):
    url = binance_emulator.url + requests.utils.quote(path, safe="/%")
    try:
        response = requests.request(method, url, data=body, timeout=5)
    except requests.exceptions.InvalidURL:
        return
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert {"code", "msg"} <= set(response.json())
