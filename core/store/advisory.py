"""PostgreSQL advisory locks: the trade lock and the leadership that hold across hosts
(the interface and the file-lock versions are in core.locks)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from core.errors import TradeBusy

log = logging.getLogger(__name__)

KEY = text("SELECT hashtextextended(:name, 0)")
HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND objsubid = 1"
    " AND classid::bigint = :high AND objid::bigint = :low"
)


class PgTradeLocks:
    """A session advisory lock on a connection checked out for the trade: released when
    the trade ends, or by PostgreSQL when the process dies with its connection."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @contextmanager
    def hold(self, account: str, symbol: str) -> Iterator[None]:
        name = f"trade:{account}:{symbol}"
        with self.engine.connect() as connection:
            took = connection.execute(
                text("SELECT pg_try_advisory_lock(hashtextextended(:name, 0))"), {"name": name}
            ).scalar()
            connection.commit()
            if not took:
                raise TradeBusy(symbol)
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(hashtextextended(:name, 0))"), {"name": name}
                )
                connection.commit()


class PgLeadership:
    """A session advisory lock held on a dedicated connection outside any pool (a pool
    that recycled it would drop the lock silently). A follower keeps that one connection
    and retries the lock on it; a leader checks in pg_locks at every `lead()` that this
    backend still holds it. On any connection error it steps down before acting again,
    and another host takes over."""

    def __init__(self, url: str, account: str):
        self.name = f"leader:{account}"
        self._engine = create_engine(url, poolclass=NullPool)
        self._connection = None
        self._key = 0
        self._leading = False
        self._guard = threading.Lock()

    def lead(self) -> bool:
        with self._guard:
            try:
                if self._connection is None:
                    self._connect()
                if self._leading:
                    return self._still_held() or self._lost("no longer held")
                return self._take()
            except Exception as exc:  # a lost connection: step down, try again later
                return self._lost(type(exc).__name__)

    def step_down(self) -> None:
        with self._guard:
            self._close()

    def _connect(self) -> None:
        self._connection = self._engine.connect()
        self._key = self._connection.execute(KEY, {"name": self.name}).scalar()
        self._connection.commit()

    def _take(self) -> bool:
        took = self._connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
        ).scalar()
        self._connection.commit()
        if took:
            self._leading = True
            log.info("took the leadership", extra={"lock": self.name})
        return bool(took)

    def _still_held(self) -> bool:
        high, low = (self._key >> 32) & 0xFFFFFFFF, self._key & 0xFFFFFFFF
        held = self._connection.execute(HELD, {"high": high, "low": low}).scalar()
        self._connection.commit()
        return bool(held)

    def _lost(self, why: str) -> bool:
        if self._leading:
            log.warning(
                "stepped down from the leadership", extra={"lock": self.name, "reason": why}
            )
        self._close()
        return False

    def _close(self) -> None:
        self._leading = False
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # already broken; nothing more to release
                log.debug("leader connection was already closed")
            self._connection = None
