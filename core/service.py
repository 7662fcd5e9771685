"""The facade the dashboard and the command line call. It composes the engine for the
current mode and assembles read models from the database and cached market data only."""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select

from core.accounts import AccountConfig, AccountsError, load_accounts_file
from core.config import Settings
from core.domain import (
    ZERO,
    Balance,
    Candle,
    Holdings,
    Mode,
    Policy,
    PositionState,
    TradeResult,
    TradeSize,
    base_asset,
    quote_asset,
)
from core.exchange.ccxt_gateway import CcxtMarketData, CcxtTradingGateway, Connection
from core.exchange.gateway import GatewayError, TradingGateway
from core.exchange.paper_gateway import PaperGateway
from core.executor import Executor, FillPolicy
from core.locks import TradeLocks
from core.market_cache import CachedMarketData
from core.monitor import AccountCheck, AccountLink, Monitor
from core.planner import Limits
from core.state import derive_state, shown_state, state_label
from core.store import repository as repo
from core.store.db import Database
from core.store.models import SyncRun, utcnow
from core.views import (
    Badge,
    DashboardView,
    FillView,
    MarketView,
    ModeChange,
    MonitorRunView,
    OrderView,
    PnlView,
    PositionView,
    SyncRunView,
)

ACCOUNT = "default"
MODE_KEY = "mode"
HISTORY_ROWS = 50


class InputError(ValueError):
    """Input from a person that the app will not act on; the text says what to fix."""


class StartupError(RuntimeError):
    pass


@dataclass(frozen=True)
class ExchangeAccess:
    """Where the exchange is and how the app may sign in; `label` is what the page calls it."""

    name: str
    url: str
    label: str
    api_key: str = ""
    api_secret: str = ""


