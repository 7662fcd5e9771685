"""LIVE+SYNC from the page, on the local demo exchange (its demo keys work, so LIVE is
accepted), and a mode switch that follows the mode set elsewhere."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from core.domain import Mode
from tests.browser.pages import (
    LOAD_SECONDS,
    click,
    close_toast,
    css,
    enter_size,
    go_live,
    open_dashboard,
    open_tab,
    table_rows,
    wait_for_state,
    wait_for_toast,
)
from web import ids

pytestmark = pytest.mark.browser

SYMBOL = "ETH/USDT"
# Each button, the words its toast must show, and the state the positions row then reads.
TRADES = [
    (ids.TRADE_BUY, ("bought", "state LONG verified"), "LONG"),
    (ids.TRADE_SELL, ("sold", "state SHORT (in USDT) verified"), "SHORT (in USDT)"),
    (ids.TRADE_CLOSE, ("NO_POSITION", "verified"), "NO_POSITION"),
]
# Long enough for the answer of a callback that the switch's change would set off.
SETTLE_SECONDS = 1


def test_going_live_and_trading_from_the_page(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    question = go_live(dash_duo)
    assert "local demo exchange" in question and "account default" in question
    assert not dash_duo.find_element(css(ids.MODE_SWITCH)).is_selected()
    assert runtime.service.modes.current() is Mode.LIVE

    enter_size(dash_duo, "50")
    for button, words, state in TRADES:
        click(dash_duo, button)
        wait_for_toast(dash_duo, words[1])
        toast = dash_duo.find_element(css(ids.TRADE_TOAST)).text
        assert words[0] in toast, toast
        assert "Done:" in toast
        wait_for_state(dash_duo, SYMBOL, state)
        close_toast(dash_duo)

    open_tab(dash_duo, "Sync log")
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: len(_trade_rows(dash_duo)) == 3, message="the sync log lacks the trades"
    )
    trades = _trade_rows(dash_duo)
    assert [row[3] for row in trades] == ["NO_POSITION", "SHORT", "LONG"]
    for row in trades:
        assert row[2] == SYMBOL
        assert row[6].startswith("OK: ") and row[6].endswith("verified"), row
    assert dash_duo.find_element(css(ids.MODE_BADGE)).text == "LIVE+SYNC"
    assert dash_duo.get_logs() == []


def _trade_rows(dash_duo) -> list[list[str]]:
    return [row for row in table_rows(dash_duo, ids.SYNC_LOG) if row[1:2] == ["trade"]]


def test_switch_follows_the_mode_set_elsewhere(dash_duo, runtime):
    """Another tab or the command line changes the stored mode: the page follows it and
    asks nothing, since following is no request."""
    open_dashboard(dash_duo, runtime)
    switch = css(ids.MODE_SWITCH)

    runtime.service.modes.request(Mode.LIVE)
    dash_duo.wait_for_text_to_equal(css(ids.MODE_BADGE), "LIVE+SYNC", timeout=LOAD_SECONDS)
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until_not(
        lambda _d: dash_duo.find_element(switch).is_selected(),
        message="the switch did not follow the stored LIVE mode",
    )
    time.sleep(SETTLE_SECONDS)
    assert not expected_conditions.alert_is_present()(dash_duo.driver)
    assert runtime.service.modes.current() is Mode.LIVE

    runtime.service.modes.request(Mode.SIM)
    dash_duo.wait_for_text_to_equal(css(ids.MODE_BADGE), "SIM", timeout=LOAD_SECONDS)
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: dash_duo.find_element(switch).is_selected(),
        message="the switch did not follow the stored SIM mode",
    )
    time.sleep(SETTLE_SECONDS)
    assert not expected_conditions.alert_is_present()(dash_duo.driver)
    assert runtime.service.modes.current() is Mode.SIM
    assert not dash_duo.find_elements(f"{css(ids.MODE_MESSAGE)}.show")
