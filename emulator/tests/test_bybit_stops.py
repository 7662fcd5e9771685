"""Stops on Bybit v5 linear through the real ccxt.bybit: position TP/SL on
/v5/position/trading-stop and reduce-only conditional orders on /v5/order/create, fired by
the mark price when the control API moves it."""

import ccxt
import pytest

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
TRIGGER = {"trigger": True}


def open_long(client, symbol: str = BTC, amount: float = 0.01) -> None:
    client.create_order(symbol, "market", "buy", amount)


def position(client, symbol: str = BTC) -> dict | None:
    found = client.fetch_positions([symbol])
    return found[0] if found and found[0]["contracts"] else None


def stops(client, symbol: str = BTC, params: dict = TRIGGER) -> list[dict]:
    return client.fetch_open_orders(symbol, None, None, params)


def test_full_position_tpsl_is_set_listed_and_closes_the_position(bybit_trader, bybit_control):
    client, key = bybit_trader
    open_long(client)
    client.create_order(
        BTC, "market", "sell", 0, None, {"stopLossPrice": 95000, "takeProfitPrice": 99000}
    )
    assert client.last_request_url.endswith("/v5/position/trading-stop")
    held = position(client)
    assert (held["stopLossPrice"], held["takeProfitPrice"]) == (95000, 99000)
    listed = {o["triggerPrice"]: o for o in stops(client)}
    assert set(listed) == {95000, 99000}
    assert listed[95000]["stopLossPrice"] == 95000 and listed[95000]["side"] == "sell"
    assert listed[99000]["takeProfitPrice"] == 99000 and listed[99000]["reduceOnly"] is True
    assert listed[95000]["info"]["stopOrderType"] == "StopLoss"
    assert listed[95000]["info"]["orderStatus"] == "Untriggered"
    assert [o["id"] for o in stops(client, params={"stop": True})] == [
        o["id"] for o in stops(client)
    ]
    control_view = bybit_control.account(key)["conditional_orders"]
    assert {
        (c["kind"], c["trigger_price"], c["size"], c["close_position"]) for c in control_view
    } == {
        ("stop_loss", "95000", None, True),
        ("take_profit", "99000", None, True),
    }
    wallet_before = bybit_control.account(key)["balances"]["USDT"]["wallet"]

    bybit_control.set_price("BTCUSDT", "94900")  # through the stop-loss

    assert position(client) is None
    assert stops(client) == []  # the take-profit went with the position
    assert bybit_control.account(key)["conditional_orders"] == []
    finished = {o["id"]: o for o in client.fetch_closed_orders(BTC) if o["side"] == "sell"}
    assert finished[listed[99000]["id"]]["status"] == "canceled"  # Deactivated
    closing = finished[listed[95000]["id"]]  # a fired Bybit conditional keeps its id
    assert (closing["status"], closing["filled"], closing["reduceOnly"]) == ("closed", 0.01, True)
    assert closing["stopLossPrice"] == 95000 and closing["average"] < 94900
    wallet_after = bybit_control.account(key)["balances"]["USDT"]["wallet"]
    assert float(wallet_after) < float(wallet_before) - 0.01 * (97000 - 95000)


def test_trading_stop_endpoint_with_an_amount_sets_partial_tpsl(bybit_trader, bybit_control):
    client, _ = bybit_trader
    open_long(client, amount=0.01)
    client.create_order(
        BTC,
        "market",
        "sell",
        0.004,
        None,
        {"stopLossPrice": 95000, "takeProfitPrice": 99000, "tradingStopEndpoint": True},
    )
    assert '"tpslMode":"Partial"' in client.last_request_body
    listed = stops(client)
    assert {o["info"]["stopOrderType"] for o in listed} == {"PartialStopLoss", "PartialTakeProfit"}
    assert {o["amount"] for o in listed} == {0.004}
    assert position(client)["stopLossPrice"] == 0  # no whole-position stop

    bybit_control.set_price("BTCUSDT", "98000")  # below the take-profit: nothing fires
    assert position(client)["contracts"] == 0.01
    bybit_control.set_price("BTCUSDT", "99100")  # through the take-profit: 0.004 closes
    assert position(client)["contracts"] == 0.006
    (left,) = stops(client)
    assert left["triggerPrice"] == 95000


