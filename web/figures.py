"""Plotly figures. Decimals become floats here and only here: a chart needs numbers, not
exact money."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import plotly.graph_objects as go

from core.service import Candle
from core.views import FillView
from web.chart_style import styled, utc_naive, with_message

UP, DOWN, LINE = "#2fb380", "#e0474c", "#2a9fd6"
SHORTEST_EQUITY_SPAN = timedelta(hours=1)


def _base_layout(figure: go.Figure, revision: str, height: int) -> go.Figure:
    styled(figure, revision, height)
    figure.update_yaxes(side="right")
    return figure


def _fill_markers(fills: list[FillView], side: str) -> go.Scatter:
    buy = side == "buy"
    chosen = [f for f in fills if f.side == side]
    return go.Scatter(
        x=[utc_naive(f.time) for f in chosen],
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
        return with_message(figure, reason)
    figure.add_trace(
        go.Candlestick(
            x=[utc_naive(c.time) for c in candles],
            open=[float(c.open) for c in candles],
            high=[float(c.high) for c in candles],
            low=[float(c.low) for c in candles],
            close=[float(c.close) for c in candles],
            name=symbol,
            increasing={"line": {"color": UP}, "fillcolor": UP},
            decreasing={"line": {"color": DOWN}, "fillcolor": DOWN},
        )
    )
    start = utc_naive(candles[0].time)
    shown = [f for f in fills if f.symbol == symbol and utc_naive(f.time) >= start]
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
        return with_message(figure, "No equity history yet.")
    figure.add_trace(
        go.Scatter(
            x=[utc_naive(time) for time, _ in curve],
            y=[float(value) for _, value in curve],
            mode="lines",
            line={"color": LINE, "width": 2, "shape": "hv"},
            name=f"equity ({quote})",
            hovertemplate="%{y:,.2f} " + quote + "<extra>%{x}</extra>",
        )
    )
    figure.update_yaxes(tickformat=",.2f")
    if len(curve) == 1:
        figure.update_traces(mode="markers")
    first, last = utc_naive(curve[0][0]), utc_naive(curve[-1][0])
    if last - first < SHORTEST_EQUITY_SPAN:  # a young account: the last hour, not milliseconds
        figure.update_xaxes(range=[last - SHORTEST_EQUITY_SPAN, last + SHORTEST_EQUITY_SPAN / 12])
    return figure
