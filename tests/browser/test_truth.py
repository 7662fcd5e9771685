"""The page tells the truth about the account at every moment: what a trader sees in real
Chromium, on the real app, with its demo exchange moved behind the app's back."""

from __future__ import annotations

import re
import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException

from tests.browser.pages import (
    LOAD_SECONDS,
    TRADE_SECONDS,
    badge_state,
    buttons_disabled,
    chart_traces,
    click,
    close_toast,
    confirmation,
    css,
    enter_size,
    go_live,
    open_dashboard,
    pnl_card,
    position_cells,
    press,
    record_badge_class,
    record_pnl_card,
    recorded_badge_classes,
    recorded_pnl_card,
    table_rows,
    wait_for_cell,
    wait_for_toast,
    wait_until,
)
from web import ids
from web.layout import REFRESH_MS

pytestmark = pytest.mark.browser

ETH, BTC = "ETH/USDT", "BTC/USDT"
SYMBOLS = (ETH, BTC)
START_EQUITY = "10,000.00 USDT"
TRADE_BUTTONS = (ids.TRADE_BUY, ids.TRADE_SELL, ids.TRADE_CLOSE)
# "A few seconds": one refresh tick, the callback's answer and a render.
ONE_REFRESH_SECONDS = 2 * REFRESH_MS / 1000 + 1
# How long a state must hold to count as kept: two more refresh ticks.
KEPT_SECONDS = 2 * REFRESH_MS / 1000 + 0.5
DISCONNECTED_SECONDS = 10
NEGATIVE_ZERO = re.compile(r"^-0\.00\b")
RUNNING = re.compile(r"^ETH/USDT → LONG running \(\d+ s\): \S")
DONE = re.compile(r"^Last trade, .*: Done: ETH/USDT → LONG")


def _balances(dash_duo) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in table_rows(dash_duo, ids.BALANCES_TABLE) if row}


def _balances_time(dash_duo) -> str:
    return dash_duo.find_element(css(ids.BALANCES_TIME)).get_attribute("textContent")


def _traces(dash_duo) -> list[str]:
    return chart_traces(dash_duo, ids.PRICE_CHART)


def _connection_class(dash_duo) -> str:
    return dash_duo.find_element(css(ids.CONNECTION)).get_attribute("class")


def _trade_status(dash_duo) -> str:
    return dash_duo.find_element(css(ids.TRADE_STATUS)).text


