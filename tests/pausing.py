"""An actor held at a named point of the order path (core.trading.checkpoints) while
another runs: the tests of two actions at once."""

from __future__ import annotations

import threading


class Paused:
    """Hold the thread named `thread` at `point` until `release()`."""

    def __init__(self, point: str, thread: str = "paused"):
        self.point, self.thread = point, thread
        self.reached, self._go = threading.Event(), threading.Event()

    def __call__(self, point, where):
        mine = point == self.point and threading.current_thread().name == self.thread
        if mine and not self.reached.is_set():
            self.reached.set()
            self._go.wait(30)

    def release(self):
        self._go.set()


def in_thread(run, name="paused") -> threading.Thread:
    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread
