"""The event feed on the real app (local demo exchange) in headless Chromium: a stop fired by
the watcher is news (a toast, the feed's first line, the trade panel's word on the symbol)
while the tab's own click is not told twice; a holding changed outside the app stays on the
badge until the trader acknowledges it with the button."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from core.domain import ExternalChange
from core.service import Mode
from tests.browser.conftest import pytest_setup_options
from tests.browser.pages import (
    LOAD_SECONDS,
    TRADE_SECONDS,
    click,
    close_toast,
    css,
    enter_size,
    go_live,
    open_dashboard,
    table_rows,
    wait_for_state,
    wait_for_text_anywhere,
    wait_for_toast,
)
from web import ids

pytestmark = pytest.mark.browser

SYMBOL = "ETH/USDT"
CENT = Decimal("0.01")


def event_toast_shown(dash_duo) -> bool:
    return bool(dash_duo.find_elements(f"{css(ids.EVENT_TOAST)}.show"))


def text(dash_duo, component_id: str) -> str:
    """The component's text, read in one script: a refresh re-rendering it between finding
    and reading cannot leave a stale element behind."""
    return dash_duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
        css(component_id),
    )


def test_a_stop_fired_by_the_watcher_is_a_toast_and_the_feeds_first_line(
    dash_duo, runtime, demo_exchange
):
    runtime.start_background()  # the stop watcher, as `serve` runs it
    open_dashboard(dash_duo, runtime)
    enter_size(dash_duo, "20")
    click(dash_duo, ids.TRADE_BUY)
    wait_for_toast(dash_duo, f"Done: {SYMBOL} → LONG")
    toast = text(dash_duo, ids.TRADE_TOAST)
    assert ", fee " in toast and ": holds " in toast, toast  # the fee and its asset named
    wait_for_state(dash_duo, SYMBOL, "LONG")
    close_toast(dash_duo)
    wait_for_text_anywhere(dash_duo, ids.EVENT_FEED, f"Trade: {SYMBOL} → LONG")
    # the feed and the toast come in one answer: this tab's own click is no news to it
    assert not event_toast_shown(dash_duo)

    bid = runtime.service.reads.market(SYMBOL).bid
    stop = (bid * Decimal("0.98")).quantize(CENT)
    assert runtime.service.protection.protect(SYMBOL, mode=Mode.SIM, stop_loss=stop).ok
    demo_exchange.set_price(SYMBOL.replace("/", ""), f"{stop * Decimal('0.95'):.2f}")

    dash_duo.wait_for_contains_text(css(ids.EVENT_TOAST), "fired at bid", timeout=TRADE_SECONDS)
    shown = text(dash_duo, ids.EVENT_TOAST)
    assert "Stop fired · stop" in shown and f"{SYMBOL} stop-loss at" in shown, shown
    wait_for_state(dash_duo, SYMBOL, "NO_POSITION")
    header, first, *_ = table_rows(dash_duo, ids.EVENT_FEED)  # a DataTable: its head is a row
    assert header == ["Time", "Who", "Symbol", "What happened"]
    assert first[1:3] == ["stop", SYMBOL] and first[3].startswith("Stop fired: "), first
    dash_duo.wait_for_contains_text(
        css(ids.TRADE_STATUS), f"Stop fired: {SYMBOL} stop-loss at", timeout=LOAD_SECONDS
    )
    assert "LONG verified" not in text(dash_duo, ids.TRADE_STATUS)
    assert dash_duo.get_logs() == []


def test_a_change_outside_the_app_stays_on_the_badge_until_acknowledged(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    go_live(dash_duo)
    change = ExternalChange(
        "default", SYMBOL, Decimal("0.882"), Decimal("0.5"), Decimal("3400"), datetime.now(UTC)
    )
    runtime.service.wiring.observers.external_change(change)  # as a check finding it reports

    asked = "ETH changed outside the app \N{EN DASH} acknowledge"
    dash_duo.wait_for_contains_text(css(ids.MODE_DETAIL), asked, timeout=LOAD_SECONDS)
    dash_duo.wait_for_contains_text(
        css(ids.EVENT_TOAST), "ETH holdings changed outside the app", timeout=LOAD_SECONDS
    )
    dash_duo.wait_for_contains_text(css(ids.ACK_TEXT), "0.882", timeout=LOAD_SECONDS)

    click(dash_duo, ids.ACK_BUTTON)
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: asked not in text(dash_duo, ids.MODE_DETAIL),
        message="the badge still asks for an acknowledgement",
    )
    assert runtime.service.events.waiting() == []
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until_not(
        lambda driver: driver.find_elements("css selector", f"{css(ids.ACK_ALERT)}.show"),
        message="the acknowledged change is still asked about",
    )
    assert dash_duo.get_logs() == []


@pytest.fixture
def second_browser():
    """Another browser on the same page: a second tab that is never in the background
    (headless Chromium holds back a hidden tab's timers)."""
    browser = webdriver.Chrome(options=pytest_setup_options())
    yield browser
    browser.quit()


def test_another_tabs_click_is_news_on_this_tab(dash_duo, runtime, second_browser):
    open_dashboard(dash_duo, runtime)
    second_browser.get(dash_duo.server_url)
    WebDriverWait(second_browser, LOAD_SECONDS).until(
        lambda b: b.find_element(By.CSS_SELECTOR, css(ids.MODE_BADGE)).text == "SIM",
        message="the second tab never loaded",
    )

    enter_size(dash_duo, "20")
    click(dash_duo, ids.TRADE_BUY)
    wait_for_toast(dash_duo, f"Done: {SYMBOL} → LONG")

    WebDriverWait(
        second_browser,
        TRADE_SECONDS,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    ).until(
        lambda b: (
            f"manual: {SYMBOL} → LONG: bought"
            in b.find_element(By.CSS_SELECTOR, css(ids.EVENT_TOAST)).get_attribute("textContent")
        ),
        message="the other tab's trade never showed as a toast",
    )
    header = second_browser.find_element(By.CSS_SELECTOR, f"{css(ids.EVENT_TOAST)} .toast-header")
    assert "Trade · manual" in header.get_attribute("textContent")
    assert dash_duo.get_logs() == []
