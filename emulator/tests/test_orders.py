"""Order types, statuses, fills, fees and balance locking through real ccxt."""

from decimal import ROUND_DOWN, Decimal

import ccxt
import pytest

from emulator.tests.conftest import SignedHttp

ETH = "ETH/USDT"
TAKER = Decimal("0.0002")  # ETHUSDT's recorded takerCommission; makerCommission is 0


def D(value) -> Decimal:
    return Decimal(str(value))


def book_levels(client, symbol=ETH, side="asks", depth=5) -> list[tuple[Decimal, Decimal]]:
    raw = client.spotPublicGetDepth({"symbol": symbol.replace("/", ""), "limit": depth})
    return [(Decimal(price), Decimal(qty)) for price, qty in raw[side]]


def details(client, order_id, symbol=ETH) -> dict:
    return client.fetch_order(order_id, symbol)["info"]


def test_limit_order_rests_locks_quote_and_cancel_releases_it(trader, control):
    client, key = trader
    order = client.create_order(ETH, "limit", "buy", 0.5, 3300)
    assert order["id"].startswith("C02__") and order["status"] is None
    assert details(client, order["id"])["status"] == "NEW"
    assert control.balance(key, "USDT") == (Decimal("8350"), Decimal("1650"))
    balance = client.fetch_balance()
    assert balance["USDT"]["used"] == 1650
    canceled = client.cancel_order(order["id"], ETH)
    assert canceled["status"] == "canceled"
    assert control.balance(key, "USDT") == (Decimal("10000"), Decimal("0"))


def test_market_buy_walks_the_book_and_pays_taker_fee_in_base(trader, control):
    client, key = trader
    asks = book_levels(client)
    half_level = (asks[1][1] / 2).quantize(Decimal("0.00001"), ROUND_DOWN)
    quantity = asks[0][1] + half_level
    cost = asks[0][0] * asks[0][1] + asks[1][0] * half_level
    order = client.create_order(ETH, "market", "buy", float(quantity))
    info = details(client, order["id"])
    assert info["status"] == "FILLED"
    assert D(info["executedQty"]) == quantity
    assert D(info["cummulativeQuoteQty"]) == cost
    assert control.balance(key, "ETH") == (2 + quantity - quantity * TAKER, 0)
    assert control.balance(key, "USDT") == (10000 - cost, 0)
    trades = client.fetch_my_trades(ETH)
    # Both fills share a millisecond, and ccxt orders such trades by their (random) ids.
    assert sorted(D(t["amount"]) for t in trades) == sorted([asks[0][1], half_level])
    assert all(t["takerOrMaker"] == "taker" and t["fee"]["currency"] == "ETH" for t in trades)
    assert sum(D(t["info"]["commission"]) for t in trades) == quantity * TAKER


def test_consumed_liquidity_stays_gone_until_the_price_moves(trader, control):
    client, _ = trader
    asks = book_levels(client)
    client.create_order(ETH, "market", "buy", float(asks[0][1]))
    assert book_levels(client)[0] == asks[1]
    control.set_price("ETHUSDT", "3400.01")
    assert book_levels(client)[0][1] > 0
    assert book_levels(client)[0][0] != asks[1][0]


def test_market_sell_pays_fee_in_quote(trader, control):
    client, key = trader
    bids = book_levels(client, side="bids")
    quantity = bids[0][1] / 2
    order = client.create_order(ETH, "market", "sell", float(quantity))
    assert details(client, order["id"])["status"] == "FILLED"
    proceeds = bids[0][0] * quantity
    assert control.balance(key, "USDT") == (10000 + proceeds - proceeds * TAKER, 0)
    assert control.balance(key, "ETH") == (2 - quantity, 0)


def test_market_buy_with_cost_spends_at_most_the_cost(trader, control):
    client, key = trader
    order = client.create_market_buy_order_with_cost(ETH, 100)
    info = details(client, order["id"])
    assert info["status"] == "FILLED" and info["origQuoteOrderQty"] == "100"
    spent = D(info["cummulativeQuoteQty"])
    assert Decimal("99.9") < spent <= 100
    assert control.balance(key, "USDT") == (10000 - spent, 0)
    assert D(info["origQty"]) == D(info["executedQty"])