class TradingService:
    def __init__(self, settings: Settings, db: Database, access: ExchangeAccess, locks: TradeLocks):
        self.settings = settings
        self.db = db
        self.access = access
        self.symbols = settings.symbols
        self.market_data = CcxtMarketData(
            self._connection(access.name, access.url), label=access.label
        )
        self.prices = CachedMarketData(self.market_data, self.symbols)
        self.limits = Limits(
            max_order_notional=settings.MAX_ORDER_NOTIONAL, max_slippage=settings.MAX_SLIPPAGE
        )
        self.locks = locks
        self.monitor_engine = Monitor(db, timedelta(seconds=settings.STALE_PRICE_SECONDS))
        self._links: list[AccountLink] | None = None
        self._live: CcxtTradingGateway | None = None
        self._paper = PaperGateway(
            self.market_data, db, ACCOUNT, settings.SIM_STARTING_BALANCE, self._quote
        )
        with db.session() as session:
            if repo.get_value(session, MODE_KEY) is None:
                repo.set_value(session, MODE_KEY, Mode.SIM.value)

    @property
    def exchange_label(self) -> str:
        return self.access.label

    @property
    def _quote(self) -> str:
        return quote_asset(self.symbols[0])

    # --- start-up ------------------------------------------------------------------------

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

    # --- mode ----------------------------------------------------------------------------

    def mode(self) -> Mode:
        with self.db.session() as session:
            return Mode(repo.get_value(session, MODE_KEY) or Mode.SIM.value)

    def request_mode(self, mode: Mode) -> ModeChange:
        if mode is Mode.SIM:
            self._set_mode(Mode.SIM)
            return ModeChange(
                True, Mode.SIM, "Simulation mode: paper trading, no orders reach the exchange."
            )
        reason = self._live_refusal()
        if reason:
            return ModeChange(False, self.mode(), reason)
        self._set_mode(Mode.LIVE)
        return ModeChange(True, Mode.LIVE, f"LIVE+SYNC on {self.exchange_label}")

    def live_confirmation(self) -> str:
        return (
            f"Go LIVE on {self.exchange_label} (account {ACCOUNT})? "
            "Every BUY, SELL and CLOSE will then place real orders on that account."
        )

    def _live_refusal(self) -> str | None:
        """Why LIVE cannot start now, or None. The keys must exist and work, and no order
        may be left with an unknown outcome."""
        if not (self.access.api_key and self.access.api_secret):
            return "LIVE needs API keys: set EXCHANGE_API_KEY and EXCHANGE_API_SECRET and restart."
        try:
            self._live_gateway().balances()
        except GatewayError as exc:
            return f"LIVE refused: {exc}"
        unresolved = self.reconcile_unresolved()
        if unresolved:
            return f"LIVE refused: {unresolved[0]}"
        return None

    def reconcile_unresolved(self) -> list[str]:
        """Settle LIVE orders that a crash or an outage left without a known outcome; returns
        what is still unresolved (empty when trading may go on)."""
        outcomes = self._executor(Mode.LIVE).reconcile_unresolved()
        return [outcome.detail for outcome in outcomes if not outcome.resolved]

    def _set_mode(self, mode: Mode) -> None:
        with self.db.session() as session:
            repo.set_value(session, MODE_KEY, mode.value)

    # --- trading -------------------------------------------------------------------------

    def parse_size(
        self, amount_text: str | None, unit: str, symbol: str, mode: Mode | None = None
    ) -> TradeSize:
        """The trader's order size, or InputError saying what is wrong with it."""
        text = (amount_text or "").strip().replace(",", "")
        if not text:
            raise InputError("Enter an order size.")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise InputError(f"Order size must be a number, not {amount_text!r}.") from None
        if not amount.is_finite():
            raise InputError("Order size must be a finite number.")
        if amount <= 0:
            raise InputError("Order size must be above zero.")
        if unit not in ("quote", "pct"):
            raise InputError("Choose the order size unit: quote amount or % of free balance.")
        if unit == "pct" and amount > 100:
            raise InputError("A percentage of the free balance cannot be above 100.")
        rules = self._rules(symbol)
        try:
            free = self._gateway(mode or self.mode()).balances().get(rules.quote, Balance()).free
        except GatewayError as exc:
            raise InputError(f"Cannot check the order size against the balance: {exc}") from None
        spend = amount if unit == "quote" else free * amount / 100
        if spend > free:
            raise InputError(
                f"Order size {spend:f} {rules.quote} is above the free balance of {free:f} {rules.quote}."
            )
        if spend < rules.min_cost:
            raise InputError(
                f"Order size {spend.normalize():f} {rules.quote} is below the market minimum "
                f"of {rules.min_cost.normalize():f} {rules.quote}."
            )
        return (
            TradeSize(quote_amount=amount)
            if unit == "quote"
            else TradeSize(pct_of_free_quote=amount)
        )

    def trade(
        self,
        symbol: str,
        target: PositionState,
        size: TradeSize | None = None,
        mode: Mode | None = None,
    ) -> TradeResult:
        """Sync `symbol` to `target` in the current mode's book (or `mode`'s, for the command
        line). Trading failures come back as a result with a message, never as exceptions."""
        if symbol not in self.symbols:
            message = f"{symbol} is not one of the configured SYMBOLS ({', '.join(self.symbols)})."
            return TradeResult(False, symbol, target, None, None, message)
        mode = mode or self.mode()
        try:
            executor = self._executor(mode)
        except GatewayError as exc:
            return TradeResult(False, symbol, target, None, None, str(exc))
        result = executor.sync_position(symbol, target, size)
        if result.orders and mode is Mode.SIM:
            self._snapshot_equity(mode)
        return result

    def _gateway(self, mode: Mode) -> TradingGateway:
        return self._paper if mode is Mode.SIM else self._live_gateway()

    def _live_gateway(self) -> CcxtTradingGateway:
        if self._live is None:
            if not (self.access.api_key and self.access.api_secret):
                raise GatewayError(
                    "LIVE needs API keys: set EXCHANGE_API_KEY and EXCHANGE_API_SECRET"
                )
            self._live = CcxtTradingGateway(
                self.market_data, self.access.api_key, self.access.api_secret
            )
        return self._live

    def _connection(self, exchange: str, url: str) -> Connection:
        return Connection(
            exchange, url, self.settings.EXCHANGE_TIMEOUT_MS, self.settings.RECV_WINDOW_MS
        )

    def _executor(self, mode: Mode) -> Executor:
        book = repo.BookKey(mode.value, ACCOUNT)
        policy = FillPolicy(receive_window=self.settings.RECV_WINDOW_MS / 1000 + 0.5)
        return Executor(self._gateway(mode), self.db, book, self.limits, self.locks, policy)

    def _rules(self, symbol: str):
        if symbol not in self.symbols:
            raise InputError(f"{symbol} is not one of the configured SYMBOLS.")
        try:
            return self.market_data.market_rules(symbol)
        except GatewayError as exc:
            raise InputError(f"Cannot check {symbol}: {exc}") from None

    # --- reads ---------------------------------------------------------------------------

    def market(self, symbol: str) -> MarketView:
        try:
            ticker = self.prices.ticker(symbol)
        except GatewayError as exc:
            return MarketView(symbol, None, None, None, None, None, error=str(exc))
        if ticker is None:
            return MarketView(symbol, None, None, None, None, None, error=f"no ticker for {symbol}")
        return MarketView(
            symbol, ticker.last, ticker.bid, ticker.ask, ticker.change_pct, ticker.timestamp
        )

    def candles(self, symbol: str, timeframe: str = "1m", limit: int = 120) -> list[Candle]:
        return self.prices.candles(symbol, timeframe, limit)

    def dashboard(self, symbol: str | None = None) -> DashboardView:
        mode = self.mode()
        book = repo.BookKey(mode.value, ACCOUNT)
        prices, exchange_error = self._cached_prices()
        with self.db.session() as session:
            rows = repo.positions(session, book)
            balances = repo.paper_balances(session, ACCOUNT) if mode is Mode.SIM else {}
            fills = repo.recent_fills(session, book, limit=HISTORY_ROWS)
            orders = repo.recent_orders(session, book, limit=HISTORY_ROWS)
            runs = repo.recent_sync_runs(session, book, limit=HISTORY_ROWS)
            curve = repo.equity_curve(session, book)
        by_symbol = {row.symbol: row for row in rows}
        symbols = list(dict.fromkeys([*self.symbols, *by_symbol]))
        positions = [
            self._position_view(s, by_symbol.get(s), balances, prices.get(s)) for s in symbols
        ]
        pnl = self._pnl(positions, balances, prices)
        if mode is Mode.LIVE:
            pnl = replace(pnl, equity=curve[-1][1] if curve else ZERO)
        elif pnl.equity > 0 and prices:
            curve = [*curve, (utcnow(), pnl.equity)]
        monitored, notes = self._monitored_positions()
        return DashboardView(
            mode=mode,
            badge=self._badge(mode, exchange_error, runs),
            exchange_label=self.exchange_label,
            positions=[*positions, *monitored],
            pnl=pnl,
            balances=balances,
            fills=[_fill_view(f) for f in fills],
            orders=[_order_view(o) for o in orders],
            equity_curve=curve,
            sync_runs=[_run_view(r) for r in runs],
            last_sync=runs[0].finished_at if runs else None,
            exchange_error=exchange_error,
            notes=notes,
        )

    def _cached_prices(self) -> tuple[dict[str, Decimal], str | None]:
        try:
            return {s: t.last for s, t in self.prices.tickers().items()}, None
        except GatewayError as exc:
            return {}, str(exc)

    def _position_view(
        self, symbol, row, balances: dict[str, Balance], price: Decimal | None
    ) -> PositionView:
        target = PositionState(row.target_state) if row and row.target_state else None
        state = PositionState(row.state) if row else PositionState.NO_POSITION
        if balances and price is not None:
            state = self._state_from_balances(symbol, balances, price, target) or state
        return _position_view(symbol, row, state, price, ACCOUNT, self.access.name.upper())

    def _monitored_positions(self) -> tuple[list[PositionView], list[str]]:
        """Open positions the monitor keeps for the other accounts of ACCOUNTS_FILE (read
        from the database; the monitor's last check wrote their marks)."""
        if not self.settings.ACCOUNTS_FILE:
            return [], []
        try:
            accounts = self._account_configs()
        except AccountsError as exc:
            return [], [str(exc)]
        views = []
        with self.db.session() as session:
            for account in accounts:
                if account.name == ACCOUNT:
                    continue
                for row in repo.positions(session, repo.BookKey(Mode.LIVE.value, account.name)):
                    if row.is_open:
                        state = PositionState(row.state)
                        views.append(
                            _position_view(
                                row.symbol,
                                row,
                                state,
                                row.last_price,
                                account.name,
                                account.exchange.upper(),
                            )
                        )
        return views, []

    def _state_from_balances(self, symbol, balances, price, target) -> PositionState | None:
        try:
            rules = self.market_data.market_rules(symbol)
        except GatewayError:
            return None
        holdings = Holdings.of(balances, base_asset(symbol), quote_asset(symbol))
        if target is None:
            return derive_state(holdings, price, rules, self.limits.dust_floor)
        return shown_state(target, holdings, price, rules, self.limits.dust_floor)

    def _pnl(
        self,
        positions: list[PositionView],
        balances: dict[str, Balance],
        prices: dict[str, Decimal],
    ) -> PnlView:
        quote = self._quote
        equity = balances.get(quote, Balance()).total
        for symbol in {p.symbol for p in positions}:
            held = balances.get(base_asset(symbol), Balance()).total
            if held and symbol in prices:
                equity += held * prices[symbol]
        return PnlView(
            equity=equity,
            realized=sum((p.realized for p in positions), ZERO),
            unrealized=sum((p.unrealized for p in positions), ZERO),
            fees=sum((p.fees for p in positions), ZERO),
            quote=quote,
        )

    def _snapshot_equity(
        self,
        mode: Mode,
        balances: dict[str, Balance] | None = None,
        prices: dict[str, Decimal] | None = None,
    ) -> None:
        """Add a point to the equity curve, valued at `prices` or the cached ones."""
        if balances is None:
            balances = self._gateway(mode).balances()
        if prices is None:
            prices, error = self._cached_prices()
            if error:
                return
        if not prices:
            return
        equity = _equity(balances, prices, self._quote)
        with self.db.session() as session:
            repo.record_equity(session, repo.BookKey(mode.value, ACCOUNT), equity)

    # --- the position monitor -------------------------------------------------------------

    def monitor_accounts(self) -> list[str]:
        return [link.name for link in self._monitor_links()]

    def monitor(
        self, policy: Policy, execute: bool, account: str | None = None, progress=None
    ) -> list[AccountCheck]:
        """Diagnose (and with `execute`, repair) every account, or the one named; a failed
        exchange is reported in its check and the others go on. `progress(i, n, name)` is
        called before each account."""
        links = self._monitor_links()
        if account is not None:
            links = [link for link in links if link.name == account]
            if not links:
                known = ", ".join(self.monitor_accounts())
                raise InputError(f"unknown account {account!r} (accounts: {known})")
        return self.monitor_engine.check(
            links, policy, execute, symbols=self.symbols, progress=progress
        )

    def monitor_history(self, limit: int = HISTORY_ROWS) -> list[MonitorRunView]:
        """The monitor's recorded runs on every LIVE account, newest first: a database read."""
        query = (
            select(SyncRun)
            .where(SyncRun.kind == "monitor", SyncRun.mode == Mode.LIVE.value)
            .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
            .limit(limit)
        )
        with self.db.session() as session:
            return [_monitor_run_view(row) for row in session.scalars(query)]

    def _monitor_links(self) -> list[AccountLink]:
        if self._links is None:
            self._links = self._build_links()
        return self._links

    @functools.cache  # noqa: B019 - one service per process; the file is read like any setting
    def _account_configs(self) -> list[AccountConfig]:
        """The accounts of ACCOUNTS_FILE, read once (not on every dashboard refresh)."""
        return load_accounts_file(Path(self.settings.ACCOUNTS_FILE))

    def _build_links(self) -> list[AccountLink]:
        if not self.settings.ACCOUNTS_FILE:
            return [AccountLink(ACCOUNT, self._live_gateway(), Mode.LIVE.value, self._quote)]
        links = []
        for account in self._account_configs():
            market = CcxtMarketData(
                self._connection(account.exchange, account.url),
                label=f"{account.exchange.upper()} {account.name}",
            )
            gateway = CcxtTradingGateway(market, account.api_key, account.api_secret)
            links.append(AccountLink(account.name, gateway, Mode.LIVE.value, account.quote))
        return links

    # --- the periodic check ----------------------------------------------------------------

    def periodic_check(self) -> AccountCheck | None:
        """One check of the current book: in LIVE, a snapshot of the account diagnosed and
        handled by SYNC_POLICY (report, adopt, or enforce the trader's last targets); in SIM,
        which cannot drift, a point on the equity curve."""
        mode = self.mode()
        if mode is Mode.SIM:
            self._snapshot_equity(mode)
            return None
        policy = Policy(self.settings.SYNC_POLICY)
        link = AccountLink(ACCOUNT, self._live_gateway(), Mode.LIVE.value, self._quote)
        [check] = self.monitor_engine.check([link], policy, execute=True, symbols=self.symbols)
        if policy is Policy.ENFORCE and check.ok:
            executor = self._executor(mode)
            for symbol, target in check.drift.items():
                executor.sync_position(symbol, target)
        if check.snapshot is not None:
            prices = {symbol: ticker.last for symbol, ticker in check.snapshot.tickers.items()}
            self._snapshot_equity(mode, check.snapshot.balances, prices)
        return check

    def _badge(self, mode: Mode, exchange_error: str | None, runs: list) -> Badge:
        """SIM or LIVE+SYNC; a failed verify or sync turns LIVE red until the next good one,
        drift found by a report-only check turns it amber."""
        if mode is Mode.SIM:
            if exchange_error:
                detail = f"Paper trading; {self.exchange_label} unreachable: {exchange_error}"
                return Badge("SIM", "warning", detail)
            return Badge(
                "SIM", "info", f"Paper trading against live prices from {self.exchange_label}"
            )
        if runs and not runs[0].ok:
            return Badge("LIVE+SYNC", "danger", f"Out of sync: {runs[0].message}")
        drift = _drift(runs[0]) if runs else 0
        if drift:
            return Badge("LIVE+SYNC", "warning", f"Drift: {runs[0].message}")
        if exchange_error:
            return Badge(
                "LIVE+SYNC", "warning", f"{self.exchange_label} unreachable: {exchange_error}"
            )
        return Badge("LIVE+SYNC", "success", f"Synchronized with {self.exchange_label}")


