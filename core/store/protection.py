"""Stops and halts: what protects a position between clicks, and which books the kill
switch stopped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.store.books import BookKey, chunked, in_book
from core.store.models import Halt, Stop, utcnow

ACTIVE, TRIGGERED, DONE, CANCELLED, REFUSED = "active", "triggered", "done", "cancelled", "refused"
LIVE_STATES = (ACTIVE, TRIGGERED, REFUSED)


@dataclass(frozen=True)
class StoredStop:
    id: int
    mode: str
    account: str
    symbol: str
    side: str
    stop_loss: Decimal | None
    take_profit: Decimal | None
    placement: str
    status: str
    exchange_ids: tuple[str, ...]
    message: str | None
    created_at: datetime
    triggered_at: datetime | None


def set_stop(
    session: Session,
    book: BookKey,
    symbol: str,
    *,
    side: str,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
    placement: str,
    status: str = ACTIVE,
    exchange_ids: tuple[str, ...] = (),
    message: str | None = None,
) -> int:
    """The symbol's one live stop: any earlier one of the book is cancelled."""
    end_stops(session, book, symbol, CANCELLED, "replaced by a new stop")
    stop = Stop(
        mode=book.mode,
        account=book.account,
        symbol=symbol,
        side=side,
        stop_loss=stop_loss,
        take_profit=take_profit,
        placement=placement,
        status=status,
        exchange_ids=json.dumps(list(exchange_ids)),
        message=message,
    )
    session.add(stop)
    session.flush()
    return stop.id


def end_stops(
    session: Session,
    book: BookKey,
    symbol: str,
    status: str,
    message: str,
    only: tuple[str, ...] = LIVE_STATES,
) -> int:
    """Close the symbol's live stops (or those of `only`'s states) as cancelled or done;
    returns how many."""
    return end_stops_of(session, book, [symbol], status, message, only)


def end_stops_of(
    session: Session,
    book: BookKey,
    symbols: Sequence[str],
    status: str,
    message: str,
    only: tuple[str, ...] = LIVE_STATES,
) -> int:
    """`end_stops` for many symbols at once: a statement per slice of them."""
    ended = 0
    for chunk in chunked(symbols):
        result = session.execute(
            update(Stop)
            .where(in_book(Stop, book), Stop.symbol.in_(chunk), Stop.status.in_(only))
            .values(status=status, message=message, updated_at=utcnow())
        )
        ended += result.rowcount
    return ended


def end_stops_everywhere(session: Session, book: BookKey, message: str) -> int:
    """Cancel every live stop of the book (the kill switch)."""
    result = session.execute(
        update(Stop)
        .where(in_book(Stop, book), Stop.status.in_(LIVE_STATES))
        .values(status=CANCELLED, message=message, updated_at=utcnow())
    )
    return result.rowcount


def claim(session: Session, stop_id: int) -> bool:
    """Move an active stop to triggered; False when another watcher (or a clear) got there
    first. The one compare-and-set that makes a stop fire once."""
    result = session.execute(
        update(Stop)
        .where(Stop.id == stop_id, Stop.status == ACTIVE)
        .values(status=TRIGGERED, triggered_at=utcnow(), updated_at=utcnow())
    )
    return result.rowcount == 1


def reclaim_stale(session: Session, stop_id: int, older_than) -> bool:
    """Take over a stop left triggered by a watcher that stopped before closing it (nothing
    touched it since `older_than`); False when its watcher is still at it."""
    result = session.execute(
        update(Stop)
        .where(Stop.id == stop_id, Stop.status == TRIGGERED, Stop.updated_at < older_than)
        .values(updated_at=utcnow())
    )
    return result.rowcount == 1


def finish(session: Session, stop_id: int, status: str, message: str) -> bool:
    """Record how a triggered stop ended (or, with TRIGGERED, why it is still open); False
    when it had already ended (so it is reported once)."""
    result = session.execute(
        update(Stop)
        .where(Stop.id == stop_id, Stop.status == TRIGGERED)
        .values(status=status, message=message, updated_at=utcnow())
    )
    return result.rowcount == 1


def live_stops(
    session: Session, book: BookKey | None = None, placement: str | None = None
) -> list[StoredStop]:
    """Stops still protecting (active), firing (triggered) or refused by the exchange."""
    query = select(Stop).where(Stop.status.in_(LIVE_STATES))
    if book is not None:
        query = query.where(in_book(Stop, book))
    if placement is not None:
        query = query.where(Stop.placement == placement)
    return [_stored(row) for row in session.scalars(query.order_by(Stop.id))]


def latest_stops(session: Session, book: BookKey, limit: int = 20) -> list[StoredStop]:
    query = select(Stop).where(in_book(Stop, book)).order_by(Stop.id.desc()).limit(limit)
    return [_stored(row) for row in session.scalars(query)]


def _stored(row: Stop) -> StoredStop:
    return StoredStop(
        row.id,
        row.mode,
        row.account,
        row.symbol,
        row.side,
        row.stop_loss,
        row.take_profit,
        row.placement,
        row.status,
        tuple(json.loads(row.exchange_ids or "[]")),
        row.message,
        row.created_at,
        row.triggered_at,
    )


# --- halts --------------------------------------------------------------------------


def halt(session: Session, book: BookKey, reason: str) -> None:
    row = session.get(Halt, (book.mode, book.account))
    if row is None:
        session.add(Halt(mode=book.mode, account=book.account, reason=reason))
    else:
        row.reason, row.halted_at = reason, utcnow()


def resume(session: Session, book: BookKey) -> bool:
    row = session.get(Halt, (book.mode, book.account))
    if row is None:
        return False
    session.delete(row)
    return True


def halted(session: Session, book: BookKey) -> tuple[str, datetime] | None:
    """The halt's reason and time, or None when the book may trade."""
    row = session.get(Halt, (book.mode, book.account))
    return None if row is None else (row.reason, row.halted_at)
