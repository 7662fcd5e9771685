"""The ticket on the real app (local demo exchange, SIM) in headless Chromium: a partial
close from the page, the keyboard shortcuts (a key only asks; Esc cancels; nothing while
typing), and the page telling its own state: a halted book's buttons are disabled with the
reason on them, a page that lost its server greys its figures with their age and disables
every button, the toasts cover nothing, and the kill switch is in sight at 1366x768."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from core.service import Mode
from tests.browser.pages import (
    LOAD_SECONDS,
    TRADE_SECONDS,
    buttons_disabled,
    click,
    close_toast,
    css,
    enter_size,
    fit_1366x768,
    open_dashboard,
    position_cells,
    wait_for_state,
    wait_for_toast,
    wait_until,
)
from web import ids

pytestmark = pytest.mark.browser

SYMBOL = "ETH/USDT"
TRADE_BUTTONS = (ids.TRADE_BUY, ids.TRADE_SELL, ids.TRADE_CLOSE)
STEP = Decimal("0.00001")  # ETH/USDT's amount step on the demo exchange


def held(runtime) -> Decimal:
    [row] = [p for p in runtime.service.reads.dashboard().positions if p.symbol == SYMBOL]
    return row.qty


def type_into(dash_duo, component_id: str, text: str) -> None:
    field = dash_duo.find_element(css(component_id))
    dash_duo.clear_input(field)
    field.send_keys(text)


def buy(dash_duo) -> None:
    enter_size(dash_duo, "20")
    click(dash_duo, ids.TRADE_BUY)
    wait_for_toast(dash_duo, f"Done: {SYMBOL} → LONG")
    wait_for_state(dash_duo, SYMBOL, "LONG")
    close_toast(dash_duo)


def press(dash_duo, key: str) -> None:
    """A key pressed on the page itself (focus on nothing that takes text), once Dash's
    renderer can take what keys.js hands it."""
    wait_until(
        dash_duo,
        lambda: dash_duo.driver.execute_script(
            "return Boolean(window.dash_clientside && window.dash_clientside.set_props)"
        ),
        "Dash's renderer never offered set_props to the key handler",
    )
    dash_duo.driver.execute_script("document.activeElement && document.activeElement.blur()")
    dash_duo.find_element("body").send_keys(key)


def dialog_open(dash_duo) -> bool:
    return bool(dash_duo.driver.find_elements(By.CSS_SELECTOR, ".modal.show"))


OVERLAP_SCRIPT = """
const box = document.getElementById(arguments[0]).getBoundingClientRect();
const others = document.querySelectorAll('table, .dash-table-container, #' + arguments[1]);
return Array.from(others).filter(el => {
    const r = el.getBoundingClientRect();
    return r.width && r.height && box.left < r.right && r.left < box.right
        && box.top < r.bottom && r.top < box.bottom;
}).map(el => el.id || el.className);
"""


def test_a_part_closed_from_the_page_leaves_the_rest_long(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    buy(dash_duo)
    before = held(runtime)

    type_into(dash_duo, ids.EXIT_PART, "0,5")
    click(dash_duo, ids.TRADE_CLOSE)
    dash_duo.wait_for_contains_text(css(ids.EXIT_PART_FEEDBACK), "use a dot", LOAD_SECONDS)
    assert held(runtime) == before  # nothing was sent

    type_into(dash_duo, ids.EXIT_PART, "50")
    click(dash_duo, ids.TRADE_CLOSE)
    wait_for_toast(dash_duo, "sold")
    wait_for_toast(dash_duo, "state LONG verified")
    rest = before - (before / 2).quantize(STEP, rounding=ROUND_FLOOR)
    assert held(runtime) == rest
    shown = wait_until(  # the row shows the rest (to its own decimals)
        dash_duo,
        lambda: abs(Decimal(position_cells(dash_duo, SYMBOL)["qty"]) - rest) < STEP,
        lambda: f"the row never showed {rest}: {position_cells(dash_duo, SYMBOL)}",
    )
    assert shown
    assert position_cells(dash_duo, SYMBOL)["state"] == "LONG"
    # the toast sits in the ticket's flow: it covers no table and not the kill switch's answer
    assert (
        dash_duo.driver.execute_script(OVERLAP_SCRIPT, ids.TRADE_TOAST, ids.PROTECTION_MESSAGE)
        == []
    )

    type_into(dash_duo, ids.EXIT_PART, "99.999")  # a rest below the market's minimum
    click(dash_duo, ids.TRADE_CLOSE)
    dash_duo.wait_for_contains_text(
        css(ids.EXIT_PART_FEEDBACK), "close it all instead", TRADE_SECONDS
    )
    assert held(runtime) == rest
    assert dash_duo.get_logs() == []


def test_keys_open_the_confirmation_and_only_its_button_sends(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    assert (
        "B buy · S sell · C close · Esc cancel" in dash_duo.find_element(css(ids.KEY_LEGEND)).text
    )

    press(dash_duo, "b")
    dash_duo.wait_for_contains_text(css(ids.KEY_CONFIRM_TITLE), f"BUY {SYMBOL}?", LOAD_SECONDS)
    body = dash_duo.find_element(css(ids.KEY_CONFIRM_BODY)).text
    assert "in SIM" in body and "10 % of free USDT" in body, body
    dash_duo.find_element("body").send_keys(Keys.ESCAPE)
    wait_until(dash_duo, lambda: not dialog_open(dash_duo), "Esc did not close the dialog")
    assert held(runtime) == 0  # a key alone sent nothing

    # typing a `b` or a `c` in a field is typing, not a shortcut
    field = dash_duo.find_element(css(ids.STOP_LOSS))
    field.send_keys("bc")
    assert not dialog_open(dash_duo)
    dash_duo.clear_input(field)

    press(dash_duo, "b")
    wait_until(dash_duo, lambda: dialog_open(dash_duo), "B did not open the dialog")
    dash_duo.find_element(css(ids.KEY_SEND)).click()
    wait_for_toast(dash_duo, f"Done: {SYMBOL} → LONG")
    wait_for_state(dash_duo, SYMBOL, "LONG")
    wait_until(dash_duo, lambda: not dialog_open(dash_duo), "the dialog stayed open")

    wait_until(dash_duo, lambda: not any(buttons_disabled(dash_duo, TRADE_BUTTONS)), "busy")
    press(dash_duo, "c")
    dash_duo.wait_for_contains_text(css(ids.KEY_CONFIRM_TITLE), f"CLOSE {SYMBOL}?", LOAD_SECONDS)
    assert "Sells it all" in dash_duo.find_element(css(ids.KEY_CONFIRM_BODY)).text
    dash_duo.find_element(css(ids.KEY_CANCEL)).click()
    wait_until(dash_duo, lambda: not dialog_open(dash_duo), "Cancel did not close the dialog")
    assert position_cells(dash_duo, SYMBOL)["state"] == "LONG"
    assert dash_duo.get_logs() == []


BUTTONS_SCRIPT = """
return arguments[0].map(id => {
    const b = document.getElementById(id);
    return [b.disabled, b.textContent, b.title];
});
"""


def test_a_halted_book_disables_the_buttons_with_the_reason_on_them(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    buy(dash_duo)
    [outcome] = runtime.service.kill_switch.flatten(["default"], Mode.SIM)
    assert outcome.ok, outcome.message

    wait_until(dash_duo, lambda: all(buttons_disabled(dash_duo, TRADE_BUTTONS)), "not disabled")
    for disabled, text, title in dash_duo.driver.execute_script(BUTTONS_SCRIPT, TRADE_BUTTONS):
        assert disabled and text.endswith("halted"), text
        assert title.startswith("Trading halted by flatten at"), title
        assert title.endswith("; Resume to trade"), title
    blocked = dash_duo.find_element(css(ids.TRADE_BLOCKED)).text
    assert blocked.startswith("Trading halted by flatten at") and "Resume to trade" in blocked
    press(dash_duo, "b")
    press(dash_duo, "c")
    assert not dialog_open(dash_duo)  # a key does not open what a click could not send
    assert not dash_duo.find_element(css(ids.RESUME)).get_attribute("disabled")

    runtime.service.kill_switch.resume("default", Mode.SIM)
    wait_until(dash_duo, lambda: not any(buttons_disabled(dash_duo, TRADE_BUTTONS)), "still off")
    assert dash_duo.find_element(css(ids.TRADE_BUY)).text == "BUY"
    assert dash_duo.find_element(css(ids.TRADE_BLOCKED)).text == ""


STATE_SCRIPT = """
const strip = document.getElementById(arguments[0]);
const buttons = Array.from(document.querySelectorAll('button:not(.btn-close)'));
return {
    page: document.body.className,
    stale: strip.getAttribute('data-stale'),
    enabled: buttons.filter(b => !b.disabled).map(b => b.id || b.textContent),
    titles: arguments[1].map(id => document.getElementById(id).title),
};
"""


def test_a_page_without_its_server_greys_its_figures_and_disables_every_button(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*_dash-update-component*"]})
    try:
        dash_duo.wait_for_element_by_css_selector(
            f"{css(ids.DISCONNECTED_BADGE)}", timeout=LOAD_SECONDS
        )
        state = wait_until(
            dash_duo,
            lambda: (
                (s := driver.execute_script(STATE_SCRIPT, ids.MARKET_STRIP, TRADE_BUTTONS))["stale"]
                and s
            ),
            "the page never said it was disconnected",
        )
        assert "page-disconnected" in state["page"]
        assert state["stale"].startswith("as of ") and state["stale"].endswith(" s ago"), state
        assert state["enabled"] == [], state
        for title in state["titles"]:
            assert "server has not answered" in title and "nothing can be sent" in title
        assert dash_duo.find_element(css(ids.DISCONNECTED_BADGE)).is_displayed()
        press(dash_duo, "b")
        assert not dialog_open(dash_duo)
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})

    wait_until(
        dash_duo,
        lambda: not any(buttons_disabled(dash_duo, TRADE_BUTTONS)),
        "the buttons stayed disabled after the server answered again",
    )
    state = driver.execute_script(STATE_SCRIPT, ids.MARKET_STRIP, TRADE_BUTTONS)
    assert state["stale"] is None and "page-disconnected" not in state["page"]
    assert dash_duo.find_element(css(ids.RESUME)).get_attribute("disabled")  # as the page had it
    buy(dash_duo)


def test_the_kill_switch_is_in_sight_at_1366x768(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    fit_1366x768(dash_duo)
    driver = dash_duo.driver
    driver.execute_script("window.scrollTo(0, 0)")
    bottom = driver.execute_script(
        "return document.getElementById(arguments[0]).getBoundingClientRect().bottom",
        ids.FLATTEN,
    )
    assert 0 < bottom <= 768, bottom
