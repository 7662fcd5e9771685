"""What the callbacks of both insights pages share: the CSV downloads of their exports."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import dash
from dash import Input, Output, State, ctx, dcc
from dash.exceptions import PreventUpdate

from web import insights_components as ui


def register_csv_downloads(
    app: dash.Dash,
    service,
    download_id: str,
    exports: dict[str, str],
    window_id: str,
    account_id: str,
    default_window: str,
) -> None:
    """Each button of `exports` (button id -> table) sends that table's export over the
    page's chosen window and account to `download_id` as a file the browser saves."""

    @app.callback(
        Output(download_id, "data"),
        *(Input(button, "n_clicks") for button in exports),
        State(window_id, "value"),
        State(account_id, "value"),
        prevent_initial_call=True,
    )
    def download(*args):
        *_clicks, window, account = args
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        table, window = exports[ctx.triggered_id], window or default_window
        out = io.StringIO()
        service.insights.export(table, out, window, ui.account_of(account))
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        return dcc.send_string(out.getvalue(), f"{table}-{window}-{stamp}.csv", type="text/csv")
