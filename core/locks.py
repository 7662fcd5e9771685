"""Coordination, always a real engine's: one trade per account and symbol, and one leader
per account for the periodic check and the stop watcher.

One interface, chosen by the database URL: file locks (the filelock package) beside an
SQLite database, which hold on one machine; PostgreSQL advisory locks otherwise, which
hold across hosts. A second click, tab, worker or command-line run never waits: it is
refused at once with a message that says which trade is running."""

from __future__ import annotations

import logging
import os
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout
from sqlalchemy import Engine

from core.errors import TradeBusy

__all__ = ["FileLeadership", "FileTradeLocks", "Leadership", "TradeBusy", "TradeLocks"]

log = logging.getLogger(__name__)


class TradeLocks(Protocol):
    def hold(self, account: str, symbol: str):
        """A context manager: the trade lock, or TradeBusy at once."""


class Leadership(Protocol):
    """Who runs an account's background work. `lead()` is asked before every run: True
    while this process holds the leadership (taking it when free); `step_down()` lets go."""

    def lead(self) -> bool: ...
    def step_down(self) -> None: ...


def _name(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", "__".join(parts))


# --- on one machine: file locks ------------------------------------------------------


class FileTradeLocks:
    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._held: set[str] = set()
        self._guard = threading.Lock()
        _FILE_LOCKS.add(self)

    def fresh_guard(self) -> None:
        """A forked child (a background trade) must not inherit the guard locked by a
        thread that does not exist in it."""
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, account: str, symbol: str) -> Iterator[None]:
        name = _name(account, symbol)
        with self._guard:
            if name in self._held:
                raise TradeBusy(symbol)
            self._held.add(name)
        try:
            lock = FileLock(self.directory / f"{name}.lock", thread_local=False, is_singleton=False)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                raise TradeBusy(symbol) from None
            try:
                yield
            finally:
                lock.release()
        finally:
            with self._guard:
                self._held.discard(name)


_FILE_LOCKS: weakref.WeakSet[FileTradeLocks] = weakref.WeakSet()
os.register_at_fork(after_in_child=lambda: [locks.fresh_guard() for locks in _FILE_LOCKS])


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
