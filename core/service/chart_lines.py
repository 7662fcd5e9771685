"""The prices a trader reads on the chart as horizontal lines: the position's entry, its
stop and take-profit, and every working order of ours on the symbol, from the database."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.domain import OrderStatus
from core.errors import InputError
from core.store import protection
from core.store import repository as repo
from core.store.books import BookKey
from core.views import ChartLine

TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")
ORDERS_READ = 200


def parse_timeframe(text: str | None) -> str:
    if text not in TIMEFRAMES:
        raise InputError(f"The chart shows {', '.join(TIMEFRAMES)}, not {text!r}.")
    return text


def chart_lines(session: Session, book: BookKey, symbol: str) -> list[ChartLine]:
    lines = []
    row = next((r for r in repo.positions(session, book) if r.symbol == symbol), None)
    if row is not None and row.is_open and row.qty > 0:
        entry = row.cost_basis / row.qty
        lines.append(ChartLine("entry", entry, f"entry {row.qty} @ {entry:.8g}"))
    for stop in protection.live_stops(session, book):
        if stop.symbol != symbol:
            continue
        if stop.stop_loss is not None:
            lines.append(ChartLine("stop", stop.stop_loss, f"stop {stop.stop_loss}"))
        if stop.take_profit is not None:
            lines.append(ChartLine("take_profit", stop.take_profit, f"TP {stop.take_profit}"))
    for order in repo.recent_orders(session, book, limit=ORDERS_READ):
        if order.symbol == symbol and order.status == OrderStatus.OPEN:
            left = order.amount - order.filled
            words = f"{order.side.upper()} {left} @ {order.price}"
            ref = order.client_order_id if order.order_type == repo.RESTING else None
            lines.append(ChartLine("order", order.price, words, ref))
    return lines
