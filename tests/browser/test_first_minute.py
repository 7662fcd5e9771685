"""A trader's first minute on the real app (local demo exchange, SIM), in headless Chromium."""

from __future__ import annotations

import os
import re
from decimal import Decimal

import pytest
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.pages import (
    LOAD_SECONDS,
    TRADE_SECONDS,
    chart_traces,
    click,
    close_toast,
    confirmation,
    css,
    enter_size,
    last_price,
    open_dashboard,
    position_row,
    press,
    wait_for_state,
    wait_for_text_anywhere,
    wait_for_toast,
)
from web import ids

pytestmark = pytest.mark.browser

SYMBOL = "ETH/USDT"
PNL = re.compile(r"^[+-]?[\d,]+\.\d\d USDT$")
# Set to a path (docs/screenshot.png) to refresh the README's screenshot after the BUY.
SCREENSHOT = os.environ.get("DASHBOARD_SCREENSHOT")
BAD_SIZES = [
    ("", "pct", "Enter an order size"),
    ("0", "pct", "above zero"),
    ("abc", "pct", "must be a number"),
    ("-5", "pct", "above zero"),
    ("1000000", "quote", "above the free balance"),
    ("0.0001", "quote", "below the market minimum"),
]
TRADE_BUTTONS = (ids.TRADE_BUY, ids.TRADE_SELL, ids.TRADE_CLOSE)
EXCHANGE_DOWN = {
    "fail": [
        {"method": "GET", "path": path, "mode": "http_500", "count": 1_000_000}
        for path in ("/api/v3/ticker/24hr", "/api/v3/klines", "/api/v3/account")
    ]
}


def test_page_says_sim_on_the_local_demo_exchange(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    assert dash_duo.find_element(css(ids.EXCHANGE_LABEL)).text == "local demo exchange"
    assert "bg-info" in dash_duo.find_element(css(ids.MODE_BADGE)).get_attribute("class")
    assert dash_duo.find_element(css(ids.MODE_SWITCH)).is_selected()
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: last_price(dash_duo) not in (None, "—")
    )
    assert SYMBOL in dash_duo.find_element(css(ids.SYMBOL_SELECT)).text
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: chart_traces(dash_duo, ids.PRICE_CHART) == [SYMBOL, "volume"]
    )

    dash_duo.select_dcc_dropdown(css(ids.SYMBOL_SELECT), value="BTC/USDT")
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: chart_traces(dash_duo, ids.PRICE_CHART) == ["BTC/USDT", "volume"],
        message="the chart did not follow the symbol selector",
    )
    assert dash_duo.get_logs() == []


def test_buy_sell_close(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    enter_size(dash_duo, "50")
    click(dash_duo, ids.TRADE_BUY)
    wait_for_toast(dash_duo, f"Done: {SYMBOL} → LONG")
    _symbol, _state, qty, _entry, _price, unrealized, realized, _stop, sync = wait_for_state(
        dash_duo, SYMBOL, "LONG"
    )
    assert sync == "in sync"
    assert Decimal(qty.replace(",", "")) > 0
    assert PNL.match(unrealized) and PNL.match(realized)
    wait_for_text_anywhere(dash_duo, ids.FILLS_TABLE, "BUY")
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: chart_traces(dash_duo, ids.PRICE_CHART) == [SYMBOL, "volume", "buys", "entry"],
        message="the BUY is not marked on the price chart",
    )
    close_toast(dash_duo)
    if SCREENSHOT:
        dash_duo.driver.set_window_size(1366, 900)
        dash_duo.driver.save_screenshot(SCREENSHOT)

    click(dash_duo, ids.TRADE_SELL)
    wait_for_toast(dash_duo, f"Done: {SYMBOL} → SHORT")
    wait_for_state(dash_duo, SYMBOL, "SHORT (in USDT)")
    close_toast(dash_duo)

    click(dash_duo, ids.TRADE_CLOSE)
    wait_for_toast(dash_duo, f"Done: {SYMBOL} → NO_POSITION")
    flat = wait_for_state(dash_duo, SYMBOL, "NO_POSITION")
    # after CLOSE the row shows no entry and no unrealized PnL, the leftover as dust
    assert flat[3] == "—" and flat[5] == "—", flat
    assert flat[2] == "—" or flat[2].startswith("dust "), flat
    assert dash_duo.get_logs() == []


