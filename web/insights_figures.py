"""Plotly figures of the Sync health and Results pages. Decimals become floats here and only
here: a chart needs numbers, not exact money. With nothing to draw, a chart says so in a
sentence instead of showing empty axes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.insights.views import Drawdown, HealthBucket, PeriodProfit, Summary
from web.chart_style import styled, utc_naive, with_message
from web.figure_memo import remembered

UP, DOWN, LINE, WARN, MUTED = "#2fb380", "#e0474c", "#2a9fd6", "#f0ad4e", "#8a8f95"
HEIGHT = 260
NO_RUNS = "No sync runs in this window yet."
NO_DRIFT = "No drift in this window: every symbol held its target."
NO_TRIPS = "No closed round trips in this window yet."
NO_EQUITY = "No equity recorded in this window yet."


def _figure(revision: str, height: int = HEIGHT, secondary: bool = False) -> go.Figure:
    figure = make_subplots(specs=[[{"secondary_y": True}]]) if secondary else go.Figure()
    return _styled(figure, revision, height)


def _styled(figure: go.Figure, revision: str, height: int) -> go.Figure:
    styled(figure, revision, height)
    figure.update_layout(bargap=0.15)
    return figure


def message(text: str, height: int = HEIGHT) -> go.Figure:
    """An empty chart that says why it is empty."""
    return with_message(_figure(text, height), text)


def _floats(values: Sequence[Decimal | None]) -> list[float | None]:
    return [None if value is None else float(value) for value in values]


def _bar_width_ms(bucket: timedelta) -> float:
    return bucket.total_seconds() * 1000 * 0.85


# --- sync health ------------------------------------------------------------------------


@remembered
def runs_figure(series: Sequence[HealthBucket], bucket: timedelta) -> go.Figure:
    """Runs per bucket, ok (green) under failed (red), and the success rate (line, right
    axis; no point where a bucket had no run)."""
    if not any(b.runs for b in series):
        return message(NO_RUNS)
    figure = _figure("runs", secondary=True)
    x = [utc_naive(b.start + bucket / 2) for b in series]
    width = _bar_width_ms(bucket)
    figure.add_bar(x=x, y=[b.ok for b in series], name="ok", marker_color=UP, width=width)
    figure.add_bar(
        x=x, y=[b.runs - b.ok for b in series], name="failed", marker_color=DOWN, width=width
    )
    figure.add_scatter(
        x=x,
        y=_floats([b.success_pct for b in series]),
        name="success %",
        mode="lines+markers",
        line={"color": LINE, "width": 2},
        marker={"size": 5},
        secondary_y=True,
        hovertemplate="%{y:.1f}% ok<extra>%{x}</extra>",
    )
    figure.update_layout(barmode="stack")
    figure.update_yaxes(title_text="runs", secondary_y=False, rangemode="tozero")
    figure.update_yaxes(
        title_text="success %",
        secondary_y=True,
        range=[0, 105],
        tickvals=[0, 25, 50, 75, 100],
        showgrid=False,
    )
    return figure


@remembered
def drift_figure(series: Sequence[HealthBucket], bucket: timedelta) -> go.Figure:
    """Drift events begun per bucket."""
    if not any(b.runs or b.drift_events for b in series):
        return message(NO_RUNS)
    if not any(b.drift_events for b in series):
        return message(NO_DRIFT)
    figure = _figure("drift")
    figure.add_bar(
        x=[utc_naive(b.start + bucket / 2) for b in series],
        y=[b.drift_events for b in series],
        name="drift events",
        marker_color=WARN,
        width=_bar_width_ms(bucket),
    )
    figure.update_yaxes(title_text="drift events", rangemode="tozero")
    return figure


@remembered
def duration_figure(durations_ms: Sequence[int], p50: int | None, p95: int | None) -> go.Figure:
    """How long syncs took: a histogram, with the median and the 95th percentile marked."""
    if not durations_ms:
        return message(NO_RUNS)
    figure = _figure("durations")
    figure.add_histogram(x=list(durations_ms), name="runs", marker_color=LINE, nbinsx=40)
    # the median's label left of its line, the p95's right of its own: close or equal
    # values never print one label over the other
    marks = ((p50, "p50", UP, "top left"), (p95, "p95", WARN, "top right"))
    for value, label, colour, side in marks:
        if value is not None:
            figure.add_vline(
                x=value,
                line={"color": colour, "dash": "dash"},
                annotation={"text": f"{label} {value:,} ms", "font": {"color": colour}},
                annotation_position=side,
            )
    figure.update_xaxes(title_text="duration (ms)")
    figure.update_yaxes(title_text="runs")
    return figure


# --- trading results --------------------------------------------------------------------


# How each period lies on a date axis: its length in days (a month: None), a date one starts
# on (weeks begin on Monday, as core.insights.results counts them) and its tick label.
PERIOD_AXES = {
    "daily": (1, "2000-01-03", "%b %d"),
    "weekly": (7, "2000-01-03", "%b %d"),
    "monthly": (None, "2000-01-01", "%b %Y"),
}
MAX_TICKS = 8
DAY_MS = 86_400_000


@remembered
def profit_figure(periods: Sequence[PeriodProfit], quote: str, period: str = "daily") -> go.Figure:
    """Realized profit per period (green gains, red losses), each bar across its period, and
    the running total (line, right axis)."""
    if not periods:
        return message(NO_TRIPS)
    days, first, label = PERIOD_AXES[period]
    figure = _figure("profit", secondary=True)
    x = [p.start for p in periods]
    length = "M1" if days is None else days * DAY_MS
    on_axis = {"xperiod": length, "xperiod0": first, "xperiodalignment": "middle"}
    profits = [float(p.profit) for p in periods]
    running, totals = Decimal(0), []
    for p in periods:
        running += p.profit
        totals.append(float(running))
    figure.add_bar(
        x=x,
        y=profits,
        name=f"profit ({quote})",
        marker_color=[UP if p >= 0 else DOWN for p in profits],
        width=0.8 * (days or 30) * DAY_MS,
        customdata=[[p.start.isoformat(), p.trips] for p in periods],
        hovertemplate="%{y:,.2f} " + quote + ", %{customdata[1]} trips<extra>%{customdata[0]}"
        "</extra>",
        **on_axis,
    )
    figure.add_scatter(
        x=x,
        y=totals,
        name="cumulative",
        mode="lines+markers",
        line={"color": LINE, "width": 2},
        secondary_y=True,
        hovertemplate="%{y:,.2f} " + quote + " in total<extra></extra>",
        **on_axis,
    )
    figure.update_xaxes(type="date", dtick=_dtick(x, days), tick0=first, tickformat=label)
    if len(periods) == 1:  # one bar: a period either side, so its date shows below it
        either_side = timedelta(days=days or 31)
        figure.update_xaxes(range=[x[0] - either_side, x[0] + 2 * either_side])
    figure.update_yaxes(title_text=f"profit ({quote})", secondary_y=False, tickformat=",.2f")
    figure.update_yaxes(
        title_text="cumulative", secondary_y=True, showgrid=False, tickformat=",.2f"
    )
    return figure


def _dtick(starts: Sequence[date], days: int | None):
    """A tick every so many whole periods that at most MAX_TICKS show."""
    first, last = starts[0], starts[-1]
    if days is None:
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        return f"M{-(-months // MAX_TICKS)}"
    periods = (last - first).days // days + 1
    return -(-periods // MAX_TICKS) * days * DAY_MS


@remembered
def equity_figure(
    points: Sequence[tuple[datetime, Decimal]],
    drawdown: Drawdown | None,
    quote: str,
    traded: Sequence[tuple[datetime, Decimal]] = (),
) -> go.Figure:
    """Equity (top) and how far below its running peak it stood (bottom, in percent), with
    the largest fall marked from its peak to its trough. With `traded` (the same points less
    the changes outside the app) differing from the equity, it is drawn too, dashed, and the
    drawdown is its: a withdrawal lowers the equity, not what trading made."""
    if not points:
        return message(NO_EQUITY, 320)
    outside = bool(traded) and any(t != e for (_, t), (_, e) in zip(traded, points, strict=True))
    figure = _styled(
        make_subplots(
            rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.04
        ),
        "equity",
        320,
    )
    x = [utc_naive(time) for time, _ in points]
    values = [float(value) for _, value in points]
    measured = [float(value) for _, value in traded] if outside else values
    underwater, peak = [], float("-inf")
    for value in measured:
        peak = max(peak, value)
        underwater.append((value - peak) / peak * 100 if peak > 0 else 0.0)
    figure.add_scatter(
        x=x,
        y=values,
        name=f"equity ({quote})",
        mode="lines" if len(values) > 1 else "markers",
        line={"color": LINE, "width": 2},
        hovertemplate="%{y:,.2f} " + quote + "<extra>%{x}</extra>",
        row=1,
        col=1,
    )
    if outside:
        figure.add_scatter(
            x=x,
            y=measured,
            name="less changes outside the app",
            mode="lines" if len(values) > 1 else "markers",
            line={"color": LINE, "width": 1, "dash": "dash"},
            hovertemplate="%{y:,.2f} " + quote + "<extra>traded, %{x}</extra>",
            row=1,
            col=1,
        )
    figure.add_scatter(
        x=x,
        y=underwater,
        name="drawdown %",
        mode="lines",
        fill="tozeroy",
        line={"color": DOWN, "width": 1},
        hovertemplate="%{y:.2f}%<extra>%{x}</extra>",
        row=2,
        col=1,
    )
    if drawdown is not None and drawdown.peak_at is not None:
        figure.add_scatter(
            x=[utc_naive(drawdown.peak_at), utc_naive(drawdown.trough_at)],
            y=_floats([drawdown.peak_equity, drawdown.trough_equity]),
            name="max drawdown",
            mode="markers",
            marker={"color": WARN, "size": 9, "symbol": ["triangle-up", "triangle-down"]},
            hovertemplate="%{y:,.2f} " + quote + "<extra>max drawdown</extra>",
            row=1,
            col=1,
        )
    figure.update_yaxes(tickformat=",.2f", row=1, col=1)
    figure.update_yaxes(ticksuffix="%", row=2, col=1)
    return figure


@remembered
def symbols_figure(by_symbol: Mapping[str, Summary], quote: str) -> go.Figure:
    """Realized profit per symbol, best at the top."""
    if not by_symbol:
        return message(NO_TRIPS)
    ranked = sorted(by_symbol.items(), key=lambda item: item[1].stats.profit)
    profits = [float(summary.stats.profit) for _, summary in ranked]
    figure = _figure("symbols")
    figure.add_bar(
        x=profits,
        y=[symbol for symbol, _ in ranked],
        orientation="h",
        name=f"profit ({quote})",
        marker_color=[UP if p >= 0 else DOWN for p in profits],
        customdata=[summary.stats.trips for _, summary in ranked],
        hovertemplate="%{x:,.2f} " + quote + ", %{customdata} trips<extra>%{y}</extra>",
    )
    figure.update_xaxes(title_text=f"profit ({quote})", tickformat=",.2f")
    return figure
