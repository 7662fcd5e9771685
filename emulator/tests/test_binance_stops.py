"""Stops on Binance USD-M through the real ccxt.binanceusdm: conditional orders on the algo
endpoints (as since December 2025), fired by the mark price when the control API moves it
or when the market ticks on its own."""

import time

import ccxt
import pytest

from emulator.server import EmulatorServer
from emulator.tests.conftest import binance_client

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
TRIGGER = {"trigger": True}
CLOSE_AT_90000 = {"stopLossPrice": 90000, "closePosition": True}


def position(client, symbol: str = BTC) -> dict | None:
    found = [p for p in client.fetch_positions([symbol]) if p["contracts"]]
    return found[0] if found else None


def stops(client, symbol: str = BTC) -> list[dict]:
    return client.fetch_open_orders(symbol, None, None, TRIGGER)


def test_close_position_stop_is_listed_and_closes_the_long(binance_trader, binance_control):
    client, key = binance_trader
    client.create_order(BTC, "market", "buy", 0.01)
    stop = client.create_order(BTC, "market", "sell", None, None, CLOSE_AT_90000)
    assert client.last_request_url.endswith("/fapi/v1/algoOrder")
    assert "algoType=CONDITIONAL" in client.last_request_body
    assert "closePosition=true" in client.last_request_body
    assert "quantity" not in client.last_request_body
    assert (stop["status"], stop["triggerPrice"], stop["info"]["orderType"]) == (
        "open",
        90000,
        "STOP_MARKET",
    )
    (listed,) = stops(client)
    assert client.last_request_url.split("?")[0].endswith("/fapi/v1/openAlgoOrders")
    assert (listed["id"], listed["clientOrderId"]) == (stop["id"], stop["clientOrderId"])
    assert listed["info"]["closePosition"] is True
    assert client.fetch_open_orders(BTC) == []  # plain open orders do not hold algo orders
    (view,) = binance_control.account(key)["conditional_orders"]
    assert view == {
        "order_id": stop["id"],
        "client_order_id": stop["clientOrderId"],
        "symbol": "BTCUSDT",
        "side": "SELL",
        "kind": "stop_loss",
        "trigger_price": "90000",
        "size": None,
        "close_position": True,
        "order_type": "MARKET",
        "price": None,
        "reduce_only": True,
    }

    binance_control.set_price("BTCUSDT", "89990")

    assert position(client) is None
    assert stops(client) == []
    finished = client.fetch_order(stop["id"], BTC, TRIGGER)
    assert (finished["status"], finished["info"]["algoStatus"]) == ("closed", "FINISHED")
    sent = client.fetch_order(finished["info"]["actualOrderId"], BTC)
    assert (sent["status"], sent["side"], sent["filled"], sent["reduceOnly"]) == (
        "closed",
        "sell",
        0.01,
        True,
    )


def test_conditional_types_on_the_order_endpoint_get_4120(binance_trader):
    client, _ = binance_trader
    client.create_order(BTC, "market", "buy", 0.01)
    for order_type in ("STOP_MARKET", "TAKE_PROFIT_MARKET"):
        with pytest.raises(ccxt.InvalidOrder, match="-4120"):
            client.fapiPrivatePostOrder(
                {"symbol": "BTCUSDT", "side": "SELL", "type": order_type,
                 "stopPrice": "90000", "closePosition": "true"}
            )  # fmt: skip
    assert stops(client) == []


def test_close_position_with_a_quantity_or_a_limit_type_is_refused(binance_trader):
    client, _ = binance_trader
    client.create_order(BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.BadRequest, match="-4137"):
        client.create_order(
            BTC, "market", "sell", None, None, {**CLOSE_AT_90000, "quantity": "0.01"}
        )
    with pytest.raises(ccxt.BadRequest, match="-4138"):
        client.create_order(
            BTC, "market", "sell", None, None, {**CLOSE_AT_90000, "reduceOnly": "false"}
        )
    with pytest.raises(ccxt.InvalidOrder, match="-4136"):
        client.create_order(BTC, "limit", "sell", 0.01, 89000, CLOSE_AT_90000)
    with pytest.raises(ccxt.OrderImmediatelyFillable, match="-2021"):
        client.create_order(
            BTC, "market", "sell", None, None, {**CLOSE_AT_90000, "stopLossPrice": 98000}
        )
    assert stops(client) == []


