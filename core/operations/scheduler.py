"""Background work for an account (the periodic check, the stop watcher): exactly one
runner, however many web workers, worker processes or hosts start one.

Every process may start a `Scheduler`; before each run of each task it asks its
`Leadership` (core.operations.locks: a file lock on one machine, a PostgreSQL advisory lock across
hosts) whether it leads. The leader runs the tasks at their intervals, each in its own
thread so a slow check never delays the stop watcher; the others keep asking, so when the
leader's process ends (or loses its database connection) another takes over. Asking never
makes one task wait behind another's question: while one thread asks the database, the
others get the last answer at once, or no leadership when it is too old, so a leadership
query stuck in the periodic check's thread cannot hold up the stop watcher. A task told no
asks again within NOT_LED_RETRY seconds rather than a whole interval later: the no may only
mean that another thread's question was in flight (two tasks asking at start).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from core.operations.locks import Leadership

log = logging.getLogger(__name__)

NOT_LED_RETRY = 1.0


@dataclass(frozen=True)
class Task:
    name: str
    interval: float
    run: Callable[[], object]


class Scheduler:
    def __init__(self, leadership: Leadership, tasks: list[Task]):
        self.leadership = leadership
        self.tasks = tasks
        self.runs = {task.name: 0 for task in tasks}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def is_leader(self) -> bool:
        return self.leadership.lead()

    def start(self) -> None:
        for task in self.tasks:
            thread = threading.Thread(target=self._loop, args=(task,), name=task.name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self.leadership.step_down()

    def _loop(self, task: Task) -> None:
        while not self._stop.is_set():
            if not self.leadership.lead():
                self._stop.wait(min(task.interval, NOT_LED_RETRY))
                continue
            try:
                task.run()
                self.runs[task.name] += 1
            except Exception:  # the loop must outlive any one failed run
                log.exception("%s failed; the next one runs as planned", task.name)
            self._stop.wait(task.interval)
