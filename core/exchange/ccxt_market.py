"""Public market data through ccxt: this client never holds keys, so nothing it sends is
signed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from core.domain import (
    Candle,
    MarketRules,
    OrderBook,
    Ticker,
)
from core.exchange.ccxt_client import Connection, Counted, make_client, translate_errors
from core.exchange.ccxt_parse import book_side, exact, rules_from_market, ticker_of
from core.exchange.gateway import (
    UnknownSymbol,
)
from core.exchange.venues import Venue, venue

CANDLE_FIELDS = ("the open", "the high", "the low", "the close", "the volume")


class CcxtMarketData:
    """Public market data. This client never holds keys, so nothing it sends is signed."""

    def __init__(self, connection: Connection, label: str | None = None):
        self.connection = connection
        self.venue: Venue = venue(connection.exchange)
        self.client = make_client(connection)
        self.name = connection.exchange
        self.label = label or self.venue.name
        self._counter = Counted(self.client)
        self._markets_lock = threading.Lock()

    @property
    def api_calls(self) -> int:
        return self._counter.calls

    @translate_errors("loading markets", idempotent=True)
    def markets(self) -> dict:
        with self._markets_lock:
            return self.client.load_markets()

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
        if not symbols:
            return {}
        raw = self.client.fetch_tickers(symbols if len(symbols) > 1 else None)
        return {s: ticker_of(raw[s]) for s in symbols if s in raw}

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
