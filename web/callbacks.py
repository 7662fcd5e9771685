"""Callbacks, kept thin: gather the inputs, ask the service, hand the answer to a builder.

The refresh tick only reads (the service's read models: database and cached market data),
so any number of open tabs adds no exchange calls; and it sends only the parts of the page
that changed since this tab last received them."""

from __future__ import annotations

import functools
import threading
import time
import uuid
from datetime import UTC, datetime

import dash
from dash import ClientsideFunction, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from core.service import (
    ACCOUNT,
    AppError,
    InputError,
    Mode,
    PositionState,
    parse_exit_part,
    parse_size,
)
from core.service.observers import requested_by
from web import components, event_callbacks, ids, sent_parts
from web.amend_dialog import register_amend_callbacks
from web.chart_callbacks import register_chart_callbacks
from web.health_page import register_health_callbacks
from web.keys import register_key_callbacks
from web.monitor_callbacks import register_monitor_callbacks
from web.orders_panel import register_orders_callbacks
from web.page_tabs import TRADING_TAB, register_page_ticks
from web.results_page import register_results_callbacks
from web.ticket import limit_price, register_ticket_callbacks, stop_prices

MODES = {mode.value for mode in Mode}
TARGETS = {
    ids.TRADE_BUY: PositionState.LONG,
    ids.TRADE_SELL: PositionState.SHORT,
    ids.TRADE_CLOSE: PositionState.NO_POSITION,
}
STAYED_IN_SIM = "Stayed in simulation: nothing changed."
# a trade the background service starts later than this after its click is not run: the
# trader has moved on, and prices with them
OLDEST_CLICK_SECONDS = 15
# how often the page asks whether a background trade has ended: Dash's default of 1 s added
# up to a second to every trade the trader watches; a poll is one small cache read
TRADE_POLL_MS = 250
BUTTONS = (ids.TRADE_BUY, ids.TRADE_SELL, ids.TRADE_CLOSE)


def register_callbacks(app: dash.Dash, service, background_down) -> None:
    """`background_down()` says why trades cannot run in the background now, or None."""
    patches = sent_parts.Patches(service.page_memory, ROW_KEYS)
    views = BuiltViews(service, patches)
    _register_refresh(app, service, background_down, views, patches)
    _register_stops(app, service)
    _register_kill_switch(app, service)
    _register_connection_watch(app)
    register_page_ticks(app)
    register_chart_callbacks(app, service)
    _register_trade(app, service, background_down)
    _register_mode(app, service)
    register_monitor_callbacks(app, service)
    register_health_callbacks(app, service)
    register_results_callbacks(app, service)
    event_callbacks.register_event_callbacks(app, service)
    register_ticket_callbacks(app, service)
    register_key_callbacks(app)
    register_orders_callbacks(app, service)
    register_amend_callbacks(app, service)


# the parts a view alone decides, built once per version of the view for every tab
VIEW_PARTS = (
    (ids.MODE_BADGE, "children"),
    (ids.MODE_BADGE, "color"),
    (ids.MODE_BADGE, "title"),
    (ids.MODE_DETAIL, "children"),
    (ids.LAST_SYNC, "children"),
    (ids.POSITIONS_TABLE, "data"),
    (ids.POSITIONS_TABLE, "tooltip_data"),
    (ids.DERIVATIVES_TABLE, "data"),
    (ids.DERIVATIVES_CARD, "style"),
    (ids.PNL_CARDS, "children"),
    (ids.BALANCES_TABLE, "children"),
    (ids.FILLS_TABLE, "data"),
    (ids.ORDERS_TABLE, "data"),
    (ids.SYNC_LOG, "data"),
    (ids.RESUME, "disabled"),
    *((button, prop) for button in BUTTONS for prop in ("disabled", "children", "title")),
    (ids.TRADE_BLOCKED, "children"),
)
# the parts that change with the tick: the price strip, ages, the background's state
TICK_PARTS = (
    (ids.MARKET_STRIP, "children"),
    (ids.EXCHANGE_ALERT, "children"),
    (ids.EXCHANGE_ALERT, "is_open"),
    (ids.BALANCES_TIME, "children"),
    (ids.TRADE_STATUS, "children"),
    (ids.BACKGROUND_ALERT, "children"),
    (ids.BACKGROUND_ALERT, "is_open"),
)
# Each part of the page the refresh keeps current: (component id, property).
PARTS = VIEW_PARTS + TICK_PARTS
# shown on every page tab (the header), so refreshed whichever tab shows
HEADER_PARTS = VIEW_PARTS[:5]
# a row of the positions table is the symbol's: other symbols, or another order, go whole
ROW_KEYS = {(ids.POSITIONS_TABLE, "data"): "symbol"}
VERSIONS_KEPT = 4


