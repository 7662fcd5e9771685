"""LIVE+SYNC speed: manual trades against the emulator with injected latency, and the calls
one periodic check makes over many symbols.

    .venv/bin/python bench/bench_trade.py [--trades 20] [--latency-ms 50] [--symbols 50]

Prints, per trade: exchange calls, sequential round trips on the critical path (calls served
at overlapping times count once) and wall time; then the periodic check's call count.
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
from core.domain import Mode, PositionState, TradeSize
from emulator.control_client import ControlClient
from emulator.request_log import round_trips
from emulator.server import EmulatorServer
from runtime import build_engine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--symbols", type=int, default=50)
    args = parser.parse_args()

    with EmulatorServer(seed=11, freeze=True) as exchange, tempfile.TemporaryDirectory() as folder:
        control = ControlClient(exchange.url)
        symbols = listed_symbols(exchange.url)[: args.symbols]
        settings = load_settings(
            DATABASE_URL=f"sqlite:///{folder}/bench.db",
            EXCHANGE_URL=exchange.url,
            EXCHANGE_API_KEY="demo-key",
            EXCHANGE_API_SECRET="demo-secret",
            SYMBOLS=",".join(["ETH/USDT", *[s for s in symbols if s != "ETH/USDT"]]),
        )
        engine = build_engine(settings)
        try:
            service = engine.service
            assert service.modes.request(Mode.LIVE).ok
            control.faults({"latency_ms": args.latency_ms})
            rows = []
            for index in range(args.trades):
                target = PositionState.LONG if index % 2 == 0 else PositionState.NO_POSITION
                control.clear_requests()
                result = service.trading.trade(
                    "ETH/USDT", target, TradeSize(quote_amount=Decimal(1000))
                )
                calls = control.requests_log()
                if not result.ok:
                    print(f"trade {index} failed: {result.message}", file=sys.stderr)
                    return 1
                rows.append((target, len(calls), round_trips(calls), result.duration_ms))
            report_trades(rows, args.latency_ms)

            control.clear_requests()
            started = time.perf_counter()
            service.monitoring.periodic_check()
            elapsed = (time.perf_counter() - started) * 1000
            calls = control.requests_log()
            print(
                f"periodic check over {len(service.symbols)} symbols: {len(calls)} exchange calls "
                f"({', '.join(sorted(c['path'] for c in calls))}), "
                f"{round_trips(calls)} round trips, {elapsed:.0f} ms at {args.latency_ms} ms latency"
            )
        finally:
            engine.close()
    return 0


def listed_symbols(url: str) -> list[str]:
    from core.exchange.ccxt_client import Connection
    from core.exchange.ccxt_market import CcxtMarketData

    return CcxtMarketData(Connection(url=url)).symbols()


def report_trades(rows, latency_ms: int) -> None:
    print(f"{len(rows)} trades against the emulator at {latency_ms} ms injected latency per call")
    print(f"{'target':<12} {'calls':>5} {'round trips':>11} {'wall ms':>8}")
    for target, calls, trips, wall in rows:
        print(f"{target.value:<12} {calls:>5} {trips:>11} {wall:>8}")
    buys = [r for r in rows if r[0] is PositionState.LONG]
    walls = sorted(r[3] for r in rows)
    print(
        f"calls per trade: {statistics.median(r[1] for r in rows):.0f} median; "
        f"round trips: {max(r[2] for r in buys)} at most for a buy filled at once; "
        f"wall time: median {statistics.median(walls):.0f} ms, "
        f"p95 {walls[max(0, round(0.95 * len(walls)) - 1)]} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