def test_market_order_with_price_is_sent_as_quote_order_qty(trader, control):
    client, key = trader
    order = client.create_order(ETH, "market", "buy", 0.01, 3400)
    info = details(client, order["id"])
    assert info["origQuoteOrderQty"] == "34"
    spent = D(info["cummulativeQuoteQty"])
    assert spent <= 34
    assert control.balance(key, "USDT") == (10000 - spent, 0)


def test_limit_crossing_partially_fills_then_cancel_is_partially_canceled(trader, control):
    client, key = trader
    asks = book_levels(client)
    quantity = asks[0][1] * 2
    order = client.create_order(ETH, "limit", "buy", float(quantity), float(asks[0][0]))
    info = details(client, order["id"])
    assert info["status"] == "PARTIALLY_FILLED"
    assert D(info["executedQty"]) == asks[0][1]
    assert control.balance(key, "USDT")[1] == asks[0][0] * asks[0][1]
    canceled = client.cancel_order(order["id"], ETH)
    assert canceled["info"]["status"] == "PARTIALLY_CANCELED"
    assert canceled["status"] == "canceled"
    assert control.balance(key, "USDT") == (10000 - asks[0][0] * asks[0][1], 0)


def test_ioc_fills_what_crosses_and_cancels_the_rest(trader):
    client, _ = trader
    asks = book_levels(client)
    available = asks[0][1] + asks[1][1]
    order = client.create_order(
        ETH, "limit", "buy", float(available + 1), float(asks[1][0]), {"timeInForce": "IOC"}
    )
    info = details(client, order["id"])
    assert info["type"] == "IMMEDIATE_OR_CANCEL"
    assert info["status"] == "PARTIALLY_CANCELED"
    assert D(info["executedQty"]) == available


def test_ioc_that_crosses_nothing_is_canceled(trader):
    client, _ = trader
    order = client.create_order(ETH, "limit", "buy", 0.1, 3000, {"timeInForce": "IOC"})
    assert details(client, order["id"])["status"] == "CANCELED"


def test_fok_fills_entirely_or_not_at_all(trader, control):
    client, key = trader
    asks = book_levels(client)
    too_big = client.create_order(
        ETH, "limit", "buy", float(asks[0][1] + 1), float(asks[0][0]), {"timeInForce": "FOK"}
    )
    assert details(client, too_big["id"])["status"] == "CANCELED"
    assert D(details(client, too_big["id"])["executedQty"]) == 0
    assert control.balance(key, "USDT") == (10000, 0)
    fits = client.create_order(
        ETH, "limit", "buy", float(asks[0][1]), float(asks[0][0]), {"timeInForce": "FOK"}
    )
    assert details(client, fits["id"])["status"] == "FILLED"


def test_limit_maker_rests_or_is_rejected_when_it_would_take(trader):
    client, _ = trader
    asks = book_levels(client)
    resting = client.create_order(ETH, "limit", "buy", 0.1, 3390, {"postOnly": True})
    assert details(client, resting["id"])["type"] == "LIMIT_MAKER"
    assert details(client, resting["id"])["status"] == "NEW"
    with pytest.raises(ccxt.InvalidOrder):
        client.create_order(ETH, "limit", "buy", 0.1, float(asks[0][0]), {"postOnly": True})


def test_resting_buy_fills_as_maker_when_the_price_moves_through_it(trader, control):
    client, key = trader
    order = client.create_order(ETH, "limit", "buy", 0.5, 3300)
    control.set_price("ETH_USDT", "3250")
    info = details(client, order["id"])
    assert info["status"] == "FILLED"
    assert D(info["cummulativeQuoteQty"]) == Decimal("1650")
    assert control.balance(key, "ETH") == (Decimal("2.5"), 0)  # maker fee is 0
    assert control.balance(key, "USDT") == (Decimal("8350"), 0)
    trade = client.fetch_my_trades(ETH)[-1]
    assert trade["takerOrMaker"] == "maker" and trade["price"] == 3300