def _position_view(
    symbol, row, state: PositionState, price, account: str, exchange: str
) -> PositionView:
    """A row of the positions table; quantities are signed (a derivatives short is below
    zero), so entry, value and unrealized PnL hold for both sides."""
    qty = row.qty if row else ZERO
    cost = row.cost_basis if row else ZERO
    return PositionView(
        symbol=symbol,
        state=state,
        state_label=state_label(state, quote_asset(symbol)),
        qty=qty,
        avg_entry=cost / qty if qty else None,
        price=price,
        unrealized=price * qty - cost if price is not None and qty else ZERO,
        realized=row.realized if row else ZERO,
        fees=row.fees if row else ZERO,
        account=account,
        exchange=exchange,
        side="long" if qty > 0 else "short" if qty < 0 else "",
        leverage=row.leverage if row else None,
        liquidation_price=row.liquidation_price if row else None,
    )


def _drift(run) -> int:
    """How many differences a monitor run found and left in place: discrepancies no action
    repaired, and symbols whose holdings no longer match the trader's target."""
    if run.kind != "monitor":
        return 0
    details = json.loads(run.details or "{}")
    unrepaired = 0 if details.get("actions") else len(details.get("discrepancies", []))
    return unrepaired + len(details.get("drift", {}))


def _monitor_run_view(row) -> MonitorRunView:
    details = json.loads(row.details or "{}")
    return MonitorRunView(
        row.finished_at,
        row.account,
        row.policy or "",
        row.ok,
        row.message,
        dict(Counter(item["kind"] for item in details.get("discrepancies", []))),
        dict(Counter(item["kind"] for item in details.get("actions", []))),
        row.duration_ms,
        row.api_calls,
    )


def _equity(balances: dict[str, Balance], prices: dict[str, Decimal], quote: str) -> Decimal:
    """The account's value in the quote asset: cash plus every priced holding."""
    equity = balances.get(quote, Balance()).total
    for asset, balance in balances.items():
        symbol = f"{asset}/{quote}"
        if asset != quote and symbol in prices:
            equity += balance.total * prices[symbol]
    return equity


def _fill_view(row) -> FillView:
    return FillView(
        row.time,
        row.symbol,
        row.side,
        row.qty,
        row.price,
        row.fee,
        row.fee_asset,
        row.client_order_id,
    )


def _order_view(row) -> OrderView:
    return OrderView(
        row.created_at,
        row.symbol,
        row.side,
        row.price,
        row.amount,
        row.filled,
        row.average,
        row.status,
        row.client_order_id,
        row.reason,
    )


def _run_view(row) -> SyncRunView:
    return SyncRunView(
        row.finished_at,
        row.kind,
        row.symbol,
        row.target,
        row.before_state,
        row.after_state,
        row.ok,
        row.message,
        row.duration_ms,
        row.api_calls,
    )
