"""The account's fills through the real ccxt `fetch_my_trades` on both perpetual dialects:
Bybit v5 /v5/execution/list and Binance USD-M /fapi/v1/userTrades. Every fill of every
order is listed (market and limit, reduce-only closes, the orders fired stops sent), under
its order's id, with its amount, price and USDT fee exactly as the wallet was charged."""

import time
from dataclasses import dataclass
from decimal import Decimal

import ccxt
import pytest

from emulator import perp_engine
from emulator.accounts import AccountSpec
from emulator.perp_markets import load_perp_catalogue
from emulator.perp_orders import PerpOrderRequest
from emulator.tests.conftest import Control, binance_client, bybit_client

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
TAKER, MAKER = Decimal("0.00055"), Decimal("0.0002")
START = Decimal(10000)
WEEK_MS = 7 * 86_400_000
TRIGGER = {"trigger": True}
ACK = {"acknowledged": True}  # ccxt's guard on Bybit's fetch_order for unified accounts


@dataclass
class Venue:
    """One fresh account on one dialect, and the names its wire gives a fill's figures."""

    dialect: str
    url: str
    client: ccxt.Exchange
    key: str
    control: Control

    @property
    def bybit(self) -> bool:
        return self.dialect == "bybit"

    def figures(self, trade: dict) -> tuple[Decimal, Decimal, Decimal]:
        """(qty, price, fee) of a fill as the exchange sent them, exact."""
        names = (
            ("execQty", "execPrice", "execFee") if self.bybit else ("qty", "price", "commission")
        )
        return tuple(Decimal(trade["info"][name]) for name in names)

    def wallet(self) -> Decimal:
        return Decimal(self.control.account(self.key)["balances"]["USDT"]["wallet"])

    def fills_of(self, order_id: str, symbol: str = ETH) -> list[dict]:
        """What the app's executor does: the latest 100 fills, those of one order; in the
        order they happened (ccxt sorts by the millisecond, which fills of one order share)."""
        trades = self.client.fetch_my_trades(symbol, None, 100)
        mine = [t for t in trades if t["order"] == order_id]
        return sorted(mine, key=lambda t: int(t["info"]["seq" if self.bybit else "id"]))

    def order(self, order_id: str, symbol: str) -> dict:
        return self.client.fetch_order(order_id, symbol, ACK if self.bybit else {})

    def client_for(self, key: str, secret: str) -> ccxt.Exchange:
        client = (bybit_client if self.bybit else binance_client)(self.url, key, secret)
        client.set_markets(self.client.markets)
        return client


DIALECTS = {"bybit": ("bybit", bybit_client), "binanceusdm": ("binance", binance_client)}


@pytest.fixture(params=list(DIALECTS))
def venue(request) -> Venue:
    """A fresh 10000 USDT account on a reset exchange of each dialect in turn."""
    prefix, make_client = DIALECTS[request.param]
    server = request.getfixturevalue(f"{prefix}_emulator")
    control = request.getfixturevalue(f"{prefix}_control")
    markets = request.getfixturevalue(f"{prefix}_markets")
    control.reset()
    key, secret = control.create_account({"USDT": "10000"})
    client = make_client(server.url, key, secret)
    client.set_markets(markets)
    return Venue(request.param, server.url, client, key, control)


def test_a_market_order_that_walks_the_book_lists_one_fill_per_level(venue):
    before = int(time.time() * 1000)
    order = venue.client.create_order(ETH, "market", "buy", 2)

    fills = venue.fills_of(order["id"])

    after = int(time.time() * 1000)
    assert len(fills) >= 2  # 2 ETH is more than the best ask holds
    figures = [venue.figures(f) for f in fills]
    assert sum(qty for qty, _, _ in figures) == 2
    prices = [price for _, price, _ in figures]
    assert prices == sorted(prices) and prices[0] < prices[-1]  # up the asks
    for fill, (qty, price, fee) in zip(fills, figures, strict=True):
        assert (fill["symbol"], fill["side"], fill["takerOrMaker"]) == (ETH, "buy", "taker")
        assert (fill["amount"], fill["price"]) == (float(qty), float(price))
        assert fee == qty * price * TAKER
        assert fill["fee"]["cost"] == float(fee) and fill["fee"]["currency"] == "USDT"
        assert before <= fill["timestamp"] <= after
    assert len({f["id"] for f in fills}) == len(fills) and all(f["id"] for f in fills)
    cost = sum(qty * price for qty, price, _ in figures)
    assert Decimal(str(venue.order(order["id"], ETH)["cost"])) == cost
    assert venue.wallet() == START - sum(fee for _, _, fee in figures)