def test_resting_sell_fills_partly_when_the_move_crosses_less_liquidity(trader, control):
    client, key = trader
    order = client.create_order(ETH, "limit", "sell", 2, 3500)
    control.set_price("ETH-USDT", "3500.5")  # only the best bid or so crosses 3500
    bids = book_levels(client, side="bids", depth=100)
    info = details(client, order["id"])
    assert info["status"] == "PARTIALLY_FILLED"
    filled = D(info["executedQty"])
    assert 0 < filled < 2
    assert bids[0][0] < 3500  # what crossed was consumed
    proceeds = filled * 3500
    assert control.balance(key, "USDT") == (10000 + proceeds, 0)
    assert control.balance(key, "ETH") == (0, 2 - filled)


def test_test_order_validates_without_placing(trader, control):
    client, key = trader
    client.create_order(ETH, "limit", "buy", 0.1, 3300, {"test": True})
    assert client.fetch_open_orders(ETH) == []
    assert control.balance(key, "USDT") == (10000, 0)
    with pytest.raises(ccxt.InvalidOrder):
        client.create_order(ETH, "limit", "buy", 0.0001, 3300, {"test": True})


def test_create_orders_places_a_batch_and_reports_rejections(trader):
    client, _ = trader
    orders = client.create_orders(
        [
            {"symbol": ETH, "type": "limit", "side": "buy", "amount": 0.1, "price": 3300},
            {"symbol": ETH, "type": "limit", "side": "buy", "amount": 0.2, "price": 3310},
            {"symbol": ETH, "type": "limit", "side": "buy", "amount": 0.0001, "price": 3300},
        ]
    )
    rejected = [order for order in orders if order["status"] == "rejected"]
    assert len(orders) == 3 and len(rejected) == 1
    assert rejected[0]["info"]["code"] == 30002
    assert len(client.fetch_open_orders(ETH)) == 2


def test_orders_by_client_order_id(trader):
    client, _ = trader
    client.create_order(ETH, "limit", "buy", 0.1, 3300, {"clientOrderId": "intent-42"})
    fetched = client.fetch_order(None, ETH, {"clientOrderId": "intent-42"})
    assert fetched["clientOrderId"] == "intent-42" and fetched["status"] == "open"
    canceled = client.cancel_order(None, ETH, {"clientOrderId": "intent-42"})
    assert canceled["status"] == "canceled"
    assert client.fetch_order(None, ETH, {"clientOrderId": "intent-42"})["status"] == "canceled"


def test_duplicate_client_order_id_is_rejected(trader):
    client, _ = trader
    client.create_order(ETH, "limit", "buy", 0.1, 3300, {"clientOrderId": "same"})
    with pytest.raises(ccxt.ExchangeError, match="Duplicate order sent"):
        client.create_order(ETH, "limit", "buy", 0.1, 3300, {"clientOrderId": "same"})
    assert len(client.fetch_open_orders(ETH)) == 1


def test_open_orders_listing_and_cancel_all(trader):
    client, _ = trader
    client.create_order(ETH, "limit", "buy", 0.1, 3300)
    client.create_order(ETH, "limit", "sell", 0.1, 3500)
    client.create_order("BTC/USDT", "limit", "buy", 0.001, 90000)
    assert len(client.fetch_open_orders(ETH)) == 2
    assert len(client.fetch_open_orders()) == 3
    canceled = client.cancel_all_orders(ETH)
    assert {order["status"] for order in canceled} == {"canceled"} and len(canceled) == 2
    assert [o["symbol"] for o in client.fetch_open_orders()] == ["BTC/USDT"]
    assert client.cancel_all_orders() == []
    assert client.fetch_open_orders() == []


def test_cancel_open_orders_for_several_symbols_in_one_call(trader):
    client, _ = trader
    client.create_order(ETH, "limit", "buy", 0.1, 3300)
    client.create_order("BTC/USDT", "limit", "buy", 0.001, 90000)
    canceled = client.spotPrivateDeleteOpenOrders({"symbol": "ETHUSDT,BTCUSDT"})
    assert sorted(order["symbol"] for order in canceled) == ["BTCUSDT", "ETHUSDT"]
    assert client.fetch_open_orders() == []


def test_fetch_orders_lists_every_status(trader):
    client, _ = trader
    client.create_order(ETH, "limit", "buy", 0.1, 3300)
    filled = client.create_order(ETH, "market", "buy", 0.01)
    canceled = client.create_order(ETH, "limit", "buy", 0.1, 3200)
    client.cancel_order(canceled["id"], ETH)
    statuses = [order["status"] for order in client.fetch_orders(ETH)]
    assert statuses == ["open", "closed", "canceled"]
    assert client.fetch_orders(ETH, limit=1)[0]["id"] == canceled["id"]
    assert [t["order"] for t in client.fetch_my_trades(ETH)] == [filled["id"]]


