"""A read or a cancel whose connection dropped under it is sent once more; an order's
placement never is (its outcome is resolved by asking the exchange), and a timeout is not
retried. Real ccxt against the emulator over HTTP."""

from __future__ import annotations

import pytest

from core.exchange.ccxt_client import Connection
from core.exchange.ccxt_gateway import CcxtTradingGateway
from core.exchange.ccxt_market import CcxtMarketData
from core.exchange.gateway import ExchangeUnavailable
from emulator.control_client import ControlClient

ACCOUNT = "/api/v3/account"


@pytest.fixture
def mexc(venues):
    control = ControlClient(venues["mexc"].url)
    control.reset()
    market = CcxtMarketData(Connection("mexc", venues["mexc"].url, timeout_ms=1000))
    yield CcxtTradingGateway(market, "demo-key", "demo-secret"), control
    control.clear_faults()


def reads_of(control, path: str) -> int:
    return sum(1 for r in control.requests_log() if r["method"] == "GET" and r["path"] == path)


def test_a_read_whose_connection_dropped_is_sent_once_more(mexc):
    gateway, control = mexc
    control.clear_requests()
    control.faults({"fail": {"method": "GET", "path": ACCOUNT, "mode": "drop_response"}})
    balances = gateway.balances()
    assert "USDT" in balances
    assert reads_of(control, ACCOUNT) == 2


def test_a_connection_that_keeps_dropping_is_reported_after_the_second_try(mexc):
    gateway, control = mexc
    control.clear_requests()
    control.faults(
        {"fail": {"method": "GET", "path": ACCOUNT, "mode": "drop_response", "count": 5}}
    )
    with pytest.raises(ExchangeUnavailable, match="connection failed"):
        gateway.balances()
    assert reads_of(control, ACCOUNT) == 2


def test_a_read_that_timed_out_is_not_sent_again(mexc):
    """The fault hangs one request only: a second try would have been answered."""
    gateway, control = mexc
    control.faults({"fail": {"method": "GET", "path": ACCOUNT, "mode": "timeout", "hang_ms": 2000}})
    with pytest.raises(ExchangeUnavailable, match="timed out"):
        gateway.balances()


def test_a_read_that_arrived_after_its_receive_window_is_signed_anew_once(venues):
    """MEXC refuses a request older than its recvWindow (700003, ccxt's InvalidNonce): said
    as such, never as a failed connection, and a read is sent once more, freshly signed."""
    control = ControlClient(venues["mexc"].url)
    control.reset()
    slow = Connection("mexc", venues["mexc"].url, timeout_ms=5000, recv_window_ms=1000)
    gateway = CcxtTradingGateway(CcxtMarketData(slow), "demo-key", "demo-secret")
    gateway.market.markets()
    control.clear_requests()
    control.faults({"latency_ms": 1200})
    try:
        with pytest.raises(ExchangeUnavailable, match="refused the request as too old"):
            gateway.balances()
    finally:
        control.clear_faults()
    too_old = [r for r in control.requests_log() if r["path"] == ACCOUNT and r["status"] == 400]
    assert len(too_old) == 2
