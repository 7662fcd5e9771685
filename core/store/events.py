"""The events table: what happened to each book, newest first, and the incidents the trader
has yet to acknowledge. Functions take the caller's session and never commit on their own."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, union_all, update
from sqlalchemy.orm import Session

from core.domain import BookEvent
from core.store.books import BookKey, in_book
from core.store.db import in_values
from core.store.models import Event, utcnow


def record_event(
    session: Session,
    book: BookKey,
    *,
    kind: str,
    who: str,
    text: str,
    symbol: str | None = None,
    requester: str | None = None,
    needs_ack: bool = False,
    time: datetime | None = None,
) -> int:
    """A new event of the book; returns its id (ids grow with time: newest is highest)."""
    row = Event(
        time=time or utcnow(),
        mode=book.mode,
        account=book.account,
        symbol=symbol,
        kind=kind,
        who=who,
        text=text,
        requester=requester,
        needs_ack=needs_ack,
    )
    session.add(row)
    session.flush()
    return row.id


def record_events(session: Session, book: BookKey, rows: Sequence[dict]) -> list[int]:
    """New events of the book, in the order given, in one INSERT of many rows (SQLAlchemy
    sends it as multi-row statements of its page size; a sync that repairs 10,000 holdings
    tells 10,000 of them); their ids in that same order, growing as `record_event`'s do, so
    the feed reads them in that order. Each row holds
    `record_event`'s keywords: kind, who and text, and when it has them symbol, requester,
    needs_ack and time (default: now, the same for every row)."""
    if not rows:
        return []
    now = utcnow()
    values = [
        {
            "time": row.get("time") or now,
            "mode": book.mode,
            "account": book.account,
            "symbol": row.get("symbol"),
            "kind": row["kind"],
            "who": row["who"],
            "text": row["text"],
            "requester": row.get("requester"),
            "needs_ack": row.get("needs_ack", False),
        }
        for row in rows
    ]
    table = Event.__table__
    # Core, not the ORM's unit of work (it would track every row for nothing); the ids
    # come back in the rows' order (SQLite >= 3.35 and PostgreSQL return them)
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, values))


def recent_events(
    session: Session,
    *,
    book: BookKey | None = None,
    mode: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[BookEvent]:
    """The newest events of one book, of every account of a mode, or of all; newest first."""
    query = select(Event)
    if book is not None:
        query = query.where(in_book(Event, book))
    if mode is not None:
        query = query.where(Event.mode == mode)
    if since is not None:
        query = query.where(Event.time >= since)
    return [_stored(row) for row in session.scalars(query.order_by(Event.id.desc()).limit(limit))]


def latest_by_symbol(
    session: Session, book: BookKey, symbols: list[str]
) -> dict[str | None, BookEvent]:
    """The newest event in the book of each of these symbols that has one, and under None
    the newest of the whole account (a flatten, a resume, a failed check): one indexed look
    per symbol, however long the history, in statements of at most `SYMBOLS_PER_STATEMENT`
    looks (SQLite refuses a compound SELECT of more than 500 parts)."""
    ids: list[int] = []
    for start in range(0, max(len(symbols), 1), SYMBOLS_PER_STATEMENT):
        chunk = symbols[start : start + SYMBOLS_PER_STATEMENT]
        values = {"mode": book.mode, "account": book.account}
        values.update({f"s{n}": symbol for n, symbol in enumerate(chunk)})
        statement = _newest_ids(len(chunk), with_account=start == 0)
        ids += [i for i in session.scalars(statement, values) if i is not None]
    if not ids:
        return {}
    rows = session.scalars(select(Event).where(Event.id.in_(ids)))
    return {row.symbol: _stored(row) for row in rows}


SYMBOLS_PER_STATEMENT = 250


@functools.cache
def _newest_ids(count: int, with_account: bool):
    """The statement `latest_by_symbol` runs for `count` symbols (and, `with_account`, the
    account's own), built once: building it per read cost more than running it."""

    def newest(symbol):
        where = in_book(Event, BookKey(bindparam("mode"), bindparam("account")))
        return select(func.max(Event.id)).where(where, symbol)

    parts = [newest(Event.symbol == bindparam(f"s{n}")) for n in range(count)]
    if with_account:
        parts.append(newest(Event.symbol.is_(None)))
    return parts[0] if len(parts) == 1 else union_all(*parts)


def unacknowledged(session: Session, book: BookKey | None = None) -> list[BookEvent]:
    """Incidents nobody has acknowledged yet, oldest first (plain rows, not the ORM's
    objects: a sync can leave thousands waiting, and the page reads them on every refresh)."""
    query = _plain().where(Event.needs_ack.is_(True), Event.acked_at.is_(None))
    if book is not None:
        query = query.where(in_book(Event, book))
    return [_stored(row) for row in session.execute(query.order_by(Event.id))]


def find_event(session: Session, event_id: int) -> BookEvent | None:
    row = session.get(Event, event_id)
    return None if row is None else _stored(row)


def find_events(session: Session, event_ids: Sequence[int]) -> list[BookEvent]:
    """These events, in id order (one that does not exist is not among them): one statement
    for thousands (the trader acknowledging every change a sync found), read as plain rows,
    not the ORM's objects."""
    found: list[BookEvent] = []
    for among in in_values(session, Event.id, sorted(set(event_ids))):
        found += (_stored(row) for row in session.execute(_plain().where(among)))
    return sorted(found, key=lambda event: event.id)


def _plain():
    """A SELECT of every column of events, read as plain rows (what `_stored` takes)."""
    return select(*Event.__table__.columns)


def acknowledge(
    session: Session, event_ids: Sequence[int], at: datetime | None = None
) -> list[int]:
    """Mark these incidents acknowledged, at one time, in the caller's transaction; returns
    the ids this call acknowledged (one acknowledged before, by anyone, or not an incident,
    is left as it is)."""
    done: list[int] = []
    when = at or utcnow()
    for among in in_values(session, Event.id, sorted(set(event_ids))):
        statement = (
            update(Event)
            .where(among, Event.needs_ack.is_(True), Event.acked_at.is_(None))
            .values(acked_at=when)
            .returning(Event.id)
            .execution_options(synchronize_session=False)
        )
        done += session.scalars(statement)
    return sorted(done)


def _stored(row) -> BookEvent:
    """An event of the feed, from its ORM object or a plain row of its columns."""
    return BookEvent(
        id=row.id,
        time=row.time,
        mode=row.mode,
        account=row.account,
        symbol=row.symbol,
        kind=row.kind,
        who=row.who,
        text=row.text,
        needs_ack=row.needs_ack,
        acked_at=row.acked_at,
        requester=row.requester,
    )
