"""Position monitor compute time: `core.monitoring.reconcile.diagnose` + `plan` over large books.

    .venv/bin/python bench/bench_monitor.py [--sizes 1000,2500,5000,10000,20000] [--runs 7]

Only the pure rules are timed (the figure the monitor adds on top of its exchange reads,
which are a fixed three calls per account and excluded here). Each book is a realistic mix
over 10 accounts: 70 % in sync (half of them off by less than one amount step), 8 % open in
the database but gone from the exchange, 8 % held but unknown to the database, 7 % with the
wrong quantity and 7 % with a stale price. The figure is the median of several runs; the
time per position shows whether the cost grows linearly (target: under 0.5 s for 10,000).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.domain import ExchangePosition, Policy, RecordedPosition
from core.monitoring.reconcile import apply, diagnose, plan

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
STALE_AFTER = timedelta(minutes=5)
ACCOUNTS = 10
MIX = [("in_sync", 70), ("orphan_db", 8), ("orphan_exchange", 8), ("mismatch", 7), ("stale", 7)]
STEPS = [Decimal("0.01"), Decimal("0.0001"), Decimal("0.000001"), Decimal("1")]


def book(size: int, seed: int = 11):
    """`size` positions spread over the accounts, each of the mix's kinds in proportion."""
    rng = random.Random(seed)
    symbols_per_account = -(-size // ACCOUNTS)
    symbols = [f"C{i:05d}/USDT" for i in range(symbols_per_account)]
    tolerances = {s: STEPS[i % len(STEPS)] for i, s in enumerate(symbols)}
    kinds = [kind for kind, share in MIX for _ in range(share)]
    recorded, exchange, expected = [], [], Counter()
    for n in range(size):
        account, symbol = f"acct{n % ACCOUNTS}", symbols[n // ACCOUNTS]
        step = tolerances[symbol]
        qty = Decimal(rng.randint(1, 10**7)) * step
        price = Decimal(rng.randint(1, 10**6)).scaleb(-2)
        fresh = NOW - timedelta(seconds=rng.randint(0, 299))
        kind = rng.choice(kinds)
        expected[kind] += 1
        if kind != "orphan_db":
            exchange.append(ExchangePosition(account, symbol, qty, price))
        if kind == "orphan_exchange":
            continue
        recorded_qty, when = qty, fresh
        if kind == "in_sync" and rng.random() < 0.5:
            recorded_qty = qty + step / 2
        elif kind == "mismatch":
            recorded_qty = qty + step * rng.randint(2, 1000)
        elif kind == "stale":
            when = NOW - timedelta(minutes=rng.randint(6, 600))
        recorded.append(RecordedPosition(account, symbol, recorded_qty, price, when))
    # in the order the database and the exchange snapshot hand them over
    return sorted(recorded, key=_by_key), sorted(exchange, key=_by_key), tolerances, expected


def _by_key(position) -> tuple[str, str]:
    return position.account, position.symbol


def timed(recorded, exchange, tolerances) -> tuple[float, list, list]:
    started = time.perf_counter()
    found = diagnose(recorded, exchange, tolerances, NOW, STALE_AFTER)
    actions = plan(found, Policy.ADOPT)
    return time.perf_counter() - started, found, actions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2500,5000,10000,20000")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    print(f"diagnose + plan (adopt), compute only, median of {args.runs} runs")
    print(
        f"{'positions':>10}  {'discrepancies':>13}  {'median':>10}  {'min':>10}  "
        f"{'per position':>13}  {'vs previous':>11}"
    )
    previous: tuple[int, float] | None = None
    for size in sizes:
        recorded, exchange, tolerances, expected = book(size)
        times = []
        for _ in range(args.runs):
            seconds, found, actions = timed(recorded, exchange, tolerances)
            times.append(seconds)
        wanted = size - expected["in_sync"]
        if len(found) != wanted or len(actions) != wanted:
            print(f"error: {size} positions gave {len(found)} discrepancies, expected {wanted}")
            return 1
        if diagnose(apply(recorded, actions, NOW), exchange, tolerances, NOW, STALE_AFTER):
            print(f"error: the plan over {size} positions did not converge")
            return 1
        median = statistics.median(times)
        growth = ""
        if previous is not None:
            size_ratio, time_ratio = size / previous[0], median / previous[1]
            growth = f"x{time_ratio:.2f}/x{size_ratio:.1f}"
        print(
            f"{size:>10,}  {len(found):>13,}  {median * 1000:>8.1f}ms  {min(times) * 1000:>8.1f}ms  "
            f"{median / size * 1e6:>10.2f} us  {growth:>11}"
        )
        previous = (size, median)
    print("vs previous: time ratio / size ratio (linear growth keeps them equal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
