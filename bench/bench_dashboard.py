"""Dashboard speed with a large book: the refresh callback's server time with 500 positions
and 100,000 fills in the database, and the first page load in headless Chromium.

    .venv/bin/python bench/bench_dashboard.py [--positions 500] [--fills 100000] [--calls 50]

The refresh is timed as the browser triggers it: a POST to /_dash-update-component through
the real Flask app, so routing, the callback, the service's database reads and the JSON
answer are all inside the figure.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from core.config import load_settings
from core.store.models import EquitySnapshot, FillRecord, Position
from emulator.server import EmulatorServer
from runtime import build_runtime
from tests.page_requests import received, refresh_payload


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=500)
    parser.add_argument("--fills", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()

    with EmulatorServer(seed=5, freeze=True) as exchange, tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            DATABASE_URL=f"sqlite:///{folder}/bench.db", EXCHANGE_URL=exchange.url
        )
        runtime = build_runtime(settings)
        try:
            started = time.perf_counter()
            populate(runtime.engine.db, args.positions, args.fills)
            print(
                f"database: {args.positions} positions, {args.fills} fills (filled in {time.perf_counter() - started:.1f} s)"
            )
            refresh_figures(runtime.dash_app, args.calls)
            page_load_figures(runtime.dash_app)
        finally:
            runtime.close()
    return 0


def insert_positions(session, symbols: list[str], now: datetime) -> None:
    """A LONG SIM position of 1.5 on each symbol, with some realized PnL and fees."""
    session.execute(
        insert(Position),
        [
            {
                "mode": "sim",
                "account": "default",
                "symbol": symbol,
                "state": "LONG",
                "target_state": "LONG",
                "qty": Decimal("1.5"),
                "cost_basis": Decimal("150"),
                "realized": Decimal("12.5"),
                "fees": Decimal("0.3"),
                "is_open": True,
                "updated_at": now,
            }
            for symbol in symbols
        ],
    )


def populate(db, positions: int, fills: int) -> None:
    rng = random.Random(1)
    now = datetime.now(UTC)
    symbols = ["ETH/USDT", "BTC/USDT", *[f"X{n:04d}/USDT" for n in range(positions - 2)]]
    with db.session() as session:
        insert_positions(session, symbols, now)
        batch = []
        for n in range(fills):
            batch.append(
                {
                    "mode": "sim",
                    "account": "default",
                    "symbol": symbols[n % len(symbols)],
                    "trade_id": f"t{n:08d}",
                    "client_order_id": f"c{n // 3:08d}",
                    "side": "buy" if n % 2 else "sell",
                    "qty": Decimal("0.01"),
                    "price": Decimal(rng.randint(90, 110)),
                    "fee": Decimal("0.00001"),
                    "fee_asset": "USDT",
                    "fee_quote": Decimal("0.001"),
                    "time": now - timedelta(seconds=fills - n),
                }
            )
            if len(batch) == 10_000:
                session.execute(insert(FillRecord), batch)
                batch.clear()
        if batch:
            session.execute(insert(FillRecord), batch)
        session.execute(
            insert(EquitySnapshot),
            [
                {
                    "mode": "sim",
                    "account": "default",
                    "time": now - timedelta(minutes=n),
                    "equity": Decimal(10000 + n),
                }
                for n in range(5000)
            ],
        )


def _seen_after(answer: dict, seen: dict | None) -> dict | None:
    return received(seen, answer.get("response", {}).get("refresh-seen", {}).get("data", seen))


def refresh_figures(dash_app, calls: int) -> None:
    """Server time of the refresh callback for a tab that has received nothing yet (every
    part sent) and, separately, the bytes of a tick where nothing changed."""
    client = dash_app.server.test_client()
    dependencies = client.get("/_dash-dependencies").get_json()
    payload = refresh_payload(dependencies, "ETH/USDT")
    first = client.post("/_dash-update-component", json=payload)
    assert first.status_code == 200, first.data[:200]
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        response = client.post("/_dash-update-component", json=payload)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.data[:200]
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    print(
        f"refresh callback server time over {calls} calls: median {statistics.median(times):.1f} ms, "
        f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms ({len(response.data) / 1024:.0f} KiB when "
        "everything is sent)"
    )
    seen = _seen_after(first.get_json(), None)
    unchanged, steady = [], []
    for _ in range(calls):
        started = time.perf_counter()
        answer = client.post(
            "/_dash-update-component", json=refresh_payload(dependencies, "ETH/USDT", seen)
        )
        steady.append((time.perf_counter() - started) * 1000)
        unchanged.append(len(answer.data))
        seen = _seen_after(answer.get_json(), seen)
    steady.sort()
    print(
        f"a tick where nothing changed: {max(unchanged) / 1024:.2f} KiB at most (median "
        f"{statistics.median(unchanged)} bytes); server time median "
        f"{statistics.median(steady):.1f} ms, p95 {steady[max(0, round(0.95 * len(steady)) - 1)]:.1f} ms"
    )


def serve_in_thread(wsgi_app):
    """waitress serving `wsgi_app` on a free loopback port from a daemon thread: the server
    (close it when done) and its URL."""
    from waitress.server import create_server

    server = create_server(wsgi_app, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    return server, f"http://127.0.0.1:{server.effective_port}/"


def headless_browser(chromium: str, driver: str):
    """A fresh headless Chromium (new profile: a cold cache) driven by `driver`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.browser.pages import CHROME_ARGUMENTS

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROME_ARGUMENTS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


FIRST_PAGE_SHOWN = """
const rows = document.querySelectorAll('#positions-table tbody tr');
return Array.from(rows).filter(row => row.querySelector('td')).length >= 15;
"""


def page_load_figures(dash_app, runs: int = 3) -> None:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        print(
            "first page load: skipped (Chromium not installed: apt-get install chromium chromium-driver)"
        )
        return
    from selenium.webdriver.support.ui import WebDriverWait

    server, url = serve_in_thread(dash_app.server)
    loads, populated = [], []
    try:
        for _ in range(runs):
            browser = headless_browser(chromium, driver)
            try:
                started = time.perf_counter()
                browser.get(url)
                WebDriverWait(browser, 60, poll_frequency=0.02).until(
                    lambda b: b.execute_script(FIRST_PAGE_SHOWN)
                )
                populated.append((time.perf_counter() - started) * 1000)
                loads.append(
                    browser.execute_script(
                        "const t = performance.getEntriesByType('navigation')[0]; return t.loadEventEnd - t.startTime;"
                    )
                )
            finally:
                browser.quit()
    finally:
        server.close()
    print(
        f"first page load in headless Chromium over {runs} fresh browsers: load event median "
        f"{statistics.median(loads):.0f} ms; first page of the 500-position table shown, median "
        f"{statistics.median(populated):.0f} ms, worst {max(populated):.0f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
