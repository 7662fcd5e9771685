"""A priced order in headless Chromium on the real app (local demo exchange, SIM): typed
with a limit price, BUY rests it as a working order, the symbol reads `LONG pending`, the
orders panel lists it, and its Cancel button ends it (the paper account holds nothing
locked afterwards). A working order is moved from the panel's Move, and by dragging its
line on the chart: either only proposes the price, in a dialog naming the old and the new
price, and nothing is sent until its Move order button."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.action_chains import ActionChains

from core.domain import Mode, PositionState, TradeSize
from tests.browser.pages import (
    LOAD_SECONDS,
    TRADE_SECONDS,
    click,
    css,
    enter_size,
    fit_1366x768,
    go_live,
    open_dashboard,
    position_row,
    press,
    table_rows,
    wait_for_toast,
    wait_until,
)
from web import amend_dialog as amend
from web import ids
from web.chart_controls import DRAG_NOTE

pytestmark = pytest.mark.browser
# Set to a path to keep a picture of the panel at 1366x768 (an app order and an outside one).
PANEL_SCREENSHOT = os.environ.get("ORDERS_PANEL_SCREENSHOT")

SYMBOL = "ETH/USDT"


def test_a_limit_order_rests_then_is_cancelled_from_the_panel(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    service = runtime.engine.service
    price = (service.wiring.market_data.ticker(SYMBOL).last * Decimal("0.8")).quantize(
        Decimal("0.01")
    )
    enter_size(dash_duo, "300", "quote")
    field = dash_duo.find_element(css(ids.LIMIT_PRICE))
    field.send_keys(str(price))
    click(dash_duo, ids.TRADE_BUY)
    wait_for_toast(dash_duo, "LONG pending: BUY")
    wait_until(
        dash_duo,
        lambda: position_row(dash_duo, SYMBOL)[1].startswith("LONG pending: BUY"),
        lambda: f"the row never read pending: {position_row(dash_duo, SYMBOL)}",
        timeout=TRADE_SECONDS,
    )
    dash_duo.wait_for_contains_text(css(ids.ORDERS_PANEL), f"{price:,.2f}", timeout=TRADE_SECONDS)
    dash_duo.wait_for_contains_text(css(ids.ORDERS_PANEL), "app")
    [working] = service.orders.recorded(Mode.SIM)
    assert service.wiring.gateway(Mode.SIM).balances()["USDT"].locked > 0

    button = f"#{ids.ORDERS_PANEL} button.btn-outline-danger"
    press(dash_duo, dash_duo.wait_for_element_by_css_selector(button))
    dash_duo.wait_for_contains_text(css(ids.ORDERS_MESSAGE), "cancelled BUY ETH/USDT")
    dash_duo.wait_for_contains_text(
        css(ids.ORDERS_PANEL), "No working orders and no stops.", timeout=TRADE_SECONDS
    )
    assert service.orders.recorded(Mode.SIM) == []
    assert service.wiring.gateway(Mode.SIM).balances()["USDT"].locked == 0
    assert working.id not in {o.id for o in service.orders.working(Mode.SIM)}


def test_a_limit_order_rests_then_fills_when_the_market_comes_to_it(
    dash_duo, runtime, demo_exchange
):
    """SIM: BUY at a price below the market rests; the market falls through it, the
    background's round (here called as the scheduler calls it) fills it on the paper
    account, and the page shows the symbol LONG at that price, the panel empty and the fill
    as news."""
    open_dashboard(dash_duo, runtime)
    service = runtime.engine.service
    last = service.wiring.market_data.ticker(SYMBOL).last
    price = (last * Decimal("0.98")).quantize(Decimal("0.01"))
    enter_size(dash_duo, "300", "quote")
    dash_duo.find_element(css(ids.LIMIT_PRICE)).send_keys(str(price))
    click(dash_duo, ids.TRADE_BUY)
    dash_duo.wait_for_contains_text(css(ids.ORDERS_PANEL), f"{price:,.2f}", timeout=TRADE_SECONDS)

    demo_exchange.set_price("ETHUSDT", str(price * Decimal("0.99")))
    assert service.monitoring.periodic_check() is None  # SIM: working orders, equity point
    dash_duo.wait_for_contains_text(
        css(ids.ORDERS_PANEL), "No working orders and no stops.", timeout=TRADE_SECONDS
    )
    wait_until(
        dash_duo,
        lambda: position_row(dash_duo, SYMBOL)[1] == "LONG",
        lambda: f"the row never read LONG: {position_row(dash_duo, SYMBOL)}",
        timeout=TRADE_SECONDS,
    )
    assert position_row(dash_duo, SYMBOL)[3] == f"{price:,.2f}"  # the average entry
    dash_duo.wait_for_contains_text(css(ids.EVENT_FEED), "Working order filled", LOAD_SECONDS)
    assert service.wiring.gateway(Mode.SIM).balances()["USDT"].locked == 0


ORDER_LINE_SCRIPT = """
const plot = document.querySelector(arguments[0] + ' .js-plotly-plot');
if (!plot || !plot.layout) return null;
plot.scrollIntoView({block: 'center', behavior: 'instant'});
const index = (plot.layout.shapes || []).findIndex(s => s.name === arguments[1]);
if (index < 0) return null;
const line = plot.querySelector('.shapelayer path[data-index="' + index + '"]');
if (!line) return null;
const at = line.getBoundingClientRect();
const box = plot.getBoundingClientRect();
return [
    Math.round(at.left + at.width * 0.3 - (box.left + box.width / 2)),
    Math.round(at.top + at.height / 2 - (box.top + box.height / 2)),
];
"""


def rest_a_buy(runtime, factor: str) -> tuple[str, Decimal]:
    """The app's working BUY in SIM at `factor` times the last price: its id and price."""
    service = runtime.engine.service
    last = service.wiring.market_data.ticker(SYMBOL).last
    price = (last * Decimal(factor)).quantize(Decimal("0.01"))
    rested = service.trading.trade(
        SYMBOL, PositionState.LONG, TradeSize(quote_amount=Decimal(300)), mode=Mode.SIM,
        limit_price=price,
    )  # fmt: skip
    assert rested.ok and rested.working, rested.message
    return rested.working[0].client_order_id, price


