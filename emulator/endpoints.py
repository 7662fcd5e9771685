"""What every dialect's endpoint handlers receive, and the table they register in."""

from collections.abc import Callable
from dataclasses import dataclass

from emulator.params import Params
from emulator.state import EmulatorState


@dataclass
class Call:
    state: EmulatorState
    params: Params
    account: object | None  # the signed request's account (spot Account or PerpAccount)
    now_ms: int

    @property
    def markets(self):
        return self.state.engine.markets

    def symbol(self) -> str:
        return self.params.symbol(self.markets)


@dataclass(frozen=True)
class Endpoint:
    handler: Callable[[Call], object]
    signed: bool


class EndpointTable(dict):
    """(method, path) -> Endpoint, filled by the `route` decorator."""

    def route(self, method: str, path: str, signed: bool = False):
        def register(handler):
            self[(method, path)] = Endpoint(handler, signed)
            return handler

        return register
