"""What a trader does on the dashboard, in selenium steps the tests share."""

from __future__ import annotations

from selenium.webdriver.common.alert import Alert
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from web import ids

LOAD_SECONDS = 30
TRADE_SECONDS = 60


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
    dash_duo.find_element(css(component_id)).click()


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


def wait_for_toast(dash_duo, text: str) -> None:
    dash_duo.wait_for_contains_text(css(ids.TRADE_TOAST), text, timeout=TRADE_SECONDS)


def close_toast(dash_duo) -> None:
    dash_duo.find_element(f"{css(ids.TRADE_TOAST)} .btn-close").click()
    WebDriverWait(dash_duo.driver, LOAD_SECONDS).until_not(
        lambda driver: driver.find_elements("css selector", f"{css(ids.TRADE_TOAST)}.show")
    )


def confirmation(dash_duo) -> Alert:
    """The browser's confirm dialog (dcc.ConfirmDialog), once it shows."""
    return WebDriverWait(dash_duo.driver, LOAD_SECONDS).until(
        expected_conditions.alert_is_present()
    )


def go_live(dash_duo) -> str:
    """Switch simulation off and accept the confirmation; returns the question it asked."""
    dash_duo.find_element(css(ids.MODE_SWITCH)).click()
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


def last_price(dash_duo) -> str:
    return dash_duo.find_element(f"{css(ids.MARKET_STRIP)} .stat-value-large").text


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
