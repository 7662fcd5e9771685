"""What the page and the command line show, read from the database and cached market data
only (never an exchange call per browser tab): the dashboard, one market, the charts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from core.domain import (
    ZERO,
    Holdings,
    MarketRules,
    Mode,
    OrderReport,
    PositionState,
    base_asset,
    quote_asset,
)
from core.errors import AppError
from core.exchange.gateway import GatewayError
from core.service import view_mappers
from core.service.accounting import book_balances, prices_for
from core.service.badge import SymbolSync, SyncFacts, badge
from core.service.chart_lines import chart_lines, parse_timeframe
from core.service.composition import ACCOUNT, Wiring
from core.service.stored_mode import StoredMode
from core.store import events, jobs, protection, runs
from core.store import repository as repo
from core.store.models import utcnow
from core.trading.state import (
    base_is_dust,
    pending_label,
    position_state,
    state_label,
    works_toward,
)
from core.valuation import equity
from core.views import (
    BookEvent,
    ChartView,
    DashboardView,
    DerivativePositionView,
    MarketView,
    PnlView,
    PositionView,
)

HISTORY_ROWS = 50
MEMO_SECONDS = 1  # without a feed (a command), a view serves its readers this long
# how long a view the feed built serves the page; the feed builds one every FEED_SECONDS
LATEST_SECONDS = 10
FEED_SECONDS = 1
WANTED_SECONDS = 30  # a market a tab showed is read by the feed this long after
RECENT_TRADES = 5
CHART_FILLS = 500
CHART_CANDLES = 120
FEED_ROWS = 30
QUOTE_STEP = Decimal("0.01")  # the quote asset is money: the page shows it to the cent


class ReadModels:
    def __init__(self, wiring: Wiring, stored: StoredMode):
        self.wiring = wiring
        self._stored = stored
        self.feeding = False  # a PageFeed keeps the views and prices current
        self._wanted: dict[str, float] = {}  # markets tabs showed -> when last asked
        self._markets: dict[str, MarketView] = {}  # the last one read of each
        # called by the feed with each new version of the view (the page prepares its parts)
        self.on_new_view: list[Callable[[DashboardView], None]] = []
        self._prepared: DashboardView | None = None  # the view last handed to on_new_view

    def dashboard(self) -> DashboardView:
        """The page's view of the current book: the one the feed built last (once a second
        per book, however many tabs and workers ask), or built now when there is none
        (every write of the book forgets it at once; no feed runs in a command)."""
        mode = self._stored.shown()
        key = self.wiring.view_key(self.wiring.book(mode))
        held = self._prepared  # the feed's latest here: no read of the stored copy
        if held is not None and held.version == self.wiring.cache.peek(f"{key}:version"):
            return held
        keep = LATEST_SECONDS if self.feeding else MEMO_SECONDS
        return self.wiring.cache.get_or_load(key, keep, lambda: self._dashboard(mode))

    def dashboard_version(self) -> str | None:
        """The version of the view dashboard() would return now, without reading it (a tab
        holding that version's parts needs nothing else), or None when there is none."""
        book = self.wiring.book(self._stored.shown())
        return self.wiring.cache.peek(f"{self.wiring.view_key(book)}:version")

    def feed_dashboard(self, period: float = FEED_SECONDS) -> None:
        """The feed's round: the shown book's view read afresh (prices through the market
        cache: the feed may wait on the exchange, a tab never does), kept under its old
        version when nothing in it changed, so the tabs' parts are not rebuilt. Where the
        processes share the cache (Redis), one of them per `period` reads the view and the
        others prepare the one it stored: four gunicorn workers read a book of 500
        positions once a second, not four times (about 100 ms of CPU each)."""
        mode = self._stored.shown()
        key = self.wiring.view_key(self.wiring.book(mode))
        version = self.wiring.cache.peek(f"{key}:version")
        # the stored view, fetched (a 500-position view is a large read) only when new here
        kept = self._prepared if self._prepared and self._prepared.version == version else None
        if kept is None and version is not None:
            kept = self.wiring.cache.peek(key)
        if self.wiring.cache.claim(f"{key}:feed", period):
            fresh = self._dashboard(mode)
            if kept is not None and _same(kept, fresh):
                fresh = kept
            self.wiring.cache.put(key, fresh, LATEST_SECONDS)
            self.wiring.cache.put(f"{key}:version", fresh.version, LATEST_SECONDS)
        else:
            fresh = kept
        if fresh is not None and fresh is not self._prepared:
            self._prepared = fresh
            for prepare in self.on_new_view:
                prepare(fresh)
        now = time.monotonic()
        wanted = [s for s, at in list(self._wanted.items()) if now - at < WANTED_SECONDS]
        self.wiring.prices.tickers()
        for symbol in wanted:
            self._markets[symbol] = self._read_market(symbol)

    def _dashboard(self, mode: Mode) -> DashboardView:
        wiring = self.wiring
        book = wiring.book(mode)
        balances, read_at = book_balances(wiring, mode)
        prices, price_error = prices_for(wiring, balances)
        with wiring.db.session() as session:
            rows = {row.symbol: row for row in repo.positions(session, book)}
            fills = repo.recent_fills(session, book, limit=HISTORY_ROWS)
            orders = repo.recent_orders(session, book, limit=HISTORY_ROWS)
            stored_runs = runs.recent_sync_runs(session, book, limit=HISTORY_ROWS)
            latest_jobs = jobs.latest_jobs(session, book, limit=RECENT_TRADES)
            stops = {s.symbol: s for s in protection.live_stops(session, book)}
            working: dict[str, list[OrderReport]] = {}
            for order in repo.working_orders(session, book):
                working.setdefault(order.symbol, []).append(view_mappers.working_report(order))
            halt = protection.halted(session, book)
            shown = self._shown_symbols(rows)
            feed = events.recent_events(session, book=book, limit=FEED_ROWS)
            newest = events.latest_by_symbol(session, book, shown)
            waiting = events.unacknowledged(session, book)
        positions = [
            self._position(symbol, rows.get(symbol), balances, prices.get(symbol), stops, working)
            for symbol in shown
        ]
        derivatives, notes = self._derivatives()
        facts = SyncFacts(
            mode=mode,
            exchange_label=wiring.exchange_label,
            exchange_error=price_error,
            symbols=[
                SymbolSync(p.symbol, p.sync_status, rows[p.symbol].sync_message or p.symbol)
                for p in positions
                if p.symbol in rows
            ],
            last_check_error=view_mappers.last_check_error(stored_runs),
            account_read_age=utcnow() - read_at if read_at else None,
            stale_after=timedelta(seconds=3 * wiring.settings.SYNC_INTERVAL_SECONDS),
            halted=halt[0] if halt else None,
            changed_outside=list(dict.fromkeys(base_asset(e.symbol or "") for e in waiting)),
        )
        return DashboardView(
            version=uuid.uuid4().hex,
            mode=mode,
            badge=badge(facts),
            exchange_label=wiring.exchange_label,
            positions=positions,
            derivatives=derivatives,
            pnl=PnlView(
                equity=equity(balances, prices, wiring.quote),
                realized=sum((row.realized for row in rows.values()), ZERO),
                unrealized=view_mappers.book_unrealized(rows.values(), prices),
                fees=sum((row.fees for row in rows.values()), ZERO),
                quote=wiring.quote,
            ),
            balances=view_mappers.balance_views(
                balances, prices, wiring.quote, self._steps(balances)
            ),
            balances_time=read_at,
            fills=[view_mappers.fill_view(f) for f in fills],
            orders=[view_mappers.order_view(o) for o in orders],
            sync_runs=[view_mappers.run_view(r) for r in stored_runs],
            trades=[view_mappers.activity(job) for job in latest_jobs],
            last_sync=stored_runs[0].finished_at if stored_runs else None,
            exchange_error=price_error,
            halted=halt[0] if halt else None,
            notes=notes,
            events=list(feed),
            symbol_events=_newest_per_symbol(shown, newest),
            waiting=list(waiting),
        )

    def market(self, symbol: str) -> MarketView:
        """The symbol's ticker; with the feed running, the last one it read (a tab never
        waits on the exchange: its `time` says how old it is), read now only for a market
        no tab showed in the last WANTED_SECONDS."""
        if not self.feeding:
            return self._read_market(symbol)
        self._wanted[symbol] = time.monotonic()
        shown = self._markets.get(symbol)
        if shown is None:
            shown = self._markets[symbol] = self._read_market(symbol)
        return shown

    def _read_market(self, symbol: str) -> MarketView:
        try:
            ticker = self.wiring.prices.ticker(symbol)
        except GatewayError as exc:
            return MarketView(symbol, None, None, None, None, None, error=str(exc))
        if ticker is None:
            return MarketView(symbol, None, None, None, None, None, error=f"no ticker for {symbol}")
        return MarketView(
            symbol, ticker.last, ticker.bid, ticker.ask, ticker.change_pct, ticker.timestamp
        )

    def chart(self, symbol: str, timeframe: str = "1m") -> ChartView:
        """The symbol's candles of `timeframe` with this book's fills since the first candle
        and its price lines (entry, stop, take-profit, working orders), and this book's
        equity curve: only what the charts draw."""
        mode = self._stored.shown()
        book = self.wiring.book(mode)
        timeframe = parse_timeframe(timeframe)
        try:
            candles, error = self.wiring.prices.candles(symbol, timeframe, CHART_CANDLES), None
        except GatewayError as exc:
            candles, error = [], str(exc)
        since = candles[0].time if candles else None
        with self.wiring.db.session() as session:
            fills = repo.recent_fills(session, book, symbol, limit=CHART_FILLS, since=since)
            curve = repo.equity_curve(session, book)
            lines = chart_lines(session, book, symbol)
        balances, _ = book_balances(self.wiring, mode)
        prices, price_error = prices_for(self.wiring, balances)
        if balances and not price_error:  # the curve runs up to what the account is worth now
            curve = [*curve, (utcnow(), equity(balances, prices, self.wiring.quote))]
        return ChartView(
            symbol,
            candles,
            error,
            [view_mappers.fill_view(f) for f in fills],
            curve,
            self.wiring.quote,
            timeframe,
            lines,
        )

    # --- the pieces ------------------------------------------------------------------

    def _shown_symbols(self, rows: dict) -> list[str]:
        """The configured symbols, then any other market of the book's rows."""
        return list(dict.fromkeys([*self.wiring.symbols, *sorted(rows)]))

    def _steps(self, balances) -> dict[str, Decimal]:
        """The amount step of each asset held, from its market against the quote; the
        quote itself to the cent."""
        steps = {self.wiring.quote: QUOTE_STEP}
        for asset in balances:
            rules = None if asset in steps else self._rules(f"{asset}/{self.wiring.quote}")
            if rules is not None:
                steps[asset] = rules.amount_step
        return steps

    def _rules(self, symbol: str) -> MarketRules | None:
        try:
            return self.wiring.market_data.market_rules(symbol)
        except GatewayError:
            return None

    def _position(
        self, symbol, row, balances, price: Decimal | None, stops, working
    ) -> PositionView:
        """One row as the account's holdings say, read with the trader's last target: the
        same rule the trade, the check and the command line use; a target a working order
        of the app's is on its way to reads `LONG pending: BUY 0.29 ETH @ 3,300.00`."""
        target = PositionState(row.target_state) if row and row.target_state else None
        rules = self._rules(symbol)
        holdings = Holdings.of(balances, base_asset(symbol), quote_asset(symbol))
        held = holdings.base.total
        if rules is not None and price is not None:
            state = position_state(holdings, price, rules, target)
            dust = held > 0 and base_is_dust(held, price, rules)
        else:
            state = PositionState(row.state) if row else PositionState.NO_POSITION
            dust = False
        long = state is PositionState.LONG
        entry = row.cost_basis / row.qty if long and row and row.qty > 0 else None
        words = state_label(state, quote_asset(symbol))
        waiting = [o for o in working.get(symbol, []) if target and works_toward(target, o.side)]
        if waiting and rules is not None and state is not target:
            words = pending_label(target, waiting, rules, quote_asset(symbol))
        return PositionView(
            symbol=symbol,
            state=state,
            state_label=words,
            qty=held,
            dust=dust,
            avg_entry=entry,
            entry_source=row.entry_source if row else "fills",
            price=price,
            unrealized=(price - entry) * held if entry is not None and price is not None else None,
            realized=row.realized if row else ZERO,
            fees=row.fees if row else ZERO,
            sync_status=row.sync_status if row else None,
            stop=view_mappers.stop_view(stops.get(symbol), price),
        )

    def _derivatives(self) -> tuple[list[DerivativePositionView], list[str]]:
        """Open positions the monitor keeps for the other accounts of ACCOUNTS_FILE (read
        from the database; the monitor's last check wrote their marks)."""
        try:
            accounts = self.wiring.account_configs()
        except AppError as exc:  # an unreadable accounts file is a note, not a broken page
            return [], [str(exc)]
        views = []
        with self.wiring.db.session() as session:
            for account in accounts:
                if account.name == ACCOUNT:
                    continue
                book = repo.BookKey(Mode.LIVE.value, account.name)
                stops = {s.symbol: s for s in protection.live_stops(session, book)}
                views.extend(
                    view_mappers.derivative_view(
                        account.name, account.exchange, row, stops.get(row.symbol)
                    )
                    for row in repo.positions(session, book)
                    if row.is_open
                )
        return views, []


def _same(kept: DashboardView, fresh: DashboardView) -> bool:
    """Whether two reads show the same (SIM's balances are read "now" at every read)."""
    ignored = {"version": ""}
    if fresh.mode is Mode.SIM:
        ignored["balances_time"] = None
    return replace(kept, **ignored) == replace(fresh, **ignored)


def _newest_per_symbol(
    symbols: list[str], newest: dict[str | None, BookEvent]
) -> dict[str, BookEvent]:
    """What each symbol's panel says: its newest event, or the account's (a flatten, a
    resume) when that is newer."""
    everyone = newest.get(None)
    shown = {}
    for symbol in symbols:
        candidates = [e for e in (newest.get(symbol), everyone) if e is not None]
        if candidates:
            shown[symbol] = max(candidates, key=lambda e: e.id)
    return shown
