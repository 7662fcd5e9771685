"""A SIM book of many positions and a market whose prices move, as the benches that measure
the Trading page's refresh see them (bench_tick in one process, bench_scale_out under
gunicorn): positions in the database, each on a market the emulator lists and held by the
paper account (so its row shows a price), and a few of those markets trading at a new price
at the exchange each tick (its control API), so each refresh has real changes to send.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bench.bench_dashboard import insert_positions
from core.domain import Mode, base_asset
from core.store import paper
from emulator.control_client import ControlClient
from emulator.markets import load_catalogue

SHOWN = "ETH/USDT"  # the symbol the benches' tabs show: the first to move


def markets_for(positions: int) -> int:
    """How many markets the emulator lists beside its known ones (EmulatorServer's
    `markets`) for `positions` positions to each sit on a market of their own."""
    return max(0, positions - len(load_catalogue()))


def listed_symbols(wiring) -> list[str]:
    """The spot markets the exchange lists, quoted in USDT, sorted."""
    return [s for s in sorted(wiring.market_data.symbols()) if s.endswith("/USDT")]


def populate(wiring, listed: list[str], positions: int) -> None:
    """`positions` LONG SIM positions: one on each `listed` market (held by the paper account,
    so priced), then unlisted ones (X0000/USDT, ...) up to `positions`."""
    now = datetime.now(UTC)
    extra = [f"X{n:04d}/USDT" for n in range(max(0, positions - len(listed)))]
    held = listed[:positions]
    with wiring.db.session() as session:
        insert_positions(session, [*held, *extra], now)
        for symbol in held:
            paper.change_balance(session, wiring.paper.account, base_asset(symbol), Decimal("1.5"))
        paper.change_balance(session, wiring.paper.account, "USDT", Decimal("100000"))
    wiring.book_changed(wiring.book(Mode.SIM))  # written behind the service's back


class MovingPrices:
    """`count` of the `listed` markets, the shown one first, trading at a new price each
    `move()`: up 0.1 %, then down 0.05 %, and so on, by a trade on the emulator's market
    (its ticker's last price moves; a set price would move only its order book)."""

    def __init__(self, control: ControlClient, wiring, listed: list[str], count: int):
        symbols = [SHOWN, *(s for s in listed if s != SHOWN)][:count]
        tickers = wiring.market_data.tickers(symbols) if symbols else {}
        self.prices = {s: t.last for s, t in tickers.items()}
        self.control = control
        self.step = 0

    def move(self) -> None:
        self.step += 1
        factor = Decimal("1.001") if self.step % 2 else Decimal("0.9995")
        for symbol, price in self.prices.items():
            self.prices[symbol] = price * factor
            self.control.trade_at(symbol.replace("/", ""), f"{self.prices[symbol]:.8f}")
