"""Which gateways, accounts and locks exist in this process: built once at start-up and
shared by the commands and read models."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from core.accounts.account import Account
from core.accounts.accounts_file import TRADED_ACCOUNT, AccountConfig, load_accounts_file
from core.config import Settings
from core.domain import MarketRules, Mode, quote_asset
from core.errors import AppError, InputError
from core.exchange.ccxt_client import Connection
from core.exchange.ccxt_gateway import CcxtTradingGateway
from core.exchange.ccxt_market import CcxtMarketData
from core.exchange.gateway import GatewayError, TradingGateway
from core.exchange.paper_gateway import PaperGateway
from core.monitoring.monitor import AccountLink, Monitor
from core.operations.alerts import IncidentAlerts, parse_alert_urls
from core.operations.caching import SharedCache
from core.operations.locks import TradeLocks
from core.operations.market_cache import CachedMarketData
from core.service.observers import Observers
from core.store.books import BookKey
from core.store.db import Database
from core.trading.executor import Executor
from core.trading.orders import FillPolicy
from core.trading.pricing import Limits

ACCOUNT = TRADED_ACCOUNT
NO_KEYS = "LIVE needs API keys: set EXCHANGE_API_KEY and EXCHANGE_API_SECRET and restart."


class StartupError(AppError):
    """The app cannot start with these settings and this exchange; the text says why."""


@dataclass(frozen=True)
class ExchangeAccess:
    """Where the exchange is and how the app may sign in; `label` is what the page calls it."""

    name: str
    url: str
    label: str
    api_key: str = ""
    api_secret: str = ""

    def __repr__(self) -> str:  # keys never reach a log line through repr
        return f"ExchangeAccess(name={self.name!r}, url={self.url!r}, label={self.label!r})"

    @property
    def has_keys(self) -> bool:
        return bool(self.api_key and self.api_secret)


class Wiring:
    """The traded account (ACCOUNT) in both books, the monitored accounts, the market data
    cache and the trade locks."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        access: ExchangeAccess,
        locks: TradeLocks,
        cache: SharedCache,
    ):
        self.settings = settings
        self.db = db
        self.access = access
        self.locks = locks
        self.cache = cache
        self.symbols = settings.symbols
        self.quote = quote_asset(self.symbols[0])
        self.market_data = CcxtMarketData(self.connection(access.name, access.url), access.label)
        self.prices = CachedMarketData(self.market_data, self.symbols, cache)
        self.limits = Limits(settings.MAX_ORDER_NOTIONAL, settings.MAX_SLIPPAGE)
        self.monitor = Monitor(
            db, timedelta(seconds=settings.STALE_PRICE_SECONDS), settings.REQUIRE_STOP_LOSS_PCT
        )
        self.paper = PaperGateway(
            self.market_data, db, ACCOUNT, settings.SIM_STARTING_BALANCE, self.quote
        )
        self._live: CcxtTradingGateway | None = None
        self._links: list[AccountLink] | None = None
        self._accounts: dict[tuple[str, Mode], Account] = {}
        urls = parse_alert_urls(settings.ALERT_URLS.get_secret_value())
        self.alerts = IncidentAlerts(urls, db, timeout_seconds=settings.ALERT_TIMEOUT_SECONDS)
        self.observers = Observers(
            self.alerts, settings.ALERT_UNREACHABLE_SECONDS, db, self.rules_if_listed
        )

    def close(self) -> None:
        """Deliver the alerts still queued, then stop their sender."""
        self.alerts.close()

    @property
    def exchange_label(self) -> str:
        return self.access.label

    def rules_if_listed(self, symbol: str) -> MarketRules | None:
        """The traded exchange's rules of a market, or None when it cannot say (unlisted,
        or the exchange unreachable): words then show amounts as they are."""
        try:
            return self.market_data.market_rules(symbol)
        except GatewayError:
            return None

    def connection(self, exchange: str, url: str) -> Connection:
        return Connection(
            exchange, url, self.settings.EXCHANGE_TIMEOUT_MS, self.settings.RECV_WINDOW_MS
        )

    def book(self, mode: Mode) -> BookKey:
        return BookKey(mode.value, ACCOUNT)

    @staticmethod
    def view_key(book: BookKey) -> str:
        """Where the page's view of a book is kept for a moment (core.operations.caching)."""
        return f"dashboard:{book.mode}:{book.account}"

    def book_changed(self, book: BookKey) -> None:
        """A write to the book: every page reads it afresh on its next refresh."""
        self.cache.forget(self.view_key(book))
        self.cache.forget(f"{self.view_key(book)}:version")

    def gateway(self, mode: Mode) -> TradingGateway:
        return self.paper if mode is Mode.SIM else self.live_gateway()

    def live_gateway(self) -> CcxtTradingGateway:
        if self._live is None:
            if not self.access.has_keys:
                raise GatewayError(NO_KEYS)
            self._live = CcxtTradingGateway(
                self.market_data, self.access.api_key, self.access.api_secret
            )
        return self._live

    def account(self, name: str, mode: Mode) -> Account:
        """The traded account (ACCOUNT) in `mode`'s book, or a monitored account of
        ACCOUNTS_FILE (always LIVE: `mode` does not apply to it). InputError for a name that
        is neither."""
        if name != ACCOUNT:
            mode = Mode.LIVE
        key = (name, mode)
        if key not in self._accounts:
            if name == ACCOUNT:
                gateway, quote = self.gateway(mode), self.quote
            else:
                link = self.link(name)
                gateway, quote = link.gateway, link.quote
            book = BookKey(mode.value, name)
            policy = FillPolicy(receive_window=self.settings.RECV_WINDOW_MS / 1000 + 0.5)
            executor = Executor(gateway, self.db, book, self.limits, policy)
            self._accounts[key] = Account(name, mode, gateway, executor, quote, name == ACCOUNT)
        return self._accounts[key]

    def listed(self, extra: list[str]) -> list[str]:
        """The configured symbols, and those of `extra` the exchange lists."""
        try:
            markets = self.market_data.markets()
        except GatewayError:
            return self.symbols
        return list(dict.fromkeys([*self.symbols, *(s for s in extra if s in markets)]))

    def check_symbols(self) -> str | None:
        """Refuse to start with a symbol the exchange does not list. When the exchange cannot
        be reached the check waits for it; the returned warning says so."""
        try:
            listed = set(self.market_data.symbols())
        except GatewayError as exc:
            return f"could not check SYMBOLS against {self.exchange_label}: {exc}"
        unknown = [s for s in self.symbols if s not in listed]
        if unknown:
            raise StartupError(
                f"Setting SYMBOLS names {', '.join(unknown)}, not listed on {self.exchange_label}"
            )
        return None

    # --- the monitored accounts ----------------------------------------------------------

    def traded_link(self) -> AccountLink:
        return AccountLink(ACCOUNT, self.live_gateway(), Mode.LIVE.value, self.quote)

    def account_names(self) -> list[str]:
        """The traded account and every monitored one, each once."""
        names = [ACCOUNT, *(a.name for a in self.account_configs())]
        return list(dict.fromkeys(names))

    def link(self, name: str) -> AccountLink:
        """The named account's link: the traded one, or one of ACCOUNTS_FILE's."""
        if name == ACCOUNT:
            return self.traded_link()
        for link in self.monitor_links():
            if link.name == name:
                return link
        known = ", ".join(self.account_names())
        raise InputError(f"unknown account {name!r} (accounts: {known})")

    def monitor_links(self) -> list[AccountLink]:
        if self._links is None:
            self._links = self._build_links()
        return self._links

    @functools.cache  # noqa: B019 - one wiring per process; the file is read like any setting
    def account_configs(self) -> list[AccountConfig]:
        """The accounts of ACCOUNTS_FILE, read once (not on every dashboard refresh)."""
        if not self.settings.ACCOUNTS_FILE:
            return []
        return load_accounts_file(Path(self.settings.ACCOUNTS_FILE))

    def _build_links(self) -> list[AccountLink]:
        if not self.settings.ACCOUNTS_FILE:
            return [self.traded_link()]
        links = []
        for account in self.account_configs():
            market = CcxtMarketData(
                self.connection(account.exchange, account.url),
                label=f"{account.exchange.upper()} {account.name}",
            )
            gateway = CcxtTradingGateway(market, account.api_key, account.api_secret)
            links.append(AccountLink(account.name, gateway, Mode.LIVE.value, account.quote))
        return links