def view_parts(view) -> dict[tuple[str, str], object]:
    """The parts the dashboard view alone decides."""
    badge = components.badge_props(view.badge)
    busy = any(trade.running for trade in view.trades)
    buttons, blocked = components.trade_buttons(view.halted, busy, view.pnl.quote)
    values = [
        badge.text,
        badge.colour,
        badge.detail,
        badge.detail,
        components.last_sync_text(view),
        components.position_rows(view.positions),
        components.position_tips(view.positions),
        components.derivative_rows(view.derivatives),
        {"display": "block" if view.derivatives else "none"},
        components.pnl_cards(view.pnl),
        components.balance_rows(view.balances, view.pnl.quote),
        components.fill_rows(view.fills),
        components.order_rows(view.orders),
        components.sync_rows(view.sync_runs),
        view.halted is None,
        *(
            value
            for button in buttons
            for value in (button.disabled, button.children, button.title)
        ),
        blocked,
    ]
    return dict(zip(VIEW_PARTS, values, strict=True))


class BuiltViews:
    """The view parts of the last few versions of the dashboard view, built (formatted and
    fingerprinted) once in this process: by the page feed as it reads a new version, with
    the patches from the version before (what most tabs hold), else by the first tab to
    tick. A version is built by one thread at a time: the tabs that tick while it is built
    wait for it (each built the 500-row tables again, many at once, under load)."""

    def __init__(self, service, patches: sent_parts.Patches | None = None):
        self.service = service
        self.patches = patches
        self._built: dict[str, tuple[object, dict]] = {}
        self._building: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        service.reads.on_new_view.append(self.prepare)

    def current(self) -> tuple[object, dict]:
        """The view and its built parts; the view is read only when its version is new."""
        version = self.service.reads.dashboard_version()
        with self._guard:
            found = self._built.get(version) if version else None
        if found is not None:
            return found
        return self._build(self.service.reads.dashboard())

    def prepare(self, view) -> None:
        """A new version from the feed: its parts, and the patches to it from the last."""
        with self._guard:
            before = next(reversed(self._built.values()), None)
        _, parts = self._build(view)
        if self.patches is None or before is None:
            return
        for part, new in parts.items():
            held = before[1][part].fingerprint
            if held != new.fingerprint:
                self.patches.send(part, held, new)

    def _build(self, view) -> tuple[object, dict]:
        """The view's parts, built once however many threads ask at the same time."""
        with self._guard:
            lock = self._building.setdefault(view.version, threading.Lock())
        with lock:
            with self._guard:
                found = self._built.get(view.version)
            if found is None:
                parts = {p: sent_parts.built(value) for p, value in view_parts(view).items()}
                found = (view, parts)
                with self._guard:
                    self._built[view.version] = found
                    while len(self._built) > VERSIONS_KEPT:
                        self._built.pop(next(iter(self._built)))
        with self._guard:
            self._building.pop(view.version, None)
        return found


@functools.lru_cache(maxsize=64)
def _strip(market) -> sent_parts.Built:
    """The price strip of one ticker read, built once however many tabs show it."""
    return sent_parts.built(components.market_strip(market))


