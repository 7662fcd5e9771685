"""The page feed reads the shown book's view in the background: at once after a write to the
book, so that the first tick after a trade finds the view built rather than building it in
its own request, and never again after it stopped."""

from __future__ import annotations

import time
from decimal import Decimal

from core.domain import PositionState, TradeSize
from core.service.page_feed import PageFeed

ETH = "ETH/USDT"
AN_HOUR = 3600.0  # the feed's own round never comes during a test: only a write wakes it


def kept_view(engine):
    wiring = engine.service.wiring
    return wiring.cache.peek(wiring.view_key(wiring.book(engine.service.modes.current())))


def wait_for(condition, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    return None


def test_a_write_has_the_feed_read_the_view_before_any_tab_asks(make_engine):
    engine = make_engine()
    feed = PageFeed(engine.service.reads, AN_HOUR)
    feed.start()
    try:
        before = kept_view(engine)
        assert before is not None  # the first round, at start
        traded = engine.service.trading.trade(
            ETH, PositionState.LONG, TradeSize(quote_amount=Decimal(500))
        )
        assert traded.ok

        def long_eth():
            view = kept_view(engine)
            rows = {row.symbol: row for row in view.positions} if view is not None else {}
            return view if ETH in rows and rows[ETH].state is PositionState.LONG else None

        after = wait_for(long_eth)
        assert after is not None, "the feed did not read the traded book"
        assert after.version != before.version
    finally:
        feed.stop()
    assert feed.wake not in engine.service.wiring.on_book_changed
    assert not feed._thread.is_alive()
