"""Pure builders both insights pages share: the window and account pickers, stat cards, dark
tables and the texts of percentages and durations. Views in, components out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from core.insights.views import WINDOWS, duration_text
from web import formatting as fmt
from web import theme

ALL_ACCOUNTS = "*"
WINDOW_LABELS = {"1h": "last hour", "24h": "last 24 hours", "7d": "last 7 days", "all": "all time"}
GAIN, LOSS, MUTED, WARN = theme.GAIN, theme.LOSS, theme.MUTED, theme.WARN
TABLE_ROWS = 10


def window_select(select_id: str, value: str) -> dbc.Select:
    return dbc.Select(
        id=select_id,
        options=[{"label": WINDOW_LABELS[w], "value": w} for w in WINDOWS],
        value=value,
        size="sm",
        style={"width": "auto"},
    )


def account_select(select_id: str) -> dbc.Select:
    """Every account of the book, or one; the refresh fills in the accounts."""
    return dbc.Select(
        id=select_id,
        options=account_options([]),
        value=ALL_ACCOUNTS,
        size="sm",
        style={"width": "auto"},
    )


def account_options(names: Sequence[str]) -> list[dict]:
    return [
        {"label": "All accounts", "value": ALL_ACCOUNTS},
        *({"label": name, "value": name} for name in names),
    ]


def account_of(value: str | None) -> str | None:
    """The account a picker names; None for all of them."""
    return None if value in (None, "", ALL_ACCOUNTS) else value


def controls(pickers: list, buttons: list, caption_id: str) -> dbc.Card:
    """The pickers and export buttons in one row, and the caption saying what is shown."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [*pickers, html.Div(buttons, className="ms-auto d-flex gap-2")],
                    className="d-flex flex-wrap gap-2 align-items-center",
                ),
                html.Div(id=caption_id, className="small text-muted mt-2"),
            ]
        ),
        className="mb-3",
    )


def failure(text: str) -> html.Span:
    """A caption that says the page could not be read, and why."""
    return html.Span(text, className="text-danger")


def export_button(button_id: str, label: str) -> dbc.Button:
    return dbc.Button(
        label, id=button_id, color="secondary", outline=True, size="sm", title="Download as CSV"
    )


def caption(mode_value: str, account: str | None, window: str, now: datetime) -> str:
    who = "all accounts" if account is None else f"account {account}"
    span = WINDOW_LABELS.get(window, f"last {window}")
    return f"{mode_value.upper()} book, {who}, {span}; as of {fmt.timestamp(now)}."


def stat_card(label: str, value: str, note: str = "", value_class: str = "") -> dbc.Col:
    body = [
        html.Div(label, className="stat-label"),
        html.Div(value, className=f"pnl-value {value_class}".strip()),
    ]
    if note:
        body.append(html.Div(note, className="small text-muted"))
    return dbc.Col(dbc.Card(dbc.CardBody(body), className="pnl-card h-100"), xs=6, md=4, xl=3)


def card(title, body, class_name: str = "mb-3") -> dbc.Card:
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)], className=class_name)


def chart_box(box_id: str, height: int) -> html.Div:
    """Where a chart goes once its page shows: plotly.js loads only then."""
    return html.Div(
        dbc.Spinner(size="sm", color="secondary"),
        id=box_id,
        className="chart-box",
        style={"minHeight": f"{height}px"},
    )


def graph(graph_id: str, figure) -> dcc.Graph:
    return dcc.Graph(
        id=graph_id, figure=figure, config={"displaylogo": False, "displayModeBar": False}
    )


def data_table(
    table_id: str, columns: Sequence[tuple[str, str]], conditional: Sequence[dict] = ()
) -> dash_table.DataTable:
    """A dark table, ten rows to a page: plain texts in, sorted and paged in the browser."""
    return dash_table.DataTable(
        id=table_id,
        columns=[{"id": key, "name": name} for key, name in columns],
        data=[],
        page_size=TABLE_ROWS,
        style_as_list_view=True,
        style_table={"overflowX": "auto"},
        style_header=theme.HEADER,
        style_cell=theme.CELL,
        style_data_conditional=list(conditional),
    )


def signed_colours(*columns: str) -> list[dict]:
    """Green for a text that starts with +, red for one that starts with -."""
    return [
        {"if": {"filter_query": f'{{{column}}} contains "{sign}"', "column_id": column}, "color": c}
        for column in columns
        for sign, c in (("+", GAIN), ("-", LOSS))
    ]


def empty_row(first_column: str, text: str) -> list[dict]:
    """The one row an empty table shows: a sentence in its first column."""
    return [{first_column: text}]


def pct(value: Decimal | None) -> str:
    """`98.33%`, unsigned (a rate, not a change)."""
    return fmt.MISSING if value is None else f"{fmt.money(value)}%"


def duration(value: timedelta | None) -> str:
    return fmt.MISSING if value is None else duration_text(value)


def milliseconds(value: int | None) -> str:
    return fmt.MISSING if value is None else f"{value:,} ms"
