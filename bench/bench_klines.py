"""How long the emulator takes to answer one klines read (120 candles, as the page asks)
once its kept history is full: a week of one-minute bars, one trade per second recorded.

    .venv/bin/python bench/bench_klines.py [--reads 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emulator.market_data import (
    BARS_KEPT,
    MINUTE_MS,
    candle_opens,
    klines,
    seeded_stats,
)
from emulator.markets import load_catalogue
from emulator.orders import PublicTrade

TIMEFRAMES = ("1m", "5m", "15m", "60m", "4h", "1d")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=20)
    args = parser.parse_args()
    market = load_catalogue()["ETHUSDT"]
    start = 1_790_000_000_000
    stats = seeded_stats(market, 7, start, Decimal("3400"))
    filled = time.perf_counter()
    for second in range(BARS_KEPT * 60):
        price = Decimal(3400 + (second % 600) - 300)
        stats.record(PublicTrade(price, Decimal("0.01"), start + second * 1000, second % 2 == 0))
    filled = time.perf_counter() - filled
    now = start + BARS_KEPT * MINUTE_MS
    print(f"{len(stats.bars):,} one-minute bars kept ({BARS_KEPT * 60:,} trades in {filled:.1f} s)")
    for timeframe in TIMEFRAMES:
        opens = candle_opens(timeframe, now, None, None, 120)
        took = []
        for _ in range(args.reads):
            began = time.perf_counter()
            klines(market, 7, timeframe, stats, now, opens)
            took.append((time.perf_counter() - began) * 1000)
        print(
            f"klines {timeframe:>3} x120: median {statistics.median(took):.1f} ms, max {max(took):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
