"""Scaled out: the dashboard under gunicorn with several workers sharing Redis and
PostgreSQL, and a LIVE trade with and without Celery.

    .venv/bin/python bench/bench_scale_out.py [--workers 4] [--tabs 20] [--seconds 30]
                                              [--positions 0] [--moving 0]
                                              [--trades 10] [--latency-ms 50]
                                              [--every-callback]

Needs PostgreSQL on 127.0.0.1:5432 (TEST_POSTGRES_URL, as the tests; a database of its own is
created and dropped) and `redis-server` on the PATH (one of its own is started on a free
port). The exchange is the emulator, in this process. The servers and processes are the
tests' own (tests/services.py), and so are the requests a tab sends (tests/page_requests.py).

Part 1: gunicorn (gunicorn.conf.py, `app:server`) with REDIS_URL and PostgreSQL; simulated
browser tabs each send the refresh callback's request every 2 s (as the page's interval
does, each with what it last received, over a kept-alive connection) for ETH/USDT. The SIM
book they look at is the configured symbols' (ETH/USDT, BTC/USDT) with no position; with
`--positions N` it holds N positions on N markets (the emulator lists as many more as its
known ones lack), each held by the paper account and so priced (bench/moving_book.py, as
bench_tick's book), written before gunicorn starts. With `--moving M`, M of those markets
(ETH/USDT first) trade at a new price at the exchange every 2 s from before the idle
measurement to the end, so refreshes have real changes to send. Printed: ticker fetches
per second at the exchange (and apart, reads of every market's ticker: the held symbols'
with --positions), database transactions and rows read per second (PostgreSQL's
pg_stat_database for the database: every process is counted), the CPU gunicorn and this
process spent (the machine's load average before and after in the heading), and the
refresh latency the tabs saw; first with no tab open (the background work), then loaded;
then the latency and bytes (the JSON as sent, and on the wire as `requests` accepts it) of
a tab's first refresh (everything) apart from its later ones (what changed); then how many
other server callbacks the page's tick sets off (each one more request per tab per tick),
which `--every-callback` sends too, after each refresh, each timed apart.

Part 2: LIVE trades at injected latency, alternating BUY and CLOSE on ETH/USDT: called
directly (`service.trading.trade`), and as the page runs them, a background callback
submitted over HTTP to a dashboard served by this process and run by a real `celery
worker` process: timed once polling the result every 20 ms (what Celery itself adds) and
once at the Dash client's own poll interval (what the trader waits). On an exchange of its
own with the known markets only, so `--positions` does not change it; `--trades 0` skips it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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

import psutil
import requests
import sqlalchemy as sa

from bench.moving_book import MovingPrices, listed_symbols, markets_for, populate
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
    parser.add_argument(
        "--positions", type=int, default=0, help="positions on as many markets (0: none)"
    )
    parser.add_argument("--moving", type=int, default=0, help="symbols moved every 2 s")
    parser.add_argument(
        "--every-callback",
        action="store_true",
        help="each tick also sends the other requests the page's tick triggers",
    )
    parser.add_argument("--trades", type=int, default=10, help="0 skips part 2")
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        print("needs redis-server on the PATH (apt-get install redis-server)", file=sys.stderr)
        return 2
    if postgres_missing():
        print(f"needs PostgreSQL: {postgres_missing()}", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as folder:
        redis_server = RedisServer(Path(folder))
        redis_server.start()
        redis_base = f"redis://127.0.0.1:{redis_server.port}"
        try:
            markets = markets_for(args.positions)
            with (
                EmulatorServer(seed=3, freeze=True, markets=markets) as exchange,
                fresh_postgres_database("bench") as database,
            ):
                control = ControlClient(exchange.url)
                dashboard_under_load(
                    args, Path(folder), exchange.url, control, database, redis_base
                )
            if args.trades > 0:
                with (
                    EmulatorServer(seed=3, freeze=True) as exchange,
                    fresh_postgres_database("bench") as database,
                ):
                    control = ControlClient(exchange.url)
                    trade_wall_times(
                        args, Path(folder), exchange.url, control, database, redis_base
                    )
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


def cpu_seconds(server_pid: int) -> tuple[float, float]:
    """CPU seconds (user and system) so far of the process `server_pid` and its children
    (gunicorn's master and workers), and of this process (the tabs and the emulator): on a
    machine of few cores, whether the tabs' latency is the server's or the load's."""
    server = psutil.Process(server_pid)
    spent = 0.0
    for process in [server, *server.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            spent += times.user + times.system
    own = psutil.Process().cpu_times()
    return spent, own.user + own.system


def measured(
    url: str, control: ControlClient, server_pid: int, seconds: float, during=None
) -> dict:
    """Counts over `seconds` (while `during` runs, if given): ticker fetches at the exchange,
    the database's transactions and rows (its statistics are flushed by each backend
    within about a second, so they are read again a moment after) and CPU seconds spent."""
    time.sleep(1.5)
    before = database_counters(url)
    control.clear_requests()
    cpu_before = cpu_seconds(server_pid)
    started = time.monotonic()
    result = during() if during else time.sleep(seconds)
    elapsed = time.monotonic() - started
    cpu_after = cpu_seconds(server_pid)
    calls = control.requests_log()
    time.sleep(1.5)
    after = database_counters(url)
    tickers = [c for c in calls if c["path"] == "/api/v3/ticker/24hr"]
    return {
        "seconds": elapsed,
        # a fetch of the configured symbols reads them one by one: ETH/USDT's reads count
        # those fetches; the held symbols' (hundreds with --positions) are one read of
        # every market, counted apart
        "tickers": sum(1 for c in tickers if c["symbol"] == "ETHUSDT"),
        "every_ticker": sum(1 for c in tickers if c["symbol"] is None),
        "exchange_calls": len(calls),
        "cpu_server": cpu_after[0] - cpu_before[0],
        "cpu_here": cpu_after[1] - cpu_before[1],
        "transactions": after[0] - before[0],
        "rows_returned": after[1] - before[1],
        "rows_fetched": after[2] - before[2],
        "result": result,
    }


def tabs_refreshing(
    base: str, spec: dict, tabs: int, seconds: float, others: list[dict] | None = None
) -> dict:
    """`tabs` threads, each a browser tab: a kept-alive connection, a refresh every 2 s
    with the parts it last received (`seen`), starting at staggered times. Each answered
    refresh's latency (ms), JSON bytes and bytes on the wire (its Content-Length, as the
    server encoded it for `requests`), its first refresh (everything) apart from the later.
    With `others` (the other server callbacks the tick triggers), each tick sends those
    requests too, after the refresh, with what the tab holds (as the renderer would, but one
    after the other): their latencies are counted apart, per callback."""
    latencies: list[float] = []
    first: list[tuple[float, int, int]] = []
    later: list[tuple[float, int, int]] = []
    encodings: dict[str, int] = {}
    errors: list[str] = []
    other_latencies: dict[str, list[float]] = {_name(o): [] for o in others or []}
    # what the other callbacks read: the only values a tab keeps beside its `seen` (a copy
    # of the 500-row table on each patch made the tabs the bench's bottleneck)
    read = {(v["id"], v["property"]) for o in others or [] for v in o["inputs"] + o["state"]}
    started = time.monotonic()

    def tab(index: int) -> None:
        session = requests.Session()
        seen = None
        held = _page_holds()
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
                took = (time.perf_counter() - sent) * 1000
                latencies.append(took)
                wire = int(answer.headers.get("Content-Length", len(answer.content)))
                (first if seen is None else later).append((took, len(answer.content), wire))
                encoding = answer.headers.get("Content-Encoding", "identity")
                encodings[encoding] = encodings.get(encoding, 0) + 1
                if answer.status_code != 200:
                    errors.append(f"HTTP {answer.status_code}")
                else:
                    response = answer.json()["response"]
                    seen = received(seen, response.get("refresh-seen", {}).get("data", seen))
                    _hold(held, response, read)
                for other in others or []:
                    values = {**held, ("refresh", "n_intervals"): n}
                    body = callback_request(other, values, values, "refresh.n_intervals")
                    sent = time.perf_counter()
                    answer = session.post(f"{base}/_dash-update-component", json=body, timeout=30)
                    other_latencies[_name(other)].append((time.perf_counter() - sent) * 1000)
                    if answer.status_code == 200:
                        _hold(held, answer.json()["response"], read)
                    elif answer.status_code != 204:  # 204: nothing to update
                        errors.append(f"HTTP {answer.status_code} ({_name(other)})")
            except requests.RequestException as exc:
                errors.append(type(exc).__name__)
            tick += REFRESH_SECONDS
            n += 1

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "latencies": latencies,
        "first": first,
        "later": later,
        "encodings": encodings,
        "errors": errors,
        "others": other_latencies,
    }


def tick_callbacks(specs: list[dict], refresh: dict) -> list[dict]:
    """The server callbacks besides `refresh` that the page's tick (refresh.n_intervals)
    triggers: each is one more request per tab per tick."""
    return [
        d
        for d in specs
        if d is not refresh
        and not d.get("clientside_function")
        and any(i["id"] == "refresh" and i["property"] == "n_intervals" for i in d["inputs"])
    ]


def _name(spec: dict) -> str:
    return spec["output"].strip(".").split("...")[0].split("@")[0]


def _page_holds() -> dict:
    """What a freshly loaded Trading page holds of the values its tick's callbacks read."""
    from web.ticket import FIRST_SIZE, FIRST_UNIT

    return {
        ("symbol-select", "value"): "ETH/USDT",
        ("page-tabs", "active_tab"): "trading",
        ("known-mode", "data"): "sim",
        ("order-size", "value"): FIRST_SIZE,
        ("order-size-unit", "value"): FIRST_UNIT,
        ("tab-id", "data"): uuid.uuid4().hex,
        ("mode-changed", "data"): 0,
        ("trade-done", "data"): 0,
    }


def _hold(held: dict, response: dict, read: set) -> None:
    for component, props in response.items():
        for prop, value in props.items():
            if (component, prop) in read:
                held[(component, prop)] = received(held.get((component, prop)), value)


def seeded_book(args, exchange_url: str, control: ControlClient, database: str):
    """The SIM book of `--positions` positions written to the database (before gunicorn
    starts: its workers find it as they would a trader's) and the `--moving` markets'
    prices to move; None when neither is asked for (the book as the bench always had)."""
    if not (args.positions or args.moving):
        return None
    from core.config import load_settings
    from runtime import build_engine

    engine = build_engine(
        load_settings(DATABASE_URL=database, EXCHANGE_URL=exchange_url, LOG_LEVEL="WARNING")
    )
    try:
        wiring = engine.service.wiring
        listed = listed_symbols(wiring)
        if args.positions:
            populate(wiring, listed, args.positions)
        moving = MovingPrices(control, wiring, listed, args.moving)
        return moving, min(args.positions, len(listed))
    finally:
        engine.close()


@contextlib.contextmanager
def prices_moving(moving: MovingPrices | None):
    """`moving`'s markets trade at a new price every 2 s (the tabs' cadence) meanwhile."""
    if moving is None or not moving.prices:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(REFRESH_SECONDS):
            moving.move()

    thread = threading.Thread(target=run, name="prices-moving", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def dashboard_under_load(args, folder: Path, exchange_url: str, control, database, redis_base):
    load_before = os.getloadavg()[0]
    seeded = seeded_book(args, exchange_url, control, database)
    moving, priced = seeded if seeded else (None, 0)
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
        specs = dependencies(base)
        spec = next(d for d in specs if "positions-table.data" in d["output"])
        ticked = tick_callbacks(specs, spec)
        others = ticked if args.every_callback else None
        with prices_moving(moving):
            tabs_refreshing(base, spec, args.tabs, 4, others)  # every worker warm
            idle = measured(database, control, server.pid, args.idle_seconds)
            loaded = measured(
                database,
                control,
                server.pid,
                args.seconds,
                lambda: tabs_refreshing(base, spec, args.tabs, args.seconds, others),
            )
    finally:
        server.stop(seconds=30)
    print_load(args, idle, loaded, moving, priced, load_before)
    print_others(ticked, loaded["result"]["others"])


def print_load(args, idle: dict, loaded: dict, moving, priced: int, load_before: float) -> None:
    load = loaded["result"]
    refreshes = len(load["latencies"])
    if args.positions:
        book = f"SIM book of {args.positions} positions, {priced} on listed markets (priced)"
    else:
        book = "SIM book: the configured symbols, no position"
    moved = len(moving.prices) if moving else 0
    print(
        f"gunicorn, {args.workers} workers, REDIS_URL (shared cache) and PostgreSQL; {book}; "
        f"{moved} prices moved every {REFRESH_SECONDS:g} s at the exchange "
        f"({moving.step if moving else 0} moves); the emulator in this process; load "
        f"average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    for label, run in (("no tab open", idle), (f"{args.tabs} tabs, one refresh per 2 s", loaded)):
        s = run["seconds"]
        print(
            f"  {label:<32} over {s:4.1f} s: ticker fetches {run['tickers'] / s:5.2f}/s "
            f"({run['tickers']}), exchange calls {run['exchange_calls'] / s:5.2f}/s; database "
            f"transactions {run['transactions'] / s:6.1f}/s, rows returned "
            f"{run['rows_returned'] / s:8.0f}/s, rows fetched {run['rows_fetched'] / s:6.0f}/s"
        )
        print(
            f"  {'':<32} reads of every market's ticker {run['every_ticker'] / s:5.2f}/s; "
            f"CPU: gunicorn {run['cpu_server'] / s:4.0%} of a core, this process (the tabs, "
            f"the emulator) {run['cpu_here'] / s:4.0%}"
        )
    extra = loaded["transactions"] - idle["transactions"] / idle["seconds"] * loaded["seconds"]
    print(
        f"  refreshes answered: {refreshes} ({refreshes / loaded['seconds']:.1f}/s), errors: "
        f"{len(load['errors'])} {sorted(set(load['errors']))[:3]}; about {max(0.0, extra) / max(1, refreshes):.2f} database "
        "transactions per refresh above the idle rate"
    )
    if load["latencies"]:
        print(
            f"  refresh latency seen by the tabs: p50 {statistics.median(load['latencies']):.0f} ms, "
            f"p95 {percentile(load['latencies'], 0.95):.0f} ms, "
            f"max {max(load['latencies']):.0f} ms"
        )
    encodings = ", ".join(f"{name} {count}" for name, count in sorted(load["encodings"].items()))
    for label, answered in (
        ("a tab's first refresh (everything)", load["first"]),
        ("its later refreshes (what changed)", load["later"]),
    ):
        if not answered:
            continue
        took, body, wire = zip(*answered, strict=True)
        print(
            f"  {label:<36} {len(answered):5d}: p50 {statistics.median(took):4.0f} ms, "
            f"p95 {percentile(took, 0.95):4.0f} ms; JSON median {statistics.median(body):7.0f} "
            f"bytes (max {max(body)}), on the wire median {statistics.median(wire):6.0f} bytes "
            f"(max {max(wire)})"
        )
    print(f"  responses' encoding on the wire: {encodings}")


def print_others(ticked: list[dict], latencies: dict[str, list[float]]) -> None:
    """How many requests a tab's tick makes besides the refresh, and (--every-callback)
    what each took."""
    print(
        f"  a tick triggers {len(ticked)} server callback(s) besides the refresh"
        + ("" if latencies else " (not sent: --every-callback sends them)")
        + "".join(f"\n    {_name(spec)}" for spec in ticked if _name(spec) not in latencies)
    )
    for name, took in latencies.items():
        if took:
            print(
                f"    {name:<40} {len(took):6d}: p50 {statistics.median(took):4.0f} ms, "
                f"p95 {percentile(took, 0.95):4.0f} ms"
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
