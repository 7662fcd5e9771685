"""Prices, synthetic books and 24h statistics that move together. The spot and perpetual
engines both stand on this; each matches its own resting orders when the market moves."""

from abc import ABC, abstractmethod
from collections.abc import Callable
from decimal import Decimal

from emulator.book import SyntheticBook
from emulator.market_data import SymbolStats, hashed_int, seeded_stats
from emulator.numbers import truncate
from emulator.orders import PublicTrade
from emulator.prices import PriceWalk


class MarketMotion(ABC):
    markets: dict
    seed: int
    clock: Callable[[], int]
    book_update_id: int
    _open: dict  # resting orders by id, in time priority

    def _start_markets(self, prices: dict[str, Decimal] | None = None) -> None:
        """Start prices (or `prices`, resumed), fresh books and seeded statistics; nothing
        stalled."""
        now = self.clock()
        mids = {symbol: market.start_price for symbol, market in self.markets.items()}
        mids.update(prices or {})
        self.walk = PriceWalk(self.markets, self.seed, mids)
        self._books: dict[str, SyntheticBook] = {}
        self.stats: dict[str, SymbolStats] = {
            symbol: seeded_stats(market, self.seed, now, mids[symbol])
            for symbol, market in self.markets.items()
        }
        self.stall_fills = False

    def mid(self, symbol: str) -> Decimal:
        return self.walk.mids[symbol]

    def book(self, symbol: str) -> SyntheticBook:
        """The symbol's book, rebuilt with fresh liquidity if the mid moved since it was built."""
        version = self.walk.versions[symbol]
        book = self._books.get(symbol)
        if book is None or book.version != version:
            book = SyntheticBook(self.markets[symbol], self.mid(symbol), self.seed, version)
            self._books[symbol] = book
            self.book_update_id += 1
        return book

    def tick(self) -> None:
        """One random-walk step for every market; resting orders the move crosses fill."""
        now = self.clock()
        for symbol in self.walk.step():
            mid = self.mid(symbol)
            market = self.markets[symbol]
            notional = Decimal(20 + hashed_int(f"{self.seed}:{symbol}:{now}", 3000))
            qty = max(market.lot, truncate(notional / mid, market.base_decimals))
            self.stats[symbol].record(PublicTrade(mid, qty, now, now % 2 == 0))
            self._match_resting(symbol)

    def move_price(self, symbol: str, price: Decimal) -> None:
        self.walk.move_to(symbol, price)
        self.stats[symbol].observe_mid(self.mid(symbol), self.clock())
        self._match_resting(symbol)

    def trade_at(self, symbol: str, price: Decimal) -> None:
        """The market trades at `price`: the mid moves there and a public trade of one lot
        prints, so the ticker's last price moves too (a move alone keeps the last trade's)."""
        self.move_price(symbol, price)
        now = self.clock()
        lot = self.markets[symbol].lot
        self.stats[symbol].record(PublicTrade(self.mid(symbol), lot, now, now % 2 == 0))

    def set_stall_fills(self, stalled: bool) -> None:
        """Stalled, orders rest unmatched; un-stalling runs a match pass at once."""
        self.stall_fills = stalled
        if not stalled:
            for symbol in sorted({order.symbol for order in self._open.values()}):
                self._match_resting(symbol)

    def _match_resting(self, symbol: str) -> None:
        """Fill the resting orders of `symbol` that the current book crosses (after what
        each engine does first when its market moves), in time priority, as the maker."""
        self._before_matching(symbol)
        if self.stall_fills:
            return
        book = self.book(symbol)
        for order in [o for o in self._open.values() if o.symbol == symbol]:
            if order.awaiting_first_match:
                self._run_as_taker(order, book)
                continue
            levels = book.crossing(order.side, order.price)
            if not levels:
                continue
            self._take(order, book, levels, maker_price=order.price)
            if order.is_open and order.remaining_qty <= 0:
                self._finish(order, "FILLED")
            elif order.is_open and order.executed_qty > 0:
                order.status = "PARTIALLY_FILLED"

    def _before_matching(self, symbol: str) -> None:  # noqa: B027 - most engines need none
        """What an engine does first when its market moves (the perpetuals fire stops)."""

    @abstractmethod
    def _run_as_taker(self, order, book: SyntheticBook) -> None: ...

    @abstractmethod
    def _take(self, order, book: SyntheticBook, levels: list, maker_price: Decimal | None): ...

    @abstractmethod
    def _finish(self, order, status: str) -> None: ...
