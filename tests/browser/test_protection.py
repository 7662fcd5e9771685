"""Protection between clicks on the real app (local demo exchange, SIM), in headless
Chromium: a stop set beside the trade buttons shows on its row and fires once when the
price crosses it; the kill switch asks first, naming the account, then flattens and halts
until the trader resumes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from core.service import Mode
from tests.browser.pages import (
    TRADE_SECONDS,
    click,
    close_toast,
    confirmation,
    css,
    enter_size,
    open_dashboard,
    position_row,
    wait_for_state,
    wait_for_toast,
)
from web import ids

pytestmark = pytest.mark.browser

SYMBOL = "ETH/USDT"
STOP_COLUMN = 7
CENT = Decimal("0.01")


def buy(dash_duo, percent: str = "20") -> None:
    enter_size(dash_duo, percent)
    click(dash_duo, ids.TRADE_BUY)
    wait_for_toast(dash_duo, f"Done: {SYMBOL} → LONG")
    wait_for_state(dash_duo, SYMBOL, "LONG")
    close_toast(dash_duo)


def type_into(dash_duo, component_id: str, text: str) -> None:
    field = dash_duo.find_element(css(component_id))
    dash_duo.clear_input(field)
    field.send_keys(text)


def test_a_stop_set_beside_the_buttons_shows_on_its_row_and_fires_once(
    dash_duo, runtime, demo_exchange
):
    runtime.start_background()  # the stop watcher, as `serve` runs it
    open_dashboard(dash_duo, runtime)
    buy(dash_duo)
    bid = runtime.service.reads.market(SYMBOL).bid
    stop = (bid * Decimal("0.98")).quantize(CENT)

    type_into(dash_duo, ids.STOP_LOSS, f"{stop}")
    click(dash_duo, ids.STOP_SET)
    WebDriverWait(dash_duo.driver, TRADE_SECONDS).until(
        lambda _d: position_row(dash_duo, SYMBOL)[STOP_COLUMN].startswith(f"{stop:,}"),
        message="the stop never showed on the row",
    )
    shown = position_row(dash_duo, SYMBOL)[STOP_COLUMN]
    assert shown.endswith("· app"), shown  # app-side on spot, with its distance between
    assert "%" in shown, shown

    demo_exchange.set_price(SYMBOL.replace("/", ""), f"{stop * Decimal('0.95'):.2f}")
    flat = wait_for_state(dash_duo, SYMBOL, "NO_POSITION")
    assert flat[STOP_COLUMN] == "—", flat  # the stop is done, not shown as still guarding

    runs = runtime.service.reads.dashboard().sync_runs
    fired = [r for r in runs if r.symbol == SYMBOL and r.target == "NO_POSITION"]
    assert len(fired) == 1, [(r.kind, r.target, r.message) for r in runs]
    assert dash_duo.get_logs() == []


def test_a_stop_on_the_wrong_side_is_refused_beside_the_field(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    buy(dash_duo)
    ask = runtime.service.reads.market(SYMBOL).ask
    type_into(dash_duo, ids.STOP_LOSS, f"{(ask * 2).quantize(CENT)}")
    click(dash_duo, ids.STOP_SET)
    dash_duo.wait_for_contains_text(css(ids.STOP_FEEDBACK), "below", timeout=TRADE_SECONDS)
    assert position_row(dash_duo, SYMBOL)[STOP_COLUMN] == "—"


def test_the_kill_switch_asks_naming_the_account_then_halts_until_resume(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    buy(dash_duo)

    assert dash_duo.find_element(css(ids.RESUME)).get_attribute("disabled"), "nothing to resume"
    click(dash_duo, ids.FLATTEN)
    question = confirmation(dash_duo)
    assert "account default" in question.text and "halted" in question.text, question.text
    question.accept()
    wait_for_state(dash_duo, SYMBOL, "NO_POSITION")
    dash_duo.wait_for_text_to_equal(css(ids.MODE_BADGE), "HALTED", timeout=TRADE_SECONDS)

    # a halted book takes no click: the buttons say so on themselves
    dash_duo.wait_for_contains_text(
        css(ids.TRADE_BLOCKED), "halted by flatten", timeout=TRADE_SECONDS
    )
    assert dash_duo.find_element(css(ids.TRADE_BUY)).get_attribute("disabled")
    assert position_row(dash_duo, SYMBOL)[1] == "NO_POSITION"

    click(dash_duo, ids.RESUME)
    question = confirmation(dash_duo)
    assert "Resume trading on account default" in question.text, question.text
    question.accept()
    dash_duo.wait_for_text_to_equal(css(ids.MODE_BADGE), "SIM", timeout=TRADE_SECONDS)
    buy(dash_duo)
    assert dash_duo.get_logs() == []


def test_a_flatten_answered_after_the_mode_switched_does_nothing(dash_duo, runtime):
    """The question named SIM; another tab went LIVE before the trader said yes: the answer
    flattens nothing and halts nothing, and says why."""
    open_dashboard(dash_duo, runtime)
    buy(dash_duo)
    click(dash_duo, ids.FLATTEN)
    question = confirmation(dash_duo)
    assert "(SIM)" in question.text, question.text
    assert runtime.service.modes.request(Mode.LIVE).ok
    question.accept()
    dash_duo.wait_for_contains_text(
        css(ids.PROTECTION_MESSAGE), "Nothing was done", timeout=TRADE_SECONDS
    )
    message = dash_duo.find_element(css(ids.PROTECTION_MESSAGE)).text
    assert "LIVE now, not the SIM you were asked about" in message, message
    for mode in Mode:
        assert runtime.service.kill_switch.halted("default", mode) is None
    runtime.service.modes.request(Mode.SIM)
    wait_for_state(dash_duo, SYMBOL, "LONG")  # the SIM position was left as it was
