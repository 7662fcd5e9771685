"""What every open tab's tick asks with the same arguments, worked out once a second in this
process: the ticket's preview (the book's balances valued at every price: about 10 ms with
500 positions) and the working orders (three database reads) were read again for each tab
on each tick, the same answer hundreds of times a second. A tab's own action (a keystroke,
a cancel, a trade) asks afresh; its ticks may see an answer up to TICK_SECONDS old."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from dash import ctx

from web import ids

T = TypeVar("T")
TICK_SECONDS = 1.0  # the page feed reads the view and the prices once a second
KEPT = 64  # argument sets: the symbols, sizes and modes the open tabs show


class TickMemo:
    def __init__(self, seconds: float = TICK_SECONDS):
        self.seconds = seconds
        self._kept: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._guard = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], T], fresh: bool = False) -> T:
        """`load()`'s answer for `key`, the one kept when younger than `seconds` (unless
        `fresh`: then worked out now, and kept for the ticks that follow)."""
        now = time.monotonic()
        if not fresh:
            with self._guard:
                found = self._kept.get(key)
            if found is not None and now - found[0] < self.seconds:
                return found[1]
        value = load()
        with self._guard:
            self._kept[key] = (now, value)
            self._kept.move_to_end(key)
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return value


def only_ticked() -> bool:
    """Whether the callback running now was called by the page's tick alone."""
    return set(ctx.triggered_prop_ids) == {f"{ids.REFRESH}.n_intervals"}
