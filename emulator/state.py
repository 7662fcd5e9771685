"""Everything one emulator instance holds, shared by the exchange and control APIs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from emulator.engine import Engine
from emulator.faults import Faults
from emulator.perp_engine import PerpEngine
from emulator.ratelimit import RateLimiter
from emulator.request_log import RequestLog
from emulator.saver import StateSaver

if TYPE_CHECKING:
    from emulator.dialect import Dialect


@dataclass
class EmulatorState:
    engine: Engine | PerpEngine
    freeze: bool
    rate_limits: bool
    dialect: Dialect
    faults: Faults = field(default_factory=Faults)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    log: RequestLog = field(default_factory=RequestLog)
    saver: StateSaver | None = None  # with --state-file
    last_request: float = field(default_factory=time.monotonic)  # for the idle exit

    def note_request(self, method: str) -> None:
        """Called once a request was answered: anything but a GET may have changed state."""
        self.last_request = time.monotonic()
        if method != "GET" and self.saver is not None:
            self.saver.changed()

    def reset(self) -> None:
        self.engine.reset()
        self.faults.clear()
        self.limiter.clear()
        self.log.clear()
        if self.saver is not None:
            self.saver.save()

    def close(self) -> None:
        """Let go of the state file, once serving has stopped and the last save is done."""
        if self.saver is not None:
            self.saver.close()
