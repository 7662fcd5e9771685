"""The working orders panel: every working order of the app's, every order placed outside
the app (as the periodic check last read them, with the age of that read) and every stop
of the book shown, with Cancel per order and Cancel all per symbol. Its rows come from the
database (the trades and the periodic check keep them), never from the exchange on a
refresh; a Cancel goes through the gate like a trade, the outside orders' too."""

from __future__ import annotations

from datetime import UTC, datetime

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from core.service import AppError, Mode, Origin
from core.service.working_orders import STOP_ID
from web import formatting as fmt
from web import ids
from web.amend_dialog import dialog, movable, move_button
from web.page_tabs import TRADING_TAB
from web.tick_memo import TickMemo, only_ticked

KINDS = {"limit": "limit", "stop_loss": "stop-loss", "take_profit": "take-profit"}
MODES = {mode.value for mode in Mode}
# the types of the panel's pattern-matching buttons (their ids are made per row)
CANCEL_ORDER = "cancel-order"  # {"type": CANCEL_ORDER, "id": ORDER_ID}
CANCEL_SYMBOL = "cancel-symbol"  # {"type": CANCEL_SYMBOL, "symbol": SYMBOL}


def orders_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Working orders and stops"),
            dbc.CardBody(
                [
                    html.Div(id=ids.ORDERS_PANEL, children=order_rows([], datetime.now(UTC))),
                    dbc.Alert(
                        id=ids.ORDERS_MESSAGE,
                        is_open=False,
                        dismissable=True,
                        className="mt-2 mb-0",
                    ),
                    dcc.Store(id=ids.ORDERS_SHOWN),
                    dcc.Store(id=ids.ORDERS_CHANGED, data=0),
                    dialog(),
                ]
            ),
        ],
        className="mb-3",
    )


def order_rows(orders, now: datetime, outside=None) -> html.Div:
    """The panel's table (pure): one row per order or stop, a Cancel on each order (and a
    Move on each of the app's), and a Cancel all under each symbol that has orders. The
    orders placed outside the app (`outside`, the check's last read) follow the app's,
    with a line saying when they were read."""
    if outside is not None and outside.orders:
        stops = [o for o in orders if not o.cancellable]
        orders = [*[o for o in orders if o.cancellable], *outside.orders, *stops]
    if not orders:
        return html.Div("No working orders and no stops.", className="small text-muted")
    header = html.Thead(
        html.Tr([html.Th(h) for h in ("Symbol", "Order", "Price", "Qty", "Age", "By", "")])
    )
    body = [
        html.Tr([*_cells(o, now), html.Td(html.Div(_buttons(o), className="d-grid gap-1"))])
        for o in orders
    ]
    symbols = sorted({o.symbol for o in orders if o.cancellable})
    cancel_all = [
        dbc.Button(
            f"Cancel all {symbol}",
            id={"type": CANCEL_SYMBOL, "symbol": symbol},
            color="warning",
            size="sm",
            outline=True,
            className="me-2",
        )
        for symbol in symbols
    ]
    return html.Div(
        [
            dbc.Table([header, html.Tbody(body)], size="sm", className="mb-2 orders-table"),
            _read_note(outside, now),
            html.Div(cancel_all),
        ]
    )


def _read_note(outside, now: datetime):
    """When the orders placed outside the app were read: they are as old as that read."""
    if outside is None or not outside.orders:
        return ""
    seconds = (now - outside.read_at).total_seconds()
    ago = "less than a minute ago" if seconds < 60 else f"{_age(now - outside.read_at)} ago"
    return html.Div(
        f"By outside: placed outside the app (in the exchange's own app, say), as the "
        f"periodic check read them at {outside.read_at:%H:%M:%S} UTC ({ago}).",
        className="small text-muted mb-2 outside-read",
    )


def _cells(order, now: datetime) -> list:
    """Symbol, order (side and kind), price, quantity with what of it filled, age and who
    placed it: seven narrow columns, so the panel fits its column at 1366x768."""
    age = "" if order.placed_at is None else _age(now - order.placed_at)
    side = order.side.value.upper() if order.side else ""
    return [
        html.Td(order.symbol),
        html.Td(f"{side} {KINDS.get(order.kind, order.kind)}".strip()),
        html.Td(fmt.price(order.price)),
        html.Td(_quantity(order)),
        html.Td(age),
        html.Td(order.placed_by.value),
    ]


