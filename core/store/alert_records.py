"""Reads and writes of the alerts table: the one record of which incidents are open.

The latest row of an incident says whether it is raised or cleared. Functions take the
caller's session and never commit on their own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.store.db import serialize
from core.store.models import Alert


def lock_incident(session: Session, incident: str) -> None:
    """Serialize the read-then-write of one incident across processes until the commit, so
    two processes raising the same incident store it once."""
    serialize(session, f"incident:{incident}")


def latest_alert(session: Session, incident: str) -> Alert | None:
    """The incident's newest row (insertion order), or None when it was never raised."""
    return session.scalars(
        select(Alert).where(Alert.incident == incident).order_by(Alert.id.desc()).limit(1)
    ).first()


def add_alert(
    session: Session,
    *,
    incident: str,
    kind: str,
    state: str,
    title: str,
    body: str,
    account: str | None,
    symbol: str | None,
    created_at: datetime,
    mode: str | None = None,
) -> int:
    """A new row with delivery `pending`; returns its id. `mode`: the book (None: none)."""
    row = Alert(
        incident=incident,
        kind=kind,
        mode=mode,
        state=state,
        title=title,
        body=body,
        account=account,
        symbol=symbol,
        delivery="pending",
        created_at=created_at,
    )
    session.add(row)
    session.flush()
    return row.id


def record_delivery(
    session: Session,
    alert_id: int,
    delivery: str,
    detail: str | None,
    delivered_at: datetime | None,
) -> None:
    session.execute(
        update(Alert)
        .where(Alert.id == alert_id)
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


def claim_delivery(session: Session, alert_id: int) -> bool:
    """Take a pending alert to deliver it; False when another sender took it first (an
    alert is delivered by one process, whichever stored it)."""
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.delivery == "pending")
        .values(delivery="sending")
    )
    return result.rowcount == 1


def undelivered(session: Session, stored_before: datetime, sending_before: datetime) -> list[int]:
    """Alerts left pending by a process that stored them and ended (a background job) or
    left sending by a sender that stopped mid-way: another sender takes them over."""
    query = select(Alert.id).where(
        ((Alert.delivery == "pending") & (Alert.created_at < stored_before))
        | ((Alert.delivery == "sending") & (Alert.created_at < sending_before))
    )
    return list(session.scalars(query.order_by(Alert.id)))


def release(session: Session, alert_ids: list[int]) -> None:
    """Back to pending (a stale `sending` row taken over), so one sender can claim it."""
    session.execute(
        update(Alert)
        .where(Alert.id.in_(alert_ids), Alert.delivery == "sending")
        .values(delivery="pending")
    )


def alert_row(session: Session, alert_id: int) -> Alert | None:
    return session.get(Alert, alert_id)
