"""Market data shared by every reader: one exchange fetch per time-to-live, however many
browser tabs or workers' threads ask at once (single flight per key). A failure is cached
too, briefly, so a down exchange is not hammered by every refresh."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from cachelib import SimpleCache

from core.domain import Candle, Ticker
from core.exchange.gateway import ExchangeUnavailable, GatewayError, MarketData

T = TypeVar("T")


class _Failure:
    def __init__(self, error: GatewayError):
        self.error = error


class CachedMarketData:
    def __init__(
        self,
        market: MarketData,
        symbols: list[str],
        ticker_ttl: int = 2,
        candle_ttl: int = 10,
    ):
        self.market = market
        self.symbols = symbols
        self.ticker_ttl = ticker_ttl
        self.candle_ttl = candle_ttl
        self._cache = SimpleCache(threshold=1000)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        """Tickers of `symbols` (the configured ones by default), fetched together in one
        call and shared by everyone asking for the same set."""
        wanted = sorted(set(symbols or self.symbols))
        return self._get(
            f"tickers:{','.join(wanted)}", self.ticker_ttl, lambda: self.market.tickers(wanted)
        )

    def cached_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker] | None:
        """The tickers if a reader fetched them within the time-to-live, else None: no call."""
        wanted = sorted(set(symbols or self.symbols))
        value = self._cache.get(f"tickers:{','.join(wanted)}")
        return None if value is None or isinstance(value, _Failure) else value

    def ticker(self, symbol: str) -> Ticker | None:
        return self.tickers().get(symbol)

    def candles(self, symbol: str, timeframe: str, limit: int) -> list[Candle]:
        key = f"candles:{symbol}:{timeframe}:{limit}"
        return self._get(
            key, self.candle_ttl, lambda: self.market.candles(symbol, timeframe, limit)
        )

    def _get(self, key: str, ttl: int, load: Callable[[], T]) -> T:
        value = self._cache.get(key)
        if value is None:
            with self._lock_for(key):
                value = self._cache.get(key)
                if value is None:
                    value = self._load(load)
                    self._cache.set(key, value, timeout=ttl)
        if isinstance(value, _Failure):
            raise value.error
        return value

    @staticmethod
    def _load(load: Callable[[], T]) -> T | _Failure:
        try:
            return load()
        except GatewayError as exc:
            return _Failure(exc)
        except OSError as exc:
            return _Failure(ExchangeUnavailable(f"exchange unreachable ({type(exc).__name__})"))

    def _lock_for(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())
