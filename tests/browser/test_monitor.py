"""The position monitor view on the real app: an account changed behind the app's back is
found, previewed, repaired after a confirmation and recorded; a failing exchange is shown
as failed, never as flat."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.pages import (
    LOAD_SECONDS,
    TRADE_SECONDS,
    click,
    confirmation,
    css,
    enter_size,
    go_live,
    open_dashboard,
    open_tab,
    position_row,
    table_rows,
    wait_for_state,
)
from web import ids
from web.layout import REFRESH_MS

pytestmark = pytest.mark.browser

MONITOR_TAB = "Position monitor"
ACCOUNT_DOWN = {
    "fail": [{"method": "GET", "path": "/api/v3/account", "mode": "http_500", "count": 1_000_000}]
}


def wait_for_rows(dash_duo, component_id: str, expected: set, columns=(0, 2)) -> list[list[str]]:
    """Wait until the table's rows, read at `columns`, are `expected`; returns the rows."""

    def picked():
        return {tuple(row[i] for i in columns) for row in table_rows(dash_duo, component_id)}

    WebDriverWait(dash_duo.driver, TRADE_SECONDS).until(
        lambda _d: picked() == expected,
        message=f"#{component_id} never showed {expected}",
    )
    return table_rows(dash_duo, component_id)


def test_monitor_finds_previews_and_repairs_an_account_changed_behind_the_apps_back(
    dash_duo, runtime, demo_exchange
):
    open_dashboard(dash_duo, runtime)
    go_live(dash_duo)
    enter_size(dash_duo, "50")
    click(dash_duo, ids.TRADE_BUY)
    wait_for_state(dash_duo, "ETH/USDT", "LONG")
    demo_exchange.set_balances({"ETH": "0", "BTC": "0.05"})

    open_tab(dash_duo, MONITOR_TAB)
    demo_exchange.clear_requests()
    time.sleep(2 * REFRESH_MS / 1000)
    assert not [c for c in demo_exchange.requests_log() if c["signed"]], "ticks read the account"

    click(dash_duo, ids.MONITOR_DIAGNOSE)
    wait_for_rows(
        dash_duo,
        ids.MONITOR_DISCREPANCIES,
        {("orphan_db", "ETH/USDT"), ("orphan_exchange", "BTC/USDT")},
    )
    status = dash_duo.find_element(css(ids.MONITOR_STATUS)).text
    assert "default: 2 discrepancies (1 orphan_db, 1 orphan_exchange)" in status

    recorded = runtime.service.monitoring.history()
    click(dash_duo, ids.MONITOR_PREVIEW)
    dash_duo.wait_for_contains_text(
        css(ids.MONITOR_PLAN), "not applied yet: 1 close, 1 create", timeout=TRADE_SECONDS
    )
    plan = wait_for_rows(
        dash_duo, ids.MONITOR_PLAN, {("close", "ETH/USDT"), ("create", "BTC/USDT")}
    )
    assert [row[4] for row in plan] == ["0.05", "0"]  # create first, then close
    assert runtime.service.monitoring.history() == recorded, "a preview wrote something"

    click(dash_duo, ids.MONITOR_APPLY)
    question = confirmation(dash_duo)
    assert "No orders are sent" in question.text
    question.accept()
    dash_duo.wait_for_contains_text(
        css(ids.MONITOR_PLAN), "Applied to the database: 1 close, 1 create", timeout=TRADE_SECONDS
    )
    runs = wait_for_rows(dash_duo, ids.MONITOR_HISTORY, {("default", "adopt")}, columns=(1, 2))
    applied = ["OK", "1 orphan_db, 1 orphan_exchange", "1 close, 1 create"]
    assert applied in [run[3:6] for run in runs]  # beside the check that going LIVE ran

    click(dash_duo, ids.MONITOR_DIAGNOSE)
    dash_duo.wait_for_contains_text(
        css(ids.MONITOR_DISCREPANCIES), "None: the database matches", timeout=TRADE_SECONDS
    )
    assert "default: in sync" in dash_duo.find_element(css(ids.MONITOR_STATUS)).text

    open_tab(dash_duo, "Trading")
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: position_row(dash_duo, "BTC/USDT")[2] == "0.05",
        message="the adopted BTC position is not on the trading page",
    )
    assert position_row(dash_duo, "ETH/USDT")[2] == "—"
    assert dash_duo.get_logs() == []


def test_a_failing_exchange_is_reported_as_failed_not_flat(dash_duo, runtime, demo_exchange):
    """In SIM too the monitor checks the LIVE account; when it cannot be read the page
    says so and shows no verdict on its positions."""
    open_dashboard(dash_duo, runtime)
    demo_exchange.faults(ACCOUNT_DOWN)
    open_tab(dash_duo, MONITOR_TAB)
    click(dash_duo, ids.MONITOR_DIAGNOSE)
    dash_duo.wait_for_contains_text(
        css(ids.MONITOR_STATUS), "default: exchange check failed", timeout=TRADE_SECONDS
    )
    assert "not taken as flat" in dash_duo.find_element(css(ids.MONITOR_STATUS)).text
    assert "alert-danger" in dash_duo.find_element(
        f"{css(ids.MONITOR_STATUS)} .alert"
    ).get_attribute("class")
    assert "None in the accounts that answered" in (
        dash_duo.find_element(css(ids.MONITOR_DISCREPANCIES)).text
    )
    dash_duo.wait_for_element_by_css_selector(f"{css(ids.MONITOR_DIAGNOSE)}:not([disabled])")
