"""What the exchange reports, read so that a fault never becomes a wrong record: real ccxt
against the emulator over HTTP, a real SQLite database. An order's fills are read by its
exchange id, page after page; Bybit's order history answers for what its realtime list
forgot; a 429 is waited out and said so; an order that filled is never sent twice because
the exchange denies it; an unknown status is asked again, never recorded rejected; a fee
paid in a third asset is valued at that asset's price."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.domain import OrderStatus, PositionState, Side, TradeSize
from core.exchange.gateway import FillsIncomplete, RateLimited
from core.store.models import FillRecord
from emulator.control_client import ControlClient
from tests.integration.test_live_sync import (
    assert_database_matches_exchange,
    assert_never_twice,
    exchange_orders,
    live,  # noqa: F401 - the LIVE service fixture
    recorded_orders,
)
from tests.integration.test_unreadable_answers import arm, assert_nothing_unreadable_stored

LONG = PositionState.LONG
SIZE = TradeSize(quote_amount=Decimal(1000))
SYMBOL = {"mexc": "ETH/USDT", "bybit": "BTC/USDT:USDT", "binanceusdm": "BTC/USDT:USDT"}


def filled_on_exchange(engine) -> list[dict]:
    return [o for o in exchange_orders(engine) if o["filled"]]


def recorded_fills(engine) -> list[FillRecord]:
    with engine.db.session() as session:
        return list(session.scalars(select(FillRecord)))


def sweep(gateway, dialect: str, amount: str, client_order_id: str):
    """A LIMIT buy 1 % above the best ask, large enough to take several levels of the book:
    one order, many executions."""
    symbol = SYMBOL[dialect]
    rules = gateway.market.market_rules(symbol)
    price = gateway.market.order_book(symbol).best_ask * Decimal("1.01")
    price = (price / rules.price_step).quantize(Decimal(1)) * rules.price_step
    gateway.place_limit_order(symbol, Side.BUY, Decimal(amount), price, client_order_id)
    report = gateway.order_by_client_id(symbol, client_order_id)
    assert report.status is OrderStatus.FILLED and report.placed_at is not None
    return report


# --- fills: by order id, paged until complete ------------------------------------------


@pytest.mark.parametrize("dialect", ["bybit", "binanceusdm"])
def test_an_order_with_more_executions_than_a_page_has_every_fill(venues, gateways, dialect):
    gateway = gateways[dialect]
    ControlClient(venues[dialect].url).set_balances({"USDT": "10000000"})
    gateway.market.venue = dataclasses.replace(gateway.market.venue, fills_page_size=3)
    report = sweep(gateway, dialect, "3", "many-fills")

    fills = gateway.order_fills(report)

    assert len(fills) > 3 * 2  # more than two pages
    assert len({f.trade_id for f in fills}) == len(fills)
    assert sum(f.qty for f in fills) == report.filled
    assert {f.client_order_id for f in fills} == {"many-fills"}


def test_fills_of_other_orders_never_count(venues, gateways):
    """The symbol's later trades (more than a page of them) do not push an order's fills out
    of what is read: they are asked by the order's id."""
    gateway = gateways["binanceusdm"]
    ControlClient(venues["binanceusdm"].url).set_balances({"USDT": "10000000"})
    first = sweep(gateway, "binanceusdm", "0.5", "first")
    for n in range(3):
        sweep(gateway, "binanceusdm", "0.5", f"later-{n}")
    gateway.market.venue = dataclasses.replace(gateway.market.venue, fills_page_size=2)

    fills = gateway.order_fills(first)

    assert sum(f.qty for f in fills) == first.filled
    assert {f.client_order_id for f in fills} == {"first"}


def test_mexc_pages_an_orders_fills_by_time(venues, gateways):
    """A resting order filled level by level as the price steps down: five executions at
    five instants, read two a page from the order's placing time."""
    gateway, control = gateways["mexc"], ControlClient(venues["mexc"].url)
    control.set_balances({"USDT": "1000000"})
    price = (gateway.market.order_book("ETH/USDT").best_bid * Decimal("0.99")).quantize(
        Decimal("0.01")
    )
    gateway.place_limit_order("ETH/USDT", Side.BUY, Decimal(3), price, "resting")
    report = gateway.order_by_client_id("ETH/USDT", "resting")
    step = 0
    while report.status is not OrderStatus.FILLED:
        step += 1
        assert step < 20, report
        control.set_price("ETHUSDT", str(price - Decimal("0.40") + Decimal(step) / 1000))
        report = gateway.order_by_client_id("ETH/USDT", "resting")
    gateway.market.venue = dataclasses.replace(gateway.market.venue, fills_page_size=2)

    fills = gateway.order_fills(report)

    assert len(fills) > 2 * 2 and len({f.time for f in fills}) > 2
    assert sum(f.qty for f in fills) == report.filled == Decimal(3)


