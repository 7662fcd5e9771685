"""A tick sends what changed (a Dash Patch of the cells): in real Chromium the positions
table, the price strip and the cards still show every moved price, the rows that did not
move stay as they were, and a page tab shown in between catches up on coming back."""

from __future__ import annotations

import pytest

from tests.browser.pages import (
    LOAD_SECONDS,
    open_dashboard,
    open_tab,
    position_cells,
    wait_for_cell,
    wait_until,
)
from tests.browser.test_insights_pages import screenshot
from web.formatting import MISSING as NO_PRICE


@pytest.fixture
def frozen(tmp_path, exchange, control):
    """The app on the session's frozen emulator (the demo exchange moves every market every
    second), its page reads in the background as serve's are."""
    from core.config import load_settings
    from runtime import build_runtime

    settings = load_settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/t.db",
        EXCHANGE_URL=exchange.url,
        TRADING_MODE="sim",
        DASHBOARD_PASSWORD="",
        SYMBOLS="ETH/USDT,BTC/USDT",
    )
    running = build_runtime(settings)
    running.start_feed()
    yield running
    running.close()


def test_moved_prices_reach_the_patched_table(dash_duo, frozen, control, tmp_path):
    open_dashboard(dash_duo, frozen)
    btc = wait_until(
        dash_duo,
        lambda: (cells := position_cells(dash_duo, "BTC/USDT"))["price"] != NO_PRICE and cells,
        lambda: f"BTC/USDT shows no price: {position_cells(dash_duo, 'BTC/USDT')}",
        LOAD_SECONDS,
    )

    control.trade_at("ETHUSDT", "2999.5")
    wait_for_cell(dash_duo, "ETH/USDT", "price", "2,999.50")
    dash_duo.wait_for_contains_text("#market-strip", "2,999.50", timeout=LOAD_SECONDS)
    assert position_cells(dash_duo, "BTC/USDT") == btc  # its row was not touched

    open_tab(dash_duo, "Results")  # the Trading refresh rests while another page shows
    control.trade_at("ETHUSDT", "3010.25")
    open_tab(dash_duo, "Trading")
    wait_for_cell(dash_duo, "ETH/USDT", "price", "3,010.25")
    assert position_cells(dash_duo, "BTC/USDT") == btc
    screenshot(dash_duo, tmp_path / "moving-prices.png")
    assert dash_duo.get_logs() == []
