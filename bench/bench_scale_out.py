"""Scaled out: the dashboard under gunicorn with several workers sharing Redis and
PostgreSQL, and a LIVE trade with and without Celery.

    .venv/bin/python bench/bench_scale_out.py [--workers 4] [--tabs 20] [--seconds 30]
                                              [--trades 10] [--latency-ms 50]

Needs PostgreSQL on 127.0.0.1:5432 (TEST_POSTGRES_URL, as the tests; a database of its own is
created and dropped) and `redis-server` on the PATH (one of its own is started on a free
port). The exchange is the emulator, in this process. The servers and processes are the
tests' own (tests/services.py), and so are the requests a tab sends (tests/page_requests.py).

Part 1: gunicorn (gunicorn.conf.py, `app:server`) with REDIS_URL and PostgreSQL; simulated
browser tabs each send the refresh callback's request every 2 s (as the page's interval
does, each with what it last received, over a kept-alive connection). Printed: ticker
fetches per second at the exchange, database transactions and rows read per second
(PostgreSQL's pg_stat_database for the database: every process is counted), and the
refresh latency the tabs saw; first with no tab open (the background work), then loaded.

Part 2: LIVE trades at injected latency, alternating BUY and CLOSE on ETH/USDT: called
directly (`service.trading.trade`), and as the page runs them, a background callback
submitted over HTTP to a dashboard served by this process and run by a real `celery
worker` process: timed once polling the result every 20 ms (what Celery itself adds) and
once at the Dash client's own poll interval (what the trader waits).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
import sqlalchemy as sa

from emulator.control_client import ControlClient
from emulator.server import EmulatorServer
from tests.page_requests import callback_request, received
from tests.services import (
    ROOT,
    AppProcess,
    RedisServer,
    app_environment,
    free_port,
    fresh_postgres_database,
    postgres_missing,
)

REFRESH_SECONDS = 2.0  # web.layout.REFRESH_MS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--tabs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("--trades", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        print("needs redis-server on the PATH (apt-get install redis-server)", file=sys.stderr)
        return 2
    if postgres_missing():
        print(f"needs PostgreSQL: {postgres_missing()}", file=sys.stderr)
        return 2

    with (
        EmulatorServer(seed=3, freeze=True) as exchange,
        tempfile.TemporaryDirectory(prefix="bench-scale-") as folder,
    ):
        redis_server = RedisServer(Path(folder))
        redis_server.start()
        redis_base = f"redis://127.0.0.1:{redis_server.port}"
        control = ControlClient(exchange.url)
        try:
            with fresh_postgres_database("bench") as database:
                dashboard_under_load(
                    args, Path(folder), exchange.url, control, database, redis_base
                )
            control.reset()
            with fresh_postgres_database("bench") as database:
                trade_wall_times(args, Path(folder), exchange.url, control, database, redis_base)
        finally:
            redis_server.stop()
    return 0


def wait_for(condition, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(message)
        time.sleep(0.1)


def dependencies(base: str) -> list[dict]:
    return requests.get(f"{base}/_dash-dependencies", timeout=10).json()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(fraction * len(ordered)) - 1)]


# --- part 1: the dashboard under load --------------------------------------------------


def database_counters(url: str) -> tuple[int, int, int]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.text(
                    "SELECT xact_commit + xact_rollback, tup_returned, tup_fetched"
                    " FROM pg_stat_database WHERE datname = current_database()"
                )
            ).one()
    finally:
        engine.dispose()
    return int(row[0]), int(row[1]), int(row[2])


def measured(url: str, control: ControlClient, seconds: float, during=None) -> dict:
    """Counts over `seconds` (while `during` runs, if given): ticker fetches at the exchange
    and the database's transactions and rows (its statistics are flushed by each backend
    within about a second, so they are read again a moment after)."""
    time.sleep(1.5)
    before = database_counters(url)
    control.clear_requests()
    started = time.monotonic()
    result = during() if during else time.sleep(seconds)
    elapsed = time.monotonic() - started
    calls = control.requests_log()
    time.sleep(1.5)
    after = database_counters(url)
    return {
        "seconds": elapsed,
        # a fetch reads each configured symbol by symbol: ETH/USDT's reads count the fetches
        "tickers": sum(
            1 for c in calls if c["path"] == "/api/v3/ticker/24hr" and c["symbol"] == "ETHUSDT"
        ),
        "exchange_calls": len(calls),
        "transactions": after[0] - before[0],
        "rows_returned": after[1] - before[1],
        "rows_fetched": after[2] - before[2],
        "result": result,
    }


def tabs_refreshing(base: str, spec: dict, tabs: int, seconds: float) -> dict:
    """`tabs` threads, each a browser tab: a kept-alive connection, a refresh every 2 s
    with the parts it last received (`seen`), starting at staggered times."""
    latencies: list[float] = []
    errors: list[str] = []
    started = time.monotonic()

    def tab(index: int) -> None:
        session = requests.Session()
        seen = None
        tick = started + index * REFRESH_SECONDS / tabs
        n = 1
        while tick < started + seconds:
            time.sleep(max(0.0, tick - time.monotonic()))
            body = callback_request(
                spec,
                {("refresh", "n_intervals"): n, ("symbol-select", "value"): "ETH/USDT"},
                {("refresh-seen", "data"): seen},
                "refresh.n_intervals",
            )
            sent = time.perf_counter()
            try:
                answer = session.post(f"{base}/_dash-update-component", json=body, timeout=30)
                latencies.append((time.perf_counter() - sent) * 1000)
                if answer.status_code != 200:
                    errors.append(f"HTTP {answer.status_code}")
                else:
                    seen = received(
                        seen, answer.json()["response"].get("refresh-seen", {}).get("data", seen)
                    )
            except requests.RequestException as exc:
                errors.append(type(exc).__name__)
            tick += REFRESH_SECONDS
            n += 1

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "errors": errors}


def dashboard_under_load(args, folder: Path, exchange_url: str, control, database, redis_base):
    port = free_port()
    metrics = folder / "metrics"
    metrics.mkdir()
    env = app_environment(
        DATABASE_URL=database,
        EXCHANGE_URL=exchange_url,
        REDIS_URL=f"{redis_base}/0",
        WEB_CONCURRENCY=str(args.workers),
        HOST="127.0.0.1",
        PORT=str(port),
        PROMETHEUS_MULTIPROC_DIR=str(metrics),
        LOG_LEVEL="WARNING",
    )
    base = f"http://127.0.0.1:{port}"
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:server"]
    server = AppProcess(gunicorn, env, folder / "gunicorn.log")
    try:
        wait_for(lambda: _serves(base, server), 90, "gunicorn did not serve the dashboard")
        spec = next(d for d in dependencies(base) if "positions-table.data" in d["output"])
        tabs_refreshing(base, spec, args.tabs, 4)  # every worker warm
        idle = measured(database, control, args.idle_seconds)
        loaded = measured(
            database,
            control,
            args.seconds,
            lambda: tabs_refreshing(base, spec, args.tabs, args.seconds),
        )
    finally:
        server.stop(seconds=30)
    load = loaded["result"]
    refreshes = len(load["latencies"])
    print(
        f"gunicorn, {args.workers} workers, REDIS_URL (shared cache) and PostgreSQL; SIM book; "
        f"the emulator in this process"
    )
    for label, run in (("no tab open", idle), (f"{args.tabs} tabs, one refresh per 2 s", loaded)):
        s = run["seconds"]
        print(
            f"  {label:<32} over {s:4.1f} s: ticker fetches {run['tickers'] / s:5.2f}/s "
            f"({run['tickers']}), exchange calls {run['exchange_calls'] / s:5.2f}/s; database "
            f"transactions {run['transactions'] / s:6.1f}/s, rows returned "
            f"{run['rows_returned'] / s:8.0f}/s, rows fetched {run['rows_fetched'] / s:6.0f}/s"
        )
    extra = loaded["transactions"] - idle["transactions"] / idle["seconds"] * loaded["seconds"]
    print(
        f"  refreshes answered: {refreshes} ({refreshes / loaded['seconds']:.1f}/s), errors: "
        f"{len(load['errors'])}; about {max(0.0, extra) / max(1, refreshes):.2f} database "
        "transactions per refresh above the idle rate"
    )
    if load["latencies"]:
        print(
            f"  refresh latency seen by the tabs: p50 {statistics.median(load['latencies']):.0f} ms, "
            f"p95 {percentile(load['latencies'], 0.95):.0f} ms, "
            f"max {max(load['latencies']):.0f} ms"
        )


def _serves(base: str, server: AppProcess) -> bool:
    if server.process.poll() is not None:
        raise SystemExit("gunicorn exited; see its log")
    try:
        return requests.get(f"{base}/_dash-dependencies", timeout=5).status_code == 200
    except requests.RequestException:
        return False


# --- part 2: a LIVE trade with and without Celery --------------------------------------


def trade_wall_times(args, folder: Path, exchange_url: str, control, database, redis_base):
    from waitress.server import create_server

    from core.config import load_settings
    from core.domain import PositionState, TradeSize
    from runtime import build_runtime

    settings = {
        "DATABASE_URL": database,
        "EXCHANGE_URL": exchange_url,
        "EXCHANGE_API_KEY": "demo-key",
        "EXCHANGE_API_SECRET": "demo-secret",
        "TRADING_MODE": "live",
        "REDIS_URL": f"{redis_base}/1",
        "LOG_LEVEL": "WARNING",
    }
    runtime = build_runtime(load_settings(**settings))
    server = create_server(runtime.dash_app.server, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    celery = [str(ROOT / ".venv" / "bin" / "celery"), "-A", "app:celery_app", "worker"]
    celery += ["--pool", "solo", "--concurrency", "1", "--loglevel", "INFO"]
    celery += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    worker = AppProcess(celery, app_environment(**settings), folder / "celery.log")
    try:
        worker.wait_for("ready.", 90)
        control.faults({"latency_ms": args.latency_ms})
        direct = []
        for index in range(args.trades):
            target = PositionState.LONG if index % 2 == 0 else PositionState.NO_POSITION
            started = time.perf_counter()
            result = runtime.service.trading.trade(
                "ETH/USDT", target, TradeSize(quote_amount=Decimal(1000))
            )
            direct.append((time.perf_counter() - started) * 1000)
            if not result.ok:
                raise SystemExit(f"direct trade {index} failed: {result.message}")
        page = DashClient(base)
        fast = [page.trade(index, poll=0.02) for index in range(args.trades)]
        interval = page.interval / 1000
        as_page = [page.trade(index, poll=interval) for index in range(args.trades)]
    finally:
        worker.stop(seconds=30)
        control.clear_faults()
        server.close()
        runtime.close()

    print(
        f"LIVE trades on ETH/USDT at {args.latency_ms} ms injected latency, "
        f"{args.trades} of each (BUY 1000 USDT and CLOSE, alternating)"
    )
    for label, walls in (
        ("direct: service.trading.trade", direct),
        ("Celery: HTTP submit + result, polled 20 ms", fast),
        (f"Celery as the page waits (poll {interval * 1000:.0f} ms)", as_page),
    ):
        print(
            f"  {label:<46} median {statistics.median(walls):6.0f} ms, "
            f"p95 {percentile(walls, 0.95):6.0f} ms, max {max(walls):6.0f} ms"
        )


class DashClient:
    """Runs the page's trade callback over HTTP as the Dash renderer does: the page's
    `endId`, the submission, then polls with the signed cacheKey and job until the answer."""

    def __init__(self, base: str, mode: str = "live"):
        self.base = base
        self.mode = mode  # what the tab shows: the gate refuses a click in another mode
        self.http = requests.Session()
        page = self.http.get(f"{base}/", timeout=10).text
        config = re.search(
            r'<script id="_dash-config" type="application/json">(.*?)</script>', page
        )
        self.end_id = json.loads(config.group(1))["end_id"]
        self.spec = next(
            d
            for d in dependencies(base)
            if [i["id"] for i in d["inputs"]] == ["trade-request"] and d.get("background")
        )
        self.interval = self.spec["background"].get("interval", 1000)
        self.done = 0

    def trade(self, index: int, poll: float) -> float:
        request = {
            "symbol": "ETH/USDT",
            "id": uuid.uuid4().hex,
            "at": time.time(),
            "mode": self.mode,
        }
        if index % 2 == 0:
            request.update(
                target="LONG", size="1000", unit="quote", stop_loss=None, take_profit=None
            )
        else:
            request.update(target="NO_POSITION")
        body = callback_request(
            self.spec,
            {("trade-request", "data"): request},
            {("trade-done", "data"): self.done},
            "trade-request.data",
        )
        url = f"{self.base}/_dash-update-component"
        started = time.perf_counter()
        handles = self.http.post(url, params={"endId": self.end_id}, json=body, timeout=30)
        handles.raise_for_status()
        params = {"endId": self.end_id, **handles.json()}
        while True:
            time.sleep(poll)
            answer = self.http.post(url, params=params, json=body, timeout=30)
            if answer.status_code == 200 and "response" in answer.json():
                break
            if answer.status_code not in (200, 204):
                raise SystemExit(f"polling the trade failed: HTTP {answer.status_code}")
        wall = (time.perf_counter() - started) * 1000
        toast = json.dumps(answer.json()["response"].get("trade-toast", {}))
        if "verified" not in toast:
            raise SystemExit(f"trade {index} through Celery did not verify: {toast[:300]}")
        self.done += 1
        return wall


if __name__ == "__main__":
    sys.exit(main())
