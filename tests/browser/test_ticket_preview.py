"""The ticket's preview in headless Chromium on the real app (local demo exchange, SIM): the
first size is 10 % of the cash, the figures shown for 1 % of equity at risk to a stop are the
ones worked by hand from the worst price shown, what cannot be sent is said in words before
any click, and BUY by risk buys within the risk and sets the stop.

The demo exchange holds its prices still here: a BUY sized by risk is never sent above the
worst price its risk was sized at (0.1 % above the ask), and the demo's random walk moves
the price by up to 0.15 % once a second, so a tick between the trade's book read and its
send (tens of milliseconds idle, hundreds on a loaded machine) made it buy nothing now and
then, rightly (tests/integration/test_risk_sizing.py shows that case and its words)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

import pytest
from selenium.webdriver.support.ui import Select

from tests.browser.pages import (
    LOAD_SECONDS,
    click,
    css,
    open_dashboard,
    wait_for_state,
    wait_for_toast,
    wait_until,
)
from web import ids

pytestmark = [pytest.mark.browser, pytest.mark.still_market]

SYMBOL = "ETH/USDT"
EQUITY = Decimal(10000)  # the paper account's starting cash, and nothing else held
STOP, TAKE_PROFIT = Decimal(3000), Decimal(4000)
CENT, STEP = Decimal("0.01"), Decimal("0.00001")  # ETH/USDT's amount step on the demo exchange

FIGURES_SCRIPT = """
const box = document.getElementById(arguments[0]);
const shown = {};
for (const node of box.querySelectorAll('[data-field]')) {
    const name = node.getAttribute('data-field');
    shown[name] = name === 'problem' ? (shown[name] || []).concat(node.textContent)
                                     : node.textContent;
}
return shown;
"""


def figures(dash_duo) -> dict:
    """Every figure the preview shows now, by its data-field, read in one script (one
    render: the figures belong together)."""
    return dash_duo.driver.execute_script(FIGURES_SCRIPT, ids.TICKET_PREVIEW)


def wait_for_figures(dash_duo, ready) -> dict:
    return wait_until(
        dash_duo,
        lambda: ready(shown := figures(dash_duo)) and shown,
        lambda: f"the preview never showed what was expected: {figures(dash_duo)}",
    )


def type_into(dash_duo, component_id: str, text: str) -> None:
    field = dash_duo.find_element(css(component_id))
    dash_duo.clear_input(field)
    field.send_keys(text)


def number(text: str) -> Decimal:
    """`3,403.74`, `1.00 USDT`, `0.02%`: the figure without its separators and unit."""
    return Decimal(text.split()[0].replace(",", "").rstrip("%"))


def cents(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def test_the_preview_matches_the_hand_calculation(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    rules = runtime.service.wiring.market_data.market_rules(SYMBOL)
    assert rules.amount_step == STEP

    # the first size: 10 % of the 10,000 USDT cash, so at most 1,000 USDT
    first = wait_for_figures(dash_duo, lambda shown: "cost" in shown)
    worst = number(first["worst-price"])
    quantity = (Decimal(1000) / worst).quantize(STEP, rounding=ROUND_FLOOR)
    assert number(first["quantity"]) == quantity, first
    assert first["cost"] == f"{cents(quantity * worst)} USDT", first

    # 1 % of equity at risk: picking the kind puts 1 in the field; then the stop and target
    Select(dash_duo.find_element(css(ids.ORDER_SIZE_UNIT))).select_by_value("risk")
    wait_until(
        dash_duo,
        lambda: dash_duo.find_element(css(ids.ORDER_SIZE)).get_attribute("value") == "1",
        "picking % risk did not put its first value, 1, in the size field",
    )
    type_into(dash_duo, ids.STOP_LOSS, f"{STOP}")
    type_into(dash_duo, ids.TAKE_PROFIT, f"{TAKE_PROFIT}")
    shown = wait_for_figures(dash_duo, lambda shown: "r-multiple" in shown and "risk" in shown)

    # by hand, from the worst price shown (the marketable limit the BUY would carry):
    #   budget = 1 % x 10,000 = 100 USDT; distance = worst - 3,000
    #   quantity = 100 / distance, down to the 0.00001 step; cost = quantity x worst
    #   fee = cost x the taker rate; risk = quantity x distance, as a % of 10,000
    #   R = (4,000 - worst) / distance
    worst = number(shown["worst-price"])
    assert STOP < worst < TAKE_PROFIT, shown
    distance = worst - STOP
    quantity = (Decimal(100) / distance).quantize(STEP, rounding=ROUND_FLOOR)
    cost = quantity * worst
    risk = quantity * distance
    assert risk <= 100
    assert number(shown["quantity"]) == quantity, shown
    assert shown["cost"] == f"{cents(cost)} USDT", shown
    assert shown["fee"] == f"{cents(cost * rules.taker_fee)} USDT (0.02% taker)", shown
    pct = (distance * 100 / worst).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert shown["stop-distance"] == f"{cents(distance)} ({pct}%)", shown
    assert shown["risk"] == f"{cents(risk)} USDT = {cents(risk * 100 / EQUITY)}% of equity"
    assert shown["r-multiple"] == f"{cents((TAKE_PROFIT - worst) / distance)} R", shown
    assert "problem" not in shown, shown


def test_what_cannot_be_sent_is_said_before_any_click(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    wait_for_figures(dash_duo, lambda shown: "cost" in shown)

    type_into(dash_duo, ids.STOP_LOSS, "9000")  # above the price
    wait_for_figures(
        dash_duo, lambda shown: any("must be below the bid" in p for p in shown.get("problem", []))
    )
    type_into(dash_duo, ids.STOP_LOSS, "")

    Select(dash_duo.find_element(css(ids.ORDER_SIZE_UNIT))).select_by_value("qty")
    wait_until(
        dash_duo,
        lambda: dash_duo.find_element(css(ids.ORDER_SIZE)).get_attribute("value") == "",
        "picking quantity did not clear the size field",
    )
    type_into(dash_duo, ids.ORDER_SIZE, "100")  # 100 ETH: far more than 10,000 USDT buys
    wait_for_figures(
        dash_duo,
        lambda shown: any("above the free balance" in p for p in shown.get("problem", [])),
    )
    type_into(dash_duo, ids.ORDER_SIZE, "0.00001")  # about 0.03 USDT: below the minimum
    wait_for_figures(
        dash_duo,
        lambda shown: any("below the market minimum" in p for p in shown.get("problem", [])),
    )
    assert runtime.service.reads.dashboard().orders == []


def test_buy_by_risk_buys_within_it_and_sets_the_stop(dash_duo, runtime):
    open_dashboard(dash_duo, runtime)
    Select(dash_duo.find_element(css(ids.ORDER_SIZE_UNIT))).select_by_value("risk")
    wait_until(
        dash_duo,
        lambda: dash_duo.find_element(css(ids.ORDER_SIZE)).get_attribute("value") == "1",
        "picking % risk did not put 1 in the size field",
    )
    type_into(dash_duo, ids.STOP_LOSS, f"{STOP}")
    wait_for_figures(dash_duo, lambda shown: "risk" in shown)
    click(dash_duo, ids.TRADE_BUY)
    wait_for_toast(dash_duo, f"Done: {SYMBOL} → LONG")
    wait_for_state(dash_duo, SYMBOL, "LONG")

    view = runtime.service.reads.dashboard()
    fills = [f for f in view.fills if f.symbol == SYMBOL]
    lost_at_stop = sum(f.qty * (f.price - STOP) for f in fills)
    assert fills and lost_at_stop <= 100  # 1 % of 10,000, at most (before fees)
    [row] = [p for p in view.positions if p.symbol == SYMBOL]
    assert row.stop is not None and row.stop.stop_loss == STOP
    dash_duo.wait_for_contains_text(css(ids.POSITIONS_TABLE), "3,000", timeout=LOAD_SECONDS)
