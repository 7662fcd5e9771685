"""Fixtures shared across the suites: a real emulator over HTTP and the engine built the
way app.py builds it, each test with its own SQLite database; and the alert messages the
senders deliver."""

from __future__ import annotations

import pytest

from core.config import load_settings
from emulator.control_client import ControlClient

DEMO = {"EXCHANGE_API_KEY": "demo-key", "EXCHANGE_API_SECRET": "demo-secret"}


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
    ctl = ControlClient(exchange.url)
    ctl.reset()
    yield ctl
    ctl.clear_faults()


@pytest.fixture
def make_engine(tmp_path, exchange, control):
    """build_engine(settings) against the session emulator; LIVE keys with `live=True`."""
    from runtime import build_engine

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


@pytest.fixture
def delivered_alerts(monkeypatch):
    """Each message the alert senders deliver, as `IncidentAlerts._deliver` (the one place
    every message goes through, with or without URLs) sees it, then delivered as ever:
    `delivered_alerts("state", "title")` is a list that gets a (state, title) per message,
    from any of `named`, `state`, `kind`, `title` and `body`."""
    from core.operations.alerts import IncidentAlerts

    watching: list[tuple[tuple[str, ...], list[tuple]]] = []
    deliver = IncidentAlerts._deliver

    def spy(self, named, state, kind, title, body):
        message = {"named": named, "state": state, "kind": kind, "title": title, "body": body}
        for fields, seen in watching:
            seen.append(tuple(message[field] for field in fields))
        return deliver(self, named, state, kind, title, body)

    monkeypatch.setattr(IncidentAlerts, "_deliver", spy)

    def watch(*fields: str) -> list[tuple]:
        seen: list[tuple] = []
        watching.append((fields, seen))
        return seen

    return watch
