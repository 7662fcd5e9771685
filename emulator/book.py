"""Synthetic order book liquidity around a mid price.

Levels have finite size, so large orders walk the book and may fill only partly. A fill
consumes level size; the book is rebuilt (replenished) only when the mid price moves.
"""

import hashlib
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from emulator.markets import Market
from emulator.numbers import truncate

LEVELS_PER_SIDE = 100
LEVEL_NOTIONAL = Decimal(2500)  # quote value of the first level, before the size noise
HALF_SPREAD = Decimal("0.0001")
LEVEL_SPACING = Decimal("0.0002")


@dataclass(eq=False)  # levels are compared by identity when consumed
class Level:
    price: Decimal
    qty: Decimal


def _noise(key: str) -> int:
    """A deterministic pseudo-random integer in [50, 150] for a level's size."""
    digest = hashlib.blake2b(key.encode(), digest_size=4).digest()
    return 50 + int.from_bytes(digest) % 101


class SyntheticBook:
    def __init__(self, market: Market, mid: Decimal, seed: int, version: int):
        self.market = market
        self.mid = mid
        self.version = version
        tick = market.tick
        half_spread = max(tick, (mid * HALF_SPREAD).quantize(tick, rounding=ROUND_CEILING))
        spacing = max(tick, (mid * LEVEL_SPACING).quantize(tick, rounding=ROUND_FLOOR))
        best_bid = (mid - half_spread).quantize(tick, rounding=ROUND_FLOOR)
        best_ask = (mid + half_spread).quantize(tick, rounding=ROUND_CEILING)
        key = f"{seed}:{market.symbol}:{version}"
        self.bids = self._side(best_bid, -spacing, f"{key}:bid")
        self.asks = self._side(best_ask, spacing, f"{key}:ask")

    def _side(self, first_price: Decimal, spacing: Decimal, key: str) -> list[Level]:
        levels = []
        minimum = max(self.market.min_qty, self.market.lot)
        for index in range(LEVELS_PER_SIDE):
            price = first_price + spacing * index
            if price <= 0:
                break
            notional = LEVEL_NOTIONAL * (10 + index) / 10 * _noise(f"{key}:{index}") / 100
            qty = max(minimum, truncate(notional / price, self.market.base_decimals))
            levels.append(Level(price, qty))
        return levels

    def opposite(self, side: str) -> list[Level]:
        """The levels an order of `side` trades against: asks for BUY, bids for SELL."""
        return self.asks if side == "BUY" else self.bids

    def crossing(self, side: str, limit: Decimal | None) -> list[Level]:
        """Opposite levels at or better than `limit` (all of them for no limit), best first."""
        levels = self.opposite(side)
        if limit is None:
            return list(levels)
        if side == "BUY":
            return [level for level in levels if level.price <= limit]
        return [level for level in levels if level.price >= limit]

    def consume(self, level: Level, qty: Decimal) -> None:
        level.qty -= qty
        if level.qty <= 0:
            for levels in (self.bids, self.asks):
                if level in levels:
                    levels.remove(level)