def test_a_price_of_zero_clears_a_position_stop(bybit_trader):
    """ccxt refuses a price of 0, so this goes through its raw trading-stop call."""
    client, _ = bybit_trader
    open_long(client)
    client.create_order(
        BTC, "market", "sell", 0, None, {"stopLossPrice": 95000, "takeProfitPrice": 99000}
    )
    client.privatePostV5PositionTradingStop(
        {"category": "linear", "symbol": "BTCUSDT", "tpslMode": "Full", "stopLoss": "96000",
         "takeProfit": "0"}
    )  # fmt: skip
    held = position(client)
    assert (held["stopLossPrice"], held["takeProfitPrice"]) == (96000, 0)  # replaced, cleared
    assert [o["triggerPrice"] for o in stops(client)] == [96000]


def test_trading_stop_refuses_a_flat_position_and_the_wrong_side(bybit_trader):
    client, _ = bybit_trader
    tpsl = {"stopLossPrice": 95000, "takeProfitPrice": 99000}
    with pytest.raises(ccxt.BadRequest, match="zero position"):
        client.create_order(BTC, "market", "sell", 0, None, tpsl)
    open_long(client)
    with pytest.raises(ccxt.BadRequest, match="should lower than base_price"):
        client.create_order(BTC, "market", "sell", 0, None, {**tpsl, "stopLossPrice": 98000})
    assert stops(client) == []
    client.create_order(BTC, "market", "sell", 0, None, tpsl)
    with pytest.raises(ccxt.BadRequest, match="price invalid"):  # off the 0.1 tick
        client.privatePostV5PositionTradingStop(
            {"category": "linear", "symbol": "BTCUSDT", "tpslMode": "Full", "stopLoss": "96000",
             "takeProfit": "99000.05"}
        )  # fmt: skip
    held = position(client)  # the refused call changed nothing, not even the valid stop-loss
    assert (held["stopLossPrice"], held["takeProfitPrice"]) == (95000, 99000)


def test_reduce_only_stop_order_closes_a_short_when_the_price_rises(bybit_trader, bybit_control):
    client, key = bybit_trader
    client.create_order(ETH, "market", "sell", 1)
    stop = client.create_order(
        ETH, "market", "buy", 1, None, {"stopLossPrice": 3500, "reduceOnly": True}
    )
    assert '"triggerDirection":1' in client.last_request_body
    (listed,) = stops(client, ETH, {"stop": True})
    assert listed["id"] == stop["id"] and listed["stopLossPrice"] == 3500
    assert listed["info"]["stopOrderType"] == "Stop" and listed["amount"] == 1
    (view,) = bybit_control.account(key)["conditional_orders"]
    assert (view["side"], view["kind"], view["size"], view["order_id"]) == (
        "BUY",
        "stop_loss",
        "1",
        stop["id"],
    )

    bybit_control.set_price("ETHUSDT", "3300")  # the wrong way: nothing
    assert position(client, ETH)["side"] == "short"
    bybit_control.set_price("ETHUSDT", "3500")
    assert position(client, ETH) is None
    assert stops(client, ETH) == []
    fired = client.fetch_order(stop["id"], ETH, {"acknowledged": True})
    assert (fired["status"], fired["side"], fired["filled"]) == ("closed", "buy", 1)


