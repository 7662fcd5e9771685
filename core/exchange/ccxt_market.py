"""Public market data through ccxt: this client never holds keys, so nothing it sends is
signed.

It asks the exchange for what is needed: one symbol's ticker by symbol, a few symbols one
by one in parallel, and every market at once only for many symbols, when that one read
weighs no more on the venue's published limits (core.exchange.venues). The markets are
read again every hour, and at once when an order was refused for a market's precision or
minimum; a reload that fails keeps the markets read before."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from core.domain import (
    BookTicker,
    Candle,
    MarketRules,
    OrderBook,
    Ticker,
)
from core.exchange.ccxt_client import Connection, Counted, make_client, translate_errors
from core.exchange.ccxt_parse import book_side, book_ticker_of, exact, rules_from_market, ticker_of
from core.exchange.gateway import (
    UnknownSymbol,
)
from core.exchange.venues import Venue, venue

log = logging.getLogger(__name__)

CANDLE_FIELDS = ("the open", "the high", "the low", "the close", "the volume")
MARKETS_MAX_AGE_S = 3600.0  # markets (precision, minimums) are read again hourly
MARKETS_RETRY_S = 60.0  # after a failed reload, the markets read before serve this long
PARALLEL_READS = 8  # reads by symbol in flight at once


class CcxtMarketData:
    """Public market data. This client never holds keys, so nothing it sends is signed.
    `clock` (seconds, monotonic) and `markets_max_age` decide when the markets are old."""

    def __init__(
        self,
        connection: Connection,
        label: str | None = None,
        *,
        markets_max_age: float = MARKETS_MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.connection = connection
        self.venue: Venue = venue(connection.exchange)
        self.client = make_client(connection)
        self.name = connection.exchange
        self.label = label or self.venue.name
        self.markets_max_age = markets_max_age
        self._clock = clock
        self._counter = Counted(self.client)
        self._markets: dict | None = None
        self._due = 0.0  # when the markets are read again
        self._markets_lock = threading.Lock()

    @property
    def api_calls(self) -> int:
        return self._counter.calls

    @translate_errors("loading markets", idempotent=True)
    def markets(self) -> dict:
        """The venue's markets (ccxt's), read again once `markets_max_age` old: one caller
        reads them while the others go on with the ones they had (before the first load
        they wait for it)."""
        current = self._markets
        if current is not None and self._clock() < self._due:
            return current
        if not self._markets_lock.acquire(blocking=current is None):
            return current  # another caller is reading them: these serve meanwhile
        try:
            if self._markets is not current:  # another caller read them while this one waited
                return self._markets
            return self._read_markets()
        finally:
            self._markets_lock.release()

    @translate_errors("loading markets", idempotent=True)
    def reload_markets(self) -> dict:
        """Read the markets now (an order was refused for a market's precision or minimum:
        they changed under the app). A reload already in flight is waited for, not
        repeated."""
        seen = self._markets
        with self._markets_lock:
            if seen is not None and self._markets is not seen:
                return self._markets
            return self._read_markets()

    def _read_markets(self) -> dict:
        """Under the markets lock: ccxt's markets read from the exchange. A failed reload
        keeps the old ones for MARKETS_RETRY_S; a failed first load raises."""
        old = self._markets
        try:
            markets = self.client.load_markets(reload=old is not None)
        except Exception as exc:
            if old is None:
                raise
            self._due = self._clock() + MARKETS_RETRY_S
            log.warning(
                "reading the markets again failed; the ones read before still serve",
                extra={"exchange": self.label, "reason": type(exc).__name__},
            )
            return old
        self._markets, self._due = markets, self._clock() + self.markets_max_age
        return markets

    def symbols(self) -> list[str]:
        return sorted(s for s, m in self.markets().items() if self.venue.lists(m))

    @translate_errors("reading the market rules")
    def market_rules(self, symbol: str) -> MarketRules:
        market = self.markets().get(symbol)
        if market is None:
            raise UnknownSymbol(f"{symbol} is not a market on {self.label}")
        return rules_from_market(market)

    @translate_errors("reading the ticker", idempotent=True)
    def ticker(self, symbol: str) -> Ticker:
        self.market_rules(symbol)
        return ticker_of(self.client.fetch_ticker(symbol))

    @translate_errors("reading tickers", idempotent=True)
    def tickers(self, symbols: list[str]) -> dict[str, Ticker]:
        """The 24 h tickers of those `symbols` the venue lists that have a last price."""
        raw = self._read(
            symbols, self.venue.tickers.ticker_path, self.client.fetch_ticker, self._every_ticker
        )
        return {
            s: ticker_of(t)
            for s, t in raw.items()
            if not isinstance(t, dict) or t.get("last") is not None
        }

    @translate_errors("reading book tickers", idempotent=True)
    def book_tickers(self, symbols: list[str]) -> dict[str, BookTicker]:
        """The best bid and ask of those `symbols` the venue lists."""
        reads = self.venue.tickers
        raw = self._read(
            symbols,
            reads.book_path,
            lambda symbol: reads.book_ticker(self.client, symbol),
            lambda: reads.every_book_ticker(self.client),
        )
        return {s: book_ticker_of(t) for s, t in raw.items()}

    def _every_ticker(self) -> dict:
        return self.client.fetch_tickers()

    def _read(
        self,
        symbols: list[str],
        path: str,
        one: Callable[[str], dict],
        every: Callable[[], dict],
    ) -> dict[str, dict]:
        """ccxt's answers for the listed `symbols`: read one by one (in parallel), or from
        one read of every market where that weighs no more (Venue.reads_by_symbol)."""
        listed = self.markets()
        wanted = sorted({s for s in symbols if s in listed})
        if not wanted:
            return {}
        if not self.venue.reads_by_symbol(path, len(wanted)):
            everything = every()
            return {s: everything[s] for s in wanted if s in everything}
        if len(wanted) == 1:
            return {wanted[0]: one(wanted[0])}
        with ThreadPoolExecutor(max_workers=min(PARALLEL_READS, len(wanted))) as pool:
            return dict(zip(wanted, pool.map(one, wanted), strict=True))

    @translate_errors("reading the order book", idempotent=True)
    def order_book(self, symbol: str, depth: int = 20) -> OrderBook:
        self.market_rules(symbol)
        raw = self.client.fetch_order_book(symbol, depth)
        return OrderBook(
            symbol=symbol,
            bids=book_side(raw["bids"], f"the bids of the {symbol} order book"),
            asks=book_side(raw["asks"], f"the asks of the {symbol} order book"),
        )

    @translate_errors("reading candles", idempotent=True)
    def candles(self, symbol: str, timeframe: str = "1m", limit: int = 120) -> list[Candle]:
        self.market_rules(symbol)
        rows = self.client.fetch_ohlcv(symbol, timeframe, limit=limit)
        of = f"of a {symbol} candle"
        return [
            Candle(
                datetime.fromtimestamp(t / 1000, UTC),
                *(exact(x, f"{name} {of}") for x, name in zip(row, CANDLE_FIELDS, strict=True)),
            )
            for t, *row in rows
        ]
