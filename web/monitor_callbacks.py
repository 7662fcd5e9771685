"""Callbacks of the position monitor view. Diagnose, preview and apply reach the exchange
only when clicked; the history is a database read, made only while the view is showing."""

from __future__ import annotations

from datetime import UTC, datetime

import dash
from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from core.service import AppError, Policy
from web import ids
from web import monitor_components as monitor
from web.page_tabs import MONITOR_TAB, page_tick

BUTTONS = (ids.MONITOR_DIAGNOSE, ids.MONITOR_PREVIEW, ids.MONITOR_APPLY)
STEPS = {
    f"{ids.MONITOR_DIAGNOSE}.n_clicks": monitor.Step.DIAGNOSE,
    f"{ids.MONITOR_PREVIEW}.n_clicks": monitor.Step.PREVIEW,
    f"{ids.MONITOR_CONFIRM}.submit_n_clicks": monitor.Step.APPLY,
}


def register_monitor_callbacks(app: dash.Dash, service) -> None:
    @app.callback(
        Output(ids.MONITOR_CONFIRM, "displayed"),
        Input(ids.MONITOR_APPLY, "n_clicks"),
        prevent_initial_call=True,
    )
    def ask_before_applying(clicks):
        return bool(clicks)

    @app.callback(
        Output(ids.MONITOR_STATUS, "children"),
        Output(ids.MONITOR_DISCREPANCIES, "children"),
        Output(ids.MONITOR_PLAN, "children"),
        Output(ids.MONITOR_APPLIED, "data"),
        Input(ids.MONITOR_DIAGNOSE, "n_clicks"),
        Input(ids.MONITOR_PREVIEW, "n_clicks"),
        Input(ids.MONITOR_CONFIRM, "submit_n_clicks"),
        State(ids.MONITOR_APPLIED, "data"),
        background=True,
        running=[(Output(button, "disabled"), True, False) for button in BUTTONS],
        prevent_initial_call=True,
    )
    def run_monitor(_diagnose, _preview, _confirmed, applied):
        """Diagnose reports, preview plans adopt, a confirmed apply writes the plan."""
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        step = STEPS[ctx.triggered[0]["prop_id"]]
        policy = Policy.REPORT if step is monitor.Step.DIAGNOSE else Policy.ADOPT
        execute = step is monitor.Step.APPLY
        try:
            checks = service.monitoring.run(policy, execute=execute)
        except AppError as exc:  # what keeps the monitor from running at all
            return (*monitor.monitor_failure(str(exc), step, datetime.now(UTC)), no_update)
        outcome = monitor.monitor_outcome(checks, step, datetime.now(UTC))
        return (*outcome, (applied or 0) + 1 if execute else no_update)

    @app.callback(
        Output(ids.MONITOR_HISTORY, "children"),
        Input(page_tick(MONITOR_TAB), "data"),
        Input(ids.PAGE_TABS, "active_tab"),
        Input(ids.MONITOR_APPLIED, "data"),
    )
    def history(_tick, tab, _applied):
        if tab != MONITOR_TAB:
            raise PreventUpdate
        return monitor.history_rows(service.monitoring.history())
