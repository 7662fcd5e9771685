"""The one protocol every exchange gateway speaks, and the errors it raises.

`MarketData` is public: prices, books, candles, market rules. `TradingGateway` adds the
account: balances and orders. `DerivativesGateway` adds a derivatives account's positions
and the stops the exchange keeps for them. SIM is a different TradingGateway (paper) over
the same public MarketData, never a flag inside one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from core.domain import (
    AccountSnapshot,
    Balance,
    BookTicker,
    Candle,
    CashTransfer,
    ExchangePosition,
    ExchangeStop,
    Fill,
    MarketRules,
    OrderBook,
    OrderReport,
    Side,
    Ticker,
)
from core.errors import AppError


class GatewayError(AppError):
    """An exchange call failed; the message is safe to show (no keys, no signatures)."""


class ExchangeUnavailable(GatewayError):
    """The exchange did not answer, or answered that it is down or busy."""


class RateLimited(ExchangeUnavailable):
    """The exchange refused a call as too frequent; `retry_after` is the wait it asked for
    (seconds)."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class FillsIncomplete(GatewayError):
    """An order's fills, read to the last page, add up to less than it says it filled (the
    exchange lists them a moment late): read again before recording any."""


class OutcomeUnknown(GatewayError):
    """An order was sent and no answer says whether the exchange took it."""


class Unreadable(GatewayError):
    """The exchange answered, but with something the app cannot read (not JSON, a number
    that is NaN, infinite, negative or not a number, an unknown order status). Nothing
    from that answer is used or stored."""


class AuthenticationFailed(GatewayError):
    pass


class OrderRejected(GatewayError):
    pass


class UnknownSymbol(GatewayError):
    pass


@dataclass(frozen=True)
class OrderTraces:
    """What an account shows of a symbol's orders since a time: the client and exchange ids
    of its open orders, and the exchange ids of the orders that filled since then."""

    open_client_ids: frozenset[str]
    open_order_ids: frozenset[str]
    filled_order_ids: frozenset[str]


class MarketData(Protocol):
    name: str
    label: str

    def symbols(self) -> list[str]: ...
    def market_rules(self, symbol: str) -> MarketRules: ...
    def ticker(self, symbol: str) -> Ticker: ...
    def tickers(self, symbols: list[str]) -> dict[str, Ticker]: ...
    def book_tickers(self, symbols: list[str]) -> dict[str, BookTicker]: ...
    def order_book(self, symbol: str, depth: int = 20) -> OrderBook: ...
    def candles(self, symbol: str, timeframe: str = "1m", limit: int = 120) -> list[Candle]: ...


class TradingGateway(Protocol):
    market: MarketData
    api_calls: int

    def balances(self) -> dict[str, Balance]: ...
    def cancel_open_orders(self, symbol: str) -> int: ...
    def place_limit_order(
        self,
        symbol: str,
        side: Side,
        amount: Decimal,
        price: Decimal,
        client_order_id: str,
        rest: bool = False,
    ) -> OrderReport:
        """A LIMIT order; what does not fill at once rests until cancelled (`rest` asks a
        gateway whose orders do not rest by themselves, the paper one, to keep it)."""
        ...

    def order_by_client_id(self, symbol: str, client_order_id: str) -> OrderReport | None: ...
    def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport | None: ...
    def open_orders(self, symbol: str | None = None) -> list[OrderReport]:
        """The account's plain open orders (of one symbol, or all), whoever placed them: an
        order the app did not place has its exchange's client id, or none ("")."""
        ...

    def cancel_outside_order(self, symbol: str, exchange_order_id: str) -> None:
        """Cancel an order the app did not place, by the exchange's id; one already gone is
        no error."""
        ...

    def order_fills(self, report: OrderReport) -> list[Fill]: ...
    def traces(self, symbol: str, since: datetime) -> OrderTraces: ...
    def snapshot(
        self, account: str, symbols: Iterable[str] = (), quote: str | None = None
    ) -> AccountSnapshot: ...
    def cash_transfers(self, asset: str, since: datetime) -> tuple[CashTransfer, ...] | None:
        """The account's deposits and withdrawals of `asset` from `since` on, whatever their
        status; None when the exchange does not report them to the app."""
        ...


class DerivativesGateway(TradingGateway, Protocol):
    """A derivatives account: orders that only reduce, the position, and exchange-side stops."""

    def place_limit_order(
        self,
        symbol: str,
        side: Side,
        amount: Decimal,
        price: Decimal,
        client_order_id: str,
        rest: bool = False,
        reduce_only: bool = False,
    ) -> OrderReport: ...
    def position(self, symbol: str, account: str) -> ExchangePosition: ...
    def place_stops(
        self,
        symbol: str,
        position_qty: Decimal,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
        account: str,
    ) -> tuple[ExchangeStop, ...]: ...
    def replace_stops(
        self,
        symbol: str,
        position_qty: Decimal,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
        account: str,
    ) -> tuple[ExchangeStop, ...]: ...
    def cancel_stops(self, symbol: str, only: Iterable[ExchangeStop] | None = None) -> int: ...
    def stops(self, account: str, symbol: str | None = None) -> tuple[ExchangeStop, ...]: ...
