"""How long the dashboard takes to start and to stop: `python app.py serve` on the embedded
defaults (SQLite, the local demo exchange, SIM), warm (the database, the demo exchange and
compiled modules already there, as on every restart after the first).

    .venv/bin/python bench/bench_start_stop.py [--runs 5] [--root PATH]

Prints the median and range of: process start to the first HTTP 200 of the page, and
SIGTERM to the moment the process and every process it started have exited (the demo
exchange is shared by the data folder's commands and outlives the page by design: it is
started once, by the first run, and is no child of the measured ones). --root runs another
checkout's app.py (say, the main branch); its files are only read.
"""

from __future__ import annotations

import argparse
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_commands import fresh_environment
from emulator.daemon import stop_demo_exchange

_local = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    app = args.root.resolve() / "app.py"

    starts, stops, left = [], [], 0
    with tempfile.TemporaryDirectory() as folder:
        env = fresh_environment(app, folder)
        try:
            serve_once(app, env, folder)  # cold: creates all the warm runs find
            for _ in range(args.runs):
                start, stop, alive = serve_once(app, env, folder)
                starts.append(start)
                stops.append(stop)
                left += alive
        finally:
            stop_demo_exchange(Path(folder) / "demo-exchange")
    print(f"{app} serve, warm ({args.runs} runs)")
    for name, values in (("start to first HTTP 200", starts), ("SIGTERM to all exited", stops)):
        print(
            f"  {name:<24} median {statistics.median(values):.2f} s "
            f"(min {min(values):.2f}, max {max(values):.2f})"
        )
    print(f"  processes left running after 10 s: {left}")
    return 0


def serve_once(app: Path, env: dict, folder: str) -> tuple[float, float, int]:
    """(start to the first 200, SIGTERM to every process gone, processes still alive)."""
    port = free_port()
    log = open(Path(folder) / "serve.log", "w")  # noqa: SIM115 - closed below
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(app), "serve", "--port", str(port)],
        env=env,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        start = wait_for_page(f"http://127.0.0.1:{port}/", process, started)
        exchange = str(Path(folder, "demo-exchange", "state.json").resolve())
        family = [
            p
            for p in psutil.Process(process.pid).children(recursive=True)
            if exchange not in safe_cmdline(p)
        ]
        signalled = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        _, alive = psutil.wait_procs([psutil.Process(process.pid), *family], timeout=10)
        stop = time.perf_counter() - signalled
        for straggler in alive:
            straggler.kill()
        return start, stop, len(alive)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        log.close()


def wait_for_page(url: str, process: subprocess.Popen, started: float) -> float:
    while True:
        if process.poll() is not None:
            raise SystemExit(f"serve exited {process.returncode} before answering")
        try:
            with _local.open(url, timeout=10) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            pass
        if time.perf_counter() - started > 120:
            raise SystemExit(f"no HTTP 200 from {url} within 120 s")
        time.sleep(0.02)


def safe_cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
