"""Market data shared by every reader: one exchange fetch per time-to-live, however many
browser tabs, threads, workers or hosts ask at once (core.operations.caching: single flight per key).
A failure is cached too, briefly, so a down exchange is not hammered by every refresh."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from core.domain import Candle, OrderBook, Ticker
from core.exchange.gateway import ExchangeUnavailable, GatewayError, MarketData
from core.operations.caching import SharedCache

T = TypeVar("T")


class Failure:
    """A fetch that failed, kept like a value so every reader gets the same error."""

    def __init__(self, message: str, unavailable: bool):
        self.message = message
        self.unavailable = unavailable

    def error(self) -> GatewayError:
        kind = ExchangeUnavailable if self.unavailable else GatewayError
        return kind(self.message)


class CachedMarketData:
    def __init__(
        self,
        market: MarketData,
        symbols: list[str],
        cache: SharedCache,
        ticker_ttl: int = 2,
        candle_ttl: int = 10,
        markets_ttl: int = 300,
    ):
        self.market = market
        self.symbols = symbols
        self.cache = cache
        self.ticker_ttl = ticker_ttl
        self.candle_ttl = candle_ttl
        self.markets_ttl = markets_ttl
        self.prefix = f"market:{market.name}:{market.connection.url}:"

    def tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        """Tickers of `symbols` (the configured ones by default), fetched together in one
        call and shared by everyone asking for the same set."""
        wanted = sorted(set(symbols or self.symbols))
        return self._get(
            self._tickers_key(wanted), self.ticker_ttl, lambda: self.market.tickers(wanted)
        )

    def cached_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker] | None:
        """The tickers if a reader fetched them within the time-to-live, else None: no call."""
        value = self.cache.peek(self._tickers_key(sorted(set(symbols or self.symbols))))
        return None if value is None or isinstance(value, Failure) else value

    def ticker(self, symbol: str) -> Ticker | None:
        """A configured symbol's ticker comes with the others; any other market's alone."""
        return self.tickers(None if symbol in self.symbols else [symbol]).get(symbol)

    def listed_symbols(self) -> list[str]:
        """Every market the exchange lists, read once per `markets_ttl` for everyone."""
        return self._get(f"{self.prefix}symbols", self.markets_ttl, self.market.symbols)

    def order_book(self, symbol: str, depth: int) -> OrderBook:
        """The symbol's book, shared like the tickers: a ticket previewing as the trader
        types asks the exchange at most once per time-to-live."""
        key = f"{self.prefix}book:{symbol}:{depth}"
        return self._get(key, self.ticker_ttl, lambda: self.market.order_book(symbol, depth))

    def candles(self, symbol: str, timeframe: str, limit: int) -> list[Candle]:
        key = f"{self.prefix}candles:{symbol}:{timeframe}:{limit}"
        return self._get(
            key, self.candle_ttl, lambda: self.market.candles(symbol, timeframe, limit)
        )

    def _tickers_key(self, symbols: list[str]) -> str:
        return f"{self.prefix}tickers:{','.join(symbols)}"

    def _get(self, key: str, ttl: int, load: Callable[[], T]) -> T:
        value = self.cache.get_or_load(key, ttl, lambda: self._load(load))
        if isinstance(value, Failure):
            raise value.error()
        return value

    @staticmethod
    def _load(load: Callable[[], T]) -> T | Failure:
        try:
            return load()
        except GatewayError as exc:
            return Failure(str(exc), isinstance(exc, ExchangeUnavailable))
        except OSError as exc:
            return Failure(f"exchange unreachable ({type(exc).__name__})", True)
