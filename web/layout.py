"""The page's skeleton. Values that change arrive through callbacks; the layout itself is
built per page load so the switch starts at the mode the account is in now."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from core.domain import Mode, quote_asset
from web import components, ids
from web import monitor_components as monitor

REFRESH_MS = 2_000
CHART_REFRESH_MS = 10_000
DEFAULT_SIZE = "95"
DEFAULT_UNIT = "pct"
TOAST_MS = 12_000
TRADING_TAB, MONITOR_TAB = "trading", "monitor"
APPLY_QUESTION = (
    "Apply the adopt sync? The database is rewritten to match the exchange: positions it "
    "does not hold are closed, holdings it does not record are created, quantities and "
    "prices are taken from it. No orders are sent."
)


def header(title: str, exchange_label: str) -> dbc.Navbar:
    return dbc.Navbar(
        dbc.Container(
            [
                html.Span(title, className="navbar-brand fw-bold"),
                html.Span(
                    ["Exchange: ", html.Strong(exchange_label, id=ids.EXCHANGE_LABEL)],
                    className="header-item",
                ),
                dbc.Badge("", id=ids.MODE_BADGE, color="secondary", className="mode-badge"),
                html.Span(id=ids.MODE_DETAIL, className="header-item header-detail"),
                html.Span(id=ids.LAST_SYNC, className="header-item ms-auto"),
            ],
            fluid=True,
            className="header-bar",
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )


def market_card(symbols: list[str]) -> dbc.Card:
    selector = dcc.Dropdown(
        id=ids.SYMBOL_SELECT,
        options=[{"label": s, "value": s} for s in symbols],
        value=symbols[0],
        clearable=False,
        searchable=False,
        className="symbol-select",
    )
    return dbc.Card(
        dbc.CardBody(
            html.Div(
                [selector, html.Div(id=ids.MARKET_STRIP, className="market-strip")],
                className="market-row",
            )
        ),
        className="mb-3",
    )


def _card(title: str, body, class_name: str = "mb-3") -> dbc.Card:
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)], className=class_name)


def trade_panel(quote: str, simulated: bool) -> dbc.Card:
    size = dbc.InputGroup(
        [
            dbc.Input(
                id=ids.ORDER_SIZE,
                type="text",
                inputmode="decimal",
                value=DEFAULT_SIZE,
                autocomplete="off",
                placeholder="e.g. 95",
            ),
            dbc.Select(
                id=ids.ORDER_SIZE_UNIT,
                options=[
                    {"label": f"% of free {quote}", "value": "pct"},
                    {"label": quote, "value": "quote"},
                ],
                value=DEFAULT_UNIT,
                className="unit-select",
            ),
            dbc.FormFeedback(id=ids.ORDER_SIZE_FEEDBACK, type="invalid"),
        ],
        className="has-validation",
    )
    buttons = html.Div(
        [
            dbc.Button("BUY", id=ids.TRADE_BUY, color="success", title="Go LONG"),
            dbc.Button("SELL", id=ids.TRADE_SELL, color="danger", title=f"Go SHORT (in {quote})"),
            dbc.Button("CLOSE", id=ids.TRADE_CLOSE, color="secondary", title="Go to NO_POSITION"),
        ],
        className="trade-buttons",
    )
    return _card(
        "Trade",
        [
            dbc.Label("Order size (BUY)", html_for=ids.ORDER_SIZE, className="stat-label"),
            size,
            buttons,
            html.Div(
                f"BUY holds the coin (LONG), SELL moves it into {quote} (SHORT on spot), "
                "CLOSE leaves no position.",
                className="small text-muted mt-2",
            ),
            html.Hr(),
            dbc.Switch(
                id=ids.MODE_SWITCH,
                label="Simulation (paper trading)",
                value=simulated,
            ),
            dbc.Alert(id=ids.MODE_MESSAGE, is_open=False, dismissable=True, className="mt-2 mb-0"),
        ],
    )


GAIN, LOSS, MUTED = "#2fb380", "#e0474c", "#8a8f95"


def positions_table() -> dash_table.DataTable:
    """Positions as a DataTable: hundreds of rows page and sort in the browser, and each
    refresh sends one list of texts. Gains and losses are coloured by the sign the text
    shows."""
    coloured = [
        {
            "if": {"filter_query": f'{{{column}}} contains "{sign}"', "column_id": column},
            "color": colour,
        }
        for column in ("unrealized", "realized")
        for sign, colour in (("+", GAIN), ("-", LOSS))
    ]
    states = [
        {
            "if": {"filter_query": '{state} = "LONG"', "column_id": "state"},
            "color": GAIN,
            "fontWeight": 600,
        },
        {
            "if": {"filter_query": '{state} contains "SHORT"', "column_id": "state"},
            "color": LOSS,
            "fontWeight": 600,
        },
    ]
    return dash_table.DataTable(
        id=ids.POSITIONS_TABLE,
        columns=[{"id": key, "name": name} for key, name in components.POSITION_COLUMNS],
        data=[],
        page_size=15,
        sort_action="native",
        style_as_list_view=True,
        style_table={"overflowX": "auto"},
        style_header={
            "backgroundColor": "#15191e",
            "color": MUTED,
            "fontWeight": 600,
            "border": "none",
        },
        style_cell={
            "backgroundColor": "#15191e",
            "color": "#e8e8e8",
            "border": "none",
            "borderBottom": "1px solid #262c33",
            "fontFamily": "inherit",
            "fontSize": "0.82rem",
            "textAlign": "left",
            "padding": "0.3rem 0.5rem",
            "whiteSpace": "nowrap",
        },
        style_data_conditional=[*states, *coloured],
    )


def _table(table_id: str) -> dbc.Table:
    return dbc.Table(
        id=table_id, size="sm", hover=True, striped=True, responsive=True, className="mb-0"
    )


def history_tabs() -> dbc.Card:
    return dbc.Card(
        dbc.Tabs(
            [
                dbc.Tab(_table(ids.FILLS_TABLE), label="Fills", tab_id="fills", class_name="p-2"),
                dbc.Tab(
                    _table(ids.ORDERS_TABLE), label="Orders", tab_id="orders", class_name="p-2"
                ),
                dbc.Tab(_table(ids.SYNC_LOG), label="Sync log", tab_id="sync", class_name="p-2"),
            ],
            active_tab="fills",
        ),
        className="mb-3 history",
    )


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, config={"displaylogo": False, "displayModeBar": False})


def monitor_page() -> dbc.Row:
    """The position monitor: every button reads the exchange once; nothing runs on a tick."""
    buttons = html.Div(
        [
            dbc.Button(
                monitor.Step.DIAGNOSE.value,
                id=ids.MONITOR_DIAGNOSE,
                color="primary",
                title="Compare the database with the exchange; changes nothing",
            ),
            dbc.Button(
                monitor.Step.PREVIEW.value,
                id=ids.MONITOR_PREVIEW,
                color="secondary",
                title="Show what adopt would change; changes nothing",
            ),
            dbc.Button(
                monitor.Step.APPLY.value,
                id=ids.MONITOR_APPLY,
                color="warning",
                title="Rewrite the database to match the exchange, after you confirm",
            ),
        ],
        className="monitor-buttons",
    )
    intro = html.P(
        "Compares the positions recorded in the database with what the LIVE exchange "
        "account holds, in SIM mode too (paper trades are never compared). Adopt takes "
        "the exchange as right and sends no orders.",
        className="small text-muted",
    )
    controls = _card(
        "Position monitor",
        [intro, buttons, html.Div(id=ids.MONITOR_STATUS, className="mt-3")],
    )
    found = [
        _card(
            "Discrepancies",
            html.Div(monitor.hint(monitor.DIAGNOSE_HINT), id=ids.MONITOR_DISCREPANCIES),
        ),
        _card("Sync plan", html.Div(monitor.hint(monitor.PLAN_HINT), id=ids.MONITOR_PLAN)),
    ]
    return dbc.Row(
        [
            dbc.Col(controls, lg=4),
            dbc.Col(found, lg=8),
            dbc.Col(_card("Monitor history", _table(ids.MONITOR_HISTORY), "mb-3 history")),
        ]
    )


def trading_page(symbols: list[str], mode: Mode) -> list[dbc.Row]:
    quote = quote_asset(symbols[0])
    left = [
        market_card(symbols),
        dbc.Alert(id=ids.EXCHANGE_ALERT, color="danger", is_open=False, className="mb-3"),
        _card("Positions", positions_table()),
        _card("Price", _graph(ids.PRICE_CHART)),
    ]
    right = [
        trade_panel(quote, simulated=mode is Mode.SIM),
        dbc.Row(id=ids.PNL_CARDS, className="g-2 mb-3"),
        _card(f"Equity ({quote})", _graph(ids.EQUITY_CHART)),
    ]
    return [
        dbc.Row([dbc.Col(left, lg=8), dbc.Col(right, lg=4)]),
        dbc.Row(dbc.Col(history_tabs())),
    ]


def build_layout(*, title: str, exchange_label: str, symbols: list[str], mode: Mode) -> html.Div:
    pages = dbc.Tabs(
        [
            dbc.Tab(trading_page(symbols, mode), label="Trading", tab_id=TRADING_TAB),
            dbc.Tab(monitor_page(), label="Position monitor", tab_id=MONITOR_TAB),
        ],
        id=ids.PAGE_TABS,
        active_tab=TRADING_TAB,
        className="page-tabs mb-3",
    )
    return html.Div(
        [
            header(title, exchange_label),
            dbc.Container(pages, fluid=True),
            dbc.Toast(
                id=ids.TRADE_TOAST,
                header="",
                is_open=False,
                dismissable=True,
                duration=TOAST_MS,
                className="trade-toast",
            ),
            dcc.ConfirmDialog(id=ids.LIVE_CONFIRM),
            dcc.ConfirmDialog(id=ids.MONITOR_CONFIRM, message=APPLY_QUESTION),
            dcc.Store(id=ids.TRADE_DONE, data=0),
            dcc.Store(id=ids.MODE_CHANGED, data=0),
            dcc.Store(id=ids.KNOWN_MODE, data=mode.value),
            dcc.Store(id=ids.MONITOR_APPLIED, data=0),
            dcc.Interval(id=ids.REFRESH, interval=REFRESH_MS),
            dcc.Interval(id=ids.CHART_REFRESH, interval=CHART_REFRESH_MS),
        ]
    )