def test_a_resting_limit_fill_is_the_makers_at_its_own_price(venue):
    order = venue.client.create_order(BTC, "limit", "buy", 0.01, 95000, {"clientOrderId": "dip"})
    assert venue.fills_of(order["id"], BTC) == []

    venue.control.set_price("BTCUSDT", "94000")

    (fill,) = venue.fills_of(order["id"], BTC)
    assert venue.figures(fill) == (Decimal("0.01"), Decimal(95000), Decimal("0.19"))
    assert (fill["side"], fill["takerOrMaker"], fill["price"], fill["amount"]) == (
        "buy",
        "maker",
        95000,
        0.01,
    )
    assert fill["fee"]["cost"] == 0.19 and fill["fee"]["currency"] == "USDT"
    if venue.bybit:
        assert fill["info"]["orderLinkId"] == "dip" and fill["info"]["isMaker"] is True
    else:
        assert fill["info"]["maker"] is True and fill["info"]["buyer"] is True
    assert venue.wallet() == START - Decimal("0.19")


def test_a_reduce_only_close_lists_its_fill_with_what_it_closed(venue):
    opened = venue.client.create_order(BTC, "market", "buy", 0.01)
    ((_, entry, open_fee),) = [venue.figures(f) for f in venue.fills_of(opened["id"], BTC)]
    venue.control.set_price("BTCUSDT", "98000")

    closed = venue.client.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})

    (fill,) = venue.fills_of(closed["id"], BTC)
    qty, price, fee = venue.figures(fill)
    assert (fill["side"], qty, fee) == ("sell", Decimal("0.01"), qty * price * TAKER)
    realized = qty * (price - entry)
    if venue.bybit:
        assert fill["info"]["closedSize"] == "0.01" and fill["info"]["createType"] == "CreateByUser"
    else:
        assert Decimal(fill["info"]["realizedPnl"]) == realized
        assert fill["info"]["positionSide"] == "BOTH" and fill["info"]["buyer"] is False
    assert venue.wallet() == START + realized - open_fee - fee
    opening = venue.fills_of(opened["id"], BTC)[0]
    assert opening["info"]["closedSize" if venue.bybit else "realizedPnl"] == "0"


def test_a_fired_stop_lists_the_fill_of_the_order_it_sent(venue):
    client = venue.client
    client.create_order(BTC, "market", "buy", 0.01)
    if venue.bybit:  # a whole-position stop-loss on /v5/position/trading-stop
        tpsl = {"stopLossPrice": 95000, "takeProfitPrice": 99000}
        client.create_order(BTC, "market", "sell", 0, None, tpsl)
        stops = client.fetch_open_orders(BTC, None, None, TRIGGER)
        (stop,) = [s for s in stops if s["triggerPrice"] == 95000]
    else:  # an algo STOP_MARKET with closePosition
        stop = client.create_order(
            BTC, "market", "sell", None, None, {"stopLossPrice": 95000, "closePosition": True}
        )

    venue.control.set_price("BTCUSDT", "94900")

    if venue.bybit:
        sent_id = stop["id"]  # a fired Bybit conditional becomes its order, keeping the id
    else:
        sent_id = client.fetch_order(stop["id"], BTC, TRIGGER)["info"]["actualOrderId"]
    (fill,) = venue.fills_of(sent_id, BTC)
    qty, price, fee = venue.figures(fill)
    assert (fill["side"], qty, fee) == ("sell", Decimal("0.01"), qty * price * TAKER)
    assert price < 94900 and fill["takerOrMaker"] == "taker"
    assert Decimal(str(venue.order(sent_id, BTC)["average"])) == price
    if venue.bybit:
        info = fill["info"]
        assert (info["stopOrderType"], info["createType"]) == ("StopLoss", "CreateByStopLoss")
        assert info["closedSize"] == "0.01"


def test_fills_are_the_accounts_own_and_since_keeps_the_later_ones(venue):
    first = venue.client.create_order(ETH, "market", "buy", 0.1)
    time.sleep(0.01)
    since = int(time.time() * 1000)
    time.sleep(0.01)
    second = venue.client.create_order(ETH, "market", "sell", 0.1)
    venue.client.create_order(BTC, "market", "buy", 0.01)
    stranger = venue.client_for(*venue.control.create_account({"USDT": "10000"}))

    eth = venue.client.fetch_my_trades(ETH)
    assert {t["order"] for t in eth} == {first["id"], second["id"]}
    later = venue.client.fetch_my_trades(ETH, since)
    assert {t["order"] for t in later} == {second["id"]}
    assert stranger.fetch_my_trades(ETH) == []


