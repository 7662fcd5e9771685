"""Pure builders: read models in, Dash components (or component properties) out. No service
calls and no callbacks here, so every piece of the page can be checked without a browser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import dash_bootstrap_components as dbc
from dash import html

from core.domain import TradeResult, quote_asset
from core.views import (
    Badge,
    DashboardView,
    FillView,
    MarketView,
    ModeChange,
    OrderView,
    PnlView,
    PositionView,
    SyncRunView,
)
from web import formatting as fmt

POSITION_COLUMNS = (
    ("symbol", "Symbol"),
    ("state", "State"),
    ("qty", "Quantity"),
    ("avg_entry", "Average entry"),
    ("price", "Current price"),
    ("unrealized", "Unrealized PnL"),
    ("realized", "Realized PnL"),
    ("side", "Side"),
    ("leverage", "Leverage"),
    ("liquidation", "Liq. price"),
    ("exchange", "Exchange"),
    ("account", "Account"),
)
FILL_COLUMNS = ("Time", "Symbol", "Side", "Quantity", "Price", "Fee", "Client order id")
ORDER_COLUMNS = (
    "Time",
    "Symbol",
    "Side",
    "Price",
    "Amount",
    "Filled",
    "Average",
    "Status",
    "Reason",
)
SYNC_COLUMNS = ("Time", "Kind", "Symbol", "Target", "Before", "After", "Result", "Took", "Calls")


class BadgeProps(NamedTuple):
    text: str
    colour: str
    detail: str


class ToastProps(NamedTuple):
    is_open: bool
    header: str
    icon: str
    body: str


class AlertProps(NamedTuple):
    is_open: bool
    colour: str
    body: str


def badge_props(badge: Badge) -> BadgeProps:
    return BadgeProps(badge.text, fmt.tone_colour(badge.tone), badge.detail)


def last_sync_text(view: DashboardView) -> str:
    return f"Last sync: {fmt.timestamp(view.last_sync) if view.last_sync else 'none yet'}"


def exchange_problem(view: DashboardView, market: MarketView) -> str | None:
    """The sentence the page shows while the exchange cannot be reached, or None."""
    error = market.error or view.exchange_error
    if not error:
        return None
    return (
        f"Exchange unreachable: {view.exchange_label} did not answer ({error}). "
        "Prices shown may be stale; the page recovers by itself when the exchange is back."
    )


def _stat(label: str, value: str, value_class: str = "") -> html.Div:
    return html.Div(
        [
            html.Div(label, className="stat-label"),
            html.Div(value, className=f"stat-value {value_class}".strip()),
        ],
        className="stat",
    )


def market_strip(market: MarketView) -> list[html.Div]:
    """Last price, bid / ask and the 24 h change (green up, red down) of one symbol."""
    bid_ask = f"{fmt.price(market.bid)} / {fmt.price(market.ask)}"
    return [
        _stat("Last price", fmt.price(market.last), "stat-value-large"),
        _stat("Bid / ask", bid_ask),
        _stat("24h change", fmt.percent(market.change_pct), fmt.sign_class(market.change_pct)),
        _stat("Price time", fmt.timestamp(market.time)),
    ]


def table_sections(columns: Sequence[str], rows: list[html.Tr], empty_text: str) -> list:
    """Header and body of a dbc.Table; an empty table says so in one full-width row."""
    if not rows:
        rows = [html.Tr(html.Td(empty_text, colSpan=len(columns), className="text-muted"))]
    return [html.Thead(html.Tr([html.Th(c) for c in columns])), html.Tbody(rows)]


def _pnl_cell(value, asset: str) -> html.Td:
    return html.Td(fmt.signed_money(value, asset), className=fmt.sign_class(value))


def position_rows(positions: list[PositionView]) -> list[dict]:
    """The positions table's data: one dict of display text per position (a DataTable
    renders hundreds of these cheaply, where a tree of cell components would not). Rows of
    derivative accounts the monitor keeps carry their side, leverage and liquidation price;
    their current price is the exchange's mark."""
    return [
        {
            "symbol": p.symbol,
            "state": p.state_label,
            "qty": fmt.quantity(p.qty),
            "avg_entry": fmt.price(p.avg_entry),
            "price": fmt.price(p.price),
            "unrealized": fmt.signed_money(p.unrealized, quote_asset(p.symbol)),
            "realized": fmt.signed_money(p.realized, quote_asset(p.symbol)),
            "side": p.side.upper() or "—",
            "leverage": f"{p.leverage.normalize():f}x" if p.leverage else "—",
            "liquidation": fmt.price(p.liquidation_price),
            "exchange": p.exchange or "—",
            "account": p.account,
        }
        for p in positions
    ]