def one_working(runtime) -> tuple[str, Decimal]:
    [order] = runtime.engine.service.orders.recorded(Mode.SIM)
    return order.id, order.price


def confirm_the_move(dash_duo, runtime, old_id: str, old: Decimal, new: Decimal) -> None:
    """The dialog names the old and the new price; nothing moved until Move order."""
    words = css(amend.AMEND_WORDS)
    dash_duo.wait_for_contains_text(words, f"from {old:,.2f} to {new:,.2f}", timeout=LOAD_SECONDS)
    assert one_working(runtime) == (old_id, old)  # nothing sent yet
    click(dash_duo, amend.AMEND_SEND)
    dash_duo.wait_for_contains_text(css(ids.ORDERS_MESSAGE), "moved BUY ETH", TRADE_SECONDS)
    dash_duo.wait_for_contains_text(css(ids.ORDERS_PANEL), f"{new:,.2f}", timeout=TRADE_SECONDS)
    new_id, price = one_working(runtime)
    assert new_id != old_id and price == new
    assert [o.price for o in runtime.engine.service.orders.working(Mode.SIM)] == [new]


def test_a_working_order_is_moved_from_the_panel(dash_duo, runtime):
    old_id, old = rest_a_buy(runtime, "0.8")
    open_dashboard(dash_duo, runtime)
    dash_duo.wait_for_contains_text(css(ids.ORDERS_PANEL), f"{old:,.2f}", timeout=LOAD_SECONDS)
    press(
        dash_duo,
        dash_duo.wait_for_element_by_css_selector(f"#{ids.ORDERS_PANEL} .btn-outline-info"),
    )
    dash_duo.wait_for_contains_text(css(amend.AMEND_WHAT), old_id, timeout=LOAD_SECONDS)
    field = dash_duo.find_element(css(amend.AMEND_PRICE))
    assert Decimal(field.get_attribute("value")) == old
    dash_duo.clear_input(field)
    field.send_keys("1,5")  # a comma is refused, never guessed
    dash_duo.wait_for_contains_text(css(amend.AMEND_WORDS), "has a comma")
    assert dash_duo.find_element(css(amend.AMEND_SEND)).get_attribute("disabled")
    new = old - 7
    dash_duo.clear_input(field)
    field.send_keys(str(new))
    confirm_the_move(dash_duo, runtime, old_id, old, new)


