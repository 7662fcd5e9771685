"""What the command line prints and the pages show of a health or results view, built from
small records: JSON money exact and durations in seconds, tables with their figures, and an
empty book shown as sentences and empty charts, never an error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
from dash import html

from cli import insights_render as render
from cli.render import to_json
from core.domain import Mode
from core.insights.health import OBSERVATION_COLUMNS, ORDER_COLUMNS, RUN_COLUMNS, compute_health
from core.insights.ledger_fold import compute_results
from core.insights.results import ENTRY_COLUMNS
from core.insights.views import HealthView, ResultsView
from web import health_page, insights_figures, results_page
from web import insights_components as ui
from web import insights_ids as iids
from web.sent_parts import changed_only, digest

D = Decimal
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
ETH = "ETH/USDT"


def health_view(empty: bool = False) -> HealthView:
    runs = pd.DataFrame(
        []
        if empty
        else [
            (1, "main", "monitor", None, True, NOW - 50 * MIN, NOW - 50 * MIN, 120, 3),
            (2, "main", "trade", ETH, True, NOW - 30 * MIN, NOW - 30 * MIN, 480, 7),
            (3, "main", "monitor", None, False, NOW - 10 * MIN, NOW - 10 * MIN, 900, 3),
        ],
        columns=list(RUN_COLUMNS),
    )
    observations = pd.DataFrame(
        []
        if empty
        else [
            (1, NOW - 50 * MIN, "main", ETH, False),  # drift starts
            (2, NOW - 30 * MIN, "main", ETH, True),  # repaired by the trade after 20 min
        ],
        columns=list(OBSERVATION_COLUMNS),
    )
    orders = pd.DataFrame(
        [] if empty else [("main", ETH, "buy", "enforce", NOW - 45 * MIN, "unknown")],
        columns=list(ORDER_COLUMNS),
    )
    report = compute_health(runs, observations, orders, NOW, NOW - timedelta(hours=1))
    return HealthView(Mode.LIVE, None, "1h", report)


def results_view(empty: bool = False) -> ResultsView:
    fills = pd.DataFrame(
        []
        if empty
        else [
            ("main", ETH, "buy", D("0.5"), D("2000"), D("0.0005"), "ETH", D("1"), NOW - 60 * MIN),
            ("main", ETH, "sell", D("0.4995"), D("2100.10"), D("1.05"), "USDT", D("1.05"), NOW),
        ],
        columns=list(ENTRY_COLUMNS[:-3]),
    ).assign(realized=D(0))
    equity = pd.DataFrame(
        []
        if empty
        else [(NOW - 60 * MIN, D("1000")), (NOW - 30 * MIN, D("990")), (NOW, D("1049"))],
        columns=["time", "equity"],
    )
    report = compute_results(fills, equity, NOW)
    return ResultsView(
        mode=Mode.SIM,
        account=None,
        window="all",
        quote="USDT",
        now=NOW,
        since=None,
        summary=report.overall,
        by_symbol=report.by_symbol,
        closed=report.closed,
        open=report.open,
        drawdown=report.drawdown,
        equity=tuple(zip(equity["time"], equity["equity"], strict=True)),
        # by average cost: 0.4995 delivered at 2000 sold at 2100.10; fees 1 (0.0005 ETH) + 1.05
        realized=D(0) if empty else D("49.99995"),
        fees=D(0) if empty else D("2.05"),
    )


def texts(component) -> str:
    """Every text in a component tree."""
    if isinstance(component, str | int):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(texts(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else texts(children)


def annotation(figure) -> str:
    return " ".join(a.text for a in figure.layout.annotations)


# --- the command line -------------------------------------------------------------------


def test_health_json_has_the_figures_with_durations_in_seconds():
    data = json.loads(to_json(render.health_json(health_view())))
    assert data["mode"] == "live" and data["window"] == "1h" and data["account"] is None
    assert data["runs"] == {
        "runs": 3,
        "ok": 2,
        "failed": 1,
        "success_pct": "66.6667",
        "duration_p50_ms": 480,
        "duration_p95_ms": 900,
        "api_calls_mean": "4.3333",
        "api_calls_max": 7,
    }
    assert data["drift"]["events"] == 1 and data["drift"]["repaired"] == 1
    assert data["drift"]["repair_median_s"] == 1200.0
    assert data["corrective_orders"] == {"total": 1, "by_reason": {"enforce": 1}}
    assert data["unresolved_orders"] == 1
    [account] = data["accounts"]
    assert account["account"] == "main" and account["since_last_good_sync_s"] == 1800.0
    assert [s["symbol"] for s in data["symbols"]] == [ETH]
    assert data["series"]["bucket_s"] == 300.0
    assert sum(b["runs"] for b in data["series"]["buckets"]) == 3


def test_results_json_keeps_money_exact():
    data = json.loads(to_json(render.results_json(results_view())))
    [trip] = data["closed_trips"]
    assert D(trip["cost"]) == D("1000")
    assert trip["proceeds"] == "1048.999950"  # 0.4995 x 2100.10, every digit kept
    assert trip["profit"] == "47.949950"  # proceeds - cost - the fee paid in USDT
    assert data["summary"]["profit"] == "47.949950"
    assert data["summary"]["win_rate_pct"] == "100"
    assert data["drawdown"]["max_abs"] == "10"
    assert data["drawdown"]["peak_at"] == (NOW - 60 * MIN).isoformat()
    assert data["by_symbol"][ETH]["trips"] == 1
    assert data["open_trips"] == []
    assert (data["realized"], data["fees"]) == ("49.99995", "2.05")


def test_texts_say_what_an_empty_book_holds():
    assert "No sync runs or orders recorded in this book yet." in render.health_text(
        health_view(empty=True)
    )
    empty = render.results_text(results_view(empty=True))
    assert "No round trips recorded in this window yet." in empty
    assert "no equity recorded in this window" in empty


def test_the_health_text_lists_accounts_symbols_and_figures():
    text = render.health_text(health_view())
    assert "runs               3 (2 ok, 1 failed), success 66.67%" in text
    assert "drift              1 events (0 open, 1 repaired; repair median 20m 00s" in text
    assert "corrective orders  1 (1 enforce)" in text
    assert "main" in text and ETH in text


def test_durations_and_prices_read_as_people_write_them():
    assert render.duration(timedelta(seconds=45)) == "45s"
    assert render.duration(timedelta(minutes=3, seconds=5)) == "3m 05s"
    assert render.duration(timedelta(hours=2, minutes=1)) == "2h 01m"
    assert render.duration(timedelta(days=3, hours=4, minutes=9)) == "3d 04h"
    assert render.price(D("3400.34")) == "3,400.34"
    assert render.price(D("1.5")) == "1.50"
    assert render.price(D("0.00001234")) == "0.00001234"


# --- the pages --------------------------------------------------------------------------


def test_an_empty_book_shows_sentences_and_empty_charts():
    parts = health_page.health_parts(health_view(empty=True), [], ["main"])
    for box in (iids.HEALTH_RUNS_BOX, iids.HEALTH_DURATION_BOX):
        assert annotation(parts[(box, "children")].figure) == insights_figures.NO_RUNS
    assert parts[(iids.HEALTH_ALERTS, "data")] == [{"time": "No alerts sent yet."}]
    assert "no runs in this window" in texts(parts[(iids.HEALTH_CARDS, "children")])

    parts = results_page.results_parts(results_view(empty=True), ["main"])
    profit = parts[(iids.RESULTS_PROFIT_BOX, "children")].figure
    assert annotation(profit) == insights_figures.NO_TRIPS
    equity = parts[(iids.RESULTS_EQUITY_BOX, "children")].figure
    assert annotation(equity) == insights_figures.NO_EQUITY
    assert "0.00 USDT" in texts(parts[(iids.RESULTS_CARDS, "children")])


def test_the_health_page_shows_the_runs_the_drift_and_its_repair():
    parts = health_page.health_parts(health_view(), [], ["main", "perps"])
    cards = texts(parts[(iids.HEALTH_CARDS, "children")])
    assert "66.67%" in cards and "2 of 3 runs ok" in cards
    assert "0 open, 1 repaired" in cards and "20m 00s" in cards
    [account] = parts[(iids.HEALTH_ACCOUNTS, "data")]
    assert account["account"] == "main" and account["unresolved"] == 1
    assert parts[(iids.HEALTH_ACCOUNT, "options")][1:] == [
        {"label": "main", "value": "main"},
        {"label": "perps", "value": "perps"},
    ]
    runs = parts[(iids.HEALTH_RUNS_BOX, "children")].figure
    assert [trace.name for trace in runs.data] == ["ok", "failed", "success %"]
    assert sum(runs.data[1].y) == 1
    assert "LIVE book, all accounts, last hour" in parts[(iids.HEALTH_CAPTION, "children")]


def test_equal_median_and_p95_of_sync_durations_print_both_labels_apart():
    figure = insights_figures.duration_figure([90], 90, 90)
    labels = {a.text: a.xanchor for a in figure.layout.annotations}
    assert labels == {"p50 90 ms": "right", "p95 90 ms": "left"}


def test_the_results_page_shows_the_trip_its_profit_and_the_drawdown():
    parts = results_page.results_parts(results_view(), [], period="weekly")
    cards = texts(parts[(iids.RESULTS_CARDS, "children")])
    assert "+47.95 USDT" in cards and "1 won, 0 lost" in cards
    assert "10.00 USDT (1.00%)" in cards  # from 1000 down to 990
    assert "+50.00 USDT" in cards and "before 2.05 USDT of fees" in cards  # the Trading page's
    [trip] = parts[(iids.RESULTS_TRIPS, "data")]
    assert trip["profit"] == "+47.95 USDT" and trip["profit_pct"] == "+4.79%"
    profit = parts[(iids.RESULTS_PROFIT_BOX, "children")].figure
    assert [str(x) for x in profit.data[0].x] == ["2025-03-03"]  # the week of Monday 3 March
    equity = parts[(iids.RESULTS_EQUITY_BOX, "children")].figure
    assert [t.name for t in equity.data] == ["equity (USDT)", "drawdown %", "max drawdown"]


def test_a_refresh_sends_only_the_parts_that_changed():
    parts = {("a", "children"): html.Span("one"), ("b", "data"): [{"x": NOW}]}
    first = changed_only(parts, None)
    # sent as the plain JSON data the renderer receives
    span = {"type": "Span", "namespace": "dash_html_components", "props": {"children": "one"}}
    assert first[:2] == [span, [{"x": "2025-03-04T12:00:00+00:00"}]]
    seen = first[-1]
    again = changed_only(parts, seen)
    assert all(not isinstance(v, list | dict) for v in again)  # nothing resent
    parts[("b", "data")] = [{"x": NOW + MIN}]
    later = changed_only(parts, seen)
    assert later[1] == [{"x": "2025-03-04T12:01:00+00:00"}] and later[-1] != seen
    assert digest(insights_figures.message("x")) == digest(insights_figures.message("x"))


def test_the_account_picker_names_all_accounts_or_one():
    assert ui.account_of(ui.ALL_ACCOUNTS) is None
    assert ui.account_of(None) is None
    assert ui.account_of("perps") == "perps"
