"""The position monitor and the periodic check: database against exchanges, with the
three policies (report, adopt, enforce)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal

from core.domain import Mode, Origin, Policy, TradeSize
from core.errors import InputError
from core.monitoring.monitor import AccountCheck, AccountLink
from core.service.accounting import record_equity_point
from core.service.composition import Wiring
from core.service.stored_mode import StoredMode
from core.service.trading import TradeCommands
from core.store import repository as repo
from core.store import runs
from core.store.books import BookKey
from core.trading.gate import Gate
from core.views import AccountCheckView, MonitorRunView

HISTORY_ROWS = 50


class MonitorCommands:
    def __init__(self, wiring: Wiring, gate: Gate, stored: StoredMode, trading: TradeCommands):
        self.wiring = wiring
        self.gate = gate
        self._stored = stored
        self._trading = trading

    def _guard(self, link: AccountLink, symbols: list[str], since: datetime):
        """Each repair under the gate: the locks of the symbols it touches, the busy ones
        and those an action touched since the account was read left to the next round."""
        return self.gate.quiet(self.wiring.account(link.name, Mode(link.mode)), symbols, since)

    def _working(self, link: AccountLink):
        """The working orders of the link's book, as its account's executor follows them."""
        return self.wiring.account(link.name, Mode(link.mode)).executor.working

    def accounts(self) -> list[str]:
        return [link.name for link in self.wiring.monitor_links()]

    def run(
        self,
        policy: Policy,
        execute: bool,
        account: str | None = None,
        progress=None,
        protect: bool = False,
    ) -> list[AccountCheckView]:
        """Diagnose (and with `execute`, repair) every account, or the one named; a failed
        exchange is reported in its check and the others go on. `progress(i, n, name)` is
        called before each account."""
        links = self.wiring.monitor_links()
        if account is not None:
            links = [link for link in links if link.name == account]
            if not links:
                known = ", ".join(self.accounts())
                raise InputError(f"unknown account {account!r} (accounts: {known})")
        if protect and self.wiring.settings.REQUIRE_STOP_LOSS_PCT is None:
            raise InputError("--protect needs REQUIRE_STOP_LOSS_PCT: how close a stop must be")
        checks = self.wiring.monitor.check(
            links,
            policy,
            execute,
            symbols=self.wiring.symbols,
            progress=progress,
            protect=protect,
            guard=self._guard,
            working=self._working,
        )
        views = [_check_view(check) for check in checks]
        for link, view in zip(links, views, strict=True):
            self.wiring.observers.monitor_done(view, Mode(link.mode), applied=execute)
        for link in links:
            self.wiring.book_changed(BookKey(link.mode, link.name))
        return views

    def periodic_check(self, enforce: bool = True) -> AccountCheckView | None:
        """One check of the current book: in LIVE, a snapshot of the account diagnosed and
        handled by SYNC_POLICY (report, adopt, or enforce the trader's last targets, each
        within the size the trader asked with it); in SIM, which cannot drift, a point on
        the equity curve. With `enforce` False (the check right after switching to LIVE)
        enforce only reports: a switch never trades by itself."""
        mode = self._stored.current()
        if mode is Mode.SIM:
            self._trading.settle_working(mode)
            record_equity_point(self.wiring, mode)
            return None
        policy = Policy(self.wiring.settings.SYNC_POLICY)
        if policy is Policy.ENFORCE and not enforce:
            policy = Policy.ADOPT
        drifting = self._drifting(mode)
        [check] = self.wiring.monitor.check(
            [self.wiring.traded_link()],
            policy,
            execute=True,
            symbols=self.wiring.symbols,
            guard=self._guard,
            working=self._working,
        )
        view = _check_view(check)
        observers = self.wiring.observers
        for report in check.settled:
            observers.working_order(check.account, report, Origin.MONITOR.value, mode=mode)
        observers.check_done(view, [s for s in check.drift if s not in drifting])
        observers.in_sync(check.account, [s for s in check.states if s not in check.drift])
        observers.unresolved(check.account, self._unresolved(mode))
        if policy is Policy.ENFORCE and check.ok:
            sizes = self.remembered_sizes(mode)
            for symbol, target in check.drift.items():
                size = sizes.get(symbol)
                self._trading.trade(
                    symbol,
                    target,
                    TradeSize(quote_amount=size) if size else None,
                    origin=Origin.ENFORCE,
                    shown_mode=mode,
                    max_buy=size,
                )
        if check.ok:
            tickers = check.snapshot.tickers
            record_equity_point(self.wiring, mode, {s: t.last for s, t in tickers.items()})
        self.wiring.book_changed(self.wiring.book(mode))
        return view

    def remembered_sizes(self, mode: Mode) -> dict[str, Decimal]:
        """What enforce may buy per symbol: the size the trader asked with a LONG target."""
        with self.wiring.db.session() as session:
            rows = repo.positions(session, self.wiring.book(mode))
        return {row.symbol: row.target_quote for row in rows if row.target_quote}

    def _drifting(self, mode: Mode) -> set[str]:
        """The symbols the last check or trade left drifting (a new drift is an event)."""
        with self.wiring.db.session() as session:
            rows = repo.positions(session, self.wiring.book(mode))
        return {row.symbol for row in rows if row.sync_status == "drift"}

    def _unresolved(self, mode: Mode) -> int:
        with self.wiring.db.session() as session:
            return len(repo.unresolved_orders(session, self.wiring.book(mode)))

    def history(self, limit: int = HISTORY_ROWS) -> list[MonitorRunView]:
        """The monitor's recorded runs on every LIVE account, newest first: a database read."""
        with self.wiring.db.session() as session:
            stored = runs.monitor_runs(session, Mode.LIVE.value, limit)
        return [
            MonitorRunView(
                run.finished_at,
                run.account,
                run.policy or "",
                run.ok,
                run.message,
                dict(Counter(d.kind.value for d in run.findings.discrepancies)),
                dict(Counter(a.kind.value for a in run.findings.actions)),
                run.duration_ms,
                run.api_calls,
            )
            for run in stored
        ]


def _check_view(check: AccountCheck) -> AccountCheckView:
    return AccountCheckView(
        account=check.account,
        exchange=check.exchange,
        discrepancies=list(check.discrepancies),
        actions=[*check.actions, *check.protection],
        error="; ".join(filter(None, [check.error, *check.failed_parts])) or None,
        api_calls=check.api_calls,
        duration_ms=check.duration_ms,
        open_orders=dict(check.snapshot.open_orders) if check.snapshot else {},
        drift=dict(check.drift),
        external_changes=tuple(check.external_changes),
        notes=tuple(check.unrecorded()),
    )
