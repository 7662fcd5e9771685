"""Spot stop latency: time from the price crossing an app-side stop to the closing order
reaching the exchange, with the stop watcher running as the dashboard runs it.

    .venv/bin/python bench/bench_stops.py [--runs 20] [--watch-seconds 1]

Each run buys ETH in LIVE on the emulator, sets a stop-loss below the bid, moves the price
through it with the control API and reads, from the emulator's request log, when the sell
arrived.
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
from emulator.server import EmulatorServer
from runtime import background, build_engine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--watch-seconds", type=float, default=1.0)
    args = parser.parse_args()
    with EmulatorServer(seed=3, freeze=True) as exchange, tempfile.TemporaryDirectory() as folder:
        control = ControlClient(exchange.url)
        settings = load_settings(
            DATABASE_URL=f"sqlite:///{folder}/bench.db",
            EXCHANGE_URL=exchange.url,
            EXCHANGE_API_KEY="demo-key",
            EXCHANGE_API_SECRET="demo-secret",
            STOP_WATCH_SECONDS=str(args.watch_seconds),
            SYNC_INTERVAL_SECONDS="3600",
        )
        engine = build_engine(settings)
        scheduler = background(engine)
        scheduler.start()
        try:
            service = engine.service
            assert service.modes.request(Mode.LIVE).ok
            delays = [one_run(service, control) for _ in range(args.runs)]
        finally:
            scheduler.stop()
            engine.close()
    delays.sort()
    print(
        f"{args.runs} stops at STOP_WATCH_SECONDS={args.watch_seconds}: price crossed -> closing "
        f"order at the exchange: median {statistics.median(delays):.0f} ms, "
        f"p95 {delays[max(0, round(0.95 * len(delays)) - 1)]:.0f} ms, max {delays[-1]:.0f} ms"
    )
    return 0


def one_run(service, control: ControlClient) -> float:
    bought = service.trading.trade(
        "ETH/USDT", PositionState.LONG, TradeSize(quote_amount=Decimal(500))
    )
    assert bought.ok, bought.message
    bid = service.reads.market("ETH/USDT").bid or Decimal(3000)
    assert service.protection.protect("ETH/USDT", mode=Mode.LIVE, stop_loss=bid - 30).ok
    control.clear_requests()
    crossed = time.time() * 1000
    control.set_price("ETHUSDT", str(bid - 60))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sells = [
            c
            for c in control.requests_log()
            if c["method"] == "POST" and c["path"] == "/api/v3/order"
        ]
        if sells:
            control.set_price("ETHUSDT", str(bid))  # back, for the next run
            time.sleep(2.5)  # let the cached prices follow
            return sells[0]["ts_ms"] - crossed
        time.sleep(0.01)
    raise SystemExit("the stop did not fire within 10 s")


if __name__ == "__main__":
    sys.exit(main())
