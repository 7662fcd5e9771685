"""The page's reads done in the background: once a second, the shown book's view and the
tickers the tabs show are read afresh (core.service.read_models.feed_dashboard), so a
tab's tick reads what is kept and never waits on the exchange or the database's full read.
One per serving process; with Redis the processes share what they read."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class PageFeed:
    def __init__(self, reads, every: float):
        self.reads = reads
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._round()  # the first tab finds a view and prices at once
        self.reads.feeding = True
        self._thread = threading.Thread(target=self._run, name="page-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.reads.feeding = False

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._round()

    def _round(self) -> None:
        try:
            self.reads.feed_dashboard(self.every)
        except Exception:  # a failed round leaves the last view; the next one tries again
            log.exception("the page feed could not read the dashboard")
