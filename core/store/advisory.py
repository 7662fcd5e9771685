"""PostgreSQL advisory locks: the trade lock and the leadership that hold across hosts
(the interface and the file-lock versions are in core.operations.locks)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from psycopg.errors import LockNotAvailable
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from core.errors import LockLost, TradeBusy
from core.operations.locks import release_failed
from core.store.db import postgres_connect_args

log = logging.getLogger(__name__)

# A lock or leadership statement is one lookup (a try-lock, a read of pg_locks): 5 s only
# passes when the server or the link is in trouble, and then the leader must find out soon
# enough to step down before another host's takeover matters.
LOCK_STATEMENT_TIMEOUT = 5
# The longest `lead()` answers from an earlier question while another thread's is still in
# flight: one lock statement's time. Older news of the leadership is no leadership.
LEADERSHIP_STALENESS = LOCK_STATEMENT_TIMEOUT

KEY = text("SELECT hashtextextended(:name, 0)")
HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND objsubid = 1"
    " AND classid::bigint = :high AND objid::bigint = :low"
)
TRY_MANY = text(
    "SELECT name, k FROM unnest(CAST(:names AS text[])) AS name, hashtextextended(name, 0) AS k"
    " WHERE pg_try_advisory_lock(k)"
)
UNLOCK_MANY = text("SELECT k, pg_advisory_unlock(k) FROM unnest(CAST(:keys AS bigint[])) AS k")
WAIT_TIMEOUTS = text(
    "SELECT set_config('lock_timeout', :lock, true),"
    " set_config('statement_timeout', :statement, true)"
)


def _held(connection: Connection, key: int) -> bool:
    """Whether this connection's backend holds the session advisory lock `key`."""
    high, low = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    held = connection.execute(HELD, {"high": high, "low": low}).scalar()
    connection.commit()
    return bool(held)


class PgLease:
    """A trade lock held by one connection's backend."""

    def __init__(self, connection: Connection, key: int, symbol: str):
        self.connection = connection
        self.key = key
        self.symbol = symbol

    def verify(self) -> None:
        try:
            held = _held(self.connection, self.key)
        except Exception as exc:  # a broken or closed connection holds nothing
            raise LockLost(self.symbol) from exc
        if not held:
            raise LockLost(self.symbol)


class PgTradeLocks:
    """A session advisory lock on a connection checked out of the app's pool for the
    trade: released when the trade ends, or by PostgreSQL when the connection ends. A
    connection whose release failed is closed, never returned to the pool still holding."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @contextmanager
    def hold(self, account: str, symbol: str, wait: float = 0) -> Iterator[PgLease]:
        name = f"trade:{account}:{symbol}"
        with self.engine.connect() as connection:
            if wait > 0:
                key = self._wait(connection, name, wait)
            else:
                key = self._try(connection, {name: symbol}).get(symbol)
            if key is None:
                raise TradeBusy(symbol)
            try:
                yield PgLease(connection, key, symbol)
            finally:
                self._release(connection, account, {symbol: key})

    @contextmanager
    def hold_many(self, account: str, symbols: Iterable[str]) -> Iterator[frozenset[str]]:
        with self.engine.connect() as connection:
            taken = self._try(connection, {f"trade:{account}:{s}": s for s in symbols})
            try:
                yield frozenset(taken)
            finally:
                self._release(connection, account, taken)

    @staticmethod
    def _try(connection: Connection, names: dict[str, str]) -> dict[str, int]:
        """The free locks of `names` (lock name: symbol), taken in one statement without
        waiting: {symbol: key}."""
        rows = connection.execute(TRY_MANY, {"names": list(names)}).all()
        connection.commit()
        return {names[name]: key for name, key in rows}

    @staticmethod
    def _wait(connection: Connection, name: str, wait: float) -> int | None:
        """The lock's key once PostgreSQL granted it within `wait` seconds (its own queue,
        bounded by lock_timeout), or None."""
        key = connection.execute(KEY, {"name": name}).scalar()
        limit = max(1, round(wait * 1000))  # lock_timeout 0 would mean: wait forever
        statement = limit + LOCK_STATEMENT_TIMEOUT * 1000
        connection.execute(WAIT_TIMEOUTS, {"lock": f"{limit}ms", "statement": f"{statement}ms"})
        try:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        except OperationalError as exc:
            connection.rollback()
            if isinstance(exc.orig, LockNotAvailable):
                return None
            raise
        connection.commit()
        return key

    @staticmethod
    def _release(connection: Connection, account: str, keys: dict[str, int]) -> None:
        """Unlock every symbol's key; what fails is logged and the connection closed, which
        ends its session and every lock it still held."""
        if not keys:
            return
        symbols = {key: symbol for symbol, key in keys.items()}
        try:
            rows = connection.execute(UNLOCK_MANY, {"keys": list(symbols)}).all()
            connection.commit()
        except Exception as exc:
            for symbol in keys:
                release_failed(account, symbol, exc)
            connection.invalidate()
            return
        for key, released in rows:
            if not released:
                release_failed(account, symbols[key], LockLost(symbols[key]))


class PgLeadership:
    """A session advisory lock held on a dedicated connection outside any pool (a pool
    that recycled it would drop the lock silently). A follower keeps that one connection
    and retries the lock on it; a leader checks in pg_locks at every `lead()` that this
    backend still holds it. On any connection error it steps down before acting again,
    and another host takes over. Every statement is bounded (LOCK_STATEMENT_TIMEOUT), and
    one thread's question never makes another wait (see `lead`)."""

    def __init__(self, url: str, account: str):
        self.name = f"leader:{account}"
        self._engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args=postgres_connect_args(LOCK_STATEMENT_TIMEOUT, connect_timeout=5, url=url),
        )
        self._connection = None
        self._key = 0
        self._leading = False
        # when the last question that found this process leading was asked
        self._confirmed: float | None = None
        self._guard = threading.Lock()

    def lead(self) -> bool:
        """Ask the database; while another thread is already asking, answer at once from
        the last question instead: True only when that found this process leading at most
        LEADERSHIP_STALENESS seconds ago."""
        if not self._guard.acquire(blocking=False):
            confirmed = self._confirmed
            return confirmed is not None and time.monotonic() - confirmed <= LEADERSHIP_STALENESS
        try:
            asked = time.monotonic()
            leading = self._ask()
            self._confirmed = asked if leading else None
            return leading
        finally:
            self._guard.release()

    def step_down(self) -> None:
        """Unlock, then close: PostgreSQL ends a closed session only after the client has
        gone, so the unlock is what lets a follower take over at once."""
        with self._guard:
            if self._leading:
                try:
                    self._connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                    )
                    self._connection.commit()
                except Exception:  # a broken connection: its closing releases the lock
                    log.debug("leader connection broke before the unlock")
            self._close()

    def _ask(self) -> bool:
        try:
            if self._connection is None:
                self._connect()
            if self._leading:
                return _held(self._connection, self._key) or self._lost("no longer held")
            return self._take()
        except Exception as exc:  # a lost connection: step down, try again later
            return self._lost(type(exc).__name__)

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

    def _lost(self, why: str) -> bool:
        if self._leading:
            log.warning(
                "stepped down from the leadership", extra={"lock": self.name, "reason": why}
            )
        self._close()
        return False

    def _close(self) -> None:
        self._leading = False
        self._confirmed = None
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # already broken; nothing more to release
                log.debug("leader connection was already closed")
            self._connection = None
