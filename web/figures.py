"""Plotly figures. Decimals become floats here and only here: a chart needs numbers, not
exact money."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import plotly.graph_objects as go

from core.service import Candle
from core.views import ChartLine, FillView
from web.chart_style import styled, utc_naive, with_message
from web.figure_memo import remembered

UP, DOWN, LINE = "#2fb380", "#e0474c", "#2a9fd6"
SHORTEST_EQUITY_SPAN = timedelta(hours=1)
# the price lines: colour and dash by kind; the stop's line and a working order's line
# (shapes) can be dragged
LINE_STYLES = {
    "entry": ("#adafae", "solid"),
    "stop": (DOWN, "solid"),  # solid and wider than the others: a line to grab
    "take_profit": (UP, "dash"),
    "order": ("#f0ad4e", "dot"),
}
DRAGGABLE = "stop"
ORDER_SHAPE = "order:"  # a working order's line is the shape named order:ORDER_ID
VOLUME_SHARE = 0.2  # of the chart's height, under the candles


def _base_layout(figure: go.Figure, revision: str, height: int) -> go.Figure:
    styled(figure, revision, height)
    figure.update_yaxes(side="right")
    return figure


def _fill_markers(fills: list[FillView], side: str, opens: list[datetime]) -> go.Scatter:
    """Each fill on the candle it happened in (at the candle's time, its own price)."""
    buy = side == "buy"
    chosen = [f for f in fills if f.side == side]
    return go.Scatter(
        x=[opens[bisect.bisect_right(opens, utc_naive(f.time)) - 1] for f in chosen],
        y=[float(f.price) for f in chosen],
        mode="markers",
        name="buys" if buy else "sells",
        marker={
            "symbol": "triangle-up" if buy else "triangle-down",
            "size": 13,
            "color": UP if buy else DOWN,
            "line": {"width": 1, "color": "#ffffff"},
        },
        text=[
            f"{side.upper()} {f.qty} @ {f.price} at {utc_naive(f.time):%H:%M:%S}" for f in chosen
        ],
        hoverinfo="text",
    )


def _volume_bars(candles: list[Candle], opens: list[datetime]) -> go.Bar:
    return go.Bar(
        x=opens,
        y=[float(c.volume) for c in candles],
        marker={"color": [UP if c.close >= c.open else DOWN for c in candles], "opacity": 0.5},
        name="volume",
        yaxis="y2",
        hovertemplate="volume %{y:,.4g}<extra></extra>",
    )


def draggable(line: ChartLine) -> bool:
    """The stop's line and the line of a working order of the app's (it has an id)."""
    return line.kind == DRAGGABLE or (line.kind == "order" and line.ref is not None)


def _price_line(line: ChartLine) -> dict:
    """A line the trader can drag (the chart's config lets shapes move; no other line is
    one): a shape across the chart, labelled at its right end, named `stop` or
    `order:ORDER_ID`."""
    colour = LINE_STYLES[line.kind][0]
    name = line.kind if line.kind == DRAGGABLE else f"{ORDER_SHAPE}{line.ref}"
    return {
        "type": "line",
        "name": name,
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": float(line.price),
        "y1": float(line.price),
        "line": {"color": colour, "width": 3, "dash": "solid"},
        "label": {
            "text": f"{line.label} (drag to move)",
            "textposition": "end",
            "yanchor": "bottom",
            "font": {"color": colour, "size": 11},
        },
    }


def _level(line: ChartLine, opens: list[datetime]) -> go.Scatter:
    """Any other price line (entry, take-profit, working order): fixed, labelled at its
    right end, named by its kind."""
    colour, dash = LINE_STYLES.get(line.kind, ("#adafae", "dot"))
    return go.Scatter(
        x=[opens[0], opens[-1]],
        y=[float(line.price)] * 2,
        mode="lines+text",
        name=line.kind,
        line={"color": colour, "width": 1.5, "dash": dash},
        text=["", line.label],
        textposition="top left",
        textfont={"color": colour, "size": 11},
        hoverinfo="skip",
    )


@remembered
def price_figure(
    symbol: str,
    candles: list[Candle],
    fills: list[FillView],
    error: str | None = None,
    height: int = 380,
    lines: Sequence[ChartLine] = (),
    timeframe: str = "1m",
) -> go.Figure:
    """Candles of `symbol` with their volume under them, the account's fills on the candles
    they happened in (buys as green triangles up, sells as red triangles down), the price
    lines (entry, stop, take-profit, working orders) and a crosshair. Without candles the
    chart says why instead of drawing nothing."""
    figure = _base_layout(go.Figure(), f"{symbol}:{timeframe}", height)
    if not candles:
        reason = f"Price history unavailable: {error}" if error else "No price history yet."
        return with_message(figure, reason)
    opens = [utc_naive(c.time) for c in candles]
    figure.add_trace(
        go.Candlestick(
            x=opens,
            open=[float(c.open) for c in candles],
            high=[float(c.high) for c in candles],
            low=[float(c.low) for c in candles],
            close=[float(c.close) for c in candles],
            name=symbol,
            increasing={"line": {"color": UP}, "fillcolor": UP},
            decreasing={"line": {"color": DOWN}, "fillcolor": DOWN},
        )
    )
    figure.add_trace(_volume_bars(candles, opens))
    shown = [f for f in fills if f.symbol == symbol and utc_naive(f.time) >= opens[0]]
    for side in ("buy", "sell"):
        if any(f.side == side for f in shown):
            figure.add_trace(_fill_markers(shown, side, opens))
    for line in lines:
        if not draggable(line):
            figure.add_trace(_level(line, opens))
    figure.update_layout(
        shapes=[_price_line(line) for line in lines if draggable(line)],
        # a moved line stays where the trader dropped it until the lines themselves change
        editrevision=";".join(f"{line.kind}={line.price}" for line in lines),
        hovermode="x",
        yaxis={"domain": [VOLUME_SHARE + 0.04, 1]},
        yaxis2={"domain": [0, VOLUME_SHARE], "side": "right", "showgrid": False},
    )
    spikes = {"showspikes": True, "spikemode": "across", "spikethickness": 1, "spikedash": "dot"}
    figure.update_xaxes(rangeslider_visible=False, spikesnap="cursor", **spikes)
    figure.update_yaxes(spikesnap="cursor", **spikes)
    return figure


@remembered
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
