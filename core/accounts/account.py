"""One exchange account as every action sees it: the traded account (in its SIM or LIVE
book) and each monitored account of ACCOUNTS_FILE are the same kind of object, so stops,
flatten, protect, the watcher and the command line resolve what they act on here and
never ask which account it is."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain import Mode
from core.exchange.gateway import TradingGateway
from core.monitoring.monitor import AccountLink
from core.store.books import BookKey
from core.trading.executor import Executor


@dataclass(frozen=True)
class Account:
    """An account in one book: its gateway and executor, where its stops live, and whether
    its book follows the dashboard's mode switch (the traded account) or is always LIVE (a
    monitored account)."""

    name: str
    mode: Mode
    gateway: TradingGateway
    executor: Executor
    quote: str
    follows_switch: bool

    @property
    def book(self) -> BookKey:
        return BookKey(self.mode.value, self.name)

    @property
    def stops_on_exchange(self) -> bool:
        """Derivatives venues keep stops themselves; on spot the app watches them."""
        return self.gateway.market.venue.is_derivatives

    @property
    def is_derivatives(self) -> bool:
        return self.gateway.market.venue.is_derivatives

    @property
    def asks_before_acting(self) -> bool:
        """Real money: the command line asks before it trades or flattens (or takes --yes)."""
        return self.mode is Mode.LIVE

    @property
    def where(self) -> str:
        """How a message names it: `account default (LIVE)`."""
        return f"account {self.name} ({self.mode.value.upper()})"

    def link(self) -> AccountLink:
        """The account as the position monitor reads it."""
        return AccountLink(self.name, self.gateway, self.mode.value, self.quote)
