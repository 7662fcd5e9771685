"""The real ccxt.bybit against the Bybit v5 dialect: linear markets, orders, positions, errors."""

import string
import time
from decimal import Decimal

import ccxt
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.tests.conftest import bybit_client

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
ACK = {"acknowledged": True}  # ccxt's guard on fetch_order for unified accounts


def by_link_id(client, symbol: str, link_id: str) -> dict:
    """ccxt's fetch_order sends orderId=None with a link id, which Bybit matches to nothing:
    asked by orderLinkId, /v5/order/realtime answers with the order in any status."""
    (found,) = client.fetch_open_orders(symbol, None, None, {"orderLinkId": link_id})
    return found


def position(client, symbol: str) -> dict | None:
    found = client.fetch_positions([symbol])
    return found[0] if found and found[0]["contracts"] else None


def test_load_markets_lists_linear_perpetuals_with_their_precision(bybit_markets):
    assert len(bybit_markets) >= 10
    assert all(m["swap"] and m["linear"] and m["settle"] == "USDT" for m in bybit_markets.values())
    btc = bybit_markets[BTC]
    assert btc["id"] == "BTCUSDT" and btc["active"] and btc["contractSize"] == 1
    assert (btc["precision"]["amount"], btc["precision"]["price"]) == (0.001, 0.1)
    assert btc["limits"]["amount"]["min"] == 0.001 and btc["limits"]["cost"]["min"] == 100
    assert btc["limits"]["leverage"] == {"min": 1, "max": 100}
    assert bybit_markets["DOGE/USDT:USDT"]["precision"]["amount"] == 1


def test_tickers_and_order_book(bybit_trader, bybit_control):
    client, _ = bybit_trader
    ticker = client.fetch_ticker(BTC)
    assert ticker["last"] == 97000 and ticker["bid"] < 97000 < ticker["ask"]
    assert ticker["markPrice"] == 97000
    assert set(client.fetch_tickers()) == set(client.markets)
    book = client.fetch_order_book(ETH, 5)
    assert len(book["bids"]) == 5 and book["bids"][0][0] > book["bids"][1][0]
    assert book["asks"][0][0] > book["bids"][0][0]
    bybit_control.set_price("ETHUSDT", "3500")
    assert client.fetch_ticker(ETH)["markPrice"] == 3500


def test_fetch_balance_of_a_fresh_account(bybit_trader):
    client, _ = bybit_trader
    usdt = client.fetch_balance()["USDT"]
    assert (usdt["free"], usdt["used"], usdt["total"]) == (10000, 0, 10000)


def test_open_long_add_and_read_the_position(bybit_trader, bybit_control):
    client, _ = bybit_trader
    client.set_leverage(5, BTC)
    first = client.fetch_order(client.create_order(BTC, "market", "buy", 0.01)["id"], BTC, ACK)
    second = client.fetch_order(client.create_order(BTC, "market", "buy", 0.02)["id"], BTC, ACK)
    assert first["status"] == second["status"] == "closed" and second["filled"] == 0.02
    entry = (Decimal(str(first["cost"])) + Decimal(str(second["cost"]))) / Decimal("0.03")
    bybit_control.set_price("BTCUSDT", "98000")
    held = position(client, BTC)
    assert (held["side"], held["contracts"], held["leverage"]) == ("long", 0.03, 5)
    assert held["entryPrice"] == pytest.approx(float(entry))
    assert held["markPrice"] == 98000
    assert held["unrealizedPnl"] == pytest.approx(0.03 * (98000 - float(entry)), abs=1e-6)
    assert held["notional"] == pytest.approx(0.03 * float(entry))
    assert held["liquidationPrice"] == pytest.approx(float(entry) * (1 - 0.2 + 0.005), abs=0.1)
    assert held["initialMargin"] == pytest.approx(0.03 * float(entry) / 5)


