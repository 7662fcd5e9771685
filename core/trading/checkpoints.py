"""Named points in the order path where a test can pause one actor and run another.

    before-lock     an action is about to take the account-and-symbol lock
    locked          it holds the lock; nothing has been sent yet
    placed          an order was answered by the exchange
    recording       the trade is about to record its verdict
    recorded        it has recorded it (the lock is still held)
    replacing       an amend cancelled the order it replaces; the replacement (its intent
                    committed) is about to be checked and sent

and two that only a fault reaches, the lock held all along:

    reading-again       a read after an order was sent failed; it is about to be tried again
    confirming-absent   an order the exchange denies past the receive window: its open
                        orders, fills and balance are about to be read before any re-send

`reach(point, ...)` costs one empty-list check when nobody listens (production). A test
registers a listener with `listening(...)`; the listener sees the point and who is at it
(account, symbol, origin) and may block to hold that actor there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

POINTS = ("before-lock", "locked", "placed", "recording", "recorded")
AMEND_POINTS = ("replacing",)
FAULT_POINTS = ("reading-again", "confirming-absent")
Listener = Callable[[str, dict], None]
_listeners: list[Listener] = []


def reach(point: str, **where: str) -> None:
    for listener in list(_listeners):
        listener(point, where)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