def _kept(condition, message: str, seconds: float = KEPT_SECONDS) -> None:
    """`condition` holds at every look for `seconds` (a state that must stay, not arrive);
    a look that meets an element being re-rendered is taken again."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            held = condition()
        except StaleElementReferenceException:
            continue
        assert held, message
        time.sleep(0.1)


def _buy(dash_duo, symbol: str, size: str) -> None:
    """BUY `symbol` from the page at `size` % of the free quote and wait for its toast."""
    if dash_duo.find_element(css(ids.SYMBOL_SELECT)).text != symbol:
        dash_duo.select_dcc_dropdown(css(ids.SYMBOL_SELECT), value=symbol)
        dash_duo.wait_for_contains_text(css(ids.SYMBOL_SELECT), symbol)
    enter_size(dash_duo, size)
    click(dash_duo, ids.TRADE_BUY)
    wait_for_toast(dash_duo, f"Done: {symbol} → LONG")
    close_toast(dash_duo)


def _shows_a_flat_cash_account(dash_duo) -> None:
    for symbol in SYMBOLS:
        row = position_cells(dash_duo, symbol)
        assert row["state"] == "NO_POSITION", f"a fresh {symbol} reads {row['state']!r}: {row}"
        assert "SHORT" not in " ".join(row.values()), row
    wait_until(
        dash_duo,
        lambda: pnl_card(dash_duo, "Equity") == START_EQUITY,
        lambda: f"the Equity card never read {START_EQUITY}: {pnl_card(dash_duo, 'Equity')}",
    )
    wait_until(
        dash_duo,
        lambda: (
            list(_balances(dash_duo)) == ["USDT"] and _balances(dash_duo)["USDT"][0] == "10,000"
        ),
        lambda: f"the Balances panel does not list USDT 10,000 alone: {_balances(dash_duo)}",
    )


def test_fresh_page_shows_no_open_short(dash_duo, runtime):
    """Item 1: a fresh account is flat, not an open SHORT; equity and balances show its cash
    (in SIM, and on the demo account once LIVE)."""
    open_dashboard(dash_duo, runtime)
    _shows_a_flat_cash_account(dash_duo)
    wait_until(
        dash_duo,
        lambda: _traces(dash_duo) == [ETH, "volume"],
        lambda: f"a fresh price chart is not the bare ETH chart: {_traces(dash_duo)}",
    )

    go_live(dash_duo)
    wait_until(
        dash_duo,
        lambda: _balances_time(dash_duo).startswith("read "),
        lambda: (
            f"the Balances panel does not say when the LIVE account was read: "
            f"{_balances_time(dash_duo)!r}"
        ),
        timeout=ONE_REFRESH_SECONDS,
    )
    _shows_a_flat_cash_account(dash_duo)
    assert dash_duo.get_logs() == []


def test_flat_after_close_shows_no_entry_and_no_negative_zero(dash_duo, runtime):
    """Item 2: after BUY then CLOSE no row shows an entry or unrealized PnL, and the
    Unrealized PnL card never reads -0.00."""
    open_dashboard(dash_duo, runtime)
    record_pnl_card(dash_duo, "Unrealized PnL")
    _buy(dash_duo, ETH, "50")
    wait_for_cell(dash_duo, ETH, "state", "LONG")

    click(dash_duo, ids.TRADE_CLOSE)
    wait_for_toast(dash_duo, f"Done: {ETH} → NO_POSITION")
    wait_for_cell(dash_duo, ETH, "state", "NO_POSITION")
    # prices move every second: the card is watched through two more refreshes
    time.sleep(KEPT_SECONDS)
    for symbol in SYMBOLS:
        row = position_cells(dash_duo, symbol)
        assert row["state"] == "NO_POSITION", row
        assert row["avg_entry"] == "—", f"{symbol} is flat but shows an entry: {row}"
        assert row["unrealized"] == "—", f"{symbol} is flat but shows unrealized PnL: {row}"
        assert row["qty"] == "—" or row["qty"].startswith("dust "), f"{symbol}: {row}"
    shown = recorded_pnl_card(dash_duo, "Unrealized PnL")
    assert shown, "the Unrealized PnL card was never seen"
    assert not [text for text in shown if NEGATIVE_ZERO.match(text)], shown
    assert dash_duo.get_logs() == []


def test_going_live_shows_the_live_account_at_once(dash_duo, runtime):
    """Item 3: right after going LIVE the Equity card shows the demo account (never 0.00)
    and the price chart drops the SIM fill markers."""
    open_dashboard(dash_duo, runtime)
    _buy(dash_duo, ETH, "50")
    wait_until(
        dash_duo,
        lambda: _traces(dash_duo) == [ETH, "volume", "buys", "entry"],
        lambda: f"the SIM BUY is not marked on the price chart: {_traces(dash_duo)}",
    )
    wait_until(
        dash_duo,
        lambda: pnl_card(dash_duo, "Equity") not in (None, START_EQUITY),
        "the SIM equity never moved off its start after the BUY (fees)",
    )
    record_pnl_card(dash_duo, "Equity")

    press(dash_duo, dash_duo.find_element(css(ids.MODE_SWITCH)))
    confirmation(dash_duo).accept()
    accepted = time.monotonic()
    wait_until(
        dash_duo,
        lambda: pnl_card(dash_duo, "Equity") == START_EQUITY,
        lambda: (
            f"the Equity card did not show the demo account's {START_EQUITY} after going "
            f"LIVE; it showed {recorded_pnl_card(dash_duo, 'Equity')}"
        ),
        timeout=ONE_REFRESH_SECONDS,
    )
    took = time.monotonic() - accepted
    dash_duo.wait_for_text_to_equal(css(ids.MODE_BADGE), "LIVE+SYNC", timeout=LOAD_SECONDS)
    wait_until(
        dash_duo,
        lambda: "buys" not in _traces(dash_duo),
        lambda: f"the LIVE price chart still marks the SIM fills: {_traces(dash_duo)}",
        timeout=ONE_REFRESH_SECONDS,
    )
    _kept(
        lambda: (
            _traces(dash_duo) == [ETH, "volume"] and pnl_card(dash_duo, "Equity") == START_EQUITY
        ),
        "the LIVE page went back to SIM values",
    )
    shown = recorded_pnl_card(dash_duo, "Equity")
    assert not [text for text in shown if text.startswith("0.00")], (shown, took)
    assert dash_duo.get_logs() == []


def test_drift_keeps_the_badge_amber_until_repaired(dash_duo, runtime, demo_exchange):
    """Item 4: drift on ETH keeps the badge amber through a BTC trade. ETH emptied behind the
    app's back is also a change outside the app, which the badge names first and keeps until
    the trader acknowledges it: a trade that repairs ETH and the acknowledgement turn it
    green."""
    open_dashboard(dash_duo, runtime)
    press(dash_duo, dash_duo.find_element(css(ids.MODE_SWITCH)))
    confirmation(dash_duo).accept()
    dash_duo.wait_for_text_to_equal(css(ids.MODE_BADGE), "LIVE+SYNC", timeout=LOAD_SECONDS)
    _buy(dash_duo, ETH, "30")
    wait_for_cell(dash_duo, ETH, "state", "LONG")

    demo_exchange.set_balances({"ETH": "0"})  # behind the app's back
    runtime.service.monitoring.periodic_check()  # as the scheduler runs it
    wait_until(
        dash_duo,
        lambda: "bg-warning" in badge_state(dash_duo)[1],
        lambda: f"the badge did not turn amber on drift: {badge_state(dash_duo)}",
    )
    assert "ETH changed outside the app" in badge_state(dash_duo)[2], badge_state(dash_duo)
    wait_until(
        dash_duo,
        lambda: position_cells(dash_duo, ETH)["sync"] == "drift",
        lambda: f"the ETH row does not say drift: {position_cells(dash_duo, ETH)}",
    )

    record_badge_class(dash_duo)
    _buy(dash_duo, BTC, "30")
    wait_until(
        dash_duo,
        lambda: (
            (btc := position_cells(dash_duo, BTC))["state"] == "LONG" and btc["sync"] == "in sync"
        ),
        lambda: f"the BTC row did not show the BUY: {position_cells(dash_duo, BTC)}",
        timeout=TRADE_SECONDS,
    )
    _kept(
        lambda: "bg-warning" in badge_state(dash_duo)[1],
        "the badge left amber after a BTC trade while ETH still drifts",
    )
    classes = recorded_badge_classes(dash_duo)
    assert classes and all("bg-warning" in c for c in classes), (
        f"the badge was not amber all through the BTC trade: {classes}"
    )
    assert position_cells(dash_duo, ETH)["sync"] == "drift", position_cells(dash_duo, ETH)
    assert "ETH changed outside the app" in badge_state(dash_duo)[2], badge_state(dash_duo)

    _buy(dash_duo, ETH, "30")  # repairs ETH
    wait_for_cell(dash_duo, ETH, "sync", "in sync")
    assert "bg-warning" in badge_state(dash_duo)[1], "green before the change was acknowledged"
    dash_duo.find_element(css(ids.ACK_BUTTON)).click()
    wait_until(
        dash_duo,
        lambda: "bg-success" in badge_state(dash_duo)[1],
        lambda: f"the badge did not turn green once ETH was repaired: {badge_state(dash_duo)}",
    )
    wait_for_cell(dash_duo, ETH, "sync", "in sync")
    assert badge_state(dash_duo)[0] == "LIVE+SYNC"


def test_stopped_server_shows_disconnected(dash_duo, runtime):
    """Item 5: a stopped server turns the badge DISCONNECTED within 10 s."""
    open_dashboard(dash_duo, runtime)
    disconnected = dash_duo.find_element(css(ids.DISCONNECTED_BADGE))
    assert not disconnected.is_displayed(), "DISCONNECTED shows while the server answers"
    _kept(
        lambda: "disconnected" not in _connection_class(dash_duo).split(),
        "the page says disconnected while its server answers",
    )

    stopped = time.monotonic()
    dash_duo.server.stop()
    wait_until(
        dash_duo,
        lambda: (
            dash_duo.find_element(css(ids.DISCONNECTED_BADGE)).is_displayed()
            and not dash_duo.find_element(css(ids.MODE_BADGE)).is_displayed()
        ),
        lambda: (
            f"DISCONNECTED did not replace the badge within {DISCONNECTED_SECONDS} s of the "
            f"server stopping: #connection class is {_connection_class(dash_duo)!r}"
        ),
        timeout=DISCONNECTED_SECONDS - (time.monotonic() - stopped),
    )
    assert "disconnected" in _connection_class(dash_duo).split(), _connection_class(dash_duo)
    assert dash_duo.find_element(css(ids.DISCONNECTED_BADGE)).text == "DISCONNECTED"


STATUS_SCRIPT = """
return [document.getElementById(arguments[0]).textContent,
        arguments[1].map(id => document.getElementById(id).disabled)];
