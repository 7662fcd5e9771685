"""The dashboard's pure builders: real read models in, text, colours and figures out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import dash_bootstrap_components as dbc
import pytest

from core.domain import (
    ActionKind,
    Candle,
    Discrepancy,
    DiscrepancyKind,
    Mode,
    PositionState,
    SyncAction,
    TradeResult,
)
from core.views import AccountCheckView as AccountCheck
from core.views import (
    Badge,
    BalanceView,
    ChartLine,
    DashboardView,
    DerivativePositionView,
    FillView,
    MarketView,
    ModeChange,
    MonitorRunView,
    OrderView,
    PnlView,
    PositionView,
    StopView,
    SyncRunView,
)
from web import chart_callbacks, components, figures, ids, layout
from web import formatting as fmt
from web import monitor_components as monitor
from web.layout import build_layout

D = Decimal
T0 = datetime(2026, 11, 21, 12, 0, 0)


def text_of(node) -> str:
    """All the text a component tree renders, cells separated by spaces."""
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return " ".join(text_of(child) for child in node)
    return text_of(getattr(node, "children", None))


def walk(node):
    if isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)
    elif hasattr(node, "to_plotly_json"):
        yield node
        yield from walk(getattr(node, "children", None))


def cells(rows: list) -> list[list]:
    """The <td> elements of each body row of a builder's table."""
    _head, body = rows
    return [
        row.children if isinstance(row.children, list) else [row.children] for row in body.children
    ]


def position(state=PositionState.LONG, **changes) -> PositionView:
    values = {
        "symbol": "ETH/USDT",
        "state": state,
        "state_label": "SHORT (in USDT)" if state is PositionState.SHORT else state.value,
        "qty": D("0.03150000"),
        "dust": False,
        "avg_entry": D("3000.125"),
        "entry_source": "fills",
        "price": D("3012.5"),
        "unrealized": D("12.3456"),
        "realized": D("-5"),
        "fees": D("0.09"),
        "sync_status": "in_sync",
    }
    values.update(changes)
    return PositionView(**values)


def dashboard(**changes) -> DashboardView:
    values = {
        "mode": Mode.SIM,
        "badge": Badge("SIM", "info", "Paper trading against live prices"),
        "exchange_label": "local demo exchange",
        "positions": [position()],
        "derivatives": [],
        "pnl": PnlView(D("10012.3456"), D("-5"), D("12.3456"), D("0.09")),
        "balances": [],
        "balances_time": None,
        "fills": [],
        "orders": [],
        "sync_runs": [],
        "trades": [],
        "last_sync": None,
    }
    values.update(changes)
    return DashboardView(**values)


def market(**changes) -> MarketView:
    values = {
        "symbol": "ETH/USDT",
        "last": D("3012.5"),
        "bid": D("3012.4"),
        "ask": D("3012.6"),
        "change_pct": D("1.234"),
        "time": T0,
    }
    values.update(changes)
    return MarketView(**values)


def fill(side: str, price: str, time: datetime = T0, symbol: str = "ETH/USDT") -> FillView:
    return FillView(time, symbol, side, D("0.0315"), D(price), D("0.0000315"), "ETH", "cid-1")


# --- formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(D("10000"), "10,000.00"), (D("0.005"), "0.01"), (D("-1234.5"), "-1,234.50")],
)
def test_money_has_two_decimals_and_thousands(value, text):
    assert fmt.money(value) == text
    assert fmt.money(value, "USDT") == f"{text} USDT"


@pytest.mark.parametrize(
    ("value", "text"),
    [(D("12.345"), "+12.35 USDT"), (D("-5"), "-5.00 USDT"), (D("0.004"), "0.00 USDT")],
)
def test_signed_money_spells_out_the_sign(value, text):
    assert fmt.signed_money(value, "USDT") == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("3012.5"), "3,012.50"),
        (D("64123.456"), "64,123.46"),
        (D("1.23456"), "1.2346"),
        (D("0.00001234"), "0.00001234"),
        (D("0.5"), "0.50"),
        (None, "—"),
    ],
)
def test_price_decimals_follow_its_size(value, text):
    assert fmt.price(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(D("0.03150000"), "0.0315"), (D("2"), "2"), (D("1234.5"), "1,234.5"), (D(0), "0")],
)
def test_quantity_drops_trailing_zeros(value, text):
    assert fmt.quantity(value) == text


