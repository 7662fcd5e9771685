"""Mid prices per market: a seeded random walk, plus explicit moves from the control API."""

import random
from decimal import ROUND_HALF_UP, Decimal

from emulator.markets import Market

# Each tick moves a mid by up to this many basis points either way.
MAX_STEP_BP = 15


class PriceWalk:
    def __init__(self, markets: dict[str, Market], seed: int, mids: dict[str, Decimal]):
        self._markets = markets
        self._rng = random.Random(seed)
        self.mids = dict(mids)
        # Bumped on every move; books regenerate (replenish) when their version is stale.
        self.versions = dict.fromkeys(markets, 0)

    def step(self) -> list[str]:
        """Move every market one random step; returns the symbols whose mid changed."""
        moved = []
        for symbol in sorted(self.mids):
            basis_points = self._rng.randint(-MAX_STEP_BP, MAX_STEP_BP)
            if basis_points == 0:
                continue
            mid = self.mids[symbol]
            new_mid = self._on_tick(symbol, mid * (10000 + basis_points) / 10000)
            if new_mid != mid:
                self.mids[symbol] = new_mid
                self.versions[symbol] += 1
                moved.append(symbol)
        return moved

    def move_to(self, symbol: str, price: Decimal) -> None:
        self.mids[symbol] = self._on_tick(symbol, price)
        self.versions[symbol] += 1

    def _on_tick(self, symbol: str, price: Decimal) -> Decimal:
        tick = self._markets[symbol].tick
        return max(tick, price.quantize(tick, rounding=ROUND_HALF_UP))
