"""What one Trading tick costs a tab at the page's real cadence, with the market moving:
500 positions, every listed market of the demo exchange held (so its row shows a price),
a few prices moved between ticks (a trade on the emulator's market, through its control
API, moves its ticker's last price).

    .venv/bin/python bench/bench_tick.py [--positions 500] [--tabs 2] [--ticks 15] [--moving 3]

Each tab posts the refresh callback's request to /_dash-update-component through the real
Flask app with what it last received, every 2 s (web.layout.REFRESH_MS), as the browser
does: the view memo and the ticker cache age as they do for a real page, so the figures
are never those of a memo hit within one interval. Printed: the bytes a new tab receives,
then for ticks with prices moving and ticks with nothing changed the bytes per tick per
tab (median, max) and the server time (p50, p95), then for ticks a moment after a write
of the book (a trade: the view is read again); then the server time of a tick while another
page tab (Results) is shown.
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


from bench.moving_book import MovingPrices, listed_symbols, populate
from core.config import load_settings
from core.domain import Mode
from core.store import paper
from emulator.control_client import ControlClient
from emulator.server import EmulatorServer
from runtime import build_runtime
from tests.page_requests import received, refresh_payload
from web.layout import REFRESH_MS

CADENCE = REFRESH_MS / 1000
AFTER_WRITE = 0.2  # seconds from a write of the book to the tabs' next tick


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=500)
    parser.add_argument("--tabs", type=int, default=2)
    parser.add_argument("--ticks", type=int, default=15)
    parser.add_argument("--moving", type=int, default=3, help="symbols moved per tick")
    args = parser.parse_args()

    with EmulatorServer(seed=5, freeze=True) as exchange, tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            DATABASE_URL=f"sqlite:///{folder}/bench.db",
            EXCHANGE_URL=exchange.url,
            TRADING_MODE="sim",
            LOG_LEVEL="WARNING",
        )
        runtime = build_runtime(settings)
        try:
            runtime.start_feed()  # as `serve` and every gunicorn worker do
            wiring = runtime.service.wiring
            listed = listed_symbols(wiring)
            populate(wiring, listed, args.positions)
            print(
                f"{args.positions} positions, {len(listed)} of them on listed markets (held, "
                f"priced); {args.tabs} tabs; {args.moving} prices moved per moving tick; "
                f"one tick every {CADENCE:g} s"
            )
            moving = MovingPrices(ControlClient(exchange.url), wiring, listed, args.moving)
            tick_figures(runtime.dash_app, moving, args, wiring)
        finally:
            runtime.close()
    return 0


class Tab:
    """One browser tab: what it last received (its store) and what its ticks cost."""

    def __init__(self, client, dependencies):
        self.client = client
        self.dependencies = dependencies
        self.seen = None

    def tick(self, page: str = "trading") -> tuple[float, int, bool]:
        """Server time (ms), bytes, and whether the positions table changed."""
        payload = refresh_payload(self.dependencies, "ETH/USDT", self.seen, page=page)
        started = time.perf_counter()
        answer = self.client.post("/_dash-update-component", json=payload)
        took = (time.perf_counter() - started) * 1000
        if answer.status_code == 204:
            return took, len(answer.data), False
        assert answer.status_code == 200, answer.data[:300]
        response = answer.get_json()["response"]
        if "refresh-seen" in response:
            self.seen = received(self.seen, response["refresh-seen"]["data"])
        return took, len(answer.data), "positions-table" in response


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(fraction * len(ordered)) - 1)]


def tick_figures(dash_app, moving: MovingPrices, args, wiring) -> None:
    client = dash_app.server.test_client()
    dependencies = client.get("/_dash-dependencies").get_json()
    tabs = [Tab(client, dependencies) for _ in range(args.tabs)]
    first = [tab.tick()[1] for tab in tabs]
    print(f"a new tab's first tick: {statistics.median(first) / 1024:.1f} KiB (everything)")
    ticks = run_ticks(tabs, args.ticks, moving.move)
    moved = [t for t in ticks if t[2]]
    print(
        f"{len(moved)} of {len(ticks)} tab ticks with prices moving carried new prices "
        "(the others fell within the ticker cache's time-to-live)"
    )
    report("prices moving, new prices shown", moved)
    report("nothing changed", run_ticks(tabs, args.ticks, None))

    def write() -> None:
        """What a trade does to the book, a moment before the tabs' next tick."""
        with wiring.db.session() as session:
            paper.change_balance(session, wiring.paper.account, "USDT", Decimal(1))
        wiring.book_changed(wiring.book(Mode.SIM))
        time.sleep(AFTER_WRITE)

    report(f"a write {AFTER_WRITE:g} s before it", run_ticks(tabs, args.ticks, write))
    times, sizes, _ = zip(*run_ticks(tabs, args.ticks, moving.move, page="results"), strict=True)
    print(
        f"tick while the Results page tab is shown (prices moving): server time p50 "
        f"{percentile(times, 0.5):.1f} ms, p95 {percentile(times, 0.95):.1f} ms, "
        f"{statistics.median(sizes)} bytes median"
    )


def report(name: str, ticks: list[tuple[float, int, bool]]) -> None:
    if not ticks:
        print(f"tick with {name}: none")
        return
    times, sizes, _ = zip(*ticks, strict=True)
    print(
        f"tick with {name}: {statistics.median(sizes) / 1024:.2f} KiB per tab median, "
        f"{max(sizes) / 1024:.2f} KiB max; server time p50 {percentile(times, 0.5):.1f} ms, "
        f"p95 {percentile(times, 0.95):.1f} ms"
    )


def run_ticks(tabs: list[Tab], ticks: int, before, page: str = "trading"):
    """`ticks` rounds at the page's cadence: `before` (a market move) at the start of each
    round, then every tab's tick: (server ms, bytes, positions changed) per tab tick."""
    done = []
    due = time.monotonic()
    for _ in range(ticks):
        due += CADENCE
        time.sleep(max(0.0, due - time.monotonic()))
        if before is not None:
            before()
        done.extend(tab.tick(page) for tab in tabs)
    return done


if __name__ == "__main__":
    sys.exit(main())
