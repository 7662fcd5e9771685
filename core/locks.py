"""One trade per account and symbol at a time, across threads and processes.

A second click, tab, worker or command-line run does not wait: it is refused at once with
a message that says which trade is running."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from core.errors import AppError


class TradeBusy(AppError):
    """Another trade of the same account and symbol is running."""


class TradeLocks:
    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._held: set[str] = set()
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, account: str, symbol: str) -> Iterator[None]:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{account}__{symbol}")
        with self._guard:
            if name in self._held:
                raise TradeBusy(f"a trade for {symbol} is already running")
            self._held.add(name)
        try:
            lock = FileLock(self.directory / f"{name}.lock", thread_local=False, is_singleton=False)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                raise TradeBusy(f"a trade for {symbol} is already running") from None
            try:
                yield
            finally:
                lock.release()
        finally:
            with self._guard:
                self._held.discard(name)
