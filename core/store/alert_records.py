"""Reads and writes of the alerts table: the one record of which incidents are open.

The latest row of an incident says whether it is raised or cleared. Functions take the
caller's session and never commit on their own.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime

from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.orm import Session

from core.store.db import serialize_all
from core.store.models import Alert

# ids or incidents per IN (...) list: far under SQLite's 32,766 host parameters
PER_STATEMENT = 1000


def _chunks(values: Sequence, size: int = PER_STATEMENT) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# incidents share this many locks: PostgreSQL's table of locks is bounded (by default 6,400
# for every session together: max_locks_per_transaction x connections), and a transaction
# that raised 7,500 incidents under a lock each would come near to filling it, 30,000 fail
LOCK_STRIPES = 256


def lock_incidents(session: Session, incidents: Collection[str]) -> None:
    """Serialize the read-then-write of these incidents across processes until the commit,
    so two processes raising the same incident store it once: one statement, at most
    LOCK_STRIPES locks however many incidents (two incidents of a stripe wait on each
    other, for a transaction's milliseconds)."""
    stripes = {zlib.crc32(incident.encode()) % LOCK_STRIPES for incident in incidents}
    serialize_all(session, [f"incident-stripe:{stripe}" for stripe in stripes])


def latest_alerts(session: Session, incidents: Collection[str]) -> dict[str, Alert]:
    """Each incident's newest row (insertion order), by incident; one never raised is not
    in it."""
    found: dict[str, Alert] = {}
    for chunk in _chunks(sorted(set(incidents))):
        newest = (
            select(func.max(Alert.id)).where(Alert.incident.in_(chunk)).group_by(Alert.incident)
        )
        for row in session.scalars(select(Alert).where(Alert.id.in_(newest))):
            found[row.incident] = row
    return found


def add_alert(session: Session, **row) -> int:
    """`add_alerts` of one row; returns its id."""
    return add_alerts(session, [row])[0]


def add_alerts(session: Session, rows: Sequence[dict]) -> list[int]:
    """New rows with delivery `pending`, in the order given, in multi-row INSERTs of
    SQLAlchemy's page size (a check that finds 7,500 holdings changed outside the app stores
    7,500 alerts); their ids, ascending. Each row holds incident, kind, state, title, body,
    account, symbol, created_at and, when it has one, mode (the book; None: none)."""
    if not rows:
        return []
    values = [
        {
            "incident": row["incident"],
            "kind": row["kind"],
            "mode": row.get("mode"),
            "state": row["state"],
            "title": row["title"],
            "body": row["body"],
            "account": row["account"],
            "symbol": row["symbol"],
            "delivery": "pending",
            "created_at": row["created_at"],
        }
        for row in rows
    ]
    table = Alert.__table__
    # Core, not the ORM's unit of work. The ids are asked for as a set: asking them in the
    # rows' order would make SQLAlchemy send a statement a row on SQLite (it has no way to
    # match ids to rows there), and no caller needs to know which id is which row
    statement = insert(table).returning(table.c.id)
    return sorted(session.scalars(statement, values))


def record_delivery(
    session: Session,
    alert_id: int,
    delivery: str,
    detail: str | None,
    delivered_at: datetime | None,
) -> None:
    record_deliveries(session, [alert_id], delivery, detail, delivered_at)


def record_deliveries(
    session: Session,
    alert_ids: Sequence[int],
    delivery: str,
    detail: str | None,
    delivered_at: datetime | None,
) -> None:
    """How the delivery of these alerts went: one outcome for them all (they went out in
    one message)."""
    for chunk in _chunks(alert_ids):
        session.execute(
            update(Alert)
            .where(Alert.id.in_(chunk))
            .values(delivery=delivery, delivery_detail=detail, delivered_at=delivered_at)
        )


def newest_alerts(
    session: Session, limit: int, mode: str | None = None, account: str | None = None
) -> list[Alert]:
    """The newest alerts first: of the book `mode` and of `account` when given (with those of
    no book or account: a test message belongs to every page), else all."""
    query = select(Alert)
    if mode is not None:
        query = query.where(or_(Alert.mode == mode, Alert.mode.is_(None)))
    if account is not None:
        query = query.where(or_(Alert.account == account, Alert.account.is_(None)))
    return list(session.scalars(query.order_by(Alert.id.desc()).limit(limit)))


def claim_deliveries(session: Session, alert_ids: Sequence[int]) -> list[int]:
    """Take these pending alerts to deliver them; the ids taken, in id order (one another
    sender took first is not among them: an alert is delivered by one process, whichever
    stored it)."""
    taken: list[int] = []
    for chunk in _chunks(alert_ids):
        taken += session.scalars(
            update(Alert)
            .where(Alert.id.in_(chunk), Alert.delivery == "pending")
            .values(delivery="sending")
            .returning(Alert.id)
        )
    return sorted(taken)


def undelivered(session: Session, stored_before: datetime, sending_before: datetime) -> list[int]:
    """Alerts left pending by a process that stored them and ended (a background job) or
    left sending by a sender that stopped mid-way: another sender takes them over."""
    query = select(Alert.id).where(
        ((Alert.delivery == "pending") & (Alert.created_at < stored_before))
        | ((Alert.delivery == "sending") & (Alert.created_at < sending_before))
    )
    return list(session.scalars(query.order_by(Alert.id)))


def release(session: Session, alert_ids: Sequence[int]) -> None:
    """Back to pending (a stale `sending` row taken over), so one sender can claim it."""
    for chunk in _chunks(alert_ids):
        session.execute(
            update(Alert)
            .where(Alert.id.in_(chunk), Alert.delivery == "sending")
            .values(delivery="pending")
        )


def alert_rows(session: Session, alert_ids: Sequence[int]) -> list[Row]:
    """What the sender needs of these alerts (id, incident, state, kind, account, mode,
    title, body), in id order: plain rows, not ORM objects, as it reads thousands at once."""
    columns = (
        Alert.id,
        Alert.incident,
        Alert.state,
        Alert.kind,
        Alert.account,
        Alert.mode,
        Alert.title,
        Alert.body,
    )
    rows: list[Row] = []
    for chunk in _chunks(alert_ids):
        rows += session.execute(select(*columns).where(Alert.id.in_(chunk)))
    return sorted(rows, key=lambda row: row.id)
