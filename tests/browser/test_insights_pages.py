"""The Sync health and Results pages on the real app in headless Chromium: an empty database
shows sentences, never an error; after LIVE trades and a drift made behind the app's back the
pages show the runs, the drift and its repair, the alerts with their delivery, the round
trips and their profit, and download CSVs that match the database."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import func, select

from core.service.insights import Insights
from core.service.stored_mode import StoredMode
from core.store.models import FillRecord, LedgerEntry, SyncRun
from tests.browser.pages import (
    LOAD_SECONDS,
    chart_traces,
    click,
    close_toast,
    css,
    enter_size,
    go_live,
    open_dashboard,
    open_tab,
    wait_for_state,
)
from web import health_page, ids, results_page
from web import insights_ids as iids

pytestmark = pytest.mark.browser

HEALTH, RESULTS = "Sync health", "Results"
SCREENSHOTS = {"health": Path("/tmp/health.png"), "results": Path("/tmp/results.png")}


def with_insight_pages(runtime) -> None:
    """What the hooks in facade.py, layout.py and callbacks.py do, for an app built before
    they exist: the service's insights, both tabs among the page's tabs, their callbacks.
    Does nothing once the app has them."""
    service, dash_app = runtime.service, runtime.dash_app
    if not hasattr(service, "insights"):
        service.insights = Insights(service.wiring, StoredMode(service.wiring))
    if any(iids.HEALTH_DOWNLOAD in output for output in dash_app.callback_map):
        return
    build = dash_app.layout

    def layout():
        page = build()
        tabs = next(c for c in page._traverse() if getattr(c, "id", None) == ids.PAGE_TABS)
        tabs.children = [*tabs.children, health_page.health_tab(), results_page.results_tab()]
        return page

    dash_app.layout = layout
    health_page.register_health_callbacks(dash_app, service)
    results_page.register_results_callbacks(dash_app, service)


DATA_ROWS_SCRIPT = """
return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr'))
    .filter(row => row.querySelector('td'))
    .map(row => Array.from(row.querySelectorAll('td')).map(cell => cell.textContent));
"""


def data_rows(dash_duo, table_id: str) -> list[list[str]]:
    """The cells of a DataTable's shown page, its header row left out."""
    return dash_duo.driver.execute_script(DATA_ROWS_SCRIPT, css(table_id))


def text_of(dash_duo, component_id: str) -> str:
    """Everything a component holds as text, shown or not (a chart's sentence included)."""
    return dash_duo.find_element(css(component_id)).get_attribute("textContent")


def wait_for(dash_duo, component_id: str, text: str, seconds: float = LOAD_SECONDS) -> None:
    WebDriverWait(dash_duo.driver, seconds).until(
        lambda _d: text in text_of(dash_duo, component_id),
        message=f"{text!r} never appeared in #{component_id}",
    )


CARDS_SCRIPT = """
const values = {};
for (const card of document.querySelectorAll(arguments[0] + ' .pnl-card')) {
    const [label, ...rest] = Array.from(card.querySelectorAll('.card-body > div'));
    values[label.textContent] = rest.map(part => part.textContent).join('\\n');
}
return values;
"""


def card_values(dash_duo, cards_id: str) -> dict[str, str]:
    """Each stat card's label -> its value and note, one line each (as written, not as
    the page's CSS capitalizes the label)."""
    return dash_duo.driver.execute_script(CARDS_SCRIPT, css(cards_id))


def pick(dash_duo, select_id: str, value: str) -> None:
    Select(dash_duo.find_element(css(select_id))).select_by_value(value)


def downloaded(dash_duo, prefix: str) -> list[dict]:
    """The rows of the CSV the page downloaded whose name starts with `prefix`."""
    folder = Path(dash_duo.download_path)
    deadline = time.monotonic() + LOAD_SECONDS
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"{prefix}-*.csv") if p.stat().st_size]
        if done:
            return list(csv.DictReader(io.StringIO(done[0].read_text(encoding="utf-8"))))
        time.sleep(0.2)
    raise AssertionError(f"no {prefix} CSV was downloaded to {folder}")


PROFIT_BARS_SCRIPT = """
const plot = document.querySelector(arguments[0] + ' .js-plotly-plot');
return plot && plot.data ? plot.data[0].x.map(x => String(x).slice(0, 10)) : [];
"""