def test_take_profit_on_a_short_fires_on_the_right_side(binance_trader, binance_control):
    client, _ = binance_trader
    client.create_order(ETH, "market", "sell", 1)
    take_profit = client.create_order(
        ETH, "market", "buy", 0.4, None, {"takeProfitPrice": 3200, "reduceOnly": True}
    )
    assert take_profit["info"]["orderType"] == "TAKE_PROFIT_MARKET"
    assert "quantity=0.4" in client.last_request_body
    (listed,) = stops(client, ETH)
    assert listed["takeProfitPrice"] == 3200 and listed["amount"] == 0.4
    binance_control.set_price("ETHUSDT", "3600")  # a short loses up here: not this order
    assert position(client, ETH)["contracts"] == 1
    binance_control.set_price("ETHUSDT", "3190")
    held = position(client, ETH)
    assert (held["side"], held["contracts"]) == ("short", 0.6)
    assert client.fetch_order(take_profit["id"], ETH, TRIGGER)["status"] == "closed"


def test_stop_market_closes_a_short_when_the_price_rises(binance_trader, binance_control):
    client, _ = binance_trader
    client.create_order(ETH, "market", "sell", 1)
    stop = client.create_order(
        ETH, "STOP_MARKET", "buy", None, None, {"stopPrice": 3500, "closePosition": True}
    )
    assert stop["info"]["side"] == "BUY"
    binance_control.set_price("ETHUSDT", "3300")
    assert position(client, ETH)["side"] == "short"
    binance_control.set_price("ETHUSDT", "3501")
    assert position(client, ETH) is None
    assert stops(client, ETH) == []


def test_cancel_one_stop_and_cancel_all_stops(binance_trader):
    client, _ = binance_trader
    client.create_order(BTC, "market", "buy", 0.01)
    resting = client.create_order(BTC, "limit", "buy", 0.01, 90000)
    first = client.create_order(BTC, "market", "sell", None, None, CLOSE_AT_90000)
    client.create_order(
        BTC, "market", "sell", 0.005, None, {"takeProfitPrice": 99000, "reduceOnly": True}
    )
    client.create_order(
        BTC, "market", "sell", 0.005, None, {"stopLossPrice": 91000, "reduceOnly": True}
    )

    client.cancel_order(first["id"], BTC, TRIGGER)
    assert client.last_request_url.split("?")[0].endswith("/fapi/v1/algoOrder")
    assert client.fetch_order(first["id"], BTC, TRIGGER)["status"] == "canceled"
    assert {o["triggerPrice"] for o in stops(client)} == {99000, 91000}
    with pytest.raises(ccxt.OrderNotFound):
        client.cancel_order("123", BTC, TRIGGER)

    client.cancel_all_orders(BTC, TRIGGER)
    assert stops(client) == []
    assert [o["id"] for o in client.fetch_open_orders(BTC)] == [resting["id"]]


def test_a_stop_with_no_position_left_expires_without_trading(binance_trader, binance_control):
    client, _ = binance_trader
    client.create_order(BTC, "market", "buy", 0.01)
    stop = client.create_order(BTC, "market", "sell", None, None, CLOSE_AT_90000)
    client.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})  # closed by hand
    binance_control.set_price("BTCUSDT", "89000")
    assert position(client) is None  # a closePosition stop never opens a short
    expired = client.fetch_order(stop["id"], BTC, TRIGGER)
    assert expired["info"]["algoStatus"] == "EXPIRED" and expired["info"]["actualOrderId"] == ""


def bracket_the_mark(client) -> None:
    """A whole-position stop-loss and take-profit one tick either side of the mark (again if
    a tick moved the mark between reading it and placing them)."""
    for _ in range(3):
        mark = float(client.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})["markPrice"])
        try:
            for name, trigger in (("stopLossPrice", mark - 0.1), ("takeProfitPrice", mark + 0.1)):
                params = {name: round(trigger, 1), "closePosition": True}
                client.create_order(BTC, "market", "sell", None, None, params)
            return
        except ccxt.OrderImmediatelyFillable:
            client.cancel_all_orders(BTC, TRIGGER)
    raise AssertionError("the mark kept moving")


def test_stops_fire_on_the_markets_own_ticks_with_no_client_calling():
    """An unfrozen exchange moves its prices about once a second: the first move fires the
    stop-loss or the take-profit while nobody calls the exchange."""
    with EmulatorServer(seed=7, dialect="binanceusdm") as server:
        client = binance_client(server.url, "demo-key", "demo-secret")
        client.load_markets()
        client.create_order(BTC, "market", "buy", 0.01)
        bracket_the_mark(client)
        time.sleep(4)
        assert position(client) is None
        statuses = [o["info"]["algoStatus"] for o in client.fetch_orders(BTC, params=TRIGGER)]
        assert statuses.count("FINISHED") == 1  # the other one stays (or expires later)
