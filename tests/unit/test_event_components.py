"""The feed's builders: a tab hears once of what it did not make, the trade panel says the
symbol's newest event (never a trade since undone), and balances read at their market's
precision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from core.service import PositionState
from core.views import BalanceView, BookEvent, TradeActivity
from tests.unit.test_web_components import cells, text_of
from web import components
from web import event_components as events

T0 = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


def event(n, kind="trade", who="manual", requester=None, symbol="ETH/USDT", **fields):
    return BookEvent(
        n, T0 + timedelta(seconds=n), "live", "default", symbol, kind, who, f"event {n}",
        requester=requester, **fields,
    )  # fmt: skip


def test_a_tab_hears_once_of_events_it_did_not_make():
    newest_first = [
        event(5, "stop_fired", "stop"),
        event(4, requester="other-tab"),
        event(3, requester="this-tab"),
        event(2),
    ]
    news, seen = events.news_for_tab(newest_first, 2, "this-tab")
    assert [e.id for e in news] == [5, 4] and seen == 5
    assert events.news_for_tab(newest_first, seen, "this-tab") == ([], 5)
    assert events.news_for_tab(newest_first, None, "this-tab") == ([], 5)  # a new tab
    assert events.news_for_tab([], 7, "this-tab") == ([], 7)  # another book shown now


def test_the_toast_of_several_events_is_as_loud_as_the_worst():
    is_open, header, icon, body = events.event_toast([event(5, "stop_fired", "stop"), event(4)])
    assert (is_open, header, icon) == (True, "2 events", "warning")
    assert text_of(body) == "17:00:05 stop: event 5 17:00:04 manual: event 4"
    assert events.event_toast([event(6, "external_change", "monitor")])[1:3] == (
        "Account change · monitor",
        "warning",
    )


def test_feed_rows_say_when_who_and_what_and_flag_what_waits():
    change = event(2, "external_change", "monitor", needs_ack=True)
    rows = events.feed_rows([change, event(1, "flatten", "flatten", symbol=None)])
    assert [(r["time"], r["who"], r["symbol"], r["text"], r["waiting"]) for r in rows] == [
        ("2026-12-02 17:00:02 UTC", "monitor", "ETH/USDT", "Account change: event 2", "yes"),
        ("2026-12-02 17:00:01 UTC", "flatten", "all", "Flatten: event 1", ""),
    ]  # fmt: skip
    assert events.feed_rows([]) == [{"time": "No events yet."}]


def test_the_trade_panel_shows_the_running_step_else_the_symbols_newest_event():
    done = TradeActivity(
        1, "ETH/USDT", PositionState.LONG, "finished", False, True, "LONG verified", T0, T0
    )
    stop = event(9, "stop_fired", "stop")
    line = text_of(components.trade_activity([done], stop, T0))
    assert line == "Last event, 2026-12-02 17:00:09 UTC: Stop fired: event 9 (by stop)"
    traded = text_of(components.trade_activity([done], event(10, "trade_failed"), T0))
    assert traded == "Last trade, 2026-12-02 17:00:10 UTC: Failed: event 10 (by manual)"
    assert "LONG verified" not in line
    running = TradeActivity(
        2, "ETH/USDT", PositionState.NO_POSITION, "placing", True, None, None, T0, None
    )
    shown = text_of(components.trade_activity([running, done], stop, T0 + timedelta(seconds=3)))
    assert shown.endswith("ETH/USDT → NO_POSITION running (3 s): placing")
    assert components.trade_activity([], None, T0) == []


def test_balances_read_at_their_markets_precision():
    rows = cells(
        components.balance_rows(
            [
                BalanceView("USDT", D("1720.123456"), D("0"), D("1720.12"), D("0.01")),
                BalanceView("ETH", D("0.5932713"), D("0.00000071"), D("1800"), D("0.00001")),
                BalanceView("XYZ", D("3.123456789"), D("0"), None),
            ],
            "USDT",
        )
    )
    assert [[text_of(c) for c in row] for row in rows] == [
        ["USDT", "1,720.12", "—", "1,720.12 USDT"],
        ["ETH", "0.59327", "0.00000071", "1,800.00 USDT"],  # less than a step: as it is
        ["XYZ", "3.12345679", "—", "no price"],  # no market known: up to 8 decimals
    ]
