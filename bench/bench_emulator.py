"""Requests per second the MEXC emulator serves on this machine, over loopback.

The emulator runs in this process (its own thread and event loop, as in tests); the load
comes from a separate process: an aiohttp client keeping CONCURRENCY requests in flight
for DURATION_S seconds per scenario. Run: .venv/bin/python bench/bench_emulator.py
"""

import argparse
import asyncio
import hashlib
import hmac
import multiprocessing
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emulator.server import EmulatorServer  # importable once the repo root is on the path

API_KEY, API_SECRET = "demo-key", "demo-secret"


def signed_path(path: str) -> str:
    query = urlencode({"timestamp": int(time.time() * 1000), "recvWindow": 5000})
    signature = hmac.new(API_SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{path}?{query}&signature={signature}"


async def generate_load(base_url: str, scenario: str, duration_s: float, concurrency: int):
    """(completed requests, failed requests, elapsed seconds) for one scenario."""
    headers = {"X-MEXC-APIKEY": API_KEY}
    done = failed = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:
        started = time.perf_counter()
        deadline = started + duration_s

        async def worker() -> None:
            nonlocal done, failed
            while time.perf_counter() < deadline:
                if scenario == "signed":
                    path = signed_path("/api/v3/account")
                else:
                    path = "/api/v3/ticker/bookTicker?symbol=ETHUSDT"
                async with session.get(path, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        done += 1
                    else:
                        failed += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done, failed, time.perf_counter() - started


def load_process(base_url, scenario, duration_s, concurrency, results) -> None:
    results.put(asyncio.run(generate_load(base_url, scenario, duration_s, concurrency)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per scenario")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    args = parser.parse_args()
    results = multiprocessing.Queue()
    with EmulatorServer(seed=1, freeze=True) as server:
        print(f"emulator at {server.url}; {args.concurrency} in flight, {args.duration:g} s each")
        for scenario, label in (
            ("signed", "signed reads  GET /api/v3/account"),
            ("public", "public reads  GET /api/v3/ticker/bookTicker"),
        ):
            process = multiprocessing.Process(
                target=load_process,
                args=(server.url, scenario, args.duration, args.concurrency, results),
            )
            process.start()
            done, failed, elapsed = results.get(timeout=args.duration + 60)
            process.join()
            print(f"{label}: {done / elapsed:8.0f} req/s ({done} ok, {failed} failed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
