"""The request weight the app spends per minute on an exchange as large as real MEXC: the
periodic check, the stop watcher and the page refresh, before and after asking by symbol.

    .venv/bin/python bench/bench_request_budget.py [--markets 2000] [--protected 1]

Starts the emulator as `python -m emulator --markets N --freeze` (the 54 known markets and
N generated ones), holds ETH and SOL besides USDT, and runs each periodic read once:

- after: the app's own reads (CcxtTradingGateway.snapshot with the configured symbols,
  CcxtMarketData.book_tickers of the protected symbols, .tickers of the page's symbols,
  .candles of the shown one);
- before: the calls the code made until now, sent with the same ccxt client: the snapshot's
  fetch_tickers() of every market, the watcher's and the page's fetch_tickers() of one symbol
  (sent as None) or of a list (which ccxt's MEXC turns into every market too).

Each request the emulator logged is weighed with MEXC's published weights (the venue table,
core/exchange/venues.py); the weight per minute is that times the runs per minute at the
app's default cadences. MEXC limits each endpoint on its own to 500 per 10 s (3,000 a
minute): the busiest endpoint's share of it is printed too. "wall ms" is one run's time,
the emulator's serving included (a figure of this machine, not of MEXC).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.exchange.ccxt_client import Connection
from core.exchange.ccxt_gateway import CcxtTradingGateway
from core.exchange.ccxt_market import CcxtMarketData
from core.exchange.venues import venue
from emulator.control_client import ControlClient

ROOT = Path(__file__).resolve().parent.parent
CONFIGURED = ["ETH/USDT", "BTC/USDT"]  # the default SYMBOLS
HELD = {"USDT": "10000", "ETH": "0.5", "SOL": "3"}
PROTECTABLE = ["ETH/USDT", "SOL/USDT", "BTC/USDT"]
CHECK_S, WATCH_S, PRICES_TTL_S, CANDLES_TTL_S = 30, 1, 2, 10  # the app's defaults
BUDGET = venue("mexc").budget


@dataclass
class Cost:
    weight: int
    bytes: int
    requests: int
    ms: float
    by_endpoint: Counter


def measure(control: ControlClient, run: Callable[[], object]) -> Cost:
    control.clear_requests()
    started = time.perf_counter()
    run()
    ms = (time.perf_counter() - started) * 1000
    log = control.requests_log()
    by_endpoint: Counter = Counter()
    for call in log:
        by_endpoint[call["path"]] += BUDGET.weight(
            call["method"], call["path"], call["symbol"] is not None
        )
    return Cost(
        sum(by_endpoint.values()), sum(c["response_bytes"] for c in log), len(log), ms, by_endpoint
    )


def start_emulator(markets: int, folder: Path) -> tuple[subprocess.Popen, str]:
    url_file = folder / "url"
    command = ["--port", "0", "--freeze", "--markets", str(markets), "--url-file", str(url_file)]
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", *command],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not url_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the emulator did not start")
        time.sleep(0.05)
    return process, url_file.read_text().strip()


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)  # a busy machine takes seconds to free 2,054 markets
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=2000)
    parser.add_argument("--protected", type=int, default=1, choices=range(1, 4))
    args = parser.parse_args()
    protected = PROTECTABLE[: args.protected]
    with tempfile.TemporaryDirectory() as folder:
        process, url = start_emulator(args.markets, Path(folder))
        try:
            return report(url, protected, args.markets)
        finally:
            stop(process)


def report(url: str, protected: list[str], markets: int) -> int:
    control = ControlClient(url)
    control.set_balances(HELD)
    market = CcxtMarketData(Connection("mexc", url, timeout_ms=30000))
    gateway = CcxtTradingGateway(market, "demo-key", "demo-secret")
    gateway.balances()  # markets loaded, the signed client ready
    client = market.client
    client.fetch_tickers()  # the frozen emulator builds every market's book once, unmeasured
    page = [*CONFIGURED, "SOL/USDT"]  # the configured symbols and the assets held
    old_one = (lambda s: client.fetch_tickers(None)) if len(protected) == 1 else None

    def old_snapshot():
        gateway.balances()
        gateway.client.fetch_open_orders()
        client.fetch_tickers()

    jobs = [
        (
            f"periodic check (every {CHECK_S} s)",
            60 / CHECK_S,
            old_snapshot,
            lambda: gateway.snapshot("default", CONFIGURED, "USDT"),
        ),
        (
            f"stop watcher, {len(protected)} protected (every {WATCH_S} s)",
            60 / WATCH_S,
            (lambda: old_one(protected[0]))
            if old_one
            else (lambda: client.fetch_tickers(protected)),
            lambda: market.book_tickers(protected),
        ),
        (
            f"page prices (every {PRICES_TTL_S} s, shared)",
            60 / PRICES_TTL_S,
            lambda: client.fetch_tickers(page),
            lambda: market.tickers(page),
        ),
        (
            f"page candles (every {CANDLES_TTL_S} s)",
            60 / CANDLES_TTL_S,
            lambda: market.candles("ETH/USDT"),
            lambda: market.candles("ETH/USDT"),
        ),
    ]
    print(
        f"MEXC emulator with {54 + markets} spot markets; weights per MEXC's docs "
        f"({BUDGET.source})\n"
    )
    header = f"{'read':44} {'':7} {'weight/run':>10} {'requests':>8} {'bytes/run':>10} "
    print(header + f"{'wall ms':>9} {'weight/min':>10}")
    totals = {"before": Counter(), "after": Counter()}
    for name, per_minute, before, after in jobs:
        for label, run in (("before", before), ("after", after)):
            cost = measure(control, run)
            for path, weight in cost.by_endpoint.items():
                totals[label][path] += weight * per_minute
            print(
                f"{name if label == 'before' else '':44} {label:7} {cost.weight:>10} "
                f"{cost.requests:>8} {cost.bytes:>10,} {cost.ms:>9.1f} "
                f"{cost.weight * per_minute:>10,.0f}"
            )
    print()
    for label, spent in totals.items():
        total = sum(spent.values())
        # MEXC limits each endpoint on its own: the busiest one is the one that runs out
        path, used = spent.most_common(1)[0] if BUDGET.per_endpoint else ("all", total)
        print(
            f"{label:7} total {total:>7,.0f} weight/min; {path}: {used:,.0f} of its "
            f"{BUDGET.per_minute:,.0f}/min ({used / BUDGET.per_minute:.0%})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
