"""What a trader does on the dashboard, in selenium steps the tests share."""

from __future__ import annotations

import contextlib

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.alert import Alert
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from web import ids

LOAD_SECONDS = 30
TRADE_SECONDS = 120  # a trade on a loaded machine (CI runs several browsers at once)

# how every headless Chromium here starts (the browser tests' and the page benches')
CHROME_ARGUMENTS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1440,1000",
    # Bootstrap scrolls smoothly unless reduced motion is asked: selenium scrolls an element
    # into view and clicks at once, where it was before the scroll ended
    "--force-prefers-reduced-motion",
)


def css(component_id: str) -> str:
    return f"#{component_id}"


def open_dashboard(dash_duo, runtime) -> None:
    dash_duo.start_server(runtime.dash_app)
    dash_duo.wait_for_text_to_equal(css(ids.MODE_BADGE), "SIM", timeout=LOAD_SECONDS)
    dash_duo.wait_for_contains_text(css(ids.POSITIONS_TABLE), "ETH/USDT", timeout=LOAD_SECONDS)


def enter_size(dash_duo, amount: str, unit: str = "pct") -> None:
    Select(dash_duo.find_element(css(ids.ORDER_SIZE_UNIT))).select_by_value(unit)
    field = dash_duo.find_element(css(ids.ORDER_SIZE))
    dash_duo.clear_input(field)
    if amount:
        field.send_keys(amount)


def click(dash_duo, component_id: str) -> None:
    """Click once the button is enabled: a trade that is still running disables them all."""
    dash_duo.wait_for_element_by_css_selector(f"{css(component_id)}:not([disabled])")
    press(dash_duo, dash_duo.find_element(css(component_id)))


def press(dash_duo, element) -> None:
    """Click an element brought to the middle of the window at once (Bootstrap scrolls
    smoothly; selenium's own scrolling leaves it at the bottom edge, under whatever the
    page draws there)."""
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )
    element.click()


ROWS_SCRIPT = """
return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr'))
    .map(row => Array.from(row.cells).map(cell => cell.textContent));
"""


def table_rows(dash_duo, component_id: str) -> list[list[str]]:
    """The cells' text of every body row of a table (or of the table inside a component)."""
    return dash_duo.driver.execute_script(ROWS_SCRIPT, css(component_id))


def position_row(dash_duo, symbol: str) -> list[str]:
    """The cells of `symbol`'s row in the positions table, read in one script so a refresh
    that re-renders the table cannot leave half a row behind."""
    rows = table_rows(dash_duo, ids.POSITIONS_TABLE)
    for cells in rows:
        if cells and cells[0] == symbol:
            return cells
    raise AssertionError(f"no row for {symbol} in the positions table: {rows}")


def wait_for_state(dash_duo, symbol: str, state_label: str) -> list[str]:
    """Wait until `symbol`'s row shows `state_label`; returns the row's cells."""
    WebDriverWait(dash_duo.driver, TRADE_SECONDS, ignored_exceptions=(AssertionError,)).until(
        lambda _driver: position_row(dash_duo, symbol)[1] == state_label,
        message=f"{symbol} never showed {state_label}",
    )
    return position_row(dash_duo, symbol)


TOAST_TEXT = f"const t = document.getElementById({ids.TRADE_TOAST!r}); return t && t.textContent;"


def wait_for_toast(dash_duo, text: str) -> None:
    """Until the trade toast shows `text`, or has shown it since the wait began (it closes
    by itself after TOAST_MS). On timeout it says every text the toast showed meanwhile:
    a "Failed" toast tells why the trade failed, and it is gone long before the wait ends."""
    record(dash_duo, "trade-toast", TOAST_TEXT)

    def shown() -> list[str]:
        return [*recorded(dash_duo, "trade-toast"), dash_duo.driver.execute_script(TOAST_TEXT)]

    wait_until(
        dash_duo,
        lambda: any(text in seen for seen in shown() if seen),
        lambda: f"the trade toast never showed {text!r}; it showed {shown()}",
        timeout=TRADE_SECONDS,
    )


def shown_text(dash_duo, element_id: str = ids.TRADE_TOAST) -> str:
    """The text of a toast or alert once it shows; empty while it fades in, which Selenium
    reads as not displayed. One drawn anew between finding it and reading it is read again."""
    for _ in range(3):
        shown = dash_duo.find_elements(f"{css(element_id)}.show")
        with contextlib.suppress(StaleElementReferenceException):
            return shown[0].text if shown else ""
    return ""