def profit_bar_dates(dash_duo) -> list[str]:
    """The dates the realized-profit bars stand at (the start of each period)."""
    return dash_duo.driver.execute_script(PROFIT_BARS_SCRIPT, css(iids.RESULTS_PROFIT_BOX))


def screenshot(dash_duo, path: Path) -> None:
    """The whole page: the window made as tall as the page for the shot."""
    driver = dash_duo.driver
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1440, min(max(height + 120, 1000), 6000))
    time.sleep(1)  # let the charts fit their new size
    driver.save_screenshot(str(path))
    driver.set_window_size(1440, 1000)


def test_an_empty_database_shows_sentences_not_errors(dash_duo, runtime):
    with_insight_pages(runtime)
    open_dashboard(dash_duo, runtime)

    open_tab(dash_duo, HEALTH)
    wait_for(dash_duo, iids.HEALTH_RUNS_BOX, "No sync runs in this window yet.")
    wait_for(dash_duo, iids.HEALTH_DURATION_BOX, "No sync runs in this window yet.")
    wait_for(dash_duo, iids.HEALTH_ALERTS, "No alerts sent yet.")
    wait_for(dash_duo, iids.HEALTH_ACCOUNTS, "No sync runs or orders recorded in this book yet.")
    cards = card_values(dash_duo, iids.HEALTH_CARDS)
    assert "no runs in this window" in cards["Success rate"]
    assert "SIM book, all accounts, last 24 hours" in text_of(dash_duo, iids.HEALTH_CAPTION)

    open_tab(dash_duo, RESULTS)
    wait_for(dash_duo, iids.RESULTS_PROFIT_BOX, "No closed round trips in this window yet.")
    wait_for(dash_duo, iids.RESULTS_EQUITY_BOX, "No equity recorded in this window yet.")
    wait_for(dash_duo, iids.RESULTS_TRIPS, "No closed round trips in this window yet.")
    cards = card_values(dash_duo, iids.RESULTS_CARDS)
    assert "0.00 USDT" in cards["Realized profit"]
    assert dash_duo.get_logs() == []


