"""Drift made behind the app's back, end to end: LIVE with SYNC_POLICY=report on the emulator,
the periodic check finds it, exactly one alert reaches a local HTTP listener (however many
checks see the drift), one more when the drift is repaired, both are stored with how their
delivery went, and the dashboard's /metrics counts the drift and the runs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.config import load_settings
from core.domain import Mode, PositionState, TradeSize
from core.operations import metrics
from core.service.insights import Insights
from core.service.stored_mode import StoredMode
from runtime import build_runtime
from tests.conftest import DEMO

ETH = "ETH/USDT"
LONG = PositionState.LONG
FAST = {"RECV_WINDOW_MS": "1000", "EXCHANGE_TIMEOUT_MS": "1000"}
CHECKS_WHILE_DRIFTING = 3


@pytest.fixture
def runtime(tmp_path, exchange, control, listener):
    """The dashboard as app.py builds it, LIVE-ready on the emulator's demo account, with
    SYNC_POLICY=report and the listener as its one alert address."""
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/trading.db",
        EXCHANGE_URL=exchange.url,
        SYNC_POLICY="report",
        ALERT_URLS=f"json://127.0.0.1:{listener.port}/hooks/trading",
        **DEMO,
        **FAST,
    )
    running = build_runtime(settings)
    yield running
    running.close()


@pytest.fixture(autouse=True)
def single_process(monkeypatch):
    """This process's own counters (gunicorn's multiprocess mode is tested elsewhere)."""
    monkeypatch.delenv(metrics.MULTIPROC_DIR_VARIABLE, raising=False)


def scraped(client) -> dict[tuple[str, frozenset], float]:
    """GET /metrics on the dashboard's server, parsed as Prometheus parses it."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.data.decode())
        for sample in family.samples
    }


def grown(before: dict, after: dict, name: str, **labels) -> float:
    """How much a counter grew between two scrapes (the process's counters are shared by
    every test, so a test sees its own part as a difference)."""
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.mark.parametrize("repair", ["buy back the target", "exchange balance set back"])
def test_drift_alerts_once_then_once_when_repaired_and_metrics_count_it(
    runtime, control, listener, repair
):
    service = runtime.service
    client = runtime.dash_app.server.test_client()
    assert service.modes.request(Mode.LIVE).ok
    assert service.trading.trade(ETH, LONG, TradeSize(quote_amount=Decimal(1000))).ok
    assert not service.monitoring.periodic_check().drift
    held = control.account()["balances"]["ETH"]["free"]
    before = scraped(client)

    control.set_balances({"ETH": "0"})  # behind the app's back
    for _ in range(CHECKS_WHILE_DRIFTING):
        assert service.monitoring.periodic_check().drift == {ETH: LONG}
    assert service.wiring.alerts.flush()
    assert len(listener.posts) == 1
    (path, raised) = listener.posts[0]
    assert path == "/hooks/trading"
    assert raised["title"] == f"default: {ETH} drifted"
    assert raised["message"] == f"{ETH} no longer holds the trader's target LONG."
    assert raised["type"] == "warning"

    trades = 0
    if repair == "buy back the target":
        assert service.trading.trade(ETH, LONG, TradeSize(quote_amount=Decimal(1000))).ok
        trades = 1
    else:
        control.set_balances({"ETH": held})
    assert not service.monitoring.periodic_check().drift
    assert service.monitoring.periodic_check().ok  # still in sync: nothing more is sent
    assert service.wiring.alerts.flush()

    assert len(listener.posts) == 2
    (_, cleared) = listener.posts[1]
    assert cleared["title"] == f"Resolved: default: {ETH} drifted"
    assert cleared["message"] == f"{ETH} holds its target again."
    assert cleared["type"] == "success"

    stored = Insights(service.wiring, StoredMode(service.wiring)).alerts()
    assert [(a.kind, a.state, a.delivery, a.symbol) for a in stored] == [
        ("drift", "cleared", "sent", ETH),
        ("drift", "raised", "sent", ETH),
    ]
    assert all(a.delivered_at is not None and a.delivery_detail is None for a in stored)

    after = scraped(client)
    account = {"account": "default"}
    assert grown(before, after, "trading_drift_events_total", **account, symbol=ETH) == 1
    checks = CHECKS_WHILE_DRIFTING + 2
    runs = "trading_sync_runs_total"
    assert grown(before, after, runs, **account, kind="check", result="ok") == checks
    assert grown(before, after, runs, **account, kind="trade", result="ok") == trades
    assert grown(before, after, runs, **account, kind="check", result="failed") == 0
    alerts = "trading_alerts_total"
    for state in ("raised", "cleared"):
        assert grown(before, after, alerts, kind="drift", state=state, delivery="sent") == 1