def test_short_reduce_close_credits_realized_pnl_minus_fees(bybit_trader, bybit_control):
    client, key = bybit_trader
    opened = client.create_order(ETH, "limit", "sell", 1, 3300)  # marketable: fills at the bid
    assert position(client, ETH)["side"] == "short"
    bybit_control.set_price("ETHUSDT", "3200")
    reduced = client.create_order(ETH, "market", "buy", 0.4, None, {"reduceOnly": True})
    assert position(client, ETH)["contracts"] == 0.6
    closed = client.create_order(ETH, "market", "buy", 0.6, None, {"reduceOnly": True})
    assert position(client, ETH) is None
    orders = [client.fetch_order(o["id"], ETH, ACK) for o in (opened, reduced, closed)]
    sold = Decimal(str(orders[0]["cost"]))
    bought = Decimal(str(orders[1]["cost"])) + Decimal(str(orders[2]["cost"]))
    fees = sum(Decimal(str(o["fee"]["cost"])) for o in orders)
    wallet = Decimal(bybit_control.account(key)["balances"]["USDT"]["wallet"])
    assert wallet == Decimal(10000) + sold - bought - fees
    assert client.fetch_balance()["USDT"]["total"] == pytest.approx(float(wallet))


def test_a_sell_larger_than_the_long_flips_to_short_at_the_fill_price(bybit_trader):
    client, _ = bybit_trader
    client.create_order(ETH, "market", "buy", 0.1)
    flip = client.fetch_order(client.create_order(ETH, "market", "sell", 0.3)["id"], ETH, ACK)
    held = position(client, ETH)
    assert (held["side"], held["contracts"]) == ("short", 0.2)
    assert held["entryPrice"] == flip["average"]  # one book level filled the whole sell


def test_reduce_only_never_increases_and_is_trimmed_to_the_position(bybit_trader):
    client, _ = bybit_trader
    with pytest.raises(ccxt.InvalidOrder, match="110017"):
        client.create_order(ETH, "market", "sell", 0.5, None, {"reduceOnly": True})
    client.create_order(ETH, "market", "buy", 0.5)
    with pytest.raises(ccxt.InvalidOrder, match="110017"):
        client.create_order(ETH, "market", "buy", 0.1, None, {"reduceOnly": True})
    trimmed = client.create_order(ETH, "market", "sell", 2, None, {"reduceOnly": True})
    assert client.fetch_order(trimmed["id"], ETH, ACK)["amount"] == 0.5
    assert position(client, ETH) is None


def test_resting_limit_fills_when_the_market_moves_through_it(bybit_trader, bybit_control):
    client, _ = bybit_trader
    order = client.create_order(BTC, "limit", "buy", 0.01, 95000, {"clientOrderId": "dip-1"})
    assert [o["clientOrderId"] for o in client.fetch_open_orders(BTC)] == ["dip-1"]
    assert position(client, BTC) is None
    bybit_control.set_price("BTCUSDT", "94000")
    filled = client.fetch_order(order["id"], BTC, ACK)
    assert filled["status"] == "closed" and filled["average"] == 95000
    assert position(client, BTC)["entryPrice"] == 95000
    assert client.fetch_open_orders() == []