def test_trigger_price_with_a_direction_is_a_take_profit_on_the_right_side(
    bybit_trader, bybit_control
):
    client, _ = bybit_trader
    client.create_order(ETH, "market", "sell", 1)  # short: profit when the price falls
    take_profit = client.create_order(
        ETH,
        "market",
        "buy",
        0.4,
        None,
        {"triggerPrice": 3300, "triggerDirection": "descending", "reduceOnly": True},
    )
    assert '"triggerDirection":2' in client.last_request_body
    (listed,) = stops(client, ETH)
    assert listed["takeProfitPrice"] == 3300 and listed["stopLossPrice"] is None
    bybit_control.set_price("ETHUSDT", "3450")
    assert position(client, ETH)["contracts"] == 1
    bybit_control.set_price("ETHUSDT", "3290")
    assert position(client, ETH)["contracts"] == 0.6
    assert client.fetch_order(take_profit["id"], ETH, {"acknowledged": True})["filled"] == 0.4


def test_cancel_one_stop_and_cancel_all_stops(bybit_trader):
    client, _ = bybit_trader
    open_long(client, ETH, 1)
    resting = client.create_order(ETH, "limit", "buy", 0.1, 3000)
    first = client.create_order(
        ETH, "market", "sell", 0.5, None, {"stopLossPrice": 3300, "reduceOnly": True}
    )
    client.create_order(
        ETH, "market", "sell", 0.5, None, {"stopLossPrice": 3200, "reduceOnly": True}
    )
    client.create_order(
        ETH, "market", "sell", 0, None, {"stopLossPrice": 3100, "takeProfitPrice": 3700}
    )

    canceled = client.cancel_order(first["id"], ETH, TRIGGER)
    assert canceled["id"] == first["id"] and '"trigger":true' in client.last_request_body
    assert {o["triggerPrice"] for o in stops(client, ETH)} == {3200, 3100, 3700}
    with pytest.raises(ccxt.OrderNotFound):
        client.cancel_order(first["id"], ETH, TRIGGER)

    assert len(client.cancel_all_orders(ETH, TRIGGER)) == 3
    assert stops(client, ETH) == []
    assert position(client, ETH)["stopLossPrice"] == 0
    assert [o["id"] for o in client.fetch_open_orders(ETH)] == [resting["id"]]  # plain orders stay


def test_without_a_filter_open_orders_include_stops_as_bybit_lists_them(bybit_trader):
    client, _ = bybit_trader
    open_long(client, ETH, 1)
    resting = client.create_order(ETH, "limit", "buy", 0.1, 3000)
    stop = client.create_order(
        ETH, "market", "sell", 1, None, {"stopLossPrice": 3300, "reduceOnly": True}
    )
    assert {o["id"] for o in client.fetch_open_orders(ETH)} == {resting["id"], stop["id"]}
    only_orders = client.fetch_open_orders(ETH, None, None, {"orderFilter": "Order"})
    assert [o["id"] for o in only_orders] == [resting["id"]]


def test_a_stop_whose_position_is_gone_does_nothing(bybit_trader, bybit_control):
    client, _ = bybit_trader
    open_long(client, ETH, 1)
    stop = client.create_order(
        ETH, "market", "sell", 1, None, {"stopLossPrice": 3300, "reduceOnly": True}
    )
    client.create_order(ETH, "market", "sell", 1, None, {"reduceOnly": True})  # closed by hand
    bybit_control.set_price("ETHUSDT", "3250")
    assert position(client, ETH) is None  # reduce-only never opens a short
    (expired,) = [o for o in client.fetch_closed_orders(ETH) if o["id"] == stop["id"]]
    assert expired["status"] == "rejected" and expired["filled"] == 0


def test_a_trigger_already_reached_is_refused(bybit_trader):
    client, _ = bybit_trader
    open_long(client, ETH, 1)
    with pytest.raises(ccxt.InvalidOrder, match="110093"):
        client.create_order(
            ETH, "market", "sell", 1, None, {"stopLossPrice": 3500, "reduceOnly": True}
        )
    with pytest.raises(ccxt.InvalidOrder, match="110092"):
        client.create_order(
            ETH, "market", "sell", 1, None, {"triggerPrice": 3300, "triggerDirection": "ascending"}
        )
    assert stops(client, ETH) == []
