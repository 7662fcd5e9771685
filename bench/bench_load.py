"""Load check on the embedded default: `python app.py serve` on SQLite, its own local demo
exchange, SIM mode, with many tabs refreshing and two traders clicking at the same time.

    .venv/bin/python bench/bench_load.py [--seconds 240] [--tabs 50] [--warmup 30]

The server is started as a user starts it (tests/services.py's AppProcess), with a
DATABASE_URL in a temporary folder: its demo exchange, background jobs and database live
there (never in data/), and the demo exchange is stopped at the end. Only 127.0.0.1 is
spoken to.

- `--tabs` tabs, each a kept-alive connection sending the refresh callback's request every
  2 s with what it last received (as bench_scale_out's tabs do);
- two traders, one on ETH/USDT and one on BTC/USDT, each clicking BUY (1000 USDT) and
  CLOSE alternately: a click is the buttons' callback (request_trade, which answers the
  request carrying the mode the tab shows, "sim"), then the background run_trade callback
  submitted and polled at the page's own interval until its answer (as the Dash renderer
  does, and bench_scale_out's DashClient.trade);
- the server process's open file descriptors and RSS memory (psutil), sampled every 10 s.

Printed: clicks sent, answered (the toast's header), refused and lost (no answer: must be
0), jobs left `running` in trade_jobs afterwards (must be 0), the refresh latency the tabs
saw, and the server's fds and memory from the first sample after the warm-up to the last.
It exits 1 only when a click was lost or a job is left running: a check of correctness
under load; no figure is compared with a time limit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
import requests
import sqlalchemy as sa

from tests.page_requests import callback_request, received
from tests.services import AppProcess, app_environment, free_port, python_app
from web.threaded_jobs import JOB_SPAN

REFRESH_SECONDS = 2.0  # web.layout.REFRESH_MS
SYMBOLS = ("ETH/USDT", "BTC/USDT")
CLICK_PAUSE_SECONDS = 1.0  # a trader reads the toast before clicking again
CLICK_TIMEOUT_SECONDS = 90.0  # a click with no answer by then is lost
SAMPLE_SECONDS = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240)
    parser.add_argument("--tabs", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-load-") as name:
        folder = Path(name)
        database = f"sqlite:///{folder}/load.db"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = app_environment(
            DATABASE_URL=database,
            HOST="127.0.0.1",
            PORT=str(port),
            TRADING_MODE="sim",
            LOG_LEVEL="WARNING",
        )
        server = AppProcess(python_app("serve"), env, folder / "serve.log")
        try:
            server.wait_for("Dashboard on", 120)
            server.wait_until_serving(f"{base}/_dash-dependencies", seconds=60)
            report = run_load(args, base, server.pid)
            report["running_jobs"] = running_jobs(database)
            report["server_alive"] = server.process.poll() is None
        finally:
            server.stop(seconds=30)
            stop_demo_exchange(folder / "demo-exchange")
            log_tail = server.text().strip().splitlines()[-5:]
    return print_report(args, report, log_tail)


def stop_demo_exchange(folder: Path) -> None:
    """The demo exchange the app started outlives it by design (one per data folder)."""
    from emulator.daemon import DemoExchangeError
    from emulator.daemon import stop_demo_exchange as stop

    with contextlib.suppress(DemoExchangeError, OSError):
        stop(folder)


def session() -> requests.Session:
    http = requests.Session()
    http.trust_env = False  # 127.0.0.1 directly, never through a proxy
    return http


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(fraction * len(ordered)) - 1)]


def run_load(args, base: str, pid: int) -> dict:
    specs = requests.get(f"{base}/_dash-dependencies", timeout=10).json()
    refresh = next(d for d in specs if "positions-table.data" in d["output"])
    request_spec = next(
        d for d in specs if "trade-request.data" in d["output"] and not d.get("background")
    )
    run_spec = next(
        d
        for d in specs
        if [i["id"] for i in d["inputs"]] == ["trade-request"] and d.get("background")
    )
    started = time.monotonic()
    deadline = started + args.seconds
    tabs = {"latencies": [], "errors": Counter()}
    clicks: list[dict] = []
    samples: list[dict] = []
    stopped = threading.Event()

    threads = [
        threading.Thread(
            target=tab, args=(base, refresh, index, args.tabs, started, deadline, tabs)
        )
        for index in range(args.tabs)
    ]
    threads += [
        threading.Thread(
            target=trader, args=(base, request_spec, run_spec, symbol, deadline, clicks)
        )
        for symbol in SYMBOLS
    ]
    sampler = threading.Thread(target=sample, args=(pid, started, stopped, samples))
    sampler.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stopped.set()
    sampler.join()
    return {
        "tabs": tabs,
        "clicks": clicks,
        "samples": samples,
        "elapsed": time.monotonic() - started,
    }


def tab(base, spec, index, tabs, started, deadline, out) -> None:
    http = session()
    seen = None
    tick = started + index * REFRESH_SECONDS / tabs
    n = 1
    while tick < deadline:
        time.sleep(max(0.0, tick - time.monotonic()))
        body = callback_request(
            spec,
            {("refresh", "n_intervals"): n, ("symbol-select", "value"): SYMBOLS[index % 2]},
            {("refresh-seen", "data"): seen},
            "refresh.n_intervals",
        )
        sent = time.perf_counter()
        try:
            answer = http.post(f"{base}/_dash-update-component", json=body, timeout=30)
            out["latencies"].append((time.perf_counter() - sent) * 1000)
            if answer.status_code != 200:
                out["errors"][f"HTTP {answer.status_code}"] += 1
            else:
                seen = received(
                    seen, answer.json()["response"].get("refresh-seen", {}).get("data", seen)
                )
        except requests.RequestException as exc:
            out["errors"][type(exc).__name__] += 1
        tick += REFRESH_SECONDS
        n += 1
    http.close()


def trader(base, request_spec, run_spec, symbol, deadline, clicks) -> None:
    """BUY and CLOSE alternately on `symbol` until the deadline; the click under way when
    it passes is waited for (at most CLICK_TIMEOUT_SECONDS)."""
    http = session()
    page = http.get(f"{base}/", timeout=30).text
    config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page)
    end_id = json.loads(config.group(1))["end_id"]
    n = 0
    while time.monotonic() < deadline:
        n += 1
        button = "trade-buy" if n % 2 else "trade-close"
        click = {"symbol": symbol, "button": button, "outcome": "lost", "detail": ""}
        clicks.append(click)
        started = time.perf_counter()
        try:
            request, answer = one_click(
                http, base, end_id, request_spec, run_spec, symbol, button, n
            )
            click.update(classify(request, answer))
        except (requests.RequestException, ValueError, KeyError, TimeoutError) as exc:
            click["detail"] = f"{type(exc).__name__}: {exc}"[:400]
        click["wall_ms"] = (time.perf_counter() - started) * 1000
        time.sleep(CLICK_PAUSE_SECONDS)
    http.close()


def one_click(http, base, end_id, request_spec, run_spec, symbol, button, n):
    """The buttons' callback, then (when it answers a request) the background trade, polled
    until its answer: (the request callback's response, the trade's response or None)."""
    url = f"{base}/_dash-update-component"
    states = {
        ("symbol-select", "value"): symbol,
        ("order-size", "value"): "1000",
        ("order-size-unit", "value"): "quote",
        ("stop-loss", "value"): None,
        ("take-profit", "value"): None,
        ("known-mode", "data"): "sim",
    }
    body = callback_request(request_spec, {(button, "n_clicks"): n}, states, f"{button}.n_clicks")
    first = http.post(url, json=body, timeout=30)
    if first.status_code == 204:
        return {}, None
    first.raise_for_status()
    response = first.json()["response"]
    request = response.get("trade-request", {}).get("data")
    if not request:
        return response, None
    body = callback_request(
        run_spec,
        {("trade-request", "data"): request},
        {("trade-done", "data"): n // 2},
        "trade-request.data",
    )
    handles = http.post(url, params={"endId": end_id}, json=body, timeout=30)
    handles.raise_for_status()
    params = {"endId": end_id, **handles.json()}
    give_up = time.monotonic() + CLICK_TIMEOUT_SECONDS
    while time.monotonic() < give_up:
        time.sleep(poll_seconds(run_spec))
        answer = http.post(url, params=params, json=body, timeout=30)
        if answer.status_code == 200 and "response" in answer.json():
            return response, answer.json()["response"]
        if answer.status_code not in (200, 204):
            raise ValueError(f"polling the trade: HTTP {answer.status_code}")
    raise TimeoutError(
        f"no answer within {CLICK_TIMEOUT_SECONDS:.0f} s; its job process: "
        + job_state(params.get("job"))
    )


def job_state(job) -> str:
    """What the process running the background job is doing: the job runs in a thread of
    the serving process (web/threaded_jobs.py: its id is pid * JOB_SPAN + n)."""
    try:
        number = int(str(job).split("~")[0])  # "job~key" in Dash 4
        process = psutil.Process(number // JOB_SPAN)
        with process.oneshot():
            cpu = process.cpu_times()
            words = (
                f"job {number} in pid {process.pid} {process.status()}, "
                f"{process.num_threads()} threads, cpu {cpu.user + cpu.system:.2f} s"
            )
        return words
    except (psutil.Error, OSError, TypeError, ValueError) as exc:
        return f"job {job!r}: {type(exc).__name__}"


def poll_seconds(run_spec) -> float:
    return run_spec["background"].get("interval", 1000) / 1000


def classify(request_response: dict, answer: dict | None) -> dict:
    if answer is None:  # the buttons' callback answered with a toast and no request
        toast = request_response.get("trade-toast", {})
        if toast.get("header"):
            return {"outcome": "refused", "detail": f"{toast['header']}: {toast.get('children')}"}
        return {"outcome": "lost", "detail": f"no request: {json.dumps(request_response)[:200]}"}
    toast = answer.get("trade-toast", {})
    if toast.get("header"):
        header = str(toast["header"])
        return {
            "outcome": "answered",
            "header": header.split(":")[0],
            "detail": f"{header}: {toast.get('children')}",
        }
    feedback = answer.get("order-size-feedback", {}).get("children")
    if feedback:
        return {"outcome": "refused", "detail": f"size refused: {feedback}"}
    return {"outcome": "lost", "detail": f"an answer without a result: {json.dumps(answer)[:200]}"}


def sample(pid: int, started: float, stopped: threading.Event, out: list) -> None:
    process = psutil.Process(pid)
    while not stopped.is_set():
        try:
            with process.oneshot():
                out.append(
                    {
                        "t": time.monotonic() - started,
                        "fds": process.num_fds(),
                        "rss": process.memory_info().rss,
                        "threads": process.num_threads(),
                        "children": len(process.children(recursive=True)),
                        "kinds": fd_kinds(pid),
                    }
                )
        except psutil.Error:
            return
        stopped.wait(SAMPLE_SECONDS)


def fd_kinds(pid: int) -> Counter:
    """The process's open descriptors by kind: socket, pipe, anon_inode, or the file's name."""
    kinds: Counter = Counter()
    folder = Path(f"/proc/{pid}/fd")
    for entry in folder.iterdir() if folder.exists() else ():
        with contextlib.suppress(OSError):
            target = str(entry.readlink())
            kinds[target.split(":")[0] if ":" in target else Path(target).name] += 1
    return kinds


def running_jobs(database: str) -> int:
    engine = sa.create_engine(database, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT count(*) FROM trade_jobs WHERE status = 'running'")
            ).scalar_one()
    finally:
        engine.dispose()


def print_report(args, report: dict, log_tail: list[str]) -> int:
    clicks = report["clicks"]
    outcomes = Counter(c["outcome"] for c in clicks)
    headers = Counter(c.get("header", "") for c in clicks if c["outcome"] == "answered")
    latencies = report["tabs"]["latencies"]
    elapsed = report["elapsed"]
    print(
        f"python app.py serve (SQLite, local demo exchange, SIM) for {elapsed:.0f} s: "
        f"{args.tabs} tabs refreshing every {REFRESH_SECONDS:g} s, traders on "
        f"{' and '.join(SYMBOLS)} clicking BUY 1000 USDT / CLOSE"
    )
    walls = [c["wall_ms"] for c in clicks if c["outcome"] == "answered"]
    print(
        f"  clicks sent {len(clicks)}, answered {outcomes['answered']} "
        f"({', '.join(f'{h} {k}' for h, k in sorted(headers.items()))}), "
        f"refused {outcomes['refused']}, lost {outcomes['lost']}"
    )
    if walls:
        print(
            f"  click to toast: median {statistics.median(walls):.0f} ms, "
            f"p95 {percentile(walls, 0.95):.0f} ms, max {max(walls):.0f} ms"
        )
    for click in clicks:
        if click["outcome"] == "lost":
            print(f"    LOST {click['symbol']} {click['button']}: {click['detail']}")
    odd = Counter(
        (c["symbol"], c["outcome"], c["detail"])
        for c in clicks
        if c["outcome"] != "lost" and c.get("header") != "Done"
    )
    for (symbol, outcome, detail), count in odd.most_common(6):
        print(f"    {count} x {symbol} {outcome}: {detail}")
    print(f"  jobs left running in trade_jobs: {report['running_jobs']}")
    errors = report["tabs"]["errors"]
    print(
        f"  refreshes answered {len(latencies) - sum(errors.values())} "
        f"({len(latencies) / elapsed:.1f}/s), errors {sum(errors.values())}"
        + (f" ({dict(errors)})" if errors else "")
    )
    if latencies:
        print(
            f"  refresh latency: p50 {statistics.median(latencies):.0f} ms, "
            f"p95 {percentile(latencies, 0.95):.0f} ms, max {max(latencies):.0f} ms"
        )
    samples = report["samples"]
    warm = [s for s in samples if s["t"] >= args.warmup] or samples[-1:]
    if warm:
        first, last = warm[0], warm[-1]
        mib = 1024 * 1024
        print(
            f"  server process: open fds {first['fds']} at {first['t']:.0f} s -> "
            f"{last['fds']} at {last['t']:.0f} s ({last['fds'] - first['fds']:+d}; "
            f"max {max(s['fds'] for s in warm)}), RSS {first['rss'] / mib:.1f} MiB -> "
            f"{last['rss'] / mib:.1f} MiB ({(last['rss'] - first['rss']) / mib:+.1f} MiB), "
            f"threads {first['threads']} -> {last['threads']}, child processes "
            f"{first['children']} -> {last['children']}"
        )
        print(
            f"  fds by kind: {dict(sorted(first['kinds'].items()))} -> "
            f"{dict(sorted(last['kinds'].items()))}"
        )
        print(
            "  fds every 10 s: "
            + " ".join(str(s["fds"]) for s in samples)
            + "; RSS MiB: "
            + " ".join(f"{s['rss'] / mib:.0f}" for s in samples)
        )
    if not report["server_alive"]:
        print("  the server had exited: " + " | ".join(log_tail))
    failed = outcomes["lost"] > 0 or report["running_jobs"] > 0 or not report["server_alive"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
