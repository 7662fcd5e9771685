"""A cancel that loses the race with a fill, through the app's gateway and real ccxt against
the emulator over HTTP: MEXC answers -2011 "Unknown order sent.", Bybit 110001 and Binance
USD-M -2011, and the gateway reads the order instead of failing. A 429 on a cancel is
waited out once; if it persists it is said to be a rate limit, never that the exchange is
unreachable."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from core.domain import OrderStatus, Side
from core.exchange.errors_in_words import exchange_code
from core.exchange.gateway import ExchangeUnavailable
from emulator.control_client import ControlClient

SYMBOL = {"mexc": "ETH/USDT", "bybit": "BTC/USDT:USDT", "binanceusdm": "BTC/USDT:USDT"}
AMOUNT = {"mexc": Decimal("0.05"), "bybit": Decimal("0.01"), "binanceusdm": Decimal("0.01")}
GONE = {"mexc": "-2011", "bybit": "110001", "binanceusdm": "-2011"}
CANCEL = {
    "mexc": ("DELETE", "/api/v3/order"),
    "bybit": ("POST", "/v5/order/cancel"),
    "binanceusdm": ("DELETE", "/fapi/v1/order"),
}
VENUES = list(SYMBOL)


def buy_at_once(gateway, dialect: str, client_order_id: str):
    """A LIMIT buy above the best ask: it fills as it arrives."""
    symbol = SYMBOL[dialect]
    rules = gateway.market.market_rules(symbol)
    price = gateway.market.order_book(symbol).best_ask * Decimal("1.01")
    price = (price / rules.price_step).quantize(Decimal(1)) * rules.price_step
    report = gateway.place_limit_order(symbol, Side.BUY, AMOUNT[dialect], price, client_order_id)
    assert gateway.order_by_client_id(symbol, client_order_id).status is OrderStatus.FILLED
    return report


@pytest.mark.parametrize("dialect", VENUES)
def test_the_exchange_answers_its_own_code_for_a_cancel_of_a_filled_order(gateways, dialect):
    gateway = gateways[dialect]
    buy_at_once(gateway, dialect, "filled-raw")
    param = gateway.market.venue.cancel_param

    with pytest.raises(ccxt.BaseError) as answered:
        gateway.client.cancel_order(None, SYMBOL[dialect], {param: "filled-raw"})

    assert exchange_code(answered.value) == GONE[dialect]
    assert GONE[dialect] in gateway.market.venue.order_gone


@pytest.mark.parametrize("dialect", VENUES)
def test_cancelling_an_order_that_just_filled_returns_its_filled_report(gateways, dialect):
    gateway = gateways[dialect]
    placed = buy_at_once(gateway, dialect, "filled-1")

    report = gateway.cancel_order(SYMBOL[dialect], "filled-1")

    assert report.status is OrderStatus.FILLED
    assert (report.client_order_id, report.filled) == ("filled-1", AMOUNT[dialect])
    assert report.exchange_order_id == placed.exchange_order_id


@pytest.mark.parametrize("dialect", VENUES)
def test_cancelling_an_order_the_exchange_never_had_returns_none(gateways, dialect):
    assert gateways[dialect].cancel_order(SYMBOL[dialect], "never-sent") is None


@pytest.mark.parametrize("dialect", VENUES)
def test_a_cancel_answered_429_is_busy_not_unreachable(venues, gateways, dialect):
    gateway = gateways[dialect]
    rules = gateway.market.market_rules(SYMBOL[dialect])
    below = gateway.market.order_book(SYMBOL[dialect]).best_bid * Decimal("0.8")
    below = (below / rules.price_step).quantize(Decimal(1)) * rules.price_step
    gateway.place_limit_order(SYMBOL[dialect], Side.BUY, AMOUNT[dialect], below, "resting-1")
    method, path = CANCEL[dialect]
    ControlClient(venues[dialect].url).faults(
        {"fail": {"method": method, "path": path, "mode": "http_429", "count": 2}}
    )

    with pytest.raises(ExchangeUnavailable) as refused:
        gateway.cancel_order(SYMBOL[dialect], "resting-1")

    said = str(refused.value)
    assert "rate-limited, retried in 1 s" in said and "unreachable" not in said
    assert gateway.cancel_order(SYMBOL[dialect], "resting-1").status is OrderStatus.CANCELED
