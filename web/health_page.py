"""The Sync health page: how often syncs succeed, how much drift the accounts had and how fast
it was repaired, how long syncs take and what they cost in exchange calls, and the book's
alerts with their delivery. Database reads only, on the refresh tick, only while the page shows."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, no_update
from dash.exceptions import PreventUpdate

from core.insights.views import AlertRecord, HealthView
from core.service import AppError
from web import formatting as fmt
from web import ids
from web import insights_components as ui
from web import insights_figures as figures
from web import insights_ids as iids
from web.insights_callbacks import register_csv_downloads
from web.page_tabs import page_tick
from web.sent_parts import changed_only

DEFAULT_WINDOW = "24h"
ACCOUNT_COLUMNS = (
    ("account", "Account"),
    ("runs", "Runs"),
    ("success", "Success"),
    ("p50", "p50"),
    ("p95", "p95"),
    ("calls", "Calls / sync"),
    ("drift", "Drift events"),
    ("open", "Open"),
    ("repair", "Repair median"),
    ("corrective", "Corrective orders"),
    ("last_good", "Last good sync"),
    ("ago", "Ago"),
    ("unresolved", "Unresolved orders"),
)
SYMBOL_COLUMNS = (
    ("account", "Account"),
    ("symbol", "Symbol"),
    ("runs", "Runs"),
    ("success", "Success"),
    ("drift", "Drift events"),
    ("open", "Open"),
    ("repair", "Repair median"),
    ("repair_max", "Longest"),
    ("corrective", "Corrective orders"),
)
OPEN_DRIFT_COLUMNS = (
    ("account", "Account"),
    ("symbol", "Symbol"),
    ("since", "Drifting since"),
    ("age", "For"),
)
ALERT_COLUMNS = (
    ("time", "Time"),
    ("kind", "Kind"),
    ("state", "State"),
    ("title", "Alert"),
    ("body", "Message"),
    ("delivery", "Delivery"),
    ("detail", "Delivery detail"),
)
DELIVERY_COLOURS = {"sent": ui.GAIN, "failed": ui.LOSS, "pending": ui.WARN, "no urls": ui.MUTED}
EXPORTS = {iids.HEALTH_EXPORT_SYNCS: "syncs", iids.HEALTH_EXPORT_ALERTS: "alerts"}
# Each part of the page the refresh keeps current: (component id, property).
PARTS = (
    (iids.HEALTH_CAPTION, "children"),
    (iids.HEALTH_ACCOUNT, "options"),
    (iids.HEALTH_CARDS, "children"),
    (iids.HEALTH_RUNS_BOX, "children"),
    (iids.HEALTH_DRIFT_BOX, "children"),
    (iids.HEALTH_DURATION_BOX, "children"),
    (iids.HEALTH_ACCOUNTS, "data"),
    (iids.HEALTH_SYMBOLS, "data"),
    (iids.HEALTH_OPEN_DRIFT, "data"),
    (iids.HEALTH_ALERTS, "data"),
    (iids.HEALTH_BOOK, "data"),
)


def health_tab() -> dbc.Tab:
    pickers = [
        ui.window_select(iids.HEALTH_WINDOW, DEFAULT_WINDOW),
        ui.account_select(iids.HEALTH_ACCOUNT),
    ]
    buttons = [
        ui.export_button(iids.HEALTH_EXPORT_SYNCS, "Sync runs CSV"),
        ui.export_button(iids.HEALTH_EXPORT_ALERTS, "Alerts CSV"),
    ]
    charts = dbc.Row(
        [
            dbc.Col(
                ui.card("Runs and success rate", ui.chart_box(iids.HEALTH_RUNS_BOX, 260)), lg=5
            ),
            dbc.Col(ui.card("Drift events", ui.chart_box(iids.HEALTH_DRIFT_BOX, 260)), lg=4),
            dbc.Col(ui.card("Sync duration", ui.chart_box(iids.HEALTH_DURATION_BOX, 260)), lg=3),
        ]
    )
    drift_colour = [{"if": {"column_id": "open", "filter_query": "{open} > 0"}, "color": ui.WARN}]
    tables = [
        ui.card("Accounts", ui.data_table(iids.HEALTH_ACCOUNTS, ACCOUNT_COLUMNS, drift_colour)),
        dbc.Row(
            [
                dbc.Col(
                    ui.card("Symbols", ui.data_table(iids.HEALTH_SYMBOLS, SYMBOL_COLUMNS)), lg=8
                ),
                dbc.Col(
                    ui.card(
                        "Open drift", ui.data_table(iids.HEALTH_OPEN_DRIFT, OPEN_DRIFT_COLUMNS)
                    ),
                    lg=4,
                ),
            ]
        ),
        ui.card("Alerts of the book shown, newest first", alerts_table()),
    ]
    return dbc.Tab(
        [
            ui.controls(pickers, buttons, iids.HEALTH_CAPTION),
            dbc.Row(id=iids.HEALTH_CARDS, className="g-2 mb-3"),
            charts,
            *tables,
            dcc.Store(id=iids.HEALTH_SEEN),
            dcc.Store(id=iids.HEALTH_BOOK),
            dcc.Download(id=iids.HEALTH_DOWNLOAD),
        ],
        label="Sync health",
        tab_id=iids.HEALTH_TAB,
    )


def alerts_table():
    colours = [
        {
            "if": {"filter_query": f'{{delivery}} = "{delivery}"', "column_id": "delivery"},
            "color": c,
        }
        for delivery, c in DELIVERY_COLOURS.items()
    ]
    table = ui.data_table(iids.HEALTH_ALERTS, ALERT_COLUMNS, colours)
    table.style_cell_conditional = [
        {"if": {"column_id": c}, "whiteSpace": "normal", "minWidth": "14rem"}
        for c in ("body", "detail")
    ]
    return table


# --- pure builders: views in, parts out -------------------------------------------------


def health_parts(
    view: HealthView, alerts: list[AlertRecord], accounts: list[str]
) -> dict[tuple[str, str], object]:
    """Every part the refresh keeps current, from one health view."""
    report = view.report
    runs, drift, duration = _charts(view)
    values = [
        ui.caption(view.mode.value, view.account, view.window, report.now),
        ui.account_options(accounts),
        health_cards(view),
        runs,
        drift,
        duration,
        account_rows(view),
        symbol_rows(view),
        open_drift_rows(view),
        alert_rows(alerts),
        view.mode.value,
    ]
    return dict(zip(PARTS, values, strict=True))


def _charts(view: HealthView):
    report = view.report
    return (
        ui.graph(iids.HEALTH_RUNS_CHART, figures.runs_figure(report.series, report.bucket)),
        ui.graph(iids.HEALTH_DRIFT_CHART, figures.drift_figure(report.series, report.bucket)),
        ui.graph(
            iids.HEALTH_DURATION_CHART,
            figures.duration_figure(
                report.durations_ms, report.runs.duration_p50_ms, report.runs.duration_p95_ms
            ),
        ),
    )


def health_cards(view: HealthView) -> list[dbc.Col]:
    report = view.report
    runs, drift = report.runs, report.drift
    stalest = max(
        (a for a in report.accounts if a.since_last_good_sync is not None),
        key=lambda a: a.since_last_good_sync,
        default=None,
    )
    reasons = ", ".join(f"{n} {r}" for r, n in sorted(report.corrective.by_reason.items()))
    return [
        ui.stat_card(
            "Success rate",
            ui.pct(runs.success_pct),
            f"{runs.ok} of {runs.runs} runs ok" if runs.runs else "no runs in this window",
            _success_class(runs.success_pct),
        ),
        ui.stat_card(
            "Duration p50 / p95",
            f"{ui.milliseconds(runs.duration_p50_ms)} / {ui.milliseconds(runs.duration_p95_ms)}",
        ),
        ui.stat_card(
            "Calls per sync",
            fmt.MISSING if runs.api_calls_mean is None else fmt.money(runs.api_calls_mean),
            f"at most {runs.api_calls_max}" if runs.api_calls_max is not None else "",
        ),
        ui.stat_card(
            "Drift events",
            str(drift.events),
            f"{drift.open} open, {drift.repaired} repaired",
            "text-warning" if drift.open else "",
        ),
        ui.stat_card(
            "Time to repair drift",
            ui.duration(drift.repair_median),
            f"median; longest {ui.duration(drift.repair_max)}" if drift.repaired else "",
        ),
        ui.stat_card("Corrective orders", str(report.corrective.total), reasons),
        ui.stat_card(
            "Since last good sync",
            ui.duration(stalest.since_last_good_sync) if stalest else fmt.MISSING,
            f"{stalest.account}, {fmt.timestamp(stalest.last_good_sync_at)}"
            if stalest
            else "no good sync recorded",
        ),
        ui.stat_card(
            "Unresolved orders",
            str(report.unresolved_orders),
            "of unknown outcome now",
            "text-danger" if report.unresolved_orders else "",
        ),
    ]


def _success_class(success_pct) -> str:
    if success_pct is None:
        return ""
    if success_pct == 100:
        return "text-success"
    return "text-warning" if success_pct >= 90 else "text-danger"


def account_rows(view: HealthView) -> list[dict]:
    rows = [
        {
            "account": a.account,
            "runs": a.runs.runs,
            "success": ui.pct(a.runs.success_pct),
            "p50": ui.milliseconds(a.runs.duration_p50_ms),
            "p95": ui.milliseconds(a.runs.duration_p95_ms),
            "calls": fmt.MISSING
            if a.runs.api_calls_mean is None
            else fmt.money(a.runs.api_calls_mean),
            "drift": a.drift.events,
            "open": a.drift.open,
            "repair": ui.duration(a.drift.repair_median),
            "corrective": a.corrective.total,
            "last_good": fmt.timestamp(a.last_good_sync_at),
            "ago": ui.duration(a.since_last_good_sync),
            "unresolved": a.unresolved_orders,
        }
        for a in view.report.accounts
    ]
    return rows or ui.empty_row("account", "No sync runs or orders recorded in this book yet.")


def symbol_rows(view: HealthView) -> list[dict]:
    rows = [
        {
            "account": s.account,
            "symbol": s.symbol,
            "runs": s.runs.runs,
            "success": ui.pct(s.runs.success_pct),
            "drift": s.drift.events,
            "open": s.drift.open,
            "repair": ui.duration(s.drift.repair_median),
            "repair_max": ui.duration(s.drift.repair_max),
            "corrective": s.corrective.total,
        }
        for s in view.report.symbols
    ]
    return rows or ui.empty_row("account", "No symbol synced in this book yet.")


def open_drift_rows(view: HealthView) -> list[dict]:
    rows = [
        {
            "account": d.account,
            "symbol": d.symbol,
            "since": fmt.timestamp(d.started_at),
            "age": ui.duration(d.age),
        }
        for d in view.report.open_drift
    ]
    return rows or ui.empty_row("account", "None open.")


def alert_rows(alerts: list[AlertRecord]) -> list[dict]:
    rows = [
        {
            "time": fmt.timestamp(a.time),
            "kind": a.kind,
            "state": a.state,
            "title": a.title,
            "body": a.body,
            "delivery": a.delivery,
            "detail": a.delivery_detail or "",
        }
        for a in alerts
    ]
    return rows or ui.empty_row("time", "No alerts sent yet.")


# --- callbacks --------------------------------------------------------------------------


def register_health_callbacks(app: dash.Dash, service) -> None:
    @app.callback(
        *(Output(component, prop) for component, prop in PARTS),
        Output(iids.HEALTH_SEEN, "data"),
        Input(page_tick(iids.HEALTH_TAB), "data"),
        Input(ids.PAGE_TABS, "active_tab"),
        Input(iids.HEALTH_WINDOW, "value"),
        Input(iids.HEALTH_ACCOUNT, "value"),
        State(iids.HEALTH_SEEN, "data"),
    )
    def refresh(_tick, tab, window, account, seen):
        """Only while the page shows; only the parts that changed since this tab's last."""
        if tab != iids.HEALTH_TAB:
            raise PreventUpdate
        insights = service.insights
        try:
            view = insights.health(window or DEFAULT_WINDOW, ui.account_of(account))
            alerts = insights.alerts(account=view.account, mode=view.mode)
            parts = health_parts(view, alerts, insights.accounts())
        except AppError as exc:
            failure = ui.failure(f"Sync health could not be read: {exc}")
            return failure, *(no_update for _ in PARTS[1:]), no_update
        return changed_only(parts, seen)

    register_csv_downloads(
        app,
        service,
        iids.HEALTH_DOWNLOAD,
        EXPORTS,
        (iids.HEALTH_BOOK, iids.HEALTH_WINDOW, iids.HEALTH_ACCOUNT),
        DEFAULT_WINDOW,
    )
