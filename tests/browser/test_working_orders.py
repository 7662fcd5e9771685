"""A priced order in headless Chromium on the real app (local demo exchange, SIM): typed
with a limit price, BUY rests it as a working order, the symbol reads `LONG pending`, the
orders panel lists it, and its Cancel button ends it (the paper account holds nothing
locked afterwards)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.domain import Mode
from tests.browser.pages import (
    TRADE_SECONDS,
    click,
    css,
    enter_size,
    open_dashboard,
    position_row,
    press,
    wait_for_toast,
    wait_until,
)
from web import ids

pytestmark = pytest.mark.browser

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