def test_both_dialects_refuse_a_bad_signature(venue):
    wrong = venue.client_for(venue.key, "not-the-secret")
    with pytest.raises(ccxt.AuthenticationError, match="10004" if venue.bybit else "-1022"):
        wrong.fetch_my_trades(ETH)


# --- Bybit /v5/execution/list ---------------------------------------------------------------


def executions(client, **params) -> dict:
    return client.privateGetV5ExecutionList({"category": "linear", **params})["result"]


def test_bybit_filters_by_order_id_and_link_id_and_pages_with_the_cursor(bybit_trader):
    client, _ = bybit_trader
    walked = client.create_order(ETH, "market", "buy", 2, None, {"clientOrderId": "walk"})
    other = client.create_order(BTC, "market", "buy", 0.01)
    by_id = client.fetch_order_trades(walked["id"], ETH)
    assert len(by_id) >= 2 and {t["order"] for t in by_id} == {walked["id"]}
    by_link = client.fetch_my_trades(None, None, None, {"orderLinkId": "walk"})
    assert [t["id"] for t in by_link] == [t["id"] for t in by_id]
    everything = client.fetch_my_trades()  # no symbol: every linear fill
    assert {t["order"] for t in everything} == {walked["id"], other["id"]}
    assert {t["symbol"] for t in everything} == {ETH, BTC}

    listed = executions(client)["list"]
    assert [int(e["seq"]) for e in listed] == sorted((int(e["seq"]) for e in listed), reverse=True)
    pages, cursor = [], None
    while cursor != "":
        page = executions(client, limit=1, **({"cursor": cursor} if cursor else {}))
        pages += page["list"]
        cursor = page["nextPageCursor"]
    assert [e["execId"] for e in pages] == [e["execId"] for e in listed]
    paginated = client.fetch_my_trades(None, None, None, {"paginate": True})
    assert sorted(t["id"] for t in paginated) == sorted(t["id"] for t in everything)


def test_bybit_a_fired_conditional_orders_fill_says_what_created_it(bybit_trader, bybit_control):
    client, _ = bybit_trader
    client.create_order(ETH, "market", "sell", 1)
    stop = client.create_order(
        ETH, "market", "buy", 0.4, None, {"stopLossPrice": 3500, "reduceOnly": True}
    )
    bybit_control.set_price("ETHUSDT", "3500")
    (fill,) = client.fetch_order_trades(stop["id"], ETH)
    info = fill["info"]
    assert (info["stopOrderType"], info["createType"], info["orderType"]) == (
        "Stop",
        "CreateByStopOrder",
        "Market",
    )
    assert (fill["side"], fill["amount"], info["closedSize"], info["leavesQty"]) == (
        "buy",
        0.4,
        "0.4",
        "0",
    )


def test_bybit_execution_list_limits_windows_and_errors(bybit_trader):
    client, _ = bybit_trader
    client.create_order(ETH, "market", "buy", 0.1)
    now = int(time.time() * 1000)
    assert len(executions(client, limit=1000)["list"]) == 1  # above 100: answered, not refused
    assert executions(client, execType="Funding")["list"] == []
    assert executions(client, startTime=now + 60_000)["list"] == []
    assert executions(client, endTime=now - 60_000)["list"] == []
    assert len(executions(client, startTime=now - WEEK_MS + 2000, endTime=now + 1000)["list"]) == 1
    assert executions(client, baseCoin="BTC")["list"] == []
    for bad in (
        {"limit": 0},
        {"cursor": "not-a-cursor"},
        {"startTime": now - WEEK_MS - 1, "endTime": now},
        {"startTime": now, "endTime": now - 1},
        {"symbol": "NOPEUSDT"},
    ):
        with pytest.raises(ccxt.BadRequest, match="10001"):
            executions(client, **bad)
    with pytest.raises(ccxt.BadRequest, match="10001"):
        client.privateGetV5ExecutionList({"category": "spot"})


# --- Binance /fapi/v1/userTrades ------------------------------------------------------------


def user_trades(client, **params) -> list[dict]:
    return client.fapiPrivateGetUserTrades({"symbol": "ETHUSDT", **params})


