"""The app on several machines, with real parts only: two app processes (each with its own
working and temp folders) on one PostgreSQL database, the emulator over HTTP in this
process, and gunicorn with four workers sharing one Redis cache.

What is counted is what the exchange saw (the emulator's request log): one periodic check
per interval whoever leads, one order for two simultaneous clicks, one ticker fetch per
time-to-live however many web workers ask."""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import psutil
import pytest
import requests

from core.config import load_settings
from runtime import build_engine
from tests.page_requests import refresh_payload
from tests.services import (
    ROOT,
    AppProcess,
    advisory_holders,
    app_environment,
    free_port,
    pg_query,
    postgres_url,  # noqa: F401 - a fixture
    python_app,
    redis_url,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.postgres

INTERVAL = 5  # SYNC_INTERVAL_SECONDS' minimum
DEMO = {"EXCHANGE_API_KEY": "demo-key", "EXCHANGE_API_SECRET": "demo-secret"}
TOOK = "took the leadership"
STEPPED_DOWN = "stepped down from the leadership"
CHECK_DONE = "monitor check done"
LEADERSHIP = "leader:default"  # core.store.advisory.PgLeadership's lock, account "default"
TICKER_TTL = 2  # core.operations.market_cache.CachedMarketData's ticker_ttl


# --- helpers ---------------------------------------------------------------------------


def settings_for(database_url: str, exchange_url: str, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "EXCHANGE_URL": exchange_url,
        **DEMO,
        "SYNC_INTERVAL_SECONDS": str(INTERVAL),
        "RECV_WINDOW_MS": "5000",
        **extra,
    }


def instance_environment(folder: Path, settings: dict[str, str]) -> dict[str, str]:
    """A machine of its own: its working folder, temp folder and metrics folder."""
    for sub in ("tmp", "metrics"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return app_environment(
        **settings,
        TMPDIR=str(folder / "tmp"),
        PROMETHEUS_MULTIPROC_DIR=str(folder / "metrics"),
    )


def start_live_database(settings: dict[str, str]) -> None:
    """Migrate the fresh database and store the mode LIVE (TRADING_MODE=live on a new
    database), as a first start would, before the instances under test start."""
    engine = build_engine(load_settings(**settings, TRADING_MODE="live"))
    try:
        assert engine.service.modes.current().value == "live"
    finally:
        engine.close()


def account_reads(control, since_ms: float = 0) -> list[int]:
    """When (ms) each signed account read reached the exchange: one per periodic check."""
    return sorted(
        entry["ts_ms"]
        for entry in control.requests_log()
        if entry["method"] == "GET"
        and entry["path"] == "/api/v3/account"
        and entry["signed"]
        and entry["ts_ms"] >= since_ms
    )


def gaps(times_ms: list[int]) -> list[float]:
    return [(b - a) / 1000 for a, b in itertools.pairwise(times_ms)]


def now_ms() -> float:
    return time.time() * 1000


def wait_until(condition, seconds: float, message: str, every: float = 0.1):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(every)


def start_workers(tmp_path: Path, settings: dict[str, str], count: int = 2) -> list[AppProcess]:
    workers = []
    for n in range(count):
        folder = tmp_path / f"host{n}"
        workers.append(
            AppProcess(
                python_app("worker"),
                instance_environment(folder, settings),
                folder / "worker.log",
                cwd=folder,
            )
        )
    try:
        for worker in workers:
            worker.wait_for("Worker running", seconds=60)
    except BaseException:
        for worker in workers:
            worker.stop()
        raise
    return workers


def the_leader(workers: list[AppProcess]) -> tuple[AppProcess, AppProcess]:
    """(leader, follower), by the leader's log line."""
    wait_until(
        lambda: any(TOOK in w.text() for w in workers),
        2 * INTERVAL,
        lambda: "no instance took the leadership:\n" + "\n".join(w.text() for w in workers),
    )
    [leader] = [w for w in workers if TOOK in w.text()]
    [follower] = [w for w in workers if w is not leader]
    return leader, follower


@pytest.fixture
def two_workers(tmp_path, exchange, control, postgres_url):  # noqa: F811
    """Two `python app.py worker` instances on one PostgreSQL database in LIVE, as two
    hosts would run them; the exchange's request log emptied once both run."""
    settings = settings_for(postgres_url, exchange.url)
    start_live_database(settings)
    workers = start_workers(tmp_path, settings)
    try:
        leader, follower = the_leader(workers)
        yield postgres_url, leader, follower
    finally:
        for worker in workers:
            worker.stop()


def assert_one_checker(control, since_ms: float, seconds: float, workers) -> list[int]:
    """Over `seconds` from `since_ms`: at most one account read per interval, never two
    close together (two checkers would read twice per interval, at unrelated times). A
    starved machine may delay a check past its interval, so fewer reads only prove the
    check is alive: at least one."""
    reads = account_reads(control, since_ms)
    reads = [t for t in reads if t <= since_ms + seconds * 1000]
    intervals = seconds / INTERVAL
    logs = "\n".join(w.text()[-3000:] for w in workers)
    assert 1 <= len(reads) <= intervals + 1, (len(reads), gaps(reads), logs)
    assert all(gap >= 0.8 * INTERVAL for gap in gaps(reads)), (gaps(reads), logs)
    return reads


# --- leadership ------------------------------------------------------------------------


def test_two_hosts_run_one_periodic_check_and_the_other_takes_over_after_kill_9(
    two_workers, control
):
    """Two worker instances on one PostgreSQL database read the account once per interval,
    not twice, and after `kill -9` of the leader the other checks within two intervals."""
    _url, leader, follower = two_workers
    control.clear_requests()
    started = now_ms()
    time.sleep(3 * INTERVAL + 0.5)
    assert_one_checker(control, started, 3 * INTERVAL + 0.5, [leader, follower])
    assert CHECK_DONE not in follower.text(), follower.text()

    leader.kill()
    killed = now_ms()
    first = wait_until(
        lambda: account_reads(control, killed),
        2 * INTERVAL,
        lambda: f"nobody checked within two intervals of kill -9:\n{follower.text()}",
    )[0]
    assert TOOK in follower.text()
    assert (first - killed) / 1000 <= 2 * INTERVAL
    time.sleep(INTERVAL + 0.5)  # and it goes on checking, once per interval
    reads = account_reads(control, killed)
    assert len(reads) >= 2 and all(g >= 0.8 * INTERVAL for g in gaps(reads)), gaps(reads)


def test_a_leader_that_loses_postgresql_steps_down_and_one_leader_continues(two_workers, control):
    """Every database connection of the leader is terminated by PostgreSQL: it logs that it
    stepped down, one instance (either) leads again, and no two check at once."""
    url, leader, follower = two_workers
    # the leadership: a session lock, held on a connection of its own
    [holder] = advisory_holders(url, LEADERSHIP)
    ports = {
        c.laddr.port
        for c in psutil.Process(leader.pid).net_connections(kind="tcp")
        if c.raddr and c.raddr.port == 5432
    }
    backends = pg_query(
        url,
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND client_port = ANY(:ports)",
        ports=sorted(ports),
    )
    assert holder in {pid for (pid,) in backends}, "the leadership connection is the leader's"

    control.clear_requests()
    checked = wait_until(lambda: account_reads(control), 2 * INTERVAL, "no check ran")[0]
    time.sleep(max(0.0, 0.5 - (now_ms() - checked) / 1000))  # between two checks
    lost = now_ms()
    terminated = pg_query(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND client_port = ANY(:ports)",
        ports=sorted(ports),
    )
    assert terminated and all(ok for (ok,) in terminated)
    wait_until(
        lambda: STEPPED_DOWN in leader.text(),
        2 * INTERVAL,
        lambda: f"the leader did not step down:\n{leader.text()}",
    )
    wait_until(
        lambda: len(advisory_holders(url, LEADERSHIP)) == 1,
        2 * INTERVAL,
        "nobody took the leadership again",
    )
    time.sleep(3 * INTERVAL + 0.5)
    reads = account_reads(control, lost)
    logs = leader.text()[-3000:] + "\n" + follower.text()[-3000:]
    # one check per interval (plus at most one when the leadership changed hands)...
    assert 2 <= len(reads) <= 3 + 2, (gaps(reads), logs)
    assert len(advisory_holders(url, LEADERSHIP)) == 1
    # ...and, once it settled, one checker: never two reads within an interval
    settled = [t for t in reads if t >= lost + 1.5 * INTERVAL * 1000]
    assert all(g >= 0.8 * INTERVAL for g in gaps(settled)), (gaps(reads), logs)
    assert "periodic-check failed" not in logs, logs


# --- one click, two instances ----------------------------------------------------------


def test_the_same_buy_sent_to_two_instances_at_once_places_one_order(
    tmp_path,
    exchange,
    control,
    postgres_url,  # noqa: F811
):
    """Two `trade --live --yes` processes started together on one PostgreSQL database: one
    trades, the other is refused (already running) or finds nothing to trade; one order."""
    settings = settings_for(postgres_url, exchange.url)
    control.faults({"latency_ms": 150})  # a trade of ~1 s: the two overlap
    control.clear_requests()
    args = ["trade", "ETH/USDT", "--target", "LONG", "--size-quote", "500"]
    processes = []
    for n in range(2):
        folder = tmp_path / f"host{n}"
        env = instance_environment(folder, settings)
        processes.append(
            subprocess.Popen(
                python_app(*args, "--live", "--yes", "--json"),
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outcomes = [(p.wait(timeout=90), *p.communicate()) for p in processes]
    control.clear_faults()

    orders = [c for c in control.requests_log() if c["method"] == "POST"]
    assert [c["path"] for c in orders] == ["/api/v3/order"], (orders, outcomes)
    traded = [o for o in outcomes if o[0] == 0 and json.loads(o[1])["orders"]]
    assert len(traded) == 1, outcomes
    assert json.loads(traded[0][1])["after"] == "LONG"
    [other] = [o for o in outcomes if o is not traded[0]]
    code, out, err = other
    refused = code == 2 and "a trade for ETH/USDT is already running" in err
    nothing_to_do = (
        code == 0 and json.loads(out)["orders"] == [] and json.loads(out)["before"] == "LONG"
    )
    assert refused or nothing_to_do, other
    assert Decimal(control.account()["balances"]["ETH"]["free"]) > 0


# --- a shared cache under gunicorn -----------------------------------------------------


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


@pytest.fixture
def gunicorn_four_workers(tmp_path, exchange, control, redis_url):  # noqa: F811
    port = free_port()
    settings = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'trading.db'}",
        "EXCHANGE_URL": exchange.url,
        "EXCHANGE_API_KEY": "",
        "EXCHANGE_API_SECRET": "",
        "REDIS_URL": redis_url,
        "WEB_CONCURRENCY": "4",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    server = AppProcess(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", "app:server"],
        instance_environment(tmp_path / "gunicorn", settings),
        tmp_path / "gunicorn.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: _answers(f"{base}/_dash-dependencies", server),
            60,
            lambda: f"gunicorn did not serve:\n{server.text()}",
            every=0.2,
        )
        yield base, server
    finally:
        server.stop()


def _answers(url: str, server: AppProcess) -> bool:
    assert server.process.poll() is None, f"gunicorn exited:\n{server.text()}"
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def test_four_gunicorn_workers_fetch_tickers_once_per_time_to_live_in_total(
    gunicorn_four_workers, control
):
    """Under 16 concurrent refreshing clients for 10 s, four gunicorn workers sharing Redis
    make about one ticker fetch per 2 s time-to-live in total, not one per worker."""
    base, server = gunicorn_four_workers
    payload = refresh_payload(requests.get(f"{base}/_dash-dependencies", timeout=10).json())
    workers = [child.pid for child in psutil.Process(server.pid).children()]
    assert len(workers) == 4, workers

    def refresh() -> None:
        # a connection per request, as many tabs would open: gunicorn spreads connections
        answer = requests.post(
            f"{base}/_dash-update-component",
            json=payload,
            timeout=30,
            headers={"Connection": "close"},
        )
        assert answer.status_code == 200, answer.text[:300]

    with ThreadPoolExecutor(16) as pool:  # every worker up, imports done, caches warm
        list(pool.map(lambda _: refresh(), range(64)))
    cpu_before = {pid: cpu_seconds(pid) for pid in workers}
    control.clear_requests()
    started = time.monotonic()
    seconds, served, errors = 10.0, [], []

    def client() -> None:
        while time.monotonic() - started < seconds:
            try:
                refresh()
                served.append(1)
            except Exception as exc:  # counted, and shown if any
                errors.append(repr(exc))

    threads = [threading.Thread(target=client) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    log = control.requests_log()

    assert not errors, errors[:3]
    # one shared fetch reads each configured symbol's ticker by symbol: count ETH/USDT's
    tickers = [c for c in log if c["path"] == "/api/v3/ticker/24hr" and c["symbol"] == "ETHUSDT"]
    busy = [pid for pid in workers if cpu_seconds(pid) - cpu_before[pid] > 0.5]
    assert len(busy) >= 3, ("the load did not reach several workers", cpu_before, busy)
    assert len(served) > 100, len(served)
    expected = elapsed / TICKER_TTL
    assert expected - 2 <= len(tickers) <= expected + 2, (
        f"{len(tickers)} ticker fetches in {elapsed:.1f} s for {len(served)} refreshes"
    )
    assert not [c for c in log if c["signed"]], "a refresh reads no account"
