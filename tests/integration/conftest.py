"""Fixtures of the integration tests that several modules share."""

from __future__ import annotations

import io
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import app
from core.config import Settings
from core.domain import Mode
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


class Listener:
    """A local HTTP endpoint that records every POST it receives and answers 200."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                listener.posts.append((self.path, json.loads(self.rfile.read(length))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    """A local address for alerts (json://127.0.0.1:PORT/...) that keeps what it got."""
    served = Listener()
    yield served
    served.close()


@pytest.fixture
def demo_settings(tmp_path, exchange, control) -> dict[str, str]:
    """The settings of a desk with the demo account's keys on the session emulator (reset
    first, whichever test ran before on this worker) and the test's own SQLite file."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path}/trading.db",
        "EXCHANGE_URL": exchange.url,
        "EXCHANGE_API_KEY": "demo-key",
        "EXCHANGE_API_SECRET": "demo-secret",
    }


@pytest.fixture
def cli(demo_settings, monkeypatch, capsys):
    """`app.main([...])` in this process on `demo_settings` (SIM unless `--live`), with
    nobody at the terminal; returns the exit code, stdout and stderr."""

    def run(*args: str, **extra: str) -> tuple[int, str, str]:
        for name in Settings.model_fields:
            monkeypatch.delenv(name, raising=False)
        for name, value in {**demo_settings, **extra}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        code = app.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def engine_of(make_engine):
    """An engine on the test's database (LIVE keys, a 1 s receive window as the working-order
    tests' command line has), the dashboard in LIVE unless `sim`."""

    def make(sim: bool = False, **extra):
        engine = make_engine(live=True, RECV_WINDOW_MS="1000", **extra)
        if not sim and engine.service.modes.current() is not Mode.LIVE:
            change = engine.service.modes.request(Mode.LIVE)
            assert change.ok, change.message
        return engine

    return make
