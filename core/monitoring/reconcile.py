"""Pure comparison of recorded positions with the exchange's, and the plan that repairs it.

Everything is computed from one snapshot, so one round of the plan converges: applying it
to the recorded positions leaves no discrepancy, and applying it twice equals once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
from core.protection.stops import distance_pct, stop_at_distance

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
        if held is None:
            kind = DiscrepancyKind.ORPHAN_DB
        elif mine is None:
            kind = DiscrepancyKind.ORPHAN_EXCHANGE
        elif mine.qty * held.qty < 0:
            kind = DiscrepancyKind.SIDE_MISMATCH
        elif abs(mine.qty - held.qty) > tolerances.get(held.symbol, Decimal(0)):
            kind = DiscrepancyKind.QTY_MISMATCH
        elif _is_stale(mine, held, now, stale_after):
            kind = DiscrepancyKind.STALE_PRICE
        else:
            continue
        found.append(_discrepancy(kind, key, mine, held))
    return found


def _discrepancy(
    kind: DiscrepancyKind, key: Key, mine: RecordedPosition | None, held: ExchangePosition | None
) -> Discrepancy:
    account, symbol = key
    return Discrepancy(
        kind,
        account,
        symbol,
        recorded_qty=mine.qty if mine else None,
        exchange_qty=held.qty if held else None,
        recorded_price=mine.price if mine else None,
        exchange_price=held.mark_price if held else None,
        entry_price=held.entry_price if held else None,
        leverage=held.leverage if held else None,
        liquidation_price=held.liquidation_price if held else None,
    )


def _is_stale(
    mine: RecordedPosition, held: ExchangePosition, now: datetime, stale_after: timedelta
) -> bool:
    if held.mark_price is None:
        return False
    if mine.price is None or mine.price_time is None:
        return True
    return now - mine.price_time > stale_after


# What `adopt` does about each kind of discrepancy.
REPAIRS = {
    DiscrepancyKind.ORPHAN_DB: ActionKind.CLOSE,
    DiscrepancyKind.ORPHAN_EXCHANGE: ActionKind.CREATE,
    DiscrepancyKind.QTY_MISMATCH: ActionKind.RESIZE,
    DiscrepancyKind.SIDE_MISMATCH: ActionKind.RESIZE,
    DiscrepancyKind.STALE_PRICE: ActionKind.REPRICE,
}


def plan(discrepancies: Iterable[Discrepancy], policy: Policy) -> list[SyncAction]:
    """The database changes that `adopt` makes (the exchange is right); `report` changes
    nothing. A create or resize takes the exchange's quantity (a side mismatch is a resize
    through zero) and mark price; a close takes none. Protection findings are repaired only
    by `plan_protection`, when asked."""
    if policy is Policy.REPORT:
        return []
    actions = []
    for d in discrepancies:
        if d.kind not in REPAIRS:
            continue
        kind = REPAIRS[d.kind]
        after = {
            ActionKind.CLOSE: Decimal(0),
            ActionKind.REPRICE: d.recorded_qty,
        }.get(kind, d.exchange_qty)
        actions.append(
            SyncAction(
                kind,
                d.account,
                d.symbol,
                before_qty=d.recorded_qty,
                after_qty=after,
                price=None if kind is ActionKind.CLOSE else d.exchange_price,
                reason=d.kind,
                entry_price=d.entry_price,
                leverage=d.leverage,
                liquidation_price=d.liquidation_price,
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


@dataclass(frozen=True)
class StopOnRecord:
    """A stop-loss protecting (or meant to protect) one symbol of one account: kept by the
    app on spot, by the exchange on derivatives."""

    account: str
    symbol: str
    stop_loss: Decimal


def diagnose_protection(
    held: Iterable[ExchangePosition], stops: Iterable[StopOnRecord], require_pct: Decimal
) -> list[Discrepancy]:
    """`unprotected`: an open position whose stop-loss is missing or farther than
    `require_pct` from the mark; `orphan_stop`: a stop with no position."""
    positions = {(p.account, p.symbol): p for p in held if p.qty}
    guards = {(s.account, s.symbol): s for s in stops}
    found = []
    for key in sorted(positions.keys() | guards.keys()):
        position, guard = positions.get(key), guards.get(key)
        if position is None:
            found.append(
                Discrepancy(DiscrepancyKind.ORPHAN_STOP, *key, None, None, guard.stop_loss)
            )
            continue
        side = "long" if position.qty > 0 else "short"
        close_enough = (
            guard is not None
            and position.mark_price
            and 0 < distance_pct(side, guard.stop_loss, position.mark_price) <= require_pct
        )
        if not close_enough:
            found.append(
                Discrepancy(
                    DiscrepancyKind.UNPROTECTED,
                    *key,
                    recorded_qty=None,
                    exchange_qty=position.qty,
                    recorded_price=guard.stop_loss if guard else None,
                    exchange_price=position.mark_price,
                )
            )
    return found


def plan_protection(
    discrepancies: Iterable[Discrepancy], require_pct: Decimal, price_steps: dict[str, Decimal]
) -> list[SyncAction]:
    """With --protect: a stop-loss `require_pct` from the mark for every unprotected
    position, and the removal of every orphan stop."""
    actions = []
    for d in discrepancies:
        if d.kind is DiscrepancyKind.ORPHAN_STOP:
            actions.append(
                SyncAction(
                    ActionKind.UNPROTECT, d.account, d.symbol, None, None, d.recorded_price, d.kind
                )
            )
        elif d.kind is DiscrepancyKind.UNPROTECTED and d.exchange_price:
            side = "long" if d.exchange_qty > 0 else "short"
            step = price_steps.get(d.symbol, Decimal(0))
            price = stop_at_distance(side, d.exchange_price, require_pct, step)
            actions.append(
                SyncAction(
                    ActionKind.PROTECT,
                    d.account,
                    d.symbol,
                    d.exchange_qty,
                    d.exchange_qty,
                    price,
                    d.kind,
                )
            )
    return actions
