"""The first page a trader sees: bytes on the wire before the positions table (500 rows) shows, and
the time until it does, in headless Chromium (fresh browser: cold cache; then a reload in
the same browser); then the same until the price chart has drawn its candles, and what
plotly.js cost on the wire.

    .venv/bin/python bench/bench_first_page.py [--runs 3] [--positions 500] [--root PATH] [--list]

The app is built in this process from --root's code (say, the main branch, to measure
before a change; its files are only read) and served by waitress on loopback, on SQLite with
a frozen emulator. Bytes are Chromium's own count (Resource Timing's transferSize: headers
and the body as sent, compressed or not) of the page and every response finished before the
table's first rows were on screen (or the chart's candles were). A reload's responses are
those that went to the network (a revalidation answered 304 is one). Without Chromium it
says so and stops.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

# the rows on screen: performance.now() then, else null
TABLE_SHOWN = """
const rows = document.querySelectorAll('#positions-table tbody tr');
const filled = Array.from(rows).filter(row => row.querySelector('td')).length >= 15;
return filled ? performance.now() : null;
"""
# the price chart's candles drawn: performance.now() then, else null
CHART_DRAWN = """
return document.querySelector('#price-chart .trace.boxes path') ? performance.now() : null;
"""
# transferSize 0: read from the browser's cache without asking the server
WIRE_BEFORE = """
const shown = arguments[0];
const [page] = performance.getEntriesByType('navigation');
const before = performance.getEntriesByType('resource').filter(
    r => r.responseEnd <= shown && r.transferSize > 0);
const layout = before.filter(r => r.name.includes('/_dash-layout'));
const plotly = before.filter(r => /plotly[^/]*[.]js/.test(r.name));
return {
    bytes: page.transferSize + before.reduce((sum, r) => sum + r.transferSize, 0),
    requests: 1 + before.length,
    layout: layout.length ? layout[0].transferSize : null,
    plotly: plotly.reduce((sum, r) => sum + r.transferSize, 0),
    names: before.map(r => r.name.replace(/^https?:[/][/][^/]+/, '') + ' ' + r.transferSize),
};
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--positions", type=int, default=500)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument(
        "--list", action="store_true", help="name each response before the chart drew"
    )
    args = parser.parse_args()
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        print("skipped: Chromium not installed (apt-get install chromium chromium-driver)")
        return 0
    sys.path.insert(0, str(args.root.resolve()))

    from bench.bench_dashboard import populate
    from core.config import load_settings
    from emulator.server import EmulatorServer
    from runtime import build_runtime

    with EmulatorServer(seed=5, freeze=True) as exchange, tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            DATABASE_URL=f"sqlite:///{folder}/bench.db", EXCHANGE_URL=exchange.url
        )
        runtime = build_runtime(settings)
        try:
            populate(runtime.engine.db, args.positions, 1000)
            cold, reload = measure(runtime.dash_app.server, chromium, driver, args.runs)
        finally:
            runtime.close()
    print(f"{args.root.resolve()}: first page, {args.positions} positions ({args.runs} browsers)")
    for name, runs in (("cold (new browser)", cold), ("reload", reload)):
        for what, key in (("table shown", "table"), ("chart drawn", "chart")):
            times = [r[key]["ms"] for r in runs]
            sizes = [r[key]["bytes"] for r in runs]
            first = runs[0][key]
            print(
                f"  {name:<19} {what} median {statistics.median(times):.0f} ms "
                f"(worst {max(times):.0f}); on the wire before it "
                f"{statistics.median(sizes) / 1024:.0f} KiB in {first['requests']} responses; "
                f"layout {kib(first['layout'])}; plotly.js {kib(first['plotly'] or None)}"
            )
        if args.list:
            print("    " + "\n    ".join(runs[0]["chart"]["names"]))
    return 0


def kib(value) -> str:
    return "-" if value is None else f"{value / 1024:.1f} KiB"


def measure(server_app, chromium: str, driver: str, runs: int) -> tuple[list, list]:
    from selenium.webdriver.support.ui import WebDriverWait

    from bench.bench_dashboard import headless_browser, serve_in_thread

    server, url = serve_in_thread(server_app)
    cold, reload = [], []
    try:
        for _ in range(runs):
            browser = headless_browser(chromium, driver)
            try:
                for into in (cold, reload):
                    browser.get(url)
                    figures = {}
                    for key, script in (("table", TABLE_SHOWN), ("chart", CHART_DRAWN)):
                        shown = WebDriverWait(browser, 60, poll_frequency=0.02).until(
                            lambda b, script=script: b.execute_script(script)
                        )
                        figures[key] = {"ms": shown, **browser.execute_script(WIRE_BEFORE, shown)}
                    into.append(figures)
            finally:
                browser.quit()
    finally:
        server.close()
    return cold, reload


if __name__ == "__main__":
    sys.exit(main())
