"""What the event feed costs each dashboard read as its history grows: the book's newest
events, each shown symbol's newest (and the account's), and the incidents waiting.

    .venv/bin/python bench/bench_events.py [--events 100000] [--symbols 50] [--repeat 50]

The events are written to a real SQLite file (two books, trades and checks over the
symbols, one incident in a hundred left unacknowledged); each figure is the median and p95
of `--repeat` reads, in one session as the dashboard reads them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from core.store import events
from core.store.books import BookKey
from core.store.db import Database
from core.store.models import Event

LIVE = BookKey("live", "default")
KINDS = ("trade", "drift", "in_sync", "stop_fired", "repaired")


def fill(db: Database, count: int, symbols: list[str]) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "time": start + timedelta(seconds=30 * n),
            "mode": "live" if n % 4 else "sim",
            "account": "default",
            "symbol": None if n % 97 == 0 else symbols[n % len(symbols)],
            "kind": "external_change" if n % 100 == 1 else KINDS[n % len(KINDS)],
            "who": "monitor",
            "text": f"event {n}",
            "needs_ack": n % 100 == 1,
            "acked_at": None if n % 10_000 == 1 else start,
        }
        for n in range(count)
    ]
    with db.session() as session:
        for first in range(0, count, 10_000):
            session.execute(insert(Event), rows[first : first + 10_000])


def timed(db: Database, repeat: int, read) -> tuple[float, float]:
    took = []
    for _ in range(repeat):
        started = time.perf_counter()
        with db.session() as session:
            read(session)
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return statistics.median(took), took[int(len(took) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--symbols", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    symbols = [f"C{n}/USDT" for n in range(args.symbols)]
    with tempfile.TemporaryDirectory() as folder:
        db = Database.open(f"sqlite:///{folder}/bench.db")
        fill(db, args.events, symbols)
        reads = {
            "newest 30 of the book": lambda s: events.recent_events(s, book=LIVE, limit=30),
            f"newest of {args.symbols} symbols and the account": lambda s: events.latest_by_symbol(
                s, LIVE, symbols
            ),
            "incidents waiting": lambda s: events.unacknowledged(s, LIVE),
        }
        print(f"{args.events:,} events, {args.symbols} symbols, SQLite, {args.repeat} reads each")
        for name, read in reads.items():
            median, p95 = timed(db, args.repeat, read)
            print(f"  {name:<40} median {median:6.2f} ms   p95 {p95:6.2f} ms")
        db.dispose()


if __name__ == "__main__":
    main()
