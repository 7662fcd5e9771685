"""Reads and writes of the alerts table: the one record of which incidents are open.

The latest row of an incident says whether it is raised or cleared. Functions take the
caller's session and never commit on their own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
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
) -> int:
    """A new row with delivery `pending`; returns its id."""
    row = Alert(
        incident=incident,
        kind=kind,
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


def newest_alerts(session: Session, limit: int) -> list[Alert]:
    return list(session.scalars(select(Alert).order_by(Alert.id.desc()).limit(limit)))