def _quantity(order) -> list:
    if order.amount is None:
        return []
    filled = html.Div(f"{fmt.quantity(order.filled)} filled", className="text-muted")
    return [fmt.quantity(order.amount), filled]


def _buttons(order) -> list:
    """Move (the app's priced orders) and Cancel (any order)."""
    return [move_button(order), _cancel(order)] if movable(order) else [_cancel(order)]


def _cancel(order):
    if not order.cancellable:
        return ""
    return dbc.Button(
        "Cancel",
        id={"type": CANCEL_ORDER, "id": order.id},
        color="danger",
        size="sm",
        outline=True,
    )


def _age(delta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _signature(orders) -> str:
    return "|".join(f"{o.id}:{o.kind}:{o.price}:{o.filled}" for o in orders)


def register_orders_callbacks(app: dash.Dash, service) -> None:
    reads = TickMemo()

    @app.callback(
        Output(ids.ORDERS_PANEL, "children"),
        Output(ids.ORDERS_SHOWN, "data"),
        Input(ids.REFRESH, "n_intervals"),
        Input(ids.ORDERS_CHANGED, "data"),
        Input(ids.TRADE_DONE, "data"),
        Input(ids.KNOWN_MODE, "data"),
        Input(ids.PAGE_TABS, "active_tab"),
        State(ids.ORDERS_SHOWN, "data"),
    )
    def show(_tick, _changed, _traded, shown, page, seen):
        """A database read while the Trading page shows (a tick shares the read of the
        second with every tab; a cancel, a trade or a switch reads now); the table (and its
        buttons) is sent again only when the orders changed or a minute passed (the ages),
        so a click is never lost to a re-render."""
        if page not in (None, TRADING_TAB):
            raise PreventUpdate
        mode = Mode(shown) if shown in MODES else None
        orders, outside = reads.get(
            mode,
            lambda: (service.orders.recorded(mode), service.orders.outside(mode)),
            fresh=not only_ticked(),
        )
        now = datetime.now(UTC)
        read = f"{outside.read_at:%H%M%S}:{_signature(outside.orders)}" if outside else ""
        signature = f"{_signature(orders)}#{read}#{now:%H%M}"
        if signature == seen:
            raise PreventUpdate
        return order_rows(orders, now, outside), signature

    @app.callback(
        Output(ids.ORDERS_MESSAGE, "children"),
        Output(ids.ORDERS_MESSAGE, "color"),
        Output(ids.ORDERS_MESSAGE, "is_open"),
        Output(ids.ORDERS_CHANGED, "data"),
        Input({"type": CANCEL_ORDER, "id": ALL}, "n_clicks"),
        Input({"type": CANCEL_SYMBOL, "symbol": ALL}, "n_clicks"),
        State(ids.KNOWN_MODE, "data"),
        State(ids.ORDERS_CHANGED, "data"),
        prevent_initial_call=True,
    )
    def cancel(_orders, _symbols, shown, changed):
        """A Cancel asks in the mode this tab shows: the gate refuses it in any other."""
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate  # a re-rendered button, not a click
        if shown not in MODES:
            return (
                "This page did not say which mode it showed: reload it.",
                "danger",
                True,
                no_update,
            )
        which, mode = ctx.triggered_id, Mode(shown)
        try:
            if which["type"] == CANCEL_ORDER and not which["id"].startswith(STOP_ID):
                done = [service.orders.cancel(which["id"], origin=Origin.MANUAL, made_in=mode)]
            else:
                done = service.orders.cancel_symbol(
                    which["symbol"], origin=Origin.MANUAL, made_in=mode
                )
        except AppError as exc:
            return str(exc), "danger", True, (changed or 0) + 1
        words = "; ".join(
            f"cancelled {o.side.value.upper() if o.side else ''} {o.symbol} @ {fmt.price(o.price)}"
            for o in done
        )
        return words or "nothing was open", "success", True, (changed or 0) + 1