def test_fetch_and_cancel_by_id_and_client_id(bybit_trader):
    client, _ = bybit_trader
    by_id = client.create_order(ETH, "limit", "buy", 0.1, 3000)
    by_link = client.create_order(ETH, "limit", "buy", 0.1, 3001, {"clientOrderId": "link-7"})
    found = by_link_id(client, ETH, "link-7")
    assert found["id"] == by_link["id"] and found["price"] == 3001
    assert client.cancel_order(by_id["id"], ETH)["id"] == by_id["id"]
    client.cancel_order(None, ETH, {"orderLinkId": "link-7"})
    assert client.fetch_open_orders(ETH) == []
    assert client.fetch_order(by_id["id"], ETH, ACK)["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        client.cancel_order(by_id["id"], ETH)
    with pytest.raises(ccxt.OrderNotFound):
        client.fetch_order("00000000-0000-0000-0000-000000000000", ETH, ACK)


def test_cancel_all_orders(bybit_trader):
    client, _ = bybit_trader
    client.create_order(ETH, "limit", "buy", 0.1, 3000)
    client.create_order(BTC, "limit", "buy", 0.01, 90000)
    assert len(client.cancel_all_orders()) == 2
    assert client.fetch_open_orders() == []


def test_set_leverage_changes_margin_and_refuses_the_same_value(bybit_trader):
    client, _ = bybit_trader
    client.create_order(BTC, "market", "buy", 0.01)
    assert position(client, BTC)["leverage"] == 10
    client.set_leverage(20, BTC)
    held = position(client, BTC)
    assert held["leverage"] == 20
    assert held["initialMargin"] == pytest.approx(held["notional"] / 20)
    with pytest.raises(ccxt.BadRequest, match="110043"):
        client.set_leverage(20, BTC)


def test_insufficient_margin_and_order_limits(bybit_trader):
    client, _ = bybit_trader
    with pytest.raises(ccxt.InsufficientFunds, match="110007"):
        client.create_order(BTC, "market", "buy", 2)
    with pytest.raises(ccxt.InvalidOrder, match="110094"):
        client.create_order(BTC, "market", "buy", 0.001)  # 97 USDT, below the 100 minimum
    assert client.fetch_positions() == []


def test_authentication_and_symbol_errors(bybit_emulator, bybit_trader):
    client, key = bybit_trader
    wrong_secret = bybit_client(bybit_emulator.url, key, "not-the-secret")
    wrong_secret.set_markets(client.markets)
    with pytest.raises(ccxt.AuthenticationError, match="10004"):
        wrong_secret.fetch_balance()
    stranger = bybit_client(bybit_emulator.url, "nobody", "x")
    stranger.set_markets(client.markets)
    with pytest.raises(ccxt.AuthenticationError, match="10003"):
        stranger.fetch_positions()
    late = bybit_client(bybit_emulator.url, key, client.secret)
    late.set_markets(client.markets)
    late.options["timeDifference"] = 60_000
    with pytest.raises(ccxt.InvalidNonce, match="10002"):
        late.fetch_positions()
    with pytest.raises(ccxt.BadSymbol):
        client.fetch_ticker(BTC, {"symbol": "NOPEUSDT"})


def arm(control, method: str, path: str, mode: str, **extra) -> None:
    control.faults({"fail": {"method": method, "path": path, "mode": mode, **extra}})


def test_every_fault_mode(bybit_emulator, bybit_control, bybit_trader):
    client, key = bybit_trader
    create = "/v5/order/create"
    arm(bybit_control, "POST", create, "http_500")
    with pytest.raises(ccxt.ExchangeError, match="10016"):
        client.create_order(ETH, "limit", "buy", 0.1, 3000)
    arm(bybit_control, "POST", create, "http_429")
    with pytest.raises(ccxt.RateLimitExceeded):
        client.create_order(ETH, "limit", "buy", 0.1, 3000)
    assert client.fetch_open_orders() == []
    impatient = bybit_client(bybit_emulator.url, key, client.secret, timeout=300)
    impatient.set_markets(client.markets)
    arm(bybit_control, "POST", create, "timeout", hang_ms=1000)
    with pytest.raises(ccxt.RequestTimeout):
        impatient.create_order(ETH, "limit", "buy", 0.1, 3000)
    assert client.fetch_open_orders() == []
    arm(bybit_control, "POST", create, "drop_response")
    with pytest.raises(ccxt.NetworkError):
        client.create_order(ETH, "limit", "buy", 0.1, 3000, {"clientOrderId": "lost"})
    lost = by_link_id(client, ETH, "lost")
    assert lost["status"] == "open"
    arm(bybit_control, "GET", "/v5/order/realtime", "order_not_found")
    with pytest.raises(ccxt.OrderNotFound):
        client.fetch_order(lost["id"], ETH, ACK)
    assert client.fetch_order(lost["id"], ETH, ACK)["status"] == "open"


def test_latency_and_stalled_fills(bybit_control, bybit_trader):
    client, _ = bybit_trader
    bybit_control.faults({"latency_ms": 100, "stall_fills": True})
    started = time.monotonic()
    order = client.create_order(ETH, "market", "buy", 0.1)
    assert time.monotonic() - started >= 0.1
    assert client.fetch_order(order["id"], ETH, ACK)["status"] == "open"
    assert position(client, ETH) is None
    bybit_control.clear_faults()
    assert client.fetch_order(order["id"], ETH, ACK)["status"] == "closed"
    assert position(client, ETH)["contracts"] == 0.1


def test_control_api_sets_positions_behind_the_clients_back(bybit_control, bybit_trader):
    client, key = bybit_trader
    view = bybit_control.set_positions(
        {"BTCUSDT": {"size": "-0.5", "entry_price": "60000", "leverage": "10"}}, api_key=key
    )
    assert view["positions"]["BTCUSDT"]["size"] == "-0.5"
    held = position(client, BTC)
    assert (held["side"], held["contracts"], held["entryPrice"]) == ("short", 0.5, 60000)
    assert held["unrealizedPnl"] == -0.5 * (97000 - 60000)
    assert held["liquidationPrice"] == 65700
    bybit_control.set_positions({"BTCUSDT": {"size": "0"}}, api_key=key)
    assert client.fetch_positions() == []
    for bad in ({"NOPE": {"size": "1"}}, {"BTCUSDT": {"size": "0.0001", "entry_price": "1"}}):
        response = bybit_control.call("PUT", f"/_emulator/accounts/{key}/positions", json=bad)
        assert response.status_code in (400, 404)
    response = bybit_control.call(
        "PUT", f"/_emulator/accounts/{key}/positions", json={"BTCUSDT": {"size": "1"}}
    )
    assert response.status_code == 400 and client.fetch_positions() == []


def test_control_positions_route_is_absent_on_the_spot_dialect(control):
    response = control.call("PUT", "/_emulator/accounts/demo-key/positions", json={})
    assert response.status_code == 404


FUZZ_PATHS = [
    "/v5/order/create",
    "/v5/order/cancel",
    "/v5/order/realtime",
    "/v5/position/list",
    "/v5/position/set-leverage",
    "/v5/account/wallet-balance",
    "/v5/market/orderbook",
    "/v5/market/tickers",
    "/v5/execution/list",
]
FUZZ_VALUES = st.one_of(
    st.sampled_from(["linear", "BTCUSDT", "Buy", "Limit", "Market", "0.01", "-1", "NaN", "1e999"]),
    st.text(max_size=20),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(["GET", "POST", "DELETE"]),
    path=st.sampled_from(FUZZ_PATHS) | st.text(max_size=30).map(lambda p: "/v5/" + p),
    params=st.dictionaries(
        st.sampled_from(["category", "symbol", "side", "orderType", "qty", "price", "limit"])
        | st.text(max_size=8),
        FUZZ_VALUES,
        max_size=6,
    ),
    headers=st.fixed_dictionaries(
        {},
        optional={
            "X-BAPI-API-KEY": st.sampled_from(["demo-key", "nobody", ""]),
            "X-BAPI-TIMESTAMP": st.sampled_from([str(int(time.time() * 1000)), "x", "-1"]),
            "X-BAPI-SIGN": st.text(string.ascii_letters + string.digits, max_size=64),
            "X-BAPI-RECV-WINDOW": st.sampled_from(["5000", "0", "abc"]),
        },
    ),
)
def test_garbage_never_crashes_the_bybit_dialect(
    bybit_emulator, bybit_control, method, path, params, headers
):
    url = bybit_emulator.url + requests.utils.quote(path, safe="/%")
    try:
        if method == "POST":
            response = requests.post(url, json=params, headers=headers, timeout=5)
        else:
            response = requests.request(method, url, params=params, headers=headers, timeout=5)
    except requests.exceptions.InvalidURL:
        return
    assert response.status_code < 500, response.text
    if response.status_code != 200 or response.json().get("retCode"):
        assert {"retCode", "retMsg", "result"} <= set(response.json())
    assert bybit_control.account("demo-key")["balances"]["USDT"]["wallet"] == "10000"
