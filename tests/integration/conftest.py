"""Fixtures of the integration tests that several modules share."""

from __future__ import annotations

import pytest

from core.exchange.ccxt_client import Connection
from core.exchange.ccxt_gateway import CcxtTradingGateway
from core.exchange.ccxt_market import CcxtMarketData
from emulator.control_client import ControlClient
from emulator.server import EmulatorServer

PERP_DIALECTS = ["bybit", "binanceusdm"]


@pytest.fixture(scope="module")
def venues():
    """One frozen emulator per dialect: MEXC spot, Bybit linear, Binance USD-M."""
    servers = {
        name: EmulatorServer(seed=9, freeze=True, dialect=name) for name in ["mexc", *PERP_DIALECTS]
    }
    for server in servers.values():
        server.start(host="127.0.0.1", port=0)
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def gateways(venues):
    """The app's own gateway on each venue's demo account, every venue reset first."""
    for server in venues.values():
        ControlClient(server.url).reset()
    return {
        name: CcxtTradingGateway(
            CcxtMarketData(Connection(name, server.url, timeout_ms=3000)), "demo-key", "demo-secret"
        )
        for name, server in venues.items()
    }
