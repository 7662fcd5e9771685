"""What every chart of the dashboard shares: the dark look, a message in place of an empty
chart, times on the axis as plotly.js needs them."""

from __future__ import annotations

from datetime import UTC, datetime

import plotly.graph_objects as go

GRID = "#2a2f35"


def styled(figure: go.Figure, revision: str, height: int) -> go.Figure:
    """Dark, transparent, no legend; `revision` keeps the zoom across refreshes."""
    figure.update_layout(
        template="plotly_dark",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        uirevision=revision,
        showlegend=False,
    )
    figure.update_xaxes(gridcolor=GRID)
    figure.update_yaxes(gridcolor=GRID)
    return figure


def with_message(figure: go.Figure, text: str) -> go.Figure:
    """The chart says why it is empty instead of drawing nothing."""
    figure.add_annotation(
        text=text,
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        font={"size": 14, "color": "#adafae"},
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def utc_naive(time: datetime) -> datetime:
    """Times on one axis in naive UTC: the database gives UTC, the exchange may give aware
    times, and plotly.js ignores time zones rather than converting them."""
    return time.astimezone(UTC).replace(tzinfo=None) if time.tzinfo else time
