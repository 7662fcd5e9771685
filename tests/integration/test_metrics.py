"""Metrics as Prometheus reads them: the exposition parsed back, and under real gunicorn with
two workers, counters that add up whichever worker counted (and survive a worker's death)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.operations import metrics
from tests.services import AppProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_ACCOUNT = "gunicorn-test"
METRICS_APP = "tests.integration.metrics_app:app"


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(parsed: dict, name: str, **labels) -> float:
    return parsed.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def account() -> str:
    """A label value of its own, so the process-wide counters start at zero for this test."""
    return f"acct-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def single_process(monkeypatch):
    monkeypatch.delenv(metrics.MULTIPROC_DIR_VARIABLE, raising=False)


def test_counters_and_histograms_parse_back(account):
    metrics.observe_sync_run(account, "check", True, 0.03, exchange_calls=3)
    metrics.observe_sync_run(account, "check", True, 2.0, exchange_calls=3)
    metrics.observe_sync_run(account, "trade", False, 45.0, exchange_calls=7)
    metrics.count_drift(account, "ETH/USDT")
    metrics.count_order(account, "ETH/USDT", "buy", "manual")
    metrics.count_order(account, "ETH/USDT", "buy", "manual")
    metrics.count_stop_trigger(account, "BTC/USDT")
    metrics.count_alert("drift", "raised", "sent")
    metrics.set_unresolved(account, 2)
    good = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    metrics.mark_good_sync(account, good)

    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    parsed = samples(body.decode())

    assert value(parsed, "trading_sync_runs_total", account=account, kind="check", result="ok") == 2
    assert (
        value(parsed, "trading_sync_runs_total", account=account, kind="trade", result="failed")
        == 1
    )
    assert value(parsed, "trading_exchange_calls_total", account=account) == 13
    assert value(parsed, "trading_drift_events_total", account=account, symbol="ETH/USDT") == 1
    orders = {"account": account, "symbol": "ETH/USDT", "side": "buy", "reason": "manual"}
    assert value(parsed, "trading_orders_total", **orders) == 2
    assert value(parsed, "trading_stop_triggers_total", account=account, symbol="BTC/USDT") == 1
    assert value(parsed, "trading_alerts_total", kind="drift", state="raised", delivery="sent") >= 1
    assert value(parsed, "trading_unresolved_orders", account=account) == 2
    assert value(parsed, "trading_last_good_sync_timestamp_seconds", account=account) == (
        good.timestamp()
    )

    check = {"account": account, "kind": "check"}
    assert value(parsed, "trading_sync_duration_seconds_count", **check) == 2
    assert value(parsed, "trading_sync_duration_seconds_sum", **check) == pytest.approx(2.03)
    assert value(parsed, "trading_sync_duration_seconds_bucket", **check, le="0.01") == 0
    assert value(parsed, "trading_sync_duration_seconds_bucket", **check, le="0.05") == 1
    assert value(parsed, "trading_sync_duration_seconds_bucket", **check, le="2.5") == 2
    trade = {"account": account, "kind": "trade"}
    assert value(parsed, "trading_sync_duration_seconds_bucket", **trade, le="60.0") == 1
    assert value(parsed, "trading_sync_duration_seconds_bucket", **trade, le="30.0") == 0


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode()


def counted(base: str) -> dict:
    return samples(get(f"{base}/metrics"))


def runs(parsed: dict) -> float:
    return value(
        parsed, "trading_sync_runs_total", account=GUNICORN_ACCOUNT, kind="check", result="ok"
    )


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn.conf.py with two workers serving tests/integration/metrics_app.py. Its metrics
    directory holds counts from an earlier run, which start-up must throw away."""
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "WEB_CONCURRENCY": "2",
    }
    stale = (
        "from core.operations import metrics\n"
        "for _ in range(1000):\n"
        f"    metrics.observe_sync_run({GUNICORN_ACCOUNT!r}, 'check', True, 0.02, 3)\n"
    )
    subprocess.run([sys.executable, "-c", stale], env=env, cwd=ROOT, check=True, timeout=60)
    assert list(metrics_dir.glob("*.db"))

    server = AppProcess(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", METRICS_APP],
        env,
        tmp_path / "gunicorn.log",
    )
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        server.wait_until_serving(f"{base}/metrics")
        yield base
    finally:
        server.stop(seconds=30)


def burst(base: str, count: int) -> list[str]:
    """`count` concurrent requests; the pid of the worker that served each."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(lambda _: get(f"{base}/count"), range(count)))


def test_counters_add_up_across_gunicorn_workers(gunicorn):
    assert runs(counted(gunicorn)) == 0  # the earlier run's 1000 were emptied at start

    pids: list[str] = []
    while len(set(pids)) < 2 and len(pids) < 640:
        pids += burst(gunicorn, 32)
    assert len(set(pids)) == 2, f"every request went to worker {pids[0]}"

    parsed = counted(gunicorn)
    sent = len(pids)
    assert runs(parsed) == sent
    assert value(parsed, "trading_exchange_calls_total", account=GUNICORN_ACCOUNT) == 3 * sent
    check = {"account": GUNICORN_ACCOUNT, "kind": "check"}
    assert value(parsed, "trading_sync_duration_seconds_count", **check) == sent
    assert value(parsed, "trading_sync_duration_seconds_sum", **check) == pytest.approx(0.02 * sent)

    # a worker that dies takes nothing with it: its counts stay in the total
    os.kill(int(pids[0]), signal.SIGTERM)
    more = burst(gunicorn, 32)
    assert runs(counted(gunicorn)) == sent + len(more)