def page_parts(
    service, symbol: str, background_down, view, built: dict
) -> dict[tuple[str, str], object]:
    """Every part the refresh keeps current: the view's (`built` once per version), and
    the few that change with the tick (the market strip, ages, the background's state)."""
    down = background_down()
    market = service.reads.market(symbol)
    now = datetime.now(UTC)
    problem = components.exchange_problem(view, market)
    tick = {
        (ids.MARKET_STRIP, "children"): _strip(market),
        (ids.EXCHANGE_ALERT, "children"): problem,
        (ids.EXCHANGE_ALERT, "is_open"): problem is not None,
        (ids.BALANCES_TIME, "children"): components.balances_time_text(view, now),
        (ids.TRADE_STATUS, "children"): components.trade_activity(
            view.trades, view.symbol_events.get(symbol), now
        ),
        (ids.BACKGROUND_ALERT, "children"): f"{down}: new trades are refused until it is back."
        if down
        else None,
        (ids.BACKGROUND_ALERT, "is_open"): down is not None,
    }
    return {part: built[part] if part in built else tick[part] for part in PARTS}


def _register_refresh(
    app: dash.Dash, service, background_down, views: BuiltViews, patches: sent_parts.Patches
) -> None:

    @app.callback(
        *(Output(component, prop, allow_duplicate=True) for component, prop in PARTS),
        Output(ids.REFRESH_SEEN, "data"),
        Output(ids.HEARTBEAT, "data"),
        Output(ids.MODE_SWITCH, "value", allow_duplicate=True),
        Output(ids.KNOWN_MODE, "data", allow_duplicate=True),
        *event_callbacks.OUTPUTS,
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.SYMBOL_SELECT, "value"),
        Input(ids.MODE_CHANGED, "data"),
        Input(ids.PAGE_TABS, "active_tab"),
        State(ids.REFRESH_SEEN, "data"),
        State(ids.KNOWN_MODE, "data"),
        *event_callbacks.STATES,
        prevent_initial_call="initial_duplicate",
    )
    def refresh(_tick, symbol, _mode_changed, page, seen, known, *events_held):
        """Sends a part only when it differs from what this tab last received (`seen`
        holds their fingerprints; a table's rows as the cells that changed), and a
        heartbeat so the page knows its server answers. While another page tab shows,
        only the header is kept current; back on Trading, the rest follows at once.
        It takes no output of the trade (a background callback) as an input: Dash would
        hold every tick until the trade ended, and the page would see neither the trade's
        steps nor its server. The switch following the stored mode (the mode the view
        was read in) and the event feed come in the same answer, from the same view: each
        its own callback before, they were two more requests on every tick."""
        view, built = views.current()
        heard = datetime.now(UTC).timestamp()
        also = (*_followed(view.mode, known), *event_callbacks.shown_events(view, *events_held))
        if page not in (None, TRADING_TAB):
            shown = {part: built[part] for part in HEADER_PARTS}
            sent = iter(sent_parts.changed_only(shown, seen, patches))
            outputs = [next(sent) if part in shown else no_update for part in PARTS]
            return (*outputs, next(sent), heard, *also)
        parts = page_parts(service, symbol, background_down, view, built)
        changed = sent_parts.changed_only(parts, seen, patches)
        return (*changed, heard, *also)


def _followed(mode: Mode, known: str | None) -> tuple:
    """When the stored mode changed (another tab, the command line, this tab's own
    confirmed switch), the switch set to it and the mode this tab's clicks carry. Only a
    change of the stored mode moves the switch, so a flip waiting for its confirmation is
    never undone here."""
    if mode.value == known:
        return no_update, no_update
    return mode is Mode.SIM, mode.value


