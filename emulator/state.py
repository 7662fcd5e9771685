"""Everything one emulator instance holds, shared by the exchange and control APIs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from emulator.engine import Engine
from emulator.faults import Faults
from emulator.perp_engine import PerpEngine
from emulator.ratelimit import RateLimiter
from emulator.request_log import RequestLog

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

    def reset(self) -> None:
        self.engine.reset()
        self.faults.clear()
        self.limiter.clear()
        self.log.clear()