def test_mexc_fills_that_no_page_can_reach_are_incomplete_not_lost(venues, gateways):
    """MEXC pages an order's fills only by time: executions of one instant beyond a page
    cannot be listed, and the app says so instead of recording a part of them."""
    gateway = gateways["mexc"]
    ControlClient(venues["mexc"].url).set_balances({"USDT": "10000000"})
    report = sweep(gateway, "mexc", "40", "one-instant")
    gateway.market.venue = dataclasses.replace(gateway.market.venue, fills_page_size=2)

    with pytest.raises(FillsIncomplete, match=r"lists .* of the .* filled"):
        gateway.order_fills(report)


# --- Bybit: the history answers for what realtime forgot --------------------------------


def test_a_bybit_order_closed_before_a_restart_is_found_in_the_history(venues, gateways):
    gateway = gateways["bybit"]
    placed = sweep(gateway, "bybit", "0.01", "before-restart")
    ControlClient(venues["bybit"].url).restart()
    market = gateway.client.market(SYMBOL["bybit"])
    realtime = gateway.client.privateGetV5OrderRealtime(
        {"category": "linear", "symbol": market["id"], "orderLinkId": "before-restart"}
    )
    assert realtime["result"]["list"] == []  # the realtime list forgot it

    report = gateway.order_by_client_id(SYMBOL["bybit"], "before-restart")

    assert report.status is OrderStatus.FILLED
    assert report.exchange_order_id == placed.exchange_order_id
    assert report.filled == Decimal("0.01")


# --- 429: waited out, and said so -------------------------------------------------------


def test_a_429_is_waited_out_once(live, control):  # noqa: F811
    arm(control, "GET", "/api/v3/account", "http_429")
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    assert result.ok, result.message


def test_a_429_that_persists_is_rate_limited_not_unreachable(live, control):  # noqa: F811
    arm(control, "GET", "/api/v3/account", "http_429", count=2)
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    assert not result.ok
    assert "rate-limited, retried in 1 s" in result.message, result.message
    assert "unreachable" not in result.message and "too many requests" in result.message
    assert not exchange_orders(live)


@pytest.mark.parametrize("dialect", list(SYMBOL))
def test_each_venue_429_is_a_rate_limit(venues, gateways, dialect):
    gateway = gateways[dialect]
    balance_path = {
        "mexc": "/api/v3/account",
        "bybit": "/v5/account/wallet-balance",
        "binanceusdm": "/fapi/v3/account",
    }[dialect]
    ControlClient(venues[dialect].url).faults(
        {"fail": {"method": "GET", "path": balance_path, "mode": "http_429", "count": 2}}
    )
    with pytest.raises(RateLimited) as refused:
        gateway.balances()
    assert refused.value.retry_after == 1
    assert "rate-limited, retried in 1 s" in str(refused.value)


# --- faults after an order is out ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["http_500", "http_429", "nan_numbers", "drop_response"])
@pytest.mark.parametrize("path", ["/api/v3/order", "/api/v3/myTrades"], ids=["order", "fills"])
def test_a_failed_read_after_the_fill_is_read_again(live, control, mode, path):  # noqa: F811
    """The order filled; the next read of it or of its fills fails. The trade is still
    verified, recorded once, and no intent is left."""
    arm(control, "GET", path, mode)
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    control.clear_faults()
    assert result.ok, result.message
    assert [o.status for o in recorded_orders(live)] == [OrderStatus.FILLED.value]
    assert_never_twice(live)
    assert_database_matches_exchange(live, control)
    assert_nothing_unreadable_stored(live)


def test_a_fill_before_the_cancel_is_recorded_once(live, control):  # noqa: F811
    """The order filled at once, but every poll and the read after the cancel answer "does
    not exist" and the cancel "unknown order": its fills, asked by its exchange id, say it
    filled. One BUY, recorded filled, no second order."""
    arm(control, "GET", "/api/v3/order", "order_not_found", count=1000)
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    control.clear_faults()
    assert result.ok, result.message
    assert len(filled_on_exchange(live)) == 1
    assert [o.status for o in recorded_orders(live)] == [OrderStatus.FILLED.value]
    assert_never_twice(live)
    assert_database_matches_exchange(live, control)


