"""Pure comparison of recorded positions with the exchange's, and the plan that repairs it.

Everything is computed from one snapshot, so one round of the plan converges: applying it
to the recorded positions leaves no discrepancy, and applying it twice equals once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from core.domain import (
    ActionKind,
    Discrepancy,
    DiscrepancyKind,
    ExchangePosition,
    Policy,
    RecordedPosition,
    SyncAction,
)

Key = tuple[str, str]


def diagnose(
    recorded: Iterable[RecordedPosition],
    exchange: Iterable[ExchangePosition],
    tolerances: dict[str, Decimal],
    now: datetime,
    stale_after: timedelta,
) -> list[Discrepancy]:
    """Every way the database differs from the exchange, ordered by account and symbol.

    `tolerances` maps a symbol to the largest quantity difference that is only rounding
    (derived from the market's amount step); a symbol without one must match exactly."""
    ours = {(p.account, p.symbol): p for p in recorded}
    theirs = {(p.account, p.symbol): p for p in exchange}
    found: list[Discrepancy] = []
    for key in sorted(ours.keys() | theirs.keys()):
        mine, held = ours.get(key), theirs.get(key)
        account, symbol = key
        if held is None:
            found.append(
                Discrepancy(DiscrepancyKind.ORPHAN_DB, account, symbol, mine.qty, None, mine.price)
            )
            continue
        if mine is None:
            found.append(
                Discrepancy(
                    DiscrepancyKind.ORPHAN_EXCHANGE,
                    account,
                    symbol,
                    None,
                    held.qty,
                    None,
                    held.mark_price,
                )
            )
            continue
        if abs(mine.qty - held.qty) > tolerances.get(symbol, Decimal(0)):
            kind = DiscrepancyKind.QTY_MISMATCH
        elif _is_stale(mine, held, now, stale_after):
            kind = DiscrepancyKind.STALE_PRICE
        else:
            continue
        found.append(
            Discrepancy(kind, account, symbol, mine.qty, held.qty, mine.price, held.mark_price)
        )
    return found


def _is_stale(
    mine: RecordedPosition, held: ExchangePosition, now: datetime, stale_after: timedelta
) -> bool:
    if held.mark_price is None:
        return False
    if mine.price is None or mine.price_time is None:
        return True
    return now - mine.price_time > stale_after


def plan(discrepancies: Iterable[Discrepancy], policy: Policy) -> list[SyncAction]:
    """The database changes that `adopt` makes (the exchange is right); `report` changes
    nothing. A resize or create also takes the exchange's mark price."""
    if policy is Policy.REPORT:
        return []
    actions = []
    for d in discrepancies:
        if d.kind is DiscrepancyKind.ORPHAN_DB:
            actions.append(
                SyncAction(
                    ActionKind.CLOSE, d.account, d.symbol, d.recorded_qty, Decimal(0), None, d.kind
                )
            )
        elif d.kind is DiscrepancyKind.ORPHAN_EXCHANGE:
            actions.append(
                SyncAction(
                    ActionKind.CREATE,
                    d.account,
                    d.symbol,
                    None,
                    d.exchange_qty,
                    d.exchange_price,
                    d.kind,
                )
            )
        elif d.kind is DiscrepancyKind.QTY_MISMATCH:
            actions.append(
                SyncAction(
                    ActionKind.RESIZE,
                    d.account,
                    d.symbol,
                    d.recorded_qty,
                    d.exchange_qty,
                    d.exchange_price,
                    d.kind,
                )
            )
        else:
            actions.append(
                SyncAction(
                    ActionKind.REPRICE,
                    d.account,
                    d.symbol,
                    d.recorded_qty,
                    d.recorded_qty,
                    d.exchange_price,
                    d.kind,
                )
            )
    return actions


def apply(
    recorded: Iterable[RecordedPosition], actions: Iterable[SyncAction], now: datetime
) -> list[RecordedPosition]:
    """The recorded open positions after `actions` (what `--execute` writes, computed purely)."""
    book: dict[Key, RecordedPosition] = {(p.account, p.symbol): p for p in recorded}
    for action in actions:
        key = (action.account, action.symbol)
        if action.kind is ActionKind.CLOSE:
            book.pop(key, None)
            continue
        current = book.get(key)
        qty = (
            action.after_qty
            if action.after_qty is not None
            else (current.qty if current else Decimal(0))
        )
        if action.price is not None:
            price, price_time = action.price, now
        else:  # nothing fresher was read: the recorded price keeps its own time
            price = current.price if current else None
            price_time = current.price_time if current else None
        book[key] = RecordedPosition(action.account, action.symbol, qty, price, price_time)
    return [book[key] for key in sorted(book)]
