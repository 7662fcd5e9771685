"""Moving a working order's price from the page: the orders panel's Move on a row, or a
working order's line dragged on the chart (web.chart_callbacks), asks here. The dialog names
the order, its old price and the new one; only its Move order button sends, through the
gate (cancel and replace, core.trading.amend)."""

from __future__ import annotations

from decimal import Decimal

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from core.service import AppError, InputError, Mode, Origin, PlacedBy, parse_amount
from web import formatting as fmt
from web import ids

MOVE_ORDER = "move-order"  # {"type": MOVE_ORDER, "id": ORDER_ID}: a row's Move button
AMEND_ASK = "amend-ask"  # {"id": ORDER_ID, "price": "3205.5"}: what the dialog is asked
AMEND_DIALOG = "amend-dialog"
AMEND_WHAT = "amend-what"
AMEND_PRICE = "amend-price"
AMEND_WORDS = "amend-words"
AMEND_SEND = "amend-send"
AMEND_KEEP = "amend-keep"
MODES = {mode.value for mode in Mode}


def dialog() -> html.Div:
    return html.Div(
        [
            dcc.Store(id=AMEND_ASK),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle("Move a working order")),
                    dbc.ModalBody(
                        [
                            html.Div(id=AMEND_WHAT, className="mb-2"),
                            dbc.InputGroup(
                                [
                                    dbc.InputGroupText("New price"),
                                    dbc.Input(id=AMEND_PRICE, type="text", inputMode="decimal"),
                                ],
                                size="sm",
                            ),
                            html.Div(id=AMEND_WORDS, className="small mt-2"),
                        ]
                    ),
                    dbc.ModalFooter(
                        [
                            dbc.Button("Keep it", id=AMEND_KEEP, color="secondary"),
                            dbc.Button("Move order", id=AMEND_SEND, color="warning"),
                        ]
                    ),
                ],
                id=AMEND_DIALOG,
                is_open=False,
                keyboard=True,
                centered=True,
            ),
        ]
    )


def move_button(order) -> dbc.Button:
    return dbc.Button(
        "Move",
        id={"type": MOVE_ORDER, "id": order.id},
        color="info",
        size="sm",
        outline=True,
    )


def movable(order) -> bool:
    """Only the app's own priced orders move (a stop moves in the ticket; an order placed
    outside the app is cancelled, not replaced by the app)."""
    return order.placed_by is PlacedBy.APP and order.kind == "limit"


def what_words(order) -> str:
    side = order.side.value.upper() if order.side else ""
    left = (order.amount or Decimal(0)) - order.filled
    return (
        f"{side} {fmt.quantity(left)} {order.symbol} @ {fmt.price(order.price)} (order {order.id})"
    )


def move_words(order, text: str | None) -> str:
    """`Move BUY 0.155 ETH/USDT from 3,230.00 to 3,205.00? ...`; InputError for a price
    that is not a plain number."""
    price = parse_amount(text, "New price", "Enter the new price.")
    side = order.side.value.upper() if order.side else ""
    return (
        f"Move {side} {order.symbol} from {fmt.price(order.price)} to {fmt.price(price)}? "
        "The order is cancelled and what it has left rests again at the new price; what "
        "it fills before the cancel stays filled."
    )


def _order(service, order_id: str | None, shown: str | None):
    mode = Mode(shown) if shown in MODES else None
    found = [o for o in service.orders.recorded(mode) if o.id == order_id and movable(o)]
    return found[0] if found else None


def register_amend_callbacks(app: dash.Dash, service) -> None:
    @app.callback(
        Output(AMEND_ASK, "data", allow_duplicate=True),
        Input({"type": MOVE_ORDER, "id": ALL}, "n_clicks"),
        State(ids.KNOWN_MODE, "data"),
        prevent_initial_call=True,
    )
    def ask_from_row(_clicks, shown):
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate  # a re-rendered button, not a click
        order = _order(service, ctx.triggered_id["id"], shown)
        if order is None:
            raise PreventUpdate
        return {"id": order.id, "price": str(order.price)}

    @app.callback(
        Output(AMEND_DIALOG, "is_open"),
        Output(AMEND_WHAT, "children"),
        Output(AMEND_PRICE, "value"),
        Input(AMEND_ASK, "data"),
        Input(AMEND_KEEP, "n_clicks"),
        State(ids.KNOWN_MODE, "data"),
        prevent_initial_call=True,
    )
    def open_dialog(asked, _keep, shown):
        if ctx.triggered_id == AMEND_KEEP or not asked:
            return False, no_update, no_update
        order = _order(service, asked.get("id"), shown)
        if order is None:
            return False, no_update, no_update
        return True, what_words(order), asked.get("price")

    @app.callback(
        Output(AMEND_WORDS, "children"),
        Output(AMEND_SEND, "disabled"),
        Input(AMEND_PRICE, "value"),
        State(AMEND_ASK, "data"),
        State(ids.KNOWN_MODE, "data"),
    )
    def confirm_words(text, asked, shown):
        order = _order(service, (asked or {}).get("id"), shown)
        if order is None:
            return "", True
        try:
            return move_words(order, text), False
        except InputError as exc:
            return html.Span(str(exc), className="text-danger"), True

    @app.callback(
        Output(ids.ORDERS_MESSAGE, "children", allow_duplicate=True),
        Output(ids.ORDERS_MESSAGE, "color", allow_duplicate=True),
        Output(ids.ORDERS_MESSAGE, "is_open", allow_duplicate=True),
        Output(ids.ORDERS_CHANGED, "data", allow_duplicate=True),
        Output(AMEND_DIALOG, "is_open", allow_duplicate=True),
        Input(AMEND_SEND, "n_clicks"),
        State(AMEND_PRICE, "value"),
        State(AMEND_ASK, "data"),
        State(ids.KNOWN_MODE, "data"),
        State(ids.ORDERS_CHANGED, "data"),
        prevent_initial_call=True,
    )
    def send(clicks, text, asked, shown, changed):
        """Asks in the mode this tab shows: the gate refuses it in any other."""
        if not clicks or not asked:
            raise PreventUpdate
        if shown not in MODES:
            reload = "This page did not say which mode it showed: reload it."
            return reload, "danger", True, no_update, False
        try:
            price = parse_amount(text, "New price", "Enter the new price.")
            amended = service.orders.amend(
                asked["id"], price, origin=Origin.MANUAL, made_in=Mode(shown)
            )
        except AppError as exc:
            return str(exc), "danger", True, (changed or 0) + 1, False
        colour = "success" if amended.ok else "danger"
        return amended.message, colour, True, (changed or 0) + 1, False
