"""Pure builders: read models in, Dash components (or component properties) out. No service
calls and no callbacks here, so every piece of the page can be checked without a browser."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import dash_bootstrap_components as dbc
from dash import html

from core.service import Mode, TradeResult
from core.views import (
    Badge,
    BalanceView,
    BookEvent,
    DashboardView,
    DerivativePositionView,
    FillView,
    MarketView,
    ModeChange,
    OrderView,
    PnlView,
    PositionView,
    StopView,
    SyncRunView,
    TradeActivity,
)
from web import event_components
from web import formatting as fmt

POSITION_COLUMNS = (
    ("symbol", "Symbol"),
    ("state", "State"),
    ("qty", "Quantity"),
    ("avg_entry", "Avg. entry"),
    ("price", "Price"),
    ("unrealized", "Unrealized"),
    ("realized", "Realized"),
    ("stop", "Stop"),
    ("sync", "Sync"),
)
DERIVATIVE_COLUMNS = (
    ("account", "Account"),
    ("exchange", "Exchange"),
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("qty", "Quantity"),
    ("entry", "Entry"),
    ("mark", "Mark"),
    ("unrealized", "Unrealized"),
    ("leverage", "Leverage"),
    ("liquidation", "Liq. price"),
    ("stop", "Stop"),
)
BALANCE_COLUMNS = ("Asset", "Free", "Locked", "Value")
ENTRY_SOURCES = {"fills": "", "exchange": " (exchange)", "mark": " (mark)"}
# what a positions cell's tooltip says unless its row's own (position_tips) says otherwise
POSITION_TIPS = {
    "stop": "No stop: set one beside the trade buttons.",
    "avg_entry": "Average cost of the app's own fills.",
}
ENTRY_TIPS = {
    "exchange": "The exchange's entry price: the holdings were adopted from the exchange.",
    "mark": "The mark price when the holdings were adopted: the app never saw them bought.",
}
SYNC_WORDS = {"in_sync": "in sync", "drift": "drift", "failed": "failed"}
FILL_COLUMNS = (
    ("time", "Time"),
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("qty", "Quantity"),
    ("price", "Price"),
    ("fee", "Fee"),
    ("client_order_id", "Client order id"),
)
ORDER_COLUMNS = (
    ("time", "Time"),
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("price", "Price"),
    ("amount", "Amount"),
    ("filled", "Filled"),
    ("average", "Average"),
    ("status", "Status"),
    ("origin", "Sent for"),
    ("reason", "Reason"),
)
SYNC_COLUMNS = (
    ("time", "Time"),
    ("kind", "Kind"),
    ("symbol", "Symbol"),
    ("target", "Target"),
    ("before", "Before"),
    ("after", "After"),
    ("result", "Result"),
    ("took", "Took"),
    ("calls", "Calls"),
)


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


def position_rows(positions: list[PositionView]) -> list[dict]:
    """The spot positions table's data: one dict of display text per symbol (a DataTable
    renders hundreds of these cheaply, where a tree of cell components would not). A flat
    row shows no entry and no unrealized PnL; a holding the market would not trade reads
    as dust; an entry the app did not pay itself says where it came from."""
    return [_position_row(p) for p in positions]


def _position_row(p: PositionView) -> dict:
    quote = fmt.quote_of(p.symbol)
    if p.dust:
        held = f"dust {fmt.quantity(p.qty)}"
    else:
        held = fmt.quantity(p.qty) if p.qty else fmt.MISSING
    entry = fmt.price(p.avg_entry)
    if p.avg_entry is not None:
        entry += ENTRY_SOURCES.get(p.entry_source, "")
    return {
        "symbol": p.symbol,
        "state": p.state_label,
        "qty": held,
        "avg_entry": entry,
        "price": fmt.price(p.price),
        "unrealized": fmt.MISSING
        if p.unrealized is None
        else fmt.signed_money(p.unrealized, quote),
        "realized": fmt.signed_money(p.realized, quote),
        "stop": stop_text(p.stop),
        "sync": SYNC_WORDS.get(p.sync_status or "", fmt.MISSING),
    }


STOP_PLACES = {"app": "app", "exchange": "exch."}
STOP_WHERE = {
    "app": "app-side: watched by the app, active while the dashboard or a worker runs",
    "exchange": "on the exchange: fires even when the app is down",
}


def kill_switch_moved(asked: str | None, mode: Mode) -> str:
    """Why a confirmed flatten or resume did nothing: the dashboard left the book the
    question named before the trader answered."""
    named = asked.upper() if asked else "another book"
    return (
        f"Nothing was done: the dashboard is in {mode.value.upper()} now, not the {named} you "
        "were asked about. Ask again."
    )


def stop_text(stop: StopView | None) -> str:
    """`3,200.00 · 5.9% · app`: the stop-loss, its distance from the mark and where it
    lives (the take-profit and the details are in the cell's tooltip); a refused or firing
    stop says so."""
    if stop is None:
        return fmt.MISSING
    if stop.status == "refused":
        return "refused"
    if stop.status == "triggered":
        return "firing"
    if stop.stop_loss is None:
        return f"TP {fmt.price(stop.take_profit)} · {STOP_PLACES.get(stop.placement, '')}"
    parts = [fmt.price(stop.stop_loss)]
    if stop.distance_pct is not None:
        parts.append(fmt.plain_percent(stop.distance_pct))
    parts.append(STOP_PLACES.get(stop.placement, ""))
    return " · ".join(parts)


def stop_tip(stop: StopView) -> str:
    """Everything about a stop, in words, for its cell's tooltip."""
    lines = []
    if stop.stop_loss is not None:
        lines.append(f"stop-loss {fmt.price(stop.stop_loss)}")
    if stop.take_profit is not None:
        lines.append(f"take-profit {fmt.price(stop.take_profit)}")
    lines.append(STOP_WHERE.get(stop.placement, stop.placement))
    if stop.message:
        lines.append(stop.message)
    return "; ".join(lines)


def position_tips(positions: list[PositionView]) -> list[dict]:
    """Per row, the tooltips that differ from their column's (POSITION_TIPS): the stop in
    full, and an entry adopted from the exchange or the mark. Most rows have neither, so a
    table of hundreds of rows sends its tooltips in a few hundred bytes."""
    tips = []
    for p in positions:
        tip = {"stop": stop_tip(p.stop)} if p.stop is not None else {}
        if p.entry_source in ENTRY_TIPS:
            tip["avg_entry"] = ENTRY_TIPS[p.entry_source]
        tips.append(tip)
    return tips


def derivative_rows(positions: list[DerivativePositionView]) -> list[dict]:
    """Positions the monitor keeps on derivatives accounts: side, leverage and liquidation
    price belong here, and the current price is the exchange's mark."""
    return [
        {
            "account": p.account,
            "exchange": p.exchange,
            "symbol": p.symbol,
            "side": p.side.upper(),
            "qty": fmt.quantity(abs(p.qty)),
            "entry": fmt.price(p.entry) + ENTRY_SOURCES.get(p.entry_source, ""),
            "mark": fmt.price(p.mark),
            "unrealized": fmt.MISSING
            if p.unrealized is None
            else fmt.signed_money(p.unrealized, fmt.quote_of(p.symbol)),
            "leverage": f"{p.leverage.normalize():f}x" if p.leverage else fmt.MISSING,
            "liquidation": fmt.price(p.liquidation_price),
            "stop": stop_text(p.stop),
        }
        for p in positions
    ]


def balance_rows(balances: list[BalanceView], quote: str) -> list:
    """The account's assets: free, locked and value in the quote asset."""
    rows = [_balance_row(b, quote) for b in balances]
    return table_sections(BALANCE_COLUMNS, rows, "No balances read yet.")


@functools.lru_cache(maxsize=4096)
def _balance_row(b: BalanceView, quote: str) -> html.Tr:
    """One asset's row, built once while it reads the same: a tick that moves a few prices
    of 500 held assets built 2,000 cells again, in every process (the components are
    never changed once built, so versions share them)."""
    return html.Tr(
        [
            html.Td(b.asset),
            html.Td(fmt.stepped(b.free, b.step)),
            html.Td(fmt.stepped(b.locked, b.step) if b.locked else fmt.MISSING),
            html.Td(fmt.money(b.value, quote) if b.value is not None else "no price"),
        ]
    )


def balances_time_text(view: DashboardView, now) -> str:
    """How old the balances shown are: SIM's are the paper account's own, always current."""
    if view.balances_time is None:
        return "not read yet"
    if view.mode.value == "sim":
        return "paper account"
    age = max(0, int((now - view.balances_time).total_seconds()))
    return f"read {age} s ago" if age < 120 else f"read at {fmt.timestamp(view.balances_time)}"


def trade_activity(trades: list[TradeActivity], last_event: BookEvent | None, now) -> list:
    """The trade panel's status line: a trade still running with its step and how long it
    has run, else the symbol's newest event (a trade, a stop, a flatten, a drift...), so a
    reloaded page shows both and never a trade that has since been undone."""
    running = [t for t in trades if t.running]
    if running:
        t = running[0]
        seconds = max(0, int((now - t.started_at).total_seconds()))
        return [
            dbc.Spinner(size="sm", spinner_class_name="me-2"),
            html.Span(f"{t.symbol} → {t.target.value} running ({seconds} s): {t.step}"),
        ]
    return event_components.last_event_line(last_event)


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


def fill_rows(fills: list[FillView]) -> list[dict]:
    """The Fills table's data (a DataTable: plain texts, cheap to build and to send)."""
    rows = [
        {
            "time": fmt.timestamp(f.time),
            "symbol": f.symbol,
            "side": f.side.upper(),
            "qty": fmt.quantity(f.qty),
            "price": fmt.price(f.price),
            "fee": f"{fmt.quantity(f.fee)} {f.fee_asset}",
            "client_order_id": f.client_order_id,
        }
        for f in fills
    ]
    return rows or [_empty("No fills yet.")]


def order_rows(orders: list[OrderView]) -> list[dict]:
    rows = [
        {
            "time": fmt.timestamp(o.time),
            "symbol": o.symbol,
            "side": o.side.upper(),
            "price": fmt.price(o.price),
            "amount": fmt.quantity(o.amount),
            "filled": fmt.quantity(o.filled),
            "average": fmt.price(o.average),
            "status": o.status.upper(),
            "origin": o.origin,
            "reason": o.reason or "",
            "client_order_id": o.client_order_id,
        }
        for o in orders
    ]
    return rows or [_empty("No orders yet.")]


def sync_rows(runs: list[SyncRunView]) -> list[dict]:
    rows = [
        {
            "time": fmt.timestamp(r.time),
            "kind": r.kind,
            "symbol": r.symbol or "all",
            "target": r.target or fmt.MISSING,
            "before": r.before or fmt.MISSING,
            "after": r.after or fmt.MISSING,
            "result": ("OK: " if r.ok else "FAILED: ") + r.message,
            "took": f"{r.duration_ms} ms",
            "calls": str(r.api_calls),
        }
        for r in runs
    ]
    return rows or [_empty("No sync runs yet.")]


def _empty(text: str) -> dict:
    """The one row an empty history table shows, in its first column."""
    return {"time": text}


def trade_toast(result: TradeResult) -> ToastProps:
    """The outcome of one BUY / SELL / CLOSE: green when the target was reached, red if not."""
    outcome = "Done" if result.ok else "Failed"
    header = f"{outcome}: {result.symbol} → {result.target.value}"
    return ToastProps(True, header, "success" if result.ok else "danger", result.message)


TRADE_LABELS = ("BUY", "SELL", "CLOSE")
TRADE_TITLES = ("Go LONG", "Go SHORT (in {quote})", "Go to NO_POSITION")
RUNNING = "A trade is running: wait for its result."


class ButtonProps(NamedTuple):
    children: object
    title: str
    disabled: bool


def trade_buttons(
    halted: str | None, busy: bool, quote: str
) -> tuple[list[ButtonProps], str | None]:
    """BUY, SELL and CLOSE as the book allows them now, and the reason under them when
    they are disabled. A halted book takes no click at all (the gate lets only stops and
    flatten sell on it), so each says so on itself; a running trade disables them until
    it ends."""
    if halted:
        reason = f"{halted[0].upper()}{halted[1:]}".replace("resume to trade", "Resume to trade")
        buttons = [
            ButtonProps([label, html.Small("halted", className="d-block")], reason, True)
            for label in TRADE_LABELS
        ]
        return buttons, reason
    buttons = [
        ButtonProps(label, RUNNING if busy else title.format(quote=quote), busy)
        for label, title in zip(TRADE_LABELS, TRADE_TITLES, strict=True)
    ]
    return buttons, None


def mode_alert(change: ModeChange) -> AlertProps:
    return AlertProps(True, "success" if change.ok else "danger", change.message)