def test_buttons_are_disabled_while_a_trade_runs(dash_duo, runtime, demo_exchange):
    """A slow exchange keeps the trade running long enough to see it: no second click can
    start another trade, and the buttons come back with the outcome."""
    open_dashboard(dash_duo, runtime)
    demo_exchange.faults({"latency_ms": 400})
    click(dash_duo, ids.TRADE_BUY)
    for button in TRADE_BUTTONS:
        dash_duo.wait_for_element_by_css_selector(f"{css(button)}[disabled]", LOAD_SECONDS)
    wait_for_toast(dash_duo, "→ LONG")
    for button in TRADE_BUTTONS:
        dash_duo.wait_for_element_by_css_selector(f"{css(button)}:not([disabled])", LOAD_SECONDS)
    demo_exchange.clear_faults()
    assert {o.side for o in runtime.service.reads.dashboard().orders} == {"buy"}


def test_bad_order_sizes_are_refused_next_to_the_field(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    for amount, unit, words in BAD_SIZES:
        enter_size(dash_duo, amount, unit)
        click(dash_duo, ids.TRADE_BUY)
        dash_duo.wait_for_contains_text(css(ids.ORDER_SIZE_FEEDBACK), words, timeout=TRADE_SECONDS)
        field_class = dash_duo.find_element(css(ids.ORDER_SIZE)).get_attribute("class")
        assert "is-invalid" in field_class, amount
    view = runtime.service.reads.dashboard()
    assert view.orders == [] and view.fills == []
    assert position_row(dash_duo, SYMBOL)[2] == "—"  # nothing held
    assert not dash_duo.find_elements(f"{css(ids.TRADE_TOAST)}.show")


def test_cancelling_live_keeps_simulation(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    press(dash_duo, dash_duo.find_element(css(ids.MODE_SWITCH)))
    alert = confirmation(dash_duo)
    assert "local demo exchange" in alert.text
    alert.dismiss()
    dash_duo.wait_for_contains_text(css(ids.MODE_MESSAGE), "Stayed in simulation")
    assert dash_duo.find_element(css(ids.MODE_SWITCH)).is_selected()
    assert dash_duo.find_element(css(ids.MODE_BADGE)).text == "SIM"


def test_exchange_unreachable_then_back(dash_duo, runtime, demo_exchange):
    """The page loads while the exchange fails and says so; LIVE is refused with the reason
    before any confirmation is asked, and the switch returns to SIM. When the exchange
    answers again the page recovers."""
    demo_exchange.faults(EXCHANGE_DOWN)
    open_dashboard(dash_duo, runtime)
    dash_duo.wait_for_contains_text(
        css(ids.EXCHANGE_ALERT), "Exchange unreachable", timeout=LOAD_SECONDS
    )
    assert "local demo exchange" in dash_duo.find_element(css(ids.EXCHANGE_ALERT)).text

    press(dash_duo, dash_duo.find_element(css(ids.MODE_SWITCH)))
    dash_duo.wait_for_contains_text(css(ids.MODE_MESSAGE), "LIVE refused", timeout=LOAD_SECONDS)
    assert not expected_conditions.alert_is_present()(dash_duo.driver), "asked before refusing"
    assert "alert-danger" in dash_duo.find_element(css(ids.MODE_MESSAGE)).get_attribute("class")
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: dash_duo.find_element(css(ids.MODE_SWITCH)).is_selected(),
        message="the switch did not return to SIM",
    )
    assert dash_duo.find_element(css(ids.MODE_BADGE)).text == "SIM"

    demo_exchange.clear_faults()
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until_not(
        lambda driver: driver.find_elements("css selector", css(ids.EXCHANGE_ALERT)),
        message="the exchange alert stayed after the exchange came back",
    )
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: last_price(dash_duo) not in (None, "—"),
        message="no price after the exchange came back",
    )