def close_toast(dash_duo) -> None:
    """Until the trade toast is gone: its close button clicked while it shows. The toast may
    close by itself first (after TOAST_MS) or be drawn anew by a callback between finding
    its button and clicking it; either way the step is done when no toast shows."""

    def gone(driver) -> bool:
        shown = driver.find_elements(By.CSS_SELECTOR, f"{css(ids.TRADE_TOAST)}.show")
        if not shown:
            return True
        with contextlib.suppress(NoSuchElementException, StaleElementReferenceException):
            shown[0].find_element(By.CSS_SELECTOR, ".btn-close").click()
        return False

    WebDriverWait(dash_duo.driver, LOAD_SECONDS, poll_frequency=0.2).until(gone)


def confirmation(dash_duo) -> Alert:
    """The browser's confirm dialog (dcc.ConfirmDialog), once it shows."""
    return WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        expected_conditions.alert_is_present()
    )


def go_live(dash_duo) -> str:
    """Switch simulation off and accept the confirmation; returns the question it asked."""
    press(dash_duo, dash_duo.find_element(css(ids.MODE_SWITCH)))
    alert = confirmation(dash_duo)
    question = alert.text
    alert.accept()
    dash_duo.wait_for_text_to_equal(css(ids.MODE_BADGE), "LIVE+SYNC", timeout=LOAD_SECONDS)
    return question


def open_tab(dash_duo, label: str) -> None:
    """Show a tab (a page or a history table) by the text of its link. Clicked by script:
    headless Chromium's viewport is shorter than its window, so selenium may aim a click at
    a link below the visible part and hit nothing."""
    link = dash_duo.driver.find_element(By.LINK_TEXT, label)
    dash_duo.driver.execute_script("arguments[0].click()", link)
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda driver: "active" in driver.find_element(By.LINK_TEXT, label).get_attribute("class"),
        message=f"the {label!r} tab did not open",
    )


def last_price(dash_duo) -> str | None:
    """Read in one script call: the strip is redrawn every tick, so an element found first
    and read after could be a stale one."""
    selector = f"{css(ids.MARKET_STRIP)} .stat-value-large"
    return dash_duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;", selector
    )


def wait_for_text_anywhere(dash_duo, component_id: str, text: str) -> None:
    """Like wait_for_contains_text, but also for a table in a tab that is not showing."""
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        lambda _d: text in dash_duo.find_element(css(component_id)).get_attribute("textContent"),
        message=f"{text!r} never appeared in #{component_id}",
    )


TRACES_SCRIPT = """
const plot = document.querySelector(arguments[0] + ' .js-plotly-plot');
return plot && plot.data ? plot.data.map(trace => trace.name || trace.type) : [];
"""


def chart_traces(dash_duo, component_id: str) -> list[str]:
    """Names of the traces a dcc.Graph is drawing now."""
    return dash_duo.driver.execute_script(TRACES_SCRIPT, css(component_id))


# --- helpers for test_truth.py -------------------------------------------------------------

CARD_SCRIPT = """
for (const card of document.querySelectorAll(arguments[0] + ' .pnl-card')) {
    const label = card.querySelector('.stat-label');
    if (label && label.textContent.trim() === arguments[1]) {
        return card.querySelector('.pnl-value').textContent;
    }
}
return null;
"""


def pnl_card(dash_duo, label: str) -> str | None:
    """The value a PnL card (Equity, Realized PnL, Unrealized PnL, Fees paid) shows now."""
    return dash_duo.driver.execute_script(CARD_SCRIPT, css(ids.PNL_CARDS), label)


RECORD_SCRIPT = """
const [name, expression] = arguments;
window.__recorded = window.__recorded || {};
const seen = window.__recorded[name] = [];
const read = new Function(expression);
const note = () => {
    let value;
    try { value = read(); } catch (error) { value = null; }
    if (value !== null && value !== undefined && seen[seen.length - 1] !== value) {
        seen.push(value);
    }
};
note();
new MutationObserver(note).observe(
    document.body, {childList: true, subtree: true, characterData: true, attributes: true}
);
"""


def record(dash_duo, name: str, expression: str) -> None:
    """From now until the page reloads, note under `name` every distinct value the script
    `expression` (a function body with a return) gives after each change of the page: a
    MutationObserver reads it before the change is painted, so no value shown goes unseen."""
    dash_duo.driver.execute_script(RECORD_SCRIPT, name, expression)


