"""The periodic check: exactly one runner per account, however many web workers start one.

Every process may start a `PeriodicCheck`; each tries, without waiting, to take a file lock
named after the account. The one that holds it runs the check every interval and keeps the
lock for its life; the others keep trying, so when the leader's process ends another
takes over. (A file lock covers one machine; several machines would need a database lease.)
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

log = logging.getLogger(__name__)


class PeriodicCheck:
    def __init__(
        self, run: Callable[[], object], interval: float, lock_directory: Path, account: str
    ):
        self.run = run
        self.interval = interval
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", account)
        lock_directory.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(lock_directory / f"scheduler__{name}.lock", thread_local=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    @property
    def is_leader(self) -> bool:
        return self._lock.is_locked

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="periodic-check", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._lock.is_locked:
            self._lock.release(force=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._lead():
                try:
                    self.run()
                    self.runs += 1
                except Exception:  # the loop must outlive any one failed check
                    log.exception("periodic check failed; the next one runs as planned")
            self._stop.wait(self.interval)

    def _lead(self) -> bool:
        if self._lock.is_locked:
            return True
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True
