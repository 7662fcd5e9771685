"""The price chart's own controls: the timeframe buttons, the note a dragged line leaves,
the chart's config (only the stop's and the working orders' lines can be moved), and what
the tab last got."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from core.service.chart_lines import TIMEFRAMES
from web import ids

TIMEFRAME = "chart-timeframe"
DRAG_NOTE = "chart-drag-note"
CHART_SEEN = "chart-seen"  # fingerprints of the figures this tab holds (web.sent_parts)
# shapes can be dragged: the stop's and the working orders' lines are the chart's only
# shapes (web.figures)
PRICE_CONFIG = {"displaylogo": False, "displayModeBar": False, "edits": {"shapePosition": True}}


def toolbar() -> html.Div:
    buttons = dbc.RadioItems(
        id=TIMEFRAME,
        options=[{"label": t, "value": t} for t in TIMEFRAMES],
        value=TIMEFRAMES[0],
        inline=True,
        className="btn-group btn-group-sm timeframes",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-secondary btn-sm",
        labelCheckedClassName="active",
    )
    return html.Div(
        [
            buttons,
            html.Small(id=DRAG_NOTE, className="text-info ms-2"),
            dcc.Store(id=CHART_SEEN),
        ],
        className="d-flex align-items-center flex-wrap mb-2",
    )


def price_graph(figure) -> dcc.Graph:
    """The price chart, whose stop and working-order lines can be dragged; a drag only
    proposes its price (web.chart_callbacks)."""
    return dcc.Graph(id=ids.PRICE_CHART, figure=figure, config=PRICE_CONFIG)