def test_binance_user_trades_by_order_from_id_and_time(binance_trader):
    client, _ = binance_trader
    walked = client.create_order(ETH, "market", "buy", 2)
    client.create_order(ETH, "market", "sell", 2, None, {"reduceOnly": True})
    listed = user_trades(client)
    ids = [entry["id"] for entry in listed]
    assert ids == sorted(ids) and len(ids) >= 4  # oldest first
    mine = client.fetch_my_trades(ETH, None, None, {"orderId": walked["id"]})
    assert {t["order"] for t in mine} == {walked["id"]} and len(mine) >= 2
    assert [e["id"] for e in user_trades(client, fromId=ids[1], limit=2)] == ids[1:3]
    assert [e["id"] for e in user_trades(client, limit=2)] == ids[-2:]  # the latest
    first_time = listed[0]["time"]
    assert [e["id"] for e in user_trades(client, startTime=first_time, limit=1)] == ids[:1]
    assert user_trades(client, startTime=listed[-1]["time"] + 1) == []
    assert len(user_trades(client, limit=5000)) == len(ids)  # above 1000: answered
    assert client.fetch_my_trades(BTC) == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"fromId": 1, "startTime": 1}, "-1128"),
        ({"startTime": 2_000_000, "endTime": 1_000_000}, "-1023"),
        ({"startTime": 1_000_000, "endTime": 1_000_000 + WEEK_MS + 1}, "-1127"),
        ({"limit": 0}, "-1130"),
        ({"orderId": "x"}, "-1130"),
        ({"symbol": "NOPEUSDT"}, "-1121"),
    ],
)
def test_binance_user_trades_refuses_bad_parameters(binance_trader, params, code):
    client, _ = binance_trader
    with pytest.raises((ccxt.BadRequest, ccxt.BadSymbol), match=code):
        user_trades(client, **params)


def test_binance_user_trades_needs_a_symbol(binance_trader):
    client, _ = binance_trader
    with pytest.raises(ccxt.BadRequest, match="-1102"):
        client.fapiPrivateGetUserTrades({})


# --- the history is bounded ---------------------------------------------------------------


def test_the_engine_keeps_each_accounts_latest_fills(monkeypatch):
    monkeypatch.setattr(perp_engine, "TRADES_KEPT", 3)
    engine = perp_engine.PerpEngine(
        load_perp_catalogue(), 1, [AccountSpec("k", "s", {"USDT": "100000"})], "int"
    )
    account = engine.accounts["k"]
    orders = [
        engine.place(
            account,
            PerpOrderRequest("ETHUSDT", side, "MARKET", Decimal("0.1"), None, "IOC", False, None),
        )
        for side in ("BUY", "SELL", "BUY", "SELL", "BUY")
    ]
    kept = engine.account_trades(account)
    assert [t.order for t in kept] == orders[2:]
    assert [t.seq for t in kept] == [3, 4, 5]


def test_binance_a_wallet_holding_bnb_pays_the_commission_in_bnb(binance_factory, binance_control):
    """Binance's BNB fee discount: the commission of each fill is paid in BNB, 10 % off at
    BNB's price, and the USDT wallet is charged nothing; without BNB it is USDT as before."""
    client, key = binance_factory({"USDT": "10000", "BNB": "5"})
    bnb = Decimal(client.fetch_ticker("BNB/USDT:USDT")["info"]["lastPrice"])
    bought = client.create_order(ETH, "market", "buy", "0.5")
    fills = client.fetch_my_trades(ETH, None, None, {"orderId": bought["id"]})
    assert fills and {t["info"]["commissionAsset"] for t in fills} == {"BNB"}
    paid = sum(Decimal(t["info"]["commission"]) for t in fills)
    due = sum(Decimal(t["info"]["quoteQty"]) * TAKER for t in fills) * Decimal("0.9") / bnb
    assert 0 < due - paid < Decimal("0.00000001") * len(fills)  # each rounded down
    balances = binance_control.account(key)["balances"]
    assert Decimal(balances["BNB"]["wallet"]) == Decimal(5) - paid
    assert Decimal(balances["USDT"]["wallet"]) == Decimal(10000)  # no fee, nothing realized

    plain, _ = binance_factory({"USDT": "10000"})
    sold = plain.create_order(ETH, "market", "sell", "0.5")
    fills = plain.fetch_my_trades(ETH, None, None, {"orderId": sold["id"]})
    assert {t["info"]["commissionAsset"] for t in fills} == {"USDT"}