def _pnl_card(label: str, value: str, value_class: str = "") -> dbc.Col:
    body = dbc.CardBody(
        [
            html.Div(label, className="stat-label"),
            html.Div(value, className=f"pnl-value {value_class}".strip()),
        ]
    )
    return dbc.Col(dbc.Card(body, className="pnl-card"), xs=6)


def pnl_cards(pnl: PnlView) -> list[dbc.Col]:
    """Equity, realized, unrealized (coloured by sign) and fees, in the quote asset."""
    return [
        _pnl_card("Equity", fmt.money(pnl.equity, pnl.quote)),
        _pnl_card(
            "Realized PnL", fmt.signed_money(pnl.realized, pnl.quote), fmt.sign_class(pnl.realized)
        ),
        _pnl_card(
            "Unrealized PnL",
            fmt.signed_money(pnl.unrealized, pnl.quote),
            fmt.sign_class(pnl.unrealized),
        ),
        _pnl_card("Fees paid", fmt.money(pnl.fees, pnl.quote), "text-warning"),
    ]


def _side_cell(side: str) -> html.Td:
    return html.Td(side.upper(), className="text-success" if side == "buy" else "text-danger")


def fill_rows(fills: list[FillView]) -> list:
    rows = [
        html.Tr(
            [
                html.Td(fmt.timestamp(f.time)),
                html.Td(f.symbol),
                _side_cell(f.side),
                html.Td(fmt.quantity(f.qty)),
                html.Td(fmt.price(f.price)),
                html.Td(f"{fmt.quantity(f.fee)} {f.fee_asset}"),
                html.Td(f.client_order_id, className="text-muted small"),
            ]
        )
        for f in fills
    ]
    return table_sections(FILL_COLUMNS, rows, "No fills yet.")


def order_rows(orders: list[OrderView]) -> list:
    rows = [
        html.Tr(
            [
                html.Td(fmt.timestamp(o.time)),
                html.Td(o.symbol),
                _side_cell(o.side),
                html.Td(fmt.price(o.price)),
                html.Td(fmt.quantity(o.amount)),
                html.Td(fmt.quantity(o.filled)),
                html.Td(fmt.price(o.average)),
                html.Td(o.status.upper()),
                html.Td(o.reason or "", className="small"),
            ],
            title=o.client_order_id,
        )
        for o in orders
    ]
    return table_sections(ORDER_COLUMNS, rows, "No orders yet.")


def sync_rows(runs: list[SyncRunView]) -> list:
    rows = [
        html.Tr(
            [
                html.Td(fmt.timestamp(r.time)),
                html.Td(r.kind),
                html.Td(r.symbol or "all"),
                html.Td(r.target or fmt.MISSING),
                html.Td(r.before or fmt.MISSING),
                html.Td(r.after or fmt.MISSING),
                html.Td(
                    ("OK: " if r.ok else "FAILED: ") + r.message,
                    className="text-success" if r.ok else "text-danger",
                ),
                html.Td(f"{r.duration_ms} ms"),
                html.Td(str(r.api_calls)),
            ]
        )
        for r in runs
    ]
    return table_sections(SYNC_COLUMNS, rows, "No sync runs yet.")


def trade_toast(result: TradeResult) -> ToastProps:
    """The outcome of one BUY / SELL / CLOSE: green when the target was reached, red if not."""
    outcome = "Done" if result.ok else "Failed"
    header = f"{outcome}: {result.symbol} → {result.target.value}"
    return ToastProps(True, header, "success" if result.ok else "danger", result.message)


def mode_alert(change: ModeChange) -> AlertProps:
    return AlertProps(True, "success" if change.ok else "danger", change.message)
