"""Public market statistics: 24h ticker figures, recent public trades and synthetic klines."""

import hashlib
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from emulator.markets import Market
from emulator.numbers import truncate
from emulator.orders import PublicTrade

PUBLIC_TRADES_KEPT = 1000
SEEDED_TRADES = 30
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
MONDAY_OFFSET_MS = 4 * DAY_MS  # 1970-01-01 was a Thursday

FIXED_INTERVALS_MS = {
    "1m": 60_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "60m": 3_600_000,
    "4h": 14_400_000,
    "1d": DAY_MS,
}
INTERVALS = (*FIXED_INTERVALS_MS, "1W", "1M")
HISTORY_CANDLES = 2000  # how far back klines reach, in candles of the asked interval
APPROX_INTERVAL_MS = {**FIXED_INTERVALS_MS, "1W": WEEK_MS, "1M": 31 * DAY_MS}


def hashed_int(key: str, modulo: int) -> int:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest) % modulo


@dataclass
class SymbolStats:
    """What /ticker/24hr reports for one market, kept up to date by the engine."""

    open_price: Decimal
    high: Decimal
    low: Decimal
    last_price: Decimal
    base_volume: Decimal
    quote_volume: Decimal
    trades: deque = field(default_factory=lambda: deque(maxlen=PUBLIC_TRADES_KEPT))

    def record(self, trade: PublicTrade) -> None:
        self.trades.append(trade)
        self.last_price = trade.price
        self.high = max(self.high, trade.price)
        self.low = min(self.low, trade.price)
        self.base_volume += trade.qty
        self.quote_volume += trade.qty * trade.price

    def observe_mid(self, mid: Decimal) -> None:
        self.high = max(self.high, mid)
        self.low = min(self.low, mid)


def seeded_stats(market: Market, seed: int, now_ms: int, start: Decimal) -> SymbolStats:
    """Start-of-run figures around the price `start`: a 24h open within +-5%, some volume, a
    few recent trades."""
    key = f"{seed}:{market.symbol}"
    tick = market.tick
    open_price = (start * (10000 + hashed_int(key + ":open", 1001) - 500) / 10000).quantize(tick)
    open_price = max(open_price, tick)
    stats = SymbolStats(
        open_price=open_price,
        high=max(open_price, start) * Decimal("1.012"),
        low=min(open_price, start) * Decimal("0.988"),
        last_price=start,
        base_volume=Decimal(0),
        quote_volume=Decimal(0),
    )
    stats.high = stats.high.quantize(tick)
    stats.low = max(tick, stats.low.quantize(tick))
    daily_notional = Decimal(1_000_000 + hashed_int(key + ":volume", 50_000_000))
    stats.base_volume = truncate(daily_notional / start, market.base_decimals)
    stats.quote_volume = (stats.base_volume * start).quantize(tick)
    for index in range(SEEDED_TRADES):
        offset_ticks = hashed_int(f"{key}:trade:{index}", 11) - 5
        notional = Decimal(20 + hashed_int(f"{key}:size:{index}", 2000))
        price = max(tick, start + tick * offset_ticks)
        qty = max(market.lot, truncate(notional / price, market.base_decimals))
        time_ms = now_ms - (SEEDED_TRADES - index) * 2000
        stats.trades.append(PublicTrade(price, qty, time_ms, offset_ticks < 0))
    return stats


def candle_open(interval: str, time_ms: int) -> int:
    if interval in FIXED_INTERVALS_MS:
        size = FIXED_INTERVALS_MS[interval]
        return time_ms - time_ms % size
    if interval == "1W":
        return (time_ms - MONDAY_OFFSET_MS) // WEEK_MS * WEEK_MS + MONDAY_OFFSET_MS
    moment = datetime.fromtimestamp(time_ms / 1000, UTC)
    return int(datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp() * 1000)


def next_open(interval: str, open_ms: int) -> int:
    if interval in FIXED_INTERVALS_MS:
        return open_ms + FIXED_INTERVALS_MS[interval]
    if interval == "1W":
        return open_ms + WEEK_MS
    moment = datetime.fromtimestamp(open_ms / 1000, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)


def previous_open(interval: str, open_ms: int) -> int:
    return candle_open(interval, open_ms - 1)


def candle_opens(
    interval: str, now_ms: int, start_ms: int | None, end_ms: int | None, limit: int
) -> list[int]:
    """Open times of the candles to return, oldest first: [start, end) capped at `limit`.

    Only the last HISTORY_CANDLES candles exist, which bounds the work of any request.
    """
    newest = candle_open(interval, now_ms)
    floor = candle_open(interval, max(0, now_ms - HISTORY_CANDLES * APPROX_INTERVAL_MS[interval]))
    if end_ms is not None:
        newest = min(newest, candle_open(interval, max(0, end_ms - 1)))
    if newest < floor:
        return []
    if start_ms is not None:
        start_ms = max(start_ms, floor)
        opens = []
        current = candle_open(interval, start_ms)
        if current < start_ms:
            current = next_open(interval, current)
        while current <= newest and len(opens) < limit:
            opens.append(current)
            current = next_open(interval, current)
        return opens
    opens = [newest]
    while len(opens) < limit and opens[-1] > floor:
        opens.append(previous_open(interval, opens[-1]))
    return opens[::-1]


def klines(
    market: Market, seed: int, interval: str, last_price: Decimal, now_ms: int, opens: list[int]
) -> list[list]:
    """Candles for `opens`, chained backwards from the current price so the newest closes at it."""
    if not opens:
        return []
    tick = market.tick
    current_open = candle_open(interval, now_ms)
    key = f"{seed}:{market.symbol}:{interval}"
    rows = {}
    close = last_price
    cursor = current_open
    oldest = opens[0]
    while cursor >= oldest:
        move_bp = hashed_int(f"{key}:{cursor}:move", 121) - 60
        open_price = max(tick, (close * (10000 - move_bp) / 10000).quantize(tick, ROUND_HALF_UP))
        wick_high = 1 + Decimal(hashed_int(f"{key}:{cursor}:high", 40)) / 10000
        wick_low = 1 - Decimal(hashed_int(f"{key}:{cursor}:low", 40)) / 10000
        high = (max(open_price, close) * wick_high).quantize(tick, ROUND_HALF_UP)
        low = max(tick, (min(open_price, close) * wick_low).quantize(tick, ROUND_HALF_UP))
        notional = Decimal(10_000 + hashed_int(f"{key}:{cursor}:volume", 1_000_000))
        volume = truncate(notional / close, market.base_decimals)
        quote_volume = (volume * (open_price + close) / 2).quantize(tick, ROUND_HALF_UP)
        rows[cursor] = (open_price, high, low, close, volume, quote_volume)
        close = open_price
        cursor = previous_open(interval, cursor)
    return [(open_ms, next_open(interval, open_ms), rows[open_ms]) for open_ms in opens]
