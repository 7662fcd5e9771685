"""Public market statistics: 24h ticker figures, recent public trades and klines.

Klines are a history the market's own trades extend: before the run started (the anchor)
they are synthetic, chained back from the price the run started at; from then on each
candle is made of the one-minute bars every trade and price move recorded, so a fill at a
price lies within its candle's high and low, however often the history is read."""

import bisect
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
MINUTE_MS = 60_000
BARS_KEPT = 7 * 1440  # a week of one-minute bars; older ones move the anchor forward


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
    anchor_ms: int = 0  # history before this is synthetic, closing at anchor_price
    anchor_price: Decimal = Decimal(0)
    trades: deque = field(default_factory=lambda: deque(maxlen=PUBLIC_TRADES_KEPT))
    # one-minute bars since the anchor, by open time: [open, high, low, close, volume, quote]
    bars: dict[int, list[Decimal]] = field(default_factory=dict)

    def record(self, trade: PublicTrade) -> None:
        self.trades.append(trade)
        self.last_price = trade.price
        self.high = max(self.high, trade.price)
        self.low = min(self.low, trade.price)
        self.base_volume += trade.qty
        self.quote_volume += trade.qty * trade.price
        self._into_bar(trade.time_ms, trade.price, trade.qty)

    def observe_mid(self, mid: Decimal, now_ms: int) -> None:
        """A price move without a trade widens the range, as the 24h figures do; the close
        stays the last trade's, as the ticker's last price does."""
        self.high = max(self.high, mid)
        self.low = min(self.low, mid)
        bar = self._bar(now_ms)
        bar[1], bar[2] = max(bar[1], mid), min(bar[2], mid)

    def _into_bar(self, time_ms: int, price: Decimal, qty: Decimal) -> None:
        bar = self._bar(time_ms)
        bar[1], bar[2], bar[3] = max(bar[1], price), min(bar[2], price), price
        bar[4] += qty
        bar[5] += qty * price

    def _bar(self, time_ms: int) -> list[Decimal]:
        """The minute's bar, opened at the last trade's price when it has none yet."""
        minute = max(time_ms, self.anchor_ms) // MINUTE_MS * MINUTE_MS
        bar = self.bars.get(minute)
        if bar is None:
            last = self.last_price
            bar = self.bars[minute] = [last, last, last, last, Decimal(0), Decimal(0)]
            self._keep_a_week()
        return bar

    def _keep_a_week(self) -> None:
        while len(self.bars) > BARS_KEPT:
            oldest = min(self.bars)
            self.anchor_ms, self.anchor_price = oldest + MINUTE_MS, self.bars.pop(oldest)[3]


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
        anchor_ms=now_ms,
        anchor_price=start,
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
    market: Market, seed: int, interval: str, stats: SymbolStats, now_ms: int, opens: list[int]
) -> list[list]:
    """Candles for `opens`: synthetic before the anchor candle, chained back from the anchor
    price; from it on, made of the recorded bars (a candle without any stays at the close
    before it)."""
    if not opens:
        return []
    anchor_open = candle_open(interval, stats.anchor_ms)
    rows = _synthetic(market, seed, interval, stats.anchor_price, anchor_open, opens[0])
    recorded = _from_bars(interval, stats.bars)
    keys = sorted(recorded)
    for open_ms in (o for o in opens if o >= anchor_open):
        base = rows.get(open_ms)
        if base is None:  # after the anchor candle: it opens where the one before closed
            before = bisect.bisect_left(keys, open_ms)
            close = recorded[keys[before - 1]][3] if before else stats.anchor_price
            base = (close, close, close, close, Decimal(0), Decimal(0))
        bar = recorded.get(open_ms)
        if bar is not None:
            base = (
                base[0],
                max(base[1], bar[1]),
                min(base[2], bar[2]),
                bar[3],
                base[4] + bar[4],
                base[5] + bar[5],
            )
        tick, lot = market.tick, market.lot
        rows[open_ms] = (*base[:4], base[4].quantize(lot), base[5].quantize(tick, ROUND_HALF_UP))
    return [(open_ms, next_open(interval, open_ms), rows[open_ms]) for open_ms in opens]


def _from_bars(interval: str, bars: dict[int, list[Decimal]]) -> dict[int, tuple]:
    """The recorded one-minute bars gathered into candles of `interval`."""
    candles: dict[int, tuple] = {}
    for minute in sorted(bars):
        o, h, lo, c, v, q = bars[minute]
        key = candle_open(interval, minute)
        got = candles.get(key)
        if got is None:
            candles[key] = (o, h, lo, c, v, q)
        else:
            candles[key] = (got[0], max(got[1], h), min(got[2], lo), c, got[4] + v, got[5] + q)
    return candles


def _synthetic(
    market: Market, seed: int, interval: str, close: Decimal, newest: int, oldest: int
) -> dict[int, tuple]:
    """Candles from `newest` back to `oldest`, the newest closing at `close`."""
    tick = market.tick
    key = f"{seed}:{market.symbol}:{interval}"
    rows = {}
    cursor = newest
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
    return rows