def recorded(dash_duo, name: str) -> list:
    """Every value noted under `name` since record(), oldest first."""
    return dash_duo.driver.execute_script(
        "return (window.__recorded || {})[arguments[0]] || [];", name
    )


def record_pnl_card(dash_duo, label: str) -> None:
    """Note every text the PnL card `label` shows from now on (see record)."""
    body = CARD_SCRIPT.replace("arguments[0]", repr(css(ids.PNL_CARDS))).replace(
        "arguments[1]", repr(label)
    )
    record(dash_duo, f"card:{label}", body)


def recorded_pnl_card(dash_duo, label: str) -> list[str]:
    return recorded(dash_duo, f"card:{label}")


def record_badge_class(dash_duo) -> None:
    """Note every class the mode badge has from now on (see record)."""
    record(dash_duo, "badge", f"return document.getElementById({ids.MODE_BADGE!r}).className;")


def recorded_badge_classes(dash_duo) -> list[str]:
    return recorded(dash_duo, "badge")


def badge_state(dash_duo) -> tuple[str, str, str]:
    """The mode badge's text, class and title (its detail), read in one script."""
    return tuple(
        dash_duo.driver.execute_script(
            "const b = document.querySelector(arguments[0]);"
            "return [b.textContent, b.className, b.title || ''];",
            css(ids.MODE_BADGE),
        )
    )


def buttons_disabled(dash_duo, buttons) -> list[bool]:
    """Whether each trade button is disabled now."""
    return dash_duo.driver.execute_script(
        "return arguments[0].map(id => document.getElementById(id).disabled);", list(buttons)
    )


def wait_until(dash_duo, condition, message, timeout: float = LOAD_SECONDS):
    """WebDriverWait on a condition of no arguments that may fail while the page re-renders
    or reloads (an assertion, a script or an element meeting a half-built page); returns
    the condition's last (truthy) value. `message` may be a function, called on timeout so
    that it tells what the page showed then."""
    from selenium.common.exceptions import (
        JavascriptException,
        NoSuchElementException,
        StaleElementReferenceException,
        TimeoutException,
    )

    passing = (
        AssertionError,
        JavascriptException,
        NoSuchElementException,
        StaleElementReferenceException,
    )
    try:
        return WebDriverWait(
            dash_duo.driver, timeout, poll_frequency=0.1, ignored_exceptions=passing
        ).until(lambda _driver: condition())
    except TimeoutException as exc:
        text = message() if callable(message) else message
        raise TimeoutException(f"{text} (waited {timeout:.1f} s)") from exc


CELLS_SCRIPT = """
return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr')).map(row =>
    Object.fromEntries(Array.from(row.querySelectorAll('td[data-dash-column]')).map(
        cell => [cell.getAttribute('data-dash-column'), cell.textContent])));
"""


def position_cells(dash_duo, symbol: str) -> dict[str, str]:
    """`symbol`'s row of the positions table as {column id: text} (symbol, state, qty,
    avg_entry, price, unrealized, realized, sync, ...), read in one script: it does not
    depend on the order or number of the columns."""
    rows = dash_duo.driver.execute_script(CELLS_SCRIPT, css(ids.POSITIONS_TABLE))
    for cells in rows:
        if cells.get("symbol") == symbol:
            return cells
    raise AssertionError(f"no row for {symbol} in the positions table: {rows}")


def wait_for_cell(dash_duo, symbol: str, column: str, text: str) -> dict[str, str]:
    """Wait until `symbol`'s row shows `text` in `column`; returns the row's cells."""
    return wait_until(
        dash_duo,
        lambda: (cells := position_cells(dash_duo, symbol))[column] == text and cells,
        lambda: f"{symbol}'s {column} never read {text!r}: {position_cells(dash_duo, symbol)}",
        timeout=TRADE_SECONDS,
    )


def fit_1366x768(dash_duo) -> None:
    """The page gets a 1366x768 viewport (the window grows by its own frame)."""
    driver = dash_duo.driver
    width, height = driver.execute_script(
        "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]"
    )
    driver.set_window_size(1366 + width, 768 + height)
    wait_until(
        dash_duo,
        lambda: driver.execute_script("return [innerWidth, innerHeight]") == [1366, 768],
        "the window did not take 1366x768",
    )