def test_percent_and_time():
    assert fmt.percent(D("1.234")) == "+1.23%"
    assert fmt.percent(D("-0.5")) == "-0.50%"
    assert fmt.percent(D("0.001")) == "0.00%"
    assert fmt.timestamp(T0) == "2026-11-21 12:00:00 UTC"
    two_hours_east = datetime(2026, 11, 21, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert fmt.timestamp(two_hours_east) == "2026-11-21 12:00:00 UTC"


def test_sign_class_judges_the_shown_cents():
    assert fmt.sign_class(D("0.01")) == "text-success"
    assert fmt.sign_class(D("-3")) == "text-danger"
    assert fmt.sign_class(D("0.001")) == "text-muted"
    assert fmt.sign_class(None) == "text-muted"


# --- header and market -------------------------------------------------------------------


def test_badge_colour_follows_tone():
    assert components.badge_props(Badge("SIM", "info", "paper")) == ("SIM", "info", "paper")
    drift = components.badge_props(Badge("LIVE+SYNC", "danger", "Out of sync: ETH"))
    assert (drift.text, drift.colour, drift.detail) == ("LIVE+SYNC", "danger", "Out of sync: ETH")
    assert components.badge_props(Badge("SIM", "odd", "")).colour == "secondary"


def test_last_sync_text():
    assert components.last_sync_text(dashboard()) == "Last sync: none yet"
    assert components.last_sync_text(dashboard(last_sync=T0)) == (
        "Last sync: 2026-11-21 12:00:00 UTC"
    )


def test_market_strip_shows_prices_and_coloured_change():
    strip = components.market_strip(market())
    text = text_of(strip)
    assert "3,012.50" in text
    assert "3,012.40 / 3,012.60" in text
    assert "+1.23%" in text
    change_value = strip[2].children[1]
    assert "text-success" in change_value.className
    falling = components.market_strip(market(change_pct=D("-2")))[2].children[1]
    assert "text-danger" in falling.className


def test_market_strip_without_prices_shows_dashes():
    empty = market(last=None, bid=None, ask=None, change_pct=None, time=None, error="down")
    assert text_of(components.market_strip(empty)).count("—") == 5


def test_exchange_problem_names_the_exchange_when_unreachable():
    assert components.exchange_problem(dashboard(), market()) is None
    from_market = components.exchange_problem(dashboard(), market(error="connection refused"))
    assert from_market.startswith("Exchange unreachable: local demo exchange")
    assert "connection refused" in from_market
    from_view = components.exchange_problem(dashboard(exchange_error="timed out"), market())
    assert "timed out" in from_view


# --- tables and cards --------------------------------------------------------------------


def test_long_position_row_reads_as_text_with_signed_pnl():
    assert components.position_rows([position()]) == [
        {
            "symbol": "ETH/USDT",
            "state": "LONG",
            "qty": "0.0315",
            "avg_entry": "3,000.13",
            "price": "3,012.50",
            "unrealized": "+12.35 USDT",
            "realized": "-5.00 USDT",
            "stop": "—",
            "sync": "in sync",
        }
    ]


def test_a_stop_shows_its_price_distance_and_where_it_lives():
    app_side = StopView(D("2850"), D("3300"), D("5.39"), "app", "active")
    [row] = components.position_rows([position(stop=app_side)])
    assert row["stop"] == "2,850.00 · 5.4% · app"
    [tip] = components.position_tips([position(stop=app_side)])
    assert tip["stop"].startswith("stop-loss 2,850.00; take-profit 3,300.00; app-side")
    on_exchange = StopView(D("2850"), None, D("5.39"), "exchange", "active")
    assert components.stop_text(on_exchange) == "2,850.00 · 5.4% · exch."
    refused = StopView(D("2850"), None, None, "exchange", "refused", "refused: -2021")
    assert components.stop_text(refused) == "refused"
    assert "refused: -2021" in components.stop_tip(refused)


def test_spot_rows_carry_no_side_leverage_liquidation_or_exchange():
    columns = {key for key, _ in components.POSITION_COLUMNS}
    assert not columns & {"side", "leverage", "liquidation", "exchange", "account"}


def test_an_adopted_entry_says_where_it_came_from():
    [row] = components.position_rows([position(entry_source="mark")])
    assert row["avg_entry"] == "3,000.13 (mark)"
    [tip] = components.position_tips([position(entry_source="mark")])
    assert "mark price when the holdings were adopted" in tip["avg_entry"]
    [row] = components.position_rows([position(entry_source="exchange")])
    assert row["avg_entry"] == "3,000.13 (exchange)"


def test_a_row_with_no_stop_and_its_own_entry_sends_no_tooltip_of_its_own():
    assert components.position_tips([position()]) == [{}]
    table = layout.positions_table([])
    assert table.tooltip["stop"]["value"] == components.POSITION_TIPS["stop"]
    assert table.tooltip["avg_entry"]["value"] == components.POSITION_TIPS["avg_entry"]


def test_a_derivatives_short_shows_its_side_leverage_liquidation_exchange_and_account():
    short = DerivativePositionView(
        account="desk-bybit",
        exchange="Bybit",
        symbol="BTC/USDT:USDT",
        side="short",
        qty=D("-0.5"),
        entry=D("97000"),
        entry_source="exchange",
        mark=D("96000"),
        unrealized=D("500"),
        leverage=D("5.0"),
        liquidation_price=D("115400"),
    )
    [row] = components.derivative_rows([short])
    assert (row["side"], row["leverage"], row["liquidation"]) == ("SHORT", "5x", "115,400.00")
    assert (row["exchange"], row["account"], row["qty"], row["unrealized"]) == (
        "Bybit",
        "desk-bybit",
        "0.5",
        "+500.00 USDT",
    )


def test_flat_rows_show_no_entry_or_unrealized_and_dust_reads_as_dust():
    short, flat, dust = components.position_rows(
        [
            position(PositionState.SHORT, qty=D(0), avg_entry=None, unrealized=None),
            position(PositionState.NO_POSITION, qty=D(0), avg_entry=None, unrealized=None),
            position(
                PositionState.NO_POSITION,
                qty=D("0.00000473"),
                dust=True,
                avg_entry=None,
                unrealized=None,
            ),
        ]
    )
    assert short["state"] == "SHORT (in USDT)"
    assert flat["state"] == "NO_POSITION"
    for row in (short, flat, dust):
        assert row["avg_entry"] == "—" and row["unrealized"] == "—"
    assert flat["qty"] == "—"
    assert dust["qty"] == "dust 0.00000473"


def test_positions_table_colours_gains_losses_and_states_by_their_text():
    table = layout.positions_table([])
    assert [c["id"] for c in table.columns] == [key for key, _ in components.POSITION_COLUMNS]
    rules = {
        (r["if"]["column_id"], r["if"]["filter_query"]): r["color"]
        for r in table.style_data_conditional
    }
    assert rules[("unrealized", '{unrealized} contains "+"')] == layout.GAIN
    assert rules[("realized", '{realized} contains "-"')] == layout.LOSS
    assert rules[("state", '{state} = "LONG"')] == layout.GAIN
    assert rules[("state", '{state} contains "SHORT"')] == layout.LOSS
    assert rules[("qty", '{qty} contains "dust"')] == layout.MUTED


def test_balances_panel_values_every_asset():
    rows = cells(
        components.balance_rows(
            [
                BalanceView("USDT", D("1720"), D("0"), D("1720")),
                BalanceView("ETH", D("0.5"), D("0.1"), D("1800")),
                BalanceView("XYZ", D("3"), D("0"), None),
            ],
            "USDT",
        )
    )
    assert [[text_of(c) for c in row] for row in rows] == [
        ["USDT", "1,720", "—", "1,720.00 USDT"],
        ["ETH", "0.5", "0.1", "1,800.00 USDT"],
        ["XYZ", "3", "—", "no price"],
    ]


def test_empty_tables_say_so():
    assert components.position_rows([]) == []
    assert components.fill_rows([]) == [{"time": "No fills yet."}]
    assert components.order_rows([]) == [{"time": "No orders yet."}]
    assert components.sync_rows([]) == [{"time": "No sync runs yet."}]


def test_pnl_cards_show_each_figure_in_the_quote_asset():
    cards = components.pnl_cards(PnlView(D("10012.3456"), D("-5"), D("12.3456"), D("0.09"), "USDT"))
    values = [card.children.children.children[1] for card in cards]
    assert [v.children for v in values] == [
        "10,012.35 USDT",
        "-5.00 USDT",
        "+12.35 USDT",
        "0.09 USDT",
    ]
    assert "text-danger" in values[1].className
    assert "text-success" in values[2].className


def test_history_tables():
    fills = components.fill_rows([fill("buy", "3000"), fill("sell", "3100")])
    assert list(fills[0].values()) == [
        "2026-11-21 12:00:00 UTC",
        "ETH/USDT",
        "BUY",
        "0.0315",
        "3,000.00",
        "0.0000315 ETH",
        "cid-1",
    ]
    assert fills[1]["side"] == "SELL"
    assert [key for key, _ in components.FILL_COLUMNS] == list(fills[0])
    order = OrderView(
        T0,
        "ETH/USDT",
        "sell",
        D("2990"),
        D("0.0315"),
        D("0.01"),
        None,
        "canceled",
        "c2",
        "deadline",
        "stop",
    )
    [order_row] = components.order_rows([order])
    assert [order_row[key] for key, _ in components.ORDER_COLUMNS][2:] == [
        "SELL",
        "2,990.00",
        "0.0315",
        "0.01",
        "—",
        "CANCELED",
        "stop",
        "deadline",
    ]
    runs = [
        SyncRunView(
            T0, "trade", "ETH/USDT", "LONG", "NO_POSITION", "LONG", True, "verified", 840, 6
        ),
        SyncRunView(T0, "monitor", None, None, None, None, False, "exchange down", 12, 1),
    ]
    ok, failed = components.sync_rows(runs)
    assert list(ok.values())[1:] == [
        "trade",
        "ETH/USDT",
        "LONG",
        "NO_POSITION",
        "LONG",
        "OK: verified",
        "840 ms",
        "6",
    ]
    assert failed["symbol"] == "all"
    assert failed["result"] == "FAILED: exchange down"
    colours = {
        (r["if"]["column_id"], r["if"]["filter_query"]): r["color"]
        for r in layout.history_table(ids.SYNC_LOG, components.SYNC_COLUMNS).style_data_conditional
    }
    assert colours[("result", '{result} contains "FAILED:"')] == layout.LOSS


# --- toasts and alerts -------------------------------------------------------------------


def test_trade_toast_carries_the_result_message():
    ok = TradeResult(
        True,
        "ETH/USDT",
        PositionState.LONG,
        PositionState.NO_POSITION,
        PositionState.LONG,
        "Bought",
    )
    assert components.trade_toast(ok) == (True, "Done: ETH/USDT → LONG", "success", "Bought")
    failed = TradeResult(False, "ETH/USDT", PositionState.SHORT, None, None, "Exchange down")
    toast = components.trade_toast(failed)
    assert (toast.header, toast.icon, toast.body) == (
        "Failed: ETH/USDT → SHORT",
        "danger",
        "Exchange down",
    )


def test_refused_mode_change_is_a_danger_alert():
    refused = components.mode_alert(ModeChange(False, Mode.SIM, "LIVE needs API keys"))
    assert refused == (True, "danger", "LIVE needs API keys")
    assert components.mode_alert(ModeChange(True, Mode.SIM, "Simulation mode")).colour == "success"


# --- figures -----------------------------------------------------------------------------


def candles(count: int = 3) -> list[Candle]:
    start = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    return [
        Candle(
            start + timedelta(minutes=i), D(3000 + i), D(3010 + i), D(2990 + i), D(3005 + i), D(1)
        )
        for i in range(count)
    ]


def test_price_figure_marks_buys_up_and_sells_down():
    fills = [
        fill("buy", "3001", T0 + timedelta(minutes=1)),
        fill("sell", "3004.5", T0 + timedelta(minutes=2)),
        fill("buy", "60000", T0 + timedelta(minutes=1), symbol="BTC/USDT"),
        fill("buy", "2900", T0 - timedelta(hours=1)),
    ]
    figure = figures.price_figure("ETH/USDT", candles(), fills, timeframe="1m")
    candle, volume, buys, sells = figure.data
    assert candle.type == "candlestick"
    assert list(candle.close) == [3005.0, 3006.0, 3007.0]
    assert candle.x[0] == datetime(2026, 11, 21, 12, 0)
    assert (volume.type, volume.yaxis, list(volume.y)) == ("bar", "y2", [1.0, 1.0, 1.0])
    assert (buys.marker.symbol, list(buys.y)) == ("triangle-up", [3001.0])
    assert (sells.marker.symbol, list(sells.y)) == ("triangle-down", [3004.5])
    # each on the candle it happened in: at that candle's open time
    assert set(buys.x) | set(sells.x) <= set(candle.x)
    assert figure.layout.uirevision == "ETH/USDT:1m"
    assert figure.layout.xaxis.showspikes and figure.layout.yaxis.showspikes


def test_price_figure_draws_the_price_lines_and_only_the_stop_moves():
    lines = [
        ChartLine("entry", D("3001"), "entry 0.5 @ 3001"),
        ChartLine("stop", D("2950"), "stop 2950"),
        ChartLine("take_profit", D("3100"), "TP 3100"),
    ]
    figure = figures.price_figure("ETH/USDT", candles(), [], lines=lines)
    [stop] = figure.layout.shapes  # the one shape, the one thing the chart lets move
    assert (stop.name, stop.y0, stop.y1) == ("stop", 2950.0, 2950.0)
    assert stop.label.text == "stop 2950 (drag to move)"
    levels = {t.name: t for t in figure.data if t.type == "scatter" and t.mode == "lines+text"}
    assert {name: list(trace.y) for name, trace in levels.items()} == {
        "entry": [3001.0, 3001.0],
        "take_profit": [3100.0, 3100.0],
    }
    assert list(levels["entry"].text) == ["", "entry 0.5 @ 3001"]


def test_a_working_order_of_the_apps_is_a_line_to_drag_and_its_drop_names_it():
    lines = [
        ChartLine("stop", D("2950"), "stop 2950"),
        ChartLine("order", D("2900"), "BUY 0.1 @ 2900", "td123"),
        ChartLine("order", D("3200"), "SELL 0.1 @ 3200"),  # not resting: not the trader's
    ]
    figure = figures.price_figure("ETH/USDT", candles(), [], lines=lines)
    assert [(s.name, s.y0) for s in figure.layout.shapes] == [
        ("stop", 2950.0),
        ("order:td123", 2900.0),
    ]
    levels = [t.name for t in figure.data if t.type == "scatter" and t.mode == "lines+text"]
    assert levels == ["order"]
    shown = figure.to_plotly_json()
    assert chart_callbacks.dragged_line({"shapes[1].y0": 2890.5}, shown) == (
        "order:td123",
        D("2890.5"),
    )
    assert chart_callbacks.dragged_line({"shapes[0].y0": 2940}, shown) == ("stop", D("2940.0"))
    assert chart_callbacks.dragged_line({"xaxis.range[0]": 1}, shown) is None
    assert chart_callbacks.dragged_line({"shapes[7].y0": 1}, shown) is None


def test_price_figure_without_candles_says_why():
    figure = figures.price_figure("ETH/USDT", [], [fill("buy", "3001")], "exchange unreachable")
    assert figure.data == ()
    assert figure.layout.annotations[0].text == "Price history unavailable: exchange unreachable"
    assert figures.price_figure("ETH/USDT", [], []).layout.annotations[0].text == (
        "No price history yet."
    )


def test_equity_figure():
    curve = [(T0, D("10000")), (T0 + timedelta(minutes=5), D("10012.34"))]
    [line] = figures.equity_figure(curve, "USDT").data
    assert list(line.y) == [10000.0, 10012.34]
    empty = figures.equity_figure([], "USDT")
    assert empty.layout.annotations[0].text == "No equity history yet."


def test_a_young_equity_curve_spans_the_last_hour_not_its_milliseconds():
    young = [(T0, D("10000")), (T0 + timedelta(milliseconds=500), D("9997.50"))]
    start, end = figures.equity_figure(young, "USDT").layout.xaxis.range
    assert end - start >= timedelta(hours=1)
    [point] = figures.equity_figure(young[:1], "USDT").data
    assert point.mode == "markers"
    day = [(T0, D("10000")), (T0 + timedelta(days=1), D("10100"))]
    assert figures.equity_figure(day, "USDT").layout.xaxis.range is None


# --- layout ------------------------------------------------------------------------------


def layout_ids(mode: Mode) -> dict:
    page = build_layout(
        title="Trading Dashboard",
        exchange_label="local demo exchange",
        symbols=["ETH/USDT", "BTC/USDT"],
        view=dashboard(mode=mode),
    )
    return {node.id: node for node in walk(page) if getattr(node, "id", None)}


def test_layout_has_every_id_the_callbacks_use():
    found = layout_ids(Mode.SIM)
    mounted_later = {ids.PRICE_CHART, ids.EQUITY_CHART}  # join a moment after the page shows
    expected = {value for name, value in vars(ids).items() if name.isupper()} - mounted_later
    assert expected <= set(found)
    assert found[ids.SYMBOL_SELECT].value == "ETH/USDT"
    assert found[ids.SYMBOL_SELECT].clearable is False
    assert found[ids.EXCHANGE_LABEL].children == "local demo exchange"
    assert found[ids.MODE_SWITCH].value is True


def test_switch_starts_off_in_live_mode():
    assert layout_ids(Mode.LIVE)[ids.MODE_SWITCH].value is False


# --- position monitor ----------------------------------------------------------------------


def orphan_db(symbol: str = "ETH/USDT", account: str = "main") -> Discrepancy:
    return Discrepancy(
        DiscrepancyKind.ORPHAN_DB, account, symbol, D("1.4686762"), None, D("3400"), None
    )


def orphan_exchange(symbol: str = "BTC/USDT", account: str = "main") -> Discrepancy:
    return Discrepancy(
        DiscrepancyKind.ORPHAN_EXCHANGE, account, symbol, None, D("0.05"), None, D("97000")
    )


def adopt_actions(account: str = "main") -> list[SyncAction]:
    return [
        SyncAction(
            ActionKind.CLOSE,
            account,
            "ETH/USDT",
            D("1.4686762"),
            D(0),
            None,
            DiscrepancyKind.ORPHAN_DB,
        ),
        SyncAction(
            ActionKind.CREATE,
            account,
            "BTC/USDT",
            None,
            D("0.05"),
            D("97000"),
            DiscrepancyKind.ORPHAN_EXCHANGE,
        ),
    ]


def out_of_sync(account: str = "main") -> AccountCheck:
    return AccountCheck(
        account,
        discrepancies=[orphan_exchange(account=account), orphan_db(account=account)],
        actions=adopt_actions(account),
        api_calls=3,
        duration_ms=12,
    )


def body_rows(parts: list) -> list[list[str]]:
    """The cells' text of the table among a builder's parts."""
    [table] = [part for part in parts if isinstance(part, dbc.Table)]
    return [[text_of(c) for c in row] for row in cells(table.children)]


def test_counts_text_names_each_kind_in_order():
    assert monitor.counts_text({"create": 1, "close": 2}) == "2 close, 1 create"
    assert monitor.counts_text({}) == "none"


def test_discrepancies_are_grouped_by_kind_with_both_sides():
    second_account = AccountCheck("spare", discrepancies=[orphan_db("SOL/USDT", "spare")])
    parts = monitor.discrepancy_table([out_of_sync(), second_account])
    assert text_of(parts[0]) == "3 found: 2 orphan_db, 1 orphan_exchange."
    assert body_rows(parts) == [
        ["orphan_db", "main", "ETH/USDT", "1.4686762", "—", "3,400.00", "—", *["—"] * 5],
        ["orphan_db", "spare", "SOL/USDT", "1.4686762", "—", "3,400.00", "—", *["—"] * 5],
        [
            "orphan_exchange",
            "main",
            "BTC/USDT",
            "—",
            "0.05",
            "—",
            "97,000.00",
            "—",
            "LONG",
            *["—"] * 3,
        ],
    ]


def test_a_side_mismatch_shows_the_exchange_side_entry_leverage_and_liquidation():
    flipped = Discrepancy(
        DiscrepancyKind.SIDE_MISMATCH,
        "desk",
        "BTC/USDT:USDT",
        D("0.5"),
        D("-0.5"),
        D("96000"),
        D("96500"),
        entry_price=D("97000"),
        leverage=D("5"),
        liquidation_price=D("115400"),
    )
    parts = monitor.discrepancy_table([AccountCheck("desk", "BYBIT", discrepancies=[flipped])])
    assert body_rows(parts) == [
        [
            "side_mismatch",
            "desk",
            "BTC/USDT:USDT",
            "0.5",
            "-0.5",
            "96,000.00",
            "96,500.00",
            "BYBIT",
            "SHORT",
            "97,000.00",
            "5x",
            "115,400.00",
        ]
    ]


def test_no_discrepancies_says_in_sync_only_when_every_account_answered():
    in_sync = monitor.discrepancy_table([AccountCheck("main")])
    assert body_rows(in_sync) == [["None: the database matches the exchange."]]
    failed = AccountCheck("spare", error="mexc GET /api/v3/account: 500")
    partly = monitor.discrepancy_table([AccountCheck("main"), failed])
    assert body_rows(partly) == [["None in the accounts that answered."]]


def test_account_alerts_show_failed_accounts_as_failed_never_flat():
    failed = monitor.account_alert(AccountCheck("spare", error="timed out"))
    assert failed.color == "danger"
    assert failed.children.startswith("spare: exchange check failed: timed out.")
    assert "not taken as flat" in failed.children
    drifted = monitor.account_alert(out_of_sync())
    assert drifted.color == "warning"
    assert drifted.children == (
        "main: 2 discrepancies (1 orphan_db, 1 orphan_exchange); 3 API calls, 12 ms"
    )
    in_sync = monitor.account_alert(AccountCheck("main", api_calls=3, duration_ms=9))
    assert (in_sync.color, in_sync.children) == ("success", "main: in sync; 3 API calls, 9 ms")


def test_plan_is_previewed_or_applied_with_counts_per_action():
    preview = monitor.plan_table([out_of_sync()], monitor.Step.PREVIEW)
    assert text_of(preview[0]) == "Adopt plan, not applied yet: 1 close, 1 create."
    assert body_rows(preview) == [
        ["create", "main", "BTC/USDT", "—", "0.05", "97,000.00", "orphan_exchange"],
        ["close", "main", "ETH/USDT", "1.4686762", "0", "—", "orphan_db"],
    ]
    applied = monitor.plan_table([out_of_sync()], monitor.Step.APPLY)
    assert text_of(applied[0]) == "Applied to the database: 1 close, 1 create."
    nothing = monitor.plan_table([AccountCheck("main")], monitor.Step.PREVIEW)
    assert body_rows(nothing) == [["Nothing to change."]]


def test_monitor_outcome_of_each_step():
    diagnosed = monitor.monitor_outcome([out_of_sync()], monitor.Step.DIAGNOSE, T0)
    assert text_of(diagnosed.status[0]) == (
        "Diagnosed (report: nothing changed) at 2026-11-21 12:00:00 UTC."
    )
    assert text_of(diagnosed.plan) == monitor.PLAN_HINT
    assert len(body_rows(diagnosed.discrepancies)) == 2
    applied = monitor.monitor_outcome([out_of_sync()], monitor.Step.APPLY, T0)
    assert text_of(applied.status[0]).startswith("Applied the adopt sync to the database")
    assert len(body_rows(applied.plan)) == 2


def test_monitor_failure_says_which_step_failed_and_shows_no_verdict():
    failure = monitor.monitor_failure(
        "LIVE needs API keys: set EXCHANGE_API_KEY", monitor.Step.PREVIEW, T0
    )
    [alert] = failure.status
    assert alert.color == "danger"
    assert alert.children == (
        "Preview sync failed at 2026-11-21 12:00:00 UTC: LIVE needs API keys: set EXCHANGE_API_KEY"
    )
    assert text_of(failure.discrepancies) == text_of(failure.plan) == monitor.NOT_CHECKED


def test_monitor_history_rows():
    runs = [
        MonitorRunView(
            T0,
            "main",
            "adopt",
            True,
            "main: 2 discrepancies",
            {"orphan_exchange": 1, "orphan_db": 1},
            {"create": 1, "close": 1},
            12,
            3,
        ),
        MonitorRunView(
            T0, "spare", "report", False, "spare: exchange check failed: 500", {}, {}, 4, 1
        ),
    ]
    applied, failed = cells(monitor.history_rows(runs))
    assert [text_of(c) for c in applied] == [
        "2026-11-21 12:00:00 UTC",
        "main",
        "adopt",
        "OK",
        "1 orphan_db, 1 orphan_exchange",
        "1 close, 1 create",
        "12 ms",
        "3",
    ]
    assert text_of(failed[3]) == "FAILED: spare: exchange check failed: 500"
    assert failed[3].className == "text-danger"
    assert text_of(failed[5]) == "none"
    assert text_of(monitor.history_rows([])).endswith("No monitor runs recorded yet.")


# --- the trade buttons as the book allows them ----------------------------------------------


def test_a_halted_book_disables_every_trade_button_with_the_reason_on_it():
    halted = "trading halted by flatten at 2026-12-03 07:12:03 UTC; resume to trade"
    buttons, reason = components.trade_buttons(halted, busy=False, quote="USDT")
    assert reason == "Trading halted by flatten at 2026-12-03 07:12:03 UTC; Resume to trade"
    assert [b.disabled for b in buttons] == [True, True, True]
    assert {b.title for b in buttons} == {reason}
    labels = [b.children[0] for b in buttons]
    assert labels == ["BUY", "SELL", "CLOSE"]
    assert all(b.children[1].children == "halted" for b in buttons)


def test_a_running_trade_disables_the_buttons_until_it_ends():
    busy, reason = components.trade_buttons(None, busy=True, quote="USDT")
    assert reason is None and all(b.disabled for b in busy)
    assert {b.title for b in busy} == {components.RUNNING}
    idle, _ = components.trade_buttons(None, busy=False, quote="USDT")
    assert [(b.children, b.disabled) for b in idle] == [
        ("BUY", False),
        ("SELL", False),
        ("CLOSE", False),
    ]
    assert idle[1].title == "Go SHORT (in USDT)"


def test_the_key_confirmation_says_what_would_be_sent():
    from core.service import InputError
    from web.keys import confirmation_words

    buy = confirmation_words("buy", "ETH/USDT", "sim", ("10", "pct"), ("3300", ""), ("", "pct"))
    assert buy[0] == "BUY ETH/USDT in SIM."
    assert "10 % of free USDT" in buy[1] and "stop-loss 3300" in buy[2]
    close = confirmation_words("close", "ETH/USDT", "live", ("", ""), ("", ""), ("50", "pct"))
    assert close[:2] == [
        "CLOSE ETH/USDT in LIVE.",
        "Sells 50 % of the holding; the rest stays LONG under its stop.",
    ]
    sell = confirmation_words("sell", "ETH/USDT", "sim", ("", ""), ("", ""), ("", "pct"))
    assert sell[1] == "Sells it all into USDT."
    with pytest.raises(InputError, match="at most 100"):
        confirmation_words("close", "ETH/USDT", "sim", ("", ""), ("", ""), ("150", "pct"))
    priced = ("buy", "ETH/USDT", "sim", ("10", "pct"), ("", ""), ("", "pct"))
    assert "At 3300.5: it rests as a working order" in confirmation_words(*priced, "3300.5")[2]
    with pytest.raises(InputError, match="use a dot for decimals"):
        confirmation_words(*priced, "3300,5")
