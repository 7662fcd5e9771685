"""The page's skeleton. Values that change arrive through callbacks; the layout itself is
built per page load so the switch starts at the mode the account is in now."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from core.service import Mode
from core.views import DashboardView
from web import (
    chart_controls,
    components,
    event_components,
    health_page,
    ids,
    keys,
    orders_panel,
    results_page,
    theme,
    ticket,
)
from web import formatting as fmt
from web import monitor_components as monitor
from web.page_tabs import MONITOR_TAB, TRADING_TAB, page_tick_stores

REFRESH_MS = 2_000
CONNECTION_CHECK_MS = 1_000
CHART_REFRESH_MS = 10_000
TOAST_MS = 12_000
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
                html.Span(
                    [
                        dbc.Badge("", id=ids.MODE_BADGE, color="secondary", className="mode-badge"),
                        dbc.Badge(
                            "DISCONNECTED",
                            id=ids.DISCONNECTED_BADGE,
                            color="secondary",
                            className="mode-badge disconnected-badge",
                            title="The page cannot reach the dashboard's server",
                        ),
                        html.Span(id=ids.MODE_DETAIL, className="header-item header-detail"),
                    ],
                    id=ids.CONNECTION,
                    className="connection",
                ),
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
        searchable=True,
        placeholder="Search any market",
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
                value=ticket.FIRST_SIZE,
                autocomplete="off",
                placeholder=ticket.FIRST_PLACEHOLDER,
            ),
            dbc.Select(
                id=ids.ORDER_SIZE_UNIT,
                options=ticket.size_unit_options(quote),
                value=ticket.FIRST_UNIT,
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
            html.Div(id=ids.TRADE_BLOCKED, className="trade-blocked"),
        ],
        className="trade-buttons",
    )
    return _card(
        "Trade",
        [
            dbc.Label("Order size (BUY)", html_for=ids.ORDER_SIZE, className="stat-label"),
            size,
            dbc.Label(
                "Limit price (empty: at the market)",
                html_for=ids.LIMIT_PRICE,
                className="stat-label mt-2",
            ),
            _price_input(ids.LIMIT_PRICE, "a price rests as a working order"),
            ticket.preview_box(),
            ticket.exit_part_fields(),
            buttons,
            keys.legend(),
            html.Div(id=ids.TRADE_STATUS, className="trade-status small mt-2"),
            trade_toast(),
            event_components.toast_box(),
            dbc.Alert(
                id=ids.BACKGROUND_ALERT, color="danger", is_open=False, className="mt-2 mb-0"
            ),
            stop_fields(),
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


def trade_toast() -> dbc.Toast:
    """What a click did, in the ticket under its buttons: in the page's flow, so it never
    covers a table or the kill switch's answer."""
    return dbc.Toast(
        id=ids.TRADE_TOAST,
        header="",
        is_open=False,
        dismissable=True,
        duration=TOAST_MS,
        className="trade-toast",
    )


def _price_input(component_id: str, placeholder: str) -> dbc.Input:
    return dbc.Input(
        id=component_id,
        type="text",
        inputmode="decimal",
        autocomplete="off",
        placeholder=placeholder,
        size="sm",
    )


def stop_fields() -> html.Div:
    """A stop-loss and take-profit for the symbol: given with BUY they protect the LONG it
    buys; Set and Remove change the stop of what is held now."""
    prices = dbc.InputGroup(
        [
            _price_input(ids.STOP_LOSS, "stop-loss price"),
            _price_input(ids.TAKE_PROFIT, "take-profit (optional)"),
            dbc.FormFeedback(id=ids.STOP_FEEDBACK, type="invalid"),
        ],
        size="sm",
        className="has-validation",
    )
    buttons = html.Div(
        [
            dbc.Button("Set stop", id=ids.STOP_SET, color="info", size="sm", outline=True),
            dbc.Button(
                "Remove stop", id=ids.STOP_CLEAR, color="secondary", size="sm", outline=True
            ),
        ],
        className="stop-buttons",
    )
    return html.Div(
        [
            dbc.Label("Stop (optional)", html_for=ids.STOP_LOSS, className="stat-label mt-3"),
            prices,
            buttons,
        ]
    )


def kill_switch_card() -> dbc.Card:
    """Flatten: cancel every order, close every position, halt trading; Resume lifts it.
    Both ask first, naming the account."""
    return _card(
        "Kill switch",
        [
            html.Div(
                [
                    dbc.Button("Flatten and halt", id=ids.FLATTEN, color="danger", outline=True),
                    dbc.Button("Resume trading", id=ids.RESUME, color="success", outline=True),
                ],
                className="stop-buttons",
            ),
            dbc.Alert(
                id=ids.PROTECTION_MESSAGE, is_open=False, dismissable=True, className="mt-2 mb-0"
            ),
        ],
    )