def test_not_found_past_the_window_sends_no_second_order(live, control):  # noqa: F811
    """The order's answer is lost and the exchange keeps saying it does not exist past the
    receive window: its fills since it was sent show an order the app does not know, so
    nothing is sent again; the order stays unknown (never rejected) until the exchange
    answers, and the next trade settles it first."""
    control.faults(
        {
            "fail": [
                {"method": "POST", "path": "/api/v3/order", "mode": "drop_response"},
                {"method": "GET", "path": "/api/v3/order", "mode": "order_not_found", "count": 999},
            ]
        }
    )
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    assert not result.ok and "paused until it is reconciled" in result.message, result.message
    assert len(filled_on_exchange(live)) == 1
    assert [o.status for o in recorded_orders(live)] == [OrderStatus.UNKNOWN.value]
    control.clear_faults()

    again = live.service.trading.trade("ETH/USDT", LONG, SIZE)

    assert again.ok, again.message
    assert len(filled_on_exchange(live)) == 1
    assert [o.status for o in recorded_orders(live)] == [OrderStatus.FILLED.value]
    assert_never_twice(live)
    assert_database_matches_exchange(live, control)


def test_an_unknown_status_is_asked_again_not_recorded_rejected(live, control):  # noqa: F811
    arm(control, "GET", "/api/v3/order", "unknown_status")
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    assert result.ok, result.message
    assert [o.status for o in recorded_orders(live)] == [OrderStatus.FILLED.value]


def test_a_status_never_readable_leaves_the_order_unknown_until_reconciled(live, control):  # noqa: F811
    arm(control, "GET", "/api/v3/order", "unknown_status", count=999)
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    assert not result.ok and "unreadable" in result.message, result.message
    statuses = [o.status for o in recorded_orders(live)]
    assert statuses == [OrderStatus.UNKNOWN.value]
    control.clear_faults()
    assert live.service.trading.trade("ETH/USDT", LONG, SIZE).ok
    assert [o.status for o in recorded_orders(live)] == [OrderStatus.FILLED.value]
    assert len(filled_on_exchange(live)) == 1
    assert_database_matches_exchange(live, control)


# --- a fee paid in a third asset ----------------------------------------------------------


def test_a_fee_paid_in_mx_is_valued_at_mx_price(live, control):  # noqa: F811
    control.set_balances({"USDT": "10000", "MX": "100"})
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    assert result.ok, result.message
    mx_price = live.service.wiring.live_gateway().market.ticker("MX/USDT").last
    assert result.fills and {f.fee_asset for f in result.fills} == {"MX"}
    for fill in result.fills:
        assert fill.fee > 0 and fill.fee_quote == fill.fee * mx_price
        assert fill.fee_quote < fill.qty * fill.price * Decimal("0.01")  # never at ETH's price
    assert {f.fee_asset for f in recorded_fills(live)} == {"MX"}
    assert_database_matches_exchange(live, control)  # the ETH bought is all held


def test_not_found_with_fills_not_listed_yet_is_caught_by_the_balance(live, control):  # noqa: F811
    """The exchange denies the order and its fill list lags behind: the account's ETH,
    more than the orders the app knows explain, keeps the second order from going out."""
    control.faults(
        {
            "fail": [
                {"method": "POST", "path": "/api/v3/order", "mode": "drop_response"},
                {"method": "GET", "path": "/api/v3/order", "mode": "order_not_found", "count": 999},
                {"method": "GET", "path": "/api/v3/myTrades", "mode": "empty_list", "count": 999},
            ]
        }
    )
    result = live.service.trading.trade("ETH/USDT", LONG, SIZE)
    assert not result.ok and "the account holds" in result.message, result.message
    assert len(filled_on_exchange(live)) == 1
    assert [o.status for o in recorded_orders(live)] == [OrderStatus.UNKNOWN.value]
    control.clear_faults()
    assert live.service.trading.trade("ETH/USDT", LONG, SIZE).ok
    assert len(filled_on_exchange(live)) == 1
    assert_database_matches_exchange(live, control)


def test_a_fee_paid_in_bnb_on_binance_usdm_is_valued_at_bnb_price(venues, gateways):
    """Binance USD-M with the BNB fee discount: the fills' commission is in BNB, valued at
    BNB's own (perpetual) market price, never at the traded coin's."""
    ControlClient(venues["binanceusdm"].url).set_balances({"USDT": "100000", "BNB": "50"})
    gateway = gateways["binanceusdm"]
    report = sweep(gateway, "binanceusdm", "0.5", "bnb-fee")
    bnb_price = gateway.market.ticker("BNB/USDT:USDT").last

    fills = gateway.order_fills(report)

    assert fills and {f.fee_asset for f in fills} == {"BNB"}
    for fill in fills:
        assert fill.fee > 0 and fill.fee_quote == fill.fee * bnb_price
        assert fill.fee_quote < fill.qty * fill.price * Decimal("0.001")  # never at BTC's price
