"""The charts' callbacks: figures of the chosen symbol and timeframe, sent to a tab only
when they changed; the symbol picker's choices (any market, every holding); a dragged stop
line turned into a proposed stop price in the ticket, sent only by its Set stop button, and
a dragged working order's line into the Move dialog (web.amend_dialog), sent only by its
Move order button."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import dash
from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from core.service import AppError
from web import figures, ids, layout, sent_parts
from web.amend_dialog import AMEND_ASK
from web.chart_controls import CHART_SEEN, DRAG_NOTE, TIMEFRAME, price_graph

MOVED_Y = re.compile(r"^shapes\[(\d+)\]\.y0$")


def chart_parts(service, symbol: str, timeframe: str) -> dict[tuple[str, str], object]:
    chart = service.reads.chart(symbol, timeframe)
    price = figures.price_figure(
        symbol,
        chart.candles,
        chart.fills,
        chart.candles_error,
        lines=chart.lines,
        timeframe=chart.timeframe,
    )
    return {
        (ids.PRICE_CHART, "figure"): price,
        (ids.EQUITY_CHART, "figure"): figures.equity_figure(chart.equity_curve, chart.quote),
    }


def dragged_line(relayout: dict | None, figure: dict | None) -> tuple[str, Decimal] | None:
    """The name of the line dropped (`stop`, or `order:ORDER_ID`) and the price it was
    dropped at, from plotly's relayoutData; None when no such line moved."""
    shapes = ((figure or {}).get("layout") or {}).get("shapes") or []
    for key, value in (relayout or {}).items():
        found = MOVED_Y.match(key)
        if not found or int(found[1]) >= len(shapes):
            continue
        name = shapes[int(found[1])].get("name") or ""
        if name == figures.DRAGGABLE or name.startswith(figures.ORDER_SHAPE):
            try:
                return name, Decimal(repr(float(value)))
            except (TypeError, ValueError, InvalidOperation):
                return None
    return None


# in the browser, once: the first heartbeat came with the first refresh's rows
MOUNT_ONCE = """function (heartbeat, asked) {
    return asked ? window.dash_clientside.no_update : true;
}"""


def register_chart_callbacks(app: dash.Dash, service) -> None:
    app.clientside_callback(
        MOUNT_ONCE,
        Output(ids.CHARTS_MOUNT, "data"),
        Input(ids.HEARTBEAT, "data"),
        State(ids.CHARTS_MOUNT, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.PRICE_CHART_BOX, "children"),
        Output(ids.EQUITY_CHART_BOX, "children"),
        Output(CHART_SEEN, "data"),
        Input(ids.CHARTS_MOUNT, "data"),
        State(ids.SYMBOL_SELECT, "value"),
        State(TIMEFRAME, "value"),
        prevent_initial_call=True,
    )
    def mount_charts(_asked, symbol, timeframe):
        """The charts join the page once the first refresh has brought the table's rows
        (see layout._chart_box)."""
        parts = chart_parts(service, symbol, timeframe)
        price, equity = parts.values()
        seen = sent_parts.seen_of(parts)
        return price_graph(price), layout.graph(ids.EQUITY_CHART, equity), seen

    @app.callback(
        Output(ids.PRICE_CHART, "figure"),
        Output(ids.EQUITY_CHART, "figure"),
        Output(CHART_SEEN, "data", allow_duplicate=True),
        Input(ids.CHART_REFRESH, "n_intervals"),
        Input(ids.SYMBOL_SELECT, "value"),
        Input(TIMEFRAME, "value"),
        Input(ids.TRADE_DONE, "data"),
        Input(ids.KNOWN_MODE, "data"),
        Input(ids.MODE_CHANGED, "data"),
        State(CHART_SEEN, "data"),
        prevent_initial_call=True,
    )
    def charts(_tick, symbol, timeframe, _traded, _known_mode, _mode_changed, seen):
        """A figure goes to the tab only when it differs from the one it holds."""
        return sent_parts.changed_only(chart_parts(service, symbol, timeframe), seen)

    @app.callback(
        Output(ids.SYMBOL_SELECT, "options"),
        Input(ids.SYMBOL_SELECT, "search_value"),
        State(ids.SYMBOL_SELECT, "value"),
    )
    def symbol_choices(search, chosen):
        """The configured and held markets, and for a search any market of the exchange
        (the shared market list, not a call per keystroke); the chosen one stays."""
        offered = service.markets.choices(search)
        if chosen and chosen not in offered:
            offered = [chosen, *offered]
        return [{"label": s, "value": s} for s in offered]

    @app.callback(
        Output(ids.STOP_LOSS, "value", allow_duplicate=True),
        Output(DRAG_NOTE, "children"),
        Output(AMEND_ASK, "data", allow_duplicate=True),
        Input(ids.PRICE_CHART, "relayoutData"),
        State(ids.PRICE_CHART, "figure"),
        State(ids.SYMBOL_SELECT, "value"),
        prevent_initial_call=True,
    )
    def propose_dragged(relayout, figure, symbol):
        """A dropped line only proposes: the stop's price goes into the ticket (Set stop
        sends it), a working order's into the Move dialog (Move order sends it)."""
        moved = dragged_line(relayout, figure)
        if moved is None:
            raise PreventUpdate
        name, dropped = moved
        try:
            price = service.markets.price_on_tick(symbol, dropped)
        except AppError as exc:
            return no_update, str(exc), no_update
        if name == figures.DRAGGABLE:
            return (
                str(price),
                (
                    f"Stop line dropped at {price}: press Set stop to move the stop there "
                    "(nothing is sent until then)."
                ),
                no_update,
            )
        order_id = name[len(figures.ORDER_SHAPE) :]
        return (
            no_update,
            (
                f"Order line dropped at {price}: confirm in the dialog to move the order there "
                "(nothing is sent until then)."
            ),
            {"id": order_id, "price": str(price)},
        )
