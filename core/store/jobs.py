"""Trade jobs: every trade from its start to its result, with the step it is at, so a
reloaded page, another tab or another host can show it running and then how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.store.books import BookKey, in_book
from core.store.models import TradeJob, utcnow

RUNNING, DONE, FAILED, INTERRUPTED = "running", "done", "failed", "interrupted"


@dataclass(frozen=True)
class StoredJob:
    id: int
    account: str
    symbol: str
    target: str
    origin: str
    step: str
    status: str
    ok: bool | None
    message: str | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None


def start_job(session: Session, book: BookKey, symbol: str, target: str, origin: str) -> int:
    now = utcnow()
    job = TradeJob(
        mode=book.mode,
        account=book.account,
        symbol=symbol,
        target=target,
        origin=origin,
        step="starting",
        status=RUNNING,
        started_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    return job.id


def set_step(session: Session, job_id: int, step: str) -> None:
    job = session.get(TradeJob, job_id)
    if job is not None and job.status == RUNNING:
        job.step, job.updated_at = step, utcnow()


def finish_job(session: Session, job_id: int, ok: bool, message: str) -> None:
    job = session.get(TradeJob, job_id)
    if job is not None:
        now = utcnow()
        job.status, job.ok, job.message = (DONE if ok else FAILED), ok, message
        job.step, job.updated_at, job.finished_at = "finished", now, now


def running_jobs(session: Session, book: BookKey | None = None) -> list[StoredJob]:
    query = select(TradeJob).where(TradeJob.status == RUNNING)
    if book is not None:
        query = query.where(in_book(TradeJob, book))
    return [_stored(job) for job in session.scalars(query.order_by(TradeJob.started_at))]


def mark_interrupted(session: Session, job_id: int, message: str) -> None:
    job = session.get(TradeJob, job_id)
    if job is not None and job.status == RUNNING:
        now = utcnow()
        job.status, job.ok, job.message = INTERRUPTED, False, message
        job.updated_at, job.finished_at = now, now


def latest_jobs(session: Session, book: BookKey, limit: int = 5) -> list[StoredJob]:
    """The book's newest jobs, running or ended, newest first."""
    query = (
        select(TradeJob)
        .where(in_book(TradeJob, book))
        .order_by(TradeJob.started_at.desc(), TradeJob.id.desc())
        .limit(limit)
    )
    return [_stored(job) for job in session.scalars(query)]


def _stored(job: TradeJob) -> StoredJob:
    return StoredJob(
        job.id,
        job.account,
        job.symbol,
        job.target,
        job.origin,
        job.step,
        job.status,
        job.ok,
        job.message,
        job.started_at,
        job.updated_at,
        job.finished_at,
    )


def touched_since(session: Session, book: BookKey, symbol: str, since: datetime) -> bool:
    """Whether an action on the symbol ran, or started, at or after `since`: what a check
    read before then may no longer be what the account holds."""
    query = (
        select(TradeJob.id)
        .where(in_book(TradeJob, book), TradeJob.symbol == symbol)
        .where((TradeJob.status == RUNNING) | (TradeJob.updated_at >= since))
        .limit(1)
    )
    return session.scalars(query).first() is not None
