"""The page's reads done in the background: once a second, and at once after a write to a
book, the shown book's view and the tickers the tabs show are read afresh
(core.service.read_models.feed_dashboard), so a tab's tick reads what is kept and never
waits on the exchange or the database's full read, not even the first tick after a trade.
One per serving process; with Redis the processes share what they read."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)

# after a wake, how long the feed lets the writes that come together land (a stop's close
# and the stop's end, a trade's fill and its position) before reading them as one view
SETTLE_SECONDS = 0.05


class PageFeed:
    def __init__(self, reads, every: float):
        self.reads = reads
        self.every = every
        self._woken = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._round()  # the first tab finds a view and prices at once
        self.reads.feeding = True
        self.reads.wiring.on_book_changed.append(self.wake)
        self._thread = threading.Thread(target=self._run, name="page-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.reads.wiring.on_book_changed.remove(self.wake)
        self._stopping = True
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.reads.feeding = False

    def wake(self, _book=None) -> None:
        """A book was written: read the view now rather than at the next second, so that the
        tab's next tick finds it built instead of building it inside its request."""
        self._woken.set()

    def _run(self) -> None:
        while True:
            if self._woken.wait(self.every) and not self._stopping:
                time.sleep(SETTLE_SECONDS)
            self._woken.clear()
            if self._stopping:
                return
            self._round()

    def _round(self) -> None:
        try:
            self.reads.feed_dashboard()
        except Exception:  # a failed round leaves the last view; the next one tries again
            log.exception("the page feed could not read the dashboard")
