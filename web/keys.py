"""The ticket's keyboard: B, S and C open the confirmation of BUY, SELL and CLOSE (assets/
keys.js listens, never while the trader types in a field); Esc or Cancel closes it. Only
the confirmation's own button sends, by clicking the ticket's button, so a key press goes
through the very checks a click does, and a key alone sends nothing."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from core.service import AppError, InputError, parse_exit_part, parse_size
from web import ids
from web.ticket import limit_price, size_unit_options, stop_prices

CHOICES = {
    "buy": ("BUY", "success", ids.TRADE_BUY),
    "sell": ("SELL", "danger", ids.TRADE_SELL),
    "close": ("CLOSE", "secondary", ids.TRADE_CLOSE),
}
LEGEND = "Keys: B buy · S sell · C close · Esc cancel. A key only asks; its button sends."


def legend() -> html.Div:
    return html.Div(LEGEND, id=ids.KEY_LEGEND, className="small text-muted mt-1")


def confirm_dialog() -> html.Div:
    """The confirmation a key opens, and the store keys.js writes the key's choice to."""
    return html.Div(
        [
            dcc.Store(id=ids.KEY_CHOICE),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle(id=ids.KEY_CONFIRM_TITLE)),
                    dbc.ModalBody(id=ids.KEY_CONFIRM_BODY),
                    dbc.ModalFooter(
                        [
                            dbc.Button("Cancel (Esc)", id=ids.KEY_CANCEL, color="secondary"),
                            dbc.Button(id=ids.KEY_SEND),
                        ]
                    ),
                ],
                id=ids.KEY_CONFIRM,
                is_open=False,
                keyboard=True,
                centered=True,
            ),
        ]
    )


def confirmation_words(
    choice: str, symbol: str, mode: str, size: tuple, stops: tuple, part: tuple, price=None
) -> list[str]:
    """What the confirmation says will be sent: the action, the symbol and book, the size
    or the part, and the limit price it would rest at; InputError for a field that cannot
    be read (the ticket says the same)."""
    label = CHOICES[choice][0]
    book = (mode or "").upper()
    lines = [f"{label} {symbol} in {book}."]
    if choice == "buy":
        parse_size(*size)
        unit = {o["value"]: o["label"] for o in size_unit_options(symbol.split("/")[1])}
        lines.append(f"Size: {size[0].strip()} {unit.get(size[1], size[1])} (see the preview).")
        given = stop_prices(*stops)
        if given:
            lines.append(
                "Protected by "
                + " and ".join(f"{k.replace('_', '-')} {v:f}" for k, v in given.items())
                + "."
            )
    else:
        exit_part = parse_exit_part(*part)
        if exit_part is None:
            held = "it all" if choice == "close" else f"it all into {symbol.split('/')[1]}"
            lines.append(f"Sells {held}.")
        else:
            share = (
                f"{exit_part.pct:f} % of the holding"
                if exit_part.pct is not None
                else f"{exit_part.qty:f} {symbol.split('/')[0]}"
            )
            lines.append(f"Sells {share}; the rest stays LONG under its stop.")
    resting = limit_price(price)
    if resting is not None:
        lines.append(f"At {resting:f}: it rests as a working order until it fills or is cancelled.")
    lines.append(f"Open orders on {symbol} are cancelled first.")
    return lines


def register_key_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output(ids.KEY_CONFIRM, "is_open"),
        Output(ids.KEY_CONFIRM_TITLE, "children"),
        Output(ids.KEY_CONFIRM_BODY, "children"),
        Output(ids.KEY_SEND, "children"),
        Output(ids.KEY_SEND, "color"),
        Output(ids.KEY_SEND, "disabled"),
        Input(ids.KEY_CHOICE, "data"),
        State(ids.SYMBOL_SELECT, "value"),
        State(ids.KNOWN_MODE, "data"),
        State(ids.ORDER_SIZE, "value"),
        State(ids.ORDER_SIZE_UNIT, "value"),
        State(ids.STOP_LOSS, "value"),
        State(ids.TAKE_PROFIT, "value"),
        State(ids.EXIT_PART, "value"),
        State(ids.EXIT_PART_UNIT, "value"),
        State(ids.LIMIT_PRICE, "value"),
        prevent_initial_call=True,
    )
    def ask(choice, symbol, mode, size, unit, loss, profit, part, part_unit, price):
        """The confirmation of the key's action, with what it would send; a field that
        cannot be read is said here and its button stays disabled."""
        if not choice or choice.get("target") not in CHOICES:
            raise PreventUpdate
        target = choice["target"]
        label, colour, _ = CHOICES[target]
        try:
            words = confirmation_words(
                target, symbol, mode, (size, unit), (loss, profit), (part, part_unit), price
            )
        except (InputError, AppError) as exc:
            body = [html.P(f"{label} {symbol}: not sent, {exc}", className="text-danger")]
            return True, f"{label} {symbol}?", body, f"Send {label}", colour, True
        body = [html.P(line, className="mb-1") for line in words]
        return True, f"{label} {symbol}?", body, f"Send {label}", colour, False

    app.clientside_callback(
        ClientsideFunction("keys", "send"),
        Output(ids.KEY_CONFIRM, "is_open", allow_duplicate=True),
        Input(ids.KEY_SEND, "n_clicks"),
        State(ids.KEY_CHOICE, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.KEY_CONFIRM, "is_open", allow_duplicate=True),
        Input(ids.KEY_CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )
    def cancel(clicks):
        if not clicks:
            raise PreventUpdate
        return False