def _register_connection_watch(app: dash.Dash) -> None:
    """The page's own view of its server: the time each heartbeat arrived, and a check
    every second that greys the badge ("DISCONNECTED") when none came for a few seconds."""
    app.clientside_callback(
        ClientsideFunction("connection", "heard"),
        Output(ids.HEARTBEAT_SEEN, "data"),
        Input(ids.HEARTBEAT, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("connection", "check"),
        Output(ids.CONNECTION, "className"),
        Input(ids.CONNECTION_TICK, "n_intervals"),
        State(ids.HEARTBEAT_SEEN, "data"),
    )


def _register_trade(app: dash.Dash, service, background_down) -> None:
    """A click is read and checked here, at once; the trade itself runs as a background
    callback (on Celery with REDIS_URL, else a local process), so no web worker waits on
    the exchange. While it runs, the page (any page, after a reload too) shows its step
    from the database."""

    @app.callback(
        Output(ids.TRADE_REQUEST, "data"),
        Output(ids.ORDER_SIZE, "invalid"),
        Output(ids.ORDER_SIZE_FEEDBACK, "children"),
        Output(ids.EXIT_PART, "invalid"),
        Output(ids.EXIT_PART_FEEDBACK, "children"),
        Output(ids.TRADE_TOAST, "is_open", allow_duplicate=True),
        Output(ids.TRADE_TOAST, "header", allow_duplicate=True),
        Output(ids.TRADE_TOAST, "icon", allow_duplicate=True),
        Output(ids.TRADE_TOAST, "children", allow_duplicate=True),
        Input(ids.TRADE_BUY, "n_clicks"),
        Input(ids.TRADE_SELL, "n_clicks"),
        Input(ids.TRADE_CLOSE, "n_clicks"),
        State(ids.SYMBOL_SELECT, "value"),
        State(ids.ORDER_SIZE, "value"),
        State(ids.ORDER_SIZE_UNIT, "value"),
        State(ids.STOP_LOSS, "value"),
        State(ids.TAKE_PROFIT, "value"),
        State(ids.EXIT_PART, "value"),
        State(ids.EXIT_PART_UNIT, "value"),
        State(ids.LIMIT_PRICE, "value"),
        State(ids.KNOWN_MODE, "data"),
        State(ids.TAB_ID, "data"),
        prevent_initial_call=True,
    )
    def request_trade(
        _buy,
        _sell,
        _close,
        symbol,
        amount_text,
        unit,
        loss,
        profit,
        part,
        part_unit,
        limit,
        shown,
        tab,
    ):
        """The request carries the mode this tab showed: the gate refuses it in any other.
        SELL and CLOSE carry the part of the holding they sell (empty: all of it)."""
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        target = TARGETS[ctx.triggered_id]
        request = {
            "symbol": symbol,
            "target": target.value,
            "id": uuid.uuid4().hex,
            "at": time.time(),
            "mode": shown,
            "tab": tab,
        }
        try:
            if limit_price(limit) is not None:
                request["limit_price"] = limit
        except InputError as exc:
            return no_update, True, str(exc), False, "", *(no_update,) * 4
        if target is PositionState.LONG:
            try:
                parse_size(amount_text, unit)
                stop_prices(loss, profit)
            except InputError as exc:
                return no_update, True, str(exc), False, "", *(no_update,) * 4
            request.update(size=amount_text, unit=unit, stop_loss=loss, take_profit=profit)
        else:
            try:
                parse_exit_part(part, part_unit)
            except InputError as exc:
                return no_update, False, "", True, str(exc), *(no_update,) * 4
            request.update(part=part, part_unit=part_unit)
        down = background_down(fresh=True)
        if down:
            words = f"{down}: the trade was not started and nothing was sent."
            toast = (True, f"{symbol} → {target.value}", "danger", words)
            return no_update, False, "", False, "", *toast
        return request, False, "", False, "", *(no_update,) * 4

    @app.callback(
        Output(ids.TRADE_TOAST, "is_open"),
        Output(ids.TRADE_TOAST, "header"),
        Output(ids.TRADE_TOAST, "icon"),
        Output(ids.TRADE_TOAST, "children"),
        Output(ids.ORDER_SIZE, "invalid", allow_duplicate=True),
        Output(ids.ORDER_SIZE_FEEDBACK, "children", allow_duplicate=True),
        Output(ids.EXIT_PART, "invalid", allow_duplicate=True),
        Output(ids.EXIT_PART_FEEDBACK, "children", allow_duplicate=True),
        Output(ids.TRADE_DONE, "data"),
        Input(ids.TRADE_REQUEST, "data"),
        State(ids.TRADE_DONE, "data"),
        background=True,
        interval=TRADE_POLL_MS,
        running=[(Output(button, "disabled"), True, False) for button in BUTTONS],
        prevent_initial_call=True,
    )
    def run_trade(request, trades_done):
        if not request:
            raise PreventUpdate
        target = PositionState(request["target"])
        waited = time.time() - request["at"]
        if waited > OLDEST_CLICK_SECONDS:
            words = (
                f"This click is {waited:.0f} s old (the background service was slow to take "
                "it): nothing was traded. Click again if you still want it."
            )
            return (
                True,
                f"{request['symbol']} → {target.value}",
                "warning",
                words,
                *(no_update,) * 5,
            )
        size, stops, part = None, {}, None
        if target is PositionState.LONG:
            size = parse_size(request["size"], request["unit"])
            stops = stop_prices(request["stop_loss"], request["take_profit"])
        else:
            part = parse_exit_part(request.get("part"), request.get("part_unit") or "pct")
        shown = Mode(request["mode"]) if request.get("mode") in MODES else None
        if shown is None:
            return (
                True,
                f"{request['symbol']} → {target.value}",
                "danger",
                "This page did not say which mode it showed: nothing was traded. Reload it.",
                *(no_update,) * 5,
            )
        with requested_by(request.get("tab")):
            result = service.trading.trade(
                request["symbol"],
                target,
                size,
                shown_mode=shown,
                part=part,
                limit_price=limit_price(request.get("limit_price")),
                **stops,
            )
        if result.refused and target is PositionState.LONG:
            return (no_update,) * 4 + (True, result.message, no_update, no_update, no_update)
        if result.refused and part is not None:
            return (no_update,) * 6 + (True, result.message, no_update)
        toast = components.trade_toast(result)
        return (*toast, False, "", False, "", (trades_done or 0) + 1)


def _register_stops(app: dash.Dash, service) -> None:
    @app.callback(
        Output(ids.STOP_LOSS, "invalid"),
        Output(ids.STOP_FEEDBACK, "children"),
        Output(ids.TRADE_TOAST, "is_open", allow_duplicate=True),
        Output(ids.TRADE_TOAST, "header", allow_duplicate=True),
        Output(ids.TRADE_TOAST, "icon", allow_duplicate=True),
        Output(ids.TRADE_TOAST, "children", allow_duplicate=True),
        Input(ids.STOP_SET, "n_clicks"),
        Input(ids.STOP_CLEAR, "n_clicks"),
        State(ids.SYMBOL_SELECT, "value"),
        State(ids.STOP_LOSS, "value"),
        State(ids.TAKE_PROFIT, "value"),
        prevent_initial_call=True,
    )
    def change_stop(_set, _clear, symbol, loss, profit):
        """Set (or replace) or remove the stop on what is held of the symbol now."""
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        try:
            if ctx.triggered_id == ids.STOP_CLEAR:
                outcome = service.protection.clear(symbol)
            else:
                prices = stop_prices(loss, profit)
                if "stop_loss" not in prices:
                    raise InputError("Enter a stop-loss price.")
                outcome = service.protection.protect(symbol, **prices)
        except InputError as exc:
            return True, str(exc), *(no_update,) * 4
        except AppError as exc:
            return False, "", True, f"Stop on {symbol}", "danger", str(exc)
        tone = "success" if outcome.ok else "danger"
        return False, "", True, f"Stop on {symbol}", tone, outcome.message


def _register_kill_switch(app: dash.Dash, service) -> None:
    @app.callback(
        Output(ids.FLATTEN_CONFIRM, "displayed"),
        Output(ids.FLATTEN_CONFIRM, "message"),
        Output(ids.RESUME_CONFIRM, "displayed"),
        Output(ids.RESUME_CONFIRM, "message"),
        Output(ids.KILL_SWITCH_ASKED, "data"),
        Input(ids.FLATTEN, "n_clicks"),
        Input(ids.RESUME, "n_clicks"),
        prevent_initial_call=True,
    )
    def ask(_flatten, _resume):
        """Both ask first, naming the account, the exchange and the book, and keep the
        book they named: the answer acts on that book or not at all."""
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        mode = service.modes.current()
        where = f"account {ACCOUNT} on {service.exchange_label} ({mode.value.upper()})"
        if ctx.triggered_id == ids.FLATTEN:
            question = (
                f"Flatten {where}? Every open order is cancelled, every position closed, and "
                "trading halted until you resume."
            )
            return True, question, False, no_update, mode.value
        return False, no_update, True, f"Resume trading on {where}?", mode.value

    @app.callback(
        Output(ids.PROTECTION_MESSAGE, "is_open"),
        Output(ids.PROTECTION_MESSAGE, "color"),
        Output(ids.PROTECTION_MESSAGE, "children"),
        Output(ids.TRADE_DONE, "data", allow_duplicate=True),
        Input(ids.FLATTEN_CONFIRM, "submit_n_clicks"),
        Input(ids.RESUME_CONFIRM, "submit_n_clicks"),
        State(ids.KILL_SWITCH_ASKED, "data"),
        State(ids.TRADE_DONE, "data"),
        State(ids.TAB_ID, "data"),
        running=[(Output(ids.FLATTEN, "disabled"), True, False)],
        prevent_initial_call=True,
    )
    def act(_flatten, _resume, asked, trades_done, tab):
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        mode = service.modes.current()
        if asked != mode.value:  # switched, in this tab or another, while the question showed
            return True, "danger", components.kill_switch_moved(asked, mode), no_update
        with requested_by(tab):
            if ctx.triggered_id == ids.FLATTEN_CONFIRM:
                [outcome] = service.kill_switch.flatten([ACCOUNT], mode)
                colour, text = ("warning" if outcome.ok else "danger"), outcome.message
            else:
                colour, text = "success", service.kill_switch.resume(ACCOUNT, mode)
        return True, colour, text, (trades_done or 0) + 1


def _register_mode(app: dash.Dash, service) -> None:
    @app.callback(
        Output(ids.LIVE_CONFIRM, "displayed"),
        Output(ids.LIVE_CONFIRM, "message"),
        Output(ids.MODE_SWITCH, "value"),
        Output(ids.MODE_MESSAGE, "is_open"),
        Output(ids.MODE_MESSAGE, "color"),
        Output(ids.MODE_MESSAGE, "children"),
        Output(ids.MODE_CHANGED, "data"),
        Output(ids.KNOWN_MODE, "data", allow_duplicate=True),
        Input(ids.MODE_SWITCH, "value"),
        Input(ids.LIVE_CONFIRM, "submit_n_clicks"),
        Input(ids.LIVE_CONFIRM, "cancel_n_clicks"),
        State(ids.MODE_CHANGED, "data"),
        prevent_initial_call=True,
    )
    def change_mode(simulated, _confirmed, _cancelled, changes):
        """Switch off first checks that LIVE can start (keys, the account, no order of
        unknown outcome) and only then asks; a refusal flips the switch back to SIM and
        says why. Setting the switch here does not call this callback again; a switch that
        merely follows the stored mode (see below) is no request. A switch this tab made
        is the mode its next click carries at once (the gate refuses a click in another)."""
        changes = (changes or 0) + 1
        triggered = ctx.triggered_prop_ids
        if f"{ids.MODE_SWITCH}.value" in triggered:
            if simulated == (service.modes.current() is Mode.SIM):
                raise PreventUpdate
            if not simulated:
                refusal = service.modes.live_refusal()
                if refusal:
                    return False, no_update, True, True, "danger", refusal, no_update, no_update
                return True, service.modes.confirmation(), *(no_update,) * 6
            change = service.modes.request(Mode.SIM)
            alert = components.mode_alert(change)
            return False, no_update, no_update, *alert, changes, change.mode.value
        if f"{ids.LIVE_CONFIRM}.submit_n_clicks" in triggered:
            change = service.modes.request(Mode.LIVE)
            alert = components.mode_alert(change)
            return False, no_update, change.mode is Mode.SIM, *alert, changes, change.mode.value
        return False, no_update, True, True, "secondary", STAYED_IN_SIM, no_update, no_update
