"""Prometheus metrics of the engine, right under several gunicorn workers.

With `PROMETHEUS_MULTIPROC_DIR` set before prometheus_client is first imported (gunicorn.conf.py
does it in the master), every process writes its samples to files in that directory and
`render` adds them up; without it the process's default registry is served.
"""

from __future__ import annotations

import os
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

SYNC_RUNS = Counter(
    "trading_sync_runs", "Syncs, trades and checks by outcome", ["account", "kind", "result"]
)
SYNC_DURATION = Histogram(
    "trading_sync_duration_seconds",
    "Wall time of one sync, trade or check",
    ["account", "kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60),
)
EXCHANGE_CALLS = Counter(
    "trading_exchange_calls", "Exchange API calls made by syncs, trades and checks", ["account"]
)
DRIFT_EVENTS = Counter(
    "trading_drift_events", "Symbols found out of step with the exchange", ["account", "symbol"]
)
ORDERS = Counter(
    "trading_orders", "Orders sent to the exchange", ["account", "symbol", "side", "reason"]
)
STOP_TRIGGERS = Counter("trading_stop_triggers", "Stops that fired", ["account", "symbol"])
ALERTS = Counter(
    "trading_alerts", "Incident notifications by delivery outcome", ["kind", "state", "delivery"]
)
LAST_GOOD_SYNC = Gauge(
    "trading_last_good_sync_timestamp_seconds",
    "Unix time of the account's last successful sync or check",
    ["account"],
    multiprocess_mode="max",
)
UNRESOLVED_ORDERS = Gauge(
    "trading_unresolved_orders",
    "Orders of unknown outcome that block new trades on their symbol",
    ["account"],
    # only the account's leader sets it: its latest value is the truth, whoever wrote it
    multiprocess_mode="mostrecent",
)


def observe_sync_run(
    account: str, kind: str, ok: bool, duration_seconds: float, exchange_calls: int
) -> None:
    """One sync, trade or check finished (`kind` as in the sync log: trade, check, sync...)."""
    SYNC_RUNS.labels(account, kind, "ok" if ok else "failed").inc()
    SYNC_DURATION.labels(account, kind).observe(duration_seconds)
    if exchange_calls:
        EXCHANGE_CALLS.labels(account).inc(exchange_calls)


def count_drift(account: str, symbol: str) -> None:
    DRIFT_EVENTS.labels(account, symbol).inc()


def count_order(account: str, symbol: str, side: str, reason: str) -> None:
    """`reason` is the order's origin: manual, enforce, stop, flatten, protect."""
    ORDERS.labels(account, symbol, side, reason).inc()


def count_stop_trigger(account: str, symbol: str) -> None:
    STOP_TRIGGERS.labels(account, symbol).inc()


def count_alert(kind: str, state: str, delivery: str) -> None:
    ALERTS.labels(kind, state, delivery).inc()


def set_unresolved(account: str, count: int) -> None:
    UNRESOLVED_ORDERS.labels(account).set(count)


def mark_good_sync(account: str, when: datetime) -> None:
    LAST_GOOD_SYNC.labels(account).set(when.timestamp())


def render() -> tuple[bytes, str]:
    """The text exposition for `GET /metrics` and its content type: every worker's samples
    added up in multiprocess mode, this process's otherwise."""
    if os.environ.get(MULTIPROC_DIR_VARIABLE):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