"""


def _running(dash_duo) -> tuple[str, list[bool]] | None:
    """The status line and the buttons' disabled flags, read in one script, once the line
    says the trade is running with its step."""
    status, disabled = dash_duo.driver.execute_script(
        STATUS_SCRIPT, ids.TRADE_STATUS, list(TRADE_BUTTONS)
    )
    return (status, disabled) if RUNNING.match(status) else None


def test_reload_during_a_slow_trade_shows_it_then_its_result(dash_duo, runtime, demo_exchange):
    """Item 6: a reload while a slow trade runs shows it running (its step, buttons
    disabled), then its result with the buttons enabled. LIVE, every exchange call 600 ms
    late and the order left resting until the reloaded page has been seen: the trade
    outlasts the reload however slow the machine is."""
    open_dashboard(dash_duo, runtime)
    go_live(dash_duo)
    demo_exchange.faults({"latency_ms": 600, "stall_fills": True})
    click(dash_duo, ids.TRADE_BUY)
    for button in TRADE_BUTTONS:
        dash_duo.wait_for_element_by_css_selector(f"{css(button)}[disabled]", LOAD_SECONDS)
    dash_duo.driver.refresh()

    status, disabled = wait_until(
        dash_duo,
        lambda: _running(dash_duo),
        lambda: (
            "the reloaded page never showed the trade running with its step: "
            f"{_trade_status(dash_duo)!r}"
        ),
        timeout=TRADE_SECONDS,
    )
    assert all(disabled), f"trade buttons enabled while the page says {status!r}: {disabled}"

    demo_exchange.faults({"stall_fills": False})  # the resting order fills: the trade ends
    wait_until(
        dash_duo,
        lambda: DONE.match(_trade_status(dash_duo)),
        lambda: f"the trade's result never showed: {_trade_status(dash_duo)!r}",
        timeout=TRADE_SECONDS,
    )
    wait_until(
        dash_duo,
        lambda: not any(buttons_disabled(dash_duo, TRADE_BUTTONS)),
        lambda: (
            "the buttons stayed disabled after the trade ended: "
            f"{buttons_disabled(dash_duo, TRADE_BUTTONS)}"
        ),
    )
    demo_exchange.clear_faults()
    wait_for_cell(dash_duo, ETH, "state", "LONG")


def test_comma_size_is_refused_and_nothing_is_written(dash_duo, runtime):
    """Item 7: `1,5` is refused next to the field and nothing is written."""
    open_dashboard(dash_duo, runtime)
    enter_size(dash_duo, "1,5", "quote")
    click(dash_duo, ids.TRADE_BUY)
    dash_duo.wait_for_contains_text(
        css(ids.ORDER_SIZE_FEEDBACK), "use a dot for decimals", timeout=TRADE_SECONDS
    )
    field_class = dash_duo.find_element(css(ids.ORDER_SIZE)).get_attribute("class")
    assert "is-invalid" in field_class.split(), field_class
    assert not dash_duo.find_elements(f"{css(ids.TRADE_TOAST)}.show"), "a toast showed"
    view = runtime.service.reads.dashboard()
    assert view.orders == [] and view.fills == [], (view.orders, view.fills)
    assert view.trades == [], view.trades
    assert position_cells(dash_duo, ETH)["qty"] == "—", position_cells(dash_duo, ETH)


FIT_SCRIPT = """
const table = document.getElementById(arguments[0]);
const boxes = [table, ...table.querySelectorAll('*')].filter(
    el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX) || el === table
);
return {
    viewport: window.innerWidth,
    page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
    boxes: boxes.map(el => [el.className || el.id, el.scrollWidth, el.clientWidth]),
};
"""
SCREENSHOT = "/tmp/truth-1366.png"


def test_positions_table_fits_1366_wide(dash_duo, runtime):
    """Item 8: the positions table fits 1366 px wide without sideways scrolling."""
    dash_duo.driver.set_window_size(1366, 900)
    open_dashboard(dash_duo, runtime)
    _buy(dash_duo, ETH, "50")  # a held row has its widest texts
    wait_for_cell(dash_duo, ETH, "state", "LONG")
    fit = dash_duo.driver.execute_script(FIT_SCRIPT, ids.POSITIONS_TABLE)
    assert fit["viewport"] == 1366, fit
    dash_duo.driver.save_screenshot(SCREENSHOT)
    overflowing = [box for box in fit["boxes"] if box[1] > box[2]]
    assert not overflowing, f"the positions table scrolls sideways at 1366 px: {fit}"
    assert fit["page"][0] <= fit["page"][1], f"the page scrolls sideways: {fit}"
