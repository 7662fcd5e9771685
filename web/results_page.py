"""The Results page, the figures FreqUI shows: closed round trips with their profit after
fees, realized profit per day, week and month, win rate, profit factor, expectancy, the
equity drawdown, and all of it per symbol. Database reads only, on the refresh tick, only
while the page shows."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, no_update
from dash.exceptions import PreventUpdate

from core.insights.views import Drawdown, ResultsView, RoundTrip
from core.service import AppError
from web import formatting as fmt
from web import ids
from web import insights_components as ui
from web import insights_figures as figures
from web import insights_ids as iids
from web.insights_callbacks import register_csv_downloads
from web.page_tabs import page_tick
from web.sent_parts import changed_only

DEFAULT_WINDOW = "all"
PERIODS = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}
DEFAULT_PERIOD = "daily"
SHOWN_TRIPS = 500
SYMBOL_COLUMNS = (
    ("symbol", "Symbol"),
    ("trips", "Trips"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("win_rate", "Win rate"),
    ("profit", "Profit"),
    ("profit_factor", "Profit factor"),
    ("expectancy", "Expectancy"),
    ("best", "Best"),
    ("worst", "Worst"),
)
TRIP_COLUMNS = (
    ("closed", "Closed"),
    ("symbol", "Symbol"),
    ("account", "Account"),
    ("opened", "Opened"),
    ("held", "Held"),
    ("qty", "Quantity"),
    ("entry", "Avg. entry"),
    ("exit", "Avg. exit"),
    ("cost", "Cost"),
    ("fees", "Fees"),
    ("profit", "Profit"),
    ("profit_pct", "Profit %"),
)
OPEN_COLUMNS = (
    ("opened", "Opened"),
    ("symbol", "Symbol"),
    ("account", "Account"),
    ("age", "Open for"),
    ("qty", "Held"),
    ("entry", "Avg. entry"),
    ("cost", "Cost"),
    ("fees", "Fees"),
)
EXPORTS = {
    iids.RESULTS_EXPORT_LEDGER: "ledger",
    iids.RESULTS_EXPORT_FILLS: "fills",
    iids.RESULTS_EXPORT_ORDERS: "orders",
}
# Each part of the page the refresh keeps current: (component id, property).
PARTS = (
    (iids.RESULTS_CAPTION, "children"),
    (iids.RESULTS_ACCOUNT, "options"),
    (iids.RESULTS_CARDS, "children"),
    (iids.RESULTS_PROFIT_BOX, "children"),
    (iids.RESULTS_EQUITY_BOX, "children"),
    (iids.RESULTS_SYMBOLS_BOX, "children"),
    (iids.RESULTS_BY_SYMBOL, "data"),
    (iids.RESULTS_TRIPS, "data"),
    (iids.RESULTS_OPEN, "data"),
    (iids.RESULTS_BOOK, "data"),
)


def results_tab() -> dbc.Tab:
    pickers = [
        ui.window_select(iids.RESULTS_WINDOW, DEFAULT_WINDOW),
        ui.account_select(iids.RESULTS_ACCOUNT),
        dbc.RadioItems(
            id=iids.RESULTS_PERIOD,
            options=[{"label": label, "value": value} for value, label in PERIODS.items()],
            value=DEFAULT_PERIOD,
            inline=True,
            className="small ms-2",
        ),
    ]
    buttons = [
        ui.export_button(iids.RESULTS_EXPORT_LEDGER, "Ledger CSV"),
        ui.export_button(iids.RESULTS_EXPORT_FILLS, "Fills CSV"),
        ui.export_button(iids.RESULTS_EXPORT_ORDERS, "Orders CSV"),
    ]
    charts = dbc.Row(
        [
            dbc.Col(ui.card("Realized profit", ui.chart_box(iids.RESULTS_PROFIT_BOX, 260)), lg=7),
            dbc.Col(ui.card("Profit by symbol", ui.chart_box(iids.RESULTS_SYMBOLS_BOX, 260)), lg=5),
        ]
    )
    signed = ui.signed_colours("profit", "profit_pct", "expectancy")
    return dbc.Tab(
        [
            ui.controls(pickers, buttons, iids.RESULTS_CAPTION),
            dbc.Row(id=iids.RESULTS_CARDS, className="g-2 mb-3"),
            charts,
            ui.card("Equity and drawdown", ui.chart_box(iids.RESULTS_EQUITY_BOX, 320)),
            ui.card("By symbol", ui.data_table(iids.RESULTS_BY_SYMBOL, SYMBOL_COLUMNS, signed)),
            ui.card("Closed round trips", ui.data_table(iids.RESULTS_TRIPS, TRIP_COLUMNS, signed)),
            ui.card("Open round trips", ui.data_table(iids.RESULTS_OPEN, OPEN_COLUMNS)),
            dcc.Store(id=iids.RESULTS_SEEN),
            dcc.Store(id=iids.RESULTS_BOOK),
            dcc.Download(id=iids.RESULTS_DOWNLOAD),
        ],
        label="Results",
        tab_id=iids.RESULTS_TAB,
    )


# --- pure builders: views in, parts out -------------------------------------------------


def results_parts(
    view: ResultsView, accounts: list[str], period: str = DEFAULT_PERIOD
) -> dict[tuple[str, str], object]:
    """Every part the refresh keeps current, from one results view; the profit chart per
    `period` (daily, weekly or monthly)."""
    period = period if period in PERIODS else DEFAULT_PERIOD
    periods = getattr(view.summary, period)
    values = [
        ui.caption(view.mode.value, view.account, view.window, view.now),
        ui.account_options(accounts),
        results_cards(view),
        ui.graph(
            iids.RESULTS_PROFIT_CHART,
            figures.profit_figure(periods, view.quote, period),
        ),
        ui.graph(
            iids.RESULTS_EQUITY_CHART,
            figures.equity_figure(view.equity, view.drawdown, view.quote, view.traded),
        ),
        ui.graph(iids.RESULTS_SYMBOLS_CHART, figures.symbols_figure(view.by_symbol, view.quote)),
        symbol_rows(view),
        trip_rows(view),
        open_rows(view),
        view.mode.value,
    ]
    return dict(zip(PARTS, values, strict=True))


def results_cards(view: ResultsView) -> list[dbc.Col]:
    stats, quote = view.summary.stats, view.quote
    return [
        ui.stat_card(
            "Realized profit",
            fmt.signed_money(stats.profit, quote),
            f"{stats.trips} closed round trip{'' if stats.trips == 1 else 's'}, after fees",
            fmt.sign_class(stats.profit),
        ),
        ui.stat_card(
            "Realized PnL",
            fmt.signed_money(view.realized, quote),
            f"before {fmt.money(view.fees, quote)} of fees, as the Trading page counts it",
            fmt.sign_class(view.realized),
        ),
        ui.stat_card(
            "Changes outside the app",
            fmt.signed_money(view.outside, quote),
            "deposits and withdrawals at their marks: in equity, not trading PnL",
            fmt.sign_class(view.outside),
        ),
        ui.stat_card(
            "Win rate", ui.pct(stats.win_rate_pct), f"{stats.wins} won, {stats.losses} lost"
        ),
        ui.stat_card(
            "Profit factor",
            fmt.MISSING if stats.profit_factor is None else fmt.money(stats.profit_factor),
            "gross wins / gross losses",
        ),
        ui.stat_card(
            "Expectancy",
            fmt.MISSING if stats.expectancy is None else fmt.signed_money(stats.expectancy, quote),
            "mean profit per trip",
            fmt.sign_class(stats.expectancy),
        ),
        *_drawdown_cards(view.drawdown, quote),
        _trip_card("Best trip", stats.best, quote),
        _trip_card("Worst trip", stats.worst, quote),
    ]


def _drawdown_cards(drawdown: Drawdown | None, quote: str) -> list[dbc.Col]:
    if drawdown is None:
        return [
            ui.stat_card("Max drawdown", fmt.MISSING, "no equity recorded"),
            ui.stat_card("Current drawdown", fmt.MISSING, "no equity recorded"),
        ]
    if drawdown.peak_at is None:
        worst = "equity never fell"
    else:
        worst = f"{fmt.timestamp(drawdown.peak_at)} → {fmt.timestamp(drawdown.trough_at)}"
    return [
        ui.stat_card(
            "Max drawdown",
            f"{fmt.money(drawdown.max_abs, quote)} ({ui.pct(drawdown.max_pct)})",
            worst,
            "text-danger" if drawdown.peak_at else "",
        ),
        ui.stat_card(
            "Current drawdown",
            f"{fmt.money(drawdown.current_abs, quote)} ({ui.pct(drawdown.current_pct)})",
            f"below the peak of {fmt.timestamp(drawdown.current_peak_at)}",
            "text-warning" if drawdown.current_abs > 0 else "",
        ),
    ]


def _trip_card(label: str, trip: RoundTrip | None, quote: str) -> dbc.Col:
    if trip is None:
        return ui.stat_card(label, fmt.MISSING, "no closed trip")
    return ui.stat_card(
        label,
        fmt.signed_money(trip.profit, quote),
        f"{trip.symbol}, {fmt.percent(trip.profit_pct)}, closed {fmt.timestamp(trip.closed_at)}",
        fmt.sign_class(trip.profit),
    )


def symbol_rows(view: ResultsView) -> list[dict]:
    rows = [
        {
            "symbol": symbol,
            "trips": s.stats.trips,
            "won": s.stats.wins,
            "lost": s.stats.losses,
            "win_rate": ui.pct(s.stats.win_rate_pct),
            "profit": fmt.signed_money(s.stats.profit, view.quote),
            "profit_factor": fmt.MISSING
            if s.stats.profit_factor is None
            else fmt.money(s.stats.profit_factor),
            "expectancy": fmt.MISSING
            if s.stats.expectancy is None
            else fmt.signed_money(s.stats.expectancy),
            "best": fmt.signed_money(s.stats.best.profit) if s.stats.best else fmt.MISSING,
            "worst": fmt.signed_money(s.stats.worst.profit) if s.stats.worst else fmt.MISSING,
        }
        for symbol, s in view.by_symbol.items()
    ]
    return rows or ui.empty_row("symbol", "No closed round trips in this window yet.")


def trip_rows(view: ResultsView) -> list[dict]:
    """The newest closed trips first (at most SHOWN_TRIPS; the CSV export has every fill)."""
    rows = [
        {
            "closed": fmt.timestamp(t.closed_at),
            "symbol": t.symbol,
            "account": t.account,
            "opened": fmt.timestamp(t.opened_at),
            "held": ui.duration(t.duration),
            "qty": fmt.quantity(t.qty_sold),
            "entry": fmt.price(t.avg_entry),
            "exit": fmt.price(t.avg_exit),
            "cost": fmt.money(t.cost),
            "fees": fmt.money(t.fees),
            "profit": fmt.signed_money(t.profit, view.quote),
            "profit_pct": fmt.percent(t.profit_pct),
        }
        for t in reversed(view.closed[-SHOWN_TRIPS:])
    ]
    return rows or ui.empty_row("closed", "No closed round trips in this window yet.")


def open_rows(view: ResultsView) -> list[dict]:
    rows = [
        {
            "opened": fmt.timestamp(t.opened_at),
            "symbol": t.symbol,
            "account": t.account,
            "age": ui.duration(t.age),
            "qty": fmt.quantity(t.qty),
            "entry": fmt.price(t.avg_entry),
            "cost": fmt.money(t.cost),
            "fees": fmt.money(t.fees),
        }
        for t in view.open
    ]
    return rows or ui.empty_row("opened", "None: no position is open.")


# --- callbacks --------------------------------------------------------------------------


def register_results_callbacks(app: dash.Dash, service) -> None:
    @app.callback(
        *(Output(component, prop) for component, prop in PARTS),
        Output(iids.RESULTS_SEEN, "data"),
        Input(page_tick(iids.RESULTS_TAB), "data"),
        Input(ids.PAGE_TABS, "active_tab"),
        Input(iids.RESULTS_WINDOW, "value"),
        Input(iids.RESULTS_ACCOUNT, "value"),
        Input(iids.RESULTS_PERIOD, "value"),
        State(iids.RESULTS_SEEN, "data"),
    )
    def refresh(_tick, tab, window, account, period, seen):
        """Only while the page shows; only the parts that changed since this tab's last."""
        if tab != iids.RESULTS_TAB:
            raise PreventUpdate
        insights = service.insights
        try:
            view = insights.results(window or DEFAULT_WINDOW, ui.account_of(account))
            parts = results_parts(view, insights.accounts(), period or DEFAULT_PERIOD)
        except AppError as exc:
            failure = ui.failure(f"Results could not be read: {exc}")
            return failure, *(no_update for _ in PARTS[1:]), no_update
        return changed_only(parts, seen)

    register_csv_downloads(
        app,
        service,
        iids.RESULTS_DOWNLOAD,
        EXPORTS,
        (iids.RESULTS_BOOK, iids.RESULTS_WINDOW, iids.RESULTS_ACCOUNT),
        DEFAULT_WINDOW,
    )
