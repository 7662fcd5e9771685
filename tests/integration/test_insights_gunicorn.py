"""The real dashboard (`app:server`) under gunicorn with two workers: SIM trades clicked
through the Dash callback endpoint (the click, then its background job polled as the page
polls it) land on either worker, and /metrics, whichever worker answers it, counts every
trade and order exactly once."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from core.config import Settings
from core.service.stored_mode import MODE_KEY
from core.store import repository as repo
from core.store.db import Database
from tests.integration.test_metrics import counted, value
from tests.services import AppProcess, free_port

RUNS = "trading_sync_runs_total"
TRADES_OK = {"account": "default", "kind": "trade", "result": "ok"}
ROUNDS, MORE_ROUNDS = 3, 12  # BUY + CLOSE each; more while only one worker has served
JOB_SECONDS = 60


def post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = answer.read()
    return json.loads(body) if body else {}


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


class Page:
    """What a browser tab sends to the callback endpoint, built from the callback list the
    server itself publishes: one click of BUY or CLOSE, its background job polled until it
    answers, as the page polls it."""

    def __init__(self, base: str):
        self.base = base
        self.callbacks = get_json(f"{base}/_dash-dependencies")

    def _callback(self, trigger: str, output: str) -> dict:
        """The callback that `trigger` (a component id) sets off and that sets `output`."""
        return next(
            c
            for c in self.callbacks
            if output in c["output"] and any(i["id"] == trigger for i in c["inputs"])
        )

    def _payload(self, callback: dict, values: dict, changed: str) -> dict:
        outputs = callback["output"].strip(".").split("...")
        return {
            "output": callback["output"],
            "outputs": [
                dict(zip(("id", "property"), o.split("@")[0].split("."), strict=True))
                for o in outputs
            ],
            "inputs": [
                {**i, "value": values.get((i["id"], i["property"]))} for i in callback["inputs"]
            ],
            "changedPropIds": [changed],
            "state": [
                {**s, "value": values.get((s["id"], s["property"]))} for s in callback["state"]
            ],
        }

    def click(self, button: str, clicks: int) -> str:
        """The toast's header once the trade is done."""
        values = {
            (button, "n_clicks"): clicks,
            ("symbol-select", "value"): "ETH/USDT",
            ("order-size", "value"): "10",
            ("order-size-unit", "value"): "pct",
            ("known-mode", "data"): "sim",  # the mode the tab showed
        }
        asked = self._payload(
            self._callback(button, "trade-request.data"), values, f"{button}.n_clicks"
        )
        request = post(f"{self.base}/_dash-update-component", asked)["response"]
        run = self._callback("trade-request", "trade-done.data")
        payload = self._payload(
            run, {("trade-request", "data"): request["trade-request"]["data"]}, "trade-request.data"
        )
        job = post(f"{self.base}/_dash-update-component", payload)
        handles = urllib.parse.urlencode({"cacheKey": job["cacheKey"], "job": job["job"]})
        deadline = time.monotonic() + JOB_SECONDS
        while time.monotonic() < deadline:
            answer = post(f"{self.base}/_dash-update-component?{handles}", payload)
            if "response" in answer:
                return answer["response"]["trade-toast"]["header"]
            time.sleep(0.05)
        raise AssertionError(f"the {button} job did not answer within {JOB_SECONDS} s")


def workers_that_served(access_log: Path) -> set[str]:
    """The pids of the gunicorn workers that took a click (its first callback request)."""
    return {
        line.split()[0]
        for line in access_log.read_text().splitlines()
        if "POST /_dash-update-component" in line and "cacheKey" not in line
    }


@pytest.fixture
def dashboard(tmp_path, exchange, control):
    """`gunicorn -c gunicorn.conf.py app:server`, two workers, SIM on the emulator, with an
    access log that names the worker (pid) of every request."""
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    database = f"sqlite:///{tmp_path}/trading.db"
    # Made first: two workers starting on one new database race (both create the tables,
    # both insert the starting mode; the loser fails to boot and gunicorn stops).
    db = Database.open(database)
    with db.session() as session:
        repo.set_value(session, MODE_KEY, "sim")
    db.dispose()
    env = {name: value for name, value in os.environ.items() if name not in Settings.model_fields}
    env.update(
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        DATABASE_URL=database,
        EXCHANGE_URL=exchange.url,
        EXCHANGE_API_KEY="demo-key",
        EXCHANGE_API_SECRET="demo-secret",
        TRADING_MODE="sim",
        HOST="127.0.0.1",
        PORT=str(free_port()),
        WEB_CONCURRENCY="2",
    )
    server = AppProcess(
        [
            *(sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"),
            *("--access-logfile", str(tmp_path / "access.log")),
            *("--access-logformat", "%(p)s %(r)s %(s)s"),
            "app:server",
        ],
        env,
        tmp_path / "gunicorn.log",
    )
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        server.wait_until_serving(f"{base}/metrics", seconds=60)
        yield base, tmp_path / "access.log"
    finally:
        server.stop(seconds=30)


def test_metrics_count_every_trade_whichever_worker_served_it(dashboard):
    base, access_log = dashboard
    assert value(counted(base), RUNS, **TRADES_OK) == 0
    page = Page(base)
    done = []
    for round_ in range(1, MORE_ROUNDS + 1):
        done.append(page.click("trade-buy", round_))
        done.append(page.click("trade-close", round_))
        if round_ >= ROUNDS and len(workers_that_served(access_log)) == 2:
            break
    assert len(workers_that_served(access_log)) == 2, "every click went to one worker"
    assert done == ["Done: ETH/USDT → LONG", "Done: ETH/USDT → NO_POSITION"] * (len(done) // 2)

    for _ in range(4):  # any worker may answer /metrics: each answer adds every process up
        parsed = counted(base)
        assert value(parsed, RUNS, **TRADES_OK) == len(done)
        assert value(parsed, RUNS, account="default", kind="trade", result="failed") == 0
        orders = {"account": "default", "symbol": "ETH/USDT", "reason": "manual"}
        assert value(parsed, "trading_orders_total", **orders, side="buy") == len(done) / 2
        assert value(parsed, "trading_orders_total", **orders, side="sell") == len(done) / 2
