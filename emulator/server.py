"""EmulatorServer: a local exchange (MEXC spot v3, Bybit v5 linear or Binance USD-M) served
from a daemon thread."""

import asyncio
import random
import threading
from pathlib import Path

from emulator.accounts import AccountSpec, demo_account_spec, parse_balances
from emulator.dialects import DIALECTS
from emulator.http_app import build_app, open_site
from emulator.saver import StateSaver
from emulator.state import EmulatorState

__all__ = ["AccountSpec", "EmulatorServer", "build_state"]

MAX_GENERATED_MARKETS = 20_000


def build_state(
    seed: int | None,
    freeze: bool,
    accounts: list[AccountSpec] | None,
    rate_limits: bool,
    dialect: str = "mexc",
    state_file: Path | None = None,
    markets: int = 0,
) -> EmulatorState:
    """Validated start state; raises ValueError for an unknown dialect, duplicate keys or bad
    balances, and StateFileError (a ValueError) for a state file it cannot resume from.

    With `state_file` (MEXC only) the exchange resumes from the file when it exists (its seed,
    accounts, orders and prices win over the arguments) and is saved there from then on; the
    caller must `close()` the state once done serving. `markets` more spot markets are
    listed beside the known ones (emulator.markets.generated_markets), MEXC only."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    if state_file is not None and dialect != "mexc":
        raise ValueError("a state file is kept for the mexc dialect only")
    if markets and (dialect != "mexc" or state_file is not None):
        raise ValueError("--markets adds spot markets: the mexc dialect, without a state file")
    if not 0 <= markets <= MAX_GENERATED_MARKETS:
        raise ValueError(f"--markets takes 0 to {MAX_GENERATED_MARKETS} markets, not {markets}")
    specs = list(accounts) if accounts is not None else [demo_account_spec()]
    keys = [spec.api_key for spec in specs]
    if len(set(keys)) != len(keys):
        raise ValueError("account api keys must be unique")
    for spec in specs:
        if not spec.api_key or not spec.api_secret:
            raise ValueError("every account needs an api key and an api secret")
        parse_balances(spec.balances)
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    speaks = DIALECTS[dialect]
    engine = speaks.new_engine(seed, specs, markets) if markets else speaks.new_engine(seed, specs)
    state = EmulatorState(engine=engine, freeze=freeze, rate_limits=rate_limits, dialect=speaks)
    if state_file is not None:
        state.saver = StateSaver(state_file, engine)
        state.saver.open()
    return state


class EmulatorServer:
    def __init__(
        self,
        seed: int | None = None,
        freeze: bool = False,
        accounts: list[AccountSpec] | None = None,
        rate_limits: bool = False,
        dialect: str = "mexc",
        state_file: Path | None = None,
        markets: int = 0,
    ):
        self.state = build_state(seed, freeze, accounts, rate_limits, dialect, state_file, markets)
        self.seed = self.state.engine.seed
        self.url: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> "EmulatorServer":
        """Serve in a daemon thread; returns once the socket is listening."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                runner, bound_port = loop.run_until_complete(
                    open_site(build_app(self.state), host, port)
                )
            except BaseException as exc:
                failure.append(exc)
                loop.close()
                ready.set()
                return
            self._loop = loop
            self.url = f"http://{host}:{bound_port}"
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(runner.cleanup())
                loop.close()

        self._thread = threading.Thread(
            target=serve, name=f"{self.state.dialect.name}-emulator", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = None
            self.state.close()
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving (a state file gets its last save) and let go of the state file."""
        if self._thread is not None:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._thread = None
            self._loop = None
            self.url = None
        self.state.close()

    def __enter__(self) -> "EmulatorServer":
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
