"""Callbacks, kept thin: gather the inputs, ask the service, hand the answer to a builder.

The refresh tick only reads (`service.dashboard`, `service.market`: database and cached
market data), so any number of open tabs adds no exchange calls."""

from __future__ import annotations

import dash
from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from core.domain import Mode, PositionState
from core.exchange.gateway import GatewayError
from core.service import InputError
from web import components, figures, ids
from web.monitor_callbacks import register_monitor_callbacks

TARGETS = {
    ids.TRADE_BUY: PositionState.LONG,
    ids.TRADE_SELL: PositionState.SHORT,
    ids.TRADE_CLOSE: PositionState.NO_POSITION,
}
STAYED_IN_SIM = "Stayed in simulation: nothing changed."


def register_callbacks(app: dash.Dash, service) -> None:
    _register_refresh(app, service)
    _register_charts(app, service)
    _register_trade(app, service)
    _register_mode(app, service)
    _register_mode_follower(app, service)
    register_monitor_callbacks(app, service)


def _register_refresh(app: dash.Dash, service) -> None:
    @app.callback(
        Output(ids.MODE_BADGE, "children"),
        Output(ids.MODE_BADGE, "color"),
        Output(ids.MODE_BADGE, "title"),
        Output(ids.MODE_DETAIL, "children"),
        Output(ids.LAST_SYNC, "children"),
        Output(ids.MARKET_STRIP, "children"),
        Output(ids.EXCHANGE_ALERT, "children"),
        Output(ids.EXCHANGE_ALERT, "is_open"),
        Output(ids.POSITIONS_TABLE, "data"),
        Output(ids.PNL_CARDS, "children"),
        Output(ids.FILLS_TABLE, "children"),
        Output(ids.ORDERS_TABLE, "children"),
        Output(ids.SYNC_LOG, "children"),
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.SYMBOL_SELECT, "value"),
        Input(ids.TRADE_DONE, "data"),
        Input(ids.MODE_CHANGED, "data"),
    )
    def refresh(_tick, symbol, _traded, _mode_changed):
        view = service.dashboard(symbol)
        market = service.market(symbol)
        badge = components.badge_props(view.badge)
        problem = components.exchange_problem(view, market)
        return (
            badge.text,
            badge.colour,
            badge.detail,
            badge.detail,
            components.last_sync_text(view),
            components.market_strip(market),
            problem,
            problem is not None,
            components.position_rows(view.positions),
            components.pnl_cards(view.pnl),
            components.fill_rows(view.fills),
            components.order_rows(view.orders),
            components.sync_rows(view.sync_runs),
        )


def _register_charts(app: dash.Dash, service) -> None:
    @app.callback(
        Output(ids.PRICE_CHART, "figure"),
        Output(ids.EQUITY_CHART, "figure"),
        Input(ids.CHART_REFRESH, "n_intervals"),
        Input(ids.SYMBOL_SELECT, "value"),
        Input(ids.TRADE_DONE, "data"),
    )
    def charts(_tick, symbol, _traded):
        view = service.dashboard(symbol)
        try:
            candles, error = service.candles(symbol), None
        except GatewayError as exc:
            candles, error = [], str(exc)
        return (
            figures.price_figure(symbol, candles, view.fills, error),
            figures.equity_figure(view.equity_curve, view.pnl.quote),
        )


def _register_trade(app: dash.Dash, service) -> None:
    @app.callback(
        Output(ids.TRADE_TOAST, "is_open"),
        Output(ids.TRADE_TOAST, "header"),
        Output(ids.TRADE_TOAST, "icon"),
        Output(ids.TRADE_TOAST, "children"),
        Output(ids.ORDER_SIZE, "invalid"),
        Output(ids.ORDER_SIZE_FEEDBACK, "children"),
        Output(ids.TRADE_DONE, "data"),
        Input(ids.TRADE_BUY, "n_clicks"),
        Input(ids.TRADE_SELL, "n_clicks"),
        Input(ids.TRADE_CLOSE, "n_clicks"),
        State(ids.SYMBOL_SELECT, "value"),
        State(ids.ORDER_SIZE, "value"),
        State(ids.ORDER_SIZE_UNIT, "value"),
        State(ids.TRADE_DONE, "data"),
        running=[
            (Output(button, "disabled"), True, False)
            for button in (ids.TRADE_BUY, ids.TRADE_SELL, ids.TRADE_CLOSE)
        ],
        prevent_initial_call=True,
    )
    def trade(_buy, _sell, _close, symbol, amount_text, unit, trades_done):
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        target = TARGETS[ctx.triggered_id]
        size = None
        if target is PositionState.LONG:
            try:
                size = service.parse_size(amount_text, unit, symbol)
            except InputError as exc:
                return (no_update,) * 4 + (True, str(exc), no_update)
        toast = components.trade_toast(service.trade(symbol, target, size))
        return (*toast, False, "", (trades_done or 0) + 1)


def _register_mode(app: dash.Dash, service) -> None:
    @app.callback(
        Output(ids.LIVE_CONFIRM, "displayed"),
        Output(ids.LIVE_CONFIRM, "message"),
        Output(ids.MODE_SWITCH, "value"),
        Output(ids.MODE_MESSAGE, "is_open"),
        Output(ids.MODE_MESSAGE, "color"),
        Output(ids.MODE_MESSAGE, "children"),
        Output(ids.MODE_CHANGED, "data"),
        Input(ids.MODE_SWITCH, "value"),
        Input(ids.LIVE_CONFIRM, "submit_n_clicks"),
        Input(ids.LIVE_CONFIRM, "cancel_n_clicks"),
        State(ids.MODE_CHANGED, "data"),
        prevent_initial_call=True,
    )
    def change_mode(simulated, _confirmed, _cancelled, changes):
        """Switch off asks first; a confirmed LIVE the service refuses flips the switch back
        to SIM and says why. Setting the switch here does not call this callback again; a
        switch that merely follows the stored mode (see below) is no request."""
        changes = (changes or 0) + 1
        triggered = ctx.triggered_prop_ids
        if f"{ids.MODE_SWITCH}.value" in triggered:
            if simulated == (service.mode() is Mode.SIM):
                raise PreventUpdate
            if not simulated:
                return True, service.live_confirmation(), *(no_update,) * 5
            alert = components.mode_alert(service.request_mode(Mode.SIM))
            return False, no_update, no_update, *alert, changes
        if f"{ids.LIVE_CONFIRM}.submit_n_clicks" in triggered:
            change = service.request_mode(Mode.LIVE)
            alert = components.mode_alert(change)
            return False, no_update, change.mode is Mode.SIM, *alert, changes
        return False, no_update, True, True, "secondary", STAYED_IN_SIM, no_update


def _register_mode_follower(app: dash.Dash, service) -> None:
    @app.callback(
        Output(ids.MODE_SWITCH, "value", allow_duplicate=True),
        Output(ids.KNOWN_MODE, "data"),
        Input(ids.REFRESH, "n_intervals"),
        State(ids.KNOWN_MODE, "data"),
        prevent_initial_call=True,
    )
    def follow_stored_mode(_tick, known):
        """When the stored mode changes (another tab, the command line, this tab's own
        confirmed switch), set the switch to it. Only a change of the stored mode moves the
        switch, so a flip waiting for its confirmation is never undone here."""
        mode = service.mode()
        if mode.value == known:
            raise PreventUpdate
        return mode is Mode.SIM, mode.value
