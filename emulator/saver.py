"""Keeps a --state-file up to date for a running spot emulator.

It owns the file for the emulator's lifetime (a lock file beside it), resumes from it at
start, saves soon after every state-changing request (debounced, so a burst costs a few
writes a second), saves price drift from the ticker now and then, and saves on a clean stop.
Saves run on the server's event loop between requests, so none sees a half-applied change.
"""

import asyncio
import logging
import time
from pathlib import Path

import filelock

from emulator import spot_snapshot, state_file
from emulator.engine import Engine
from emulator.state_file import StateFileError

DEBOUNCE_S = 0.25
DRIFT_SAVE_S = 10.0
LOCK_TIMEOUT_S = 10.0
log = logging.getLogger(__name__)


class StateSaver:
    def __init__(self, path: Path, engine: Engine):
        self.path = Path(path).resolve()
        self.engine = engine
        self._lock = filelock.FileLock(state_file.lock_path(self.path))
        self._changed = False
        self._drifted = False
        self._saved_at = time.monotonic()

    def open(self) -> None:
        """Take the file, then resume from it (or write the start state when there is none).
        Raises StateFileError for a file in use, unreadable or not a state file."""
        try:
            self._lock.acquire(timeout=LOCK_TIMEOUT_S)
        except filelock.Timeout:
            raise StateFileError(f"{self.path} is in use by another emulator") from None
        except OSError as exc:
            raise StateFileError(f"cannot lock {self.path}: {exc}") from exc
        try:
            doc = state_file.read(self.path)
            if doc is None:
                self.save()
            else:
                spot_snapshot.restore(self.engine, doc)
        except StateFileError as exc:
            self.close()
            raise StateFileError(
                f"cannot resume from {self.path}: {exc}; move it away to start afresh"
            ) from exc
        except OSError as exc:
            self.close()
            raise StateFileError(f"cannot write {self.path}: {exc}") from exc
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Let go of the file (after the final save)."""
        self._lock.release()

    def changed(self) -> None:
        """A request may have changed the exchange: save within DEBOUNCE_S."""
        self._changed = True

    def drifted(self) -> None:
        """Prices moved on their own: save with the next change, or within DRIFT_SAVE_S."""
        self._drifted = True

    def save(self) -> None:
        self._changed = self._drifted = False
        self._saved_at = time.monotonic()
        state_file.write(self.path, spot_snapshot.snapshot(self.engine))

    def try_save(self) -> None:
        """Save; a failed write is logged (and tried again with the next change)."""
        try:
            self.save()
        except OSError:
            log.exception("could not save the state to %s", self.path)

    async def run(self) -> None:
        """Save what changed, at most once per DEBOUNCE_S, until cancelled."""
        while True:
            await asyncio.sleep(DEBOUNCE_S)
            drift_due = self._drifted and time.monotonic() - self._saved_at >= DRIFT_SAVE_S
            if self._changed or drift_due:
                self.try_save()
