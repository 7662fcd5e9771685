"""What the command line prints: JSON objects for scripts, aligned tables for people."""

from __future__ import annotations

import json
from decimal import Decimal
from enum import Enum

from core.domain import OrderReport, TradeResult


def to_json(value) -> str:
    return json.dumps(value, default=_plain, sort_keys=False)


def _plain(value):
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        )
    if isinstance(value, Enum):
        return value.value
    return str(value)


def trade_json(result: TradeResult) -> dict:
    return {
        "ok": result.ok,
        "symbol": result.symbol,
        "target": result.target,
        "before": result.before,
        "after": result.after,
        "orders": [_order(o) for o in result.orders],
        "api_calls": result.api_calls,
        "duration_ms": result.duration_ms,
        "message": result.message,
    }


def _order(order: OrderReport) -> dict:
    return {
        "client_order_id": order.client_order_id,
        "exchange_order_id": order.exchange_order_id,
        "side": order.side,
        "price": order.price,
        "amount": order.amount,
        "filled": order.filled,
        "average": order.average,
        "status": order.status,
    }


def table(headers: list[str], rows: list[list], right: set[int] | None = None) -> str:
    """A plain aligned table; columns in `right` (numbers) are right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    right = right or set()

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if i in right else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal | Enum):
        return _plain(value)
    return str(value)