def test_live_trades_and_a_drift_show_on_both_pages_and_download_as_csv(
    dash_duo, runtime, demo_exchange
):
    with_insight_pages(runtime)
    service = runtime.service
    open_dashboard(dash_duo, runtime)
    go_live(dash_duo)
    enter_size(dash_duo, "50")
    click(dash_duo, ids.TRADE_BUY)
    wait_for_state(dash_duo, "ETH/USDT", "LONG")
    click(dash_duo, ids.TRADE_CLOSE)
    wait_for_state(dash_duo, "ETH/USDT", "NO_POSITION")
    click(dash_duo, ids.TRADE_BUY)
    wait_for_state(dash_duo, "ETH/USDT", "LONG")

    demo_exchange.set_balances({"ETH": "0"})  # behind the app's back
    service.monitoring.periodic_check()
    wait_for_state(dash_duo, "ETH/USDT", "NO_POSITION")  # the check read the account
    click(dash_duo, ids.TRADE_BUY)  # the trader's target again: LONG
    wait_for_state(dash_duo, "ETH/USDT", "LONG")
    service.monitoring.periodic_check()
    assert service.wiring.alerts.flush()

    close_toast(dash_duo)
    open_tab(dash_duo, HEALTH)
    wait_for(dash_duo, iids.HEALTH_CAPTION, "LIVE book, all accounts, last 24 hours")
    wait_for(dash_duo, iids.HEALTH_OPEN_DRIFT, "None open.")
    cards = card_values(dash_duo, iids.HEALTH_CARDS)
    assert "1\n0 open, 1 repaired" in cards["Drift events"]
    assert "100.00%" in cards["Success rate"]
    accounts = data_rows(dash_duo, iids.HEALTH_ACCOUNTS)
    assert [row[0] for row in accounts] == ["default"]
    symbols = {row[1]: row for row in data_rows(dash_duo, iids.HEALTH_SYMBOLS)}
    assert symbols["ETH/USDT"][4] == "1"  # one drift event on ETH/USDT
    alerts = data_rows(dash_duo, iids.HEALTH_ALERTS)
    # ETH emptied behind the app's back is drift and a change outside the app, raised by
    # the same check (their order within it is not the point)
    assert sorted((row[1], row[2], row[5]) for row in alerts) == [
        ("drift", "cleared", "no urls"),
        ("drift", "raised", "no urls"),
        ("external_change", "raised", "no urls"),
    ]
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: chart_traces(dash_duo, iids.HEALTH_RUNS_BOX) == ["ok", "failed", "success %"]
    )
    assert chart_traces(dash_duo, iids.HEALTH_DRIFT_BOX) == ["drift events"]
    assert chart_traces(dash_duo, iids.HEALTH_DURATION_BOX) == ["runs"]
    screenshot(dash_duo, SCREENSHOTS["health"])

    pick(dash_duo, iids.HEALTH_WINDOW, "1h")
    wait_for(dash_duo, iids.HEALTH_CAPTION, "last hour")
    dash_duo.find_element(css(iids.HEALTH_EXPORT_SYNCS)).click()
    exported = downloaded(dash_duo, "syncs")
    with runtime.engine.db.session() as session:
        recorded = session.scalar(select(func.count()).select_from(SyncRun))
    assert len(exported) == recorded
    assert {row["mode"] for row in exported} == {"live"}

    open_tab(dash_duo, RESULTS)
    wait_for(dash_duo, iids.RESULTS_CAPTION, "LIVE book, all accounts, all time")
    cards = card_values(dash_duo, iids.RESULTS_CARDS)
    # the BUY sold by CLOSE, and the BUY whose coins left the account behind the app's back
    # (the ledger's transfer out ends that trip; it is not a sale)
    assert "2 closed round trips, after fees" in cards["Realized profit"]
    trips = data_rows(dash_duo, iids.RESULTS_TRIPS)
    assert [row[1] for row in trips] == ["ETH/USDT", "ETH/USDT"]
    won = sum(row[10].startswith("+") for row in trips)  # the demo market moves
    assert f"{won} won" in cards["Win rate"], (cards["Win rate"], trips)
    assert [row[1] for row in data_rows(dash_duo, iids.RESULTS_OPEN)] == ["ETH/USDT"]
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: (
            chart_traces(dash_duo, iids.RESULTS_PROFIT_BOX) == ["profit (USDT)", "cumulative"]
        )
    )
    assert chart_traces(dash_duo, iids.RESULTS_SYMBOLS_BOX) == ["profit (USDT)"]
    # the ETH that left behind the app's back lowers the equity, not the dashed line beside
    # it (what trading made), on which the drawdown is measured
    assert chart_traces(dash_duo, iids.RESULTS_EQUITY_BOX)[:3] == [
        "equity (USDT)",
        "less changes outside the app",
        "drawdown %",
    ]
    assert cards["Changes outside the app"].startswith("-")
    screenshot(dash_duo, SCREENSHOTS["results"])

    monthly = f"{css(iids.RESULTS_PERIOD)} input[value='monthly']"
    dash_duo.driver.execute_script("arguments[0].click()", dash_duo.find_element(monthly))
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: profit_bar_dates(dash_duo) == [time.strftime("%Y-%m-01", time.gmtime())]
    )
    dash_duo.find_element(css(iids.RESULTS_EXPORT_FILLS)).click()
    exported = downloaded(dash_duo, "fills")
    with runtime.engine.db.session() as session:
        fills = session.scalars(select(FillRecord).order_by(FillRecord.time, FillRecord.id)).all()
        expected = [(f.trade_id, format(f.qty, "f"), format(f.price, "f")) for f in fills]
    assert [(row["trade_id"], row["qty"], row["price"]) for row in exported] == expected
    dash_duo.find_element(css(iids.RESULTS_EXPORT_LEDGER)).click()
    exported = downloaded(dash_duo, "ledger")
    with runtime.engine.db.session() as session:
        entries = session.scalars(select(LedgerEntry).order_by(LedgerEntry.time, LedgerEntry.id))
        expected = [(e.kind, e.origin, format(e.change, "f")) for e in entries]
    assert [(row["kind"], row["origin"], row["change"]) for row in exported] == expected
    assert {row["mode"] for row in exported} == {"live"}
    assert not dash_duo.get_logs()
