"""The ticket's preview: what one keystroke costs the server and the exchange.

    .venv/bin/python bench/bench_preview.py [--keystrokes 200] [--latency-ms 50]

Prints the time of a preview with the market cache cold and warm (median and 95th
percentile over the keystrokes), and how many exchange calls the keystrokes made in all:
the order book and tickers are shared for a couple of seconds, whatever the number of tabs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import load_settings
from core.domain import Mode, TradeSize
from emulator.control_client import ControlClient
from emulator.server import EmulatorServer
from runtime import build_engine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keystrokes", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()

    with EmulatorServer(seed=11, freeze=True) as exchange, tempfile.TemporaryDirectory() as folder:
        control = ControlClient(exchange.url)
        settings = load_settings(
            DATABASE_URL=f"sqlite:///{folder}/bench.db",
            EXCHANGE_URL=exchange.url,
            EXCHANGE_API_KEY="",
            EXCHANGE_API_SECRET="",
        )
        engine = build_engine(settings)
        try:
            trading = engine.service.trading
            stop = engine.service.wiring.market_data.ticker("ETH/USDT").bid * Decimal("0.97")
            control.faults({"latency_ms": args.latency_ms})
            control.clear_requests()

            def preview(risk: Decimal) -> float:
                started = time.perf_counter()
                shown = trading.preview("ETH/USDT", TradeSize(risk_pct=risk), Mode.SIM, stop)
                assert shown.ok, shown.problems
                return (time.perf_counter() - started) * 1000

            cold = preview(Decimal(1))
            started = time.perf_counter()
            warm = [preview(Decimal(1 + k % 9) / 10) for k in range(args.keystrokes)]
            spent = time.perf_counter() - started
            calls = len(control.requests_log())
        finally:
            engine.close()
    warm.sort()
    print(f"preview, cache cold at {args.latency_ms} ms latency: {cold:.1f} ms")
    print(
        f"preview, {args.keystrokes} keystrokes: median {statistics.median(warm):.2f} ms, "
        f"95th percentile {warm[int(len(warm) * 0.95) - 1]:.2f} ms; "
        f"{calls} exchange calls in all (cold one included) over {spent:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
