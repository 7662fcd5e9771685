"""Sync runs: every trade, check and monitor run, and what it found, in one typed form.

`RunFindings` is written as one JSON document and read back into the same dataclasses
here, and only here."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.domain import Discrepancy, RunFindings, SyncAction
from core.store.books import BookKey, in_book
from core.store.models import SyncRun, utcnow


@dataclass(frozen=True)
class StoredRun:
    """One recorded run, as the readers see it."""

    id: int
    mode: str
    account: str
    kind: str
    symbol: str | None
    policy: str | None
    target: str | None
    before: str | None
    after: str | None
    ok: bool
    message: str
    api_calls: int
    duration_ms: int
    started_at: datetime
    finished_at: datetime
    findings: RunFindings


def record_sync_run(
    session: Session,
    book: BookKey,
    *,
    kind: str,
    ok: bool,
    message: str,
    started_at: datetime,
    symbol: str | None = None,
    policy: str | None = None,
    target: str | None = None,
    before_state: str | None = None,
    after_state: str | None = None,
    api_calls: int = 0,
    duration_ms: int = 0,
    findings: RunFindings | None = None,
) -> int:
    run = SyncRun(
        mode=book.mode,
        account=book.account,
        kind=kind,
        symbol=symbol,
        policy=policy,
        target=target,
        before_state=before_state,
        after_state=after_state,
        ok=ok,
        message=message,
        api_calls=api_calls,
        duration_ms=duration_ms,
        details=_encode(findings or RunFindings()),
        started_at=started_at,
        finished_at=utcnow(),
    )
    session.add(run)
    session.flush()
    return run.id


def recent_sync_runs(session: Session, book: BookKey, limit: int = 100) -> list[StoredRun]:
    query = (
        select(SyncRun)
        .where(in_book(SyncRun, book))
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(limit)
    )
    return [_stored(row) for row in session.scalars(query)]


def monitor_runs(session: Session, mode: str, limit: int) -> list[StoredRun]:
    """The position monitor's runs on every account of `mode`, newest first."""
    query = (
        select(SyncRun)
        .where(SyncRun.kind == "monitor", SyncRun.mode == mode)
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(limit)
    )
    return [_stored(row) for row in session.scalars(query)]


def _stored(row: SyncRun) -> StoredRun:
    return StoredRun(
        id=row.id,
        mode=row.mode,
        account=row.account,
        kind=row.kind,
        symbol=row.symbol,
        policy=row.policy,
        target=row.target,
        before=row.before_state,
        after=row.after_state,
        ok=row.ok,
        message=row.message,
        api_calls=row.api_calls,
        duration_ms=row.duration_ms,
        started_at=row.started_at,
        finished_at=row.finished_at,
        findings=_decode(row.details),
    )


# --- the one JSON form of RunFindings ------------------------------------------------


def _encode(findings: RunFindings) -> str:
    return json.dumps(
        {
            "discrepancies": [vars(d) for d in findings.discrepancies],
            "actions": [vars(a) for a in findings.actions],
            "in_sync": list(findings.in_sync),
            "drift": list(findings.drift),
            "orders": list(findings.orders),
            "error": findings.error,
        },
        default=_plain_value,
    )


def observed(
    texts: Iterable[str | None],
) -> tuple[list[tuple[tuple[str, ...], tuple[str, ...]]], list[int]]:
    """The symbols runs found in sync and drifting, without typing the rest of their
    findings (what the health figures read of every run): those of each distinct findings
    text, and for each of `texts` the position of its own among them. Each distinct text is
    decoded once, and all of them in one json.loads of an array: a check that finds every
    symbol in sync writes the same findings run after run (100,000 runs held 3,665
    distinct texts), and one call over many documents is about half the time of one call
    each."""
    texts = [text or "{}" for text in texts]
    distinct = {text: n for n, text in enumerate(dict.fromkeys(texts))}
    decoded = json.loads(f"[{','.join(distinct)}]")
    found = [(tuple(d.get("in_sync", ())), tuple(d.get("drift", ()))) for d in decoded]
    return found, [distinct[text] for text in texts]


def _decode(text: str | None) -> RunFindings:
    data = json.loads(text or "{}")
    return RunFindings(
        discrepancies=tuple(_typed(Discrepancy, d) for d in data.get("discrepancies", [])),
        actions=tuple(_typed(SyncAction, a) for a in data.get("actions", [])),
        in_sync=tuple(data.get("in_sync", [])),
        drift=tuple(data.get("drift", [])),
        orders=tuple(data.get("orders", [])),
        error=data.get("error"),
    )


def _plain_value(v):
    """What JSON cannot write itself (a StrEnum it writes as its value)."""
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, Decimal):
        return str(v)
    raise TypeError(f"{type(v).__name__} is not part of a run's findings")


def _typed(cls, data: dict):
    """A dataclass back from its JSON form: enums and Decimals by their declared types."""
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        raw = data.get(field.name)
        kinds = typing.get_args(hints[field.name]) or (hints[field.name],)
        kind = next(k for k in kinds if k is not type(None))
        values[field.name] = raw if raw is None or kind is str else kind(raw)
    return cls(**values)
