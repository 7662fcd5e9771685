"""Account snapshots: the balances one read of an account found, and when."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.domain import Balance
from core.store.books import BookKey, in_book
from core.store.models import AccountSnapshot, utcnow


@dataclass(frozen=True)
class StoredSnapshot:
    balances: dict[str, Balance]
    taken_at: datetime
    source: str


def record_snapshot(
    session: Session,
    book: BookKey,
    balances: dict[str, Balance],
    source: str,
    taken_at: datetime | None = None,
) -> None:
    document = {asset: [str(b.free), str(b.locked)] for asset, b in sorted(balances.items())}
    session.add(
        AccountSnapshot(
            mode=book.mode,
            account=book.account,
            source=source,
            balances=json.dumps(document),
            taken_at=taken_at or utcnow(),
        )
    )


def latest_snapshot(session: Session, book: BookKey) -> StoredSnapshot | None:
    row = session.scalar(
        select(AccountSnapshot)
        .where(in_book(AccountSnapshot, book))
        .order_by(AccountSnapshot.taken_at.desc(), AccountSnapshot.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    balances = {
        asset: Balance(Decimal(free), Decimal(locked))
        for asset, (free, locked) in json.loads(row.balances).items()
    }
    return StoredSnapshot(balances, row.taken_at, row.source)


def first_taken_at(session: Session, book: BookKey) -> datetime | None:
    """When the book's account was first read (None: never): what the account held then
    was its start, not a change."""
    return session.scalar(
        select(func.min(AccountSnapshot.taken_at)).where(in_book(AccountSnapshot, book))
    )
