"""Plotly figures. Decimals become floats here and only here: a chart needs numbers, not
exact money."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import plotly.graph_objects as go

from core.service import Candle
from core.views import FillView

UP, DOWN, LINE = "#2fb380", "#e0474c", "#2a9fd6"


def _base_layout(figure: go.Figure, revision: str, height: int) -> go.Figure:
    figure.update_layout(
        template="plotly_dark",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        uirevision=revision,
        showlegend=False,
        xaxis={"gridcolor": "#2a2f35"},
        yaxis={"gridcolor": "#2a2f35", "side": "right"},
    )
    return figure


def _message(figure: go.Figure, text: str) -> go.Figure:
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


def _fill_markers(fills: list[FillView], side: str) -> go.Scatter:
    buy = side == "buy"
    chosen = [f for f in fills if f.side == side]
    return go.Scatter(
        x=[_utc_naive(f.time) for f in chosen],
        y=[float(f.price) for f in chosen],
        mode="markers",
        name="buys" if buy else "sells",
        marker={
            "symbol": "triangle-up" if buy else "triangle-down",
            "size": 13,
            "color": UP if buy else DOWN,
            "line": {"width": 1, "color": "#ffffff"},
        },
        text=[f"{side.upper()} {f.qty} @ {f.price}" for f in chosen],
        hoverinfo="text+x",
    )


def price_figure(
    symbol: str,
    candles: list[Candle],
    fills: list[FillView],
    error: str | None = None,
    height: int = 380,
) -> go.Figure:
    """Candles of `symbol` with the account's fills on it: buys as green triangles up, sells
    as red triangles down. Without candles the chart says why instead of drawing nothing."""
    figure = _base_layout(go.Figure(), symbol, height)
    if not candles:
        reason = f"Price history unavailable: {error}" if error else "No price history yet."
        return _message(figure, reason)
    figure.add_trace(
        go.Candlestick(
            x=[_utc_naive(c.time) for c in candles],
            open=[float(c.open) for c in candles],
            high=[float(c.high) for c in candles],
            low=[float(c.low) for c in candles],
            close=[float(c.close) for c in candles],
            name=symbol,
            increasing={"line": {"color": UP}, "fillcolor": UP},
            decreasing={"line": {"color": DOWN}, "fillcolor": DOWN},
        )
    )
    start = _utc_naive(candles[0].time)
    shown = [f for f in fills if f.symbol == symbol and _utc_naive(f.time) >= start]
    for side in ("buy", "sell"):
        if any(f.side == side for f in shown):
            figure.add_trace(_fill_markers(shown, side))
    figure.update_xaxes(rangeslider_visible=False)
    return figure


def equity_figure(
    curve: list[tuple[datetime, Decimal]], quote: str, height: int = 220
) -> go.Figure:
    figure = _base_layout(go.Figure(), quote, height)
    if not curve:
        return _message(figure, "No equity history yet.")
    figure.add_trace(
        go.Scatter(
            x=[_utc_naive(time) for time, _ in curve],
            y=[float(value) for _, value in curve],
            mode="lines",
            line={"color": LINE, "width": 2, "shape": "hv"},
            name=f"equity ({quote})",
            hovertemplate="%{y:,.2f} " + quote + "<extra>%{x}</extra>",
        )
    )
    figure.update_yaxes(tickformat=",.2f")
    if len(curve) == 1:  # one point: an hour either side, not milliseconds
        only = _utc_naive(curve[0][0])
        figure.update_traces(mode="markers")
        figure.update_xaxes(range=[only - timedelta(hours=1), only + timedelta(hours=1)])
    return figure


def _utc_naive(time: datetime) -> datetime:
    """Times on one axis in naive UTC: the database gives naive UTC, the exchange may give
    aware times, and plotly.js ignores time zones rather than converting them."""
    return time.astimezone(UTC).replace(tzinfo=None) if time.tzinfo else time