def test_fetch_my_trades_filters_by_order(trader):
    client, _ = trader
    first = client.create_order(ETH, "market", "buy", 0.01)
    client.create_order(ETH, "market", "buy", 0.02)
    trades = client.fetch_my_trades(ETH, params={"orderId": first["id"]})
    assert [trade["amount"] for trade in trades] == [0.01]
    assert client.fetch_my_trades("BTC/USDT") == []


def test_minimum_amount_insufficient_funds_and_unknown_orders(trader_factory):
    client, _ = trader_factory({"USDT": "100", "ETH": "0.01"})
    with pytest.raises(ccxt.InvalidOrder, match="cannot be less than :1USDT"):
        client.create_order(ETH, "limit", "buy", 0.0002, 3000)
    with pytest.raises(ccxt.InsufficientFunds, match="Insufficient position"):
        client.create_order(ETH, "limit", "buy", 0.1, 3300)
    with pytest.raises(ccxt.InsufficientFunds, match="Oversold"):
        client.create_order(ETH, "market", "sell", 0.02)
    with pytest.raises(ccxt.InsufficientFunds):
        client.create_market_buy_order_with_cost(ETH, 101)
    with pytest.raises(ccxt.ExchangeError, match="-2013"):
        client.fetch_order("C02__1", ETH)
    with pytest.raises(ccxt.BadRequest, match="-2011"):
        client.cancel_order("C02__1", ETH)
    with pytest.raises(ccxt.BadSymbol):
        client.spotPrivateGetOpenOrders({"symbol": "NOPEUSDT"})


def test_cancel_of_a_filled_order_is_unknown(trader):
    client, _ = trader
    order = client.create_order(ETH, "market", "buy", 0.01)
    with pytest.raises(ccxt.BadRequest, match="Unknown order sent"):
        client.cancel_order(order["id"], ETH)


def test_at_most_500_open_orders_per_account(emulator, control):
    api_key, secret = control.create_account({"USDT": "1000"})
    signer = SignedHttp(emulator.url, api_key, secret)
    order = {"symbol": "ADAUSDT", "side": "BUY", "type": "LIMIT", "quantity": "2", "price": "0.5"}
    for _ in range(500):
        assert signer.call("POST", "/api/v3/order", order).ok
    refused = signer.call("POST", "/api/v3/order", order)
    assert refused.status_code == 400 and refused.json()["code"] == 30029
    assert control.balance(api_key, "USDT") == (Decimal(500), Decimal(500))


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"side": "BUY", "type": "LIMIT", "quantity": "0.1"}, 700004),
        ({"side": "BUY", "type": "LIMIT", "quantity": "NaN", "price": "3000"}, 730002),
        ({"side": "BUY", "type": "LIMIT", "quantity": "-0.1", "price": "3000"}, 730002),
        ({"side": "BUY", "type": "LIMIT", "quantity": "abc", "price": "3000"}, 730002),
        ({"side": "BUY", "type": "STOP", "quantity": "0.1", "price": "3000"}, 730002),
        ({"side": "BUY", "type": "LIMIT", "quantity": "0.123456", "price": "3000"}, 10096),
        ({"side": "BUY", "type": "LIMIT", "quantity": "0.1", "price": "3000.001"}, 10096),
        ({"side": "BUY", "type": "LIMIT", "quantity": "1000", "price": "3000"}, 30003),
        ({"side": "BUY", "type": "MARKET"}, 700004),
    ],
)
def test_malformed_orders_get_mexc_codes_and_change_nothing(emulator, control, params, code):
    signer = SignedHttp(emulator.url, "demo-key", "demo-secret")
    response = signer.call("POST", "/api/v3/order", {"symbol": "ETHUSDT", **params})
    assert response.status_code == 400 and response.json()["code"] == code
    assert control.account("demo-key") == {
        "balances": {"USDT": {"free": "10000", "locked": "0"}},
        "open_orders": [],
        "conditional_orders": [],
    }
