"""The ticket's size and its preview: how the BUY is sized (quote, % of cash, quantity or
% of equity at risk to the stop) and, as the trader types, what it would be: quantity,
worst price, cost, fee, the stop's distance, the amount at risk and the take-profit's R
multiple, and in words what keeps it from being sent. Every figure is the service's
(core.trading.sizing, the rule the trade itself sizes by); this module only shows them."""

from __future__ import annotations

from decimal import Decimal

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, html, no_update
from dash.exceptions import PreventUpdate

from core.service import (
    DEFAULT_SIZE_TEXT,
    DEFAULT_SIZE_UNIT,
    RISK_DEFAULT,
    AppError,
    Mode,
    Preview,
    SizeKind,
    parse_amount,
    parse_size,
)
from web import formatting as fmt
from web import ids
from web.tick_memo import TickMemo, only_ticked

FIRST_SIZE, FIRST_UNIT = DEFAULT_SIZE_TEXT, DEFAULT_SIZE_UNIT
PLACEHOLDERS = {
    SizeKind.QUOTE: "e.g. 250",
    SizeKind.PCT_OF_CASH: "e.g. 10",
    SizeKind.BASE_QTY: "e.g. 0.05",
    SizeKind.RISK_PCT: "e.g. 1 (needs a stop-loss)",
}
FIRST_PLACEHOLDER = PLACEHOLDERS[SizeKind(FIRST_UNIT)]
# Picking these kinds gives the field their own first value: "10" meant 10 % of the cash,
# never 10 % of equity at risk or 10 coins.
FIRST_VALUES = {SizeKind.RISK_PCT: RISK_DEFAULT, SizeKind.BASE_QTY: ""}
MODES = {mode.value for mode in Mode}


def size_unit_options(quote: str) -> list[dict]:
    return [
        {"label": f"% of free {quote}", "value": SizeKind.PCT_OF_CASH.value},
        {"label": quote, "value": SizeKind.QUOTE.value},
        {"label": "quantity", "value": SizeKind.BASE_QTY.value},
        {"label": "% equity at risk", "value": SizeKind.RISK_PCT.value},
    ]


def exit_part_fields() -> html.Div:
    """The part of the holding SELL and CLOSE sell: a percentage of it or a quantity; empty
    sells it all. The rest stays LONG under the symbol's stop."""
    group = dbc.InputGroup(
        [
            dbc.Input(
                id=ids.EXIT_PART,
                type="text",
                inputmode="decimal",
                autocomplete="off",
                placeholder="all of it",
                size="sm",
            ),
            dbc.Select(
                id=ids.EXIT_PART_UNIT,
                options=[
                    {"label": "% of the holding", "value": "pct"},
                    {"label": "quantity", "value": "qty"},
                ],
                value="pct",
                size="sm",
                className="unit-select",
            ),
            dbc.FormFeedback(id=ids.EXIT_PART_FEEDBACK, type="invalid"),
        ],
        size="sm",
        className="has-validation",
    )
    label = dbc.Label(
        "Part to sell (SELL, CLOSE)", html_for=ids.EXIT_PART, className="stat-label mt-2"
    )
    return html.Div([label, group])


def preview_box() -> html.Div:
    return html.Div(id=ids.TICKET_PREVIEW, className="ticket-preview small mt-2")


def preview_lines(preview: Preview) -> list:
    """The preview as the ticket shows it: one row per figure (`data-field` names it for
    the browser tests), then each problem in words."""
    rules = preview.rules
    rows = [
        ("quantity", "Quantity", f"{fmt.quantity(preview.quantity)} {rules.base}"),
        ("worst-price", "Worst price", fmt.price(preview.worst_price)),
        ("cost", "Cost", fmt.money(preview.cost, rules.quote) + _capped(preview)),
        ("fee", "Fee", _fee(preview)),
    ]
    if preview.stop_loss is not None:
        rows.append(("stop-distance", "Stop distance", _distance(preview)))
        rows.append(("risk", "At risk", _risk(preview)))
    if preview.take_profit is not None:
        rows.append(("r-multiple", "Take-profit", _r_multiple(preview.r_multiple)))
    figures = html.Dl(
        [
            part
            for field, label, value in rows
            for part in (
                html.Dt(label),
                html.Dd(value, **{"data-field": field}),
            )
        ],
        className="ticket-figures mb-1",
    )
    problems = [
        html.Div(problem.words, className="ticket-problem", **{"data-field": "problem"})
        for problem in preview.problems
    ]
    verdict = "BUY would send this" if preview.ok else "BUY would not be sent:"
    return [html.Div(verdict, className="stat-label"), figures, *problems]


