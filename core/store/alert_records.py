"""Reads and writes of the alerts table: the one record of which incidents are open.

The latest row of an incident says whether it is raised or cleared. Functions take the
caller's session and never commit on their own.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from sqlalchemy import (
    Row,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from core.store.db import in_values, serialize_all
from core.store.models import Alert


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


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


def latest_alerts(session: Session, incidents: Collection[str]) -> dict[str, Row]:
    """Each incident's newest row (insertion order), by incident, as plain rows of what a
    raise or clear reads of it (incident, state, kind, account, symbol, title, mode); one
    never raised is not in it."""
    columns = (
        Alert.incident,
        Alert.state,
        Alert.kind,
        Alert.account,
        Alert.symbol,
        Alert.title,
        Alert.mode,
    )
    found: dict[str, Row] = {}
    for among in in_values(session, Alert.incident, sorted(set(incidents))):
        newest = select(func.max(Alert.id)).where(among).group_by(Alert.incident)
        for row in session.connection().execute(select(*columns).where(Alert.id.in_(newest))):
            found[row.incident] = row
    return found


def add_alert(session: Session, **row) -> int:
    """`add_alerts` of one row; returns its id."""
    return add_alerts(session, [row])[0]


def add_alerts(session: Session, rows: Sequence[dict]) -> list[int]:
    """New rows with delivery `pending`, in the order given (a check that finds 7,500
    holdings changed outside the app stores 7,500 alerts): on PostgreSQL one INSERT from
    arrays of the columns, on SQLite multi-row INSERTs of SQLAlchemy's page size; their ids,
    ascending. Each row holds incident, kind, state, title, body, account, symbol,
    created_at and, when it has one, mode (the book; None: none)."""
    if not rows:
        return []
    if _postgres(session):
        columns = {column: [row.get(column) for row in rows] for column in _COLUMNS}
        columns["created_at"] = [row["created_at"].astimezone(UTC) for row in rows]
        return sorted(session.scalars(_ADD_FROM_ARRAYS, columns))
    values = [
        {column: row.get(column) for column in _COLUMNS} | {"delivery": "pending"} for row in rows
    ]
    table = Alert.__table__
    # Core, not the ORM's unit of work. The ids are asked for as a set: asking them in the
    # rows' order would make SQLAlchemy send a statement a row on SQLite (it has no way to
    # match ids to rows there), and no caller needs to know which id is which row
    statement = insert(table).returning(table.c.id)
    return sorted(session.scalars(statement, values))


_COLUMNS = ("incident", "kind", "mode", "account", "symbol", "state", "title", "body", "created_at")
# psycopg sends each list as one array: 9 parameters for any number of rows
_ADD_FROM_ARRAYS = text(
    "INSERT INTO alerts (incident, kind, mode, account, symbol, state, title, body, delivery, "
    "created_at) SELECT incident, kind, mode, account, symbol, state, title, body, 'pending', "
    "created_at FROM unnest(CAST(:incident AS text[]), CAST(:kind AS text[]), "
    "CAST(:mode AS text[]), CAST(:account AS text[]), CAST(:symbol AS text[]), "
    "CAST(:state AS text[]), CAST(:title AS text[]), CAST(:body AS text[]), "
    "CAST(:created_at AS timestamptz[])) "
    "AS r(incident, kind, mode, account, symbol, state, title, body, created_at) RETURNING id"
)


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
    for among in in_values(session, Alert.id, alert_ids):
        session.execute(
            update(Alert)
            .where(among)
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
    for among in in_values(session, Alert.id, alert_ids):
        taken += session.scalars(
            update(Alert)
            .where(among, Alert.delivery == "pending")
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
    for among in in_values(session, Alert.id, alert_ids):
        session.execute(
            update(Alert).where(among, Alert.delivery == "sending").values(delivery="pending")
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
    for among in in_values(session, Alert.id, alert_ids):
        rows += session.connection().execute(select(*columns).where(among))
    return sorted(rows, key=lambda row: row.id)
