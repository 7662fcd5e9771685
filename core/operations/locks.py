"""Coordination, always a real engine's: one trade per account and symbol, and one leader
per account for the periodic check and the stop watcher.

One interface, chosen by the database URL: file locks (the filelock package) beside an
SQLite database, which hold on one machine; PostgreSQL advisory locks otherwise, which
hold across hosts. A second click, tab, worker or command-line run is refused at once with
a message that says which trade is running, unless its caller chose to wait a bounded time.
A lock is never lost silently: its `Lease` says whether it is still held (`verify()` before
each order), and a failed release is logged, never raised over the trade's own outcome."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout
from sqlalchemy import Engine

from core.errors import LockLost, TradeBusy

__all__ = [
    "FileLeadership",
    "FileTradeLocks",
    "Leadership",
    "Lease",
    "LockLost",
    "TradeBusy",
    "TradeLocks",
]

log = logging.getLogger(__name__)


class Lease(Protocol):
    def verify(self) -> None:
        """Raise LockLost(symbol) when this lock is no longer held."""


class TradeLocks(Protocol):
    def hold(self, account: str, symbol: str, wait: float = 0) -> AbstractContextManager[Lease]:
        """The trade lock of (account, symbol): TradeBusy at once when another holder has
        it (wait=0), or after waiting up to `wait` seconds for it."""

    def hold_many(
        self, account: str, symbols: Iterable[str]
    ) -> AbstractContextManager[frozenset[str]]:
        """Every free symbol's lock, without waiting: yields the symbols taken (the busy
        ones left out); all are released at exit."""


class Leadership(Protocol):
    """Who runs an account's background work. `lead()` is asked before every run: True
    while this process holds the leadership (taking it when free); `step_down()` lets go."""

    def lead(self) -> bool: ...
    def step_down(self) -> None: ...


def _name(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", "__".join(parts))


def release_failed(account: str, symbol: str, exc: BaseException) -> None:
    """A release that failed is told, never raised: the trade's record matters more."""
    log.warning(
        "could not release the trade lock of %s %s: %s",
        account,
        symbol,
        type(exc).__name__,
        extra={"account": account, "symbol": symbol},
    )


# --- on one machine: file locks ------------------------------------------------------


class FileLease:
    """A file lock taken by this object: held while filelock still holds its descriptor
    and that descriptor is still the file at the lock's path (a lock file deleted or
    replaced would let another process lock a new one)."""

    def __init__(self, path: Path, symbol: str):
        self.symbol = symbol
        self._identity: tuple[int, int] | None = None
        self.lock = FileLock(
            path, thread_local=False, is_singleton=False, on_acquired=self._remember
        )

    def _remember(self, fd: int) -> None:
        stat = os.fstat(fd)
        self._identity = (stat.st_dev, stat.st_ino)

    def verify(self) -> None:
        try:
            stat = os.stat(self.lock.lock_file)
        except OSError:
            raise LockLost(self.symbol) from None
        if not self.lock.is_locked or (stat.st_dev, stat.st_ino) != self._identity:
            raise LockLost(self.symbol)


class FileTradeLocks:
    """One lock file per account and symbol; the operating system's lock (flock) refuses
    another holder, in this process or another."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def hold(self, account: str, symbol: str, wait: float = 0) -> Iterator[Lease]:
        with self._taken(account, symbol, wait) as lease:
            if lease is None:
                raise TradeBusy(symbol)
            yield lease

    @contextmanager
    def hold_many(self, account: str, symbols: Iterable[str]) -> Iterator[frozenset[str]]:
        with ExitStack() as stack:
            taken = frozenset(
                symbol
                for symbol in set(symbols)
                if stack.enter_context(self._taken(account, symbol, 0)) is not None
            )
            yield taken

    @contextmanager
    def _taken(self, account: str, symbol: str, wait: float) -> Iterator[FileLease | None]:
        """The lease, or None when the lock stayed busy for `wait` seconds."""
        lease = FileLease(self.directory / f"{_name(account, symbol)}.lock", symbol)
        try:
            lease.lock.acquire(timeout=wait)
        except Timeout:
            yield None
            return
        try:
            yield lease
        finally:
            try:
                lease.lock.release()
            except Exception as exc:
                release_failed(account, symbol, exc)


class FileLeadership:
    def __init__(self, directory: Path, account: str):
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(directory / f"scheduler__{_name(account)}.lock", thread_local=False)
        self._guard = threading.Lock()

    def lead(self) -> bool:
        with self._guard:
            if self._lock.is_locked:
                return True
            try:
                self._lock.acquire(timeout=0)
            except Timeout:
                return False
            return True

    def step_down(self) -> None:
        with self._guard:
            if self._lock.is_locked:
                self._lock.release(force=True)


def trade_locks(engine: Engine, folder: Path) -> TradeLocks:
    """Advisory locks on PostgreSQL, file locks (in `folder`) otherwise."""
    if engine.dialect.name == "postgresql":
        from core.store.advisory import PgTradeLocks

        return PgTradeLocks(engine)
    return FileTradeLocks(folder)


def leadership(engine: Engine, folder: Path, account: str) -> Leadership:
    if engine.dialect.name == "postgresql":
        from core.store.advisory import PgLeadership

        return PgLeadership(engine.url.render_as_string(hide_password=False), account)
    return FileLeadership(folder, account)
