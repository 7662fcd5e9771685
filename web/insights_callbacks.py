"""What the callbacks of both insights pages share: the CSV downloads of their exports."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import dash
from dash import Input, Output, State, ctx, dcc
from dash.exceptions import PreventUpdate

from core.service import Mode
from web import insights_components as ui

MODES = {mode.value: mode for mode in Mode}


def register_csv_downloads(
    app: dash.Dash,
    service,
    download_id: str,
    exports: dict[str, str],
    shown: tuple[str, str, str],
    default_window: str,
) -> None:
    """Each button of `exports` (button id -> table) sends that table's export to
    `download_id` as a file the browser saves: the rows of what the page shows, its `shown`
    (book store, window picker, account picker), the book named in the file's name."""
    book_id, window_id, account_id = shown

    @app.callback(
        Output(download_id, "data"),
        *(Input(button, "n_clicks") for button in exports),
        State(book_id, "data"),
        State(window_id, "value"),
        State(account_id, "value"),
        prevent_initial_call=True,
    )
    def download(*args):
        *_clicks, shown_mode, window, account = args
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        table, window = exports[ctx.triggered_id], window or default_window
        account = ui.account_of(account)
        mode = service.insights.book_mode(account, MODES.get(shown_mode))
        out = io.StringIO()
        service.insights.export(table, out, window, account, mode)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        return dcc.send_string(
            out.getvalue(), f"{table}-{mode.value}-{window}-{stamp}.csv", type="text/csv"
        )
