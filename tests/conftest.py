"""Fixtures shared across the suites: a real emulator over HTTP and the engine built the
way app.py builds it, each test with its own SQLite database."""

from __future__ import annotations

import json
import urllib.request

import pytest

from core.config import load_settings

DEMO = {"EXCHANGE_API_KEY": "demo-key", "EXCHANGE_API_SECRET": "demo-secret"}


class Control:
    """The emulator's control API, as tests drive it."""

    def __init__(self, url: str):
        self.url = url

    def call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def reset(self) -> None:
        self.call("POST", "/_emulator/reset")

    def requests(self) -> list[dict]:
        return self.call("GET", "/_emulator/requests")

    def clear_requests(self) -> None:
        self.call("DELETE", "/_emulator/requests")

    def account(self, key: str = "demo-key") -> dict:
        return self.call("GET", f"/_emulator/accounts/{key}")

    def set_balances(self, balances: dict, key: str = "demo-key") -> None:
        self.call("PUT", f"/_emulator/accounts/{key}/balances", balances)

    def set_price(self, market_id: str, price: str) -> None:
        self.call("POST", f"/_emulator/markets/{market_id}/price", {"price": price})

    def faults(self, config: dict) -> None:
        self.call("POST", "/_emulator/faults", config)

    def clear_faults(self) -> None:
        self.call("DELETE", "/_emulator/faults")


@pytest.fixture(scope="session")
def exchange():
    """One frozen emulator for the session; tests reset it through `control`."""
    from emulator.server import EmulatorServer

    server = EmulatorServer(seed=7, freeze=True)
    server.start(host="127.0.0.1", port=0)
    yield server
    server.stop()


@pytest.fixture
def control(exchange):
    ctl = Control(exchange.url)
    ctl.reset()
    yield ctl
    ctl.clear_faults()


@pytest.fixture
def make_engine(tmp_path, exchange, control):
    """build_engine(settings) against the session emulator; LIVE keys with `live=True`."""
    from app import build_engine

    engines = []

    def make(live: bool = False, **overrides):
        keys = DEMO if live else {"EXCHANGE_API_KEY": "", "EXCHANGE_API_SECRET": ""}
        values = {
            "DATABASE_URL": f"sqlite:///{tmp_path}/trading.db",
            "EXCHANGE_URL": exchange.url,
            **keys,
            **overrides,
        }
        settings = load_settings(**values)
        engine = build_engine(settings)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()