def test_a_working_orders_line_dragged_proposes_its_price(dash_duo, runtime):
    old_id, old = rest_a_buy(runtime, "0.97")  # the chart's range takes in its line
    open_dashboard(dash_duo, runtime)
    chart, shape = css(ids.PRICE_CHART), f"order:{old_id}"
    note = css(DRAG_NOTE)
    dragged = False
    for _attempt in range(3):
        try:
            dash_duo.wait_for_element_by_css_selector(f"{chart} .shapelayer path", LOAD_SECONDS)
            at = dash_duo.driver.execute_script(ORDER_LINE_SCRIPT, chart, shape)
            assert at, "the working order's line is not on the chart"
            plot = dash_duo.find_element(f"{chart} .js-plotly-plot")
            drag = ActionChains(dash_duo.driver).move_to_element_with_offset(plot, *at)
            drag.click_and_hold().move_by_offset(0, 20).move_by_offset(0, 20).release().perform()
            dash_duo.wait_for_contains_text(note, "Order line dropped at", timeout=5)
            dragged = True
            break
        except (StaleElementReferenceException, TimeoutException):
            ActionChains(dash_duo.driver).release().perform()  # redrawn under the pointer
    assert dragged, "no proposal from three drags of the order's line"
    dash_duo.wait_for_contains_text(css(amend.AMEND_WHAT), old_id, timeout=LOAD_SECONDS)
    proposed = Decimal(dash_duo.find_element(css(amend.AMEND_PRICE)).get_attribute("value"))
    assert proposed < old and proposed == proposed.quantize(Decimal("0.01"))
    assert f"{proposed}" in dash_duo.find_element(note).text
    confirm_the_move(dash_duo, runtime, old_id, old, proposed)


FITS_SCRIPT = """
const page = document.documentElement;
const panel = document.querySelector(arguments[0]);
const table = panel.querySelector('table').getBoundingClientRect();
return page.scrollWidth <= page.clientWidth && table.right <= panel.getBoundingClientRect().right;
"""


def test_an_order_placed_outside_the_app_is_listed_as_read_and_cancelled(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    go_live(dash_duo)
    fit_1366x768(dash_duo)
    service = runtime.engine.service
    last = service.wiring.market_data.ticker(SYMBOL).last
    ours = (last * Decimal("0.9")).quantize(Decimal("0.01"))
    rested = service.trading.trade(
        SYMBOL, PositionState.LONG, TradeSize(quote_amount=Decimal(300)), mode=Mode.LIVE,
        limit_price=ours,
    )  # fmt: skip
    assert rested.ok, rested.message
    theirs = (last * Decimal("0.85")).quantize(Decimal("0.01"))
    client = service.wiring.live_gateway().client
    client.create_order(SYMBOL, "limit", "buy", 0.05, float(theirs))
    service.monitoring.periodic_check()  # the background's read: the page shows what it read
    [read] = [o for o in service.orders.outside(Mode.LIVE).orders]
    panel = css(ids.ORDERS_PANEL)
    dash_duo.wait_for_contains_text(panel, f"{theirs:,.2f}", timeout=LOAD_SECONDS)
    dash_duo.wait_for_contains_text(panel, "as the periodic check read them at")
    rows = {row[2]: row for row in table_rows(dash_duo, ids.ORDERS_PANEL)}
    assert rows[f"{theirs:,.2f}"][5] == "outside" and rows[f"{ours:,.2f}"][5] == "app"
    assert rows[f"{theirs:,.2f}"][3] == "0.050 filled"  # the quantity, and what filled
    assert "Move" not in rows[f"{theirs:,.2f}"][6] and "Move" in rows[f"{ours:,.2f}"][6]
    # the panel fits its column at 1366x768: nothing pushes the page sideways
    assert dash_duo.driver.execute_script(FITS_SCRIPT, css(ids.ORDERS_PANEL)), "it overflows"
    headers = dash_duo.find_elements(f"{css(ids.ORDERS_PANEL)} thead th")
    assert [h.text for h in headers][:6] == ["Symbol", "Order", "Price", "Qty", "Age", "By"]
    if PANEL_SCREENSHOT:
        box = dash_duo.find_element(panel)
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        dash_duo.driver.save_screenshot(PANEL_SCREENSHOT)

    cancel = (
        f"{panel} tbody tr:nth-child({list(rows).index(f'{theirs:,.2f}') + 1}) .btn-outline-danger"
    )
    press(dash_duo, dash_duo.find_element(cancel))
    dash_duo.wait_for_contains_text(
        css(ids.ORDERS_MESSAGE), f"cancelled BUY {SYMBOL}", TRADE_SECONDS
    )
    wait_until(
        dash_duo,
        lambda: f"{theirs:,.2f}" not in dash_duo.find_element(panel).text,
        "the cancelled outside order is still listed",
        timeout=TRADE_SECONDS,
    )
    assert read.id not in {o.id for o in service.orders.working(Mode.LIVE)}
    assert [o.price for o in service.orders.working(Mode.LIVE)] == [ours]  # ours stays