def unreadable(message: str) -> list:
    """What the ticket shows when the inputs or the market cannot be read yet."""
    return [html.Div(message, className="ticket-problem", **{"data-field": "problem"})]


def _capped(preview: Preview) -> str:
    return " (cut to MAX_ORDER_NOTIONAL)" if preview.capped else ""


def _fee(preview: Preview) -> str:
    rate = preview.rules.taker_fee * 100
    return f"{fmt.money(preview.fee, preview.rules.quote)} ({rate.normalize():f}% taker)"


def _distance(preview: Preview) -> str:
    if preview.stop_distance is None:
        return fmt.MISSING
    return f"{fmt.price(preview.stop_distance)} ({fmt.plain_percent(preview.stop_distance_pct)})"


def _risk(preview: Preview) -> str:
    if preview.risk is None:
        return fmt.MISSING
    share = preview.risk_pct
    of_equity = f" = {fmt.money(share)}% of equity" if share is not None else ""
    return f"{fmt.money(preview.risk, preview.rules.quote)}{of_equity}"


def _r_multiple(value: Decimal | None) -> str:
    return fmt.MISSING if value is None else f"{fmt.money(value)} R"


def register_ticket_callbacks(app: dash.Dash, service) -> None:
    previews = TickMemo()

    @app.callback(
        Output(ids.ORDER_SIZE, "placeholder"),
        Output(ids.ORDER_SIZE, "value", allow_duplicate=True),
        Input(ids.ORDER_SIZE_UNIT, "value"),
        prevent_initial_call=True,
    )
    def size_kind_chosen(unit):
        try:
            kind = SizeKind(unit)
        except ValueError:
            raise PreventUpdate from None
        return PLACEHOLDERS[kind], FIRST_VALUES.get(kind, no_update)

    @app.callback(
        Output(ids.TICKET_PREVIEW, "children"),
        Input(ids.ORDER_SIZE, "value"),
        Input(ids.ORDER_SIZE_UNIT, "value"),
        Input(ids.STOP_LOSS, "value"),
        Input(ids.TAKE_PROFIT, "value"),
        Input(ids.LIMIT_PRICE, "value"),
        Input(ids.SYMBOL_SELECT, "value"),
        Input(ids.KNOWN_MODE, "data"),
        Input(ids.REFRESH, "n_intervals"),
    )
    def preview(amount, unit, loss, profit, limit, symbol, shown, _tick):
        """Read-only: the book's last balances and cached market data (shared by every tab,
        one exchange read per couple of seconds), so it follows the market between
        keystrokes too. A tick shares the preview of the same ticket worked out within the
        second (every tab shows the first ticket); a keystroke works it out now."""
        asked = (amount, unit, loss, profit, limit, symbol, shown)
        return previews.get(asked, lambda: _preview(*asked), fresh=not only_ticked())

    def _preview(amount, unit, loss, profit, limit, symbol, shown):
        mode = Mode(shown) if shown in MODES else None
        try:
            size = parse_size(amount, unit)
            sized = service.trading.preview(
                symbol, size, mode, **stop_prices(loss, profit), limit_price=limit_price(limit)
            )
        except AppError as exc:
            return unreadable(str(exc))
        return preview_lines(sized)


def limit_price(text) -> Decimal | None:
    """The ticket's limit price, read like any amount; empty takes the market."""
    if not (text or "").strip():
        return None
    return parse_amount(text, "Limit price", "Enter a limit price.")


def stop_prices(loss_text, profit_text) -> dict:
    """The stop fields, read like any amount; empty fields are no stop."""
    prices = {}
    if (loss_text or "").strip():
        prices["stop_loss"] = parse_amount(loss_text, "Stop-loss", "Enter a stop-loss price.")
    if (profit_text or "").strip():
        prices["take_profit"] = parse_amount(profit_text, "Take-profit", "")
    return prices