GAIN, LOSS, MUTED, WARN = theme.GAIN, theme.LOSS, theme.MUTED, theme.WARN


def _data_table(
    table_id: str, columns, data: list[dict], conditional: list, tips: dict | None = None
) -> dash_table.DataTable:
    """A dark DataTable: hundreds of rows page and sort in the browser, and each refresh
    sends one list of texts. Gains and losses are coloured by the sign the text shows."""
    coloured = [
        {
            "if": {"filter_query": f'{{{column}}} contains "{sign}"', "column_id": column},
            "color": colour,
        }
        for column in ("unrealized", "realized")
        for sign, colour in (("+", GAIN), ("-", LOSS))
    ]
    return dash_table.DataTable(
        id=table_id,
        columns=[{"id": key, "name": name} for key, name in columns],
        data=data,
        page_size=15,
        sort_action="native",
        style_as_list_view=True,
        style_table={"overflowX": "auto"},
        style_header=theme.HEADER,
        style_cell=theme.CELL,
        style_data_conditional=[*conditional, *coloured],
        tooltip={
            column: {"value": text, "use_with": "data"} for column, text in (tips or {}).items()
        },
        tooltip_delay=300,
        tooltip_duration=None,
        css=[
            {
                "selector": ".dash-table-tooltip",
                "rule": "background-color: #262c33; color: #e8e8e8;",
            }
        ],
    )


def positions_table(rows: list[dict]) -> dash_table.DataTable:
    """Spot positions of the traded account; LONG green, an asked-for SHORT red, a flat row,
    dust and a symbol never synced muted."""
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
        {"if": {"filter_query": '{state} = "NO_POSITION"', "column_id": "state"}, "color": MUTED},
        {"if": {"filter_query": '{qty} contains "dust"', "column_id": "qty"}, "color": MUTED},
        {"if": {"filter_query": '{sync} = "drift"', "column_id": "sync"}, "color": WARN},
        {"if": {"filter_query": '{sync} = "failed"', "column_id": "sync"}, "color": LOSS},
        {"if": {"filter_query": '{sync} = "in sync"', "column_id": "sync"}, "color": GAIN},
        {"if": {"filter_query": '{stop} = "refused"', "column_id": "stop"}, "color": LOSS},
        {"if": {"filter_query": '{stop} = "firing"', "column_id": "stop"}, "color": WARN},
    ]
    return _data_table(
        ids.POSITIONS_TABLE, components.POSITION_COLUMNS, rows, states, components.POSITION_TIPS
    )


def derivatives_table() -> dash_table.DataTable:
    sides = [
        {"if": {"filter_query": '{side} = "LONG"', "column_id": "side"}, "color": GAIN},
        {"if": {"filter_query": '{side} = "SHORT"', "column_id": "side"}, "color": LOSS},
    ]
    return _data_table(ids.DERIVATIVES_TABLE, components.DERIVATIVE_COLUMNS, [], sides)


def _table(table_id: str) -> dbc.Table:
    return dbc.Table(
        id=table_id, size="sm", hover=True, striped=True, responsive=True, className="mb-0"
    )


def history_table(table_id: str, columns) -> dash_table.DataTable:
    """Fills, orders or the sync log: newest first, ten to a page; buys green, sells red,
    failures red; long messages wrap instead of widening the page."""
    colours = [
        {"if": {"filter_query": '{side} = "BUY"', "column_id": "side"}, "color": GAIN},
        {"if": {"filter_query": '{side} = "SELL"', "column_id": "side"}, "color": LOSS},
        {"if": {"filter_query": '{result} contains "OK:"', "column_id": "result"}, "color": GAIN},
        {
            "if": {"filter_query": '{result} contains "FAILED:"', "column_id": "result"},
            "color": LOSS,
        },
    ]
    table = _data_table(table_id, columns, [], colours)
    table.page_size = 10
    table.sort_action = "none"
    table.style_cell_conditional = [
        {"if": {"column_id": c}, "whiteSpace": "normal", "minWidth": "16rem"}
        for c in ("result", "reason")
    ]
    return table


def history_tabs() -> dbc.Card:
    return dbc.Card(
        dbc.Tabs(
            [
                dbc.Tab(
                    history_table(ids.FILLS_TABLE, components.FILL_COLUMNS),
                    label="Fills",
                    tab_id="fills",
                    class_name="p-2",
                ),
                dbc.Tab(
                    history_table(ids.ORDERS_TABLE, components.ORDER_COLUMNS),
                    label="Orders",
                    tab_id="orders",
                    class_name="p-2",
                ),
                dbc.Tab(
                    history_table(ids.SYNC_LOG, components.SYNC_COLUMNS),
                    label="Sync log",
                    tab_id="sync",
                    class_name="p-2",
                ),
            ],
            active_tab="fills",
        ),
        className="mb-3 history",
    )


