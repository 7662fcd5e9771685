"""Everything one emulator instance holds, shared by the exchange and control APIs."""

from dataclasses import dataclass, field

from emulator.engine import Engine
from emulator.faults import Faults
from emulator.ratelimit import RateLimiter
from emulator.request_log import RequestLog


@dataclass
class EmulatorState:
    engine: Engine
    freeze: bool
    rate_limits: bool
    faults: Faults = field(default_factory=Faults)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    log: RequestLog = field(default_factory=RequestLog)

    def reset(self) -> None:
        self.engine.reset()
        self.faults.clear()
        self.limiter.clear()
        self.log.clear()
