"""What the command line prints: JSON objects for scripts, aligned tables for people."""

from __future__ import annotations

import json
from decimal import Decimal
from enum import Enum

from core.service import TradeResult, count
from core.views import AccountCheckView


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
        "working": [o.client_order_id for o in result.working],
        "replaced": [o.client_order_id for o in result.replaced],
        "api_calls": result.api_calls,
        "duration_ms": result.duration_ms,
        "message": result.message,
    }


def _order(order) -> dict:
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


def diagnose_json(checks: list[AccountCheckView]) -> dict:
    discrepancies = [
        {
            "kind": d.kind,
            "account": d.account,
            "symbol": d.symbol,
            "recorded_qty": d.recorded_qty,
            "exchange_qty": d.exchange_qty,
        }
        for check in checks
        for d in check.discrepancies
    ]
    return {
        "discrepancies": discrepancies,
        "counts": _counts(d["kind"].value for d in discrepancies),
        "errors": _errors(checks),
        "notes": _notes(checks),
    }


def sync_json(checks: list[AccountCheckView], dry_run: bool) -> dict:
    actions = [
        {
            "kind": a.kind,
            "account": a.account,
            "symbol": a.symbol,
            "before_qty": a.before_qty,
            "after_qty": a.after_qty,
            "price": a.price,
            "reason": a.reason,
        }
        for check in checks
        for a in check.actions
    ]
    return {
        "dry_run": dry_run,
        "actions": actions,
        "counts": _counts(a["kind"].value for a in actions),
        "errors": _errors(checks),
        "notes": _notes(checks),
    }


def diagnose_text(checks: list[AccountCheckView]) -> str:
    rows = [
        [
            d.kind,
            d.account,
            d.symbol,
            d.recorded_qty,
            d.exchange_qty,
            d.recorded_price,
            d.exchange_price,
        ]
        for check in checks
        for d in check.discrepancies
    ]
    headers = [
        "kind",
        "account",
        "symbol",
        "recorded qty",
        "exchange qty",
        "recorded price",
        "mark price",
    ]
    lines = [table(headers, rows, right={3, 4, 5, 6})] if rows else []
    lines += _failures(checks) + [f"account {n['account']}: {n['note']}" for n in _notes(checks)]
    counts = _counts(r[0].value for r in rows)
    found = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    read = [c for c in checks if c.ok]
    summary = (
        f"{count(len(rows), 'discrepancy', 'discrepancies')} over "
        f"{count(len(read), 'account')} read"
    )
    if len(read) < len(checks):
        failed = count(len(checks) - len(read), "account")
        lines.append(f"{summary}{': ' + found if found else ''}; {failed} failed: not known")
    else:
        lines.append(f"{summary}: {found or 'in sync'}")
    return "\n".join(lines)


def sync_text(checks: list[AccountCheckView], dry_run: bool) -> str:
    rows = [
        [a.kind, a.account, a.symbol, a.before_qty, a.after_qty, a.price, a.reason]
        for check in checks
        for a in check.actions
    ]
    headers = ["action", "account", "symbol", "qty before", "qty after", "price", "because"]
    lines = [table(headers, rows, right={3, 4, 5})] if rows else []
    lines += _failures(checks) + [f"account {n['account']}: {n['note']}" for n in _notes(checks)]
    counts = ", ".join(f"{n} {kind}" for kind, n in _counts(r[0].value for r in rows).items())
    verb = "would apply" if dry_run else "applied"
    lines.append(f"{verb} {count(len(rows), 'action')} ({counts or 'nothing to do'})")
    if dry_run and rows:
        lines.append("dry run: nothing was written; run again with --execute to apply")
    return "\n".join(lines)


def _counts(kinds) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))


def _failures(checks: list[AccountCheckView]) -> list[str]:
    """One line per account that could not be read: it is failed, never in sync."""
    return [
        f"failed: account {c.account}: {c.error}; its records were left as they are"
        for c in checks
        if c.error
    ]


def _notes(checks: list[AccountCheckView]) -> list[dict]:
    """What a check could not look at (a venue that reports no deposits), or found and did
    not record (a dry run)."""
    return [{"account": c.account, "note": note} for c in checks for note in c.notes]


def _errors(checks: list[AccountCheckView]) -> list[dict]:
    return [{"account": c.account, "error": c.error} for c in checks if c.error]


def stop_json(outcome) -> dict:
    return {
        "ok": outcome.ok,
        "account": outcome.account,
        "symbol": outcome.symbol,
        "stop_loss": outcome.stop_loss,
        "take_profit": outcome.take_profit,
        "placement": outcome.placement,
        "message": outcome.message,
    }


def flatten_json(outcomes) -> dict:
    return {
        "ok": all(o.ok for o in outcomes),
        "accounts": [
            {
                "account": o.account,
                "ok": o.ok,
                "cancelled": o.cancelled,
                "closed": [trade_json(r) for r in o.closed],
                "message": o.message,
            }
            for o in outcomes
        ],
    }