def graph(graph_id: str, figure) -> dcc.Graph:
    return dcc.Graph(
        id=graph_id, figure=figure, config={"displaylogo": False, "displayModeBar": False}
    )


def _chart_box(box_id: str, height: int) -> html.Div:
    """Where a chart goes once the first refresh has brought the table's rows: a chart
    loads plotly.js (web/vendor, 1.3 MB; 0.4 MB compressed), which the table must not
    wait for, nor share the wire and the browser's thread with before it shows."""
    return html.Div(
        dbc.Spinner(size="sm", color="secondary"),
        id=box_id,
        className="chart-box",
        style={"minHeight": f"{height}px"},
    )


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


def balances_card() -> dbc.Card:
    title = html.Span(["Balances ", html.Span(id=ids.BALANCES_TIME, className="text-muted small")])
    return _card(title, _table(ids.BALANCES_TABLE), "mb-3 balances")


def trading_page(symbols: list[str], view: DashboardView) -> list[dbc.Row]:
    quote = fmt.quote_of(symbols[0])
    derivatives = dbc.Card(
        [dbc.CardHeader("Monitored derivatives positions"), dbc.CardBody(derivatives_table())],
        id=ids.DERIVATIVES_CARD,
        className="mb-3",
        style={"display": "block" if view.derivatives else "none"},
    )
    left = [
        market_card(symbols),
        dbc.Alert(id=ids.EXCHANGE_ALERT, color="danger", is_open=False, className="mb-3"),
        event_components.ack_alert(),
        _card("Positions", positions_table([])),
        derivatives,
        _card("Price", [chart_controls.toolbar(), _chart_box(ids.PRICE_CHART_BOX, 380)]),
    ]
    right = [  # the kill switch first: in sight without scrolling on a 1366x768 screen
        kill_switch_card(),
        trade_panel(quote, simulated=view.mode is Mode.SIM),
        orders_panel.orders_card(),
        dbc.Row(id=ids.PNL_CARDS, className="g-2 mb-3"),
        balances_card(),
        event_components.feed_card(),
        _card(f"Equity ({quote})", _chart_box(ids.EQUITY_CHART_BOX, 220)),
    ]
    return [
        dbc.Row([dbc.Col(left, lg=8), dbc.Col(right, lg=4)]),
        dbc.Row(dbc.Col(history_tabs())),
    ]


def build_layout(
    *, title: str, exchange_label: str, symbols: list[str], view: DashboardView
) -> html.Div:
    """The page's frame: its rows (positions, balances, history) arrive with the first
    refresh, which Dash runs as the page loads, so the layout stays small (it is asked for
    on every reload, where the refresh sends only what a tab has not seen)."""
    mode = view.mode
    pages = dbc.Tabs(
        [
            dbc.Tab(trading_page(symbols, view), label="Trading", tab_id=TRADING_TAB),
            dbc.Tab(monitor_page(), label="Position monitor", tab_id=MONITOR_TAB),
            health_page.health_tab(),
            results_page.results_tab(),
        ],
        id=ids.PAGE_TABS,
        active_tab=TRADING_TAB,
        className="page-tabs mb-3",
    )
    return html.Div(
        [
            header(title, exchange_label),
            dbc.Container(pages, fluid=True),
            *event_components.page_parts(view),
            keys.confirm_dialog(),
            dcc.ConfirmDialog(id=ids.LIVE_CONFIRM),
            dcc.ConfirmDialog(id=ids.MONITOR_CONFIRM, message=APPLY_QUESTION),
            dcc.ConfirmDialog(id=ids.FLATTEN_CONFIRM),
            dcc.ConfirmDialog(id=ids.RESUME_CONFIRM),
            dcc.Store(id=ids.KILL_SWITCH_ASKED),
            dcc.Store(id=ids.TRADE_DONE, data=0),
            dcc.Store(id=ids.TRADE_REQUEST),
            dcc.Store(id=ids.MODE_CHANGED, data=0),
            dcc.Store(id=ids.KNOWN_MODE, data=mode.value),
            dcc.Store(id=ids.MONITOR_APPLIED, data=0),
            dcc.Store(id=ids.REFRESH_SEEN),
            dcc.Store(id=ids.HEARTBEAT),
            dcc.Store(id=ids.HEARTBEAT_SEEN),
            dcc.Interval(id=ids.REFRESH, interval=REFRESH_MS),
            dcc.Interval(id=ids.CHART_REFRESH, interval=CHART_REFRESH_MS),
            dcc.Interval(id=ids.CONNECTION_TICK, interval=CONNECTION_CHECK_MS),
            dcc.Store(id=ids.CHARTS_MOUNT),  # set once the first refresh answered
            *page_tick_stores(),
        ]
    )
