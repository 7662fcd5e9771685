"""The chart a trader reads and any market the account holds, on the real app (local demo
exchange) in headless Chromium: timeframes, volume, the entry/stop/take-profit lines, a
dragged stop line proposing its price in the ticket; a holding outside SYMBOLS (SOL) found
by the symbol search and closed from the page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from plotly.offline import get_plotlyjs_version
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.pages import (
    LOAD_SECONDS,
    TRADE_SECONDS,
    chart_traces,
    click,
    close_toast,
    css,
    enter_size,
    go_live,
    open_dashboard,
    press,
    wait_for_state,
    wait_for_toast,
)
from web import ids
from web.chart_controls import DRAG_NOTE, TIMEFRAME

pytestmark = pytest.mark.browser

SYMBOL = "ETH/USDT"
CENT = Decimal("0.01")
CHART = css(ids.PRICE_CHART)

LINES_SCRIPT = """
const plot = document.querySelector(arguments[0] + ' .js-plotly-plot');
if (!plot || !plot.layout) return {};
const kinds = ['entry', 'take_profit', 'order'];
const levels = (plot.data || []).filter(t => kinds.includes(t.name)).map(t => [t.name, t.y[0]]);
const shapes = (plot.layout.shapes || []).map(s => [s.name, s.y0]);
return Object.fromEntries([...levels, ...shapes]);
"""
CANDLE_STEP_SCRIPT = """
const plot = document.querySelector(arguments[0] + ' .js-plotly-plot');
if (!plot || !plot.data || !plot.data.length || plot.data[0].x.length < 2) return null;
return (new Date(plot.data[0].x[1]) - new Date(plot.data[0].x[0])) / 1000;
"""
# which plotly.js drew the chart: its version and whether it knows a 3D trace type
PLOTLY_SCRIPT = """
const traces = Plotly.PlotSchema.get().traces;
return [Plotly.version, 'candlestick' in traces, 'scatter3d' in traces];
"""
STOP_LINE_SCRIPT = """
const plot = document.querySelector(arguments[0] + ' .js-plotly-plot');
plot.scrollIntoView({block: 'center', behavior: 'instant'});
const index = plot.layout.shapes.findIndex(s => s.name === 'stop');
const line = plot.querySelector('.shapelayer path[data-index="' + index + '"]').getBoundingClientRect();
const box = plot.getBoundingClientRect();
return [
    Math.round(line.left + line.width * 0.3 - (box.left + box.width / 2)),
    Math.round(line.top + line.height / 2 - (box.top + box.height / 2)),
];
"""


def lines(dash_duo) -> dict[str, float]:
    return dash_duo.driver.execute_script(LINES_SCRIPT, CHART)


def type_into(dash_duo, component_id: str, text: str) -> None:
    field = dash_duo.find_element(css(component_id))
    dash_duo.clear_input(field)
    field.send_keys(text)


def wait_until(dash_duo, condition, message: str, seconds: float = LOAD_SECONDS):
    return WebDriverWait(dash_duo.driver, seconds).until(lambda _d: condition(), message=message)


def test_timeframes_volume_and_the_position_lines_and_a_dragged_stop(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    ask = runtime.service.reads.market(SYMBOL).ask
    stop, profit = (ask * Decimal("0.97")).quantize(CENT), (ask * Decimal("1.05")).quantize(CENT)
    enter_size(dash_duo, "20")
    type_into(dash_duo, ids.STOP_LOSS, str(stop))
    type_into(dash_duo, ids.TAKE_PROFIT, str(profit))
    click(dash_duo, ids.TRADE_BUY)
    wait_for_toast(dash_duo, f"Done: {SYMBOL} → LONG")
    wait_for_state(dash_duo, SYMBOL, "LONG")
    close_toast(dash_duo)

    # entry, stop and take-profit drawn across the chart (the chart follows the trade)
    wait_until(
        dash_duo,
        lambda: set(lines(dash_duo)) == {"entry", "stop", "take_profit"},
        "the chart never drew the entry, stop and take-profit lines",
        TRADE_SECONDS,
    )
    drawn = lines(dash_duo)
    assert (drawn["stop"], drawn["take_profit"]) == (float(stop), float(profit))
    entry = runtime.service.reads.dashboard().positions[0].avg_entry
    assert drawn["entry"] == pytest.approx(float(entry))
    assert {"volume", "buys"} <= set(chart_traces(dash_duo, ids.PRICE_CHART))
    # drawn by the finance bundle (web/vendor), not Dash's full plotly.js
    assert dash_duo.driver.execute_script(PLOTLY_SCRIPT) == [get_plotlyjs_version(), True, False]

    # one candle a minute, then one an hour
    assert dash_duo.driver.execute_script(CANDLE_STEP_SCRIPT, CHART) == 60
    [hour] = [b for b in dash_duo.find_elements(f"{css(TIMEFRAME)} label") if b.text == "1h"]
    hour.click()
    wait_until(
        dash_duo,
        lambda: dash_duo.driver.execute_script(CANDLE_STEP_SCRIPT, CHART) == 3600,
        "the chart never showed hourly candles",
    )
    assert set(lines(dash_duo)) == {"entry", "stop", "take_profit"}

    # the stop's line, dragged down, proposes its new price in the ticket (a drag that a
    # refresh of the figure interrupts is tried again, as a trader would)
    note = dash_duo.find_element(css(DRAG_NOTE))
    for _attempt in range(3):
        # a point on the line, from the chart's middle (where selenium's offsets start)
        x, y = dash_duo.driver.execute_script(STOP_LINE_SCRIPT, CHART)
        plot = dash_duo.find_element(f"{CHART} .js-plotly-plot")
        try:
            drag = ActionChains(dash_duo.driver).move_to_element_with_offset(plot, x, y)
            drag.click_and_hold().move_by_offset(0, 20).move_by_offset(0, 20).release().perform()
        except StaleElementReferenceException:  # the chart was redrawn under the pointer
            ActionChains(dash_duo.driver).release().perform()
            continue
        try:
            wait_until(dash_duo, lambda: "Stop line dropped at" in note.text, "no proposal", 5)
            break
        except (TimeoutException, StaleElementReferenceException):
            continue
    assert "Stop line dropped at" in note.text, "no proposal from three drags of the stop line"
    proposed = Decimal(dash_duo.find_element(css(ids.STOP_LOSS)).get_attribute("value"))
    assert proposed < stop and proposed == proposed.quantize(CENT)
    assert f"{proposed}" in note.text
    assert runtime.service.reads.dashboard().positions[0].stop.stop_loss == stop  # nothing sent

    click(dash_duo, ids.STOP_SET)  # the trader confirms: now the stop moves
    wait_until(
        dash_duo,
        lambda: runtime.service.reads.dashboard().positions[0].stop.stop_loss == proposed,
        "the confirmed stop was not set",
        TRADE_SECONDS,
    )
    assert dash_duo.get_logs() == []


def test_a_holding_outside_symbols_is_found_by_search_and_closed(dash_duo, runtime, demo_exchange):
    open_dashboard(dash_duo, runtime)
    go_live(dash_duo)
    demo_exchange.set_balances({"USDT": "500", "SOL": "3"})

    press(dash_duo, dash_duo.find_element(css(ids.SYMBOL_SELECT)))
    search = dash_duo.find_element(".dash-dropdown-search")
    search.send_keys("SOL")
    option = wait_until(
        dash_duo,
        lambda: next(
            (
                o
                for o in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
                if o.text == "SOL/USDT"
            ),
            None,
        ),
        "the search never offered SOL/USDT",
    )
    option.click()
    dash_duo.wait_for_contains_text(css(ids.SYMBOL_SELECT), "SOL/USDT", timeout=LOAD_SECONDS)
    wait_until(
        dash_duo,
        lambda: chart_traces(dash_duo, ids.PRICE_CHART)[:1] == ["SOL/USDT"],
        "the chart never showed SOL/USDT",
    )

    click(dash_duo, ids.TRADE_CLOSE)
    wait_for_toast(dash_duo, "verified")
    toast = dash_duo.find_element(css(ids.TRADE_TOAST)).text
    assert "Done: SOL/USDT → NO_POSITION" in toast and "sold 3 SOL" in toast, toast
    assert demo_exchange.balance("demo-key", "SOL") == (Decimal(0), Decimal(0))
    assert dash_duo.get_logs() == []
