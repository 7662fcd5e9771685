"""What working orders cost at the exchange: the calls and sequential round trips of a
periodic check without and with a working order of the app's, of a priced order placed, of
a click that replaces one, and of `orders` (the listing), against the emulator with
injected latency.

    .venv/bin/python bench/bench_working_orders.py [--latency-ms 50] [--runs 5]
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

ETH = "ETH/USDT"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with EmulatorServer(seed=11, freeze=True) as exchange, tempfile.TemporaryDirectory() as folder:
        control = ControlClient(exchange.url)
        engine = build_engine(
            load_settings(
                DATABASE_URL=f"sqlite:///{folder}/bench.db",
                EXCHANGE_URL=exchange.url,
                EXCHANGE_API_KEY="demo-key",
                EXCHANGE_API_SECRET="demo-secret",
                SYNC_POLICY="adopt",
            )
        )
        try:
            service = engine.service
            assert service.modes.request(Mode.LIVE).ok
            control.faults({"latency_ms": args.latency_ms})
            price = service.wiring.market_data.ticker(ETH).last * Decimal("0.9")
            price = price.quantize(Decimal("0.01"))

            def rest() -> None:
                result = service.trading.trade(
                    ETH,
                    PositionState.LONG,
                    TradeSize(quote_amount=Decimal(500)),
                    mode=Mode.LIVE,
                    limit_price=price,
                )
                assert result.ok and result.working, result.message

            rows = {}
            for _ in range(args.runs):
                rows.setdefault("periodic check, no working order", []).append(
                    measure(control, service.monitoring.periodic_check)
                )
            rows["priced order placed (rests)"] = []
            for _ in range(args.runs):
                rows["priced order placed (rests)"].append(measure(control, rest))
                rows.setdefault("periodic check, one working order", []).append(
                    measure(control, service.monitoring.periodic_check)
                )
                rows.setdefault("orders (the listing)", []).append(
                    measure(control, lambda: service.orders.working(Mode.LIVE))
                )
                rows.setdefault("a click replacing it (priced again)", []).append(
                    measure(control, rest)
                )
                service.orders.cancel_symbol(ETH, Mode.LIVE)
        finally:
            engine.close()
    print(f"latency {args.latency_ms} ms per call, {args.runs} runs each (median)")
    print(f"{'action':40} {'calls':>6} {'round trips':>12} {'wall ms':>8}")
    for name, found in rows.items():
        calls = statistics.median(r[0] for r in found)
        trips = statistics.median(r[1] for r in found)
        wall = statistics.median(r[2] for r in found)
        print(f"{name:40} {calls:>6.0f} {trips:>12.0f} {wall:>8.0f}")
    return 0


def measure(control: ControlClient, action) -> tuple[int, int, float]:
    control.clear_requests()
    started = time.perf_counter()
    action()
    wall = (time.perf_counter() - started) * 1000
    calls = control.requests_log()
    return len(calls), round_trips(calls), wall


if __name__ == "__main__":
    sys.exit(main())
